//! The statistics an experiment's results rest on: rates compared by a two-proportion
//! test (Fisher's exact test when a cell is small) with Newcombe's interval for the
//! difference, money per unit by Welch's t-test with a Mann–Whitney rank test beside it,
//! a sample-ratio-mismatch check, and the sample size a minimum detectable effect needs.
//! Distributions come from `statrs`; nothing here is money (statistics may be `f64`).

use statrs::distribution::{
    ChiSquared, ContinuousCDF, Discrete, Hypergeometric, Normal, StudentsT,
};

/// Cochran's rule: with an expected count under 5 in any cell of the 2×2 table, or fewer
/// than 40 units in all, the normal approximation is not trusted and Fisher's exact test
/// is used.
const EXACT_BELOW_EXPECTED: f64 = 5.0;
const EXACT_BELOW_UNITS: u64 = 40;
/// The p-value under which arms' sizes are said not to match their weights. Strict on
/// purpose: a mismatch means broken assignment, not chance, and is checked on every look.
pub const SRM_ALPHA: f64 = 0.001;

fn standard_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("the standard normal is valid")
}

/// The two-sided critical value of `alpha` (1.96 for 0.05).
pub fn z_two_sided(alpha: f64) -> f64 {
    standard_normal().inverse_cdf(1.0 - alpha / 2.0)
}

/// Which test gave a rate comparison's p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateTest {
    /// The pooled two-proportion z-test.
    TwoProportionZ,
    /// Fisher's exact test (two-sided, summing tables no likelier than the observed).
    FisherExact,
}

impl RateTest {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TwoProportionZ => "two_proportion_z",
            Self::FisherExact => "fisher_exact",
        }
    }
}

/// A treatment's rate against the control's.
#[derive(Debug, Clone, PartialEq)]
pub struct RateComparison {
    pub control_rate: f64,
    pub treatment_rate: f64,
    /// Treatment minus control, and its `1 − alpha` interval (Newcombe's hybrid score).
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub test: RateTest,
}

/// Wilson's score interval of `successes` out of `trials`.
fn wilson(successes: u64, trials: u64, z: f64) -> (f64, f64) {
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Fisher's exact two-sided p-value of `a` successes of `n1` against `c` of `n2`.
fn fisher_exact(a: u64, n1: u64, c: u64, n2: u64) -> f64 {
    let (total, successes) = (n1 + n2, a + c);
    let Ok(table) = Hypergeometric::new(total, successes, n1) else {
        return 1.0;
    };
    let observed = table.ln_pmf(a);
    let low = (n1 + successes).saturating_sub(total);
    let high = n1.min(successes);
    // Tables as likely as the observed one count too (relative tolerance for rounding).
    let p: f64 = (low..=high)
        .map(|x| table.ln_pmf(x))
        .filter(|ln| *ln <= observed + 1e-7)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

/// Compares `treatment_successes / treatment_trials` with the control's, at `alpha`.
/// `None` when an arm has no trials.
pub fn compare_rates(
    control_successes: u64,
    control_trials: u64,
    treatment_successes: u64,
    treatment_trials: u64,
    alpha: f64,
) -> Option<RateComparison> {
    let (a, n1, c, n2) = (
        control_successes,
        control_trials,
        treatment_successes,
        treatment_trials,
    );
    if n1 == 0 || n2 == 0 || a > n1 || c > n2 {
        return None;
    }
    let (p1, p2) = (a as f64 / n1 as f64, c as f64 / n2 as f64);
    let z = z_two_sided(alpha);
    let (l1, u1) = wilson(a, n1, z);
    let (l2, u2) = wilson(c, n2, z);
    let difference = p2 - p1;
    let ci_low = difference - ((p2 - l2).powi(2) + (u1 - p1).powi(2)).sqrt();
    let ci_high = difference + ((u2 - p2).powi(2) + (p1 - l1).powi(2)).sqrt();

    let total = (n1 + n2) as f64;
    let pooled = (a + c) as f64 / total;
    let smallest_expected = [n1, n2]
        .iter()
        .map(|&n| n as f64 * pooled.min(1.0 - pooled))
        .fold(f64::INFINITY, f64::min);
    let (p_value, test) = if smallest_expected < EXACT_BELOW_EXPECTED || n1 + n2 < EXACT_BELOW_UNITS
    {
        (fisher_exact(a, n1, c, n2), RateTest::FisherExact)
    } else {
        let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
        let statistic = difference / se;
        let p = 2.0 * (1.0 - standard_normal().cdf(statistic.abs()));
        (p.min(1.0), RateTest::TwoProportionZ)
    };
    Some(RateComparison {
        control_rate: p1,
        treatment_rate: p2,
        difference,
        ci_low,
        ci_high,
        p_value,
        test,
    })
}

/// A sample of a per-unit measure (money per click, say), summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    /// The sample variance (divided by n − 1).
    pub variance: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self {
                n: 0,
                mean: 0.0,
                variance: 0.0,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        let variance = if n > 1 { squares / (n - 1) as f64 } else { 0.0 };
        Self {
            n: n as u64,
            mean,
            variance,
        }
    }
}

/// A treatment's mean against the control's by Welch's t-test.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanComparison {
    /// Treatment minus control, and its `1 − alpha` interval.
    pub difference: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub degrees_of_freedom: f64,
}

