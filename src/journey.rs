//! The daily partner-journey run (cron and `POST /api/v1/rollups/run`): walks every
//! partner's stage forward from the first day whose activity may have changed, over the
//! rollups, and stores one row per partner and day.
//!
//! The next run starts at today (today's stage is provisional until the day ends), or
//! earlier when a rollup rebuilt an older day. A run reads the counters stored for the
//! day before its first day, so its cost follows the days it recomputes, not history.

use std::collections::HashMap;

use worker::D1Database;

use crate::domain::partners::journey::{
    walk, Activity, Carry, DayStage, StatusHistory, DAY_MS, LOOKBACK_DAYS,
};
use crate::storage::{journey, partners, Context, Result};

/// Partner-days written in one transaction: a long backfill (a first run, or imported
/// history marking an old day) goes in chunks of days, each committed with its progress.
const ROWS_PER_CHUNK: i64 = 20_000;

/// Recomputes the stages from the progress mark through today; answers how many
/// partner-days it wrote.
pub async fn run(db: &D1Database, now: i64) -> Result<usize> {
    walk_to_today(db, now)
        .await
        .context("walking the partner journey")
}

async fn walk_to_today(db: &D1Database, now: i64) -> Result<usize> {
    let today = now.div_euclid(DAY_MS);
    let histories = partners::status_histories(db).await?;
    let days_per_chunk = (ROWS_PER_CHUNK / (histories.len() as i64).max(1)).max(1);
    let mut written = 0;
    loop {
        // Read afresh each chunk: a mark that came in moves the start back.
        let progress = journey::progress(db).await?;
        // Before the first day anything happened there is nothing to walk, however far
        // back a rollup of empty days (`/rollups/run?from=0001-01-01`) marked it. (A day
        // early: SQL's division rounds days before 1970 up.)
        let start = match (progress.next_day, journey::first_day(db).await?) {
            (Some(day), Some(first)) => day.max(first - 1),
            (Some(day), None) => day,
            (None, Some(first)) => first,
            (None, None) => return Ok(written),
        }
        .min(today);
        let end = (start + days_per_chunk).min(today + 1);
        let rows = walk_days(db, &histories, start, end, today).await?;
        // The next run starts at today, whose stage is provisional until the day ends.
        let next_day = end.min(today);
        journey::replace(db, (start, end), &rows, progress.marks, next_day).await?;
        written += rows.len();
        if end > today {
            return Ok(written);
        }
    }
}

/// Every partner's stages on the days `[start, end)`, from the counters stored for
/// `start - 1`.
async fn walk_days<'a>(
    db: &D1Database,
    histories: &'a HashMap<String, StatusHistory>,
    start: i64,
    end: i64,
    today: i64,
) -> Result<Vec<(&'a str, DayStage)>> {
    let carries: HashMap<String, Carry> = journey::carries(db, start - 1)
        .await?
        .into_iter()
        .map(|row| {
            let carry = Carry {
                conversion_days: row.conversion_days,
                clicked: row.clicked != 0,
                last_active_day: row.last_active_day,
            };
            (row.partner_id, carry)
        })
        .collect();
    let mut activity: HashMap<String, Activity> = HashMap::new();
    for row in journey::activity(db, start - LOOKBACK_DAYS, end).await? {
        activity
            .entry(row.partner_id)
            .or_default()
            .insert(row.day, (row.clicks, row.conversions));
    }
    let empty = Activity::new();
    let mut rows = Vec::new();
    for (partner, history) in histories {
        let partner_activity = activity.get(partner).unwrap_or(&empty);
        let (first, carry) = match carries.get(partner) {
            Some(carry) => (start, *carry),
            None => {
                // A partner's journey begins on its creation day, or on its first
                // activity when imported history is older.
                let created = history
                    .0
                    .first()
                    .map_or(today, |(at, _)| at.div_euclid(DAY_MS));
                let first_active = partner_activity.keys().min().copied().unwrap_or(today);
                (created.min(first_active).max(start), Carry::default())
            }
        };
        rows.extend(
            walk(first, end, carry, partner_activity, history)
                .into_iter()
                .map(|day| (partner.as_str(), day)),
        );
    }
    Ok(rows)
}
