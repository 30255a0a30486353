//! Commission rules in D1.

use rust_decimal::Decimal;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{equal_filters, execute, first, page, statement, Page, Result};
use crate::domain::conversions::commission::{Rule, RuleKind};
use crate::domain::conversions::ConversionEvent;
use crate::domain::cursor::Cursor;
use crate::domain::partners::Segment;

const INSERT: &str = "INSERT INTO commission_rules (id, program_id, event, kind, value, \
     partner_id, segment, from_monthly_sale, status, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)";
const BY_ID: &str = "SELECT * FROM commission_rules WHERE id = ?";
const ACTIVE_OF_PROGRAM: &str =
    "SELECT * FROM commission_rules WHERE program_id = ? AND status = 'active'";
const UPDATE: &str =
    "UPDATE commission_rules SET value = ?, status = ?, updated_at = ? WHERE id = ?";

#[derive(Debug, Clone, Deserialize)]
pub struct RuleRow {
    pub id: String,
    pub program_id: String,
    pub event: ConversionEvent,
    pub kind: RuleKind,
    /// Stored as a decimal string.
    pub value: Decimal,
    pub partner_id: Option<String>,
    pub segment: Option<Segment>,
    pub from_monthly_sale: Option<i64>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RuleRow {
    /// The rule as the engine takes it.
    pub fn to_rule(&self) -> Rule {
        Rule {
            id: self.id.clone(),
            event: self.event,
            kind: self.kind,
            value: self.value,
            partner_id: self.partner_id.clone(),
            segment: self.segment,
            from_monthly_sale: self.from_monthly_sale.and_then(|n| u32::try_from(n).ok()),
            created_at: self.created_at,
        }
    }
}

/// The statement that inserts `r` (for a batch with other writes).
pub fn insert_statement(db: &D1Database, r: &RuleRow) -> Result<D1PreparedStatement> {
    let value = r.value.to_string();
    statement(
        db,
        INSERT,
        &[
            r.id.as_str().into(),
            r.program_id.as_str().into(),
            r.event.as_str().into(),
            r.kind.as_str().into(),
            value.as_str().into(),
            (&r.partner_id).into(),
            r.segment.map(|s| s.as_str()).into(),
            r.from_monthly_sale
                .map_or(super::Arg::Null, super::Arg::Int),
            r.created_at.into(),
            r.updated_at.into(),
        ],
    )
}

pub async fn insert(db: &D1Database, r: &RuleRow) -> Result<()> {
    insert_statement(db, r)?.run().await?;
    Ok(())
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<RuleRow>> {
    first(db, BY_ID, &[id.into()]).await
}

pub async fn update(db: &D1Database, r: &RuleRow) -> Result<()> {
    let value = r.value.to_string();
    execute(
        db,
        UPDATE,
        &[
            value.as_str().into(),
            r.status.as_str().into(),
            r.updated_at.into(),
            r.id.as_str().into(),
        ],
    )
    .await
    .map(drop)
}

/// The active rules of a program, as the engine takes them.
pub async fn active_of_program(db: &D1Database, program_id: &str) -> Result<Vec<Rule>> {
    let rows = statement(db, ACTIVE_OF_PROGRAM, &[program_id.into()])?
        .all()
        .await?
        .results::<RuleRow>()?;
    Ok(rows.iter().map(RuleRow::to_rule).collect())
}

pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<RuleRow>> {
    let filters = equal_filters(&[("program_id", program_id)]);
    page(db, "commission_rules", "created_at", &filters, after, limit).await
}
