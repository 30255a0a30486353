//! Partner programs: the advertiser's offer that links, rules and money belong to.

use chrono::{Offset, TimeZone};
use rust_decimal::Decimal;

use super::conversions::promo_code::AttributionPriority;
use super::money::{parse_amount, Currency};
use super::text::{name, string_enum};
use super::Invalid;

string_enum!(
    /// The partnership model a program follows, compared side by side in reports.
    Model, "model" { Referral = "referral", Sales = "sales", Services = "services" }
);

pub const DEFAULT_ATTRIBUTION_WINDOW_DAYS: u32 = 30;
pub const DEFAULT_CLICK_ID_PARAM: &str = "click_id";

/// What a caller asks to set on a program's settings, unvalidated, every field optional
/// (a new program needs a name and a model). The currency and the click id parameter are
/// set once, at creation: they are fixed once links and money exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramChanges {
    pub name: Option<String>,
    pub model: Option<String>,
    pub attribution_window_days: Option<u32>,
    pub hold_days: Option<u32>,
    pub min_payout: Option<String>,
    pub timezone: Option<String>,
    pub lifetime_attribution: Option<bool>,
    pub partner_link_domains: Option<Vec<String>>,
    pub hold_flagged: Option<bool>,
    pub attribution_priority: Option<String>,
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
    /// The host names partners may point their own links to (and their subdomains).
    pub partner_link_domains: Vec<String>,
    /// New conversions of a partner with an open flag wait as `pending` for a manager
    /// instead of being approved automatically (docs/insights.md).
    pub hold_flagged: bool,
    /// Whether a click or a promo code wins when a conversion brings both, for
    /// different partners.
    pub attribution_priority: AttributionPriority,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewProgram {
    pub settings: ProgramSettings,
    pub currency: Currency,
    pub click_id_param: String,
}

impl NewProgram {
    /// A new program in `currency`: the contract's defaults (a 30-day attribution window,
    /// no hold, no minimum payout, UTC, lifetime attribution, `click_id`), then `changes`.
    pub fn create(
        currency: &str,
        click_id_param_name: Option<&str>,
        changes: ProgramChanges,
    ) -> Result<Self, Invalid> {
        let required = |value: &Option<String>, field: &'static str| {
            value
                .clone()
                .ok_or_else(|| Invalid::new(field, "missing_field", format!("{field} is required")))
        };
        let defaults = ProgramSettings {
            name: name("name", &required(&changes.name, "name")?, 200)?,
            model: Model::parse(&required(&changes.model, "model")?)?,
            attribution_window_days: DEFAULT_ATTRIBUTION_WINDOW_DAYS,
            hold_days: 0,
            min_payout: Decimal::ZERO,
            timezone: "UTC".to_owned(),
            lifetime_attribution: true,
            partner_link_domains: Vec::new(),
            hold_flagged: false,
            attribution_priority: AttributionPriority::Click,
        };
        Ok(Self {
            settings: defaults.patched(changes)?,
            currency: Currency::parse("currency", currency)?,
            click_id_param: click_id_param(click_id_param_name.unwrap_or(DEFAULT_CLICK_ID_PARAM))?,
        })
    }
}

impl ProgramSettings {
    /// These settings with every change applied and validated.
    pub fn patched(&self, patch: ProgramChanges) -> Result<Self, Invalid> {
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
            partner_link_domains: match patch.partner_link_domains {
                Some(domains) => link_domains(&domains)?,
                None => self.partner_link_domains.clone(),
            },
            hold_flagged: patch.hold_flagged.unwrap_or(self.hold_flagged),
            attribution_priority: match patch.attribution_priority {
                Some(raw) => AttributionPriority::parse(&raw)?,
                None => self.attribution_priority,
            },
        })
    }
}

/// At most this many partner link domains a program.
const MAX_LINK_DOMAINS: usize = 20;

/// Host names, lower-cased and without duplicates: at least two dot-separated labels of
/// letters, digits and inner hyphens (`shop.example`), as given (no spaces, scheme, path,
/// port or trailing dot).
fn link_domains(raw: &[String]) -> Result<Vec<String>, Invalid> {
    let bad = |message: String| Invalid::new("partner_link_domains", "invalid_value", message);
    if raw.len() > MAX_LINK_DOMAINS {
        return Err(bad(format!("at most {MAX_LINK_DOMAINS} domains")));
    }
    let mut domains: Vec<String> = Vec::new();
    for entry in raw {
        let host = entry.to_ascii_lowercase();
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.len() > 253 || !host.contains('.') || !host.split('.').all(label_ok) {
            return Err(bad(format!(
                "'{entry}' is not a host name like shop.example (no scheme, path or port)"
            )));
        }
        if !domains.contains(&host) {
            domains.push(host);
        }
    }
    Ok(domains)
}

