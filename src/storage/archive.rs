//! The event archive in D1: its records and parts (main database), the raw rows a part
//! takes, and the moves between the raw tables and `archived_event_hours` (both in the
//! program's event shard).
//!
//! A move is one D1 transaction per chunk of events: their counts are added to
//! `archived_event_hours` (by the rollup's own fact expressions) and the rows deleted, so
//! the rollups read the same numbers before, during and after. A restore runs it
//! backwards: the counts of the rows not yet back are subtracted and the rows inserted.

use serde::Deserialize;
use worker::D1Database;

use super::rollups::{click_facts_sql, impression_facts_sql};
use super::{equal_filters, execute, first, page, statement, Page, Result};
use crate::domain::archive::Kind;
use crate::domain::cursor::Cursor;

const CLICK_COLUMNS: &[&str] = &[
    "id",
    "ts",
    "link_id",
    "partner_id",
    "program_id",
    "country",
    "region",
    "city",
    "colo",
    "device",
    "os",
    "browser",
    "referrer_host",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "visitor_hash",
    "is_bot",
    "is_unique",
    "variant",
    "material_id",
];

const IMPRESSION_COLUMNS: &[&str] = &[
    "id",
    "ts",
    "link_id",
    "partner_id",
    "program_id",
    "country",
    "region",
    "city",
    "colo",
    "device",
    "os",
    "browser",
    "referrer_host",
    "visitor_hash",
    "is_bot",
    "material_id",
];

const COUNT_COLUMNS: &str = "hour, program_id, partner_id, link_id, country, device, source, \
     variant, material_id";

fn table(kind: Kind) -> &'static str {
    kind.as_str()
}

fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Clicks => CLICK_COLUMNS,
        Kind::Impressions => IMPRESSION_COLUMNS,
    }
}

fn facts(kind: Kind) -> &'static str {
    match kind {
        Kind::Clicks => click_facts_sql!(),
        Kind::Impressions => impression_facts_sql!(),
    }
}

/// A row of the raw table as one JSON object: every column, by name.
fn json_line(kind: Kind) -> String {
    let pairs: Vec<String> = columns(kind)
        .iter()
        .map(|c| format!("'{c}', {c}"))
        .collect();
    format!("json_object({})", pairs.join(", "))
}

/// The rows of the JSON array `?1` as a relation with the raw table's columns.
fn json_rows(kind: Kind) -> String {
    let picks: Vec<String> = columns(kind)
        .iter()
        .map(|c| format!("json_extract(value, '$.{c}') AS {c}"))
        .collect();
    format!("SELECT {} FROM json_each(?1)", picks.join(", "))
}

/// Adds `sign` × the counts of the rows of `source` (a relation with the raw table's
/// columns) to `archived_event_hours`.
fn add_counts(kind: Kind, source: &str, sign: i64) -> String {
    format!(
        "INSERT INTO archived_event_hours ({COUNT_COLUMNS}, clicks, unique_clicks, bot_clicks, \
         impressions) SELECT * FROM (SELECT {COUNT_COLUMNS}, {sign} * sum(clicks), \
         {sign} * sum(unique_clicks), {sign} * sum(bot_clicks), {sign} * sum(impressions) \
         FROM (SELECT {facts} FROM ({source})) GROUP BY {COUNT_COLUMNS}) WHERE true \
         ON CONFLICT ({COUNT_COLUMNS}) DO UPDATE SET clicks = clicks + excluded.clicks, \
         unique_clicks = unique_clicks + excluded.unique_clicks, \
         bot_clicks = bot_clicks + excluded.bot_clicks, \
         impressions = impressions + excluded.impressions",
        facts = facts(kind),
    )
}

/// The raw rows of `[?2, ?3)` of program `?1`, oldest first, at most `?4`, as JSON lines.
pub async fn lines(
    db: &D1Database,
    kind: Kind,
    program_id: &str,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Line {
        line: String,
    }
    let sql = format!(
        "SELECT {} AS line FROM {} WHERE program_id = ?1 AND ts >= ?2 AND ts < ?3 \
         ORDER BY ts, id LIMIT ?4",
        json_line(kind),
        table(kind)
    );
    let rows = statement(
        db,
        &sql,
        &[program_id.into(), from.into(), to.into(), limit.into()],
    )?
    .all()
    .await?
    .results::<Line>()?;
    Ok(rows.into_iter().map(|r| r.line).collect())
}

