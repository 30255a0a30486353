//! Simulated experiments for the statistics of `domain::experiments::stats`: A/A tests
//! (no true difference) must declare a difference about as often as α says, and A/B
//! tests with a true effect equal to the minimum detectable effect must find it about
//! as often as the power the sample size was computed for.
//!
//! `cargo run --release --example experiments` (BENCH_SEED, BENCH_RUNS tune it).

use partnerlens::domain::experiments::stats::{
    compare_rates, mann_whitney, sample_ratio_p_value, sample_size_per_arm, welch, RateTest,
    Summary, SRM_ALPHA,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ALPHA: f64 = 0.05;
const POWER: f64 = 0.8;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One arm of `units` clicks converting at `rate`; each conversion is worth a
/// log-normal amount (median 60, long tail), so money per click is mostly zeros.
fn arm(rng: &mut StdRng, units: u64, rate: f64) -> (u64, Vec<f64>) {
    let mut conversions = 0;
    let values = (0..units)
        .map(|_| {
            if rng.gen::<f64>() < rate {
                conversions += 1;
                // Box–Muller for the log-normal's normal.
                let (u1, u2): (f64, f64) = (rng.gen::<f64>().max(1e-12), rng.gen());
                let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                (60f64.ln() + 0.6 * normal).exp()
            } else {
                0.0
            }
        })
        .collect();
    (conversions, values)
}

struct Tally {
    rate: u64,
    welch: u64,
    rank: u64,
    srm: u64,
    exact: u64,
}

fn run(rng: &mut StdRng, runs: u64, units: u64, base: f64, lift: f64) -> Tally {
    let mut t = Tally {
        rate: 0,
        welch: 0,
        rank: 0,
        srm: 0,
        exact: 0,
    };
    for _ in 0..runs {
        // Each click is split 50/50 at random, as the variant assignment does.
        let treatment_units = (0..2 * units).filter(|_| rng.gen::<bool>()).count() as u64;
        let control_units = 2 * units - treatment_units;
        let (a, control) = arm(rng, control_units, base);
        let (b, treatment) = arm(rng, treatment_units, base * (1.0 + lift));
        let rates = compare_rates(a, control_units, b, treatment_units, ALPHA).expect("arms");
        t.rate += u64::from(rates.p_value < ALPHA);
        t.exact += u64::from(rates.test == RateTest::FisherExact);
        let money = welch(&Summary::of(&control), &Summary::of(&treatment), ALPHA).expect("arms");
        t.welch += u64::from(money.p_value < ALPHA);
        let ranks = mann_whitney(&control, &treatment).expect("arms");
        t.rank += u64::from(ranks.p_value < ALPHA);
        let srm =
            sample_ratio_p_value(&[control_units, treatment_units], &[1.0, 1.0]).expect("arms");
        t.srm += u64::from(srm < SRM_ALPHA);
    }
    t
}

fn share(count: u64, runs: u64) -> String {
    format!("{:.3}", count as f64 / runs as f64)
}

fn main() {
    let seed = env("BENCH_SEED", 20_261_123);
    let runs = env("BENCH_RUNS", 1000);
    let mut rng = StdRng::seed_from_u64(seed);
    println!("experiments statistics (native, seed {seed}, {runs} runs each, α = {ALPHA})");
    for (base, mde) in [(0.03, 0.2), (0.10, 0.1)] {
        let needed = sample_size_per_arm(base, mde, ALPHA, POWER).expect("valid");
        let aa = run(&mut rng, runs, needed, base, 0.0);
        println!(
            "A/A, conversion rate {:.0} %, {needed} clicks per arm (the size for +{:.0} % at power {POWER}): \
             false positives: rate test {} (exact {} of runs), Welch on money per click {}, rank test {}; \
             sample-ratio mismatches {}",
            base * 100.0, mde * 100.0,
            share(aa.rate, runs), share(aa.exact, runs), share(aa.welch, runs), share(aa.rank, runs),
            share(aa.srm, runs),
        );
        let ab = run(&mut rng, runs, needed, base, mde);
        println!(
            "A/B, +{:.0} % true effect, same size: power: rate test {} (planned {POWER}), Welch {}, rank test {}",
            mde * 100.0, share(ab.rate, runs), share(ab.welch, runs), share(ab.rank, runs),
        );
    }
    // A small test, where the exact test takes over: still no more false positives than α.
    let small = run(&mut rng, runs, 150, 0.02, 0.0);
    println!(
        "A/A, conversion rate 2 %, 150 clicks per arm: false positives: rate test {} (exact {} of runs)",
        share(small.rate, runs), share(small.exact, runs),
    );
}
