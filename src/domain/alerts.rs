//! Alerts: a rule on a program's KPI for its last finished day (below or above a number,
//! or a percentage of the forecast's range or of an earlier day), on new fraud and
//! anomaly flags, or on partners entering the at-risk stage of their journey. The cron checks them after each rollup; each condition is judged once
//! per period (its `key`), and a quiet period keeps an alert from sending again too soon.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::flags::Severity;
use crate::domain::nightly::FORECAST_METRICS;
use crate::domain::reporting::Metric;
use crate::domain::text::{self, string_enum};
use crate::domain::Invalid;

const MAX_NAME: usize = 200;
/// The longest quiet period: a week.
pub const MAX_QUIET_HOURS: u32 = 168;

string_enum!(
    /// What an alert watches.
    AlertKind, "kind" { Kpi = "kpi", NewFlag = "new_flag", PartnerAtRisk = "partner_at_risk" }
);

string_enum!(
    /// Which side of the limit fires.
    Operator, "operator" { Below = "below", Above = "above" }
);

string_enum!(
    /// What a relative limit is a percentage of: the forecast of the day (its middle, or
    /// the lower or upper bound of its 80 % range), the day before, or the same weekday a
    /// week before.
    Reference, "relative_to" {
        Forecast = "forecast",
        ForecastLower = "forecast_lower",
        ForecastUpper = "forecast_upper",
        PreviousDay = "previous_day",
        SameDayLastWeek = "same_day_last_week",
    }
);

string_enum!(
    AlertStatus, "status" { Active = "active", Paused = "paused" }
);

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
    }
}

/// Whether a flag of severity `raw` is at least as severe as `min` (unknown ones are).
pub fn admits(min: Severity, raw: &str) -> bool {
    Severity::parse(raw).map_or(true, |s| rank(s) >= rank(min))
}

fn min_severity(raw: &str) -> Result<Severity, Invalid> {
    Severity::parse(raw).map_err(|e| {
        Invalid::new(
            "min_severity",
            e.code,
            e.message.replace("severity", "min_severity"),
        )
    })
}

/// `POST /api/v1/alerts` and `PATCH …/{id}` as they arrive.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertBody {
    pub name: Option<String>,
    pub program_id: Option<String>,
    pub kind: Option<String>,
    pub metric: Option<String>,
    pub operator: Option<String>,
    pub threshold: Option<String>,
    pub relative_to: Option<String>,
    pub min_severity: Option<String>,
    pub quiet_hours: Option<u32>,
    pub status: Option<String>,
    pub recipients: Option<Vec<crate::domain::notify::recipient::RecipientInput>>,
}

/// An alert's rule as stored (recipients are sealed apart, as a schedule's are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSpec {
    pub name: String,
    pub program_id: String,
    pub kind: AlertKind,
    pub metric: Option<String>,
    pub operator: Option<Operator>,
    /// A number (`relative_to` absent) or a percentage of the reference.
    pub threshold: Option<Decimal>,
    pub relative_to: Option<Reference>,
    pub min_severity: Option<Severity>,
    pub quiet_hours: u32,
    pub status: AlertStatus,
}

fn missing(field: &'static str, why: &str) -> Invalid {
    Invalid::new(field, "missing_field", format!("{field} is required {why}"))
}

fn unexpected(field: &'static str, kind: AlertKind) -> Invalid {
    Invalid::new(
        field,
        "unexpected_field",
        format!("{field} does not apply to a {} alert", kind.as_str()),
    )
}

/// A threshold: up to 12 digits and 6 decimals (surrounding white space is trimmed).
fn decimal(raw: &str) -> Result<Decimal, Invalid> {
    let text = raw.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    let well_formed = digits(whole, 12) && (!text.contains('.') || digits(fraction, 6));
    let value: Option<Decimal> = well_formed.then(|| text.parse().ok()).flatten();
    let value = value.ok_or_else(|| {
        Invalid::new(
            "threshold",
            "invalid_value",
            format!("threshold must be a number like 50 or 12.5 (not negative), not '{raw}'"),
        )
    })?;
    Ok(value)
}

impl AlertSpec {
    pub fn create(body: &AlertBody) -> Result<Self, Invalid> {
        let kind = AlertKind::parse(
            body.kind
                .as_deref()
                .ok_or_else(|| missing("kind", "(kpi or new_flag)"))?,
        )?;
        Self::build(body, kind, None)
    }

