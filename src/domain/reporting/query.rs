//! A report's definition, parsed from query parameters: the local days `[from, to)` in a
//! time zone, the dimensions rows are grouped by, the metrics, and the filters. How the
//! rows travel (format, paging) is not part of it.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::metric::parse_metrics;
use super::period::MAX_DAYS;
use super::{Dimension, Filter, Metric, Needs};
use crate::domain::Invalid;

#[derive(Debug, Clone, PartialEq)]
pub struct ReportQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// In `Dimension::ALL` order, whatever order they were asked in.
    pub group_by: Vec<Dimension>,
    pub metrics: Vec<Metric>,
    pub filters: Vec<Filter>,
    pub timezone: Tz,
}

fn bad(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid::new(field, "invalid_parameter", message)
}

fn date(field: &'static str, raw: Option<&str>) -> Result<NaiveDate, Invalid> {
    let raw = raw.ok_or_else(|| bad(field, format!("{field} is required (YYYY-MM-DD)")))?;
    crate::domain::time::parse_date(raw).ok_or_else(|| {
        bad(
            field,
            format!("{field} must be a date YYYY-MM-DD, got '{raw}'"),
        )
    })
}

fn group_by(raw: Option<String>) -> Result<Vec<Dimension>, Invalid> {
    let Some(raw) = raw.filter(|g| !g.trim().is_empty()) else {
        return Ok(vec![Dimension::Day]);
    };
    let mut chosen = Vec::new();
    for name in raw.split(',').map(str::trim) {
        let dimension = Dimension::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Dimension::ALL.iter().map(|d| d.name()).collect();
            bad(
                "group_by",
                format!("cannot group by '{name}'; use {}", known.join(", ")),
            )
        })?;
        chosen.push(dimension);
    }
    // Columns come in one fixed order whatever order they were asked in.
    chosen.sort();
    chosen.dedup();
    Ok(chosen)
}

impl ReportQuery {
    /// Parses the query parameters; every error names the parameter.
    pub fn parse(param: impl Fn(&str) -> Option<String>) -> Result<Self, Invalid> {
        let from = date("from", param("from").as_deref())?;
        let to = date("to", param("to").as_deref())?;
        let days = (to - from).num_days();
        if days < 1 {
            return Err(bad("to", "to must be after from (the range is [from, to))"));
        }
        if days > MAX_DAYS {
            return Err(bad(
                "to",
                format!("a report covers at most {MAX_DAYS} days"),
            ));
        }
        let metrics =
            parse_metrics(param("metrics").as_deref()).map_err(|e| bad("metrics", e.message))?;
        let tz_name = param("timezone").unwrap_or_else(|| "UTC".to_owned());
        let timezone: Tz = tz_name.parse().map_err(|_| {
            bad(
                "timezone",
                format!("'{tz_name}' is not an IANA time zone name"),
            )
        })?;
        Ok(Self {
            from,
            to,
            group_by: group_by(param("group_by"))?,
            metrics,
            filters: Filter::from_parameters(&param),
            timezone,
        })
    }

    pub fn groups(&self, dimension: Dimension) -> bool {
        self.group_by.contains(&dimension)
    }

    /// The value a filter asks `dimension` to have.
    pub fn filter(&self, dimension: Dimension) -> Option<&str> {
        self.filters
            .iter()
            .find(|f| f.dimension == dimension)
            .map(|f| f.value.as_str())
    }

    pub fn needs(&self) -> Needs {
        Needs::of(&self.metrics)
    }

