//! BI keys and partner tokens in D1: only their SHA-256 is kept.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, page, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT: &str =
    "INSERT INTO bi_keys (id, name, key_hash, created_at, partner_id) VALUES (?, ?, ?, ?, ?)";
const ACTIVE_BY_HASH: &str = "SELECT * FROM bi_keys WHERE key_hash = ? AND revoked_at IS NULL";
const BY_ID: &str = "SELECT * FROM bi_keys WHERE id = ?";
const RENAME: &str = "UPDATE bi_keys SET name = ? WHERE id = ?";
const REVOKE: &str = "UPDATE bi_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL";

#[derive(Debug, Clone, Deserialize)]
pub struct BiKeyRow {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// Set for a partner token: the only partner whose data it reads.
    #[serde(default)]
    pub partner_id: Option<String>,
}

pub async fn insert(db: &D1Database, row: &BiKeyRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            row.id.as_str().into(),
            row.name.as_str().into(),
            row.key_hash.as_str().into(),
            row.created_at.into(),
            (&row.partner_id).into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn active_by_hash(db: &D1Database, hash: &str) -> Result<Option<BiKeyRow>> {
    first(db, ACTIVE_BY_HASH, &[hash.into()]).await
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<BiKeyRow>> {
    first(db, BY_ID, &[id.into()]).await
}

pub async fn rename(db: &D1Database, id: &str, name: &str) -> Result<()> {
    execute(db, RENAME, &[name.into(), id.into()])
        .await
        .map(drop)
}

pub async fn revoke(db: &D1Database, id: &str, now: i64) -> Result<()> {
    execute(db, REVOKE, &[now.into(), id.into()])
        .await
        .map(drop)
}

pub async fn list(db: &D1Database, after: Option<&Cursor>, limit: u32) -> Result<Page<BiKeyRow>> {
    page(db, "bi_keys", "created_at", &[], after, limit).await
}

/// Partner tokens (keys with a partner), oldest first, of one partner when given.
const PARTNER_TOKENS: &str = "SELECT * FROM bi_keys WHERE partner_id IS NOT NULL \
     AND (?1 IS NULL OR partner_id = ?1) \
     AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3)) \
     ORDER BY created_at, id LIMIT ?4";

pub async fn list_partner_tokens(
    db: &D1Database,
    partner_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<BiKeyRow>> {
    let rows = super::statement(
        db,
        PARTNER_TOKENS,
        &[
            partner_id.into(),
            after.map_or(super::Arg::Null, |c| super::Arg::Int(c.at)),
            after.map(|c| c.id.as_str()).into(),
            (limit + 1).into(),
        ],
    )?
    .all()
    .await?
    .results::<BiKeyRow>()?;
    Ok(Page::from_overfetch(rows, limit))
}
