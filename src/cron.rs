//! The scheduled worker: keeps the daily salts ahead of the clock and deletes old ones,
//! approves pending sales whose program's hold period is over, and queues the outbound
//! postbacks due, rolls up the days whose events changed, walks the partner journey
//! forward, checks the alerts and creates and queues the scheduled reports that are due,
//! queues the days of raw events that may move to the R2 archive, and queues the nightly
//! insights of programs whose day has ended. Every step is
//! idempotent, so a missed or repeated run does no harm.

use worker::Env;

use crate::domain::time::utc_day;
use crate::storage::{conversions, salts, sessions, DB_BINDING};
use crate::{insights, journey, outbound, rollups, schedules};

const DAY_MS: i64 = 86_400_000;
/// Dirty days one cron run rolls up; the rest wait for the next run.
const ROLLUP_DAYS_PER_RUN: u32 = 400;

/// `now` is the wall clock; `scheduled_at` the moment the trigger was due, at which report
/// schedules are judged (the same in production; a test fires the trigger at a chosen
/// moment to see a schedule come due without moving the clock of everything else).
pub async fn run(env: &Env, now: i64, scheduled_at: i64) {
    for day in [utc_day(now), utc_day(now + DAY_MS)] {
        if let Err(error) = salts::publish(env, &day, now).await {
            worker::console_error!("creating the salt of {day} failed: {error}");
        }
    }
    // Yesterday's salt goes once today has begun: no click can be hashed with it any more.
    match salts::delete_before(env, &utc_day(now)).await {
        Ok(deleted) if deleted > 0 => worker::console_log!("deleted {deleted} expired daily salts"),
        Ok(_) => {}
        Err(error) => worker::console_error!("deleting old salts failed: {error}"),
    }
    let db = match env.d1(DB_BINDING) {
        Ok(db) => db,
        Err(error) => {
            worker::console_error!("cron: no database: {error}");
            return;
        }
    };
    match conversions::approve_after_hold(&db, now).await {
        Ok(n) if n > 0 => worker::console_log!("approved {n} conversions past their hold period"),
        Ok(_) => {}
        Err(error) => worker::console_error!("approving held conversions failed: {error}"),
    }
    // Also the safety net for deliveries an earlier dispatch could not queue.
    outbound::dispatch(env, &db, now).await;
    match rollups::run_marked(&db, ROLLUP_DAYS_PER_RUN).await {
        Ok(days) if days > 0 => worker::console_log!("rolled up {days} days"),
        Ok(_) => {}
        Err(error) => worker::console_error!("rollup failed (the days stay marked): {error}"),
    }
    if let Err(error) = crate::http::throttle::forget_old(&db, now).await {
        worker::console_error!("forgetting old credential failures failed: {error}");
    }
    if let Err(error) = sessions::forget(&db, now - DAY_MS).await {
        worker::console_error!("forgetting ended sessions failed: {error}");
    }
    if let Err(error) = journey::run(&db, now).await {
        worker::console_error!("partner journey failed (it reruns from the same day): {error}");
    }
    // Alerts and the scheduled reports due by now, after the rollups they read.
    schedules::due(env, &db, scheduled_at).await;
    // Raw days no longer needed in D1 go to R2 (queued; one day per program and kind).
    match crate::archive::plan(env, &db, now).await {
        Ok(tasks) if !tasks.is_empty() => {
            worker::console_log!("queued {} archive tasks", tasks.len())
        }
        Ok(_) => {}
        Err(error) => worker::console_error!("planning the event archive failed: {error}"),
    }
    // Last: the nightly insights of every program whose local day has ended, queued
    // (one job per program) after that day's rollups and alerts above.
    insights::schedule(env, &db, now).await;
}
