//! The event archive: each program's raw clicks and impressions leave D1 for R2, one UTC
//! day at a time, once nothing reads them there (`domain::archive` says when), and come
//! back on request for a rebuild.
//!
//! The cron plans: for every program and kind, the oldest day that may go, queued on
//! `partnerlens-archive`. The consumer takes the day's lease, then, part by part (at most
//! [`PART_EVENTS`] events, oldest first): writes the NDJSON object to R2, confirms it
//! (SHA-256 checked by R2 on the write, then its size read back), records the part, and
//! only then moves its events out of D1 (`storage::archive::move_out`: counts kept for
//! the rollups, rows deleted, one transaction per chunk). A write that fails leaves every
//! row in D1; a run that dies after a write finds the part recorded and finishes its
//! move, or rewrites the same part. A day with no raw rows left is `archived`, and the
//! program's next day is queued at once.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use worker::{Bucket, D1Database, Env, MessageBatch, MessageExt};

use crate::domain::archive::{
    archive_id, date_of, json_arrays, ndjson, object_key, parse_archive_id, Holds, Kind,
    CHUNK_EVENTS, PART_EVENTS,
};
use crate::domain::time::parse_date;
use crate::faults;
use crate::storage::archive::{self as store, PartRow};
use crate::storage::shards::{self, Shards};
use crate::storage::{programs, StorageError, DB_BINDING};

pub const QUEUE_BINDING: &str = "ARCHIVE";
pub const BUCKET_BINDING: &str = "EVENT_ARCHIVE";
const DAY_MS: i64 = 86_400_000;
/// How long a worker holds a day; renewed with each part.
const LEASE_MS: i64 = 10 * 60_000;
/// Parts one message writes before it queues the rest of the day (D1's per-invocation
/// query limit stays far away: a part is about a dozen statements).
const PARTS_PER_MESSAGE: usize = 4;
/// Held days the planner steps over, per program and kind, looking for one to archive.
const PROBES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Archive,
    Restore,
}

/// A queue message: archive or restore one day of one program's events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub action: Action,
    /// The archive's id, `<program_id>.<kind>.<YYYY-MM-DD>`.
    pub id: String,
}

#[derive(Debug)]
pub enum ArchiveError {
    Storage(StorageError),
    Object(String),
}

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveError::Storage(error) => write!(f, "D1: {error}"),
            ArchiveError::Object(message) => write!(f, "R2: {message}"),
        }
    }
}

impl From<StorageError> for ArchiveError {
    fn from(error: StorageError) -> Self {
        ArchiveError::Storage(error)
    }
}

type Result<T> = std::result::Result<T, ArchiveError>;

fn r2(context: &str, error: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Object(format!("{context}: {error}"))
}

/// The oldest day of a program's `kind` events that may leave D1 at `now`, if any.
pub async fn next_day(
    db: &D1Database,
    events: &D1Database,
    program_id: &str,
    kind: Kind,
    window_days: i64,
    now: i64,
    dirty_days: &[i64],
) -> Result<Option<i64>> {
    let first_kept = kind.first_kept_day(window_days, now);
    let mut holds: Option<Holds> = None;
    let mut from = i64::MIN / 2;
    for _ in 0..PROBES {
        let Some(ts) = store::first_event_at(events, kind, program_id, from).await? else {
            return Ok(None);
        };
        let day = ts.div_euclid(DAY_MS);
        if day >= first_kept {
            return Ok(None);
        }
        if holds.is_none() {
            holds = Some(load_holds(db, program_id, kind, dirty_days).await?);
        }
        if holds.as_ref().and_then(|h| h.holding(day, now)).is_none() {
            return Ok(Some(day));
        }
        from = (day + 1) * DAY_MS;
    }
    Ok(None)
}

