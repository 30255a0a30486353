//! Partner-network KPIs that are neither sums nor per-row distinct counts: the approved
//! partners at the end of each row's period (`partners_total`) and retention against the
//! period of equal length before it (`partner_retention`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Duration, NaiveDate};

use super::journey::StatusHistory;
use super::partner::PartnerStatus;
use super::report::{local_midnight, Fact, ReportQuery, Row};

/// What `partners_total` needs to know of a partner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerFacts {
    pub id: String,
    pub name: String,
    pub segment: String,
    pub history: StatusHistory,
    /// The programs it has links in, with their models, and its links.
    pub programs: Vec<(String, String)>,
    pub links: Vec<String>,
    /// From when the partner counts (ms): its creation, or its first activity when
    /// imported history is older. Before that it was nobody's partner.
    pub since: i64,
}

impl PartnerFacts {
    /// Whether the partner belongs to every `(column, value)` constraint that says
    /// something about partners (click dimensions say nothing: they are ignored).
    pub fn belongs(&self, constraints: &[(&str, &str)]) -> bool {
        constraints.iter().all(|(column, value)| match *column {
            "partner_id" => self.id == *value,
            "segment" => self.segment == *value,
            "program_id" => self.programs.iter().any(|(id, _)| id == value),
            "model" => self.programs.iter().any(|(_, model)| model == value),
            "link_id" => self.links.iter().any(|id| id == value),
            _ => true,
        })
    }
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn next_month(day: NaiveDate) -> NaiveDate {
    let first = first_of_month(day);
    let (year, month) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(first)
}

impl ReportQuery {
    /// The local days `[start, end)` a row covers: its day, week or month clipped to the
    /// report's range, or the whole range when rows are not split by time.
    pub fn period(&self, row: &Row) -> (NaiveDate, NaiveDate) {
        let value = |name: &str| {
            row.groups
                .iter()
                .find(|(column, _)| *column == name)
                .and_then(|(_, v)| v.as_deref())
        };
        let parsed = |s: &str| s.parse::<NaiveDate>().ok();
        let (start, end) = if let Some(day) = value("day").and_then(parsed) {
            (day, day + Duration::days(1))
        } else if let Some(monday) = value("week").and_then(parsed) {
            (monday, monday + Duration::days(7))
        } else if let Some(first) = value("month").and_then(|m| parsed(&format!("{m}-01"))) {
            (first, next_month(first))
        } else {
            (self.from, self.to)
        };
        (start.max(self.from), end.min(self.to))
    }

