//! The parameters of `/api/v1/reports/kpis`, parsed, and the time arithmetic behind them:
//! a report's local days as whole UTC hours (rollups are hourly), for any IANA time zone
//! whose offsets in the range are whole hours, across DST changes.

use chrono::{Datelike, Duration, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

use super::kpi::parse_metrics;
use super::Invalid;

pub const MAX_DAYS: i64 = 366;
pub const DEFAULT_LIMIT: usize = 1000;
pub const MAX_LIMIT: usize = 10_000;
const HOUR_MS: i64 = 3_600_000;

/// What a report can be grouped by, in the order columns appear.
pub const GROUPS: &[&str] = &[
    "day", "week", "month", "program", "partner", "link", "country", "device", "source", "segment",
    "model",
];

/// Filters a report accepts.
pub const FILTERS: &[&str] = &[
    "program_id",
    "partner_id",
    "link_id",
    "country",
    "device",
    "segment",
    "model",
];

#[derive(Debug, Clone, PartialEq)]
pub struct ReportQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: Vec<&'static str>,
    pub metrics: Vec<&'static str>,
    pub filters: Vec<(&'static str, String)>,
    pub timezone: Tz,
    pub csv: bool,
    pub limit: usize,
    pub offset: usize,
}

fn bad(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid::new(field, "invalid_parameter", message)
}

fn date(field: &'static str, raw: Option<&str>) -> Result<NaiveDate, Invalid> {
    let raw = raw.ok_or_else(|| bad(field, format!("{field} is required (YYYY-MM-DD)")))?;
    super::time::parse_date(raw).ok_or_else(|| {
        bad(
            field,
            format!("{field} must be a date YYYY-MM-DD, got '{raw}'"),
        )
    })
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
        let group_by = match param("group_by").filter(|g| !g.trim().is_empty()) {
            None => vec!["day"],
            Some(raw) => {
                let mut chosen: Vec<&'static str> = Vec::new();
                for name in raw.split(',').map(str::trim) {
                    let known = GROUPS.iter().find(|g| **g == name).ok_or_else(|| {
                        bad(
                            "group_by",
                            format!("cannot group by '{name}'; use {}", GROUPS.join(", ")),
                        )
                    })?;
                    if !chosen.contains(known) {
                        chosen.push(known);
                    }
                }
                // Columns come in one fixed order whatever order they were asked in.
                GROUPS
                    .iter()
                    .copied()
                    .filter(|g| chosen.contains(g))
                    .collect()
            }
        };
        let metrics =
            parse_metrics(param("metrics").as_deref()).map_err(|e| bad("metrics", e.message))?;
        let filters = FILTERS
            .iter()
            .filter_map(|name| param(name).map(|value| (*name, value)))
            .collect();
        let tz_name = param("timezone").unwrap_or_else(|| "UTC".to_owned());
        let timezone: Tz = tz_name.parse().map_err(|_| {
            bad(
                "timezone",
                format!("'{tz_name}' is not an IANA time zone name"),
            )
        })?;
        let csv = match param("format").as_deref() {
            None | Some("json") => false,
            Some("csv") => true,
            Some(other) => {
                return Err(bad(
                    "format",
                    format!("format is json or csv, not '{other}'"),
                ))
            }
        };
        let limit = match param("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        format!("limit is a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let offset = match param("cursor") {
            None => 0,
            Some(raw) => raw
                .strip_prefix("o")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| bad("cursor", "cursor is not one this API returned"))?,
        };
        Ok(Self {
            from,
            to,
            group_by,
            metrics,
            filters,
            timezone,
            csv,
            limit,
            offset,
        })
    }

    pub fn groups(&self, name: &str) -> bool {
        self.group_by.contains(&name)
    }
}

/// The UTC instant (ms) of local midnight starting `day` in `tz` (the first instant of
/// the day where a DST change skips midnight).
pub fn local_midnight(tz: Tz, day: NaiveDate) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..3)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map_or(0, |t| t.timestamp_millis())
}

