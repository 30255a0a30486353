//! Partner-network KPIs that are neither sums nor per-row distinct counts: the approved
//! partners at the end of each row's period (`partners_total`) and retention against the
//! period of equal length before it (`partner_retention`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration, NaiveDate};

use super::period::{local_midnight, next_month};
use super::{Cell, Dimension, Dims, Fact, Filter, ReportQuery, Row};
use crate::domain::partners::journey::StatusHistory;
use crate::domain::partners::PartnerStatus;

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
    /// Whether the partner is the member `value` of `dimension`, or belongs to it (click
    /// dimensions say nothing about partners: every partner belongs).
    pub fn is_in(&self, dimension: Dimension, value: &str) -> bool {
        use Dimension::*;
        match dimension {
            Partner => self.id == value,
            Segment => self.segment == value,
            Program => self.programs.iter().any(|(id, _)| id == value),
            Model => self.programs.iter().any(|(_, model)| model == value),
            Link => self.links.iter().any(|id| id == value),
            Day | Week | Month | Country | Device | Source | Attribution | Variant | Material => {
                true
            }
        }
    }

    /// Whether the partner belongs to every filter.
    pub fn belongs(&self, filters: &[Filter]) -> bool {
        filters.iter().all(|f| self.is_in(f.dimension, &f.value))
    }

    /// The partner as a row's dimensions.
    pub fn dims(&self) -> Dims {
        Dims {
            partner_id: Some(self.id.clone()),
            partner_name: Some(self.name.clone()),
            ..Dims::default()
        }
    }
}

impl ReportQuery {
    /// The local days `[start, end)` a row covers: its day, week or month clipped to the
    /// report's range, or the whole range when rows are not split by time.
    pub fn period(&self, row: &Row) -> (NaiveDate, NaiveDate) {
        // Group dimensions come in `Dimension::ALL` order: the first period is the finest.
        let period = self
            .dimension_cells(row)
            .into_iter()
            .find_map(|(d, cells)| match (d, cells.first()) {
                (Dimension::Day, Some(Cell::Date(day))) => Some((*day, *day + Duration::days(1))),
                (Dimension::Week, Some(Cell::Date(monday))) => {
                    Some((*monday, *monday + Duration::days(7)))
                }
                (Dimension::Month, Some(Cell::Month(first))) => Some((*first, next_month(*first))),
                _ => None,
            });
        let (start, end) = period.unwrap_or((self.from, self.to));
        (start.max(self.from), end.min(self.to))
    }

    /// The row's non-period group values, as a key.
    fn place(&self, row: &Row) -> Vec<Option<String>> {
        self.dimension_cells(row)
            .into_iter()
            .filter(|(d, _)| !d.is_period())
            .flat_map(|(_, cells)| cells.iter().map(Cell::to_text))
            .collect()
    }

    /// A fact's non-period group values, as `place` keys rows.
    fn place_of(&self, dims: &Dims) -> Vec<Option<String>> {
        let mut cells = Vec::new();
        for d in self.group_by.iter().filter(|d| !d.is_period()) {
            d.push_cells(self.from, dims, &mut cells);
        }
        cells.iter().map(Cell::to_text).collect()
    }

    /// What a row's groups and the report's filters say a partner must be.
    fn constraints<'a>(&'a self, row: &'a Row) -> Vec<(Dimension, &'a str)> {
        let mut constraints: Vec<(Dimension, &str)> = self
            .filters
            .iter()
            .map(|f| (f.dimension, f.value.as_str()))
            .collect();
        for (dimension, cells) in self.dimension_cells(row) {
            if let Some(value) = cells.first().and_then(Cell::as_str) {
                constraints.push((dimension, value));
            }
        }
        constraints
    }

    /// Sets `partners_total` on every row: partners who existed and whose status at the
    /// last instant of the row's period is `approved`, and who belong to the row's groups
    /// and filters.
    pub fn count_partners_total(&self, rows: &mut [Row], partners: &[PartnerFacts]) {
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
            let constraints = self.constraints(row);
            let named = |wanted: Dimension| {
                constraints
                    .iter()
                    .find(|(d, _)| *d == wanted)
                    .map(|(_, v)| *v)
            };
            let candidates: Vec<&PartnerFacts> = if let Some(id) = named(Dimension::Partner) {
                by_id.get(id).copied().into_iter().collect()
            } else if let Some(link) = named(Dimension::Link) {
                by_link.get(link).copied().into_iter().collect()
            } else {
                partners.iter().collect()
            };
            let total = candidates
                .into_iter()
                .filter(|p| p.since <= last_instant)
                .filter(|p| p.history.at(last_instant) == Some(PartnerStatus::Approved))
                .filter(|p| constraints.iter().all(|(d, v)| p.is_in(*d, v)))
                .count();
            row.bases.partners_total = total as i64;
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
            active
                .entry(self.place_of(&fact.dims))
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
                .get(&self.place(row))
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
    use crate::domain::reporting::{parse_query, Activity, Bases, Metric};

    fn query(q: &str) -> ReportQuery {
        parse_query(q).unwrap()
    }

    fn active(day: &str, partner: &str) -> Fact {
        let bases = Bases {
            clicks: 1,
            ..Bases::default()
        };
        Fact {
            day: day.parse().unwrap(),
            dims: Dims {
                partner_id: Some(partner.into()),
                ..Dims::default()
            },
            activity: Some(Activity::of(partner.into(), true, &bases)),
            bases,
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
            Metric::PartnerRetention.value(&rows[0].bases),
            Cell::Ratio(rust_decimal::Decimal::new(5, 1))
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
        let totals = |q: &ReportQuery, mut rows: Vec<Row>, partners: &[PartnerFacts]| {
            q.count_partners_total(&mut rows, partners);
            rows.iter()
                .map(|r| r.bases.partners_total)
                .collect::<Vec<_>>()
        };
        let q = query("from=2026-11-01&to=2026-11-04&metrics=partners_total");
        assert_eq!(totals(&q, q.aggregate([]), &partners), vec![2, 3, 2]);
        let q = query("from=2026-11-01&to=2026-11-04&group_by=segment&metrics=partners_total");
        let blogger = Row {
            groups: vec![Cell::Text("blogger".into())],
            bases: Bases::default(),
        };
        assert_eq!(
            totals(&q, vec![blogger], &partners),
            vec![1],
            "c is suspended by the end"
        );
        // Before a partner existed it is not counted, whatever its first status.
        let mut late = partners[0].clone();
        late.since = day("2026-11-03");
        let q = query("from=2026-11-01&to=2026-11-04&metrics=partners_total");
        assert_eq!(totals(&q, q.aggregate([]), &[late]), vec![0, 0, 1]);
        let q = query("from=2026-11-01&to=2026-11-04&program_id=prg_2&metrics=partners_total");
        assert_eq!(totals(&q, q.aggregate([]), &partners), vec![0, 0, 0]);
    }
}