async fn load_holds(
    db: &D1Database,
    program_id: &str,
    kind: Kind,
    dirty_days: &[i64],
) -> Result<Holds> {
    let experiments = match kind {
        // Split and commission tests are judged on raw clicks.
        Kind::Clicks => store::experiment_periods(db, program_id).await?,
        Kind::Impressions => Vec::new(),
    };
    let restored = store::restored_days(db, program_id, kind)
        .await?
        .into_iter()
        .filter_map(|(day, at)| parse_date(&day).map(|d| (crate::domain::archive::day_of(d), at)))
        .collect();
    Ok(Holds {
        dirty_days: dirty_days.to_vec(),
        experiments,
        restored,
    })
}

/// The cron's step (and `POST /api/v1/archive-runs`): queues the oldest day each program
/// may archive of each kind, and the restores whose worker is gone. Answers the tasks.
pub async fn plan(env: &Env, db: &D1Database, now: i64) -> Result<Vec<Task>> {
    let dirty = dirty_days(env, db).await?;
    let mut tasks = Vec::new();
    for program in store::program_windows(db).await? {
        let events = shards::events_db(env, &program.events_shard)?;
        for kind in Kind::ALL {
            let day = next_day(
                db,
                &events,
                &program.id,
                kind,
                program.attribution_window_days,
                now,
                &dirty,
            )
            .await?;
            if let Some(day) = day {
                tasks.push(Task {
                    action: Action::Archive,
                    id: archive_id(&program.id, kind, day),
                });
            }
        }
    }
    for id in store::stalled_restores(db, now, now - LEASE_MS).await? {
        tasks.push(Task {
            action: Action::Restore,
            id,
        });
    }
    send(env, &tasks).await?;
    Ok(tasks)
}

/// The UTC days whose rollup is not current, in any database.
async fn dirty_days(env: &Env, db: &D1Database) -> Result<Vec<i64>> {
    let mut days = store::dirty_days(db).await?;
    for shard in Shards::open(env)?.all() {
        days.extend(store::dirty_days(shard).await?);
    }
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// Queues `tasks`.
pub async fn send(env: &Env, tasks: &[Task]) -> Result<()> {
    if tasks.is_empty() {
        return Ok(());
    }
    let queue = env
        .queue(QUEUE_BINDING)
        .map_err(|e| ArchiveError::Storage(e.into()))?;
    for task in tasks {
        let body = serde_json::to_string(task).map_err(|e| r2("encoding a task", e))?;
        queue
            .send(body)
            .await
            .map_err(|e| ArchiveError::Storage(e.into()))?;
    }
    Ok(())
}

/// The archive queue's consumer. A failed task is recorded on its day (`failed`, with
/// the error) and let go: the cron plans the day again, and nothing was deleted that is
/// not in R2.
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let (db, bucket) = match (env.d1(DB_BINDING), env.bucket(BUCKET_BINDING)) {
        (Ok(db), Ok(bucket)) => (db, bucket),
        (Err(error), _) | (_, Err(error)) => {
            worker::console_error!("archive: missing binding: {error}");
            batch.retry_all();
            return;
        }
    };
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(error) => {
            worker::console_error!("archive: reading the batch failed: {error}");
            batch.retry_all();
            return;
        }
    };
    for message in messages {
        let Ok(task) = serde_json::from_str::<Task>(message.body()) else {
            worker::console_error!("archive: dropping unreadable task {:?}", message.body());
            message.ack();
            continue;
        };
        let now = worker::Date::now().as_millis() as i64;
        let outcome = match task.action {
            Action::Archive => archive(env, &db, &bucket, &task, now).await,
            Action::Restore => restore(env, &db, &bucket, &task, now).await,
        };
        if let Err(error) = outcome {
            worker::console_error!("archive: {:?} {} failed: {error}", task.action, task.id);
        }
        message.ack();
    }
}

/// What a run of one message did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Another worker holds the day, or it is not in a state for this action.
    Skipped,
    /// More of the day is left; the task was queued again.
    Continued,
    Done,
}

