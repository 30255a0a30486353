//! Browser sessions in D1: only the token's SHA-256 is kept.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, Result};

const INSERT: &str = "INSERT INTO sessions (token_hash, kind, partner_id, key_id, created_at, \
     expires_at) VALUES (?, ?, ?, ?, ?, ?)";
/// A live session: not revoked, not expired, and (for a partner) its token not revoked.
const ACTIVE: &str = "SELECT s.kind, s.partner_id, s.expires_at FROM sessions s \
     LEFT JOIN bi_keys k ON k.id = s.key_id \
     WHERE s.token_hash = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2 \
     AND (s.key_id IS NULL OR k.revoked_at IS NULL)";
const REVOKE: &str =
    "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL";
/// Sessions that ended more than a day ago are forgotten (the cron).
const FORGET: &str = "DELETE FROM sessions WHERE expires_at < ?1 OR revoked_at < ?1";

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SessionRow {
    pub kind: String,
    pub partner_id: Option<String>,
    pub expires_at: i64,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    /// `None` for the manager; the partner and the token it signed in with otherwise.
    pub partner: Option<(&'a str, &'a str)>,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert(db: &D1Database, s: &NewSession<'_>) -> Result<()> {
    let kind = if s.partner.is_some() {
        "partner"
    } else {
        "admin"
    };
    execute(
        db,
        INSERT,
        &[
            s.token_hash.into(),
            kind.into(),
            s.partner.map(|(partner, _)| partner).into(),
            s.partner.map(|(_, key)| key).into(),
            s.created_at.into(),
            s.expires_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn active(db: &D1Database, token_hash: &str, now: i64) -> Result<Option<SessionRow>> {
    first(db, ACTIVE, &[token_hash.into(), now.into()]).await
}

pub async fn revoke(db: &D1Database, token_hash: &str, now: i64) -> Result<()> {
    execute(db, REVOKE, &[token_hash.into(), now.into()])
        .await
        .map(drop)
}

/// Forgets sessions that ended before `before`; answers how many.
pub async fn forget(db: &D1Database, before: i64) -> Result<usize> {
    execute(db, FORGET, &[before.into()]).await
}
