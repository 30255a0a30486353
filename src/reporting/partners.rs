//! The partners report: the KPI report grouped by partner, joined with each partner's
//! journey on the range's last day (or today, when the range runs into the future).

use std::collections::HashMap;

use chrono::Duration;
use worker::D1Database;

use crate::domain::partners::journey::{Stage, StatusHistory, STAGES};
use crate::domain::reporting::{
    index_of_day, partner_table, Dimension, PartnerListing, ReportQuery, Table,
};
use crate::storage::{journey, reports};

use super::{rows, ReportError, Reuse, DAY_MS};

/// `query` (whatever its grouping: rows are partners) with only the partners in `stage`
/// when one is asked for.
pub async fn partners(
    db: &D1Database,
    now: i64,
    query: &ReportQuery,
    stage: Option<Stage>,
    reuse: Reuse,
) -> Result<Table, ReportError> {
    let query = ReportQuery {
        group_by: vec![Dimension::Partner],
        ..query.clone()
    };
    let kpis = rows(db, now, &query, reuse).await?;
    let as_of = index_of_day(query.to - Duration::days(1)).min(now.div_euclid(DAY_MS));
    let mut stages: HashMap<String, _> = journey::stages_on(db, as_of).await?.into_iter().collect();
    let mut days: HashMap<String, [i64; 7]> = HashMap::new();
    for (partner, stage, count) in journey::days_per_stage(db, as_of).await? {
        if let Some(at) = STAGES.iter().position(|s| *s == stage) {
            days.entry(partner).or_default()[at] = count;
        }
    }
    let listings: Vec<PartnerListing> = reports::partners(db)
        .await?
        .iter()
        .map(|row| {
            Ok(PartnerListing {
                facts: row.facts(StatusHistory::default())?,
                status: row.status.clone(),
                stage: stages.remove(&row.id),
                days_in: days.remove(&row.id).unwrap_or_default(),
            })
        })
        .collect::<Result<_, crate::storage::StorageError>>()?;
    Ok(partner_table(&query, &kpis, &listings, as_of, stage))
}
