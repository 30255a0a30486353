//! The nightly insights job of one program: judge the partners of each day not yet
//! judged (flags), then fit every forecast on the history through the last of them.
//! The cron queues one job per program once its local day has ended; the queue retries
//! a failed job, and a rerun replaces what an earlier run stored.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use serde_json::json;
use worker::D1Database;

use crate::domain::flags::{evaluate, Interval, FAST_SECONDS, REPEAT_MINUTES};
use crate::domain::insights::{forecast, DailySeries, ForecastError};
use crate::domain::nightly::{
    partners_to_forecast, program_day, AccuracyRecord, Facts, FLAG_TRAILING_DAYS, FLAG_WINDOW_DAYS,
    FORECAST_METRICS, HORIZON_DAYS, NO_MODEL, PARTNER_HISTORY_DAYS, PROGRAM_HISTORY_DAYS,
};
use crate::domain::reporting::{
    local_day, local_midnight, Cell, Dimension, Filter, Metric, ReportQuery,
};
use crate::reporting::{self, ReportError, Reuse};
use crate::storage::forecasts::{self, ForecastDayRow, ModelRow, Series};
use crate::storage::programs::{self, ProgramRow};
use crate::storage::{flags, StorageError};

/// Days one job judges at most (a program whose job was down longer starts again from
/// the last of them).
pub const MAX_DAYS_PER_RUN: i64 = crate::domain::nightly::CATCH_UP_DAYS;

/// What one run did.
#[derive(Debug, Default, serde::Serialize)]
pub struct RunSummary {
    pub program_id: String,
    /// The days judged, `YYYY-MM-DD`.
    pub days: Vec<String>,
    pub partners_judged: usize,
    pub flags: usize,
    pub series_forecast: usize,
    /// Series with too little history for a forecast (recorded with the reason).
    pub series_without_forecast: usize,
    pub elapsed_ms: i64,
}

fn program_tz(program: &ProgramRow) -> Tz {
    program.timezone.parse().unwrap_or(chrono_tz::UTC)
}

/// The program's last finished local day at `now`.
pub fn yesterday(program: &ProgramRow, now: i64) -> Option<NaiveDate> {
    local_day(program_tz(program), now).map(|today| today - Duration::days(1))
}

