//! How a goal stands, from the report engine's numbers and the stored forecast.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::prelude::ToPrimitive;
use worker::D1Database;

use crate::domain::goals::{
    progress, weekday_outlook, weekday_weights, DayOutlook, GoalSpec, Progress, Standing,
};
use crate::domain::nightly::{interval_inflation, AccuracyRecord};
use crate::domain::reporting::{local_day, Cell, Dimension, Filter, ReportQuery};
use crate::reporting::{self, ReportError, Reuse};
use crate::storage::forecasts::{self, Series};
use crate::storage::programs::ProgramRow;

/// Days of history behind the weekday profile and the simple forecast.
const PROFILE_DAYS: i64 = 56;

/// A goal's standing and the target it is measured against (null when a change target's
/// baseline has no value).
pub struct Outcome {
    pub target: Option<f64>,
    /// The actual exactly as the report engine gives it (money to the cent).
    pub actual: Cell,
    pub progress: Option<Progress>,
}

fn number(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Count(n) => Some(*n as f64),
        Cell::Money(v) | Cell::Ratio(v) | Cell::Number(v) => v.to_f64(),
        _ => None,
    }
}

fn query(
    program: &ProgramRow,
    spec: &GoalSpec,
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    by: Dimension,
) -> ReportQuery {
    let mut filters = vec![Filter {
        dimension: Dimension::Program,
        value: program.id.clone(),
    }];
    if let Some(partner) = &spec.partner_id {
        filters.push(Filter {
            dimension: Dimension::Partner,
            value: partner.clone(),
        });
    }
    if let Some(segment) = spec.segment {
        filters.push(Filter {
            dimension: Dimension::Segment,
            value: segment.as_str().to_owned(),
        });
    }
    ReportQuery {
        from,
        to,
        group_by: vec![by],
        metrics: vec![spec.metric],
        filters,
        timezone: tz,
    }
}

/// The metric over `[from, to)` in the goal's scope (null when undefined).
async fn value(db: &D1Database, now: i64, q: &ReportQuery) -> Result<Cell, ReportError> {
    let rows = reporting::rows(db, now, q, Reuse::Never).await?;
    let table = q.table(&rows);
    Ok(table
        .rows
        .first()
        .and_then(|row| row.last())
        .cloned()
        .unwrap_or(Cell::Null))
}

/// The metric per day over `[from, to)`, zero for undefined days.
async fn daily(db: &D1Database, now: i64, q: &ReportQuery) -> Result<Vec<f64>, ReportError> {
    let rows = reporting::rows(db, now, q, Reuse::Never).await?;
    Ok(q.table(&rows)
        .rows
        .iter()
        .map(|row| row.last().and_then(number).unwrap_or(0.0))
        .collect())
}

/// The stored forecast of the goal's series for `days`, where one exists; the weekday
/// outlook of the history for the days it does not cover.
async fn outlook(
    db: &D1Database,
    program: &ProgramRow,
    spec: &GoalSpec,
    history: &[f64],
    last: NaiveDate,
    days: &[NaiveDate],
) -> Result<Vec<DayOutlook>, ReportError> {
    let mut fallback = weekday_outlook(history, last, days);
    let (Some(first), Some(end)) = (days.first(), days.last()) else {
        return Ok(fallback);
    };
    if spec.segment.is_some() {
        return Ok(fallback);
    }
    let series = Series {
        program_id: &program.id,
        partner_id: spec.partner_id.as_deref().unwrap_or(""),
        metric: spec.metric.name(),
    };
    let Some(model) = forecasts::model(db, series).await? else {
        return Ok(fallback);
    };
    // The intervals' width as the backtest found it: widened when the actuals fell
    // outside the 80 % interval more often than they should have.
    let horizon = u32::try_from(days.len()).unwrap_or(u32::MAX);
    let inflation = serde_json::from_str::<AccuracyRecord>(&model.accuracy)
        .ok()
        .and_then(|record| record.at(horizon).and_then(|h| h.coverage_80))
        .map_or(1.0, |coverage| interval_inflation(Some(coverage)));
    let stored = forecasts::days(db, series, &first.to_string(), &end.to_string()).await?;
    for row in stored {
        if let Some(at) = days.iter().position(|d| d.to_string() == row.day) {
            let mut day = DayOutlook::from_interval(row.value, row.lower_95, row.upper_95);
            day.sd *= inflation;
            fallback[at] = day;
        }
    }
    Ok(fallback)
}

/// How `spec` stands in `program` as of `now`.
pub async fn standing(
    db: &D1Database,
    now: i64,
    program: &ProgramRow,
    spec: &GoalSpec,
) -> Result<Outcome, ReportError> {
    let tz: Tz = program.timezone.parse().unwrap_or(chrono_tz::UTC);
    let today = local_day(tz, now).unwrap_or(spec.start);
    let day = Duration::days(1);
    let in_scope = |from, to, by| query(program, spec, tz, from, to, by);
    let baseline = match spec.baseline {
        Some((from, to)) => {
            number(&value(db, now, &in_scope(from, to + day, Dimension::Program)).await?)
        }
        None => None,
    };
    let through = today.min(spec.deadline);
    let started = through >= spec.start;
    let actual_cell = if started {
        value(
            db,
            now,
            &in_scope(spec.start, through + day, Dimension::Program),
        )
        .await?
    } else {
        Cell::Null
    };
    let target = spec.target_value(baseline);
    let actual = if started {
        number(&actual_cell)
    } else {
        Some(0.0)
    };
    let (Some(target), Some(actual)) = (target, actual) else {
        return Ok(Outcome {
            target,
            actual: actual_cell,
            progress: None,
        });
    };
    let mut standing = Standing {
        today,
        target,
        actual,
        weekday_weights: [1.0; 7],
        remaining: Vec::new(),
    };
    if spec.additive() {
        let from = today - Duration::days(PROFILE_DAYS);
        let history = daily(db, now, &in_scope(from, today, Dimension::Day)).await?;
        let last = today - day;
        standing.weekday_weights = weekday_weights(&history, last);
        // The days left that count: from tomorrow, or from the start of a goal that has
        // not begun (at most the goal's length).
        let days: Vec<NaiveDate> = (today + day)
            .max(spec.start)
            .iter_days()
            .take_while(|d| *d <= spec.deadline)
            .collect();
        standing.remaining = outlook(db, program, spec, &history, last, &days).await?;
    }
    Ok(Outcome {
        target: Some(target),
        actual: actual_cell,
        progress: Some(progress(spec, &standing)),
    })
}