/// Moves the events of the JSON array `events` (lines of an archived part) out of the raw
/// table: counts kept, rows deleted, in one transaction. Answers how many rows left D1 (0
/// when a repeated move finds them gone).
pub async fn move_out(db: &D1Database, kind: Kind, events: &str) -> Result<usize> {
    let present = format!(
        "SELECT * FROM {} WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))",
        table(kind)
    );
    let delete = format!(
        "DELETE FROM {} WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))",
        table(kind)
    );
    let results = db
        .batch(vec![
            statement(db, &add_counts(kind, &present, 1), &[events.into()])?,
            statement(db, &delete, &[events.into()])?,
        ])
        .await?;
    Ok(changes(results.get(1)))
}

/// Puts the events of the JSON array `events` back into the raw table, the counts of
/// those not there yet subtracted, in one transaction. Answers how many came back.
pub async fn move_in(db: &D1Database, kind: Kind, events: &str) -> Result<usize> {
    let absent = format!(
        "SELECT * FROM ({}) AS r WHERE NOT EXISTS (SELECT 1 FROM {} t WHERE t.id = r.id)",
        json_rows(kind),
        table(kind)
    );
    let cols = columns(kind).join(", ");
    let insert = format!(
        "INSERT INTO {} ({cols}) SELECT {cols} FROM ({}) WHERE true ON CONFLICT (id) DO NOTHING",
        table(kind),
        json_rows(kind)
    );
    let results = db
        .batch(vec![
            statement(db, &add_counts(kind, &absent, -1), &[events.into()])?,
            statement(db, &insert, &[events.into()])?,
        ])
        .await?;
    Ok(changes(results.get(1)))
}

fn changes(result: Option<&worker::D1Result>) -> usize {
    result
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
}

/// The earliest raw event of a program at or after `from`, if any.
pub async fn first_event_at(
    db: &D1Database,
    kind: Kind,
    program_id: &str,
    from: i64,
) -> Result<Option<i64>> {
    #[derive(Deserialize)]
    struct First {
        ts: Option<i64>,
    }
    let sql = format!(
        "SELECT min(ts) AS ts FROM {} WHERE program_id = ?1 AND ts >= ?2",
        table(kind)
    );
    Ok(first::<First>(db, &sql, &[program_id.into(), from.into()])
        .await?
        .and_then(|f| f.ts))
}

#[derive(Deserialize)]
pub struct ProgramWindow {
    pub id: String,
    pub attribution_window_days: i64,
    pub events_shard: String,
}

pub async fn program_windows(db: &D1Database) -> Result<Vec<ProgramWindow>> {
    Ok(statement(
        db,
        "SELECT id, attribution_window_days, events_shard FROM programs ORDER BY id",
        &[],
    )?
    .all()
    .await?
    .results()?)
}

pub async fn dirty_days(db: &D1Database) -> Result<Vec<i64>> {
    #[derive(Deserialize)]
    struct Day {
        day: i64,
    }
    Ok(statement(db, "SELECT day FROM rollup_dirty_days", &[])?
        .all()
        .await?
        .results::<Day>()?
        .into_iter()
        .map(|d| d.day)
        .collect())
}

/// The periods `[created_at, stopped_at)` of a program's experiments.
pub async fn experiment_periods(
    db: &D1Database,
    program_id: &str,
) -> Result<Vec<(i64, Option<i64>)>> {
    #[derive(Deserialize)]
    struct Period {
        created_at: i64,
        stopped_at: Option<i64>,
    }
    Ok(statement(
        db,
        "SELECT created_at, stopped_at FROM experiments WHERE program_id = ?1",
        &[program_id.into()],
    )?
    .all()
    .await?
    .results::<Period>()?
    .into_iter()
    .map(|p| (p.created_at, p.stopped_at))
    .collect())
}

