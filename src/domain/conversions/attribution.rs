//! The checks that decide whether a conversion may be attributed and recorded.

use rust_decimal::Decimal;

use crate::domain::Invalid;

const DAY_MS: i64 = 86_400_000;
/// How far before its click a conversion may be stamped (clock skew between systems).
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// A conversion at `conversion_ts` may be attributed to a click at `click_ts` only within
/// the program's attribution window (and not well before the click).
pub fn check_window(click_ts: i64, conversion_ts: i64, window_days: i64) -> Result<(), Invalid> {
    if conversion_ts + CLOCK_SKEW_MS < click_ts {
        return Err(Invalid::new(
            "ts",
            "conversion_before_click",
            "the conversion is stamped before the click it names",
        ));
    }
    if conversion_ts - click_ts > window_days * DAY_MS {
        return Err(Invalid::new(
            "click_id",
            "attribution_window_expired",
            format!(
                "the click is older than the program's attribution window of {window_days} days"
            ),
        ));
    }
    Ok(())
}

/// A refund of `amount` may be recorded against a sale of `sale_amount` only while all
/// counted refunds together stay within the sale.
pub fn check_refund(
    sale_amount: Decimal,
    already_refunded: Decimal,
    amount: Decimal,
) -> Result<(), Invalid> {
    if amount.is_zero() {
        return Err(Invalid::new(
            "amount",
            "invalid_amount",
            "a refund's amount must be above zero",
        ));
    }
    if already_refunded + amount > sale_amount {
        return Err(Invalid::new(
            "amount",
            "refund_exceeds_sale",
            format!(
                "refunds would total {} of a sale of {}",
                crate::domain::money::format_money(already_refunded + amount),
                crate::domain::money::format_money(sale_amount)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_inclusive_and_counted_in_days() {
        let click = 1_000 * DAY_MS;
        assert!(check_window(click, click + 30 * DAY_MS, 30).is_ok());
        assert_eq!(
            check_window(click, click + 30 * DAY_MS + 1, 30)
                .unwrap_err()
                .code,
            "attribution_window_expired"
        );
        assert!(check_window(click, click - CLOCK_SKEW_MS, 30).is_ok());
        assert_eq!(
            check_window(click, click - CLOCK_SKEW_MS - 1, 30)
                .unwrap_err()
                .code,
            "conversion_before_click"
        );
    }

    #[test]
    fn refunds_stay_within_the_sale() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert!(check_refund(d("100"), d("0"), d("100")).is_ok());
        assert!(check_refund(d("100"), d("60"), d("40")).is_ok());
        assert_eq!(
            check_refund(d("100"), d("60"), d("40.01"))
                .unwrap_err()
                .code,
            "refund_exceeds_sale"
        );
        assert_eq!(
            check_refund(d("100"), d("0"), d("0")).unwrap_err().code,
            "invalid_amount"
        );
    }
}
