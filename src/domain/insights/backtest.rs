//! Rolling-origin evaluation ("time-series cross-validation", fpp3 §5.10): each
//! candidate is fitted on the history up to an origin and scored on the days after it
//! that really happened, so every published accuracy figure is out-of-sample.
//!
//! Origins step back a week at a time from the end (so every origin falls on the same
//! weekday as the real forecast's and the weekly pattern is tested in the same phase).
//! Horizon h uses the [`MAX_ORIGINS`] most recent origins that have h actual days after
//! them and at least [`MIN_TRAINING_DAYS`] before: origins end − 7, … − 56 for 7 days;
//! end − 28, … − 77 for 28; end − 91, … − 140 for 90. The origins are shared, so each
//! model is fitted once per origin (at most 19) and that forecast is scored at every
//! horizon the origin serves. Eight origins a horizon keep the nightly work bounded;
//! for the 28- and 90-day horizons they overlap, so they are not eight independent
//! trials, which is why they are reported with their count and never as significance.

use super::calibration::{self, ratios, Scales};
use super::metrics::{mase_scale, Tally};
use super::models::{ModelKind, Prediction, WEEK};

/// The horizons the accuracy is reported at: a week, four weeks, about a quarter.
pub const HORIZONS: [usize; 3] = [7, 28, 90];

/// At most this many origins per horizon.
pub const MAX_ORIGINS: usize = 8;

/// Each origin needs this much history before it: three weeks, enough for MSTL to see
/// the weekly cycle more than twice and for the MASE scale to average two weeks of
/// seasonal differences. It is less than the 28 days a forecast needs, so that every
/// series long enough to forecast has at least one 7-day origin.
pub const MIN_TRAINING_DAYS: usize = 21;

/// How one model did at one horizon, next to seasonal naive at the same origins.
///
/// Every measure is `None` when there was nothing to measure: MASE when the training
/// data before every origin repeated exactly each week (an all-zero series, for one).
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    /// Days ahead: 7, 28 or 90. The measures pool days 1..=horizon.
    pub horizon: u32,
    /// How many forecast origins were scored.
    pub origins: u32,
    /// Mean absolute scaled error (below 1: better than last week's same weekday was
    /// in-sample).
    pub mase: Option<f64>,
    /// Symmetric mean absolute percentage error, 0–200.
    pub smape: Option<f64>,
    /// Mean of forecast − actual, in the series' units (positive: too high).
    pub bias: Option<f64>,
    /// Share (0–1) of actual days inside the 80 % interval.
    pub coverage_80: Option<f64>,
    /// Share (0–1) of actual days inside the 95 % interval.
    pub coverage_95: Option<f64>,
    /// Seasonal naive's MASE at the same origins: the benchmark to beat.
    pub mase_seasonal_naive: Option<f64>,
}

/// Every candidate's tallies, per horizon.
#[derive(Debug, Clone)]
pub(crate) struct Backtest {
    /// The horizons with at least one origin, ascending.
    horizons: Vec<usize>,
    /// `tallies[model][i]` is `model` at `horizons[i]`, models in
    /// [`ModelKind::BY_SIMPLICITY`] order.
    tallies: Vec<Vec<Tally>>,
    /// Each model's interval scales from all origins' errors (for its published forecast).
    scales: Vec<Scales>,
}

/// The origins (as indices into the series: the first forecast day) and the horizons
/// each one serves, latest origin first.
pub(crate) fn origins(n: usize) -> Vec<(usize, Vec<usize>)> {
    let mut by_weeks_back: Vec<Vec<usize>> = Vec::new();
    for h in HORIZONS {
        let first = h.div_ceil(WEEK);
        for weeks in first..first + MAX_ORIGINS {
            match n.checked_sub(weeks * WEEK) {
                Some(o) if o >= MIN_TRAINING_DAYS => {
                    if by_weeks_back.len() <= weeks {
                        by_weeks_back.resize(weeks + 1, Vec::new());
                    }
                    by_weeks_back[weeks].push(h);
                }
                _ => break,
            }
        }
    }
    by_weeks_back
        .into_iter()
        .enumerate()
        .filter(|(_, hs)| !hs.is_empty())
        .map(|(weeks, hs)| (n - weeks * WEEK, hs))
        .collect()
}

/// A forecast made at an origin (unclamped), with the MASE scale of its training data.
type Scored = (Prediction, Option<f64>);

