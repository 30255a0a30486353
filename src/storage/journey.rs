//! The partner journey in D1: the daily stage rows, the activity they are walked from
//! (rollup hours summed per partner and UTC day), and the progress mark that says from
//! which day the next run recomputes.

use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

use super::{first, statement, Result, StorageError};
use crate::domain::partners::journey::{DayStage, Stage};
use crate::domain::reporting::JourneyStage;

const PROGRESS: &str = "SELECT next_day, marks FROM journey_progress WHERE id = 1";
/// Moves the next run's first day back to `?1` (a NULL next day already means "all").
const MARK: &str = "UPDATE journey_progress SET marks = marks + 1, \
     next_day = CASE WHEN next_day IS NULL THEN NULL ELSE min(next_day, ?1) END WHERE id = 1";
/// Sets the next run's first day, unless a mark came in since `marks` was read.
const ADVANCE: &str = "UPDATE journey_progress SET next_day = ?1 WHERE id = 1 AND marks = ?2";
const FIRST_DAY: &str = "SELECT min(day) AS day FROM ( \
     SELECT min(hour) / 24 AS day FROM rollup_hourly \
     UNION ALL SELECT min(at) / 86400000 FROM partner_status_changes \
     UNION ALL SELECT min(day) FROM partner_stage_days)";
const CARRIES: &str = "SELECT partner_id, conversion_days, clicked, last_active_day \
     FROM partner_stage_days WHERE day = ?";
const ACTIVITY: &str = "SELECT partner_id, hour / 24 AS day, sum(clicks) AS clicks, \
     sum(leads + qualified_leads + sales + refunds) AS conversions FROM rollup_hourly \
     WHERE hour >= ?1 * 24 AND hour < ?2 * 24 GROUP BY partner_id, hour / 24 \
     HAVING sum(clicks) + sum(leads + qualified_leads + sales + refunds) > 0";
const CLEAR_DAYS: &str = "DELETE FROM partner_stage_days WHERE day >= ? AND day < ?";
/// Inserts the rows of a JSON array of arrays (one bound parameter for many rows).
const INSERT_JSON: &str = "INSERT INTO partner_stage_days (partner_id, day, stage, risk, \
     conversion_days, clicked, last_active_day, last_14, prev_14) \
     SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
       json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
       json_extract(value, '$[6]'), json_extract(value, '$[7]'), json_extract(value, '$[8]') \
     FROM json_each(?)";
const ROWS_PER_INSERT: usize = 500;

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Progress {
    pub next_day: Option<i64>,
    pub marks: i64,
}

pub async fn progress(db: &D1Database) -> Result<Progress> {
    Ok(first(db, PROGRESS, &[]).await?.unwrap_or(Progress {
        next_day: None,
        marks: 0,
    }))
}

/// The statement that makes the next run start at `day` or earlier.
pub fn mark_statement(db: &D1Database, day: i64) -> Result<D1PreparedStatement> {
    statement(db, MARK, &[day.into()])
}

/// The first day anything happened: the earliest rollup hour, partner status or stored
/// stage.
pub async fn first_day(db: &D1Database) -> Result<Option<i64>> {
    #[derive(Deserialize)]
    struct Day {
        day: Option<i64>,
    }
    Ok(first::<Day>(db, FIRST_DAY, &[]).await?.and_then(|d| d.day))
}

#[derive(Debug, Clone, Deserialize)]
pub struct CarryRow {
    pub partner_id: String,
    pub conversion_days: i64,
    pub clicked: i64,
    pub last_active_day: Option<i64>,
}

/// Every partner's counters at the end of `day`.
pub async fn carries(db: &D1Database, day: i64) -> Result<Vec<CarryRow>> {
    statement(db, CARRIES, &[day.into()])?
        .all()
        .await?
        .results()
        .map_err(Into::into)
}

#[derive(Debug, Clone, Deserialize)]
pub struct ActivityRow {
    pub partner_id: String,
    pub day: i64,
    pub clicks: i64,
    pub conversions: i64,
}

/// Non-bot clicks and counted conversions per partner and UTC day in `[from, to)`,
/// days without either left out.
pub async fn activity(db: &D1Database, from: i64, to: i64) -> Result<Vec<ActivityRow>> {
    statement(db, ACTIVITY, &[from.into(), to.into()])?
        .all()
        .await?
        .results()
        .map_err(Into::into)
}

