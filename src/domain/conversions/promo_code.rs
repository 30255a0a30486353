//! Promo codes: a partner's code that a customer types at checkout, and how a conversion
//! that brings one finds its partner (its click, the code, or the customer's first
//! conversion).

use crate::domain::text::string_enum;
use crate::domain::Invalid;

/// The longest code a partner may register.
pub const CODE_MAX_CHARS: usize = 40;

string_enum!(
    /// How a conversion found its partner (the report dimension `attribution`).
    Attribution, "attribution" {
        Click = "click",
        PromoCode = "promo_code",
        Customer = "customer",
    }
);

string_enum!(
    /// Which wins when a conversion brings a click of one partner and a promo code of
    /// another (a program setting; the click by default).
    AttributionPriority, "attribution_priority" { Click = "click", PromoCode = "promo_code" }
);

/// A registered promo code: Latin or Cyrillic letters, digits, `-` and `_`, 2 to
/// [`CODE_MAX_CHARS`] characters, kept as written and matched whatever its case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromoCode {
    code: String,
}

impl PromoCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim();
        let chars = code.chars().count();
        if !(2..=CODE_MAX_CHARS).contains(&chars) {
            return Err(Invalid::new(
                "code",
                "invalid_code",
                format!("code must be 2 to {CODE_MAX_CHARS} characters"),
            ));
        }
        if let Some(bad) = code.chars().find(|c| !allowed(*c)) {
            return Err(Invalid::new(
                "code",
                "invalid_code",
                format!(
                    "code may hold Latin or Cyrillic letters, digits, '-' and '_', not {bad:?}"
                ),
            ));
        }
        Ok(Self {
            code: code.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// What two codes that differ only in case share: the key a program's codes are
    /// unique by and a coupon is looked up by.
    pub fn key(&self) -> String {
        key(&self.code)
    }
}

/// What a code may hold (openapi.yaml states the same set as a pattern).
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || ('\u{410}'..='\u{44f}').contains(&c)
        || matches!(c, 'Ё' | 'ё' | '-' | '_')
}

/// The lookup key of a coupon as a checkout reports it (trimmed, lower case). A coupon
/// need not be a valid code: shops also send their own discount codes, which match none.
pub fn key(coupon: &str) -> String {
    coupon.trim().to_lowercase()
}

/// Who a conversion that brings a known code (of `code_partner`) goes to, when it also
/// names a click of `click_partner` inside the attribution window.
pub fn code_wins(click_partner: &str, code_partner: &str, priority: AttributionPriority) -> bool {
    click_partner != code_partner && priority == AttributionPriority::PromoCode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_trimmed_kept_as_written_and_matched_whatever_their_case() {
        let code = PromoCode::parse("  Anna-10 ").unwrap();
        assert_eq!(code.as_str(), "Anna-10");
        assert_eq!(code.key(), "anna-10");
        assert_eq!(key(" ANNA-10"), code.key());
        let cyrillic = PromoCode::parse("АННА_10").unwrap();
        assert_eq!(cyrillic.key(), "анна_10");
        assert_eq!(PromoCode::parse("ЁЛКА").unwrap().key(), "ёлка");
    }

    #[test]
    fn bad_codes_are_refused_with_the_reason() {
        for raw in [
            "",
            "a",
            "ANNA 10",
            "anna%",
            "ann\u{0}a",
            "ünal",
            "βeta",
            &"x".repeat(41),
        ] {
            let error = PromoCode::parse(raw).unwrap_err();
            assert_eq!(
                (error.field, error.code),
                ("code", "invalid_code"),
                "{raw:?}"
            );
        }
        assert!(PromoCode::parse(&"x".repeat(40)).is_ok());
        assert!(PromoCode::parse("anna%")
            .unwrap_err()
            .message
            .contains("'%'"));
    }

    #[test]
    fn the_click_wins_unless_the_program_says_the_code_does() {
        use AttributionPriority::*;
        assert!(!code_wins("ptn_a", "ptn_b", Click));
        assert!(code_wins("ptn_a", "ptn_b", PromoCode));
        assert!(
            !code_wins("ptn_a", "ptn_a", PromoCode),
            "the same partner keeps the click and its dimensions"
        );
    }

    #[test]
    fn attributions_have_their_report_names() {
        assert_eq!(Attribution::PromoCode.as_str(), "promo_code");
        assert_eq!(
            Attribution::parse("customer").unwrap(),
            Attribution::Customer
        );
        assert_eq!(Attribution::parse("link").unwrap_err().field, "attribution");
    }
}
