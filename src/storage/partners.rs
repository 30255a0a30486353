//! Partners in D1.

use serde::Deserialize;
use worker::{D1Database, Result};

use super::{execute, first, page, Page};
use crate::domain::cursor::Cursor;
use crate::domain::partner::PartnerFields;

const TABLE: &str = "partners";

const INSERT: &str = "INSERT INTO partners (id, name, email, segment, tier, region, status, \
     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
const SELECT_BY_ID: &str = "SELECT * FROM partners WHERE id = ?";
const UPDATE: &str = "UPDATE partners SET name = ?, email = ?, segment = ?, tier = ?, region = ?, \
     status = ?, updated_at = ? WHERE id = ?";

#[derive(Debug, Clone, Deserialize)]
pub struct PartnerRow {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub segment: String,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert(db: &D1Database, id: &str, p: &PartnerFields, now: i64) -> Result<()> {
    execute(
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
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<PartnerRow>> {
    first(db, SELECT_BY_ID, &[id.into()]).await
}

pub async fn list(db: &D1Database, after: Option<&Cursor>, limit: u32) -> Result<Page<PartnerRow>> {
    page(db, TABLE, "created_at", &[], after, limit).await
}

pub async fn update(db: &D1Database, id: &str, p: &PartnerFields, now: i64) -> Result<()> {
    execute(
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
    )
    .await
    .map(drop)
}