/// A stretch of UTC hours `[from_hour, to_hour)` with one UTC offset (in whole hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetSpan {
    pub from_hour: i64,
    pub to_hour: i64,
    pub offset_hours: i64,
}

/// The UTC hour range of `[from, to)` in `tz`, split where the offset changes. Refused
/// when an offset is not a whole number of hours: hourly rollups cannot be exact there.
pub fn offset_spans(tz: Tz, from: NaiveDate, to: NaiveDate) -> Result<Vec<OffsetSpan>, Invalid> {
    let start = local_midnight(tz, from);
    let end = local_midnight(tz, to);
    let offset_at = |hour: i64| -> Result<i64, Invalid> {
        let seconds = tz
            .timestamp_millis_opt(hour * HOUR_MS)
            .single()
            .map_or(0, |t| i64::from(t.offset().fix().local_minus_utc()));
        if seconds % 3600 != 0 {
            return Err(Invalid::new(
                "timezone",
                "unsupported_timezone",
                format!("{} is {}:{:02} from UTC; reports support time zones whose offsets are whole hours", tz.name(), seconds / 3600, (seconds % 3600).abs() / 60),
            ));
        }
        Ok(seconds / 3600)
    };
    let (first, last) = (start / HOUR_MS, end / HOUR_MS);
    let mut spans: Vec<OffsetSpan> = Vec::new();
    for hour in first..last {
        let offset = offset_at(hour)?;
        match spans.last_mut() {
            Some(span) if span.offset_hours == offset => span.to_hour = hour + 1,
            _ => spans.push(OffsetSpan {
                from_hour: hour,
                to_hour: hour + 1,
                offset_hours: offset,
            }),
        }
    }
    Ok(spans)
}

/// The median of `ms` in hours (the mean of the middle two for an even count), exact.
pub fn median_hours(ms: &mut [i64]) -> Option<rust_decimal::Decimal> {
    use rust_decimal::Decimal;
    if ms.is_empty() {
        return None;
    }
    ms.sort_unstable();
    let mid = ms.len() / 2;
    let twice = if ms.len() % 2 == 1 {
        2 * i128::from(ms[mid])
    } else {
        i128::from(ms[mid - 1]) + i128::from(ms[mid])
    };
    Some(Decimal::from_i128_with_scale(twice, 0) / Decimal::from(2 * HOUR_MS))
}

/// The day of local day index `n` (days since 1970-01-01).
pub fn day_of_index(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + Duration::days(n)
}

/// The Monday of the ISO week of `day`.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// `YYYY-MM` of `day`.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
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
    use super::*;

    use super::parse_query as query;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_and_fixed_column_order() {
        let q = query("from=2026-11-01&to=2026-11-08").unwrap();
        assert_eq!(q.group_by, vec!["day"]);
        assert_eq!(q.timezone, chrono_tz::UTC);
        assert_eq!(q.limit, 1000);
        assert!(!q.csv);
        let q =
            query("from=2026-11-01&to=2026-11-08&group_by=partner,day&program_id=prg_1").unwrap();
        assert_eq!(q.group_by, vec!["day", "partner"]);
        assert_eq!(q.filters, vec![("program_id", "prg_1".to_owned())]);
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
            ("from=2026-11-01&to=2026-11-08&format=xml", "format"),
            ("from=2026-11-01&to=2026-11-08&limit=0", "limit"),
            ("from=2026-11-01&to=2026-11-08&limit=10001", "limit"),
            ("from=2026-11-01&to=2026-11-08&cursor=zz", "cursor"),
        ] {
            assert_eq!(query(q).unwrap_err().field, field, "{q}");
        }
        assert!(query("from=2025-01-01&to=2026-01-02").is_ok(), "366 days");
    }

    #[test]
    fn new_york_dst_days_have_23_and_25_hours() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let spring = offset_spans(ny, d("2026-03-08"), d("2026-03-09")).unwrap();
        assert_eq!(
            spring.iter().map(|s| s.to_hour - s.from_hour).sum::<i64>(),
            23
        );
        assert_eq!(
            spring.iter().map(|s| s.offset_hours).collect::<Vec<_>>(),
            vec![-5, -4]
        );
        let autumn = offset_spans(ny, d("2026-11-01"), d("2026-11-02")).unwrap();
        assert_eq!(
            autumn.iter().map(|s| s.to_hour - s.from_hour).sum::<i64>(),
            25
        );
        // Every hour of the day maps to local day 2026-11-01.
        for span in autumn {
            for hour in span.from_hour..span.to_hour {
                assert_eq!(
                    day_of_index((hour + span.offset_hours).div_euclid(24)),
                    d("2026-11-01")
                );
            }
        }
    }

    #[test]
    fn half_hour_zones_are_refused() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(
            offset_spans(kolkata, d("2026-11-01"), d("2026-11-02"))
                .unwrap_err()
                .code,
            "unsupported_timezone"
        );
    }

    #[test]
    fn weeks_start_on_monday_and_months_are_year_month() {
        assert_eq!(week_of(d("2026-11-22")), d("2026-11-16"));
        assert_eq!(week_of(d("2026-11-16")), d("2026-11-16"));
        assert_eq!(month_of(d("2026-11-22")), "2026-11");
        assert_eq!(day_of_index(0), d("1970-01-01"));
    }
}