async fn archive(
    env: &Env,
    db: &D1Database,
    bucket: &Bucket,
    task: &Task,
    now: i64,
) -> Result<Outcome> {
    let Some((program_id, kind, day)) = parse_archive_id(&task.id) else {
        return Ok(Outcome::Skipped);
    };
    let date = date_of(day).to_string();
    if !store::claim_archive(db, &task.id, &program_id, kind, &date, now, now + LEASE_MS).await? {
        return Ok(Outcome::Skipped);
    }
    let Some(program) = programs::get(db, &program_id).await? else {
        store::release(db, &task.id, Some("failed"), Some("no such program"), now).await?;
        return Ok(Outcome::Skipped);
    };
    // Test-only: programs named `archive-fails-…` get a write that fails midway.
    let fail_midway = faults::on(faults::ARCHIVE_FAILS_MIDWAY)
        && program.name.starts_with(faults::ARCHIVE_FAILS_PREFIX);
    let events = shards::events_db(env, &program.events_shard)?;
    let run = archive_parts(
        db,
        &events,
        bucket,
        &task.id,
        &program_id,
        kind,
        day,
        now,
        fail_midway,
    )
    .await;
    match run {
        Ok(true) => {
            store::finish_archive(db, &task.id, now).await?;
            // The program's next day, at once: a backlog drains without waiting for crons.
            let dirty = dirty_days(env, db).await?;
            let window = program.attribution_window_days;
            if let Some(next) =
                next_day(db, &events, &program_id, kind, window, now, &dirty).await?
            {
                let id = archive_id(&program_id, kind, next);
                if id != task.id {
                    send(
                        env,
                        &[Task {
                            action: Action::Archive,
                            id,
                        }],
                    )
                    .await?;
                }
            }
            Ok(Outcome::Done)
        }
        Ok(false) => {
            store::release(db, &task.id, None, None, now).await?;
            send(env, std::slice::from_ref(task)).await?;
            Ok(Outcome::Continued)
        }
        Err(error) => {
            store::release(db, &task.id, Some("failed"), Some(&error.to_string()), now).await?;
            Err(error)
        }
    }
}

/// Archives up to [`PARTS_PER_MESSAGE`] parts of the day; answers whether the day has no
/// raw rows left.
#[allow(clippy::too_many_arguments)]
async fn archive_parts(
    db: &D1Database,
    events: &D1Database,
    bucket: &Bucket,
    id: &str,
    program_id: &str,
    kind: Kind,
    day: i64,
    now: i64,
    fail_midway: bool,
) -> Result<bool> {
    let parts = store::parts(db, id).await?;
    // A part written but not moved (a run died between the two): finish its move from
    // the object, which is the truth of what left.
    for part in parts.iter().filter(|p| p.status == "written") {
        let body = read(bucket, &part.object_key).await?;
        move_out(events, kind, &body).await?;
        store::mark_moved(db, id, part.part).await?;
    }
    let first = parts.last().map_or(1, |p| p.part + 1);
    for next in first..first + PARTS_PER_MESSAGE as i64 {
        let lines = store::lines(
            events,
            kind,
            program_id,
            day * DAY_MS,
            (day + 1) * DAY_MS,
            PART_EVENTS,
        )
        .await?;
        if lines.is_empty() {
            return Ok(true);
        }
        let body = ndjson(&lines);
        let key = object_key(program_id, kind, day, next);
        write_confirmed(bucket, &key, &body, lines.len(), fail_midway).await?;
        store::record_part(
            db,
            &PartRow {
                archive_id: id.to_owned(),
                part: next,
                object_key: key,
                events: lines.len() as i64,
                bytes: body.len() as i64,
                status: "written".to_owned(),
                created_at: now,
            },
        )
        .await?;
        move_out(events, kind, &body).await?;
        store::mark_moved(db, id, next).await?;
    }
    Ok(false)
}

