//! From facts to rows: facts (base measures of one local day and dimension combination)
//! are summed into one row per group, distinct partner counts and response medians are
//! gathered per row, and the KPIs that look beyond a row's own facts (retention,
//! partners at the period's end) are added.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};

use super::period::{local_midnight, median_hours};
use super::{Bases, Cell, Dimension, Dims, PartnerFacts, ReportQuery, Table};

/// Base measures of one local day and dimension combination.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub day: NaiveDate,
    pub dims: Dims,
    pub bases: Bases,
    /// For partner-network KPIs: the fact's partner and whether it was active (an
    /// approved partner with a non-bot click or a counted conversion) and selling (a
    /// counted sale).
    pub activity: Option<Activity>,
    /// For `response_time_hours_median`: a lead's milliseconds to its first response.
    pub response_ms: Option<i64>,
}

impl Fact {
    /// A fact with nothing in it: gives its dimensions a row.
    pub fn zero(day: NaiveDate, dims: Dims) -> Self {
        Self {
            day,
            dims,
            bases: Bases::default(),
            activity: None,
            response_ms: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub partner_id: String,
    pub active: bool,
    pub selling: bool,
}

impl Activity {
    /// `kpis.md`: active partners are approved ones with activity; selling partners are
    /// any with a counted sale.
    pub fn of(partner_id: String, approved: bool, bases: &Bases) -> Self {
        Self {
            partner_id,
            active: approved && bases.has_activity(),
            selling: bases.sales > 0,
        }
    }
}

/// One report row: its group cells (one per group column) and its summed bases.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub groups: Vec<Cell>,
    pub bases: Bases,
}

/// What a report is computed from, as the service loads it.
#[derive(Debug, Clone, Default)]
pub struct ReportInputs {
    /// Facts of `[from, to)`; with `partner_retention`, of the range's length before it
    /// too.
    pub facts: Vec<Fact>,
    /// The programs the filters allow, when rows are programs.
    pub programs: Vec<Dims>,
    /// Every partner, when `partners_total` or partner rows need them.
    pub partners: Vec<PartnerFacts>,
}

impl ReportQuery {
    /// The first local day of the range whose facts a report needs: the range's length
    /// earlier when retention compares with the period before.
    pub fn facts_since(&self) -> NaiveDate {
        if self.needs().retention {
            self.from - (self.to - self.from)
        } else {
            self.from
        }
    }

    /// Each group dimension of the query with its cells in `row`.
    pub fn dimension_cells<'a>(&self, row: &'a Row) -> Vec<(Dimension, &'a [Cell])> {
        let mut at = 0;
        self.group_by
            .iter()
            .map(|d| {
                let width = d.columns().len();
                let cells = row.groups.get(at..at + width).unwrap_or_default();
                at += width;
                (*d, cells)
            })
            .collect()
    }

    fn group_cells(&self, day: NaiveDate, dims: &Dims) -> Vec<Cell> {
        let mut cells = Vec::new();
        for d in &self.group_by {
            d.push_cells(day, dims, &mut cells);
        }
        cells
    }

    /// Zero facts that give each of `entities` (programs or partners) a row in every
    /// period of the range.
    pub fn zero_facts(&self, entities: Vec<Dims>) -> Vec<Fact> {
        let days: Vec<NaiveDate> = if self.timed() {
            self.from.iter_days().take_while(|d| *d < self.to).collect()
        } else {
            vec![self.from]
        };
        entities
            .into_iter()
            .flat_map(|dims| days.iter().map(move |day| Fact::zero(*day, dims.clone())))
            .collect()
    }

    /// Sums facts into rows, sorted by their group values; a time series gets a row for
    /// every period of the range.
    pub fn aggregate(&self, facts: impl IntoIterator<Item = Fact>) -> Vec<Row> {
        /// What a row gathers beyond sums: its active and selling partners, response times.
        #[derive(Default)]
        struct Distinct {
            active: BTreeSet<String>,
            selling: BTreeSet<String>,
            responses: Vec<i64>,
        }
        let mut rows: BTreeMap<Vec<Option<String>>, (Row, Distinct)> = BTreeMap::new();
        let mut add = |fact: Fact| {
            let groups = self.group_cells(fact.day, &fact.dims);
            let key = groups.iter().map(Cell::to_text).collect();
            let (row, distinct) = rows.entry(key).or_insert_with(|| {
                let row = Row {
                    groups,
                    bases: Bases::default(),
                };
                (row, Distinct::default())
            });
            row.bases.add(&fact.bases);
            distinct.responses.extend(fact.response_ms);
            if let Some(activity) = fact.activity {
                if activity.active {
                    distinct.active.insert(activity.partner_id.clone());
                }
                if activity.selling {
                    distinct.selling.insert(activity.partner_id);
                }
            }
        };
        if self.time_only() {
            let mut day = self.from;
            while day < self.to {
                add(Fact::zero(day, Dims::default()));
                day += Duration::days(1);
            }
        }
        facts.into_iter().for_each(&mut add);
        rows.into_values()
            .map(|(mut row, mut distinct)| {
                row.bases.active_partners = distinct.active.len() as i64;
                row.bases.selling_partners = distinct.selling.len() as i64;
                row.bases.response_time_hours_median = median_hours(&mut distinct.responses);
                row
            })
            .collect()
    }