/// A day of a program's events in the archive (or on its way in or out).
#[derive(Debug, Clone, Deserialize)]
pub struct ArchiveRow {
    pub id: String,
    pub program_id: String,
    pub kind: String,
    pub day: String,
    pub status: String,
    pub events: i64,
    pub bytes: i64,
    pub parts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
    pub restored_at: Option<i64>,
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<ArchiveRow>> {
    first(
        db,
        "SELECT * FROM event_archives WHERE id = ?1",
        &[id.into()],
    )
    .await
}

pub struct ArchiveFilter<'a> {
    pub program_id: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub status: Option<&'a str>,
}

pub async fn list(
    db: &D1Database,
    filter: &ArchiveFilter<'_>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<ArchiveRow>> {
    let filters = equal_filters(&[
        ("program_id", filter.program_id),
        ("kind", filter.kind),
        ("status", filter.status),
    ]);
    page(db, "event_archives", "created_at", &filters, after, limit).await
}

/// Days of a program restored from the archive, with when (days since the epoch).
pub async fn restored_days(
    db: &D1Database,
    program_id: &str,
    kind: Kind,
) -> Result<Vec<(String, i64)>> {
    #[derive(Deserialize)]
    struct Restored {
        day: String,
        restored_at: i64,
    }
    Ok(statement(
        db,
        "SELECT day, restored_at FROM event_archives WHERE program_id = ?1 AND kind = ?2 \
         AND status = 'restored' AND restored_at IS NOT NULL",
        &[program_id.into(), kind.as_str().into()],
    )?
    .all()
    .await?
    .results::<Restored>()?
    .into_iter()
    .map(|r| (r.day, r.restored_at))
    .collect())
}

/// Restores asked for whose worker is gone (no live lease, untouched since `stale_before`).
pub async fn stalled_restores(db: &D1Database, now: i64, stale_before: i64) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    Ok(statement(
        db,
        "SELECT id FROM event_archives WHERE status = 'restoring' \
         AND (lease_until IS NULL OR lease_until < ?1) AND updated_at < ?2",
        &[now.into(), stale_before.into()],
    )?
    .all()
    .await?
    .results::<Id>()?
    .into_iter()
    .map(|r| r.id)
    .collect())
}

/// Takes the day to archive it until `lease_until`: creates its record or takes it over
/// when nobody holds it and no restore is under way. Answers whether it is ours.
pub async fn claim_archive(
    db: &D1Database,
    id: &str,
    program_id: &str,
    kind: Kind,
    day: &str,
    now: i64,
    lease_until: i64,
) -> Result<bool> {
    let changed = execute(
        db,
        "INSERT INTO event_archives (id, program_id, kind, day, status, lease_until, created_at, \
         updated_at) VALUES (?1, ?2, ?3, ?4, 'archiving', ?6, ?5, ?5) \
         ON CONFLICT (id) DO UPDATE SET status = 'archiving', lease_until = ?6, updated_at = ?5 \
         WHERE (lease_until IS NULL OR lease_until < ?5) AND status != 'restoring'",
        &[
            id.into(),
            program_id.into(),
            kind.as_str().into(),
            day.into(),
            now.into(),
            lease_until.into(),
        ],
    )
    .await?;
    Ok(changed == 1)
}

/// Marks an archived day to be restored (answers whether it was archived, or already
/// being restored).
pub async fn ask_restore(db: &D1Database, id: &str, now: i64) -> Result<bool> {
    let changed = execute(
        db,
        "UPDATE event_archives SET status = 'restoring', last_error = NULL, updated_at = ?2 \
         WHERE id = ?1 AND status IN ('archived', 'restoring')",
        &[id.into(), now.into()],
    )
    .await?;
    Ok(changed == 1)
}

/// Takes a day being restored until `lease_until`.
pub async fn claim_restore(db: &D1Database, id: &str, now: i64, lease_until: i64) -> Result<bool> {
    let changed = execute(
        db,
        "UPDATE event_archives SET lease_until = ?3, updated_at = ?2 WHERE id = ?1 \
         AND status = 'restoring' AND (lease_until IS NULL OR lease_until < ?2)",
        &[id.into(), now.into(), lease_until.into()],
    )
    .await?;
    Ok(changed == 1)
}

/// Lets go of a day: `status` when given (the record's otherwise), with the error.
pub async fn release(
    db: &D1Database,
    id: &str,
    status: Option<&str>,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    execute(
        db,
        "UPDATE event_archives SET status = coalesce(?2, status), last_error = ?3, \
         lease_until = NULL, updated_at = ?4 WHERE id = ?1",
        &[id.into(), status.into(), error.into(), now.into()],
    )
    .await
    .map(drop)
}