/// Welch's t-test of the treatment's mean against the control's at `alpha`; `None` with
/// fewer than two units in an arm.
pub fn welch(control: &Summary, treatment: &Summary, alpha: f64) -> Option<MeanComparison> {
    if control.n < 2 || treatment.n < 2 {
        return None;
    }
    let (n1, n2) = (control.n as f64, treatment.n as f64);
    let (s1, s2) = (control.variance / n1, treatment.variance / n2);
    let difference = treatment.mean - control.mean;
    let se = (s1 + s2).sqrt();
    if se == 0.0 {
        // Both arms constant: they differ for certain, or not at all.
        let p_value = if difference == 0.0 { 1.0 } else { 0.0 };
        return Some(MeanComparison {
            difference,
            ci_low: difference,
            ci_high: difference,
            p_value,
            degrees_of_freedom: n1 + n2 - 2.0,
        });
    }
    let df = (s1 + s2).powi(2) / (s1 * s1 / (n1 - 1.0) + s2 * s2 / (n2 - 1.0));
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let statistic = difference / se;
    let p_value = (2.0 * (1.0 - t.cdf(statistic.abs()))).min(1.0);
    let critical = t.inverse_cdf(1.0 - alpha / 2.0);
    Some(MeanComparison {
        difference,
        ci_low: difference - critical * se,
        ci_high: difference + critical * se,
        p_value,
        degrees_of_freedom: df,
    })
}

/// The Mann–Whitney U test of the treatment's values against the control's: U of the
/// treatment, and the two-sided p-value (normal approximation with the tie correction and
/// a continuity correction; money per click is mostly tied zeros).
#[derive(Debug, Clone, PartialEq)]
pub struct RankTest {
    pub u: f64,
    pub p_value: f64,
}

pub fn mann_whitney(control: &[f64], treatment: &[f64]) -> Option<RankTest> {
    let (n1, n2) = (control.len(), treatment.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let mut all: Vec<(f64, bool)> = control
        .iter()
        .map(|v| (*v, false))
        .chain(treatment.iter().map(|v| (*v, true)))
        .collect();
    if all.iter().any(|(v, _)| v.is_nan()) {
        return None;
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = all.len();
    let (mut treatment_ranks, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let tied = (j - i + 1) as f64;
        ties += tied.powi(3) - tied;
        treatment_ranks += rank * all[i..=j].iter().filter(|(_, t)| *t).count() as f64;
        i = j + 1;
    }
    let (a, b, total) = (n1 as f64, n2 as f64, n as f64);
    let u = treatment_ranks - b * (b + 1.0) / 2.0;
    let mean = a * b / 2.0;
    let variance = a * b / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)).max(1.0));
    if variance <= 0.0 {
        return Some(RankTest { u, p_value: 1.0 });
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    let p_value = (2.0 * (1.0 - standard_normal().cdf(z))).min(1.0);
    Some(RankTest { u, p_value })
}

/// The sample-ratio-mismatch check: the chi-square goodness-of-fit p-value of the units
/// each arm got against their weights. A p-value under [`SRM_ALPHA`] means the split is
/// broken (and no result of the experiment can be trusted).
pub fn sample_ratio_p_value(observed: &[u64], weights: &[f64]) -> Option<f64> {
    let total: u64 = observed.iter().sum();
    let weight: f64 = weights.iter().sum();
    if observed.len() != weights.len() || observed.len() < 2 || total == 0 || weight <= 0.0 {
        return None;
    }
    let statistic: f64 = observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let expected = total as f64 * w / weight;
            if expected > 0.0 {
                (o as f64 - expected).powi(2) / expected
            } else {
                0.0
            }
        })
        .sum();
    let chi = ChiSquared::new((observed.len() - 1) as f64).ok()?;
    Some(1.0 - chi.cdf(statistic))
}

