//! A report's facts, loaded from D1: rollup sums per local day and group, leads'
//! response times, new customers' first sales, program costs, and the programs and
//! partners that keep their rows when quiet.

use worker::D1Database;

use crate::domain::reporting::{
    day_of_index, local_midnight, offset_spans, Activity, Bases, Dimension, Dims, Fact,
    PartnerFacts, ReportQuery,
};
use crate::domain::time::parse_date;
use crate::storage::{partners as partner_store, reports, Context, StorageError};

use super::ReportError;

/// Every fact the query needs, from `query.facts_since()` to `query.to`.
pub async fn load(db: &D1Database, q: &ReportQuery) -> Result<Vec<Fact>, ReportError> {
    let needs = q.needs();
    let mut facts = rollup_facts(db, q).await?;
    let (start, end) = (
        local_midnight(q.timezone, q.from),
        local_midnight(q.timezone, q.to),
    );
    let local_day = |ms: i64| crate::domain::reporting::local_day(q.timezone, ms).unwrap_or(q.from);
    if needs.responses {
        for row in reports::lead_responses(db, start, end, &q.filters).await? {
            facts.push(Fact {
                response_ms: Some(row.response_ms),
                ..Fact::zero(local_day(row.ts), row.dims)
            });
        }
    }
    if needs.customers {
        for row in reports::new_customers(db, start, end, &q.filters).await? {
            let bases = Bases {
                new_customers: 1,
                new_customer_revenue_cents: row.lifetime_revenue_cents,
                ..Bases::default()
            };
            facts.push(Fact {
                bases,
                ..Fact::zero(local_day(row.ts), row.dims)
            });
        }
    }
    if q.costs_apply() {
        let (from, to) = (q.from.to_string(), q.to.to_string());
        for row in reports::costs(db, &from, &to, &q.filters).await? {
            let day = parse_date(&row.date)
                .ok_or_else(|| StorageError::corrupt("cost date", &row.date))?;
            let dims = Dims {
                program_id: Some(row.program_id),
                program_name: row.program_name,
                model: row.model,
                ..Dims::default()
            };
            let bases = Bases {
                other_cost_cents: row.cents,
                ..Bases::default()
            };
            facts.push(Fact {
                bases,
                ..Fact::zero(day, dims)
            });
        }
    }
    Ok(facts)
}

/// Rollup sums per local day and group; with partner-network metrics, per partner too
/// (distinct counts need each partner's own rows, whatever the grouping).
async fn rollup_facts(db: &D1Database, q: &ReportQuery) -> Result<Vec<Fact>, ReportError> {
    let spans = offset_spans(q.timezone, q.facts_since(), q.to)?;
    let mut groups: Vec<Dimension> = q
        .group_by
        .iter()
        .copied()
        .filter(|d| !d.is_period())
        .collect();
    let by_partner = q.needs().partner_activity;
    if by_partner && !groups.contains(&Dimension::Partner) {
        groups.push(Dimension::Partner);
    }
    let rows = reports::rollup_days(db, &spans, &groups, &q.filters)
        .await
        .context("summing rollups")?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let approved = row.partner_status.as_deref() == Some("approved");
            let activity = row
                .dims
                .partner_id
                .clone()
                .filter(|_| by_partner)
                .map(|partner_id| Activity::of(partner_id, approved, &row.bases));
            Fact {
                day: day_of_index(row.local_day),
                activity,
                dims: row.dims,
                bases: row.bases,
                response_ms: None,
            }
        })
        .collect())
}

/// The programs the query's filters allow, as report dimensions.
pub async fn programs(db: &D1Database, q: &ReportQuery) -> Result<Vec<Dims>, StorageError> {
    reports::programs(db, &q.filters).await
}

/// Every partner with its status history, programs and links.
pub async fn partners(db: &D1Database) -> Result<Vec<PartnerFacts>, StorageError> {
    let mut histories = partner_store::status_histories(db).await?;
    reports::partners(db)
        .await?
        .iter()
        .map(|row| row.facts(histories.remove(&row.id).unwrap_or_default()))
        .collect()
}
