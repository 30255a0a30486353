//! Forecasts of a program's (or a partner's) daily metrics, with an honest record of
//! how well each forecast method did on the series' own past.
//!
//! A caller loads one daily series (`sales`, `revenue`, `commission`, `clicks` or
//! `new_customers` of one program or partner, one value per UTC day, no gaps), calls
//! [`forecast()`], and stores the [`Fitted`] result: the chosen model, the next
//! 7–90 days with 80 % and 95 % prediction intervals, and the rolling-origin
//! backtest of the chosen model next to seasonal naive's.
//!
//! - [`series`]: the input ([`DailySeries`]) and its checks;
//! - [`models`]: the three candidate methods ([`ModelKind`]) and their intervals;
//! - [`metrics`]: MASE, sMAPE, bias and interval coverage;
//! - [`backtest`]: rolling-origin evaluation of every candidate;
//! - [`calibration`]: intervals as wide as the backtest's errors say;
//! - [`forecast`](mod@forecast): selection, the final refit and the published days.
//!
//! Nothing in here knows about Workers; it is pure computation, tested natively. Every
//! input that could make the time-series library misbehave is checked first, because a
//! panic inside the Worker would abort the whole invocation (the nightly job would lose
//! every other series with it), and every error of the library falls back to the
//! simple models.

pub mod backtest;
pub mod calibration;
pub mod forecast;
pub mod metrics;
pub mod models;
pub mod series;

#[cfg(test)]
mod tests;

use std::fmt;

use chrono::NaiveDate;

pub use backtest::Accuracy;
pub use calibration::Scales;
pub use forecast::{forecast, Fitted, ForecastDay};
pub use models::ModelKind;
pub use series::DailySeries;

/// Fewer days than this and no forecast is made: four weeks is the least that shows a
/// weekly pattern more than twice and still leaves a week to backtest on.
pub const MIN_HISTORY_DAYS: usize = 28;

/// The shortest and the longest forecast horizon, in days.
pub const HORIZON_DAYS: std::ops::RangeInclusive<usize> = 7..=90;

/// Why no forecast was made.
#[derive(Debug, Clone, PartialEq)]
pub enum ForecastError {
    /// The series is shorter than [`MIN_HISTORY_DAYS`].
    NotEnoughHistory { days: usize, needed: usize },
    /// The requested horizon is outside [`HORIZON_DAYS`].
    InvalidHorizon { requested: usize },
    /// A value is NaN or infinite (the day it falls on): a loading bug, not data.
    NonFinite { day: NaiveDate },
    /// No model could produce a forecast. Seasonal naive and drift cannot fail on a
    /// checked series, so this is never expected; it exists so that a surprise is an
    /// error value rather than a panic.
    Model(String),
}

impl fmt::Display for ForecastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotEnoughHistory { days, needed } => {
                write!(f, "{days} days of history, at least {needed} needed")
            }
            Self::InvalidHorizon { requested } => write!(
                f,
                "horizon of {requested} days, must be {} to {}",
                HORIZON_DAYS.start(),
                HORIZON_DAYS.end()
            ),
            Self::NonFinite { day } => write!(f, "the value of {day} is not a finite number"),
            Self::Model(message) => write!(f, "no model could forecast: {message}"),
        }
    }
}

impl std::error::Error for ForecastError {}
