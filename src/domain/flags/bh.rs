//! Benjamini–Hochberg q-values: false alarms controlled across every test of a
//! program-day.
//!
//! A program with 200 active partners runs about a thousand tests a night; at p < 0.05
//! fifty honest partners would be flagged by chance alone. The q-value of a test is the
//! smallest false-discovery rate at which it would still be raised: flagging everything
//! with q ≤ 0.05 means that, on average, at most 5 % of the flags are false alarms. It
//! is the step-up rule q₍ᵢ₎ = min over j ≥ i of (m / j) · p₍ⱼ₎, capped at 1, over the m
//! tests sorted by p-value; it holds for independent tests and for the positively
//! dependent ones the signals of one partner are.

use super::tails::clean;

/// The q-value of each p-value, in the same order. NaNs count as 1.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| clean(p_values[a]).total_cmp(&clean(p_values[b])));
    let mut q = vec![1.0; m];
    let mut running = 1.0_f64;
    for (rank, &index) in order.iter().enumerate().rev() {
        let adjusted = clean(p_values[index]) * m as f64 / (rank + 1) as f64;
        running = running.min(adjusted);
        // Never below p (rounding in m / j could put it a hair under).
        q[index] = clean(running.max(clean(p_values[index])));
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_r_p_adjust() {
        // p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "BH")
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005, 0.2]);
        let expected = [0.025, 0.05, 0.05, 0.025, 0.2];
        for (a, b) in q.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert!(benjamini_hochberg(&[]).is_empty());
        assert_eq!(benjamini_hochberg(&[f64::NAN, 0.0]), vec![1.0, 0.0]);
        // m / j · p rounds below p here (33 / 33 · p): q must still be ≥ p.
        let mut p = vec![0.0; 33];
        p[10] = 0.973_157_215_686_618_1;
        assert!(benjamini_hochberg(&p)[10] >= p[10]);
    }

    proptest! {
        /// q ≥ p, q ≤ 1, and q rises with p.
        #[test]
        fn q_values_are_monotone_and_at_least_p(p in proptest::collection::vec(0.0f64..=1.0, 0..60)) {
            let q = benjamini_hochberg(&p);
            for i in 0..p.len() {
                prop_assert!(q[i] >= p[i] && q[i] <= 1.0);
                for j in 0..p.len() {
                    if p[i] <= p[j] {
                        prop_assert!(q[i] <= q[j]);
                    }
                }
            }
        }
    }
}