/// The non-time dimensions of a fact, with the names shown beside ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(default)]
pub struct Dims {
    pub program_id: Option<String>,
    pub program_name: Option<String>,
    pub partner_id: Option<String>,
    pub partner_name: Option<String>,
    pub link_id: Option<String>,
    pub link_code: Option<String>,
    pub country: Option<String>,
    pub device: Option<String>,
    pub source: Option<String>,
    pub segment: Option<String>,
    pub model: Option<String>,
}

/// Base measures of one local day and dimension combination.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub day: NaiveDate,
    pub dims: Dims,
    pub bases: super::kpi::Bases,
    /// For partner-network KPIs: the fact's partner, when approved, and whether it was
    /// active (a non-bot click or a counted conversion) and selling (a counted sale).
    pub activity: Option<Activity>,
    /// For `response_time_hours_median`: a lead's milliseconds to its first response.
    pub response_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub partner_id: String,
    pub active: bool,
    pub selling: bool,
}

/// One report row: its group columns and its summed bases.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub groups: Vec<(&'static str, Option<String>)>,
    pub bases: super::kpi::Bases,
}

impl ReportQuery {
    /// The columns of every row, in order: group columns (names beside ids), then metrics.
    pub fn columns(&self) -> Vec<&'static str> {
        let mut columns = Vec::new();
        for group in &self.group_by {
            match *group {
                "program" => columns.extend(["program_id", "program_name"]),
                "partner" => columns.extend(["partner_id", "partner_name"]),
                "link" => columns.extend(["link_id", "link_code"]),
                other => columns.push(other),
            }
        }
        columns.extend(self.metrics.iter().copied());
        columns
    }

    pub(crate) fn group_values(
        &self,
        day: NaiveDate,
        dims: &Dims,
    ) -> Vec<(&'static str, Option<String>)> {
        let mut values = Vec::new();
        for group in &self.group_by {
            match *group {
                "day" => values.push(("day", Some(day.to_string()))),
                "week" => values.push(("week", Some(week_of(day).to_string()))),
                "month" => values.push(("month", Some(month_of(day)))),
                "program" => values.extend([
                    ("program_id", dims.program_id.clone()),
                    ("program_name", dims.program_name.clone()),
                ]),
                "partner" => values.extend([
                    ("partner_id", dims.partner_id.clone()),
                    ("partner_name", dims.partner_name.clone()),
                ]),
                "link" => values.extend([
                    ("link_id", dims.link_id.clone()),
                    ("link_code", dims.link_code.clone()),
                ]),
                "country" => {
                    values.push(("country", dims.country.clone().filter(|c| !c.is_empty())))
                }
                "device" => values.push(("device", dims.device.clone())),
                "source" => values.push(("source", dims.source.clone())),
                "segment" => values.push(("segment", dims.segment.clone())),
                "model" => values.push(("model", dims.model.clone())),
                _ => {}
            }
        }
        values
    }

    /// Whether the rows are a time series only (then every period of the range gets a row,
    /// events or not).
    pub fn time_only(&self) -> bool {
        self.group_by
            .iter()
            .all(|g| matches!(*g, "day" | "week" | "month"))
    }

    /// Whether rows are programs (and periods) only: then every program the filters allow
    /// gets its rows, events or not, so a quiet program still shows its zeros and its
    /// partner-network KPIs.
    pub fn program_rows(&self) -> bool {
        self.groups("program")
            && self
                .group_by
                .iter()
                .all(|g| matches!(*g, "day" | "week" | "month" | "program"))
            && self
                .filters
                .iter()
                .all(|(name, _)| matches!(*name, "program_id" | "model"))
    }

    /// Whether rows are partners only (one per partner over the range): then every
    /// partner the filters allow gets its row, so a quiet partner still shows its zeros
    /// and its network KPIs. (Split by period too, quiet partners stay out: a year of
    /// daily zero rows for every dormant partner would bury the active ones.)
    pub fn partner_rows(&self) -> bool {
        self.group_by == ["partner"]
    }

    /// Zero facts that give each of `entities` (programs or partners) a row in every
    /// period of the range.
    pub fn zero_facts(&self, entities: Vec<Dims>) -> Vec<Fact> {
        let timed = self
            .group_by
            .iter()
            .any(|g| matches!(*g, "day" | "week" | "month"));
        let days: Vec<NaiveDate> = if timed {
            self.from.iter_days().take_while(|d| *d < self.to).collect()
        } else {
            vec![self.from]
        };
        entities
            .into_iter()
            .flat_map(|dims| {
                days.iter().map(move |day| Fact {
                    day: *day,
                    dims: dims.clone(),
                    bases: Default::default(),
                    activity: None,
                    response_ms: None,
                })
            })
            .collect()
    }

    /// Sums facts into rows, sorted by their group values.
    pub fn aggregate(&self, facts: impl IntoIterator<Item = Fact>) -> Vec<Row> {
        use std::collections::BTreeMap;
        use std::collections::BTreeSet;
        /// What a row gathers beyond sums: its active and selling partners, response times.
        type Distinct = (BTreeSet<String>, BTreeSet<String>, Vec<i64>);
        let mut rows: BTreeMap<Vec<Option<String>>, (Row, Distinct)> = BTreeMap::new();
        let mut add = |groups: Vec<(&'static str, Option<String>)>,
                       bases: &super::kpi::Bases,
                       activity: Option<&Activity>,
                       response_ms: Option<i64>| {
            let key: Vec<Option<String>> = groups.iter().map(|(_, v)| v.clone()).collect();
            let (row, (active, selling, responses)) = rows.entry(key).or_insert_with(|| {
                (
                    Row {
                        groups,
                        bases: Default::default(),
                    },
                    Default::default(),
                )
            });
            row.bases.add(bases);
            responses.extend(response_ms);
            if let Some(activity) = activity {
                if activity.active {
                    active.insert(activity.partner_id.clone());
                }
                if activity.selling {
                    selling.insert(activity.partner_id.clone());
                }
            }
        };
        if self.time_only() {
            let mut day = self.from;
            while day < self.to {
                add(
                    self.group_values(day, &Dims::default()),
                    &Default::default(),
                    None,
                    None,
                );
                day += Duration::days(1);
            }
        }
        for fact in facts {
            add(
                self.group_values(fact.day, &fact.dims),
                &fact.bases,
                fact.activity.as_ref(),
                fact.response_ms,
            );
        }
        rows.into_values()
            .map(|(mut row, (active, selling, mut responses))| {
                row.bases.active_partners = active.len() as i64;
                row.bases.selling_partners = selling.len() as i64;
                row.bases.response_time_hours_median = median_hours(&mut responses);
                row
            })
            .collect()
    }
}

