//! Report schedules, their runs and the deliveries of each run in D1.
//!
//! A run is created with `INSERT OR IGNORE` on the unique `(schedule_id, period_key)`, so
//! only the first cron that finds a period due creates (and queues) it. A delivery is
//! claimed before it is sent: the claim moves `next_attempt_at` a lease ahead in the same
//! statement that checks it is due, so two consumers never send one message twice.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, statement, Arg, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT: &str = "INSERT INTO report_schedules (id, name, spec, status, recipients, \
     recipients_sealed, base_url, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
const BY_ID: &str = "SELECT * FROM report_schedules WHERE id = ? AND status != 'deleted'";
const UPDATE: &str = "UPDATE report_schedules SET name = ?, spec = ?, status = ?, \
     recipients = ?, recipients_sealed = ?, updated_at = ? WHERE id = ? AND status != 'deleted'";
const DELETE: &str = "UPDATE report_schedules SET status = 'deleted', deleted_at = ?1, \
     updated_at = ?1 WHERE id = ?2 AND status != 'deleted'";
const LIST: &str = "SELECT * FROM report_schedules WHERE status != 'deleted' \
     AND (?1 IS NULL OR status = ?1) \
     AND (?2 IS NULL OR created_at > ?2 OR (created_at = ?2 AND id > ?3)) \
     ORDER BY created_at, id LIMIT ?4";
const ACTIVE: &str = "SELECT * FROM report_schedules WHERE status = 'active' \
     ORDER BY created_at, id LIMIT 1000";

const CREATE_RUN: &str = "INSERT OR IGNORE INTO report_runs (id, schedule_id, period_key, \
     due_at, range_from, range_to, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)";
const RUN_BY_ID: &str = "SELECT r.*, s.name AS schedule_name FROM report_runs r \
     JOIN report_schedules s ON s.id = r.schedule_id WHERE r.id = ?";
const RUNS: &str = "SELECT r.*, s.name AS schedule_name FROM report_runs r \
     JOIN report_schedules s ON s.id = r.schedule_id \
     WHERE (?1 IS NULL OR r.schedule_id = ?1) AND (?2 IS NULL OR r.status = ?2) \
       AND (?3 IS NULL OR r.created_at < ?3 OR (r.created_at = ?3 AND r.id < ?4)) \
     ORDER BY r.created_at DESC, r.id DESC LIMIT ?5";
const GENERATED: &str = "UPDATE report_runs SET status = 'sending', file_key = ?, file_name = ?, \
     content_type = ?, file_bytes = ?, row_count = ?, summary = ?, error = NULL, \
     generated_at = ? WHERE id = ? AND status = 'queued'";
const ATTEMPTED: &str = "UPDATE report_runs SET attempts = attempts + 1, error = ?2 WHERE id = ?1";
const FINISHED: &str = "UPDATE report_runs SET status = ?2, finished_at = ?3, \
     error = coalesce(?4, error) WHERE id = ?1 AND status IN ('queued', 'sending')";
/// Runs and alert events a lost queue message left unfinished: queued or sending, made
/// in the last two days, with nothing due for more than ten minutes.
const STALLED: &str = "SELECT id FROM (SELECT id, created_at FROM report_runs \
       WHERE status IN ('queued', 'sending') \
     UNION ALL SELECT id, created_at FROM alert_events WHERE status = 'sending') s \
     WHERE s.created_at > ?1 AND s.created_at < ?2 AND NOT EXISTS (SELECT 1 FROM \
     notification_deliveries d WHERE d.subject_id = s.id AND d.status = 'pending' \
     AND d.next_attempt_at >= ?2) LIMIT 100";

const ADD_DELIVERY: &str = "INSERT OR IGNORE INTO notification_deliveries (subject_id, \
     recipient, channel, target, status, attempts, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?)";
const DELIVERIES: &str = "SELECT * FROM notification_deliveries WHERE subject_id = ? \
     ORDER BY recipient";
const CLAIM: &str = "UPDATE notification_deliveries SET attempts = attempts + 1, \
     next_attempt_at = ?4, updated_at = ?3 WHERE subject_id = ?1 AND recipient = ?2 \
     AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?3)";
