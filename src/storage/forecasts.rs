//! Forecasts in D1: per series (program, partner or '' for the whole program, metric)
//! the chosen model with its backtest, and one row per forecast day. The nightly job
//! replaces a series whole, in one transaction.

use serde::Deserialize;
use worker::D1Database;

use super::{first, statement, Result};

const MODEL: &str = "SELECT model, trained_through, fitted_at, accuracy FROM forecast_models \
     WHERE program_id = ?1 AND partner_id = ?2 AND metric = ?3";
const DAYS: &str = "SELECT day, value, lower_80, upper_80, lower_95, upper_95 FROM forecast_days \
     WHERE program_id = ?1 AND partner_id = ?2 AND metric = ?3 AND day >= ?4 AND day <= ?5 \
     ORDER BY day";
const PARTNER_INTERVALS: &str = "SELECT partner_id, lower_95, upper_95 FROM forecast_days \
     WHERE program_id = ?1 AND metric = ?2 AND day = ?3 AND partner_id != ''";
/// Partner series not fitted through `?2` (no longer among the forecast partners).
const STALE_DAYS: &str = "DELETE FROM forecast_days WHERE program_id = ?1 AND partner_id != '' \
     AND EXISTS (SELECT 1 FROM forecast_models m WHERE m.program_id = forecast_days.program_id \
     AND m.partner_id = forecast_days.partner_id AND m.metric = forecast_days.metric \
     AND m.trained_through < ?2)";
const STALE_MODELS: &str = "DELETE FROM forecast_models WHERE program_id = ?1 \
     AND partner_id != '' AND trained_through < ?2";
const CLEAR_DAYS: &str =
    "DELETE FROM forecast_days WHERE program_id = ?1 AND partner_id = ?2 AND metric = ?3";
const UPSERT_MODEL: &str = "INSERT INTO forecast_models (program_id, partner_id, metric, model, \
     trained_through, fitted_at, accuracy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (program_id, partner_id, metric) DO UPDATE SET model = ?4, \
     trained_through = ?5, fitted_at = ?6, accuracy = ?7";
/// Inserts the days of a JSON array of arrays (one bound parameter for many rows).
const INSERT_DAYS: &str = "INSERT INTO forecast_days (program_id, partner_id, metric, day, value, \
     lower_80, upper_80, lower_95, upper_95) SELECT ?1, ?2, ?3, json_extract(value, '$[0]'), \
     json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
     json_extract(value, '$[4]'), json_extract(value, '$[5]') FROM json_each(?4)";

/// Which series: a program's, or one partner's in it.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub program_id: &'a str,
    /// `""` for the whole program.
    pub partner_id: &'a str,
    pub metric: &'a str,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelRow {
    pub model: String,
    pub trained_through: String,
    pub fitted_at: i64,
    /// JSON, as the job wrote it.
    pub accuracy: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ForecastDayRow {
    pub day: String,
    pub value: f64,
    pub lower_80: f64,
    pub upper_80: f64,
    pub lower_95: f64,
    pub upper_95: f64,
}

pub async fn model(db: &D1Database, s: Series<'_>) -> Result<Option<ModelRow>> {
    first(
        db,
        MODEL,
        &[s.program_id.into(), s.partner_id.into(), s.metric.into()],
    )
    .await
}

/// The forecast days of `[from, to]` (`YYYY-MM-DD`, both included).
pub async fn days(
    db: &D1Database,
    s: Series<'_>,
    from: &str,
    to: &str,
) -> Result<Vec<ForecastDayRow>> {
    let args = [
        s.program_id.into(),
        s.partner_id.into(),
        s.metric.into(),
        from.into(),
        to.into(),
    ];
    Ok(statement(db, DAYS, &args)?.all().await?.results()?)
}

/// One partner's 95 % interval for a day.
#[derive(Debug, Clone, Deserialize)]
pub struct PartnerInterval {
    pub partner_id: String,
    pub lower_95: f64,
    pub upper_95: f64,
}

/// The 95 % intervals the partners' forecasts of `metric` gave for `day`.
pub async fn partner_intervals(
    db: &D1Database,
    program_id: &str,
    metric: &str,
    day: &str,
) -> Result<Vec<PartnerInterval>> {
    let args = [program_id.into(), metric.into(), day.into()];
    Ok(statement(db, PARTNER_INTERVALS, &args)?
        .all()
        .await?
        .results()?)
}

/// Removes the program's partner forecasts trained before `through` (partners no longer
/// forecast keep no stale forecast).
pub async fn drop_stale_partners(db: &D1Database, program_id: &str, through: &str) -> Result<()> {
    let args = [program_id.into(), through.into()];
    db.batch(vec![
        statement(db, STALE_DAYS, &args)?,
        statement(db, STALE_MODELS, &args)?,
    ])
    .await?;
    Ok(())
}

/// Replaces the series' model and days.
pub async fn replace(
    db: &D1Database,
    s: Series<'_>,
    model: &ModelRow,
    days: &[ForecastDayRow],
) -> Result<()> {
    let key = [s.program_id.into(), s.partner_id.into(), s.metric.into()];
    let rows: Vec<serde_json::Value> = days
        .iter()
        .map(|d| {
            serde_json::json!([d.day, d.value, d.lower_80, d.upper_80, d.lower_95, d.upper_95])
        })
        .collect();
    let rows = serde_json::Value::Array(rows).to_string();
    let batch = vec![
        statement(db, CLEAR_DAYS, &key)?,
        statement(
            db,
            UPSERT_MODEL,
            &[
                s.program_id.into(),
                s.partner_id.into(),
                s.metric.into(),
                model.model.as_str().into(),
                model.trained_through.as_str().into(),
                model.fitted_at.into(),
                model.accuracy.as_str().into(),
            ],
        )?,
        statement(
            db,
            INSERT_DAYS,
            &[
                s.program_id.into(),
                s.partner_id.into(),
                s.metric.into(),
                rows.as_str().into(),
            ],
        )?,
    ];
    db.batch(batch).await?;
    Ok(())
}