#[cfg(test)]
mod aggregate_tests {
    use super::*;
    use crate::domain::kpi::Bases;

    fn query(q: &str) -> ReportQuery {
        super::parse_query(q).unwrap()
    }

    fn fact(day: &str, partner: &str, clicks: i64) -> Fact {
        Fact {
            day: day.parse().unwrap(),
            dims: Dims {
                partner_id: Some(partner.into()),
                partner_name: Some(partner.to_uppercase()),
                ..Dims::default()
            },
            bases: Bases {
                clicks,
                ..Bases::default()
            },
            activity: Some(Activity {
                partner_id: partner.into(),
                active: clicks > 0,
                selling: false,
            }),
            response_ms: None,
        }
    }

    #[test]
    fn active_partners_are_distinct_over_a_rows_days() {
        let q = query("from=2026-11-01&to=2026-11-17&group_by=week&metrics=clicks,active_partners");
        let rows = q.aggregate([
            fact("2026-11-02", "a", 1),
            fact("2026-11-03", "a", 2),
            fact("2026-11-04", "b", 1),
            fact("2026-11-10", "a", 0),
        ]);
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.groups[0].1.clone().unwrap(), r.bases.active_partners))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-10-26".into(), 0),
                ("2026-11-02".into(), 2),
                ("2026-11-09".into(), 0),
                ("2026-11-16".into(), 0)
            ]
        );
    }

    #[test]
    fn program_rows_exist_for_quiet_programs_in_every_period() {
        let q = query("from=2026-11-01&to=2026-11-04&group_by=day,program");
        assert!(q.program_rows());
        let quiet = Dims {
            program_id: Some("prg_q".into()),
            program_name: Some("Quiet".into()),
            ..Dims::default()
        };
        let rows = q.aggregate(q.zero_facts(vec![quiet.clone()]));
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.bases == Bases::default()));
        let q = query("from=2026-11-01&to=2026-11-04&group_by=program");
        assert_eq!(q.aggregate(q.zero_facts(vec![quiet])).len(), 1);
        assert!(!query("from=2026-11-01&to=2026-11-04&group_by=program,partner").program_rows());
        assert!(!query("from=2026-11-01&to=2026-11-04&group_by=program&country=DE").program_rows());
    }

    #[test]
    fn a_day_series_has_every_day_even_without_events() {
        let q = query("from=2026-11-01&to=2026-11-04");
        let rows = q.aggregate([fact("2026-11-02", "a", 5), fact("2026-11-02", "b", 2)]);
        let days: Vec<_> = rows
            .iter()
            .map(|r| (r.groups[0].1.clone().unwrap(), r.bases.clicks))
            .collect();
        assert_eq!(
            days,
            vec![
                ("2026-11-01".into(), 0),
                ("2026-11-02".into(), 7),
                ("2026-11-03".into(), 0)
            ]
        );
    }

    #[test]
    fn weeks_and_partners_sum_their_days() {
        let q = query("from=2026-11-01&to=2026-11-17&group_by=week,partner");
        let rows = q.aggregate([
            fact("2026-11-01", "a", 1),
            fact("2026-11-02", "a", 2),
            fact("2026-11-08", "a", 4),
            fact("2026-11-09", "b", 8),
        ]);
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.groups[0].1.clone().unwrap(),
                    r.groups[1].1.clone().unwrap(),
                    r.bases.clicks,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-10-26".into(), "a".into(), 1),
                ("2026-11-02".into(), "a".into(), 6),
                ("2026-11-09".into(), "b".into(), 8),
            ]
        );
        assert_eq!(q.columns()[..3], ["week", "partner_id", "partner_name"]);
    }
}