    /// The group columns of every row, in order (names beside ids).
    pub fn group_columns(&self) -> Vec<&'static str> {
        self.group_by
            .iter()
            .flat_map(|d| d.columns().iter().copied())
            .collect()
    }

    /// The columns of every row, in order: group columns, then metrics.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut columns = self.group_columns();
        columns.extend(self.metrics.iter().map(|m| m.name()));
        columns
    }

    /// Whether rows are a time series only (then every period of the range gets a row,
    /// events or not).
    pub fn time_only(&self) -> bool {
        self.group_by.iter().all(|d| d.is_period())
    }

    /// Whether rows are split by a period at all.
    pub fn timed(&self) -> bool {
        self.group_by.iter().any(|d| d.is_period())
    }

    /// Whether program costs belong in these rows: only when rows are programs and
    /// periods, never split by or filtered on a partner, link or click dimension.
    pub fn costs_apply(&self) -> bool {
        self.group_by.iter().all(|d| d.keeps_costs())
            && self.filters.iter().all(|f| f.dimension.keeps_costs())
    }

    /// Whether rows are programs (and periods) only: then every program the filters allow
    /// gets its rows, events or not, so a quiet program still shows its zeros and its
    /// partner-network KPIs.
    pub fn program_rows(&self) -> bool {
        use Dimension::*;
        self.groups(Program)
            && self.group_by.iter().all(|d| d.is_period() || *d == Program)
            && self
                .filters
                .iter()
                .all(|f| matches!(f.dimension, Program | Model))
    }

    /// Whether rows are partners only (one per partner over the range): then every
    /// partner the filters allow gets its row, so a quiet partner still shows its zeros
    /// and its network KPIs. (Split by period too, quiet partners stay out: a year of
    /// daily zero rows for every dormant partner would bury the active ones.)
    pub fn partner_rows(&self) -> bool {
        self.group_by == [Dimension::Partner]
    }

    /// A key that tells this report from any other (for snapshots).
    pub fn key(&self) -> String {
        let names = |items: Vec<&str>| items.join(",");
        let filters: Vec<String> = self
            .filters
            .iter()
            .map(|f| format!("{}={}", f.dimension.name(), f.value))
            .collect();
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.from,
            self.to,
            names(self.group_by.iter().map(|d| d.name()).collect()),
            names(self.metrics.iter().map(|m| m.name()).collect()),
            filters.join("&"),
            self.timezone.name()
        )
    }
}

/// Parses a report query string (tests of report maths).
#[cfg(test)]
pub(crate) fn parse_query(q: &str) -> Result<ReportQuery, Invalid> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect();
    ReportQuery::parse(|name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::parse_query as query;
    use super::*;

    #[test]
    fn defaults_and_fixed_column_order() {
        let q = query("from=2026-11-01&to=2026-11-08").unwrap();
        assert_eq!(q.group_by, vec![Dimension::Day]);
        assert_eq!(q.timezone, chrono_tz::UTC);
        assert_eq!(q.metrics, Metric::defaults());
        let q =
            query("from=2026-11-01&to=2026-11-08&group_by=partner,day,partner&program_id=prg_1")
                .unwrap();
        assert_eq!(q.group_by, vec![Dimension::Day, Dimension::Partner]);
        assert_eq!(q.filter(Dimension::Program), Some("prg_1"));
        assert_eq!(q.group_columns(), ["day", "partner_id", "partner_name"]);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        for (q, field) in [
            ("to=2026-11-08", "from"),
            ("from=2026-11-01", "to"),
            ("from=2026-11-01&to=2026-11-01", "to"),
            ("from=2026-01-01&to=2027-01-03", "to"),
            ("from=2026-11-31&to=2026-12-08", "from"),
            ("from=2026-11-01&to=2026-11-08&group_by=hour", "group_by"),
            ("from=2026-11-01&to=2026-11-08&metrics=hits", "metrics"),
            (
                "from=2026-11-01&to=2026-11-08&timezone=Mars/Olympus",
                "timezone",
            ),
        ] {
            assert_eq!(query(q).unwrap_err().field, field, "{q}");
        }
        assert!(query("from=2025-01-01&to=2026-01-02").is_ok(), "366 days");
    }

    #[test]
    fn costs_apply_to_program_and_period_rows_only() {
        let applies = |q: &str| query(q).unwrap().costs_apply();
        assert!(applies(
            "from=2026-11-01&to=2026-11-08&group_by=day,program,model"
        ));
        assert!(applies(
            "from=2026-11-01&to=2026-11-08&program_id=p&model=sales"
        ));
        assert!(!applies(
            "from=2026-11-01&to=2026-11-08&group_by=day,partner"
        ));
        assert!(!applies("from=2026-11-01&to=2026-11-08&country=DE"));
    }

    #[test]
    fn keys_differ_when_anything_but_paging_differs() {
        let key = |q: &str| query(q).unwrap().key();
        let base = key("from=2026-11-01&to=2026-11-08");
        assert_eq!(base, key("from=2026-11-01&to=2026-11-08&group_by=day"));
        for other in [
            "from=2026-11-01&to=2026-11-09",
            "from=2026-11-01&to=2026-11-08&program_id=x",
            "from=2026-11-01&to=2026-11-08&metrics=clicks",
            "from=2026-11-01&to=2026-11-08&timezone=Europe/Berlin",
        ] {
            assert_ne!(base, key(other), "{other}");
        }
    }
}
