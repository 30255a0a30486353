//! The hourly rollups: which UTC days need rolling up again, and rolling one up.
//!
//! Every write that changes what a day counts (clicks and impressions stored, a
//! conversion recorded or its status changed) marks the UTC day of the event dirty. A
//! rollup run rebuilds each dirty day's 24 hours from the raw tables (and the counts of
//! the events archived to R2, `archived_event_hours`) in one transaction
//! (delete, insert-select, unmark), so its cost follows the days that changed, not the
//! history, and a run killed midway or run twice leaves the same numbers.

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{execute, statement, Arg, Result};

const DAY_MS: i64 = 86_400_000;

const MARK: &str = "INSERT INTO rollup_dirty_days (day, marked_at) VALUES (?1, ?2) \
     ON CONFLICT (day) DO UPDATE SET marked_at = max(marked_at, ?2) + 1";
const MARK_RANGE: &str =
    "WITH RECURSIVE d(day) AS (SELECT ?1 UNION ALL SELECT day + 1 FROM d WHERE day + 1 < ?2) \
     INSERT INTO rollup_dirty_days (day, marked_at) SELECT day, ?3 FROM d WHERE true \
     ON CONFLICT (day) DO UPDATE SET marked_at = max(marked_at, ?3) + 1";
const DIRTY: &str = "SELECT day, marked_at FROM rollup_dirty_days ORDER BY day LIMIT ?";
/// The marked days of `[?1, ?2)`, latest first (the ones live events just marked).
const DIRTY_WITHIN: &str = "SELECT day, marked_at FROM rollup_dirty_days \
     WHERE day >= ?1 AND day < ?2 ORDER BY day DESC LIMIT ?3";
const CLEAR_HOURS: &str = "DELETE FROM rollup_hourly WHERE hour >= ?1 AND hour < ?2";
const UNMARK: &str = "DELETE FROM rollup_dirty_days WHERE day = ? AND marked_at = ?";
/// Numbers a read of a shard's facts (read in the same transaction as the facts).
const NEXT_READ: &str = "INSERT INTO rollup_reads (id, seq) VALUES (1, 1) \
     ON CONFLICT (id) DO UPDATE SET seq = seq + 1 RETURNING seq";
/// Records that day `?1` is built from read `?3` of shard `?2`; when the day was already
/// built from a later read, sets `seq` to NULL, which fails the whole transaction.
const CLAIM_BUILD: &str = "INSERT INTO rollup_shard_builds (day, shard, seq) VALUES (?1, ?2, ?3) \
     ON CONFLICT (day, shard) DO UPDATE SET seq = CASE WHEN excluded.seq > seq THEN excluded.seq END";
/// What a refused [`CLAIM_BUILD`] names in its error.
const CLAIM_REFUSED: &str = "rollup_shard_builds.seq";

/// What one raw click counts in a rollup hour, by dimension: shared by the rollup and
/// the archive's moves (`storage::archive`), so a click counts the same in D1 and out.
macro_rules! click_facts_sql {
    () => {
        "ts / 3600000 AS hour, program_id, partner_id, link_id, \
         coalesce(country, '') AS country, device, \
         coalesce(utm_source, referrer_host, 'direct') AS source, \
         coalesce(variant, '') AS variant, coalesce(material_id, '') AS material_id, \
         1 - is_bot AS clicks, is_unique AS unique_clicks, is_bot AS bot_clicks, \
         0 AS impressions"
    };
}
pub(crate) use click_facts_sql;

/// What one raw impression counts, in the same columns as [`click_facts_sql`].
macro_rules! impression_facts_sql {
    () => {
        "ts / 3600000 AS hour, program_id, partner_id, link_id, \
         coalesce(country, '') AS country, device, coalesce(referrer_host, 'direct') AS source, \
         '' AS variant, coalesce(material_id, '') AS material_id, \
         0 AS clicks, 0 AS unique_clicks, 0 AS bot_clicks, 1 - is_bot AS impressions"
    };
}
pub(crate) use impression_facts_sql;

