//! The one test behind every share-based flag: is this partner's share of "suspicious"
//! events (fast conversions, duplicate clicks, bot clicks, sales per click, repeat
//! orders) higher than the program's other partners make plausible?
//!
//! Partners differ for honest reasons (a coupon site converts faster than a blog, a
//! forum audience clicks twice), so "the same rate as everyone else" is not the right
//! null: with a few thousand clicks any difference at all would be "significant". The
//! test instead asks whether the partner's count is plausible if its rate were drawn
//! from the *spread* of rates honest partners show, an empirical-Bayes beta-binomial:
//!
//! - the centre is the pooled share of the *other* partners (the partner itself left
//!   out, so a big fraudster does not set its own baseline), with half an event added
//!   so that a baseline of zero is never certain;
//! - the spread is estimated on the log-odds scale, where honest differences between
//!   partners are multiplicative ("twice the rate") and roughly symmetric, and robustly:
//!   for each partner with enough trials for its log-odds to be roughly normal (at least
//!   10 expected events and non-events at the program's typical share), (log-odds − median log-odds)² / 0.455 − its
//!   binomial noise variance 1 / (n·p·(1 − p)) has median σ² (0.455 is the median of
//!   χ²₁), so the median over partners estimates σ² without letting a handful of
//!   fraudsters inflate it;
//! - with few partners that estimate is noise, so it is blended with a default spread (a
//!   coefficient of variation of 50 %) weighted as if it came from 5 partners: with 5
//!   usable partners the two count equally, with 100 the data all but decide;
//! - on the rate scale the spread is the variance τ² = (e^σ² − 1)·(μ(1 − μ))² around the
//!   centre μ (for small rates a coefficient of variation of √(e^σ² − 1), as for a
//!   log-normal);
//! - the spread and the centre make a Beta(α, β) prior; the p-value is the beta-binomial
//!   probability of at least the partner's count given its trials. When the spread is
//!   negligible this is the exact binomial tail against the other partners' share.

use super::tails::{beta_binomial_upper, binomial_upper};

/// A partner's suspicious events (`hits`) out of its opportunities (`trials`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub hits: u64,
    pub trials: u64,
}

impl Counts {
    /// Hits above trials (an inconsistent row) are capped at the trials.
    pub fn new(hits: u64, trials: u64) -> Self {
        Self {
            hits: hits.min(trials),
            trials,
        }
    }

    pub fn share(self) -> f64 {
        if self.trials == 0 {
            0.0
        } else {
            self.hits as f64 / self.trials as f64
        }
    }
}

/// Median of χ² with one degree of freedom.
const MEDIAN_CHI2_1: f64 = 0.454_936_423_119_572_8;
/// The default between-partner coefficient of variation used while partners are few.
const DEFAULT_CV: f64 = 0.5;
/// How many partners the default spread counts as.
const DEFAULT_WEIGHT: f64 = 5.0;
/// Expected events and non-events a partner needs to inform the spread.
const MIN_EXPECTED: f64 = 10.0;
/// Fewer usable partners than this and the spread is the default alone.
const MIN_SPREAD_PARTNERS: usize = 3;
/// Prior strengths (α + β) above this are a point mass: the binomial tail is used.
const POINT_MASS: f64 = 1e8;

/// The program's partners for one signal: totals for the leave-one-out centre and the
/// robust spread estimate.
#[derive(Debug, Clone)]
pub(crate) struct RateModel {
    hits: u128,
    trials: u128,
    /// Robust σ² (the between-partner variance of log-odds) and how many partners it
    /// rests on (0: none).
    spread: f64,
    spread_partners: usize,
}

/// The outcome of testing one partner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RateTest {
    pub p_value: f64,
    /// The other partners' share (the centre of the prior).
    pub baseline: f64,
    /// The partner's share shrunk towards the baseline: (α + hits) / (α + β + trials).
    pub shrunk: f64,
    pub alpha: f64,
    pub beta: f64,
}

impl RateModel {
    pub fn fit(partners: &[Counts]) -> Self {
        let hits: u128 = partners.iter().map(|c| u128::from(c.hits)).sum();
        let trials: u128 = partners.iter().map(|c| u128::from(c.trials)).sum();
        // Who has enough trials is judged at a rate no single partner can drag up (a
        // fraudster's share would make small partners look informative).
        let typical = weighted_median(partners);
        let usable: Vec<Counts> = partners
            .iter()
            .copied()
            .filter(|c| {
                let n = c.trials as f64;
                n * typical >= MIN_EXPECTED && n * (1.0 - typical) >= MIN_EXPECTED
            })
            .collect();
        let (spread, spread_partners) = if usable.len() < MIN_SPREAD_PARTNERS {
            (0.0, 0)
        } else {
            let log_odds = |c: &Counts| {
                let p = (c.hits as f64 + 0.5) / (c.trials as f64 + 1.0);
                (p / (1.0 - p)).ln()
            };
            let centre = median(usable.iter().map(log_odds).collect());
            let rate = 1.0 / (1.0 + (-centre).exp());
            let excess = usable
                .iter()
                .map(|c| {
                    let noise = 1.0 / (c.trials as f64 * rate * (1.0 - rate));
                    (log_odds(c) - centre).powi(2) / MEDIAN_CHI2_1 - noise
                })
                .collect();
            (median(excess).max(0.0), usable.len())
        };
        Self {
            hits,
            trials,
            spread,
            spread_partners,
        }
    }

