//! Rolling events up into the hourly KPI tables: the cron's run over the marked days,
//! the admin's rebuild of a range (`POST /api/v1/rollups/run`), and the refresh a report
//! does first so that what just happened shows at once. Every run is idempotent and safe
//! beside another: a day is rebuilt in one transaction and unmarked only if no event
//! marked it again meanwhile.

use chrono::NaiveDate;
use worker::D1Database;

use crate::domain::reporting::{day_of_index, MAX_DAYS};
use crate::domain::Invalid;
use crate::storage::rollups::{self, Selection};
use crate::storage::{shards, Context, StorageError};

/// Days one step of a rebuild rolls up before looking for more.
const DAYS_PER_STEP: u32 = 50;
/// Marked days a report rolls up before it is computed: the days live events mark
/// (today, and yesterday around midnight; late conversions a few days back).
const REFRESH_DAYS: u32 = 7;

#[derive(Debug)]
pub enum RollupError {
    /// The range asked for makes no sense.
    Invalid(Invalid),
    Storage(StorageError),
}

impl From<StorageError> for RollupError {
    fn from(error: StorageError) -> Self {
        RollupError::Storage(error)
    }
}

/// What a rebuild did.
pub struct Rebuilt {
    pub days_rolled_up: usize,
    pub partner_days: usize,
}

/// Rolls up at most `max_days` marked days, oldest first (the cron).
pub async fn run_marked(db: &D1Database, max_days: u32) -> Result<usize, StorageError> {
    rollups::run(db, &shards::others()?, Selection::Oldest(max_days), |_| {
        false
    })
    .await
    .map(|ran| ran.built)
    .context("rolling up marked days")
}

/// Marks the UTC days of `[from, to)` (with a day on each side: a local day of any time
/// zone overlaps its UTC neighbours), when given, then rolls up every marked day and
/// walks the partner journey forward. `crash` is the test-only fault of a run killed
/// midway.
pub async fn rebuild(
    db: &D1Database,
    now: i64,
    range: Option<(NaiveDate, NaiveDate)>,
    crash: impl Fn(usize) -> bool,
) -> Result<Rebuilt, RollupError> {
    if let Some((from, to)) = range {
        let days = (to - from).num_days();
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(RollupError::Invalid(Invalid::new(
                "to",
                "invalid_parameter",
                format!("to must be 1 to {MAX_DAYS} days after from"),
            )));
        }
        let epoch = day_of_index(0);
        let (first, last) = ((from - epoch).num_days(), (to - epoch).num_days());
        rollups::mark_range(db, first - 1, last + 1, now)
            .await
            .context("marking the range")?;
    }
    let mut days_rolled_up = 0;
    let shards = shards::others()?;
    loop {
        let done = rollups::run(db, &shards, Selection::Oldest(DAYS_PER_STEP), &crash)
            .await
            .context("rolling up")?;
        days_rolled_up += done.built;
        if done.picked < DAYS_PER_STEP as usize {
            break;
        }
    }
    let partner_days = crate::journey::run(db, now).await?;
    Ok(Rebuilt {
        days_rolled_up,
        partner_days,
    })
}

/// Rolls up the marked UTC days among `[from_day, to_day)`, latest first and at most
/// `REFRESH_DAYS` of them, so a report shows events up to the last queue batch.
pub async fn refresh(db: &D1Database, from_day: i64, to_day: i64) -> Result<usize, StorageError> {
    let selection = Selection::Within {
        from_day,
        to_day,
        max: REFRESH_DAYS,
    };
    rollups::run(db, &shards::others()?, selection, |_| false)
        .await
        .map(|ran| ran.built)
        .context("refreshing the report's marked days")
}