/// Rebuilds the hours `[?1, ?2)` (hour indexes) from clicks, impressions, the counts of
/// archived ones, and counted conversions; `?3`/`?4` are the same range in milliseconds.
const BUILD_HOURS: &str = concat!(
    "INSERT INTO rollup_hourly (hour, program_id, partner_id, link_id, \
     country, device, source, attribution, variant, material_id, clicks, unique_clicks, bot_clicks, \
     impressions, leads, qualified_leads, sales, refunds, revenue_cents, commission_cents) \
     SELECT hour, program_id, partner_id, link_id, country, device, source, attribution, variant, \
     material_id, \
     sum(clicks), sum(unique_clicks), sum(bot_clicks), sum(impressions), sum(leads), \
     sum(qualified_leads), sum(sales), sum(refunds), sum(revenue_cents), sum(commission_cents) \
     FROM ( \
       SELECT ",
    click_facts_sql!(),
    ", 'click' AS attribution, 0 AS leads, 0 AS qualified_leads, 0 AS sales, 0 AS refunds, \
         0 AS revenue_cents, 0 AS commission_cents \
       FROM clicks WHERE ts >= ?3 AND ts < ?4 \
       UNION ALL \
       SELECT ",
    impression_facts_sql!(),
    ", 'click', 0, 0, 0, 0, 0, 0 FROM impressions WHERE ts >= ?3 AND ts < ?4 \
       UNION ALL \
       SELECT hour, program_id, partner_id, link_id, country, device, source, variant, \
         material_id, clicks, unique_clicks, bot_clicks, impressions, 'click', 0, 0, 0, 0, 0, 0 \
       FROM archived_event_hours WHERE hour >= ?1 AND hour < ?2 \
       UNION ALL \
       SELECT ts / 3600000, program_id, partner_id, link_id, coalesce(country, ''), \
         coalesce(device, 'other'), ",
    super::conversion_source_sql!(),
    ", coalesce(variant, ''), coalesce(material_id, ''), 0, 0, 0, 0, attribution, \
         event = 'lead', event = 'qualified', event = 'sale', event = 'refund', \
         CASE event WHEN 'sale' THEN amount_cents WHEN 'refund' THEN -amount_cents ELSE 0 END, \
         commission_cents \
       FROM conversions WHERE ts >= ?3 AND ts < ?4 AND status != 'rejected' \
     ) WHERE ?1 <= hour AND hour < ?2 \
     GROUP BY hour, program_id, partner_id, link_id, country, device, source, attribution, \
     variant, material_id"
);

/// What the raw events of an event shard other than the main database count in the hours
/// `[?1, ?2)` (`?3`/`?4` in ms), one JSON object a row: the click and impression parts of
/// [`BUILD_HOURS`], read there and added in the main database by [`ADD_SHARD_FACTS`].
const SHARD_FACTS: &str = concat!(
    "SELECT json_object('hour', hour, 'program_id', program_id, 'partner_id', partner_id, \
     'link_id', link_id, 'country', country, 'device', device, 'source', source, \
     'variant', variant, 'material_id', material_id, 'clicks', sum(clicks), \
     'unique_clicks', sum(unique_clicks), 'bot_clicks', sum(bot_clicks), \
     'impressions', sum(impressions)) AS line FROM ( \
       SELECT ",
    click_facts_sql!(),
    " FROM clicks WHERE ts >= ?3 AND ts < ?4 \
       UNION ALL SELECT ",
    impression_facts_sql!(),
    " FROM impressions WHERE ts >= ?3 AND ts < ?4 \
       UNION ALL SELECT hour, program_id, partner_id, link_id, country, device, source, \
         variant, material_id, clicks, unique_clicks, bot_clicks, impressions \
       FROM archived_event_hours WHERE hour >= ?1 AND hour < ?2 \
     ) WHERE ?1 <= hour AND hour < ?2 \
     GROUP BY hour, program_id, partner_id, link_id, country, device, source, variant, \
     material_id"
);