    /// The row's group values that are not time, as a key.
    fn place(groups: &[(&'static str, Option<String>)]) -> Vec<Option<String>> {
        groups
            .iter()
            .filter(|(column, _)| !matches!(*column, "day" | "week" | "month"))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Sets `partners_total` on every row: partners who existed and whose status at the
    /// last instant of the row's period is `approved`, and who belong to the row's groups
    /// and filters.
    pub fn count_partners_total(&self, rows: &mut [Row], partners: &[PartnerFacts]) {
        use std::collections::HashMap;
        let filters: Vec<(&str, &str)> = self
            .filters
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        // A row of one partner or one link has one candidate, not every partner.
        let by_id: HashMap<&str, &PartnerFacts> =
            partners.iter().map(|p| (p.id.as_str(), p)).collect();
        let by_link: HashMap<&str, &PartnerFacts> = partners
            .iter()
            .flat_map(|p| p.links.iter().map(move |l| (l.as_str(), p)))
            .collect();
        for row in rows.iter_mut() {
            let (_, end) = self.period(row);
            let last_instant = local_midnight(self.timezone, end) - 1;
            let mut constraints = filters.clone();
            constraints.extend(
                row.groups
                    .iter()
                    .filter_map(|(column, v)| Some((*column, v.as_deref()?))),
            );
            let named = |column: &str| {
                constraints
                    .iter()
                    .find(|(c, _)| *c == column)
                    .map(|(_, v)| *v)
            };
            let candidates: Vec<&PartnerFacts> = if let Some(id) = named("partner_id") {
                by_id.get(id).copied().into_iter().collect()
            } else if let Some(link) = named("link_id") {
                by_link.get(link).copied().into_iter().collect()
            } else {
                partners.iter().collect()
            };
            row.bases.partners_total = candidates
                .into_iter()
                .filter(|p| p.since <= last_instant)
                .filter(|p| p.history.at(last_instant) == Some(PartnerStatus::Approved))
                .filter(|p| p.belongs(&constraints))
                .count() as i64;
        }
    }

    /// Sets `partner_retention`'s counts on every row from `facts`, which must cover the
    /// range and the range's length before it: of the partners active in the period of
    /// equal length before the row's, how many are active in the row's own period.
    pub fn count_retention(&self, rows: &mut [Row], facts: &[Fact]) {
        // Row place → partner → the local days it was active.
        let mut active: HashMap<Vec<Option<String>>, BTreeMap<&str, BTreeSet<NaiveDate>>> =
            HashMap::new();
        for fact in facts {
            let Some(activity) = fact.activity.as_ref().filter(|a| a.active) else {
                continue;
            };
            let place = Self::place(&self.group_values(fact.day, &fact.dims));
            active
                .entry(place)
                .or_default()
                .entry(activity.partner_id.as_str())
                .or_default()
                .insert(fact.day);
        }
        for row in rows {
            let (start, end) = self.period(row);
            let before = start - (end - start);
            let (mut previous, mut retained) = (0, 0);
            for days in active
                .get(&Self::place(&row.groups))
                .into_iter()
                .flat_map(|p| p.values())
            {
                if days.range(before..start).next().is_some() {
                    previous += 1;
                    if days.range(start..end).next().is_some() {
                        retained += 1;
                    }
                }
            }
            row.bases.previously_active_partners = previous;
            row.bases.retained_partners = retained;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kpi::Bases;
    use crate::domain::report::{Activity, Dims};

    fn query(q: &str) -> ReportQuery {
        crate::domain::report::parse_query(q).unwrap()
    }

    fn active(day: &str, partner: &str) -> Fact {
        Fact {
            day: day.parse().unwrap(),
            dims: Dims {
                partner_id: Some(partner.into()),
                ..Dims::default()
            },
            bases: Bases {
                clicks: 1,
                ..Bases::default()
            },
            activity: Some(Activity {
                partner_id: partner.into(),
                active: true,
                selling: false,
            }),
            response_ms: None,
        }
    }

    #[test]
    fn periods_are_clipped_to_the_range() {
        let q = query("from=2026-11-04&to=2026-12-03&group_by=week");
        let rows = q.aggregate([]);
        assert_eq!(
            q.period(&rows[0]),
            ("2026-11-04".parse().unwrap(), "2026-11-09".parse().unwrap())
        );
        let q = query("from=2026-11-04&to=2026-12-03&group_by=month");
        let rows = q.aggregate([]);
        assert_eq!(
            q.period(&rows[1]),
            ("2026-12-01".parse().unwrap(), "2026-12-03".parse().unwrap())
        );
        let q = query("from=2026-11-04&to=2026-12-03&group_by=partner");
        let rows = q.aggregate([active("2026-11-05", "a")]);
        assert_eq!(q.period(&rows[0]), (q.from, q.to));
    }

    #[test]
    fn retention_compares_with_the_period_before() {
        // Days: a active on the 1st and 2nd, b on the 1st only, c on the 2nd only.
        let q = query("from=2026-11-02&to=2026-11-03&group_by=day&metrics=partner_retention");
        let facts = [
            active("2026-11-01", "a"),
            active("2026-11-01", "b"),
            active("2026-11-02", "a"),
            active("2026-11-02", "c"),
        ];
        let in_range: Vec<Fact> = facts.iter().filter(|f| f.day >= q.from).cloned().collect();
        let mut rows = q.aggregate(in_range);
        q.count_retention(&mut rows, &facts);
        assert_eq!(
            (
                rows[0].bases.previously_active_partners,
                rows[0].bases.retained_partners
            ),
            (2, 1)
        );
        assert_eq!(
            crate::domain::kpi::value("partner_retention", &rows[0].bases),
            0.5
        );
    }

    #[test]
    fn partners_total_counts_approved_partners_at_the_period_end() {
        let day = |d: &str| local_midnight(chrono_tz::UTC, d.parse().unwrap());
        let partner = |id: &str, segment: &str, history: Vec<(i64, PartnerStatus)>| PartnerFacts {
            id: id.into(),
            name: id.to_uppercase(),
            segment: segment.into(),
            history: StatusHistory(history),
            programs: vec![("prg_1".into(), "sales".into())],
            links: vec![],
            since: day("2026-10-01"),
        };
        let partners = [
            partner(
                "a",
                "blogger",
                vec![(day("2026-11-01"), PartnerStatus::Approved)],
            ),
            partner(
                "b",
                "agency",
                vec![
                    (day("2026-11-01"), PartnerStatus::Applied),
                    (day("2026-11-02") + 5, PartnerStatus::Approved),
                ],
            ),
            partner(
                "c",
                "blogger",
                vec![
                    (day("2026-10-01"), PartnerStatus::Approved),
                    (day("2026-11-03"), PartnerStatus::Suspended),
                ],
            ),
        ];
        let q = query("from=2026-11-01&to=2026-11-04&metrics=partners_total");
        let mut rows = q.aggregate([]);
        q.count_partners_total(&mut rows, &partners);
        let totals: Vec<i64> = rows.iter().map(|r| r.bases.partners_total).collect();
        assert_eq!(totals, vec![2, 3, 2]);
        let q = query("from=2026-11-01&to=2026-11-04&group_by=segment&metrics=partners_total");
        let mut rows = q.aggregate([]);
        rows.push(Row {
            groups: vec![("segment", Some("blogger".into()))],
            bases: Bases::default(),
        });
        q.count_partners_total(&mut rows, &partners);
        assert_eq!(rows[0].bases.partners_total, 1, "c is suspended by the end");
        // Before a partner existed it is not counted, whatever its first status.
        let mut late = partners[0].clone();
        late.since = day("2026-11-03");
        let q = query("from=2026-11-01&to=2026-11-04&metrics=partners_total");
        let mut rows = q.aggregate([]);
        q.count_partners_total(&mut rows, &[late]);
        let totals: Vec<i64> = rows.iter().map(|r| r.bases.partners_total).collect();
        assert_eq!(totals, vec![0, 0, 1]);
        let q = query("from=2026-11-01&to=2026-11-04&program_id=prg_2&metrics=partners_total");
        let mut rows = q.aggregate([]);
        q.count_partners_total(&mut rows, &partners);
        assert!(rows.iter().all(|r| r.bases.partners_total == 0));
    }
}