/// Units each arm needs for a two-sided test at `alpha` to detect a rate moving from
/// `base_rate` by `relative_effect` (0.2 = +20 %) with probability `power`.
pub fn sample_size_per_arm(
    base_rate: f64,
    relative_effect: f64,
    alpha: f64,
    power: f64,
) -> Option<u64> {
    let (p1, p2) = (base_rate, base_rate * (1.0 + relative_effect));
    if !(0.0 < p1 && p1 < 1.0 && 0.0 < p2 && p2 < 1.0) || relative_effect == 0.0 {
        return None;
    }
    let z_alpha = z_two_sided(alpha);
    let z_beta = standard_normal().inverse_cdf(power);
    let pooled = (p1 + p2) / 2.0;
    let numerator = z_alpha * (2.0 * pooled * (1.0 - pooled)).sqrt()
        + z_beta * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt();
    Some((numerator.powi(2) / (p2 - p1).powi(2)).ceil() as u64)
}

/// Units each arm needs for a two-sided Welch test at `alpha` to detect the mean moving
/// from `mean` by `relative_effect` with probability `power`, when units spread with
/// standard deviation `sd`: `2 (z₁₋α/₂ + z_power)² sd² / (relative_effect × mean)²`.
pub fn sample_size_for_means(
    mean: f64,
    sd: f64,
    relative_effect: f64,
    alpha: f64,
    power: f64,
) -> Option<u64> {
    let effect = relative_effect * mean;
    if !(effect.is_finite() && sd.is_finite()) || effect == 0.0 {
        return None;
    }
    let z = z_two_sided(alpha) + standard_normal().inverse_cdf(power);
    Some((2.0 * z * z * sd * sd / (effect * effect)).ceil() as u64)
}

/// What the results allow one to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The arms did not get the units their weights promised: investigate, trust nothing.
    SampleRatioMismatch,
    /// Fewer units than the minimum detectable effect needs: no winner yet, whatever the
    /// p-value says (looking early inflates false positives).
    CollectingData,
    /// A fixed-period test ended with fewer units than the minimum detectable effect
    /// needs: no winner, whatever the p-value says.
    Underpowered,
    /// Enough units and no significant difference.
    NoDifference,
    TreatmentBetter,
    ControlBetter,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SampleRatioMismatch => "sample_ratio_mismatch",
            Self::CollectingData => "collecting_data",
            Self::Underpowered => "underpowered",
            Self::NoDifference => "no_difference",
            Self::TreatmentBetter => "treatment_better",
            Self::ControlBetter => "control_better",
        }
    }

    /// A winner may be declared only on these.
    pub fn has_winner(self) -> bool {
        matches!(self, Self::TreatmentBetter | Self::ControlBetter)
    }
}

