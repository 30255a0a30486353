//! The insights service: the nightly job that raises flags and fits forecasts (queued
//! per program by the cron, run by the queue consumer or on demand), and SMART goals'
//! standing over the report engine and the stored forecasts.

pub mod goals;
pub mod nightly;

use serde::{Deserialize, Serialize};
use worker::{D1Database, Env, MessageBatch, MessageExt};

use crate::domain::time::parse_date;
use crate::storage::{programs, shards, DB_BINDING};

/// The queue of per-program jobs.
pub const QUEUE_BINDING: &str = "INSIGHTS";
/// A queued job not finished within this long is queued again (jobs are idempotent).
const REQUEUE_AFTER_MS: i64 = 2 * 3_600_000;

/// One program's job: judge its days through `day` and forecast from there.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    pub program_id: String,
    pub day: String,
}

/// Queues the job of every program whose local day has ended since its last run.
pub async fn schedule(env: &Env, db: &D1Database, now: i64) {
    let candidates = match programs::insights_candidates(db, now - REQUEUE_AFTER_MS).await {
        Ok(candidates) => candidates,
        Err(error) => {
            worker::console_error!("insights: listing programs failed: {error}");
            return;
        }
    };
    let queue = match env.queue(QUEUE_BINDING) {
        Ok(queue) => queue,
        Err(error) => {
            worker::console_error!("insights: no queue: {error}");
            return;
        }
    };
    for program in candidates {
        let Some(day) = nightly::yesterday(&program, now) else {
            continue;
        };
        let day = day.to_string();
        if program.insights_through.as_deref() >= Some(day.as_str()) {
            continue;
        }
        let job = Job {
            program_id: program.id.clone(),
            day,
        };
        // Queued first, marked second: a lost mark queues the job twice, which is
        // harmless; the other order could lose the job for two hours.
        let Ok(body) = serde_json::to_string(&job) else {
            continue;
        };
        if let Err(error) = queue.send(body).await {
            worker::console_error!("insights: queueing {} failed: {error}", program.id);
            continue;
        }
        if let Err(error) = programs::insights_queued(db, &program.id, now).await {
            worker::console_error!("insights: marking {} queued failed: {error}", program.id);
        }
    }
}

/// Runs queued jobs; a failed one is retried by the queue.
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let db = match env.d1(DB_BINDING) {
        Ok(db) => db,
        Err(error) => {
            worker::console_error!("insights: no database: {error}");
            batch.retry_all();
            return;
        }
    };
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(error) => {
            worker::console_error!("insights: reading the batch failed: {error}");
            batch.retry_all();
            return;
        }
    };
    for message in messages {
        let now = worker::Date::now().as_millis() as i64;
        // A message that cannot be read now never will be: log it and let it go.
        let Some((job, day)) = serde_json::from_str::<Job>(message.body())
            .ok()
            .and_then(|job| parse_date(&job.day).map(|day| (job, day)))
        else {
            worker::console_error!("insights: dropping unreadable job {:?}", message.body());
            message.ack();
            continue;
        };
        let program = match programs::get(&db, &job.program_id).await {
            Ok(Some(program)) => program,
            Ok(None) => {
                message.ack();
                continue;
            }
            Err(error) => {
                worker::console_error!("insights: loading {} failed: {error}", job.program_id);
                message.retry();
                continue;
            }
        };
        let events = match shards::events_db(env, &program.events_shard) {
            Ok(events) => events,
            Err(error) => {
                worker::console_error!("insights: no event shard for {}: {error}", program.id);
                message.retry();
                continue;
            }
        };
        match nightly::run(&db, &events, now, &program, day, false).await {
            Ok(summary) => {
                worker::console_log!(
                    "insights: {} judged {} days, {} flags, {} forecasts in {} ms",
                    summary.program_id,
                    summary.days.len(),
                    summary.flags,
                    summary.series_forecast,
                    summary.elapsed_ms
                );
                message.ack();
            }
            Err(error) => {
                worker::console_error!("insights: job of {} failed: {error:?}", job.program_id);
                message.retry();
            }
        }
    }
}
