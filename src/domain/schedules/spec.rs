//! What a report schedule asks for, as the API takes it and D1 keeps it: the report (the
//! same parameters as `/api/v1/reports/kpis` or `/reports/partners`, with a range
//! relative to the run instead of dates), the cadence at a local hour in a time zone,
//! and the file format. Recipients are parsed by `notify::recipient`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{Cadence, RelativeRange};
use crate::domain::notify::recipient::RecipientInput;
use crate::domain::partners::journey::Stage;
use crate::domain::reporting::{offset_spans, Dimension, Format, ReportQuery};
use crate::domain::text::{self, string_enum};
use crate::domain::Invalid;

const MAX_NAME: usize = 200;

string_enum!(
    /// Which report a schedule sends.
    ReportKind, "report" { Kpis = "kpis", Partners = "partners" }
);

string_enum!(
    /// Whether the cron runs a schedule.
    ScheduleStatus, "status" { Active = "active", Paused = "paused" }
);

/// `POST /api/v1/report-schedules` and `PATCH …/{id}` as they arrive: on a PATCH every
/// field is optional and replaces the stored one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    pub name: Option<String>,
    pub report: Option<String>,
    pub range: Option<String>,
    pub group_by: Option<String>,
    pub metrics: Option<String>,
    pub filters: Option<BTreeMap<String, String>>,
    pub timezone: Option<String>,
    pub cadence: Option<String>,
    pub weekday: Option<String>,
    pub day_of_month: Option<u32>,
    pub hour: Option<u32>,
    pub format: Option<String>,
    pub recipients: Option<Vec<RecipientInput>>,
    pub status: Option<String>,
}

/// A schedule's definition as stored (no credentials: recipients are sealed apart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    pub name: String,
    pub report: ReportKind,
    pub range: String,
    pub group_by: Option<String>,
    pub metrics: Option<String>,
    pub filters: BTreeMap<String, String>,
    pub timezone: String,
    pub cadence: String,
    pub weekday: Option<String>,
    pub day_of_month: Option<u32>,
    pub hour: u32,
    pub format: String,
    pub status: ScheduleStatus,
}

fn missing(field: &'static str) -> Invalid {
    Invalid::new(field, "missing_field", format!("{field} is required"))
}

/// The filter names a schedule's report takes (those of the report endpoints).
fn filter_names(report: ReportKind) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Dimension::ALL
        .iter()
        .filter_map(|d| d.filter_parameter())
        .collect();
    if report == ReportKind::Partners {
        names.push("stage");
    }
    names
}

impl ScheduleSpec {
    /// A new schedule's definition from a POST body.
    pub fn create(body: &ScheduleBody) -> Result<Self, Invalid> {
        let spec = Self {
            name: body.name.clone().ok_or_else(|| missing("name"))?,
            report: ReportKind::parse(body.report.as_deref().unwrap_or("kpis"))?,
            range: body.range.clone().ok_or_else(|| missing("range"))?,
            group_by: body.group_by.clone(),
            metrics: body.metrics.clone(),
            filters: body.filters.clone().unwrap_or_default(),
            timezone: body.timezone.clone().unwrap_or_else(|| "UTC".to_owned()),
            cadence: body.cadence.clone().ok_or_else(|| missing("cadence"))?,
            weekday: body.weekday.clone(),
            day_of_month: body.day_of_month,
            hour: body.hour.ok_or_else(|| missing("hour"))?,
            format: body.format.clone().unwrap_or_else(|| "csv".to_owned()),
            status: ScheduleStatus::parse(body.status.as_deref().unwrap_or("active"))?,
        };
        spec.validated()
    }

    /// This definition with a PATCH body's fields replacing its own. Changing the cadence
    /// kind drops a weekday or day of month that no longer applies.
    pub fn update(&self, body: &ScheduleBody) -> Result<Self, Invalid> {
        let cadence = body.cadence.clone().unwrap_or_else(|| self.cadence.clone());
        let cadence_changed = cadence != self.cadence;
        let keep = |old: &Option<String>| if cadence_changed { None } else { old.clone() };
        let spec = Self {
            name: body.name.clone().unwrap_or_else(|| self.name.clone()),
            report: match &body.report {
                Some(raw) => ReportKind::parse(raw)?,
                None => self.report,
            },
            range: body.range.clone().unwrap_or_else(|| self.range.clone()),
            group_by: body.group_by.clone().or_else(|| self.group_by.clone()),
            metrics: body.metrics.clone().or_else(|| self.metrics.clone()),
            filters: body.filters.clone().unwrap_or_else(|| self.filters.clone()),
            timezone: body
                .timezone
                .clone()
                .unwrap_or_else(|| self.timezone.clone()),
            weekday: body.weekday.clone().or_else(|| keep(&self.weekday)),
            day_of_month: body.day_of_month.or(if cadence_changed {
                None
            } else {
                self.day_of_month
            }),
            cadence,
            hour: body.hour.unwrap_or(self.hour),
            format: body.format.clone().unwrap_or_else(|| self.format.clone()),
            status: match &body.status {
                Some(raw) => ScheduleStatus::parse(raw)?,
                None => self.status,
            },
        };
        spec.validated()
    }