/// Adds the shard facts of JSON array `?1` to the hours [`BUILD_HOURS`] just rebuilt (a
/// program's conversions may already hold the row).
const ADD_SHARD_FACTS: &str = "INSERT INTO rollup_hourly (hour, program_id, partner_id, link_id, \
     country, device, source, attribution, variant, material_id, clicks, unique_clicks, \
     bot_clicks, impressions, leads, qualified_leads, sales, refunds, revenue_cents, \
     commission_cents) \
     SELECT json_extract(value, '$.hour'), json_extract(value, '$.program_id'), \
       json_extract(value, '$.partner_id'), json_extract(value, '$.link_id'), \
       json_extract(value, '$.country'), json_extract(value, '$.device'), \
       json_extract(value, '$.source'), 'click', json_extract(value, '$.variant'), \
       json_extract(value, '$.material_id'), json_extract(value, '$.clicks'), \
       json_extract(value, '$.unique_clicks'), json_extract(value, '$.bot_clicks'), \
       json_extract(value, '$.impressions'), 0, 0, 0, 0, 0, 0 \
     FROM json_each(?1) WHERE true \
     ON CONFLICT (hour, program_id, partner_id, link_id, country, device, source, attribution, \
       variant, material_id) DO UPDATE SET clicks = clicks + excluded.clicks, \
       unique_clicks = unique_clicks + excluded.unique_clicks, \
       bot_clicks = bot_clicks + excluded.bot_clicks, \
       impressions = impressions + excluded.impressions";

/// Shard facts per statement (one bound JSON array, well under D1's 2 MB).
const FACTS_PER_STATEMENT: usize = 1_000;

/// The statement that marks the UTC day of `ts` dirty.
pub fn mark_statement(db: &D1Database, ts: i64, now: i64) -> Result<D1PreparedStatement> {
    statement(db, MARK, &[ts.div_euclid(DAY_MS).into(), now.into()])
}

/// Marks the UTC days `[from_day, to_day)` (day indexes) dirty.
pub async fn mark_range(db: &D1Database, from_day: i64, to_day: i64, now: i64) -> Result<()> {
    execute(
        db,
        MARK_RANGE,
        &[from_day.into(), to_day.into(), now.into()],
    )
    .await
    .map(drop)
}

#[derive(Deserialize)]
struct Dirty {
    day: i64,
    marked_at: i64,
}

/// Which marked days a run rolls up.
#[derive(Debug, Clone, Copy)]
pub enum Selection {
    /// At most this many, oldest first.
    Oldest(u32),
    /// At most `max` of the UTC days `[from_day, to_day)`, latest first.
    Within {
        from_day: i64,
        to_day: i64,
        max: u32,
    },
}

/// The marked days of one database.
async fn marked(db: &D1Database, selection: Selection) -> Result<Vec<Dirty>> {
    let query = match selection {
        Selection::Oldest(max) => statement(db, DIRTY, &[max.into()])?,
        Selection::Within {
            from_day,
            to_day,
            max,
        } => statement(
            db,
            DIRTY_WITHIN,
            &[from_day.into(), to_day.into(), max.into()],
        )?,
    };
    Ok(query.all().await?.results::<Dirty>()?)
}

/// The days `selection` picks among the marks of every database.
fn pick(marks: &[Vec<Dirty>], selection: Selection) -> Vec<i64> {
    let mut days: Vec<i64> = marks.iter().flatten().map(|d| d.day).collect();
    days.sort_unstable();
    days.dedup();
    match selection {
        Selection::Oldest(max) => days.truncate(max as usize),
        Selection::Within { max, .. } => {
            days.reverse();
            days.truncate(max as usize);
        }
    }
    days
}