/// Scores every candidate at every origin of `y`. A model that fails at an origin (MSTL
/// on a training window that never varies, or a library error) is scored there with
/// the seasonal naive forecast (the benchmark, which cannot fail), so that every
/// candidate is scored on the same origins and its record shows what relying on it
/// would have produced, awkward origins included.
///
/// Intervals are scored as published: calibrated (see [`super::calibration`]) with the
/// scale learnt from the other origins' errors.
pub(crate) fn run(y: &[f64]) -> Backtest {
    let origins = origins(y.len());
    let horizons: Vec<usize> = HORIZONS
        .into_iter()
        .filter(|h| origins.iter().any(|(_, hs)| hs.contains(h)))
        .collect();
    let models = ModelKind::BY_SIMPLICITY.len();
    // forecasts[m][o]: model m's forecast at origin o (unclamped) and the MASE scale.
    let mut forecasts: Vec<Vec<Option<Scored>>> = vec![vec![None; origins.len()]; models];
    for (o, (origin, served)) in origins.iter().enumerate() {
        let training = &y[..*origin];
        let longest = served.iter().copied().max().unwrap_or(WEEK);
        let scale = mase_scale(training);
        let Ok(fallback) = ModelKind::SeasonalNaive.predict(training, longest) else {
            continue;
        };
        for (m, kind) in ModelKind::BY_SIMPLICITY.into_iter().enumerate() {
            let prediction = kind
                .predict(training, longest)
                .unwrap_or_else(|_| fallback.clone());
            forecasts[m][o] = Some((prediction, scale));
        }
    }
    let mut tallies = vec![vec![Tally::default(); horizons.len()]; models];
    let mut scales = vec![Scales::NONE; models];
    for m in 0..models {
        let per_origin: Vec<Vec<(f64, f64)>> = origins
            .iter()
            .zip(&forecasts[m])
            .map(|((origin, _), f)| {
                f.as_ref().map_or_else(Vec::new, |(p, _)| {
                    ratios(&y[*origin..origin + p.point.len()], p)
                })
            })
            .collect();
        scales[m] = calibration::scales(&per_origin.concat());
        for (o, (origin, served)) in origins.iter().enumerate() {
            let Some((prediction, scale)) = &forecasts[m][o] else {
                continue;
            };
            let others: Vec<(f64, f64)> = per_origin
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != o)
                .flat_map(|(_, r)| r.iter().copied())
                .collect();
            let published = prediction
                .clone()
                .scaled(calibration::scales(&others))
                .clamped_at_zero();
            for (i, h) in horizons.iter().enumerate() {
                if served.contains(h) {
                    tallies[m][i].add(&y[*origin..origin + h], &published, *scale);
                }
            }
        }
    }
    Backtest {
        horizons,
        tallies,
        scales,
    }
}

impl Backtest {
    fn tallies(&self, kind: ModelKind) -> &[Tally] {
        let m = ModelKind::BY_SIMPLICITY
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0);
        &self.tallies[m]
    }

    /// The scales `kind`'s published intervals get.
    pub(crate) fn scales(&self, kind: ModelKind) -> Scales {
        ModelKind::BY_SIMPLICITY
            .iter()
            .position(|k| *k == kind)
            .map_or(Scales::NONE, |m| self.scales[m])
    }

    /// The selection score: the model's MASE averaged over the horizons that have one
    /// (each horizon weighs the same, whatever its number of origins); `None` when no
    /// horizon has a MASE.
    pub(crate) fn score(&self, kind: ModelKind) -> Option<f64> {
        let mases: Vec<f64> = self.tallies(kind).iter().filter_map(Tally::mase).collect();
        (!mases.is_empty()).then(|| mases.iter().sum::<f64>() / mases.len() as f64)
    }

    /// The published record of `kind`, one entry per horizon with an origin.
    pub(crate) fn accuracy(&self, kind: ModelKind) -> Vec<Accuracy> {
        let benchmark = self.tallies(ModelKind::SeasonalNaive);
        self.horizons
            .iter()
            .zip(self.tallies(kind))
            .zip(benchmark)
            .map(|((h, t), b)| Accuracy {
                horizon: *h as u32,
                origins: t.origins,
                mase: t.mase(),
                smape: t.smape(),
                bias: t.bias(),
                coverage_80: t.coverage_80(),
                coverage_95: t.coverage_95(),
                mase_seasonal_naive: b.mase(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_step_back_weekly_and_are_shared_between_horizons() {
        let o = origins(365);
        // Weeks back 1–8 (7 days), 4–11 (28 days), 13–20 (90 days): 19 distinct origins.
        assert_eq!(o.len(), 19);
        assert_eq!(o[0], (358, vec![7]));
        assert_eq!(o[3], (337, vec![7, 28]));
        assert_eq!(o[7], (309, vec![7, 28]));
        assert_eq!(o[8], (302, vec![28]));
        assert_eq!(o[10], (288, vec![28]));
        assert_eq!(o[11], (274, vec![90]));
        assert_eq!(o[18], (225, vec![90]));
        for h in HORIZONS {
            let served: Vec<usize> = o
                .iter()
                .filter(|(_, hs)| hs.contains(&h))
                .map(|(origin, _)| *origin)
                .collect();
            assert_eq!(served.len(), MAX_ORIGINS);
            assert!(served.iter().all(|origin| origin + h <= 365));
        }
    }

    #[test]
    fn short_series_get_fewer_origins_and_horizons() {
        // 28 days: one origin, 7 days before the end, with 21 days of training.
        assert_eq!(origins(28), vec![(21, vec![7])]);
        // 60 days: 7 days from 5 origins (53 … 25), 28 days from 2 (32, 25).
        let o = origins(60);
        assert_eq!(o.iter().filter(|(_, hs)| hs.contains(&7)).count(), 5);
        assert_eq!(o.iter().filter(|(_, hs)| hs.contains(&28)).count(), 2);
        assert!(o.iter().all(|(_, hs)| !hs.contains(&90)));
        // 111 = 21 + 90 is not enough for 90 days (the latest origin is 91 days back).
        assert!(origins(111).iter().all(|(_, hs)| !hs.contains(&90)));
        assert!(origins(112).iter().any(|(_, hs)| hs.contains(&90)));
    }

    #[test]
    fn a_backtest_reports_every_horizon_with_an_origin() {
        let y: Vec<f64> = (0..60).map(|i| 10.0 + (i % 7) as f64).collect();
        let b = run(&y);
        let acc = b.accuracy(ModelKind::SeasonalNaive);
        assert_eq!(acc.iter().map(|a| a.horizon).collect::<Vec<_>>(), [7, 28]);
        assert_eq!(acc[0].origins, 5);
        // A perfectly weekly series has no MASE scale, and seasonal naive is exact.
        assert_eq!(acc[0].mase, None);
        assert_eq!(acc[0].smape, Some(0.0));
        assert_eq!(acc[0].coverage_95, Some(1.0));
        assert_eq!(b.score(ModelKind::SeasonalNaive), None);
    }
}
