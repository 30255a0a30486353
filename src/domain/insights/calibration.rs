//! Intervals as wide as the backtest's errors say, not as the model assumes.
//!
//! A model's intervals rest on its own assumptions (MSTL's ignore the uncertainty of the
//! seasonal pattern and run narrow; seasonal naive's treat the pattern as a random walk
//! and run wide beyond a week). Split-conformal calibration fixes the width from what
//! happened instead: at every backtest origin, each day's error is divided by the
//! model's half-width for that day, and the interval is scaled by the empirical 80 %
//! (or 95 %) quantile of those ratios, so that the scaled intervals would have held that
//! share of the backtest's days. The published coverage is measured honestly, origin by
//! origin, with the scale learnt from the *other* origins (leave one origin out): a
//! scale never grades itself.

use super::models::Prediction;

/// Fewer ratios than this and the model's own intervals stand (scale 1).
pub const MIN_RATIOS: usize = 14;
/// The scale is kept within these bounds: a handful of odd origins cannot make an
/// interval vanish or explode.
pub const SCALE_BOUNDS: (f64, f64) = (0.5, 4.0);

/// How much to widen (above 1) or narrow (below 1) the 80 % and 95 % intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    pub s80: f64,
    pub s95: f64,
}

impl Scales {
    pub const NONE: Scales = Scales { s80: 1.0, s95: 1.0 };
}

/// Each day's |error| over the model's 80 % and 95 % half-widths. Days where the model
/// gave no width are left out (there is nothing to scale).
pub(crate) fn ratios(actual: &[f64], p: &Prediction) -> Vec<(f64, f64)> {
    actual
        .iter()
        .enumerate()
        .filter_map(|(i, y)| {
            let error = (y - p.point[i]).abs();
            let w80 = (p.upper_80[i] - p.lower_80[i]) / 2.0;
            let w95 = (p.upper_95[i] - p.lower_95[i]) / 2.0;
            (w80 > 0.0 && w95 > 0.0 && error.is_finite()).then(|| (error / w80, error / w95))
        })
        .collect()
}

/// The conformal quantile: the ⌈(n + 1)·q⌉-th smallest of `values` (the finite-sample
/// correction that makes the coverage at least `q` on exchangeable data).
fn conformal_quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let rank = (((n + 1) as f64) * q).ceil() as usize;
    values[rank.clamp(1, n) - 1]
}

/// The scales the pooled `ratios` call for.
pub(crate) fn scales(ratios: &[(f64, f64)]) -> Scales {
    if ratios.len() < MIN_RATIOS {
        return Scales::NONE;
    }
    let (low, high) = SCALE_BOUNDS;
    let mut r80: Vec<f64> = ratios.iter().map(|r| r.0).collect();
    let mut r95: Vec<f64> = ratios.iter().map(|r| r.1).collect();
    Scales {
        s80: conformal_quantile(&mut r80, 0.80).clamp(low, high),
        s95: conformal_quantile(&mut r95, 0.95).clamp(low, high),
    }
}

impl Prediction {
    /// The intervals scaled around the point, still ordered
    /// `lower_95 ≤ lower_80 ≤ point ≤ upper_80 ≤ upper_95`.
    pub(crate) fn scaled(mut self, s: Scales) -> Self {
        for i in 0..self.point.len() {
            let p = self.point[i];
            let scale = |bound: f64, by: f64| p + (bound - p) * by;
            self.lower_80[i] = scale(self.lower_80[i], s.s80);
            self.upper_80[i] = scale(self.upper_80[i], s.s80);
            self.lower_95[i] = scale(self.lower_95[i], s.s95).min(self.lower_80[i]);
            self.upper_95[i] = scale(self.upper_95[i], s.s95).max(self.upper_80[i]);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(point: f64, half80: f64, half95: f64, days: usize) -> Prediction {
        Prediction {
            point: vec![point; days],
            lower_80: vec![point - half80; days],
            upper_80: vec![point + half80; days],
            lower_95: vec![point - half95; days],
            upper_95: vec![point + half95; days],
        }
    }

    #[test]
    fn intervals_too_narrow_for_the_errors_are_widened_to_hold_their_share() {
        // Errors of 1..=20 against half-widths of 5 (80 %) and 8 (95 %).
        let p = prediction(100.0, 5.0, 8.0, 20);
        let actual: Vec<f64> = (1..=20).map(|e| 100.0 + f64::from(e)).collect();
        let s = scales(&ratios(&actual, &p));
        // ⌈21 · 0.8⌉ = 17th smallest error 17 → 17 / 5; ⌈21 · 0.95⌉ = 20th → 20 / 8.
        assert_eq!(s, Scales { s80: 3.4, s95: 2.5 });
        let wider = p.scaled(s);
        let held = |lower: &[f64], upper: &[f64]| {
            actual
                .iter()
                .enumerate()
                .filter(|(i, y)| lower[*i] <= **y && **y <= upper[*i])
                .count()
        };
        assert_eq!(held(&wider.lower_80, &wider.upper_80), 17);
        assert_eq!(held(&wider.lower_95, &wider.upper_95), 20);
    }

    #[test]
    fn too_few_days_or_no_width_leave_the_model_alone() {
        let p = prediction(10.0, 1.0, 2.0, 5);
        assert_eq!(scales(&ratios(&[30.0; 5], &p)), Scales::NONE);
        assert!(ratios(&[11.0; 3], &prediction(10.0, 0.0, 0.0, 3)).is_empty());
    }

    #[test]
    fn scales_are_bounded_and_bounds_stay_ordered() {
        let p = prediction(10.0, 1.0, 1.5, 30);
        let wild = scales(&ratios(&[1000.0; 30], &p));
        assert_eq!(wild, Scales { s80: 4.0, s95: 4.0 });
        let exact = scales(&ratios(&[10.0; 30], &p));
        assert_eq!(exact, Scales { s80: 0.5, s95: 0.5 });
        // Narrowing the 80 % more than the 95 % keeps the order.
        let q = prediction(10.0, 1.0, 1.2, 1).scaled(Scales { s80: 1.0, s95: 0.5 });
        assert!(q.lower_95[0] <= q.lower_80[0] && q.upper_80[0] <= q.upper_95[0]);
    }
}
