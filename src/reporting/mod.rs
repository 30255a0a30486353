//! The report service: loads a report's facts from D1 and computes its rows with the
//! pure engine (`domain::reporting`). Every surface calls it without a request: the JSON
//! and CSV reports, the OData feed, and later the dashboard, the cron and the insights.
//!
//! Fresh numbers: before a report is computed, the marked days of its range are rolled
//! up (a few at most, latest first), so an event shows as soon as the queue has stored
//! it. Paging: the pages after the first come from a snapshot this isolate keeps for a
//! minute, so a BI tool paging through a report costs one computation and sees one
//! consistent set of rows.

mod facts;
mod partners;
mod snapshot;

use std::rc::Rc;

use worker::D1Database;

use crate::domain::reporting::{build, local_midnight, ReportInputs, ReportQuery, Row};
use crate::domain::Invalid;
use crate::storage::StorageError;

pub use partners::partners;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug)]
pub enum ReportError {
    /// The query cannot be answered as asked (a time zone with half-hour offsets).
    Invalid(Invalid),
    Storage(StorageError),
}

impl From<StorageError> for ReportError {
    fn from(error: StorageError) -> Self {
        ReportError::Storage(error)
    }
}

impl From<Invalid> for ReportError {
    fn from(invalid: Invalid) -> Self {
        ReportError::Invalid(invalid)
    }
}

/// Whether rows may come from the paging snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Compute afresh (a first page, a scheduled report).
    Never,
    /// A later page of a report just computed: its snapshot, if this isolate has it.
    Snapshot,
}

/// The rows of `query` as of `now`.
pub async fn rows(
    db: &D1Database,
    now: i64,
    query: &ReportQuery,
    reuse: Reuse,
) -> Result<Rc<Vec<Row>>, ReportError> {
    let key = query.key();
    if reuse == Reuse::Snapshot {
        if let Some(rows) = snapshot::get(&key, now) {
            return Ok(rows);
        }
    }
    refresh(db, query).await?;
    let rows = Rc::new(compute(db, query).await?);
    snapshot::put(key, now, rows.clone());
    Ok(rows)
}

/// Rolls up the marked UTC days the report's local days touch.
async fn refresh(db: &D1Database, query: &ReportQuery) -> Result<(), StorageError> {
    let start = local_midnight(query.timezone, query.facts_since());
    let end = local_midnight(query.timezone, query.to);
    crate::rollups::refresh(
        db,
        start.div_euclid(DAY_MS),
        (end - 1).div_euclid(DAY_MS) + 1,
    )
    .await
    .map(drop)
}

async fn compute(db: &D1Database, query: &ReportQuery) -> Result<Vec<Row>, ReportError> {
    let needs = query.needs();
    let inputs = ReportInputs {
        facts: facts::load(db, query).await?,
        programs: if query.program_rows() {
            facts::programs(db, query).await?
        } else {
            Vec::new()
        },
        partners: if needs.partners_total || query.partner_rows() {
            facts::partners(db).await?
        } else {
            Vec::new()
        },
    };
    Ok(build(query, inputs))
}