    /// Tests `partner` (one of the partners the model was fitted on) against the others;
    /// `None` when the others have fewer than `min_baseline` trials between them.
    pub fn test(&self, partner: Counts, min_baseline: u64) -> Option<RateTest> {
        let other_hits = self.hits.saturating_sub(u128::from(partner.hits));
        let other_trials = self.trials.saturating_sub(u128::from(partner.trials));
        if other_trials < u128::from(min_baseline.max(1)) || partner.trials == 0 {
            return None;
        }
        let baseline = (other_hits as f64 + 0.5) / (other_trials as f64 + 1.0);
        let binomial = baseline * (1.0 - baseline);
        let k = self.spread_partners as f64;
        // The default's log-odds variance: ln(1 + CV²), as for a log-normal.
        let default = DEFAULT_CV.powi(2).ln_1p();
        let log_spread = (k * self.spread + DEFAULT_WEIGHT * default) / (k + DEFAULT_WEIGHT);
        let spread = (log_spread.exp_m1() * binomial.powi(2))
            // A Beta needs τ² < μ(1 − μ); α + β ≥ 2 keeps the beta-binomial unimodal.
            .min(binomial / 3.0);
        let strength = if spread > 0.0 {
            (binomial / spread - 1.0).clamp(2.0, POINT_MASS)
        } else {
            POINT_MASS
        };
        let (alpha, beta) = (baseline * strength, (1.0 - baseline) * strength);
        let p_value = if strength >= POINT_MASS {
            binomial_upper(partner.hits, partner.trials, baseline)
        } else {
            beta_binomial_upper(partner.hits, partner.trials, alpha, beta)
        };
        let shrunk = (alpha + partner.hits as f64) / (strength + partner.trials as f64);
        Some(RateTest {
            p_value,
            baseline,
            shrunk,
            alpha,
            beta,
        })
    }
}

/// The share of the median trial: the median of the partners' shares weighted by their
/// trials (0 without trials). Unlike the pooled share, a partner moves it only if it has
/// half the trials.
fn weighted_median(partners: &[Counts]) -> f64 {
    let mut shares: Vec<(f64, u128)> = partners
        .iter()
        .filter(|c| c.trials > 0)
        .map(|c| (c.share(), u128::from(c.trials)))
        .collect();
    shares.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = shares.iter().map(|s| s.1).sum::<u128>() / 2;
    let mut seen = 0u128;
    for (share, trials) in shares {
        seen += trials;
        if seen > half {
            return share;
        }
    }
    0.0
}

/// The median of finite values (0 for none).
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        values[mid - 1] / 2.0 + values[mid] / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partner_is_left_out_of_its_own_baseline() {
        let partners = [
            Counts::new(900, 1000),
            Counts::new(50, 1000),
            Counts::new(50, 1000),
        ];
        let model = RateModel::fit(&partners);
        let test = model.test(partners[0], 20).unwrap();
        assert!((test.baseline - 100.5 / 2001.0).abs() < 1e-12);
        assert!(test.p_value < 1e-12, "{test:?}");
    }

    #[test]
    fn the_spread_is_robust_to_a_few_extreme_partners() {
        let mut partners: Vec<Counts> = (0..40).map(|i| Counts::new(48 + i % 5, 1000)).collect();
        let clean = RateModel::fit(&partners).spread;
        partners.extend([
            Counts::new(900, 1000),
            Counts::new(700, 1000),
            Counts::new(800, 1000),
        ]);
        let dirty = RateModel::fit(&partners).spread;
        // Honest partners within ±5 % and three fraudsters barely move the estimate of the
        // log-odds variance (0.01 would be partners within about ±10 %).
        assert!(clean < 0.01 && dirty < 0.02, "{clean} {dirty}");
    }

    #[test]
    fn no_baseline_no_test() {
        let model = RateModel::fit(&[Counts::new(5, 10)]);
        assert_eq!(model.test(Counts::new(5, 10), 20), None);
        let model = RateModel::fit(&[Counts::new(0, 0), Counts::new(0, 0)]);
        assert_eq!(model.test(Counts::new(0, 0), 20), None);
    }

    #[test]
    fn the_typical_share_is_not_dragged_by_one_partner() {
        let partners = [
            Counts::new(40, 80),
            Counts::new(3, 100),
            Counts::new(4, 100),
            Counts::new(2, 60),
        ];
        // Shares 0.03, 0.033, 0.04, 0.5 over 100, 60, 100, 80 trials: the 170th trial is at 0.04.
        assert_eq!(weighted_median(&partners), 0.04);
        assert_eq!(weighted_median(&[]), 0.0);
        assert_eq!(weighted_median(&[Counts::new(0, 0)]), 0.0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(median(vec![3.0, f64::NAN, 1.0]), 2.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    }
}
