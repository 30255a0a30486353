//! Partners in D1.

use std::collections::HashMap;

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{first, page, statement, Page, Result};
use crate::domain::cursor::Cursor;
use crate::domain::partners::journey::StatusHistory;
use crate::domain::partners::{PartnerFields, PartnerStatus, Segment};

const TABLE: &str = "partners";

const INSERT: &str = "INSERT INTO partners (id, name, email, segment, tier, region, status, \
     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
const SELECT_BY_ID: &str = "SELECT * FROM partners WHERE id = ?";
const UPDATE: &str = "UPDATE partners SET name = ?, email = ?, segment = ?, tier = ?, region = ?, \
     status = ?, updated_at = ? WHERE id = ?";
/// Records the partner's status at `?2` when it differs from the one in force before.
const STATUS_CHANGE: &str = "INSERT INTO partner_status_changes (partner_id, at, status) \
     SELECT ?1, ?2, ?3 WHERE ?3 IS NOT (SELECT status FROM partner_status_changes \
       WHERE partner_id = ?1 ORDER BY at DESC LIMIT 1) ON CONFLICT DO NOTHING";
const STATUS_HISTORY: &str =
    "SELECT partner_id, at, status FROM partner_status_changes ORDER BY partner_id, at";

#[derive(Debug, Clone, Deserialize)]
pub struct PartnerRow {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub segment: Segment,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub status: PartnerStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert(db: &D1Database, id: &str, p: &PartnerFields, now: i64) -> Result<()> {
    let insert = statement(
        db,
        INSERT,
        &[
            id.into(),
            p.name.as_str().into(),
            (&p.email).into(),
            p.segment.as_str().into(),
            (&p.tier).into(),
            (&p.region).into(),
            p.status.as_str().into(),
            now.into(),
            now.into(),
        ],
    )?;
    let status = status_change(db, id, p, now)?;
    db.batch(vec![insert, status])
        .await
        .map(drop)
        .map_err(Into::into)
}

fn status_change(
    db: &D1Database,
    id: &str,
    p: &PartnerFields,
    now: i64,
) -> Result<D1PreparedStatement> {
    statement(
        db,
        STATUS_CHANGE,
        &[id.into(), now.into(), p.status.as_str().into()],
    )
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<PartnerRow>> {
    first(db, SELECT_BY_ID, &[id.into()]).await
}

pub async fn list(db: &D1Database, after: Option<&Cursor>, limit: u32) -> Result<Page<PartnerRow>> {
    page(db, TABLE, "created_at", &[], after, limit).await
}

pub async fn update(db: &D1Database, id: &str, p: &PartnerFields, now: i64) -> Result<()> {
    let update = statement(
        db,
        UPDATE,
        &[
            p.name.as_str().into(),
            (&p.email).into(),
            p.segment.as_str().into(),
            (&p.tier).into(),
            (&p.region).into(),
            p.status.as_str().into(),
            now.into(),
            id.into(),
        ],
    )?;
    let status = status_change(db, id, p, now)?;
    db.batch(vec![update, status])
        .await
        .map(drop)
        .map_err(Into::into)
}

#[derive(Deserialize)]
struct StatusChangeRow {
    partner_id: String,
    at: i64,
    status: PartnerStatus,
}

/// Every partner's status changes, oldest first, by partner id.
pub async fn status_histories(db: &D1Database) -> Result<HashMap<String, StatusHistory>> {
    let rows: Vec<StatusChangeRow> = statement(db, STATUS_HISTORY, &[])?.all().await?.results()?;
    let mut histories: HashMap<String, StatusHistory> = HashMap::new();
    for change in rows {
        histories
            .entry(change.partner_id)
            .or_default()
            .0
            .push((change.at, change.status));
    }
    Ok(histories)
}