    fn validated(mut self) -> Result<Self, Invalid> {
        self.name = text::name("name", &self.name, MAX_NAME)?;
        self.range()?;
        self.cadence_value()?;
        if self.hour > 23 {
            return Err(Invalid::new(
                "hour",
                "out_of_range",
                "hour is the local hour 0 to 23",
            ));
        }
        let format = self.file_format()?;
        if format == Format::Json && self.format != "json" {
            // `Format::parse` reads a missing value as JSON; a schedule names it.
            return Err(Invalid::new(
                "format",
                "invalid_value",
                "format must be one of: csv, xlsx, json",
            ));
        }
        let allowed = filter_names(self.report);
        if let Some(unknown) = self.filters.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Invalid::new(
                "filters",
                "invalid_value",
                format!(
                    "'{unknown}' is not a filter of this report; use {}",
                    allowed.join(", ")
                ),
            ));
        }
        if self.report == ReportKind::Partners {
            if self.group_by.as_deref().is_some_and(|g| g != "partner") {
                return Err(Invalid::new(
                    "group_by",
                    "invalid_value",
                    "rows of the partners report are partners; group_by is 'partner' or absent",
                ));
            }
            if let Some(stage) = self.filters.get("stage") {
                Stage::parse(stage).map_err(|e| Invalid::new("filters", e.code, e.message))?;
            }
        }
        // The report itself must parse as the report endpoints would parse it, over a
        // real range of this kind, in this time zone.
        let today = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default();
        let query = self.query(today)?;
        offset_spans(query.timezone, query.from, query.to)?;
        Ok(self)
    }

    pub fn range(&self) -> Result<RelativeRange, Invalid> {
        RelativeRange::parse(&self.range)
    }

    pub fn cadence_value(&self) -> Result<Cadence, Invalid> {
        Cadence::parse(&self.cadence, self.weekday.as_deref(), self.day_of_month)
    }

    pub fn tz(&self) -> Result<Tz, Invalid> {
        self.timezone.parse().map_err(|_| {
            Invalid::new(
                "timezone",
                "invalid_value",
                format!("'{}' is not an IANA time zone name", self.timezone),
            )
        })
    }

    pub fn file_format(&self) -> Result<Format, Invalid> {
        Format::parse(Some(&self.format)).map_err(|_| {
            Invalid::new(
                "format",
                "invalid_value",
                "format must be one of: csv, xlsx, json",
            )
        })
    }

    /// The report's parameters for a run on local day `run_day`, as the report endpoints
    /// read them (`from`, `to`, `timezone`, `group_by`, `metrics`, the filters).
    pub fn parameters(&self, run_day: NaiveDate) -> Result<BTreeMap<String, String>, Invalid> {
        let (from, to) = self.range()?.of(run_day);
        let mut params = self.filters.clone();
        params.insert("from".to_owned(), from.to_string());
        params.insert("to".to_owned(), to.to_string());
        params.insert("timezone".to_owned(), self.timezone.clone());
        if let Some(group_by) = &self.group_by {
            params.insert("group_by".to_owned(), group_by.clone());
        }
        if let Some(metrics) = &self.metrics {
            params.insert("metrics".to_owned(), metrics.clone());
        }
        Ok(params)
    }

    /// The report query of a run on `run_day` (without the partners report's stage).
    pub fn query(&self, run_day: NaiveDate) -> Result<ReportQuery, Invalid> {
        self.tz()?;
        let params = self.parameters(run_day)?;
        let group_by_ok = self.report == ReportKind::Kpis;
        ReportQuery::parse(|name| {
            if name == "group_by" && !group_by_ok {
                return None;
            }
            params.get(name).cloned()
        })
        .map(|mut q| {
            if self.report == ReportKind::Partners {
                q.group_by = vec![Dimension::Partner];
            }
            q
        })
    }

    /// The partners report's stage filter.
    pub fn stage(&self) -> Result<Option<Stage>, Invalid> {
        self.filters
            .get("stage")
            .map(|s| Stage::parse(s))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> ScheduleBody {
        serde_json::from_str(json).unwrap()
    }

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn a_weekly_report_becomes_the_query_of_last_week() {
        let spec = ScheduleSpec::create(&body(
            r#"{"name": " Weekly partners ", "range": "last_week", "cadence": "weekly",
                "weekday": "monday", "hour": 7, "timezone": "Europe/Berlin",
                "group_by": "partner", "metrics": "sales,revenue", "format": "xlsx",
                "filters": {"program_id": "prg_1"}}"#,
        ))
        .unwrap();
        assert_eq!(spec.name, "Weekly partners");
        assert_eq!(spec.status, ScheduleStatus::Active);
        let q = spec.query(day("2026-12-07")).unwrap();
        assert_eq!((q.from, q.to), (day("2026-11-30"), day("2026-12-07")));
        assert_eq!(q.group_by, vec![Dimension::Partner]);
        assert_eq!(q.filter(Dimension::Program), Some("prg_1"));
        assert_eq!(q.timezone.name(), "Europe/Berlin");
        assert_eq!(spec.file_format().unwrap(), Format::Xlsx);
    }

    #[test]
    fn defaults_are_a_kpi_csv_in_utc() {
        let spec = ScheduleSpec::create(&body(
            r#"{"name": "Daily", "range": "yesterday", "cadence": "daily", "hour": 6}"#,
        ))
        .unwrap();
        assert_eq!(
            (spec.report, spec.format.as_str(), spec.timezone.as_str()),
            (ReportKind::Kpis, "csv", "UTC")
        );
        let params = spec.parameters(day("2026-12-03")).unwrap();
        assert_eq!(params["from"], "2026-12-02");
        assert_eq!(params["to"], "2026-12-03");
    }

    #[test]
    fn every_bad_field_is_named() {
        let field = |json: &str| ScheduleSpec::create(&body(json)).unwrap_err().field;
        let base = r#""name": "x", "range": "yesterday", "cadence": "daily", "hour": 6"#;
        assert_eq!(
            field(r#"{"range": "yesterday", "cadence": "daily", "hour": 6}"#),
            "name"
        );
        assert_eq!(field(&format!("{{{base}, \"format\": \"pdf\"}}")), "format");
        assert_eq!(field(&format!("{{{base}, \"format\": \"\"}}")), "format");
        assert_eq!(
            field(&format!("{{{base}, \"timezone\": \"Mars/Base\"}}")),
            "timezone"
        );
        assert_eq!(
            field(&format!("{{{base}, \"timezone\": \"Asia/Kolkata\"}}")),
            "timezone"
        );
        assert_eq!(
            field(&format!("{{{base}, \"metrics\": \"sales,nope\"}}")),
            "metrics"
        );
        assert_eq!(
            field(&format!("{{{base}, \"group_by\": \"planet\"}}")),
            "group_by"
        );
        assert_eq!(
            field(&format!("{{{base}, \"filters\": {{\"planet\": \"x\"}}}}")),
            "filters"
        );
        assert_eq!(
            field(&format!(
                "{{{base}, \"report\": \"partners\", \"group_by\": \"day\"}}"
            )),
            "group_by"
        );
        assert_eq!(
            field(&format!(
                "{{{base}, \"report\": \"partners\", \"filters\": {{\"stage\": \"x\"}}}}"
            )),
            "filters"
        );
        assert_eq!(
            field(&format!("{{{base}, \"status\": \"gone\"}}")),
            "status"
        );
        assert_eq!(
            field(r#"{"name": "x", "range": "someday", "cadence": "daily", "hour": 6}"#),
            "range"
        );
        assert_eq!(
            field(r#"{"name": "x", "range": "yesterday", "cadence": "daily", "hour": 24}"#),
            "hour"
        );
        assert_eq!(
            field(r#"{"name": "x", "range": "yesterday", "cadence": "weekly", "hour": 6}"#),
            "weekday"
        );
        assert_eq!(
            field(
                r#"{"name": "x", "range": "yesterday", "cadence": "daily", "day_of_month": 3, "hour": 6}"#
            ),
            "day_of_month"
        );
    }

    #[test]
    fn a_patch_replaces_what_it_names_and_drops_what_no_longer_applies() {
        let spec = ScheduleSpec::create(&body(
            r#"{"name": "W", "range": "last_week", "cadence": "weekly", "weekday": "friday", "hour": 8}"#,
        ))
        .unwrap();
        let monthly = spec
            .update(&body(
                r#"{"cadence": "monthly", "day_of_month": 31, "range": "last_month"}"#,
            ))
            .unwrap();
        assert_eq!(
            (monthly.weekday.as_deref(), monthly.day_of_month),
            (None, Some(31))
        );
        assert_eq!(monthly.hour, 8);
        let paused = spec.update(&body(r#"{"status": "paused"}"#)).unwrap();
        assert_eq!(paused.status, ScheduleStatus::Paused);
        assert_eq!(paused.weekday.as_deref(), Some("friday"));
        assert_eq!(
            spec.update(&body(r#"{"hour": 30}"#)).unwrap_err().field,
            "hour"
        );
    }
}