/// Ends an archive run that found no raw rows left: archived, with its parts' sums.
pub async fn finish_archive(db: &D1Database, id: &str, now: i64) -> Result<()> {
    execute(
        db,
        "UPDATE event_archives SET status = 'archived', last_error = NULL, lease_until = NULL, \
         events = (SELECT coalesce(sum(events), 0) FROM event_archive_parts WHERE archive_id = ?1), \
         bytes = (SELECT coalesce(sum(bytes), 0) FROM event_archive_parts WHERE archive_id = ?1), \
         parts = (SELECT count(*) FROM event_archive_parts WHERE archive_id = ?1), \
         archived_at = ?2, updated_at = ?2 WHERE id = ?1",
        &[id.into(), now.into()],
    )
    .await
    .map(drop)
}

/// Ends a restore: the hours' emptied counts dropped and the day marked for a rollup in
/// the event shard, then the parts forgotten and the record `restored`.
pub async fn finish_restore(
    db: &D1Database,
    events: &D1Database,
    id: &str,
    program_id: &str,
    day: i64,
    now: i64,
) -> Result<()> {
    let (first_hour, end_hour) = (day * 24, (day + 1) * 24);
    events
        .batch(vec![
            statement(
                events,
                "DELETE FROM archived_event_hours WHERE hour >= ?1 AND hour < ?2 \
                 AND program_id = ?3 AND clicks = 0 AND unique_clicks = 0 AND bot_clicks = 0 \
                 AND impressions = 0",
                &[first_hour.into(), end_hour.into(), program_id.into()],
            )?,
            super::rollups::mark_statement(events, day * 86_400_000, now)?,
        ])
        .await?;
    db.batch(vec![
        statement(
            db,
            "DELETE FROM event_archive_parts WHERE archive_id = ?1",
            &[id.into()],
        )?,
        statement(
            db,
            "UPDATE event_archives SET status = 'restored', last_error = NULL, \
             lease_until = NULL, events = 0, bytes = 0, parts = 0, restored_at = ?2, \
             updated_at = ?2 WHERE id = ?1",
            &[id.into(), now.into()],
        )?,
    ])
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub struct PartRow {
    pub archive_id: String,
    pub part: i64,
    pub object_key: String,
    pub events: i64,
    pub bytes: i64,
    pub status: String,
    pub created_at: i64,
}

pub async fn parts(db: &D1Database, archive_id: &str) -> Result<Vec<PartRow>> {
    Ok(statement(
        db,
        "SELECT * FROM event_archive_parts WHERE archive_id = ?1 ORDER BY part",
        &[archive_id.into()],
    )?
    .all()
    .await?
    .results()?)
}

/// Records a part confirmed in R2 (again: the same part rewritten after a failure).
pub async fn record_part(db: &D1Database, part: &PartRow) -> Result<()> {
    execute(
        db,
        "INSERT INTO event_archive_parts (archive_id, part, object_key, events, bytes, status, \
         created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'written', ?6) \
         ON CONFLICT (archive_id, part) DO UPDATE SET object_key = ?3, events = ?4, bytes = ?5, \
         status = 'written', created_at = ?6",
        &[
            (&part.archive_id).into(),
            part.part.into(),
            (&part.object_key).into(),
            part.events.into(),
            part.bytes.into(),
            part.created_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn mark_moved(db: &D1Database, archive_id: &str, part: i64) -> Result<()> {
    execute(
        db,
        "UPDATE event_archive_parts SET status = 'moved' WHERE archive_id = ?1 AND part = ?2",
        &[archive_id.into(), part.into()],
    )
    .await
    .map(drop)
}

/// Whether the day of a program's events is archived (or being archived or restored):
/// an import into it would miss the uniqueness of the archived clicks.
pub async fn is_closed(db: &D1Database, id: &str) -> Result<bool> {
    #[derive(Deserialize)]
    struct Found {
        #[allow(dead_code)]
        status: String,
    }
    Ok(first::<Found>(
        db,
        "SELECT status FROM event_archives WHERE id = ?1 AND status != 'restored'",
        &[id.into()],
    )
    .await?
    .is_some())
}
