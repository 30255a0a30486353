//! Selection and the published forecast.
//!
//! Every candidate is backtested; the one with the lowest mean MASE over the backtest's
//! horizons is refitted on the whole history and forecasts the days asked for. Equal
//! scores go to the simpler model (seasonal naive, then drift, then MSTL): extra
//! structure has to earn its place out-of-sample. With no score at all (the training
//! data before every origin repeated exactly each week, an all-zero series for one),
//! seasonal naive is used: it reproduces exactly that pattern.

use chrono::NaiveDate;

use super::backtest::{self, Accuracy};
use super::calibration::Scales;
use super::models::ModelKind;
use super::series::DailySeries;
use super::{ForecastError, HORIZON_DAYS};

/// One forecast day: the point forecast and its central 80 % and 95 % prediction
/// intervals, all at least zero and ordered
/// `lower_95 ≤ lower_80 ≤ value ≤ upper_80 ≤ upper_95`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastDay {
    pub day: NaiveDate,
    pub value: f64,
    pub lower_80: f64,
    pub upper_80: f64,
    pub lower_95: f64,
    pub upper_95: f64,
}

/// A series' forecast and the evidence for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The model that made `days`.
    pub model: ModelKind,
    /// The last day of history used: `days` start the day after.
    pub trained_through: NaiveDate,
    pub days: Vec<ForecastDay>,
    /// `model`'s backtest at each horizon (7, 28, 90) that the history was long enough
    /// to test, with seasonal naive's MASE beside it.
    pub accuracy: Vec<Accuracy>,
    /// Every candidate's selection score (mean MASE over the backtest horizons; lower
    /// is better), simplest first.
    pub candidates: Vec<(ModelKind, Option<f64>)>,
    /// How much the model's own 80 % and 95 % intervals were widened (or narrowed) so
    /// that they would have held that share of the backtest's days.
    pub interval_scales: Scales,
}

/// Forecasts the `horizon` days (7 to 90) after the last day of `series`.
///
/// The cost is bounded: at most 19 backtest fits per model (MSTL being the only one
/// that costs anything) and one refit, on at most three years of history.
pub fn forecast(series: &DailySeries, horizon: usize) -> Result<Fitted, ForecastError> {
    if !HORIZON_DAYS.contains(&horizon) {
        return Err(ForecastError::InvalidHorizon { requested: horizon });
    }
    let y = series.checked_history()?;
    let backtest = backtest::run(y);
    let candidates: Vec<(ModelKind, Option<f64>)> = ModelKind::BY_SIMPLICITY
        .into_iter()
        .map(|kind| (kind, backtest.score(kind)))
        .collect();

    // Best score first; the sort is stable, so equal scores keep simplicity order, and
    // unscored models go last (with no score at all, seasonal naive leads). If the chosen model cannot fit the full history, the
    // next one stands in, and what is published is that model's record.
    let mut ranked = candidates.clone();
    ranked.sort_by(|(_, a), (_, b)| {
        let key = |s: &Option<f64>| s.unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b))
    });

    let mut failure = String::new();
    for (kind, _) in ranked {
        match kind.predict(y, horizon) {
            Ok(prediction) => {
                let interval_scales = backtest.scales(kind);
                let p = prediction.scaled(interval_scales).clamped_at_zero();
                let days = (0..horizon)
                    .map(|i| ForecastDay {
                        day: series.day(series.values.len() + i),
                        value: p.point[i],
                        lower_80: p.lower_80[i],
                        upper_80: p.upper_80[i],
                        lower_95: p.lower_95[i],
                        upper_95: p.upper_95[i],
                    })
                    .collect();
                return Ok(Fitted {
                    model: kind,
                    trained_through: series.last_day(),
                    days,
                    accuracy: backtest.accuracy(kind),
                    candidates,
                    interval_scales,
                });
            }
            Err(e) => failure = format!("{}: {e}", kind.name()),
        }
    }
    Err(ForecastError::Model(failure))
}