    /// This alert with a PATCH body's fields replacing its own (a `kind` cannot change).
    pub fn update(&self, body: &AlertBody) -> Result<Self, Invalid> {
        if let Some(kind) = body.kind.as_deref() {
            if kind != self.kind.as_str() {
                return Err(Invalid::new(
                    "kind",
                    "immutable",
                    "an alert's kind cannot change; make a new alert",
                ));
            }
        }
        Self::build(body, self.kind, Some(self))
    }

    fn build(body: &AlertBody, kind: AlertKind, old: Option<&Self>) -> Result<Self, Invalid> {
        let text = |new: &Option<String>, old: Option<String>| new.clone().or(old);
        let name =
            text(&body.name, old.map(|o| o.name.clone())).ok_or_else(|| missing("name", ""))?;
        let program_id = text(&body.program_id, old.map(|o| o.program_id.clone()))
            .ok_or_else(|| missing("program_id", ""))?;
        let quiet_hours = body
            .quiet_hours
            .or(old.map(|o| o.quiet_hours))
            .unwrap_or(24);
        if quiet_hours > MAX_QUIET_HOURS {
            return Err(Invalid::new(
                "quiet_hours",
                "out_of_range",
                format!("quiet_hours is 0 to {MAX_QUIET_HOURS}"),
            ));
        }
        let status = match &body.status {
            Some(raw) => AlertStatus::parse(raw)?,
            None => old.map_or(AlertStatus::Active, |o| o.status),
        };
        let mut spec = Self {
            name: text::name("name", &name, MAX_NAME)?,
            program_id,
            kind,
            metric: None,
            operator: None,
            threshold: None,
            relative_to: None,
            min_severity: None,
            quiet_hours,
            status,
        };
        match kind {
            AlertKind::Kpi => {
                for (field, given) in [("min_severity", body.min_severity.is_some())] {
                    if given {
                        return Err(unexpected(field, kind));
                    }
                }
                let metric = text(&body.metric, old.and_then(|o| o.metric.clone()))
                    .ok_or_else(|| missing("metric", "for a kpi alert"))?;
                let parsed = Metric::parse(&metric).ok_or_else(|| {
                    Invalid::new(
                        "metric",
                        "unknown_metric",
                        format!("'{metric}' is not a metric of kpis.md"),
                    )
                })?;
                if !Metric::defaults().contains(&parsed) {
                    return Err(Invalid::new(
                        "metric",
                        "invalid_value",
                        "partner-network KPIs are not judged per day; pick a base measure or a derived KPI",
                    ));
                }
                spec.metric = Some(metric);
                spec.operator = Some(match &body.operator {
                    Some(raw) => Operator::parse(raw)?,
                    None => old
                        .and_then(|o| o.operator)
                        .ok_or_else(|| missing("operator", "for a kpi alert (below or above)"))?,
                });
                spec.threshold = Some(match &body.threshold {
                    Some(raw) => decimal(raw)?,
                    None => old
                        .and_then(|o| o.threshold)
                        .ok_or_else(|| missing("threshold", "for a kpi alert"))?,
                });
                spec.relative_to = match &body.relative_to {
                    Some(raw) => Some(Reference::parse(raw)?),
                    None => old.and_then(|o| o.relative_to),
                };
                let forecast = matches!(
                    spec.relative_to,
                    Some(Reference::Forecast | Reference::ForecastLower | Reference::ForecastUpper)
                );
                if forecast && !FORECAST_METRICS.contains(&parsed) {
                    let names: Vec<&str> = FORECAST_METRICS.iter().map(|m| m.name()).collect();
                    return Err(Invalid::new(
                        "relative_to",
                        "invalid_value",
                        format!("only {} are forecast", names.join(", ")),
                    ));
                }
            }
            AlertKind::NewFlag | AlertKind::PartnerAtRisk => {
                for (field, given) in [
                    ("metric", body.metric.is_some()),
                    ("operator", body.operator.is_some()),
                    ("threshold", body.threshold.is_some()),
                    ("relative_to", body.relative_to.is_some()),
                    (
                        "min_severity",
                        kind == AlertKind::PartnerAtRisk && body.min_severity.is_some(),
                    ),
                ] {
                    if given {
                        return Err(unexpected(field, kind));
                    }
                }
                if kind == AlertKind::NewFlag {
                    spec.min_severity = match &body.min_severity {
                        Some(raw) => Some(min_severity(raw)?),
                        None => old.and_then(|o| o.min_severity),
                    };
                }
            }
        }
        Ok(spec)
    }