const RECORD: &str = "UPDATE notification_deliveries SET status = ?3, last_status = ?4, \
     last_error = ?5, next_attempt_at = ?6, delivered_at = ?7, updated_at = ?8 \
     WHERE subject_id = ?1 AND recipient = ?2";

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduleRow {
    pub id: String,
    pub name: String,
    pub spec: String,
    pub status: String,
    pub recipients: String,
    pub recipients_sealed: String,
    pub base_url: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunRow {
    pub id: String,
    pub schedule_id: String,
    pub schedule_name: String,
    pub period_key: String,
    pub due_at: i64,
    pub range_from: String,
    pub range_to: String,
    pub status: String,
    pub file_key: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub file_bytes: Option<i64>,
    pub row_count: Option<i64>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub created_at: i64,
    pub generated_at: Option<i64>,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeliveryRow {
    pub recipient: i64,
    pub channel: String,
    pub target: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

pub async fn insert(db: &D1Database, row: &ScheduleRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            row.id.as_str().into(),
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

pub async fn get(db: &D1Database, id: &str) -> Result<Option<ScheduleRow>> {
    first(db, BY_ID, &[id.into()]).await
}

pub async fn update(db: &D1Database, row: &ScheduleRow) -> Result<bool> {
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

/// Marks the schedule deleted (its runs and files stay); answers whether it existed.
pub async fn delete(db: &D1Database, id: &str, now: i64) -> Result<bool> {
    Ok(execute(db, DELETE, &[now.into(), id.into()]).await? == 1)
}

/// Schedules, oldest first (deleted ones are not listed).
pub async fn list(
    db: &D1Database,
    status: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<ScheduleRow>> {
    let rows = statement(
        db,
        LIST,
        &[
            status.into(),
            after.map_or(Arg::Null, |c| Arg::Int(c.at)),
            after.map(|c| c.id.as_str()).into(),
            (limit + 1).into(),
        ],
    )?
    .all()
    .await?
    .results::<ScheduleRow>()?;
    Ok(Page::from_overfetch(rows, limit))
}

pub async fn active(db: &D1Database) -> Result<Vec<ScheduleRow>> {
    Ok(statement(db, ACTIVE, &[])?
        .all()
        .await?
        .results::<ScheduleRow>()?)
}

/// A run about to be created.
pub struct NewRun<'a> {
    pub id: &'a str,
    pub schedule_id: &'a str,
    pub period_key: &'a str,
    pub due_at: i64,
    pub range_from: &'a str,
    pub range_to: &'a str,
    pub now: i64,
}

/// Creates the run of a schedule's period unless one exists; answers whether this call
/// created it.
pub async fn create_run(db: &D1Database, run: &NewRun<'_>) -> Result<bool> {
    Ok(execute(
        db,
        CREATE_RUN,
        &[
            run.id.into(),
            run.schedule_id.into(),
            run.period_key.into(),
            run.due_at.into(),
            run.range_from.into(),
            run.range_to.into(),
            run.now.into(),
        ],
    )
    .await?
        == 1)
}

pub async fn run(db: &D1Database, id: &str) -> Result<Option<RunRow>> {
    first(db, RUN_BY_ID, &[id.into()]).await
}

/// Runs, newest first.
pub async fn runs(
    db: &D1Database,
    schedule_id: Option<&str>,
    status: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<RunRow>> {
    let rows = statement(
        db,
        RUNS,
        &[
            schedule_id.into(),
            status.into(),
            after.map_or(Arg::Null, |c| Arg::Int(c.at)),
            after.map(|c| c.id.as_str()).into(),
            (limit + 1).into(),
        ],
    )?
    .all()
    .await?
    .results::<RunRow>()?;
    Ok(Page::from_overfetch(rows, limit))
}

/// The generated file of a run.
pub struct Generated<'a> {
    pub file_key: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub file_bytes: i64,
    pub row_count: i64,
    pub summary: &'a str,
}

/// A recipient a message is sent to: its channel and who, as the API shows it.
pub struct Addressee {
    pub channel: String,
    pub target: String,
}

/// Records a run's file and creates its deliveries, in one batch.
pub async fn generated(
    db: &D1Database,
    run_id: &str,
    file: &Generated<'_>,
    to: &[Addressee],
    now: i64,
) -> Result<()> {
    let mut statements = vec![statement(
        db,
        GENERATED,
        &[
            file.file_key.into(),
            file.file_name.into(),
            file.content_type.into(),
            file.file_bytes.into(),
            file.row_count.into(),
            file.summary.into(),
            now.into(),
            run_id.into(),
        ],
    )?];
    statements.extend(delivery_statements(db, run_id, to, now)?);
    db.batch(statements).await?;
    Ok(())
}

/// Counts an attempt at generating the run, with its error.
pub async fn attempted(db: &D1Database, run_id: &str, error: &str) -> Result<()> {
    execute(db, ATTEMPTED, &[run_id.into(), error.into()])
        .await
        .map(drop)
}

/// Finishes a run: `delivered`, `partly_delivered` or `failed`.
pub async fn finish(
    db: &D1Database,
    run_id: &str,
    status: &str,
    now: i64,
    error: Option<&str>,
) -> Result<()> {
    execute(
        db,
        FINISHED,
        &[run_id.into(), status.into(), now.into(), error.into()],
    )
    .await
    .map(drop)
}

/// Unfinished runs and alert events whose queue message seems lost (see [`STALLED`]).
pub async fn stalled(db: &D1Database, now: i64) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows = statement(
        db,
        STALLED,
        &[(now - 2 * 86_400_000).into(), (now - 600_000).into()],
    )?
    .all()
    .await?
    .results::<Id>()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

pub async fn deliveries(db: &D1Database, subject_id: &str) -> Result<Vec<DeliveryRow>> {
    Ok(statement(db, DELIVERIES, &[subject_id.into()])?
        .all()
        .await?
        .results::<DeliveryRow>()?)
}

/// Claims a due delivery for `lease_ms`; answers whether this caller got it.
pub async fn claim(
    db: &D1Database,
    subject_id: &str,
    recipient: i64,
    now: i64,
    lease_ms: i64,
) -> Result<bool> {
    Ok(execute(
        db,
        CLAIM,
        &[
            subject_id.into(),
            recipient.into(),
            now.into(),
            (now + lease_ms).into(),
        ],
    )
    .await?
        == 1)
}

/// The outcome of one attempt.
pub struct Outcome<'a> {
    pub status: &'a str,
    pub http_status: Option<u16>,
    pub error: Option<&'a str>,
    pub next_attempt_at: Option<i64>,
}

pub async fn record(
    db: &D1Database,
    subject_id: &str,
    recipient: i64,
    outcome: &Outcome<'_>,
    now: i64,
) -> Result<()> {
    let delivered_at = (outcome.status == "delivered").then_some(now);
    execute(
        db,
        RECORD,
        &[
            subject_id.into(),
            recipient.into(),
            outcome.status.into(),
            outcome
                .http_status
                .map_or(Arg::Null, |s| Arg::Int(i64::from(s))),
            outcome.error.into(),
            outcome.next_attempt_at.map_or(Arg::Null, Arg::Int),
            delivered_at.map_or(Arg::Null, Arg::Int),
            now.into(),
        ],
    )
    .await
    .map(drop)
}

/// Creates the deliveries of `subject_id` that do not exist yet (one per addressee).
pub async fn add_deliveries(
    db: &D1Database,
    subject_id: &str,
    to: &[Addressee],
    now: i64,
) -> Result<()> {
    let statements = delivery_statements(db, subject_id, to, now)?;
    if !statements.is_empty() {
        db.batch(statements).await?;
    }
    Ok(())
}

/// One `INSERT OR IGNORE` per addressee, at its position in the list.
fn delivery_statements(
    db: &D1Database,
    subject_id: &str,
    to: &[Addressee],
    now: i64,
) -> Result<Vec<worker::D1PreparedStatement>> {
    to.iter()
        .enumerate()
        .map(|(index, addressee)| {
            statement(
                db,
                ADD_DELIVERY,
                &[
                    subject_id.into(),
                    Arg::Int(index as i64),
                    addressee.channel.as_str().into(),
                    addressee.target.as_str().into(),
                    now.into(),
                ],
            )
        })
        .collect()
}
