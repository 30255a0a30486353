//! Failed postback and webhook credentials per source (a keyed hash of the client
//! address) and minute.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, Result};

const COUNT: &str = "SELECT failures FROM auth_failures WHERE source = ? AND minute = ?";
const ADD: &str = "INSERT INTO auth_failures (source, minute, failures) VALUES (?, ?, 1) \
     ON CONFLICT (source, minute) DO UPDATE SET failures = failures + 1";
const DELETE_BEFORE: &str = "DELETE FROM auth_failures WHERE minute < ?";

/// Failures of `source` in `minute` (minutes since the epoch).
pub async fn count(db: &D1Database, source: &str, minute: i64) -> Result<i64> {
    #[derive(Deserialize)]
    struct Row {
        failures: i64,
    }
    Ok(first::<Row>(db, COUNT, &[source.into(), minute.into()])
        .await?
        .map_or(0, |r| r.failures))
}

pub async fn add(db: &D1Database, source: &str, minute: i64) -> Result<()> {
    execute(db, ADD, &[source.into(), minute.into()])
        .await
        .map(drop)
}

/// Forgets the minutes before `minute`; answers how many rows went.
pub async fn delete_before(db: &D1Database, minute: i64) -> Result<usize> {
    execute(db, DELETE_BEFORE, &[minute.into()]).await
}
