//! Program costs in D1: marketing, training, support and other spending per day.

use serde::Deserialize;
use worker::D1Database;

use super::{equal_filters, execute, first, page, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT: &str =
    "INSERT INTO costs (id, program_id, date, category, amount_cents, created_at) \
     VALUES (?, ?, ?, ?, ?, ?)";

const BY_ID: &str = "SELECT * FROM costs WHERE id = ?";
const UPDATE: &str = "UPDATE costs SET date = ?, category = ?, amount_cents = ? WHERE id = ?";
const DELETE: &str = "DELETE FROM costs WHERE id = ?";

#[derive(Debug, Clone, Deserialize)]
pub struct CostRow {
    pub id: String,
    pub program_id: String,
    pub date: String,
    pub category: String,
    pub amount_cents: i64,
    pub created_at: i64,
}

pub async fn insert(db: &D1Database, c: &CostRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            c.id.as_str().into(),
            c.program_id.as_str().into(),
            c.date.as_str().into(),
            c.category.as_str().into(),
            c.amount_cents.into(),
            c.created_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<CostRow>> {
    first(db, BY_ID, &[id.into()]).await
}

/// Sets a cost's date, category and amount (its program and id stay).
pub async fn update(db: &D1Database, c: &CostRow) -> Result<()> {
    execute(
        db,
        UPDATE,
        &[
            c.date.as_str().into(),
            c.category.as_str().into(),
            c.amount_cents.into(),
            c.id.as_str().into(),
        ],
    )
    .await
    .map(drop)
}

/// Deletes a cost; answers whether there was one.
pub async fn delete(db: &D1Database, id: &str) -> Result<bool> {
    Ok(execute(db, DELETE, &[id.into()]).await? > 0)
}

pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<CostRow>> {
    let filters = equal_filters(&[("program_id", program_id)]);
    page(db, "costs", "created_at", &filters, after, limit).await
}
