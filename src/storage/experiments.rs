//! Experiments in D1, and what their results are computed from: the clicks of a split
//! test's link while it ran, by variant, and the clicks among them that converted.

use serde::Deserialize;
use worker::D1Database;

use super::{equal_filters, execute, first, page, statement, Arg, Page, Result};
use crate::domain::cursor::Cursor;
use crate::domain::experiments::results::ConvertedClick;

const INSERT: &str = "INSERT INTO experiments (id, kind, name, program_id, link_id, variants, \
     alpha, minimum_detectable_effect, status, created_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)";
const BY_ID: &str = "SELECT * FROM experiments WHERE id = ?";
const STOP: &str = "UPDATE experiments SET status = 'stopped', winner = ?, stopped_at = ? \
     WHERE id = ? AND status = 'running'";

#[derive(Debug, Clone, Deserialize)]
pub struct ExperimentRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub program_id: String,
    pub link_id: Option<String>,
    /// JSON: the variants, the control first.
    pub variants: String,
    pub alpha: f64,
    pub minimum_detectable_effect: f64,
    pub status: String,
    pub winner: Option<String>,
    pub created_at: i64,
    pub stopped_at: Option<i64>,
}

pub async fn insert(db: &D1Database, row: &ExperimentRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            row.id.as_str().into(),
            row.kind.as_str().into(),
            row.name.as_str().into(),
            row.program_id.as_str().into(),
            (&row.link_id).into(),
            row.variants.as_str().into(),
            row.alpha.into(),
            row.minimum_detectable_effect.into(),
            row.created_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<ExperimentRow>> {
    first(db, BY_ID, &[id.into()]).await
}

/// Stops a running experiment; answers whether it was running.
pub async fn stop(db: &D1Database, id: &str, winner: Option<&str>, now: i64) -> Result<bool> {
    Ok(execute(db, STOP, &[winner.into(), now.into(), id.into()]).await? == 1)
}

pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    link_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<ExperimentRow>> {
    let filters = equal_filters(&[("program_id", program_id), ("link_id", link_id)]);
    page(db, "experiments", "created_at", &filters, after, limit).await
}

/// Human clicks of a link in `[from, to)`, by variant.
const CLICKS: &str = "SELECT variant, count(*) AS clicks FROM clicks \
     WHERE link_id = ?1 AND variant IS NOT NULL AND is_bot = 0 AND ts >= ?2 AND ts < ?3 \
     GROUP BY variant";
/// Those clicks that converted: counted sales and their money (a refund carries its sale's
/// click id, so refunds are subtracted).
const CONVERTED: &str = "SELECT k.variant, k.id, \
     sum(c.event = 'sale') AS sales, \
     sum(CASE c.event WHEN 'sale' THEN c.amount_cents WHEN 'refund' THEN -c.amount_cents ELSE 0 END) \
       AS revenue_cents, \
     sum(c.commission_cents) AS commission_cents \
     FROM clicks k JOIN conversions c ON c.click_id = k.id \
     WHERE k.link_id = ?1 AND k.variant IS NOT NULL AND k.is_bot = 0 AND k.ts >= ?2 AND k.ts < ?3 \
       AND c.status != 'rejected' AND c.event IN ('sale', 'refund') \
     GROUP BY k.variant, k.id";

#[derive(Deserialize)]
struct ClicksRow {
    variant: String,
    clicks: i64,
}

#[derive(Deserialize)]
struct ConvertedRow {
    variant: String,
    sales: i64,
    revenue_cents: i64,
    commission_cents: i64,
}

/// The clicks by variant and the converted clicks of `link_id` in `[from, to)`.
pub async fn outcomes(
    db: &D1Database,
    link_id: &str,
    from: i64,
    to: i64,
) -> Result<(Vec<(String, u64)>, Vec<ConvertedClick>)> {
    let args: [Arg<'_>; 3] = [link_id.into(), from.into(), to.into()];
    let clicks = statement(db, CLICKS, &args)?
        .all()
        .await?
        .results::<ClicksRow>()?
        .into_iter()
        .map(|r| (r.variant, r.clicks.max(0) as u64))
        .collect();
    let converted = statement(db, CONVERTED, &args)?
        .all()
        .await?
        .results::<ConvertedRow>()?
        .into_iter()
        .filter(|r| r.sales > 0)
        .map(|r| ConvertedClick {
            variant: r.variant,
            sales: r.sales as u64,
            revenue_cents: r.revenue_cents,
            commission_cents: r.commission_cents,
        })
        .collect();
    Ok((clicks, converted))
}