async fn move_out(shard: &D1Database, kind: Kind, body: &str) -> Result<usize> {
    let mut moved = 0;
    for events in json_arrays(body, CHUNK_EVENTS) {
        moved += store::move_out(shard, kind, &events).await?;
    }
    Ok(moved)
}

/// Writes the object and confirms it: R2 checks the SHA-256 of what it received, and
/// the size read back must be what was sent.
async fn write_confirmed(
    bucket: &Bucket,
    key: &str,
    body: &str,
    events: usize,
    fail_midway: bool,
) -> Result<()> {
    if fail_midway {
        let half = body.len() / 2;
        let _ = bucket
            .put(key, body.as_bytes()[..half].to_vec())
            .execute()
            .await;
        return Err(ArchiveError::Object(format!(
            "fault injection: the write of {key} failed after {half} of {} bytes",
            body.len()
        )));
    }
    let digest = Sha256::digest(body.as_bytes()).to_vec();
    let metadata = worker::HttpMetadata {
        content_type: Some("application/x-ndjson".to_owned()),
        ..Default::default()
    };
    bucket
        .put(key, body.as_bytes().to_vec())
        .http_metadata(metadata)
        .custom_metadata(std::collections::HashMap::from([(
            "events".to_owned(),
            events.to_string(),
        )]))
        .sha256(digest)
        .execute()
        .await
        .map_err(|e| r2(&format!("writing {key} failed"), e))?;
    let stored = bucket
        .head(key)
        .await
        .map_err(|e| r2(&format!("reading back {key} failed"), e))?
        .ok_or_else(|| ArchiveError::Object(format!("{key} is not in R2 after its write")))?;
    if stored.size() != body.len() as u64 {
        return Err(ArchiveError::Object(format!(
            "{key} holds {} bytes after a write of {}",
            stored.size(),
            body.len()
        )));
    }
    Ok(())
}

/// The text of an archived object.
pub async fn read(bucket: &Bucket, key: &str) -> Result<String> {
    let object = bucket
        .get(key)
        .execute()
        .await
        .map_err(|e| r2(&format!("reading {key} failed"), e))?
        .ok_or_else(|| ArchiveError::Object(format!("{key} is missing from R2")))?;
    match object.body() {
        Some(body) => body.text().await.map_err(|e| r2(key, e)),
        None => Ok(String::new()),
    }
}

async fn restore(
    env: &Env,
    db: &D1Database,
    bucket: &Bucket,
    task: &Task,
    now: i64,
) -> Result<Outcome> {
    let Some((program_id, kind, day)) = parse_archive_id(&task.id) else {
        return Ok(Outcome::Skipped);
    };
    let shard = shards::shards_of(db, &[program_id.as_str()])
        .await?
        .remove(&program_id)
        .unwrap_or_else(|| DB_BINDING.to_owned());
    let events_db = shards::events_db(env, &shard)?;
    if !store::claim_restore(db, &task.id, now, now + LEASE_MS).await? {
        return Ok(Outcome::Skipped);
    }
    let run = async {
        let parts = store::parts(db, &task.id).await?;
        for part in &parts {
            let body = read(bucket, &part.object_key).await?;
            for events in json_arrays(&body, CHUNK_EVENTS) {
                store::move_in(&events_db, kind, &events).await?;
            }
        }
        store::finish_restore(db, &events_db, &task.id, &program_id, day, now).await?;
        Ok::<_, ArchiveError>(parts)
    }
    .await;
    match run {
        Ok(parts) => {
            // The rows are back in D1: the objects would only be stale copies.
            let keys: Vec<String> = parts.into_iter().map(|p| p.object_key).collect();
            if !keys.is_empty() {
                if let Err(error) = bucket.delete_multiple(keys).await {
                    worker::console_error!("archive: deleting restored objects failed: {error}");
                }
            }
            Ok(Outcome::Done)
        }
        Err(error) => {
            store::release(db, &task.id, None, Some(&error.to_string()), now).await?;
            Err(error)
        }
    }
}