    /// The limit a KPI is judged against, given the reference's value (`None` when the
    /// rule is relative and the reference is unknown: no judgement that day).
    pub fn limit(&self, reference: Option<Decimal>) -> Option<Decimal> {
        let threshold = self.threshold?;
        match self.relative_to {
            None => Some(threshold),
            Some(_) => reference.map(|r| r * threshold / Decimal::from(100)),
        }
    }

    /// Whether a KPI's value breaks the rule, and the limit it was judged against.
    pub fn breached(
        &self,
        value: Option<Decimal>,
        reference: Option<Decimal>,
    ) -> Option<(bool, Decimal)> {
        let (value, limit) = (value?, self.limit(reference)?);
        let broken = match self.operator? {
            Operator::Below => value < limit,
            Operator::Above => value > limit,
        };
        Some((broken, limit))
    }

    /// The rule in words: `sales below 50 % of the forecast's lower bound`.
    pub fn describe(&self) -> String {
        match self.kind {
            AlertKind::NewFlag => match self.min_severity {
                Some(s) => format!("a new flag of severity {} or higher", s.as_str()),
                None => "a new fraud or anomaly flag".to_owned(),
            },
            AlertKind::PartnerAtRisk => "a partner entered the at-risk stage".to_owned(),
            AlertKind::Kpi => {
                let metric = self.metric.clone().unwrap_or_default();
                let op = self.operator.map_or("", Operator::as_str);
                let threshold = self.threshold.unwrap_or_default().normalize();
                match self.relative_to {
                    None => format!("{metric} {op} {threshold}"),
                    Some(r) => format!("{metric} {op} {threshold} % of {}", reference_words(r)),
                }
            }
        }
    }
}

pub fn reference_words(r: Reference) -> &'static str {
    match r {
        Reference::Forecast => "the forecast",
        Reference::ForecastLower => "the forecast's lower bound",
        Reference::ForecastUpper => "the forecast's upper bound",
        Reference::PreviousDay => "the day before",
        Reference::SameDayLastWeek => "the same day a week before",
    }
}

