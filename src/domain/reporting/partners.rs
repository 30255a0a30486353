//! `GET /api/v1/reports/partners`: one row per partner with its status, its journey
//! stage on the range's last day (or today) and the days it spent in each stage, then
//! its KPIs over the range.

use std::collections::HashMap;

use super::period::day_of_index;
use super::{Bases, Cell, Dimension, PartnerFacts, ReportQuery, Row, Table};
use crate::domain::partners::journey::{Stage, STAGES};

/// The columns of the partners report before its metrics.
const COLUMNS: [&str; 18] = [
    "partner_id",
    "partner_name",
    "partner_status",
    "segment",
    "stage",
    "stage_since",
    "days_in_stage",
    "risk",
    "activity_last_14d",
    "activity_prev_14d",
    "days_since_activity",
    "days_applied",
    "days_approved",
    "days_first_click",
    "days_first_conversion",
    "days_active",
    "days_at_risk",
    "days_churned",
];

/// A partner's stage on the report's day, as the journey stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyStage {
    pub stage: Stage,
    pub risk: Option<String>,
    pub last_active_day: Option<i64>,
    pub last_14: i64,
    pub prev_14: i64,
    /// The first day (UTC day index) of the stretch of this stage that includes the day.
    pub since_day: i64,
}

/// A partner as the partners report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerListing {
    pub facts: PartnerFacts,
    pub status: String,
    pub stage: Option<JourneyStage>,
    /// Days spent in each stage up to the report's day, in `STAGES` order.
    pub days_in: [i64; 7],
}

/// The partners report: every listed partner the filters allow that existed before the
/// range ended (and is in `stage`, when asked), with its KPIs from `kpis` (a report of
/// `q` grouped by partner) and its journey on day `as_of` (a UTC day index).
pub fn partner_table(
    q: &ReportQuery,
    kpis: &[Row],
    partners: &[PartnerListing],
    as_of: i64,
    stage: Option<Stage>,
) -> Table {
    let bases: HashMap<&str, &Bases> = kpis
        .iter()
        .filter_map(|row| {
            let (_, cells) = q
                .dimension_cells(row)
                .into_iter()
                .find(|(d, _)| *d == Dimension::Partner)?;
            Some((cells.first()?.as_str()?, &row.bases))
        })
        .collect();
    let end = super::period::local_midnight(q.timezone, q.to);
    let empty = Bases::default();
    let rows = partners
        .iter()
        .filter(|p| p.facts.since < end && p.facts.belongs(&q.filters))
        .filter(|p| stage.is_none() || p.stage.as_ref().map(|s| s.stage) == stage)
        .map(|p| {
            let mut cells = listing_cells(p, as_of);
            let b = bases.get(p.facts.id.as_str()).copied().unwrap_or(&empty);
            cells.extend(q.metrics.iter().map(|m| m.value(b)));
            cells
        })
        .collect();
    let mut columns = COLUMNS.to_vec();
    columns.extend(q.metrics.iter().map(|m| m.name()));
    Table { columns, rows }
}

fn listing_cells(p: &PartnerListing, as_of: i64) -> Vec<Cell> {
    let stage = p.stage.as_ref();
    let count = |value: Option<i64>| value.map_or(Cell::Null, Cell::Count);
    let mut cells = vec![
        Cell::Text(p.facts.id.clone()),
        Cell::Text(p.facts.name.clone()),
        Cell::Text(p.status.clone()),
        Cell::Text(p.facts.segment.clone()),
        Cell::text(stage.map(|s| s.stage.as_str())),
        stage.map_or(Cell::Null, |s| Cell::Date(day_of_index(s.since_day))),
        count(stage.map(|s| as_of - s.since_day + 1)),
        Cell::text(stage.and_then(|s| s.risk.as_deref())),
        count(stage.map(|s| s.last_14)),
        count(stage.map(|s| s.prev_14)),
        count(stage.and_then(|s| s.last_active_day).map(|d| as_of - d)),
    ];
    cells.extend(p.days_in.iter().map(|days| Cell::Count(*days)));
    debug_assert_eq!(STAGES.len(), p.days_in.len());
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reporting::{parse_query, Metric};

    fn listing(id: &str, stage: Option<Stage>) -> PartnerListing {
        PartnerListing {
            facts: PartnerFacts {
                id: id.into(),
                name: id.to_uppercase(),
                segment: "blogger".into(),
                since: 0,
                ..PartnerFacts::default()
            },
            status: "approved".into(),
            stage: stage.map(|stage| JourneyStage {
                stage,
                risk: None,
                last_active_day: Some(100),
                last_14: 3,
                prev_14: 5,
                since_day: 95,
            }),
            days_in: [1, 2, 3, 4, 5, 6, 7],
        }
    }

    #[test]
    fn every_partner_gets_a_row_with_its_journey_and_kpis() {
        let q =
            parse_query("from=1970-04-01&to=1970-04-12&group_by=partner&metrics=clicks").unwrap();
        let kpis = vec![Row {
            groups: vec![Cell::Text("a".into()), Cell::Text("A".into())],
            bases: Bases {
                clicks: 9,
                ..Bases::default()
            },
        }];
        let partners = [listing("a", Some(Stage::Active)), listing("b", None)];
        let table = partner_table(&q, &kpis, &partners, 101, None);
        assert_eq!(table.columns.len(), COLUMNS.len() + 1);
        let a = &table.rows[0];
        let at = |column| table.cell(a, column).cloned().unwrap();
        assert_eq!(at("stage"), Cell::Text("active".into()));
        assert_eq!(at("days_in_stage"), Cell::Count(7));
        assert_eq!(at("days_since_activity"), Cell::Count(1));
        assert_eq!(at("days_churned"), Cell::Count(7));
        assert_eq!(at("clicks"), Cell::Count(9));
        let b = &table.rows[1];
        assert_eq!(table.cell(b, "stage"), Some(&Cell::Null));
        assert_eq!(table.cell(b, "clicks"), Some(&Cell::Count(0)));
        assert_eq!(q.metrics, [Metric::Clicks]);
        let only_active = partner_table(&q, &kpis, &partners, 101, Some(Stage::Active));
        assert_eq!(only_active.rows.len(), 1);
    }
}
