//! Money, in one place: `rust_decimal` amounts parsed from strict decimal strings, ISO
//! 4217 currency codes, rounding half away from zero to cents, cents (as D1 stores money)
//! to and from `Decimal`, and the two-decimal text the API shows. Money is never a float
//! anywhere in partnerlens.

pub mod cost;
pub mod payout;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::Invalid;

/// Active ISO 4217 currency codes.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD \
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR \
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR \
MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK \
SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES \
VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// An ISO 4217 currency code such as `EUR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 3 && ISO_4217.split(' ').any(|known| known == code) {
            Ok(Self(code))
        } else {
            Err(Invalid::new(
                field,
                "unknown_currency",
                format!("'{raw}' is not an ISO 4217 currency code"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most digits an amount has before its `.`: below a trillion, every amount and any
/// realistic sum of them stays exact in hundredths (D1 hands integers back as doubles,
/// exact up to 2^53).
pub const MAX_WHOLE_DIGITS: usize = 12;

/// Parses a non-negative decimal amount written with a `.` separator (`"12"`, `"12.5"`,
/// `"12.50"`), with at most [`MAX_WHOLE_DIGITS`] digits before the `.` and at most
/// `max_scale` after it. Signs, exponents, spaces, thousands separators and floats in
/// disguise are refused rather than guessed at.
pub fn parse_amount(field: &'static str, raw: &str, max_scale: u32) -> Result<Decimal, Invalid> {
    let invalid = |why: String| Invalid::new(field, "invalid_amount", why);
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || raw.ends_with('.') {
        return Err(invalid(format!(
            "{field} must be a decimal number like 1234.50 (digits and one '.'), got '{raw}'"
        )));
    }
    if whole.len() > MAX_WHOLE_DIGITS {
        return Err(invalid(format!(
            "{field} is too large: at most {MAX_WHOLE_DIGITS} digits before the '.', got '{raw}'"
        )));
    }
    if fraction.len() > max_scale as usize {
        return Err(invalid(format!(
            "{field} has more than {max_scale} decimals: '{raw}'"
        )));
    }
    Decimal::from_str_exact(raw).map_err(|_| invalid(format!("{field} is too large: '{raw}'")))
}

/// `amount` rounded half away from zero to cents, with exactly two decimals.
pub fn round_cents(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// Money in hundredths, as D1 stores it: an integer that SQL sums exactly. `None` when
/// the amount does not fit.
pub fn to_cents(amount: Decimal) -> Option<i64> {
    let mut rounded = round_cents(amount);
    rounded.rescale(2);
    i64::try_from(rounded.mantissa()).ok()
}

/// Hundredths back to a `Decimal` with two decimals.
pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Money as the API shows it: a string with exactly two decimals.
pub fn format_money(amount: Decimal) -> String {
    round_cents(amount).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_normalised_iso_codes() {
        assert_eq!(Currency::parse("currency", "eur").unwrap().as_str(), "EUR");
        assert_eq!(Currency::parse("currency", "RUB").unwrap().as_str(), "RUB");
        for bad in ["EURO", "XXX", "", "E U"] {
            assert_eq!(
                Currency::parse("currency", bad).unwrap_err().code,
                "unknown_currency"
            );
        }
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(parse_amount("a", "12", 2).unwrap().to_string(), "12");
        assert_eq!(parse_amount("a", "0.10", 2).unwrap().to_string(), "0.10");
        assert_eq!(
            parse_amount("a", "1234.5", 2).unwrap().to_string(),
            "1234.5"
        );
    }

    #[test]
    fn amounts_refuse_anything_but_plain_decimals() {
        for bad in [
            "", "-1", "+1", "1e3", "1,50", " 1", "1.", ".5", "1.2.3", "NaN", "0x10",
        ] {
            assert!(
                parse_amount("a", bad, 2).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert!(parse_amount("a", "1.234", 2).is_err());
        assert!(parse_amount("a", "999999999999.99", 2).is_ok());
        assert!(parse_amount("a", "1000000000000", 2).is_err());
        assert!(parse_amount("a", "99999999999999999999999999999999", 2).is_err());
    }

    #[test]
    fn cents_round_trip_exactly() {
        for raw in ["0", "0.01", "19.99", "1234567.89", "0.005"] {
            let amount: Decimal = raw.parse().unwrap();
            let cents = to_cents(amount).unwrap();
            assert_eq!(
                format_money(from_cents(cents)),
                format_money(amount),
                "{raw}"
            );
        }
        assert_eq!(to_cents(Decimal::new(-2505, 3)), Some(-251));
    }

    #[test]
    fn money_is_shown_with_two_decimals_rounded_half_away_from_zero() {
        assert_eq!(format_money(Decimal::new(5, 0)), "5.00");
        assert_eq!(format_money(Decimal::new(12345, 3)), "12.35");
        assert_eq!(format_money(Decimal::new(-12345, 3)), "-12.35");
        assert_eq!(format_money(Decimal::new(1, 1)), "0.10");
    }
}
