//! Conversions as the advertiser reports them: the postback's parameters (with their
//! aliases) parsed into a [`Postback`], and the conversion's event and status.

use rust_decimal::Decimal;

use crate::domain::money::{parse_amount, Currency};
use crate::domain::text::string_enum;
use crate::domain::Invalid;

string_enum!(
    /// What happened: a lead, a qualified lead, a sale, or a refund of a sale.
    ConversionEvent, "event" {
        Lead = "lead",
        Qualified = "qualified",
        Sale = "sale",
        Refund = "refund",
    }
);

string_enum!(
    /// Where a conversion stands: only `rejected` ones are not counted.
    ConversionStatus, "status" { Pending = "pending", Approved = "approved", Rejected = "rejected" }
);

impl ConversionEvent {
    /// The status a new conversion of this event gets when the postback names none.
    pub fn default_status(self) -> ConversionStatus {
        match self {
            Self::Lead | Self::Qualified => ConversionStatus::Approved,
            Self::Sale | Self::Refund => ConversionStatus::Pending,
        }
    }

    /// Whether this event is keyed by its click (one lead per click) rather than by order.
    pub fn keyed_by_click(self) -> bool {
        matches!(self, Self::Lead | Self::Qualified)
    }
}

/// Decimals an amount may carry; commission is rounded to cents once, when recorded.
pub const AMOUNT_MAX_SCALE: u32 = 6;
const ID_MAX_LEN: usize = 128;

/// A postback, parsed: every parameter under its canonical name.
#[derive(Debug, Clone, PartialEq)]
pub struct Postback {
    pub click_id: Option<String>,
    pub event: ConversionEvent,
    pub order_id: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
    pub status: Option<ConversionStatus>,
    pub customer_id: Option<String>,
    /// Event time in UTC milliseconds, when given.
    pub ts: Option<i64>,
    pub refund_id: Option<String>,
    pub token: Option<String>,
    /// The promo code the customer used, as the checkout reports it.
    pub coupon: Option<String>,
}

/// Canonical names and the aliases each accepts, first the canonical one.
const ALIASES: &[(&str, &[&str])] = &[
    ("click_id", &["click_id", "clickid", "cid", "subid"]),
    ("event", &["event", "type", "et"]),
    ("order_id", &["order_id", "txid", "transaction_id"]),
    ("amount", &["amount", "sale_amount"]),
    ("currency", &["currency"]),
    ("status", &["status"]),
    ("customer_id", &["customer_id"]),
    ("ts", &["ts"]),
    ("refund_id", &["refund_id"]),
    ("token", &["token"]),
    ("coupon", &["coupon", "promo_code", "coupon_code"]),
];

/// The single value of canonical parameter `name` among `pairs`, through its aliases.
/// Two different values for one parameter are refused rather than guessed between.
fn value<'a>(
    pairs: &'a [(String, String)],
    name: &'static str,
) -> Result<Option<&'a str>, Invalid> {
    let aliases = ALIASES
        .iter()
        .find(|(canonical, _)| *canonical == name)
        .map_or(&[][..], |(_, aliases)| *aliases);
    let mut found: Option<&str> = None;
    for (key, raw) in pairs {
        if !aliases.contains(&key.as_str()) {
            continue;
        }
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        match found {
            Some(previous) if previous != raw => {
                return Err(Invalid::new(
                    name,
                    "conflicting_values",
                    format!("{name} is given twice with different values"),
                ))
            }
            _ => found = Some(raw),
        }
    }
    Ok(found)
}

fn identifier(name: &'static str, raw: Option<&str>) -> Result<Option<String>, Invalid> {
    match raw {
        None => Ok(None),
        Some(raw) if raw.len() <= ID_MAX_LEN && !raw.chars().any(char::is_control) => {
            Ok(Some(raw.to_owned()))
        }
        Some(_) => Err(Invalid::new(
            name,
            "invalid_value",
            format!("{name} must be at most {ID_MAX_LEN} printable characters"),
        )),
    }
}

