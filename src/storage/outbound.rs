//! Outbound postback endpoints and their delivery log in D1.

use serde::Deserialize;
use worker::D1Database;

use super::{equal_filters, execute, first, page, statement, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT_ENDPOINT: &str = "INSERT INTO partner_postbacks (id, partner_id, program_id, \
     url_template, events, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', ?, ?)";
const ENDPOINT_BY_ID: &str = "SELECT * FROM partner_postbacks WHERE id = ?";
const UPDATE_ENDPOINT: &str = "UPDATE partner_postbacks SET url_template = ?, status = ?, \
     updated_at = ? WHERE id = ?";

/// Creates the deliveries due: approved conversions, changed since `since`, of partners
/// with an active endpoint for their event and program, that happened after the endpoint was
/// registered (by event time, so imported history is never sent). The unique index keeps one delivery per conversion and endpoint.
const CREATE_DUE: &str = "INSERT OR IGNORE INTO postback_deliveries (id, conversion_id, \
     endpoint_id, partner_id, state, created_at, updated_at) \
     SELECT c.id || ':' || e.id, c.id, e.id, c.partner_id, 'queued', ?1, ?1 \
     FROM conversions c JOIN partner_postbacks e ON e.partner_id = c.partner_id \
     WHERE c.updated_at >= ?2 AND c.status = 'approved' AND c.event != 'refund' \
     AND e.status = 'active' AND (e.program_id IS NULL OR e.program_id = c.program_id) \
     AND instr(',' || e.events || ',', ',' || c.event || ',') > 0 AND c.ts >= e.created_at";
/// Claims the deliveries nobody has queued yet; only the claimer sends them.
const CLAIM: &str = "UPDATE postback_deliveries SET enqueued_at = ?1 \
     WHERE enqueued_at IS NULL AND state = 'queued' RETURNING id";
const DELIVERY_BY_ID: &str = "SELECT * FROM postback_deliveries WHERE id = ?";
const RECORD_ATTEMPT: &str = "UPDATE postback_deliveries SET state = ?, url = ?, \
     attempts = attempts + 1, last_status = ?, last_error = ?, updated_at = ? WHERE id = ?";

#[derive(Debug, Clone, Deserialize)]
pub struct EndpointRow {
    pub id: String,
    pub partner_id: String,
    pub program_id: Option<String>,
    pub url_template: String,
    pub events: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert_endpoint(db: &D1Database, e: &EndpointRow) -> Result<()> {
    execute(
        db,
        INSERT_ENDPOINT,
        &[
            e.id.as_str().into(),
            e.partner_id.as_str().into(),
            (&e.program_id).into(),
            e.url_template.as_str().into(),
            e.events.as_str().into(),
            e.created_at.into(),
            e.updated_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn endpoint(db: &D1Database, id: &str) -> Result<Option<EndpointRow>> {
    first(db, ENDPOINT_BY_ID, &[id.into()]).await
}

pub async fn update_endpoint(db: &D1Database, e: &EndpointRow) -> Result<()> {
    execute(
        db,
        UPDATE_ENDPOINT,
        &[
            e.url_template.as_str().into(),
            e.status.as_str().into(),
            e.updated_at.into(),
            e.id.as_str().into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn endpoints(
    db: &D1Database,
    partner_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<EndpointRow>> {
    page(
        db,
        "partner_postbacks",
        "created_at",
        &equal_filters(&[("partner_id", partner_id)]),
        after,
        limit,
    )
    .await
}

#[derive(Deserialize)]
struct Claimed {
    id: String,
}

/// Creates the deliveries due since `since` and claims every unqueued one; answers the
/// ids to send.
pub async fn claim_due(db: &D1Database, since: i64, now: i64) -> Result<Vec<String>> {
    execute(db, CREATE_DUE, &[now.into(), since.into()]).await?;
    let claimed = statement(db, CLAIM, &[now.into()])?
        .all()
        .await?
        .results::<Claimed>()?;
    Ok(claimed.into_iter().map(|c| c.id).collect())
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryRow {
    pub id: String,
    pub conversion_id: String,
    pub endpoint_id: String,
    pub partner_id: String,
    pub state: String,
    pub url: Option<String>,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn delivery(db: &D1Database, id: &str) -> Result<Option<DeliveryRow>> {
    first(db, DELIVERY_BY_ID, &[id.into()]).await
}

pub struct Attempt<'a> {
    pub state: &'a str,
    pub url: &'a str,
    pub status: Option<u16>,
    pub error: Option<&'a str>,
}

pub async fn record_attempt(db: &D1Database, id: &str, a: &Attempt<'_>, now: i64) -> Result<()> {
    execute(
        db,
        RECORD_ATTEMPT,
        &[
            a.state.into(),
            a.url.into(),
            a.status
                .map_or(super::Arg::Null, |s| super::Arg::Int(i64::from(s))),
            a.error.into(),
            now.into(),
            id.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn deliveries(
    db: &D1Database,
    partner_id: Option<&str>,
    conversion_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<DeliveryRow>> {
    let filters = equal_filters(&[("partner_id", partner_id), ("conversion_id", conversion_id)]);
    page(
        db,
        "postback_deliveries",
        "created_at",
        &filters,
        after,
        limit,
    )
    .await
}
