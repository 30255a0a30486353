//! Partner programs: the advertiser's offer that links, rules and money belong to.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::money::{parse_amount, Currency};
use super::text::{name, string_enum};
use super::Invalid;

string_enum!(
    /// The partnership model a program follows, compared side by side in reports.
    Model, "model" { Referral = "referral", Sales = "sales", Services = "services" }
);

pub const DEFAULT_ATTRIBUTION_WINDOW_DAYS: u32 = 30;
pub const DEFAULT_CLICK_ID_PARAM: &str = "click_id";

/// `POST /api/v1/programs` as it arrives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramBody {
    pub name: String,
    pub currency: String,
    pub model: String,
    pub attribution_window_days: Option<u32>,
    pub click_id_param: Option<String>,
    pub hold_days: Option<u32>,
    pub min_payout: Option<String>,
    pub timezone: Option<String>,
    pub lifetime_attribution: Option<bool>,
}

/// `PATCH /api/v1/programs/{id}`: what may change after creation. The currency and the
/// click id parameter are fixed once links and money exist.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramPatch {
    pub name: Option<String>,
    pub model: Option<String>,
    pub attribution_window_days: Option<u32>,
    pub hold_days: Option<u32>,
    pub min_payout: Option<String>,
    pub timezone: Option<String>,
    pub lifetime_attribution: Option<bool>,
}

/// The settings of a program, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSettings {
    pub name: String,
    pub model: Model,
    pub attribution_window_days: u32,
    pub hold_days: u32,
    pub min_payout: Decimal,
    pub timezone: String,
    /// Repeat sales by a known customer without a click go to the partner who brought them.
    pub lifetime_attribution: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewProgram {
    pub settings: ProgramSettings,
    pub currency: Currency,
    pub click_id_param: String,
}

impl TryFrom<ProgramBody> for NewProgram {
    type Error = Invalid;

    fn try_from(body: ProgramBody) -> Result<Self, Invalid> {
        let settings = ProgramSettings {
            name: name("name", &body.name, 200)?,
            model: Model::parse(&body.model)?,
            attribution_window_days: window_days(
                body.attribution_window_days
                    .unwrap_or(DEFAULT_ATTRIBUTION_WINDOW_DAYS),
            )?,
            hold_days: hold_days(body.hold_days.unwrap_or(0))?,
            min_payout: min_payout(body.min_payout.as_deref().unwrap_or("0"))?,
            timezone: timezone(body.timezone.as_deref().unwrap_or("UTC"))?,
            lifetime_attribution: body.lifetime_attribution.unwrap_or(true),
        };
        Ok(Self {
            settings,
            currency: Currency::parse("currency", &body.currency)?,
            click_id_param: click_id_param(
                body.click_id_param
                    .as_deref()
                    .unwrap_or(DEFAULT_CLICK_ID_PARAM),
            )?,
        })
    }
}

impl ProgramSettings {
    /// Applies a patch on top of the current settings, validating every changed field.
    pub fn patched(&self, patch: ProgramPatch) -> Result<Self, Invalid> {
        Ok(Self {
            name: match patch.name {
                Some(raw) => name("name", &raw, 200)?,
                None => self.name.clone(),
            },
            model: match patch.model {
                Some(raw) => Model::parse(&raw)?,
                None => self.model,
            },
            attribution_window_days: match patch.attribution_window_days {
                Some(days) => window_days(days)?,
                None => self.attribution_window_days,
            },
            hold_days: match patch.hold_days {
                Some(days) => hold_days(days)?,
                None => self.hold_days,
            },
            min_payout: match patch.min_payout {
                Some(raw) => min_payout(&raw)?,
                None => self.min_payout,
            },
            timezone: match patch.timezone {
                Some(raw) => timezone(&raw)?,
                None => self.timezone.clone(),
            },
            lifetime_attribution: patch
                .lifetime_attribution
                .unwrap_or(self.lifetime_attribution),
        })
    }
}

fn window_days(days: u32) -> Result<u32, Invalid> {
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(Invalid::new(
            "attribution_window_days",
            "out_of_range",
            "attribution_window_days must be between 1 and 365",
        ))
    }
}

fn hold_days(days: u32) -> Result<u32, Invalid> {
    if days <= 365 {
        Ok(days)
    } else {
        Err(Invalid::new(
            "hold_days",
            "out_of_range",
            "hold_days must be between 0 and 365",
        ))
    }
}

fn min_payout(raw: &str) -> Result<Decimal, Invalid> {
    parse_amount("min_payout", raw, 2)
}

/// An IANA time zone name such as `Europe/Berlin`.
pub fn timezone(raw: &str) -> Result<String, Invalid> {
    raw.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            Invalid::new(
                "timezone",
                "unknown_timezone",
                format!("'{raw}' is not an IANA time zone name (for example Europe/Berlin)"),
            )
        })
}

/// The query parameter that carries the click id to the advertiser: `[A-Za-z0-9_]{1,32}`.
fn click_id_param(raw: &str) -> Result<String, Invalid> {
    let ok = (1..=32).contains(&raw.len())
        && raw.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(Invalid::new(
            "click_id_param",
            "invalid_value",
            "click_id_param must be 1 to 32 characters from A-Z, a-z, 0-9 and '_'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Result<NewProgram, Invalid> {
        NewProgram::try_from(serde_json::from_str::<ProgramBody>(json).unwrap())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let program = body(r#"{"name":"Shop","currency":"eur","model":"sales"}"#).unwrap();
        assert_eq!(program.currency.as_str(), "EUR");
        assert_eq!(program.click_id_param, "click_id");
        assert_eq!(program.settings.attribution_window_days, 30);
        assert_eq!(program.settings.hold_days, 0);
        assert_eq!(program.settings.min_payout, Decimal::ZERO);
        assert_eq!(program.settings.timezone, "UTC");
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (r#"{"name":" ","currency":"EUR","model":"sales"}"#, "name"),
            (
                r#"{"name":"S","currency":"EURO","model":"sales"}"#,
                "currency",
            ),
            (r#"{"name":"S","currency":"EUR","model":"cpa"}"#, "model"),
            (
                r#"{"name":"S","currency":"EUR","model":"sales","attribution_window_days":0}"#,
                "attribution_window_days",
            ),
            (
                r#"{"name":"S","currency":"EUR","model":"sales","click_id_param":"a b"}"#,
                "click_id_param",
            ),
            (
                r#"{"name":"S","currency":"EUR","model":"sales","min_payout":"-5"}"#,
                "min_payout",
            ),
            (
                r#"{"name":"S","currency":"EUR","model":"sales","timezone":"Mars/Base"}"#,
                "timezone",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(body(json).unwrap_err().field, field, "{json}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_by_the_body_type() {
        let err = serde_json::from_str::<ProgramBody>(
            r#"{"name":"S","currency":"EUR","model":"sales","colour":"red"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `colour`"));
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let program = body(r#"{"name":"Shop","currency":"EUR","model":"sales"}"#).unwrap();
        let patch: ProgramPatch =
            serde_json::from_str(r#"{"hold_days":14,"timezone":"Europe/Berlin"}"#).unwrap();
        let patched = program.settings.patched(patch).unwrap();
        assert_eq!(patched.hold_days, 14);
        assert_eq!(patched.timezone, "Europe/Berlin");
        assert_eq!(patched.name, "Shop");
    }
}