/// Rolls up the marked days `selection` picks, in the main database `db` from its own
/// raw events and conversions and the facts of the other event shards (`shards`, by
/// binding name). A day is unmarked in each database only if nothing
/// marked it again since its mark was read. Runs may overlap (the cron, reports'
/// refreshes, other isolates): a day's build from shard facts older than those its last
/// build read is refused and leaves the day as that build wrote it. When
/// `crash(dirty_days)` says so, the second day's transaction fails midway (test only).
pub async fn run(
    db: &D1Database,
    shards: &[(String, D1Database)],
    selection: Selection,
    crash: impl FnOnce(usize) -> bool,
) -> Result<Ran> {
    let mut marks = vec![marked(db, selection).await?];
    for (_, shard) in shards {
        marks.push(marked(shard, selection).await?);
    }
    let days = pick(&marks, selection);
    let crash_at = crash(days.len()).then_some(1);
    let mark_of = |of: &[Dirty], day: i64| of.iter().find(|d| d.day == day).map(|d| d.marked_at);
    let mut built = 0;
    for (i, day) in days.iter().copied().enumerate() {
        let (first_hour, end_hour) = (day * 24, (day + 1) * 24);
        let (start_ms, end_ms) = (day * DAY_MS, (day + 1) * DAY_MS);
        let hours: [Arg<'_>; 4] = [
            first_hour.into(),
            end_hour.into(),
            start_ms.into(),
            end_ms.into(),
        ];
        let mut batch = Vec::new();
        let mut facts = Vec::new();
        for (name, shard) in shards {
            let read = shard_facts(shard, &hours).await?;
            crate::faults::pause_after_shard_read(db, &read.facts).await?;
            batch.push(statement(
                db,
                CLAIM_BUILD,
                &[day.into(), name.as_str().into(), read.seq.into()],
            )?);
            facts.extend(read.facts);
        }
        batch.push(statement(
            db,
            CLEAR_HOURS,
            &[first_hour.into(), end_hour.into()],
        )?);
        batch.push(statement(db, BUILD_HOURS, &hours)?);
        for chunk in facts.chunks(FACTS_PER_STATEMENT) {
            let rows = format!("[{}]", chunk.join(","));
            batch.push(statement(db, ADD_SHARD_FACTS, &[rows.as_str().into()])?);
        }
        if crash_at == Some(i) {
            batch.push(super::injected_failure(db)?);
        }
        if let Some(marked_at) = mark_of(&marks[0], day) {
            batch.push(statement(db, UNMARK, &[day.into(), marked_at.into()])?);
        }
        // The journey walks activity forward: it recomputes from this day on.
        batch.push(super::journey::mark_statement(db, day)?);
        match db.batch(batch).await {
            Ok(_) => {}
            // A run that read the shards later has built the day already.
            Err(error) if error.to_string().contains(CLAIM_REFUSED) => continue,
            Err(error) => return Err(error.into()),
        }
        for ((_, shard), of) in shards.iter().zip(&marks[1..]) {
            if let Some(marked_at) = mark_of(of, day) {
                execute(shard, UNMARK, &[day.into(), marked_at.into()]).await?;
            }
        }
        built += 1;
    }
    Ok(Ran {
        picked: days.len(),
        built,
    })
}

/// What a rollup run did.
#[derive(Debug, Clone, Copy)]
pub struct Ran {
    /// Marked days it took up.
    pub picked: usize,
    /// Of those, the days it rolled up (the others a later run had built already).
    pub built: usize,
}

/// A shard's facts of some hours, and the number of the read that saw them.
struct ShardRead {
    seq: i64,
    facts: Vec<String>,
}

/// Reads a shard's facts of `hours` and numbers the read, in one transaction.
async fn shard_facts(shard: &D1Database, hours: &[Arg<'_>]) -> Result<ShardRead> {
    #[derive(Deserialize)]
    struct Seq {
        seq: i64,
    }
    #[derive(Deserialize)]
    struct Line {
        line: String,
    }
    let results = shard
        .batch(vec![
            statement(shard, NEXT_READ, &[])?,
            statement(shard, SHARD_FACTS, hours)?,
        ])
        .await?;
    let [read, facts] = <[_; 2]>::try_from(results)
        .map_err(|r| super::StorageError::corrupt("rollup read", format!("{} results", r.len())))?;
    let seq = read
        .results::<Seq>()?
        .first()
        .map(|s| s.seq)
        .ok_or_else(|| super::StorageError::corrupt("rollup read", "no number"))?;
    Ok(ShardRead {
        seq,
        facts: facts
            .results::<Line>()?
            .into_iter()
            .map(|l| l.line)
            .collect(),
    })
}
