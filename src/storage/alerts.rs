//! Alerts and the events they raised, in D1. An event is created with `INSERT OR IGNORE`
//! on the unique `(alert_id, condition_key)`, so a condition fires once per period
//! however often the cron checks it.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, statement, Arg, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT: &str = "INSERT INTO alerts (id, program_id, name, spec, status, recipients, \
     recipients_sealed, base_url, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const BY_ID: &str = "SELECT * FROM alerts WHERE id = ? AND status != 'deleted'";
const UPDATE: &str = "UPDATE alerts SET name = ?, spec = ?, status = ?, recipients = ?, \
     recipients_sealed = ?, updated_at = ? WHERE id = ? AND status != 'deleted'";
const DELETE: &str = "UPDATE alerts SET status = 'deleted', deleted_at = ?1, updated_at = ?1 \
     WHERE id = ?2 AND status != 'deleted'";
const LIST: &str = "SELECT * FROM alerts WHERE status != 'deleted' \
     AND (?1 IS NULL OR program_id = ?1) \
     AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3)) \
     ORDER BY created_at, id LIMIT ?4";
const ACTIVE: &str =
    "SELECT * FROM alerts WHERE status = 'active' ORDER BY created_at, id LIMIT 1000";
const SENT: &str =
    "UPDATE alerts SET last_sent_at = ?2, flags_through = coalesce(?3, flags_through) \
     WHERE id = ?1";

const HAS_EVENT: &str =
    "SELECT count(*) AS n FROM alert_events WHERE alert_id = ? AND condition_key = ?";
const CREATE_EVENT: &str =
    "INSERT OR IGNORE INTO alert_events (id, alert_id, condition_key, status, \
     message, created_at, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
     CASE WHEN ?4 = 'suppressed' THEN ?6 END)";
const EVENT_BY_ID: &str = "SELECT e.*, a.name AS alert_name, a.program_id FROM alert_events e \
     JOIN alerts a ON a.id = e.alert_id WHERE e.id = ?";
const EVENTS: &str = "SELECT e.*, a.name AS alert_name, a.program_id FROM alert_events e \
     JOIN alerts a ON a.id = e.alert_id \
     WHERE (?1 IS NULL OR e.alert_id = ?1) AND (?2 IS NULL OR a.program_id = ?2) \
       AND (?3 IS NULL OR e.created_at < ?3 OR (e.created_at = ?3 AND e.id < ?4)) \
     ORDER BY e.created_at DESC, e.id DESC LIMIT ?5";
const FINISH_EVENT: &str = "UPDATE alert_events SET status = ?2, finished_at = ?3 \
     WHERE id = ?1 AND status = 'sending'";

#[derive(Debug, Clone, Deserialize)]
pub struct AlertRow {
    pub id: String,
    pub program_id: String,
    pub name: String,
    pub spec: String,
    pub status: String,
    pub recipients: String,
    pub recipients_sealed: String,
    pub base_url: String,
    pub last_sent_at: Option<i64>,
    pub flags_through: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub alert_id: String,
    pub alert_name: String,
    pub program_id: String,
    pub condition_key: String,
    pub status: String,
    pub message: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

pub async fn insert(db: &D1Database, row: &AlertRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            row.id.as_str().into(),
            row.program_id.as_str().into(),
            row.name.as_str().into(),
            row.spec.as_str().into(),
            row.status.as_str().into(),
            row.recipients.as_str().into(),
            row.recipients_sealed.as_str().into(),
            row.base_url.as_str().into(),
            row.created_at.into(),
            row.updated_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<AlertRow>> {
    first(db, BY_ID, &[id.into()]).await
}

pub async fn update(db: &D1Database, row: &AlertRow) -> Result<bool> {
    Ok(execute(
        db,
        UPDATE,
        &[
            row.name.as_str().into(),
            row.spec.as_str().into(),
            row.status.as_str().into(),
            row.recipients.as_str().into(),
            row.recipients_sealed.as_str().into(),
            row.updated_at.into(),
            row.id.as_str().into(),
        ],
    )
    .await?
        == 1)
}

pub async fn delete(db: &D1Database, id: &str, now: i64) -> Result<bool> {
    Ok(execute(db, DELETE, &[now.into(), id.into()]).await? == 1)
}

/// Alerts oldest first, of a program when given (deleted ones are not listed).
pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<AlertRow>> {
    let rows = statement(
        db,
        LIST,
        &[
            program_id.into(),
            after.map_or(Arg::Null, |c| Arg::Int(c.at)),
            after.map(|c| c.id.as_str()).into(),
            (limit + 1).into(),
        ],
    )?
    .all()
    .await?
    .results::<AlertRow>()?;
    Ok(Page::from_overfetch(rows, limit))
}

pub async fn active(db: &D1Database) -> Result<Vec<AlertRow>> {
    Ok(statement(db, ACTIVE, &[])?
        .all()
        .await?
        .results::<AlertRow>()?)
}

/// Records that the alert sent at `at` (and, for new flags, reported through
/// `flags_through`).
pub async fn sent(db: &D1Database, id: &str, at: i64, flags_through: Option<i64>) -> Result<()> {
    execute(
        db,
        SENT,
        &[
            id.into(),
            at.into(),
            flags_through.map_or(Arg::Null, Arg::Int),
        ],
    )
    .await
    .map(drop)
}

pub async fn has_event(db: &D1Database, alert_id: &str, key: &str) -> Result<bool> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let count: Option<Count> = first(db, HAS_EVENT, &[alert_id.into(), key.into()]).await?;
    Ok(count.is_some_and(|c| c.n > 0))
}

/// An event about to be created.
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub alert_id: &'a str,
    pub key: &'a str,
    /// `sending`, or `suppressed` in the quiet period.
    pub status: &'a str,
    pub message: &'a str,
    pub now: i64,
}

/// Creates the event unless the alert has one for this condition and period; answers
/// whether this call created it.
pub async fn create_event(db: &D1Database, e: &NewEvent<'_>) -> Result<bool> {
    Ok(execute(
        db,
        CREATE_EVENT,
        &[
            e.id.into(),
            e.alert_id.into(),
            e.key.into(),
            e.status.into(),
            e.message.into(),
            e.now.into(),
        ],
    )
    .await?
        == 1)
}

pub async fn event(db: &D1Database, id: &str) -> Result<Option<EventRow>> {
    first(db, EVENT_BY_ID, &[id.into()]).await
}

/// Events, newest first.
pub async fn events(
    db: &D1Database,
    alert_id: Option<&str>,
    program_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<EventRow>> {
    let rows = statement(
        db,
        EVENTS,
        &[
            alert_id.into(),
            program_id.into(),
            after.map_or(Arg::Null, |c| Arg::Int(c.at)),
            after.map(|c| c.id.as_str()).into(),
            (limit + 1).into(),
        ],
    )?
    .all()
    .await?
    .results::<EventRow>()?;
    Ok(Page::from_overfetch(rows, limit))
}

pub async fn finish_event(db: &D1Database, id: &str, status: &str, now: i64) -> Result<()> {
    execute(db, FINISH_EVENT, &[id.into(), status.into(), now.into()])
        .await
        .map(drop)
}