/// Parses `ts`: RFC 3339 / ISO 8601 with an offset, or unix seconds.
pub fn parse_timestamp(raw: &str) -> Result<i64, Invalid> {
    let invalid = || {
        Invalid::new(
            "ts",
            "invalid_timestamp",
            format!("ts must be ISO 8601 with a time zone (2026-11-22T10:00:00Z) or unix seconds, got '{raw}'"),
        )
    };
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = raw.parse().map_err(|_| invalid())?;
        // Unix seconds up to the year 9999; milliseconds would be misread, so refuse them.
        if seconds > 253_402_300_799 {
            return Err(invalid());
        }
        return Ok(seconds * 1000);
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.timestamp_millis())
        .map_err(|_| invalid())
}

impl Postback {
    /// Reads a postback from its parameters (query string, form or JSON fields).
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Invalid> {
        let event = value(pairs, "event")?
            .map(|raw| ConversionEvent::parse(&raw.to_ascii_lowercase()))
            .transpose()?
            .unwrap_or(ConversionEvent::Sale);
        let postback = Self {
            click_id: identifier("click_id", value(pairs, "click_id")?)?,
            event,
            order_id: identifier("order_id", value(pairs, "order_id")?)?,
            amount: value(pairs, "amount")?
                .map(|raw| parse_amount("amount", raw, AMOUNT_MAX_SCALE))
                .transpose()?,
            currency: value(pairs, "currency")?
                .map(|raw| Currency::parse("currency", raw))
                .transpose()?,
            status: value(pairs, "status")?
                .map(|raw| ConversionStatus::parse(&raw.to_ascii_lowercase()))
                .transpose()?,
            customer_id: identifier("customer_id", value(pairs, "customer_id")?)?,
            ts: value(pairs, "ts")?.map(parse_timestamp).transpose()?,
            refund_id: identifier("refund_id", value(pairs, "refund_id")?)?,
            token: value(pairs, "token")?.map(str::to_owned),
            coupon: identifier("coupon", value(pairs, "coupon")?)?,
        };
        postback.check_required()?;
        Ok(postback)
    }

    fn check_required(&self) -> Result<(), Invalid> {
        let money_event = matches!(self.event, ConversionEvent::Sale | ConversionEvent::Refund);
        if money_event && self.order_id.is_none() {
            return Err(Invalid::new(
                "order_id",
                "missing_field",
                format!("order_id is required for a {}", self.event.as_str()),
            ));
        }
        // A status update names an existing conversion by order_id and needs no amount.
        let status_update = self.status.is_some() && self.amount.is_none();
        if money_event && self.amount.is_none() && !status_update {
            return Err(Invalid::new(
                "amount",
                "missing_field",
                format!("amount is required for a {}", self.event.as_str()),
            ));
        }
        // Without a click, a code is the only key a lead could be found again by.
        if self.coupon.is_some() && self.click_id.is_none() && self.order_id.is_none() {
            return Err(Invalid::new(
                "order_id",
                "missing_field",
                "order_id is required with a coupon and no click_id (it keeps a replay from counting twice)",
            ));
        }
        let located = self.click_id.is_some()
            || self.coupon.is_some()
            || self.event == ConversionEvent::Refund
            || self.order_id.is_some()
            || (self.event == ConversionEvent::Sale && self.customer_id.is_some());
        if !located {
            return Err(Invalid::new(
                "click_id",
                "missing_field",
                "click_id is required (or order_id for a status update)",
            ));
        }
        Ok(())
    }

