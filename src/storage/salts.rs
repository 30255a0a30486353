//! The daily visitor salt: random, one per UTC day, deleted after the day is over so a
//! visitor hash can no longer be tied back to an IP address.
//!
//! D1 is the authority (`INSERT OR IGNORE` makes every isolate agree on one salt per
//! day); KV and this isolate's memory serve it to the edge without a D1 round trip. The
//! cron creates tomorrow's salt ahead of time and deletes old ones.

use std::cell::RefCell;

use worker::{D1Database, Env};

use super::{execute, first, Result, StorageError, DB_BINDING, KV_BINDING};
use crate::domain::ids::random_token_128;
use crate::domain::time::{utc_day, utc_day_bounds};

const CREATE: &str = "INSERT OR IGNORE INTO daily_salts (day, salt, created_at) VALUES (?, ?, ?)";
const SELECT: &str = "SELECT salt FROM daily_salts WHERE day = ?";
const DELETE_BEFORE: &str = "DELETE FROM daily_salts WHERE day < ?";

/// KV keeps a salt for two days after it is written: long enough for its day to end.
const KV_TTL_S: u64 = 2 * 86_400;
const KV_CACHE_TTL_S: u64 = 300;

thread_local! {
    /// The first millisecond of the UTC day this isolate last served, and that day's salt.
    static TODAY: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
}

#[derive(serde::Deserialize)]
struct SaltRow {
    salt: String,
}

fn kv_key(day: &str) -> String {
    format!("salt:{day}")
}

/// Creates the salt of `day` in D1 unless it exists, and returns the one that exists.
pub async fn ensure(db: &D1Database, day: &str, now: i64) -> Result<String> {
    execute(
        db,
        CREATE,
        &[day.into(), random_token_128().as_str().into(), now.into()],
    )
    .await?;
    let row: Option<SaltRow> = first(db, SELECT, &[day.into()]).await?;
    row.map(|r| r.salt)
        .ok_or_else(|| StorageError::Failed(format!("daily salt for {day} vanished")))
}

/// Ensures the salt of `day` exists in D1 and KV (used by the cron, ahead of the day).
pub async fn publish(env: &Env, day: &str, now: i64) -> Result<()> {
    let salt = ensure(&env.d1(DB_BINDING)?, day, now).await?;
    env.kv(KV_BINDING)?
        .put(&kv_key(day), salt)?
        .expiration_ttl(KV_TTL_S)
        .execute()
        .await?;
    Ok(())
}

/// Deletes every salt of a day before `day`.
pub async fn delete_before(env: &Env, day: &str) -> Result<usize> {
    execute(&env.d1(DB_BINDING)?, DELETE_BEFORE, &[day.into()]).await
}

/// The salt of the UTC day of `ts` (milliseconds) if this isolate holds it (the edge's
/// usual case: no await, and no date to format).
pub fn remembered(ts: i64) -> Option<String> {
    let start = utc_day_bounds(ts).0;
    TODAY.with_borrow(|today| {
        today
            .as_ref()
            .filter(|(day, _)| *day == start)
            .map(|(_, salt)| salt.clone())
    })
}

/// The salt of the UTC day of `now` for the edge: from memory, else KV, else D1.
pub async fn for_day(env: &Env, now: i64) -> Result<String> {
    if let Some(salt) = remembered(now) {
        return Ok(salt);
    }
    let day = &utc_day(now);
    let kv = env.kv(KV_BINDING)?;
    let salt = match kv
        .get(&kv_key(day))
        .cache_ttl(KV_CACHE_TTL_S)
        .text()
        .await?
    {
        Some(salt) => salt,
        None => {
            let salt = ensure(&env.d1(DB_BINDING)?, day, now).await?;
            kv.put(&kv_key(day), salt.as_str())?
                .expiration_ttl(KV_TTL_S)
                .execute()
                .await?;
            salt
        }
    };
    TODAY.with_borrow_mut(|today| *today = Some((utc_day_bounds(now).0, salt.clone())));
    Ok(salt)
}

const CREATE_IMPORT: &str = "INSERT OR IGNORE INTO import_salts (day, salt) VALUES (?, ?)";
const SELECT_IMPORT: &str = "SELECT salt FROM import_salts WHERE day = ?";

/// The salt that hashes imported visitors of UTC `day`, created on first use.
pub async fn for_import(db: &D1Database, day: &str) -> Result<String> {
    execute(
        db,
        CREATE_IMPORT,
        &[day.into(), random_token_128().as_str().into()],
    )
    .await?;
    let row: Option<SaltRow> = first(db, SELECT_IMPORT, &[day.into()]).await?;
    row.map(|r| r.salt)
        .ok_or_else(|| StorageError::Failed(format!("import salt for {day} vanished")))
}