fn number(cell: Option<&Cell>) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    match cell {
        Some(Cell::Count(n)) => *n as f64,
        Some(Cell::Money(v) | Cell::Ratio(v) | Cell::Number(v)) => v.to_f64().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `metrics` per local day of `[from, through]` in the program, by partner when asked:
/// for each (partner or "", metric), the values oldest first, zero on days without any.
async fn daily(
    db: &D1Database,
    now: i64,
    program: &ProgramRow,
    from: NaiveDate,
    through: NaiveDate,
    metrics: &[Metric],
    by_partner: bool,
) -> Result<HashMap<(String, Metric), Vec<f64>>, ReportError> {
    let mut group_by = vec![Dimension::Day];
    if by_partner {
        group_by.insert(0, Dimension::Partner);
    }
    let q = ReportQuery {
        from,
        to: through + Duration::days(1),
        group_by,
        metrics: metrics.to_vec(),
        filters: vec![Filter {
            dimension: Dimension::Program,
            value: program.id.clone(),
        }],
        timezone: program_tz(program),
    };
    let rows = reporting::rows(db, now, &q, Reuse::Never).await?;
    let table = q.table(&rows);
    let len = usize::try_from((through - from).num_days() + 1).unwrap_or(0);
    let mut series: HashMap<(String, Metric), Vec<f64>> = HashMap::new();
    for row in &table.rows {
        let Some(Cell::Date(day)) = table.cell(row, "day") else {
            continue;
        };
        let Ok(at) = usize::try_from((*day - from).num_days()) else {
            continue;
        };
        let partner = match table.cell(row, "partner_id") {
            Some(Cell::Text(id)) => id.clone(),
            _ => String::new(),
        };
        for metric in metrics {
            let values = series
                .entry((partner.clone(), *metric))
                .or_insert_with(|| vec![0.0; len]);
            if let Some(slot) = values.get_mut(at) {
                *slot = number(table.cell(row, metric.name()));
            }
        }
    }
    Ok(series)
}

/// Judges the program's partners on `day` and stores the flags raised; answers how many
/// partners were judged and how many flags stand.
async fn judge(
    db: &D1Database,
    events: &D1Database,
    now: i64,
    program: &ProgramRow,
    day: NaiveDate,
) -> Result<(usize, usize), ReportError> {
    let tz = program_tz(program);
    let first = day - Duration::days(FLAG_WINDOW_DAYS - 1);
    let from = local_midnight(tz, first);
    let to = local_midnight(tz, day + Duration::days(1));
    let facts = flags::facts(
        db,
        events,
        &program.id,
        from,
        to,
        FAST_SECONDS as i64 * 1000,
        REPEAT_MINUTES as i64 * 60_000,
    )
    .await?
    .into_iter()
    .map(|f| Facts {
        partner_id: f.partner_id,
        clicks: f.clicks,
        bot_clicks: f.bot_clicks,
        unique_visitors: f.unique_visitors,
        top_visitor_clicks: f.top_visitor_clicks,
        conversions: f.conversions,
        fast_conversions: f.fast_conversions,
        sales: f.sales,
        repeat_orders: f.repeat_orders,
    })
    .collect();
    let trailing = day - Duration::days(FLAG_TRAILING_DAYS - 1);
    let clicks = daily(db, now, program, trailing, day, &[Metric::Clicks], true).await?;
    let daily_clicks: HashMap<String, Vec<f64>> = clicks
        .into_iter()
        .filter(|((partner, _), _)| !partner.is_empty())
        .map(|((partner, _), values)| (partner, values))
        .collect();
    let intervals: HashMap<String, Interval> =
        forecasts::partner_intervals(db, &program.id, Metric::Clicks.name(), &day.to_string())
            .await?
            .into_iter()
            .map(|i| {
                (
                    i.partner_id,
                    Interval {
                        lower_95: i.lower_95,
                        upper_95: i.upper_95,
                    },
                )
            })
            .collect();
    let input = program_day(&program.id, day, facts, daily_clicks, intervals);
    let judged = input.partners.len();
    // One flag per partner and kind for an episode: the window overlaps the days
    // before, so what was raised on one of them is not raised again.
    let before = flags::recent(
        db,
        &program.id,
        &(day - Duration::days(FLAG_WINDOW_DAYS - 1)).to_string(),
        &day.to_string(),
    )
    .await?;
    let raised: Vec<_> = evaluate(&input)
        .into_iter()
        .filter(|f| !before.contains(&(f.partner_id.clone(), f.kind.as_str().to_owned())))
        .collect();
    let rows: Vec<serde_json::Value> = raised
        .iter()
        .map(|f| {
            json!({
                "id": crate::domain::ids::new_id("flg"),
                "partner_id": f.partner_id,
                "kind": f.kind.as_str(),
                "severity": f.severity.as_str(),
                "p_value": f.p_value,
                "q_value": f.q_value,
                "evidence": f.evidence.to_string(),
            })
        })
        .collect();
    let rows = serde_json::Value::Array(rows).to_string();
    flags::replace_day(db, &program.id, &day.to_string(), &rows, now).await?;
    Ok((judged, raised.len()))
}

/// Fits and stores one series' forecast (or records why there is none).
async fn fit(
    db: &D1Database,
    now: i64,
    series: Series<'_>,
    start: NaiveDate,
    values: Vec<f64>,
    through: NaiveDate,
) -> Result<bool, StorageError> {
    let history_days = values.len();
    let input = DailySeries::new(start, values);
    let (model, record, days) = match forecast(&input, HORIZON_DAYS) {
        Ok(fitted) => {
            let record = AccuracyRecord::of(&fitted, history_days);
            let days: Vec<ForecastDayRow> = fitted
                .days
                .iter()
                .map(|d| ForecastDayRow {
                    day: d.day.to_string(),
                    value: d.value,
                    lower_80: d.lower_80,
                    upper_80: d.upper_80,
                    lower_95: d.lower_95,
                    upper_95: d.upper_95,
                })
                .collect();
            (fitted.model.name(), record, days)
        }
        Err(error) => {
            let reason = match error {
                ForecastError::NotEnoughHistory { .. } => "not_enough_history",
                _ => "no_model",
            };
            if !matches!(error, ForecastError::NotEnoughHistory { .. }) {
                worker::console_error!(
                    "forecast of {}/{}/{} failed: {error}",
                    series.program_id,
                    series.partner_id,
                    series.metric
                );
            }
            let record = AccuracyRecord::none(history_days, format!("{reason}: {error}"));
            (NO_MODEL, record, Vec::new())
        }
    };
    let fitted = model != NO_MODEL;
    let row = ModelRow {
        model: model.to_owned(),
        trained_through: through.to_string(),
        fitted_at: now,
        accuracy: serde_json::to_string(&record).unwrap_or_else(|_| "{}".to_owned()),
    };
    forecasts::replace(db, series, &row, &days).await?;
    Ok(fitted)
}

/// Fits one series from its first active day (days before it are not history: the
/// program or partner was not there yet, or its history was not imported).
async fn fit_from_first_activity(
    db: &D1Database,
    now: i64,
    series: Series<'_>,
    from: NaiveDate,
    values: &[f64],
    through: NaiveDate,
    summary: &mut RunSummary,
) -> Result<(), StorageError> {
    let first = values
        .iter()
        .position(|v| *v != 0.0)
        .unwrap_or(values.len());
    let start = from + Duration::days(first as i64);
    if fit(db, now, series, start, values[first..].to_vec(), through).await? {
        summary.series_forecast += 1;
    } else {
        summary.series_without_forecast += 1;
    }
    Ok(())
}

/// Fits the program's series and its steady partners' on the history through `through`.
async fn forecast_all(
    db: &D1Database,
    now: i64,
    program: &ProgramRow,
    through: NaiveDate,
    summary: &mut RunSummary,
) -> Result<(), ReportError> {
    let metrics = FORECAST_METRICS;
    let from = through - Duration::days(PROGRAM_HISTORY_DAYS - 1);
    let program_series = daily(db, now, program, from, through, &metrics, false).await?;
    let len = usize::try_from((through - from).num_days() + 1).unwrap_or(0);
    for metric in metrics {
        let none = vec![0.0; len];
        let values = program_series
            .get(&(String::new(), metric))
            .unwrap_or(&none);
        let series = Series {
            program_id: &program.id,
            partner_id: "",
            metric: metric.name(),
        };
        fit_from_first_activity(db, now, series, from, values, through, summary).await?;
    }
    // Partners: a year at most, the busiest of those with a steady daily pattern.
    let from = through - Duration::days(PARTNER_HISTORY_DAYS - 1);
    let partner_series = daily(db, now, program, from, through, &metrics, true).await?;
    for metric in metrics {
        let mut of_metric: Vec<(&str, &[f64])> = partner_series
            .iter()
            .filter(|((partner, m), _)| *m == metric && !partner.is_empty())
            .map(|((partner, _), values)| (partner.as_str(), values.as_slice()))
            .collect();
        of_metric.sort_by(|a, b| a.0.cmp(b.0));
        for partner in partners_to_forecast(&of_metric) {
            let series = Series {
                program_id: &program.id,
                partner_id: partner,
                metric: metric.name(),
            };
            let values = &partner_series[&(partner.to_owned(), metric)];
            fit_from_first_activity(db, now, series, from, values, through, summary).await?;
        }
    }
    forecasts::drop_stale_partners(db, &program.id, &through.to_string()).await?;
    Ok(())
}

/// Runs the program's job for the days after its last judged day through `through`
/// (at most [`MAX_DAYS_PER_RUN`]; with `again`, `through` alone, even if judged).
pub async fn run(
    db: &D1Database,
    events: &D1Database,
    now: i64,
    program: &ProgramRow,
    through: NaiveDate,
    again: bool,
) -> Result<RunSummary, ReportError> {
    let started = worker::Date::now().as_millis() as i64;
    let earliest = through - Duration::days(MAX_DAYS_PER_RUN - 1);
    let first = match program
        .insights_through
        .as_deref()
        .and_then(crate::domain::time::parse_date)
    {
        _ if again => through,
        Some(last) => (last + Duration::days(1)).max(earliest),
        None => earliest,
    };
    let mut summary = RunSummary {
        program_id: program.id.clone(),
        ..RunSummary::default()
    };
    let mut day = first;
    while day <= through {
        let (judged, raised) = judge(db, events, now, program, day).await?;
        summary.partners_judged = summary.partners_judged.max(judged);
        summary.flags += raised;
        summary.days.push(day.to_string());
        day += Duration::days(1);
    }
    forecast_all(db, now, program, through, &mut summary).await?;
    programs::insights_done(db, &program.id, &through.to_string()).await?;
    summary.elapsed_ms = worker::Date::now().as_millis() as i64 - started;
    Ok(summary)
}
