//! Promo codes in D1. A program's live codes are unique by their lower case (a partial
//! unique index); a retired code keeps its row for the sales it brought.

use serde::Deserialize;
use worker::D1Database;

use super::{equal_filters, execute, first, page, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT: &str = "INSERT INTO promo_codes (id, program_id, partner_id, code, code_key, \
     created_at) VALUES (?, ?, ?, ?, ?, ?)";
const BY_ID: &str = "SELECT * FROM promo_codes WHERE id = ?";
const LIVE_BY_KEY: &str =
    "SELECT * FROM promo_codes WHERE program_id = ? AND code_key = ? AND retired_at IS NULL";
const RETIRE: &str = "UPDATE promo_codes SET retired_at = ? WHERE id = ? AND retired_at IS NULL";

#[derive(Debug, Clone, Deserialize)]
pub struct PromoCodeRow {
    pub id: String,
    pub program_id: String,
    pub partner_id: String,
    pub code: String,
    pub code_key: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

pub async fn insert(db: &D1Database, row: &PromoCodeRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            row.id.as_str().into(),
            row.program_id.as_str().into(),
            row.partner_id.as_str().into(),
            row.code.as_str().into(),
            row.code_key.as_str().into(),
            row.created_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<PromoCodeRow>> {
    first(db, BY_ID, &[id.into()]).await
}

/// The program's live code whose lower case is `key`.
pub async fn live_by_key(
    db: &D1Database,
    program_id: &str,
    key: &str,
) -> Result<Option<PromoCodeRow>> {
    first(db, LIVE_BY_KEY, &[program_id.into(), key.into()]).await
}

pub async fn retire(db: &D1Database, id: &str, now: i64) -> Result<()> {
    execute(db, RETIRE, &[now.into(), id.into()])
        .await
        .map(drop)
}

/// Codes oldest first, of a program and a partner when given.
pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    partner_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<PromoCodeRow>> {
    let filters = equal_filters(&[("program_id", program_id), ("partner_id", partner_id)]);
    page(db, "promo_codes", "created_at", &filters, after, limit).await
}

const OF_PARTNER_IN_PROGRAM: &str = "SELECT * FROM promo_codes WHERE partner_id = ? \
     AND program_id = ? AND retired_at IS NULL ORDER BY created_at, id";

/// A partner's live codes in a program (for its portal).
pub async fn live_of_partner(
    db: &D1Database,
    partner_id: &str,
    program_id: &str,
) -> Result<Vec<PromoCodeRow>> {
    super::statement(
        db,
        OF_PARTNER_IN_PROGRAM,
        &[partner_id.into(), program_id.into()],
    )?
    .all()
    .await?
    .results::<PromoCodeRow>()
    .map_err(Into::into)
}