    /// The report's table: group cells, then each metric's value.
    pub fn table(&self, rows: &[Row]) -> Table {
        Table {
            columns: self.columns(),
            rows: rows
                .iter()
                .map(|row| {
                    let mut cells = row.groups.clone();
                    cells.extend(self.metrics.iter().map(|m| m.value(&row.bases)));
                    cells
                })
                .collect(),
        }
    }
}

/// Computes a report's rows from its inputs: sums and distinct counts per row, quiet
/// programs and partners kept, then retention and partners at each period's end.
pub fn build(q: &ReportQuery, inputs: ReportInputs) -> Vec<Row> {
    let ReportInputs {
        facts,
        programs,
        partners,
    } = inputs;
    let mut all = facts;
    if q.program_rows() {
        all.extend(q.zero_facts(programs));
    }
    if q.partner_rows() {
        // Partners who existed before the range ended, as the filters allow.
        let end = local_midnight(q.timezone, q.to);
        let quiet = partners
            .iter()
            .filter(|p| p.since < end && p.belongs(&q.filters))
            .map(PartnerFacts::dims)
            .collect();
        all.extend(q.zero_facts(quiet));
    }
    let needs = q.needs();
    let (earlier, mut in_range): (Vec<Fact>, Vec<Fact>) =
        all.into_iter().partition(|f| f.day < q.from);
    let mut rows = if needs.retention {
        if !q.timed() {
            // A group active before the range but quiet in it still gets its row: its
            // retention is 0, not missing.
            in_range.extend(q.zero_facts(earlier.iter().map(|f| f.dims.clone()).collect()));
        }
        let mut rows = q.aggregate(in_range.iter().cloned());
        let mut activity = earlier;
        activity.extend(in_range.into_iter().filter(|f| f.activity.is_some()));
        q.count_retention(&mut rows, &activity);
        rows
    } else {
        q.aggregate(in_range)
    };
    if needs.partners_total {
        q.count_partners_total(&mut rows, &partners);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reporting::{parse_query, Metric};

    fn query(q: &str) -> ReportQuery {
        parse_query(q).unwrap()
    }

    fn fact(day: &str, partner: &str, clicks: i64) -> Fact {
        let bases = Bases {
            clicks,
            ..Bases::default()
        };
        Fact {
            day: day.parse().unwrap(),
            dims: Dims {
                partner_id: Some(partner.into()),
                partner_name: Some(partner.to_uppercase()),
                ..Dims::default()
            },
            activity: Some(Activity::of(partner.into(), true, &bases)),
            bases,
            response_ms: None,
        }
    }

    fn texts(row: &Row) -> Vec<String> {
        row.groups.iter().filter_map(Cell::to_text).collect()
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
            .map(|r| (texts(r)[0].clone(), r.bases.active_partners))
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
        let inputs = ReportInputs {
            programs: vec![quiet.clone()],
            ..ReportInputs::default()
        };
        let rows = build(&q, inputs.clone());
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.bases == Bases::default()));
        assert_eq!(texts(&rows[0]), ["2026-11-01", "prg_q", "Quiet"]);
        let q = query("from=2026-11-01&to=2026-11-04&group_by=program");
        assert_eq!(build(&q, inputs).len(), 1);
        assert!(!query("from=2026-11-01&to=2026-11-04&group_by=program,partner").program_rows());
        assert!(!query("from=2026-11-01&to=2026-11-04&group_by=program&country=DE").program_rows());
    }

    #[test]
    fn a_day_series_has_every_day_even_without_events() {
        let q = query("from=2026-11-01&to=2026-11-04");
        let rows = build(
            &q,
            ReportInputs {
                facts: vec![fact("2026-11-02", "a", 5), fact("2026-11-02", "b", 2)],
                ..ReportInputs::default()
            },
        );
        let days: Vec<_> = rows
            .iter()
            .map(|r| (texts(r)[0].clone(), r.bases.clicks))
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
        let got: Vec<_> = rows.iter().map(|r| (texts(r), r.bases.clicks)).collect();
        assert_eq!(
            got,
            vec![
                (vec!["2026-10-26".into(), "a".into(), "A".into()], 1),
                (vec!["2026-11-02".into(), "a".into(), "A".into()], 6),
                (vec!["2026-11-09".into(), "b".into(), "B".into()], 8),
            ]
        );
        assert_eq!(q.columns()[..3], ["week", "partner_id", "partner_name"]);
    }

    #[test]
    fn tables_hold_groups_then_metrics_in_column_order() {
        let q = query("from=2026-11-01&to=2026-11-03&group_by=month&metrics=clicks,epc");
        let rows = q.aggregate([fact("2026-11-02", "a", 4)]);
        let table = q.table(&rows);
        assert_eq!(table.columns, ["month", "clicks", "epc"]);
        assert_eq!(
            table.rows,
            vec![vec![
                Cell::Month("2026-11-01".parse().unwrap()),
                Cell::Count(4),
                Cell::Money(rust_decimal::Decimal::ZERO),
            ]]
        );
        assert_eq!(q.metrics, [Metric::Clicks, Metric::Epc]);
    }

    #[test]
    fn retention_keeps_a_row_for_a_group_quiet_in_the_range() {
        let q = query("from=2026-11-02&to=2026-11-03&group_by=partner&metrics=partner_retention");
        assert_eq!(q.facts_since(), "2026-11-01".parse().unwrap());
        let rows = build(
            &q,
            ReportInputs {
                facts: vec![fact("2026-11-01", "a", 3)],
                ..ReportInputs::default()
            },
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(
            Metric::PartnerRetention.value(&rows[0].bases),
            Cell::Ratio(0.into())
        );
    }
}
