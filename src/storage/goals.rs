//! SMART goals in D1. Targets and percentages are kept as the decimal strings given.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, statement, Page, Result};
use crate::domain::cursor::Cursor;
use crate::domain::goals::GoalFields;

const INSERT: &str = "INSERT INTO goals (id, program_id, partner_id, segment, metric, target, \
     target_change_percent, baseline_from, baseline_to, start, deadline, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const BY_ID: &str = "SELECT * FROM goals WHERE id = ? AND deleted_at IS NULL";
const UPDATE: &str = "UPDATE goals SET partner_id = ?, segment = ?, metric = ?, target = ?, \
     target_change_percent = ?, baseline_from = ?, baseline_to = ?, start = ?, deadline = ?, \
     updated_at = ? WHERE id = ? AND deleted_at IS NULL";
const DELETE: &str = "UPDATE goals SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL";
const LIST: &str = "SELECT * FROM goals WHERE deleted_at IS NULL \
     AND (?1 IS NULL OR program_id = ?1) \
     AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3)) \
     ORDER BY created_at, id LIMIT ?4";

#[derive(Debug, Clone, Deserialize)]
pub struct GoalRow {
    pub id: String,
    pub program_id: String,
    pub partner_id: Option<String>,
    pub segment: Option<String>,
    pub metric: String,
    pub target: Option<String>,
    pub target_change_percent: Option<String>,
    pub baseline_from: Option<String>,
    pub baseline_to: Option<String>,
    pub start: String,
    pub deadline: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl GoalRow {
    /// The stored fields, to be parsed as a goal again.
    pub fn fields(&self) -> GoalFields {
        GoalFields {
            metric: Some(self.metric.clone()),
            target: self.target.clone(),
            target_change_percent: self.target_change_percent.clone(),
            baseline_from: self.baseline_from.clone(),
            baseline_to: self.baseline_to.clone(),
            start: Some(self.start.clone()),
            deadline: Some(self.deadline.clone()),
            partner_id: self.partner_id.clone(),
            segment: self.segment.clone(),
        }
    }
}

pub async fn insert(db: &D1Database, g: &GoalRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            g.id.as_str().into(),
            g.program_id.as_str().into(),
            (&g.partner_id).into(),
            (&g.segment).into(),
            g.metric.as_str().into(),
            (&g.target).into(),
            (&g.target_change_percent).into(),
            (&g.baseline_from).into(),
            (&g.baseline_to).into(),
            g.start.as_str().into(),
            g.deadline.as_str().into(),
            g.created_at.into(),
            g.updated_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<GoalRow>> {
    first(db, BY_ID, &[id.into()]).await
}

pub async fn update(db: &D1Database, g: &GoalRow) -> Result<()> {
    execute(
        db,
        UPDATE,
        &[
            (&g.partner_id).into(),
            (&g.segment).into(),
            g.metric.as_str().into(),
            (&g.target).into(),
            (&g.target_change_percent).into(),
            (&g.baseline_from).into(),
            (&g.baseline_to).into(),
            g.start.as_str().into(),
            g.deadline.as_str().into(),
            g.updated_at.into(),
            g.id.as_str().into(),
        ],
    )
    .await
    .map(drop)
}

/// Deletes the goal (it stays in the table, marked); answers whether it existed.
pub async fn delete(db: &D1Database, id: &str, now: i64) -> Result<bool> {
    Ok(execute(db, DELETE, &[now.into(), id.into()]).await? == 1)
}

pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<GoalRow>> {
    let rows = statement(
        db,
        LIST,
        &[
            program_id.into(),
            after.map_or(super::Arg::Null, |c| super::Arg::Int(c.at)),
            after.map(|c| c.id.as_str()).into(),
            (limit + 1).into(),
        ],
    )?
    .all()
    .await?
    .results::<GoalRow>()?;
    Ok(Page::from_overfetch(rows, limit))
}
