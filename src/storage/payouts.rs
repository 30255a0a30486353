//! Payouts in D1. A run pays, per partner, the approved commissions not yet paid, when
//! their sum reaches the program's minimum. Each partner's statement and the marking of
//! the conversions it covers happen in one transaction, with the same conditions, so a
//! conversion is paid exactly once even when runs overlap.

use serde::Deserialize;
use worker::D1Database;

use super::{equal_filters, execute, first, page, statement, Page, Result};
use crate::domain::cursor::Cursor;
use crate::domain::money::payout::Transfer;

/// Partners of a program whose approved, unpaid commissions reach `min_cents` (and 1).
const DUE: &str = "SELECT partner_id FROM conversions \
     WHERE program_id = ?1 AND status = 'approved' AND payout_id IS NULL \
     GROUP BY partner_id HAVING sum(commission_cents) >= max(?2, 1)";
const CREATE_STATEMENT: &str = "INSERT INTO payouts (id, program_id, partner_id, amount_cents, \
     currency, conversions, created_at) \
     SELECT ?1, ?2, ?3, sum(commission_cents), ?4, count(*), ?5 FROM conversions \
     WHERE program_id = ?2 AND partner_id = ?3 AND status = 'approved' AND payout_id IS NULL \
     HAVING sum(commission_cents) >= max(?6, 1)";
const MARK_PAID: &str = "UPDATE conversions SET payout_id = ?1 \
     WHERE program_id = ?2 AND partner_id = ?3 AND status = 'approved' AND payout_id IS NULL \
     AND EXISTS (SELECT 1 FROM payouts WHERE id = ?1)";
const BY_ID: &str = "SELECT * FROM payouts WHERE id = ?";
const SET_TRANSFER: &str = "UPDATE payouts SET status = ?, paid_at = ?, reference = ? WHERE id = ?";
const LINES: &str = "SELECT id, event, order_id, ts, amount_cents, commission_cents \
     FROM conversions WHERE payout_id = ? ORDER BY ts, id";
const BALANCES: &str = "SELECT partner_id, \
     coalesce(sum(CASE WHEN status = 'approved' AND payout_id IS NULL THEN commission_cents END), 0) AS approved_cents, \
     coalesce(sum(CASE WHEN status = 'pending' THEN commission_cents END), 0) AS pending_cents, \
     coalesce(sum(CASE WHEN payout_id IS NOT NULL THEN commission_cents END), 0) AS paid_cents \
     FROM conversions WHERE program_id = ? AND status != 'rejected' GROUP BY partner_id ORDER BY partner_id";

#[derive(Debug, Clone, Deserialize)]
pub struct PayoutRow {
    pub id: String,
    pub program_id: String,
    pub partner_id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub conversions: i64,
    pub created_at: i64,
    /// `pending` or `paid` (crate::domain::money::payout::PayoutStatus).
    pub status: String,
    pub paid_at: Option<i64>,
    pub reference: Option<String>,
}

#[derive(Deserialize)]
struct Due {
    partner_id: String,
}

/// Creates the statements of a payout run; answers the ones created.
pub async fn run(
    db: &D1Database,
    program_id: &str,
    currency: &str,
    min_cents: i64,
    now: i64,
    new_id: impl Fn() -> String,
) -> Result<Vec<PayoutRow>> {
    let due = statement(db, DUE, &[program_id.into(), min_cents.into()])?
        .all()
        .await?
        .results::<Due>()?;
    let mut created = Vec::new();
    for partner in due {
        let id = new_id();
        let args = [
            id.as_str().into(),
            program_id.into(),
            partner.partner_id.as_str().into(),
        ];
        db.batch(vec![
            statement(
                db,
                CREATE_STATEMENT,
                &[
                    id.as_str().into(),
                    program_id.into(),
                    partner.partner_id.as_str().into(),
                    currency.into(),
                    now.into(),
                    min_cents.into(),
                ],
            )?,
            statement(db, MARK_PAID, &args)?,
        ])
        .await?;
        if let Some(row) = get(db, &id).await? {
            created.push(row);
        }
    }
    Ok(created)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<PayoutRow>> {
    first(db, BY_ID, &[id.into()]).await
}

/// Records a payout's transfer (its status, when it was paid, the reference).
pub async fn set_transfer(db: &D1Database, id: &str, transfer: &Transfer) -> Result<()> {
    execute(
        db,
        SET_TRANSFER,
        &[
            transfer.status.as_str().into(),
            transfer.paid_at.into(),
            (&transfer.reference).into(),
            id.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    partner_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<PayoutRow>> {
    let filters = equal_filters(&[("program_id", program_id), ("partner_id", partner_id)]);
    page(db, "payouts", "created_at", &filters, after, limit).await
}

/// One line of a payout statement.
#[derive(Debug, Clone, Deserialize)]
pub struct LineRow {
    pub id: String,
    pub event: String,
    pub order_id: Option<String>,
    pub ts: i64,
    pub amount_cents: i64,
    pub commission_cents: i64,
}

pub async fn lines(db: &D1Database, payout_id: &str) -> Result<Vec<LineRow>> {
    statement(db, LINES, &[payout_id.into()])?
        .all()
        .await?
        .results::<LineRow>()
        .map_err(Into::into)
}

/// What each partner of a program has earned, in hundredths.
#[derive(Debug, Clone, Deserialize)]
pub struct BalanceRow {
    pub partner_id: String,
    pub approved_cents: i64,
    pub pending_cents: i64,
    pub paid_cents: i64,
}

pub async fn balances(db: &D1Database, program_id: &str) -> Result<Vec<BalanceRow>> {
    statement(db, BALANCES, &[program_id.into()])?
        .all()
        .await?
        .results::<BalanceRow>()
        .map_err(Into::into)
}