/// Whether a destination on `host` is allowed by `domains`: the host is one of them or a
/// subdomain of one.
pub fn allows_host(domains: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    domains
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
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

/// An IANA time zone name such as `Europe/Berlin`, whose UTC offsets are whole hours:
/// the program's reports cut its local days out of hourly rollups, which cannot be exact
/// at a half-hour offset (the reports refuse those zones too).
pub fn timezone(raw: &str) -> Result<String, Invalid> {
    let tz = raw.parse::<chrono_tz::Tz>().map_err(|_| {
        Invalid::new(
            "timezone",
            "unknown_timezone",
            format!("'{raw}' is not an IANA time zone name (for example Europe/Berlin)"),
        )
    })?;
    // Every 15 days from 2000 to 2100: both sides of every daylight-saving change. (Some
    // zones had half-hour offsets long ago, Singapore until 1981: a report of those
    // years is refused on its own.)
    const STEP_MS: i64 = 15 * 86_400_000;
    const FROM_MS: i64 = 946_684_800_000;
    const UNTIL_MS: i64 = 4_102_444_800_000;
    for at in (FROM_MS..UNTIL_MS).step_by(STEP_MS as usize) {
        let Some(local) = tz.timestamp_millis_opt(at).single() else {
            continue;
        };
        let seconds = local.offset().fix().local_minus_utc();
        if seconds % 3600 != 0 {
            return Err(Invalid::new(
                "timezone",
                "unsupported_timezone",
                format!(
                    "{} is {}:{:02} from UTC at times; programs and their reports support time \
                     zones whose offsets are whole hours",
                    tz.name(),
                    seconds / 3600,
                    (seconds % 3600).abs() / 60
                ),
            ));
        }
    }
    Ok(tz.name().to_owned())
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

    fn shop() -> ProgramChanges {
        ProgramChanges {
            name: Some("Shop".into()),
            model: Some("sales".into()),
            ..ProgramChanges::default()
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let program = NewProgram::create("eur", None, shop()).unwrap();
        assert_eq!(program.currency.as_str(), "EUR");
        assert_eq!(program.click_id_param, "click_id");
        assert_eq!(program.settings.attribution_window_days, 30);
        assert_eq!(program.settings.hold_days, 0);
        assert_eq!(program.settings.min_payout, Decimal::ZERO);
        assert_eq!(program.settings.timezone, "UTC");
    }

    /// openapi.yaml's `ProgramTimeZone` lists exactly the zones a program accepts (all
    /// of them, as JSON, with `cargo test --lib program_time_zones -- --nocapture`).
    #[test]
    fn program_time_zones() {
        let accepted: Vec<&str> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|name| timezone(name).is_ok())
            .collect();
        println!("{}", serde_json::to_string(&accepted).unwrap());
        let schema = include_str!("../../openapi.yaml");
        let start = schema
            .find("    ProgramTimeZone:")
            .expect("ProgramTimeZone in openapi.yaml");
        let list = &schema[start..];
        let list = &list[list.find("enum: [").unwrap()..list.find("\n      ]").unwrap()];
        let listed: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
        assert_eq!(listed, accepted);
        assert!(accepted.contains(&"Europe/Berlin") && !accepted.contains(&"Asia/Kolkata"));
    }

    #[test]
    fn each_bad_field_is_named() {
        let field = |currency, click_id: Option<&str>, changes| {
            NewProgram::create(currency, click_id, changes)
                .unwrap_err()
                .field
        };
        let with = |change: fn(&mut ProgramChanges)| {
            let mut changes = shop();
            change(&mut changes);
            changes
        };
        assert_eq!(
            field("EUR", None, with(|c| c.name = Some(" ".into()))),
            "name"
        );
        assert_eq!(field("EUR", None, with(|c| c.name = None)), "name");
        assert_eq!(field("EURO", None, shop()), "currency");
        assert_eq!(
            field("EUR", None, with(|c| c.model = Some("cpa".into()))),
            "model"
        );
        assert_eq!(
            field("EUR", None, with(|c| c.attribution_window_days = Some(0))),
            "attribution_window_days"
        );
        assert_eq!(field("EUR", Some("a b"), shop()), "click_id_param");
        assert_eq!(
            field("EUR", None, with(|c| c.min_payout = Some("-5".into()))),
            "min_payout"
        );
        assert_eq!(
            field("EUR", None, with(|c| c.timezone = Some("Mars/Base".into()))),
            "timezone"
        );
        assert_eq!(timezone("Asia/Singapore").unwrap(), "Asia/Singapore");
        for zone in ["Asia/Kolkata", "Pacific/Marquesas", "Australia/Lord_Howe"] {
            let error = timezone(zone).unwrap_err();
            assert_eq!(
                (error.field, error.code),
                ("timezone", "unsupported_timezone"),
                "{zone}"
            );
        }
        assert_eq!(timezone("America/New_York").unwrap(), "America/New_York");
        assert_eq!(timezone("Europe/Berlin").unwrap(), "Europe/Berlin");
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let program = NewProgram::create("EUR", None, shop()).unwrap();
        let patch = ProgramChanges {
            hold_days: Some(14),
            timezone: Some("Europe/Berlin".into()),
            ..ProgramChanges::default()
        };
        let patched = program.settings.patched(patch).unwrap();
        assert_eq!(patched.hold_days, 14);
        assert_eq!(patched.timezone, "Europe/Berlin");
        assert_eq!(patched.name, "Shop");
    }

    #[test]
    fn partner_link_domains_are_host_names_and_allow_subdomains() {
        let program = NewProgram::create("EUR", None, shop()).unwrap();
        let set = |domains: &[&str]| {
            program.settings.patched(ProgramChanges {
                partner_link_domains: Some(domains.iter().map(|d| (*d).to_owned()).collect()),
                ..ProgramChanges::default()
            })
        };
        let ok = set(&["Shop.Example", "shop.example", "blog.shop.example"]).unwrap();
        assert_eq!(
            ok.partner_link_domains,
            ["shop.example", "blog.shop.example"]
        );
        for bad in [
            "https://shop.example",
            "shop.example/x",
            "localhost",
            "shop..example",
            "-a.example",
            "a-.example",
            "a.example:8080",
            " shop.example",
            "shop.example.",
        ] {
            assert_eq!(
                set(&[bad]).unwrap_err().field,
                "partner_link_domains",
                "{bad}"
            );
        }
        let domains = ok.partner_link_domains;
        assert!(allows_host(&domains, "shop.example"));
        assert!(allows_host(&domains, "WWW.shop.example"));
        assert!(!allows_host(&domains, "evilshop.example"));
        assert!(!allows_host(&domains, "shop.example.evil.test"));
    }
}