/// The verdict on a rate comparison with `smallest_arm` units in the smallest arm, `needed`
/// per arm, and the sample-ratio check's p-value.
pub fn verdict(
    comparison: &RateComparison,
    smallest_arm: u64,
    needed: u64,
    sample_ratio_p: f64,
    alpha: f64,
) -> Verdict {
    if sample_ratio_p < SRM_ALPHA {
        Verdict::SampleRatioMismatch
    } else if smallest_arm < needed {
        Verdict::CollectingData
    } else if comparison.p_value >= alpha {
        Verdict::NoDifference
    } else if comparison.difference > 0.0 {
        Verdict::TreatmentBetter
    } else {
        Verdict::ControlBetter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn the_sample_size_for_means_matches_the_textbook_formula() {
        // sd 10, difference 5 (a 50 % change of a mean of 10), alpha 0.05, power 0.8:
        // 2 × (1.959964 + 0.841621)² × 100 / 25 = 62.79 → 63.
        assert_eq!(sample_size_for_means(10.0, 10.0, 0.5, 0.05, 0.8), Some(63));
        assert_eq!(sample_size_for_means(0.0, 10.0, 0.5, 0.05, 0.8), None);
        assert_eq!(sample_size_for_means(10.0, 0.0, 0.5, 0.05, 0.8), Some(0));
    }

    #[test]
    fn the_two_proportion_test_matches_a_textbook_case() {
        // 200/1000 against 250/1000: pooled z = 0.05 / sqrt(0.225 × 0.775 × 2/1000) = 2.6774,
        // p = 0.00742.
        let r = compare_rates(200, 1000, 250, 1000, 0.05).unwrap();
        assert_eq!(r.test, RateTest::TwoProportionZ);
        assert!(close(r.p_value, 0.00742, 0.00001), "{}", r.p_value);
        assert!(close(r.difference, 0.05, 1e-12));
        // Newcombe's hybrid score interval from the Wilson intervals of each arm.
        assert!(close(r.ci_low, 0.013396, 0.00001), "{}", r.ci_low);
        assert!(close(r.ci_high, 0.086451, 0.00001), "{}", r.ci_high);
    }

    #[test]
    fn small_counts_use_fishers_exact_test() {
        // R: fisher.test(matrix(c(1, 9, 11, 3), 2)) gives p = 0.002759.
        let r = compare_rates(1, 10, 11, 14, 0.05).unwrap();
        assert_eq!(r.test, RateTest::FisherExact);
        assert!(close(r.p_value, 0.002759, 0.00001), "{}", r.p_value);
        // Equal tables are as likely as it gets.
        let same = compare_rates(2, 50, 2, 50, 0.05).unwrap();
        assert_eq!(same.test, RateTest::FisherExact);
        assert!(close(same.p_value, 1.0, 1e-9));
        assert!(same.ci_low < 0.0 && same.ci_high > 0.0);
    }

    #[test]
    fn empty_arms_have_no_comparison() {
        assert_eq!(compare_rates(0, 0, 1, 10, 0.05), None);
        assert_eq!(compare_rates(5, 4, 1, 10, 0.05), None);
        let none_converted = compare_rates(0, 100, 0, 100, 0.05).unwrap();
        assert!(close(none_converted.p_value, 1.0, 1e-9));
    }

    #[test]
    fn welch_matches_a_textbook_case() {
        // Two samples with means 20 and 22, variances 16 and 25, n = 30 and 40:
        // t = 2 / sqrt(16/30 + 25/40) = 1.8583, df = 67.681, p = 0.0675.
        let a = Summary {
            n: 30,
            mean: 20.0,
            variance: 16.0,
        };
        let b = Summary {
            n: 40,
            mean: 22.0,
            variance: 25.0,
        };
        let r = welch(&a, &b, 0.05).unwrap();
        assert!(
            close(r.degrees_of_freedom, 67.681, 0.001),
            "{}",
            r.degrees_of_freedom
        );
        assert!(close(r.p_value, 0.06748, 0.0001), "{}", r.p_value);
        assert!(r.ci_low < 0.0 && r.ci_high > 2.0);
        assert_eq!(welch(&Summary::of(&[1.0]), &b, 0.05), None);
    }

    #[test]
    fn summaries_use_the_sample_variance() {
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((s.n, s.mean), (8, 5.0));
        assert!(close(s.variance, 32.0 / 7.0, 1e-12));
    }

    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is a measurement in R's example, not π
    fn the_rank_test_handles_ties_and_agrees_with_a_textbook_case() {
        // R: wilcox.test(c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
        //   c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29), exact = FALSE,
        //   correct = TRUE): W = 58 (for the first), p = 0.1329.
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
        let r = mann_whitney(&y, &x).unwrap();
        assert!(close(r.u, 58.0, 1e-9), "{}", r.u);
        assert!(close(r.p_value, 0.1329, 0.002), "{}", r.p_value);
        let zeros = mann_whitney(&[0.0; 20], &[0.0; 30]).unwrap();
        assert!(close(zeros.p_value, 1.0, 1e-9));
    }

    #[test]
    fn a_split_that_misses_its_weights_is_a_mismatch() {
        let fine = sample_ratio_p_value(&[5030, 4970], &[1.0, 1.0]).unwrap();
        assert!(fine > 0.5, "{fine}");
        let broken = sample_ratio_p_value(&[5300, 4700], &[1.0, 1.0]).unwrap();
        assert!(broken < SRM_ALPHA, "{broken}");
        let weighted = sample_ratio_p_value(&[9000, 1000], &[0.9, 0.1]).unwrap();
        assert!(close(weighted, 1.0, 1e-9));
        assert_eq!(sample_ratio_p_value(&[10], &[1.0]), None);
    }

    #[test]
    fn sample_sizes_match_the_standard_formula() {
        // 3 % → 3.6 % (+20 %), α = 0.05, power 0.8: about 13,900 per arm.
        let n = sample_size_per_arm(0.03, 0.2, 0.05, 0.8).unwrap();
        assert!((13_800..=14_000).contains(&n), "{n}");
        // 10 % → 12 %: about 3,840 per arm.
        let n = sample_size_per_arm(0.10, 0.2, 0.05, 0.8).unwrap();
        assert!((3_800..=3_900).contains(&n), "{n}");
        assert_eq!(sample_size_per_arm(0.6, 1.0, 0.05, 0.8), None);
    }

    #[test]
    fn no_winner_before_the_sample_is_reached_or_with_a_broken_split() {
        let significant = compare_rates(200, 1000, 250, 1000, 0.05).unwrap();
        assert_eq!(
            verdict(&significant, 1000, 1500, 0.5, 0.05),
            Verdict::CollectingData
        );
        assert_eq!(
            verdict(&significant, 1000, 900, 0.5, 0.05),
            Verdict::TreatmentBetter
        );
        assert_eq!(
            verdict(&significant, 1000, 900, 0.0001, 0.05),
            Verdict::SampleRatioMismatch
        );
        let flat = compare_rates(200, 1000, 205, 1000, 0.05).unwrap();
        assert_eq!(verdict(&flat, 1000, 900, 0.5, 0.05), Verdict::NoDifference);
        assert!(!Verdict::CollectingData.has_winner());
    }
}
