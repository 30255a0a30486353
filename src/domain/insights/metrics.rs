//! The accuracy measures of a backtest, accumulated over forecast origins.
//!
//! - **MASE** (Hyndman & Koehler 2006): the mean absolute error divided by the in-sample
//!   mean absolute error of the seasonal naive one-step forecast, mean |y(t) − y(t−7)|
//!   over the training data of that origin. Scale-free, defined for series with zeros,
//!   and directly readable: below 1, the forecast beat what "same weekday last week"
//!   achieved in-sample. An origin whose training data repeats exactly every week
//!   (scale 0, e.g. all zeros) has no MASE.
//! - **sMAPE**, on the 0–200 scale of the M3/M4 competitions:
//!   200·|y − ŷ| / (|y| + |ŷ|), a day with y = ŷ = 0 counting as 0. Shown because it is
//!   familiar; note it is harsh on small counts (any miss on a zero day scores 200).
//! - **Bias**: the mean of forecast − actual, in the series' own units; positive means
//!   the forecast ran high.
//! - **Coverage**: the share (0–1) of actual days inside the 80 % and 95 % intervals,
//!   bounds included; well-calibrated intervals are near 0.80 and 0.95.
//!
//! Every measure over a horizon h pools all h days after each origin (days 1..h, not
//! day h alone), then averages over origins.

use super::models::{Prediction, WEEK};

/// The MASE denominator: the in-sample mean absolute seasonal difference of
/// `training`, or `None` when it is zero (or there is less than a week and a day).
pub(crate) fn mase_scale(training: &[f64]) -> Option<f64> {
    let diffs = training.windows(WEEK + 1).map(|w| (w[WEEK] - w[0]).abs());
    let (sum, count) = diffs.fold((0.0, 0usize), |(s, c), d| (s + d, c + 1));
    let scale = sum / count.max(1) as f64;
    (count > 0 && scale > 0.0 && scale.is_finite()).then_some(scale)
}

/// One model's errors at one horizon, summed over origins.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Tally {
    pub origins: u32,
    days: u32,
    mase_sum: f64,
    mase_origins: u32,
    smape_sum: f64,
    bias_sum: f64,
    inside_80: u32,
    inside_95: u32,
}

impl Tally {
    /// Adds one origin: the first `actual.len()` days of `forecast` against `actual`.
    pub(crate) fn add(&mut self, actual: &[f64], forecast: &Prediction, scale: Option<f64>) {
        let mut abs_sum = 0.0;
        for (i, &y) in actual.iter().enumerate() {
            let f = forecast.point[i];
            let error = f - y;
            abs_sum += error.abs();
            self.bias_sum += error;
            let denominator = y.abs() + f.abs();
            if denominator > 0.0 {
                self.smape_sum += 200.0 * error.abs() / denominator;
            }
            if forecast.lower_80[i] <= y && y <= forecast.upper_80[i] {
                self.inside_80 += 1;
            }
            if forecast.lower_95[i] <= y && y <= forecast.upper_95[i] {
                self.inside_95 += 1;
            }
        }
        if let Some(scale) = scale {
            if !actual.is_empty() {
                self.mase_sum += abs_sum / actual.len() as f64 / scale;
                self.mase_origins += 1;
            }
        }
        self.days += actual.len() as u32;
        self.origins += 1;
    }

    pub(crate) fn mase(&self) -> Option<f64> {
        (self.mase_origins > 0).then(|| self.mase_sum / f64::from(self.mase_origins))
    }

    pub(crate) fn smape(&self) -> Option<f64> {
        self.per_day(self.smape_sum)
    }

    pub(crate) fn bias(&self) -> Option<f64> {
        self.per_day(self.bias_sum)
    }

    pub(crate) fn coverage_80(&self) -> Option<f64> {
        self.per_day(f64::from(self.inside_80))
    }

    pub(crate) fn coverage_95(&self) -> Option<f64> {
        self.per_day(f64::from(self.inside_95))
    }

    fn per_day(&self, sum: f64) -> Option<f64> {
        (self.days > 0).then(|| sum / f64::from(self.days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(point: Vec<f64>, width: f64) -> Prediction {
        let shift = |d: f64| point.iter().map(|p| p + d).collect::<Vec<_>>();
        Prediction {
            lower_80: shift(-width),
            upper_80: shift(width),
            lower_95: shift(-2.0 * width),
            upper_95: shift(2.0 * width),
            point,
        }
    }

    #[test]
    fn mase_scale_is_the_mean_absolute_weekly_difference() {
        let y: Vec<f64> = (0..9).map(f64::from).collect();
        // y(7) − y(0) = 7, y(8) − y(1) = 7.
        assert_eq!(mase_scale(&y), Some(7.0));
        assert_eq!(mase_scale(&[3.0; 20]), None);
        assert_eq!(mase_scale(&[1.0; 7]), None);
    }

    #[test]
    fn a_tally_pools_days_and_averages_origins() {
        let mut t = Tally::default();
        // Origin 1: errors +1, −1 (scale 2 → MASE 0.5); both inside the 80 % (±1).
        t.add(&[1.0, 3.0], &flat(vec![2.0, 2.0], 1.0), Some(2.0));
        // Origin 2: a zero day forecast as zero (sMAPE 0), then a miss of +4 on 0
        // (sMAPE 200), outside both intervals (±1, ±2); no MASE scale.
        t.add(&[0.0, 0.0], &flat(vec![0.0, 4.0], 1.0), None);
        assert_eq!(t.origins, 2);
        assert_eq!(t.mase(), Some(0.5));
        assert_eq!(t.bias(), Some((1.0 - 1.0 + 0.0 + 4.0) / 4.0));
        let smape = (200.0 / 3.0 + 200.0 / 5.0 + 0.0 + 200.0) / 4.0;
        assert!((t.smape().unwrap() - smape).abs() < 1e-12);
        assert_eq!(t.coverage_80(), Some(3.0 / 4.0));
        assert_eq!(t.coverage_95(), Some(3.0 / 4.0));
        assert_eq!(Tally::default().mase(), None);
        assert_eq!(Tally::default().coverage_80(), None);
    }
}