/// Replaces the stage rows of days `[start, end)` with `rows` in one transaction, and
/// moves the next run's first day to `next_day` unless a mark came in after `marks` was
/// read.
pub async fn replace(
    db: &D1Database,
    (start, end): (i64, i64),
    rows: &[(&str, DayStage)],
    marks: i64,
    next_day: i64,
) -> Result<()> {
    let mut batch = vec![statement(db, CLEAR_DAYS, &[start.into(), end.into()])?];
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .map(|(partner, d)| {
                serde_json::json!([
                    partner,
                    d.day,
                    d.stage.as_str(),
                    d.risk.map(|r| r.as_str()),
                    d.carry.conversion_days,
                    i64::from(d.carry.clicked),
                    d.carry.last_active_day,
                    d.last_14,
                    d.prev_14,
                ])
            })
            .collect();
        let json = serde_json::Value::Array(json).to_string();
        batch.push(statement(db, INSERT_JSON, &[json.as_str().into()])?);
    }
    batch.push(statement(db, ADVANCE, &[next_day.into(), marks.into()])?);
    db.batch(batch).await.map(drop).map_err(Into::into)
}

#[derive(Debug, Clone, Deserialize)]
struct StageRow {
    partner_id: String,
    stage: String,
    risk: Option<String>,
    last_active_day: Option<i64>,
    last_14: i64,
    prev_14: i64,
    since_day: i64,
}

fn stage(raw: &str) -> Result<Stage> {
    Stage::parse(raw).map_err(|_| StorageError::corrupt("journey stage", raw))
}

/// Each partner's stage on `day`, with the day its current stretch in that stage began.
pub async fn stages_on(db: &D1Database, day: i64) -> Result<Vec<(String, JourneyStage)>> {
    const SQL: &str = "SELECT s.partner_id, s.stage, s.risk, s.last_active_day, s.last_14, \
         s.prev_14, coalesce((SELECT max(o.day) + 1 FROM partner_stage_days o \
           WHERE o.partner_id = s.partner_id AND o.day < ?1 AND o.stage != s.stage), \
           (SELECT min(f.day) FROM partner_stage_days f WHERE f.partner_id = s.partner_id)) \
           AS since_day \
         FROM partner_stage_days s WHERE s.day = ?1";
    let rows: Vec<StageRow> = statement(db, SQL, &[day.into()])?.all().await?.results()?;
    rows.into_iter()
        .map(|row| {
            let on = JourneyStage {
                stage: stage(&row.stage)?,
                risk: row.risk,
                last_active_day: row.last_active_day,
                last_14: row.last_14,
                prev_14: row.prev_14,
                since_day: row.since_day,
            };
            Ok((row.partner_id, on))
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
struct StageDaysRow {
    partner_id: String,
    stage: String,
    days: i64,
}

/// Days each partner spent in each stage up to and including `day`.
pub async fn days_per_stage(db: &D1Database, day: i64) -> Result<Vec<(String, Stage, i64)>> {
    const SQL: &str = "SELECT partner_id, stage, count(*) AS days FROM partner_stage_days \
         WHERE day <= ? GROUP BY partner_id, stage";
    let rows: Vec<StageDaysRow> = statement(db, SQL, &[day.into()])?.all().await?.results()?;
    rows.into_iter()
        .map(|row| Ok((row.partner_id, stage(&row.stage)?, row.days)))
        .collect()
}

/// The partners with a link in the program who are `at_risk` on UTC day `day` (an index)
/// and were not the day before, with the reason: `(name, risk)`.
pub async fn entered_at_risk(
    db: &D1Database,
    program_id: &str,
    day: i64,
) -> Result<Vec<(String, String)>> {
    const SQL: &str = "SELECT coalesce(p.name, s.partner_id) AS name, coalesce(s.risk, '') AS risk \
         FROM partner_stage_days s LEFT JOIN partners p ON p.id = s.partner_id \
         WHERE s.day = ?2 AND s.stage = 'at_risk' \
           AND NOT EXISTS (SELECT 1 FROM partner_stage_days y WHERE y.partner_id = s.partner_id \
             AND y.day = ?2 - 1 AND y.stage = 'at_risk') \
           AND EXISTS (SELECT 1 FROM links l WHERE l.partner_id = s.partner_id AND l.program_id = ?1) \
         ORDER BY name LIMIT 200";
    #[derive(Deserialize)]
    struct Entered {
        name: String,
        risk: String,
    }
    let rows = statement(db, SQL, &[program_id.into(), day.into()])?
        .all()
        .await?
        .results::<Entered>()?;
    Ok(rows.into_iter().map(|r| (r.name, r.risk)).collect())
}
