//! The scheduled worker: keeps the daily salts ahead of the clock and deletes old ones.

use worker::Env;

use crate::domain::time::utc_day;
use crate::storage::salts;

const DAY_MS: i64 = 86_400_000;

pub async fn run(env: &Env, now: i64) {
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
}
