//! Partner materials in D1, and the ones a partner may place (with its own link).

use serde::Deserialize;
use worker::D1Database;

use super::{equal_filters, execute, first, page, statement, Arg, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT: &str = "INSERT INTO materials (id, program_id, link_id, name, kind, image_url, \
     width, height, body, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)";
const BY_ID: &str = "SELECT m.*, l.code AS link_code FROM materials m \
     LEFT JOIN links l ON l.id = m.link_id WHERE m.id = ?";
const ARCHIVE: &str = "UPDATE materials SET status = 'archived', archived_at = ? \
     WHERE id = ? AND status = 'active'";
/// The live materials a partner may place: of programs it has an active link in, for
/// every partner or for one of its links; each with the link it places it with (the one
/// it is made for, else the partner's oldest active link in the program).
const FOR_PARTNER: &str = "SELECT m.*, (SELECT l.code FROM links l WHERE l.partner_id = ?1 \
       AND l.program_id = m.program_id AND l.status = 'active' \
       AND (m.link_id IS NULL OR l.id = m.link_id) ORDER BY l.created_at, l.id LIMIT 1) AS link_code \
     FROM materials m WHERE m.status = 'active' AND (?2 IS NULL OR m.program_id = ?2) \
       AND EXISTS (SELECT 1 FROM links l WHERE l.partner_id = ?1 AND l.program_id = m.program_id \
         AND l.status = 'active' AND (m.link_id IS NULL OR l.id = m.link_id)) \
     ORDER BY m.created_at, m.id LIMIT 500";

#[derive(Debug, Clone, Deserialize)]
pub struct MaterialRow {
    pub id: String,
    pub program_id: String,
    pub link_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub image_url: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub body: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub archived_at: Option<i64>,
    /// The link the material is placed with, where one is known.
    #[serde(default)]
    pub link_code: Option<String>,
}

pub async fn insert(db: &D1Database, row: &MaterialRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            row.id.as_str().into(),
            row.program_id.as_str().into(),
            (&row.link_id).into(),
            row.name.as_str().into(),
            row.kind.as_str().into(),
            (&row.image_url).into(),
            row.width.map_or(Arg::Null, Arg::Int),
            row.height.map_or(Arg::Null, Arg::Int),
            (&row.body).into(),
            row.created_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<MaterialRow>> {
    first(db, BY_ID, &[id.into()]).await
}

pub async fn archive(db: &D1Database, id: &str, now: i64) -> Result<()> {
    execute(db, ARCHIVE, &[now.into(), id.into()])
        .await
        .map(drop)
}

/// Materials oldest first, of a program when given.
pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<MaterialRow>> {
    let filters = equal_filters(&[("program_id", program_id)]);
    page(db, "materials", "created_at", &filters, after, limit).await
}

pub async fn for_partner(
    db: &D1Database,
    partner_id: &str,
    program_id: Option<&str>,
) -> Result<Vec<MaterialRow>> {
    Ok(
        statement(db, FOR_PARTNER, &[partner_id.into(), program_id.into()])?
            .all()
            .await?
            .results::<MaterialRow>()?,
    )
}