/// Whether an alert last sent at `last_sent_ms` is still quiet at `now_ms`.
pub fn quiet(last_sent_ms: Option<i64>, quiet_hours: u32, now_ms: i64) -> bool {
    last_sent_ms.is_some_and(|at| now_ms < at + i64::from(quiet_hours) * 3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> AlertBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_kpi_rule_relative_to_the_forecast_judges_against_its_share() {
        let spec = AlertSpec::create(&body(
            r#"{"name": "Sales drop", "program_id": "prg_1", "kind": "kpi", "metric": "sales",
                "operator": "below", "threshold": "50", "relative_to": "forecast_lower"}"#,
        ))
        .unwrap();
        assert_eq!(spec.quiet_hours, 24);
        assert_eq!(
            spec.describe(),
            "sales below 50 % of the forecast's lower bound"
        );
        assert_eq!(spec.limit(Some(Decimal::from(10))), Some(Decimal::from(5)));
        assert_eq!(
            spec.breached(Some(Decimal::from(4)), Some(Decimal::from(10))),
            Some((true, Decimal::from(5)))
        );
        assert_eq!(
            spec.breached(Some(Decimal::from(5)), Some(Decimal::from(10))),
            Some((false, Decimal::from(5)))
        );
        assert_eq!(
            spec.breached(Some(Decimal::from(1)), None),
            None,
            "no forecast, no judgement"
        );
        assert_eq!(
            spec.breached(None, Some(Decimal::from(10))),
            None,
            "no value, no judgement"
        );
    }

    #[test]
    fn an_absolute_rule_and_a_flag_rule() {
        let revenue = AlertSpec::create(&body(
            r#"{"name": "Big day", "program_id": "prg_1", "kind": "kpi", "metric": "revenue",
                "operator": "above", "threshold": "1000.50", "quiet_hours": 0}"#,
        ))
        .unwrap();
        assert_eq!(revenue.describe(), "revenue above 1000.5");
        assert_eq!(
            revenue.breached(Some(Decimal::new(100051, 2)), None),
            Some((true, Decimal::new(100050, 2)))
        );
        let flags = AlertSpec::create(&body(
            r#"{"name": "Fraud", "program_id": "prg_1", "kind": "new_flag", "min_severity": "medium"}"#,
        ))
        .unwrap();
        assert!(admits(flags.min_severity.unwrap(), "high"));
        assert!(!admits(flags.min_severity.unwrap(), "low"));
        assert_eq!(flags.describe(), "a new flag of severity medium or higher");
    }

    #[test]
    fn bad_rules_name_their_field() {
        let field = |json: &str| AlertSpec::create(&body(json)).unwrap_err().field;
        let kpi = r#""name": "x", "program_id": "p", "kind": "kpi""#;
        assert_eq!(field(r#"{"name": "x", "program_id": "p"}"#), "kind");
        assert_eq!(
            field(&format!(
                "{{{kpi}, \"operator\": \"below\", \"threshold\": \"1\"}}"
            )),
            "metric"
        );
        assert_eq!(
            field(&format!(
                "{{{kpi}, \"metric\": \"nope\", \"operator\": \"below\", \"threshold\": \"1\"}}"
            )),
            "metric"
        );
        assert_eq!(field(&format!("{{{kpi}, \"metric\": \"partners_total\", \"operator\": \"below\", \"threshold\": \"1\"}}")), "metric");
        assert_eq!(
            field(&format!(
                "{{{kpi}, \"metric\": \"sales\", \"operator\": \"under\", \"threshold\": \"1\"}}"
            )),
            "operator"
        );
        assert_eq!(
            field(&format!(
                "{{{kpi}, \"metric\": \"sales\", \"operator\": \"below\", \"threshold\": \"-1\"}}"
            )),
            "threshold"
        );
        assert_eq!(
            field(&format!(
                "{{{kpi}, \"metric\": \"sales\", \"operator\": \"below\", \"threshold\": \"x\"}}"
            )),
            "threshold"
        );
        assert_eq!(field(&format!("{{{kpi}, \"metric\": \"sales\", \"operator\": \"below\", \"threshold\": \"1\", \"relative_to\": \"moon\"}}")), "relative_to");
        assert_eq!(field(&format!("{{{kpi}, \"metric\": \"sales\", \"operator\": \"below\", \"threshold\": \"1\", \"min_severity\": \"low\"}}")), "min_severity");
        assert_eq!(
            field(r#"{"name": "x", "program_id": "p", "kind": "new_flag", "metric": "sales"}"#),
            "metric"
        );
        assert_eq!(
            field(r#"{"name": "x", "program_id": "p", "kind": "new_flag", "quiet_hours": 200}"#),
            "quiet_hours"
        );
    }

    #[test]
    fn a_patch_keeps_the_kind() {
        let spec = AlertSpec::create(&body(
            r#"{"name": "x", "program_id": "p", "kind": "new_flag"}"#,
        ))
        .unwrap();
        assert_eq!(
            spec.update(&body(r#"{"kind": "kpi"}"#)).unwrap_err().field,
            "kind"
        );
        let paused = spec
            .update(&body(r#"{"status": "paused", "quiet_hours": 2}"#))
            .unwrap();
        assert_eq!(
            (paused.status, paused.quiet_hours),
            (AlertStatus::Paused, 2)
        );
    }

    #[test]
    fn the_quiet_period_runs_from_the_last_message() {
        assert!(!quiet(None, 24, 0));
        assert!(quiet(Some(0), 24, 23 * 3_600_000));
        assert!(!quiet(Some(0), 24, 24 * 3_600_000));
        assert!(!quiet(Some(0), 0, 1));
    }
}

/// A flag an alert reports.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagFinding {
    pub partner: String,
    pub kind: String,
    pub severity: String,
    pub day: String,
}

/// What broke an alert's rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// A KPI of a finished local day, the limit it broke and the reference's value.
    Kpi {
        day: chrono::NaiveDate,
        value: crate::domain::reporting::Cell,
        limit: Decimal,
        reference: Option<Decimal>,
    },
    Flags(Vec<FlagFinding>),
    /// Partners of the program that entered `at_risk` on this UTC day, with the reason.
    AtRisk {
        day: chrono::NaiveDate,
        partners: Vec<(String, String)>,
    },
}

/// Where an alert was raised.
pub struct Raised<'a> {
    pub alert_id: &'a str,
    pub event_id: &'a str,
    pub program: &'a str,
    pub currency: &'a str,
    pub timezone: &'a str,
    /// The dashboard's page to look at it on.
    pub dashboard_url: String,
}

fn amount(spec: &AlertSpec, value: Decimal, currency: &str) -> String {
    use crate::domain::notify::summary::display;
    use crate::domain::reporting::{Cell, MetricKind};
    let metric = spec.metric.as_deref().and_then(Metric::parse);
    let cell = match metric.map(Metric::kind) {
        Some(MetricKind::Money | MetricKind::MoneyPerUnit) => Cell::Money(value),
        Some(MetricKind::Ratio) => Cell::Ratio(value),
        Some(MetricKind::Count) if value.fract().is_zero() => {
            Cell::Count(i64::try_from(value.mantissa() / 10i128.pow(value.scale())).unwrap_or(0))
        }
        _ => Cell::Number(value),
    };
    display(&cell, Some(currency))
}

/// The alert as a message for every channel (`alert.triggered`).
pub fn message(
    spec: &AlertSpec,
    raised: &Raised<'_>,
    finding: &Finding,
) -> crate::domain::notify::message::Message {
    use crate::domain::notify::message::{Link, Message, Section};
    use crate::domain::notify::summary::{display, period_label};
    use serde_json::json;
    let links = vec![Link {
        label: "Open the dashboard".to_owned(),
        url: raised.dashboard_url.clone(),
    }];
    let base = json!({
        "alert": {"id": raised.alert_id, "name": spec.name, "kind": spec.kind, "rule": spec.describe()},
        "event_id": raised.event_id,
        "program": {"id": spec.program_id, "name": raised.program},
    });
    match finding {
        Finding::Kpi {
            day,
            value,
            limit,
            reference,
        } => {
            let label = spec.metric.clone().unwrap_or_default().replace('_', " ");
            let shown = display(value, Some(raised.currency));
            let limit_text = match (spec.relative_to, reference) {
                (Some(r), Some(reference)) => format!(
                    "{} {} ({} % of {}: {})",
                    spec.operator.map_or("", Operator::as_str),
                    amount(spec, *limit, raised.currency),
                    spec.threshold.unwrap_or_default().normalize(),
                    reference_words(r),
                    amount(spec, *reference, raised.currency)
                ),
                _ => format!(
                    "{} {}",
                    spec.operator.map_or("", Operator::as_str),
                    amount(spec, *limit, raised.currency)
                ),
            };
            let mut data = base;
            data["metric"] = json!(spec.metric);
            data["day"] = json!(day.to_string());
            data["value"] = value.to_json();
            data["limit"] = json!(limit.normalize().to_string());
            data["reference"] = json!(reference.map(|r| r.normalize().to_string()));
            data["relative_to"] = json!(spec.relative_to);
            Message {
                event: "alert.triggered".to_owned(),
                title: format!(
                    "{}: {label} {shown} on {}",
                    spec.name,
                    period_label((*day, *day + chrono::Days::new(1)))
                ),
                context: format!(
                    "{} · {} · rule: {}",
                    raised.program,
                    raised.timezone,
                    spec.describe()
                ),
                facts: vec![
                    (capitalise(&label), shown),
                    ("Limit".to_owned(), limit_text),
                ],
                sections: Vec::new(),
                links,
                data,
            }
        }
        Finding::AtRisk { day, partners } => {
            let mut data = base;
            data["day"] = json!(day.to_string());
            data["partners"] = json!(partners
                .iter()
                .map(|(name, risk)| json!({"partner_name": name, "risk": risk}))
                .collect::<Vec<_>>());
            let count = partners.len();
            Message {
                event: "alert.triggered".to_owned(),
                title: format!(
                    "{}: {count} partner{} at risk since {day}",
                    spec.name,
                    if count == 1 { "" } else { "s" }
                ),
                context: format!("{} · rule: {}", raised.program, spec.describe()),
                facts: Vec::new(),
                sections: vec![Section {
                    heading: "Entered the at-risk stage".to_owned(),
                    lines: partners
                        .iter()
                        .map(|(name, risk)| match risk.as_str() {
                            "inactive" => format!("{name}: no activity for 14 days"),
                            "activity_drop" => {
                                format!("{name}: activity halved against the 14 days before")
                            }
                            other => format!("{name}: {other}"),
                        })
                        .collect(),
                }],
                links,
                data,
            }
        }
        Finding::Flags(flags) => {
            let mut data = base;
            data["flags"] = json!(flags
                .iter()
                .map(|f| json!({"partner_name": f.partner, "kind": f.kind, "severity": f.severity, "day": f.day}))
                .collect::<Vec<_>>());
            let count = flags.len();
            Message {
                event: "alert.triggered".to_owned(),
                title: format!(
                    "{}: {count} new flag{}",
                    spec.name,
                    if count == 1 { "" } else { "s" }
                ),
                context: format!("{} · rule: {}", raised.program, spec.describe()),
                facts: Vec::new(),
                sections: vec![Section {
                    heading: "New flags".to_owned(),
                    lines: flags
                        .iter()
                        .map(|f| {
                            format!(
                                "{}: {} ({}, {})",
                                f.partner,
                                f.kind.replace('_', " "),
                                f.severity,
                                f.day
                            )
                        })
                        .collect(),
                }],
                links,
                data,
            }
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod message_tests {
    use super::*;
    use crate::domain::reporting::Cell;

    fn raised() -> Raised<'static> {
        Raised {
            alert_id: "alr_1",
            event_id: "alv_1",
            program: "Shop",
            currency: "EUR",
            timezone: "UTC",
            dashboard_url: "https://pl.example/?program=prg_1&view=insights".to_owned(),
        }
    }

    #[test]
    fn a_kpi_alert_says_the_value_the_limit_and_why() {
        let spec = AlertSpec::create(
            &serde_json::from_str(
                r#"{"name": "Sales drop", "program_id": "prg_1", "kind": "kpi", "metric": "sales",
                "operator": "below", "threshold": "50", "relative_to": "previous_day"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        let finding = Finding::Kpi {
            day: "2026-12-02".parse().unwrap(),
            value: Cell::Count(2),
            limit: Decimal::from(5),
            reference: Some(Decimal::from(10)),
        };
        let m = message(&spec, &raised(), &finding);
        assert_eq!(m.event, "alert.triggered");
        assert_eq!(m.title, "Sales drop: sales 2 on Wed 2 Dec 2026");
        assert_eq!(
            m.facts[1],
            (
                "Limit".to_owned(),
                "below 5 (50 % of the day before: 10)".to_owned()
            )
        );
        assert_eq!(m.data["value"], 2);
        assert_eq!(m.data["limit"], "5");
        assert_eq!(
            m.data["alert"]["rule"],
            "sales below 50 % of the day before"
        );
    }

    #[test]
    fn an_at_risk_alert_names_the_partners_and_why() {
        let spec = AlertSpec::create(
            &serde_json::from_str(
                r#"{"name": "Churn watch", "program_id": "prg_1", "kind": "partner_at_risk"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(spec.describe(), "a partner entered the at-risk stage");
        let finding = Finding::AtRisk {
            day: "2026-12-02".parse().unwrap(),
            partners: vec![
                ("Ann".into(), "inactive".into()),
                ("Bob".into(), "activity_drop".into()),
            ],
        };
        let m = message(&spec, &raised(), &finding);
        assert_eq!(m.title, "Churn watch: 2 partners at risk since 2026-12-02");
        assert_eq!(m.sections[0].lines[0], "Ann: no activity for 14 days");
        assert_eq!(m.data["partners"][1]["risk"], "activity_drop");
        let refused = AlertSpec::create(&serde_json::from_str(
            r#"{"name": "x", "program_id": "p", "kind": "partner_at_risk", "min_severity": "low"}"#,
        ).unwrap());
        assert_eq!(refused.unwrap_err().field, "min_severity");
    }

    #[test]
    fn a_flag_alert_lists_the_flags() {
        let spec = AlertSpec::create(
            &serde_json::from_str(
                r#"{"name": "Fraud", "program_id": "prg_1", "kind": "new_flag"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        let finding = Finding::Flags(vec![FlagFinding {
            partner: "Bob".into(),
            kind: "fast_conversions".into(),
            severity: "high".into(),
            day: "2026-12-02".into(),
        }]);
        let m = message(&spec, &raised(), &finding);
        assert_eq!(m.title, "Fraud: 1 new flag");
        assert_eq!(
            m.sections[0].lines,
            vec!["Bob: fast conversions (high, 2026-12-02)"]
        );
        assert_eq!(m.data["flags"][0]["kind"], "fast_conversions");
    }
}