    /// The idempotency key of this conversion within its program: the refund id for a
    /// refund (default its order id), the order id otherwise.
    pub fn order_key(&self) -> Option<&str> {
        match self.event {
            ConversionEvent::Refund => self.refund_id.as_deref().or(self.order_id.as_deref()),
            _ => self.order_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn parse(query: &str) -> Result<Postback, Invalid> {
        Postback::parse(&pairs(query))
    }

    #[test]
    fn a_sale_with_aliases_parses() {
        let p = parse("cid=C1&type=SALE&txid=O-1&sale_amount=19.90&currency=eur&token=t").unwrap();
        assert_eq!(p.click_id.as_deref(), Some("C1"));
        assert_eq!(p.event, ConversionEvent::Sale);
        assert_eq!(p.order_id.as_deref(), Some("O-1"));
        assert_eq!(p.amount.unwrap().to_string(), "19.90");
        assert_eq!(p.currency.unwrap().as_str(), "EUR");
        assert_eq!(p.token.as_deref(), Some("t"));
        assert_eq!(p.status, None);
    }

    #[test]
    fn the_event_defaults_to_sale_and_statuses_default_per_event() {
        assert_eq!(
            parse("click_id=C&order_id=1&amount=1").unwrap().event,
            ConversionEvent::Sale
        );
        assert_eq!(
            ConversionEvent::Sale.default_status(),
            ConversionStatus::Pending
        );
        assert_eq!(
            ConversionEvent::Lead.default_status(),
            ConversionStatus::Approved
        );
    }

    #[test]
    fn required_parameters_are_named() {
        assert_eq!(parse("click_id=C&amount=5").unwrap_err().field, "order_id");
        assert_eq!(parse("click_id=C&order_id=1").unwrap_err().field, "amount");
        assert_eq!(parse("event=lead").unwrap_err().field, "click_id");
        assert!(parse("event=lead&click_id=C").is_ok());
        assert!(parse("event=refund&order_id=1&amount=5").is_ok());
        assert!(
            parse("order_id=1&status=rejected").is_ok(),
            "a status update needs no amount"
        );
        assert!(
            parse("customer_id=K&order_id=2&amount=5").is_ok(),
            "a repeat sale by customer"
        );
    }

    #[test]
    fn bad_values_are_refused_with_their_field() {
        for (query, field) in [
            ("click_id=C&order_id=1&amount=-5", "amount"),
            ("click_id=C&order_id=1&amount=1,5", "amount"),
            ("click_id=C&order_id=1&amount=5&currency=XYZ", "currency"),
            ("click_id=C&order_id=1&amount=5&status=done", "status"),
            ("click_id=C&order_id=1&amount=5&event=click", "event"),
            ("click_id=C&order_id=1&amount=5&ts=yesterday", "ts"),
            ("click_id=A&cid=B&order_id=1&amount=5", "click_id"),
        ] {
            assert_eq!(parse(query).unwrap_err().field, field, "{query}");
        }
    }

    #[test]
    fn a_coupon_arrives_under_any_of_its_names_and_locates_a_conversion() {
        for name in ["coupon", "promo_code", "coupon_code"] {
            let p = parse(&format!("{name}=ANNA10&order_id=1&amount=5")).unwrap();
            assert_eq!(p.coupon.as_deref(), Some("ANNA10"), "{name}");
            assert_eq!(p.click_id, None);
        }
        let lead = parse("event=lead&coupon=ANNA10").unwrap_err();
        assert_eq!((lead.field, lead.code), ("order_id", "missing_field"));
        assert!(parse("event=lead&coupon=ANNA10&order_id=L1").is_ok());
        assert_eq!(
            parse("coupon=A1&promo_code=B2&order_id=1&amount=5")
                .unwrap_err()
                .field,
            "coupon"
        );
    }

    #[test]
    fn repeated_equal_values_are_fine() {
        assert!(parse("click_id=A&cid=A&order_id=1&amount=5").is_ok());
    }

    #[test]
    fn timestamps_are_iso_or_unix_seconds() {
        assert_eq!(
            parse_timestamp("2026-11-22T10:00:00Z").unwrap(),
            1_795_341_600_000
        );
        assert_eq!(
            parse_timestamp("2026-11-22T12:00:00+02:00").unwrap(),
            1_795_341_600_000
        );
        assert_eq!(parse_timestamp("1795341600").unwrap(), 1_795_341_600_000);
        assert!(
            parse_timestamp("1795341600000").is_err(),
            "milliseconds are refused"
        );
        assert!(parse_timestamp("2026-11-22").is_err());
        assert!(
            parse_timestamp("2026-11-22T10:00:00").is_err(),
            "a time zone is required"
        );
    }

    #[test]
    fn refunds_are_keyed_by_refund_id_else_order_id() {
        let partial = parse("event=refund&order_id=O&refund_id=R1&amount=5").unwrap();
        assert_eq!(partial.order_key(), Some("R1"));
        let full = parse("event=refund&order_id=O&amount=5").unwrap();
        assert_eq!(full.order_key(), Some("O"));
    }
}
