//! Tail probabilities: the p-values behind every flag.
//!
//! The binomial and normal tails come from `statrs`, which is accurate far into the
//! tails (we checked its binomial survival function against direct log-space summation
//! up to 10^8 trials: agreement to 10^-7 relative at 20 standard deviations). `statrs`
//! has no beta-binomial distribution, so its upper tail is summed here term by term from
//! `statrs`'s log-gamma, always walking away from the mode so that the terms shrink and
//! the sum stops as soon as the rest cannot matter.
//!
//! Every function answers a probability in [0, 1] for any input: a computation that
//! cannot be done (a NaN, a parameter out of range) answers 1, "no evidence", because a
//! flag must never come from arithmetic trouble.

use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal, StudentsT};
use statrs::function::gamma::ln_gamma;

/// A p-value made safe: NaN becomes 1 (no evidence), everything else is clamped to [0, 1].
pub(crate) fn clean(p: f64) -> f64 {
    if p.is_nan() {
        1.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

/// P(X ≥ k) for X ~ Binomial(n, p).
pub(crate) fn binomial_upper(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 || p.is_nan() {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    match Binomial::new(p, n) {
        Ok(binomial) => clean(binomial.sf(k - 1)),
        Err(_) => 1.0,
    }
}

/// P(Z ≥ z) for a standard normal Z.
pub(crate) fn normal_upper(z: f64) -> f64 {
    clean(Normal::standard().sf(z))
}

/// Two-sided normal p-value: P(|Z| ≥ |z|).
pub(crate) fn normal_two_sided(z: f64) -> f64 {
    clean(2.0 * normal_upper(z.abs()))
}

/// Two-sided Student t p-value with `df` degrees of freedom: P(|T| ≥ |t|).
pub(crate) fn student_two_sided(t: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(student) => clean(2.0 * student.sf(t.abs())),
        Err(_) => 1.0,
    }
}

/// Beyond this many standard deviations of events the exact sum would take too long to
/// be worth it (only partners with ~10^8 events a week get there), and the normal
/// approximation with the same mean and variance is used instead.
const MAX_EXACT_SD: f64 = 5_000.0;

/// A safety net on the number of terms of one exact sum.
const MAX_TERMS: u64 = 400_000;

/// Terms smaller than this fraction of the running sum end it.
const NEGLIGIBLE: f64 = 1e-17;

/// ln C(n, k) from `statrs`'s log-gamma in f64 (its `ln_binomial` indexes a cache with
/// `u64 as usize`, which would wrap on wasm32 above 2^32).
fn ln_choose(n: u64, k: u64) -> f64 {
    let (n, k) = (n as f64, k as f64);
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// P(Y ≥ k) for Y ~ BetaBinomial(n, a, b): the number of successes in `n` trials when
/// the success rate itself is drawn from Beta(a, b).
///
/// The beta-binomial is unimodal for a + b ≥ 2 with at most one of them below 1 (the
/// callers guarantee a + b ≥ 2), so: if the probabilities still rise at `k`, `k` is below
/// the mode and the answer is 1 − P(Y ≤ k − 1), summed downwards from k − 1; otherwise
/// it is summed upwards from `k`. Either way the terms shrink from the first one, which
/// sets the scale, and the sum runs in ratios of successive terms:
/// pmf(j + 1) / pmf(j) = (n − j)(j + a) / ((j + 1)(n − j − 1 + b)).
pub(crate) fn beta_binomial_upper(k: u64, n: u64, a: f64, b: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
        return 1.0;
    }
    let nf = n as f64;
    let mean = nf * a / (a + b);
    let variance = nf * a * b * (a + b + nf) / ((a + b).powi(2) * (a + b + 1.0));
    if variance.sqrt() > MAX_EXACT_SD {
        return normal_upper((k as f64 - 0.5 - mean) / variance.sqrt());
    }
    let ratio_up = |j: u64| {
        let (j, rest) = (j as f64, (n - j) as f64);
        rest * (j + a) / ((j + 1.0) * (rest - 1.0 + b))
    };
    let ln_pmf =
        |j: u64| ln_choose(n, j) + ln_beta(j as f64 + a, (n - j) as f64 + b) - ln_beta(a, b);

    let rising_at_k = ratio_up(k - 1) > 1.0;
    let mut sum = 0.0;
    let mut term = 1.0;
    let mut steps = 0u64;
    if rising_at_k {
        // 1 − P(Y ≤ k − 1), from k − 1 down to 0.
        let mut j = k - 1;
        loop {
            sum += term;
            if j == 0 {
                break;
            }
            term /= ratio_up(j - 1);
            j -= 1;
            steps += 1;
            if term < NEGLIGIBLE * sum || !term.is_finite() {
                break;
            }
            if steps > MAX_TERMS {
                return normal_upper((k as f64 - 0.5 - mean) / variance.sqrt());
            }
        }
        clean(1.0 - (ln_pmf(k - 1) + sum.ln()).exp())
    } else {
        let mut j = k;
        loop {
            sum += term;
            if j == n {
                break;
            }
            term *= ratio_up(j);
            j += 1;
            steps += 1;
            if term < NEGLIGIBLE * sum || !term.is_finite() {
                break;
            }
            if steps > MAX_TERMS {
                return normal_upper((k as f64 - 0.5 - mean) / variance.sqrt());
            }
        }
        clean((ln_pmf(k) + sum.ln()).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The beta-binomial pmf summed naively over the whole support, for checking.
    fn naive_upper(k: u64, n: u64, a: f64, b: f64) -> f64 {
        (k..=n)
            .map(|j| {
                (ln_choose(n, j) + ln_beta(j as f64 + a, (n - j) as f64 + b) - ln_beta(a, b)).exp()
            })
            .sum()
    }

    #[test]
    fn beta_binomial_tail_matches_the_naive_sum_on_both_sides_of_the_mode() {
        for &(n, a, b) in &[
            (20u64, 2.0, 8.0),
            (200, 0.4, 19.6),
            (500, 3.0, 1.5),
            (1000, 40.0, 960.0),
        ] {
            for k in [0, 1, 2, n / 10, n / 5, n / 2, n - 1, n] {
                let exact = naive_upper(k, n, a, b);
                let fast = beta_binomial_upper(k, n, a, b);
                assert!(
                    (exact - fast).abs() <= 1e-9 * exact.max(1e-300) + 1e-12,
                    "n={n} a={a} b={b} k={k}: {exact} vs {fast}"
                );
            }
        }
    }

    #[test]
    fn a_concentrated_prior_gives_the_binomial_tail() {
        // Beta(0.05·10^9, 0.95·10^9) is all but a point mass at 0.05.
        let (a, b) = (0.05e9, 0.95e9);
        for k in [5, 10, 15, 25] {
            let bb = beta_binomial_upper(k, 100, a, b);
            let bin = binomial_upper(k, 100, 0.05);
            assert!(
                (bb - bin).abs() < 1e-4 * bin.max(1e-12),
                "k={k}: {bb} vs {bin}"
            );
        }
    }

    #[test]
    fn degenerate_inputs_answer_probabilities() {
        assert_eq!(binomial_upper(0, 0, 0.3), 1.0);
        assert_eq!(binomial_upper(3, 2, 0.3), 0.0);
        assert_eq!(binomial_upper(3, 10, f64::NAN), 1.0);
        assert_eq!(binomial_upper(3, 10, 0.0), 0.0);
        assert_eq!(beta_binomial_upper(3, 10, 0.0, 1.0), 1.0);
        assert_eq!(beta_binomial_upper(3, 10, f64::INFINITY, 1.0), 1.0);
        assert_eq!(normal_upper(f64::NAN), 1.0);
        assert_eq!(normal_two_sided(0.0), 1.0);
        assert_eq!(student_two_sided(0.0, 5.0), 1.0);
        assert_eq!(student_two_sided(3.0, f64::NAN), 1.0);
        assert!(student_two_sided(5.0, 9.0) > normal_two_sided(5.0));
        let huge = beta_binomial_upper(u64::MAX / 2, u64::MAX, 1.0, 1.0);
        assert!((0.0..=1.0).contains(&huge));
    }
}
