//! Simulated programs: honest partners (binomial and Poisson noise around program rates,
//! with honest differences between partners) and injected frauds, to measure how often
//! honest partners are flagged and whether each fraud is caught.
//!
//! `cargo test --lib flags::simulation -- --nocapture --test-threads=1` prints the rates.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{evaluate, FlagKind, PartnerWindow, ProgramDay};

/// SplitMix64: small, seeded, good enough for simulations.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        (-2.0 * self.uniform().ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }

    /// Exact binomial by geometric gaps between successes: O(n·min(p, 1 − p)).
    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if p.is_nan() || p <= 0.0 || n == 0 {
            return 0;
        }
        if p >= 1.0 {
            return n;
        }
        if p > 0.5 {
            return n - self.binomial(n, 1.0 - p);
        }
        let ln_q = (-p).ln_1p();
        let (mut count, mut next) = (0u64, 0f64);
        loop {
            next += (self.uniform().ln() / ln_q).floor();
            if next >= n as f64 {
                return count;
            }
            count += 1;
            next += 1.0;
        }
    }

    /// Poisson as a binomial with a huge n.
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        const N: u64 = 1 << 40;
        self.binomial(N, lambda / N as f64)
    }
}

/// One program's honest rates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rates {
    pub bot: f64,
    pub duplicate: f64,
    pub conversion: f64,
    pub fast: f64,
    pub sale: f64,
    pub repeat: f64,
}

impl Rates {
    pub fn draw(rng: &mut Rng) -> Self {
        Self {
            bot: rng.between(0.02, 0.10),
            duplicate: rng.between(0.05, 0.25),
            conversion: rng.between(0.02, 0.08),
            fast: rng.between(0.01, 0.05),
            sale: rng.between(0.005, 0.04),
            repeat: rng.between(0.005, 0.02),
        }
    }
}

/// Weekday pattern of daily volume by position from the end (the evaluated day is 0).
const WEEKDAY: [f64; 7] = [1.1, 1.1, 1.1, 1.0, 0.9, 0.7, 1.1];
/// Days in a partner's daily series.
pub(crate) const DAYS: usize = 35;

/// An honest partner: its own rates differ from the program's by a log-normal factor
/// with standard deviation `spread` (0.2: partners typically within ±20 %).
pub(crate) fn honest(
    rng: &mut Rng,
    id: usize,
    rates: &Rates,
    spread: f64,
    clicks: Option<u64>,
) -> PartnerWindow {
    let mut own =
        |rate: f64| (rate * (spread * rng.normal() - spread * spread / 2.0).exp()).min(0.9);
    let own = Rates {
        bot: own(rates.bot),
        duplicate: own(rates.duplicate),
        conversion: own(rates.conversion),
        fast: own(rates.fast),
        sale: own(rates.sale),
        repeat: own(rates.repeat),
    };
    let all = clicks.unwrap_or_else(|| {
        if rng.uniform() < 0.1 {
            0
        } else {
            ((300f64).ln() + 1.5 * rng.normal())
                .exp()
                .min(100_000.0)
                .round() as u64
        }
    });
    let bot_clicks = rng.binomial(all, own.bot);
    let clicks = all - bot_clicks;
    let duplicates = rng
        .binomial(clicks, own.duplicate)
        .min(clicks.saturating_sub(1));
    let conversions = rng.binomial(clicks, own.conversion);
    let sales = rng.binomial(clicks, own.sale);
    let per_day = all as f64 / 7.0;
    let daily = (0..DAYS)
        .map(|i| {
            let noise = (0.1 * rng.normal()).exp();
            rng.poisson(per_day * WEEKDAY[(DAYS - 1 - i) % 7] * noise) as f64
        })
        .collect();
    PartnerWindow {
        partner_id: format!("p{id}"),
        clicks,
        bot_clicks,
        unique_visitors: clicks - duplicates,
        top_visitor_clicks: if clicks == 0 {
            0
        } else {
            1 + rng.binomial(duplicates, 0.05)
        },
        conversions,
        fast_conversions: rng.binomial(conversions, own.fast),
        sales,
        repeat_orders: rng.binomial(sales, own.repeat),
        daily,
    }
}

pub(crate) fn honest_program(rng: &mut Rng, partners: usize, spread: f64) -> (Rates, ProgramDay) {
    let rates = Rates::draw(rng);
    let partners = (0..partners)
        .map(|i| honest(rng, i, &rates, spread, None))
        .collect();
    let day = ProgramDay {
        program_id: "program".into(),
        day: NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
        partners,
        intervals: HashMap::new(),
    };
    (rates, day)
}

/// The frauds injected into partners 0..8 of a program (each a mid-sized partner with
/// 3,000 clicks a week), with the flag each should get.
pub(crate) fn inject(
    rng: &mut Rng,
    day: &mut ProgramDay,
    rates: &Rates,
    spread: f64,
) -> Vec<(usize, FlagKind)> {
    for i in 0..8 {
        day.partners[i] = honest(rng, i, rates, spread, Some(3_000));
    }
    let p = &mut day.partners;
    // A flooder: 70 % of its clicks are repeats, its busiest visitor makes a fifth.
    p[0].unique_visitors = p[0].clicks * 3 / 10;
    p[0].top_visitor_clicks = p[0].clicks / 5;
    // Click injection: half its 80 conversions within seconds of the click.
    p[1].conversions = 80;
    p[1].fast_conversions = 40;
    // A bot farm: 60 % of all clicks are bots.
    p[2].bot_clicks = p[2].clicks * 3 / 2;
    // Fabricated sales: six times the program's conversion rate.
    p[3].sales = rng.binomial(p[3].clicks, (6.0 * rates.sale).min(0.9));
    // Split orders: a third of 60 sales are repeats within minutes.
    p[4].sales = 60;
    p[4].repeat_orders = 20;
    // A spike on the day: five times the usual volume.
    let usual = 3_000.0 / 7.0;
    *p[5].daily.last_mut().unwrap() = 5.0 * usual;
    // A drop: the partner's traffic stops.
    *p[6].daily.last_mut().unwrap() = 0.0;
    // A new level: the last three days at 2.5 times the usual volume.
    let len = p[7].daily.len();
    for v in &mut p[7].daily[len - 3..] {
        *v = (2.5 * usual).round();
    }
    vec![
        (0, FlagKind::ClickFlooding),
        (1, FlagKind::FastConversions),
        (2, FlagKind::BotShare),
        (3, FlagKind::ConversionRateOutlier),
        (4, FlagKind::RepeatOrders),
        (5, FlagKind::Spike),
        (6, FlagKind::Drop),
        (7, FlagKind::Spike),
    ]
}

/// Flags on honest partners per 100 partners, over `programs` programs of `partners`.
pub(crate) fn false_flag_rate(
    seed: u64,
    programs: usize,
    partners: usize,
    spread: f64,
) -> (f64, HashMap<FlagKind, usize>) {
    let mut rng = Rng::new(seed);
    let mut by_kind = HashMap::new();
    let mut flags = 0;
    for _ in 0..programs {
        let (_, day) = honest_program(&mut rng, partners, spread);
        for flag in evaluate(&day) {
            flags += 1;
            *by_kind.entry(flag.kind).or_insert(0) += 1;
        }
    }
    (100.0 * flags as f64 / (programs * partners) as f64, by_kind)
}

#[test]
fn honest_programs_raise_few_flags() {
    // Spread 0: pure binomial noise around the program's rates; 0.2: partners' own rates
    // typically within ±20 %; 0.5: a stress case whose log-normal tails are heavier than
    // the Beta prior's (honest partners at 3–5× the program's rate get flagged).
    for (spread, bound) in [(0.0, 0.5), (0.2, 0.5), (0.5, 3.0)] {
        let (rate, by_kind) = false_flag_rate(2026, 200, 50, spread);
        println!(
            "honest partners differing by ±{:.0} %: {rate:.3} false flags per 100 partners (200 programs × 50 partners) {by_kind:?}",
            spread * 100.0
        );
        assert!(
            rate <= bound,
            "{rate} false flags per 100 partners at spread {spread}"
        );
    }
}

#[test]
fn injected_frauds_are_caught() {
    let mut rng = Rng::new(7);
    let programs = 50;
    let mut caught: HashMap<usize, usize> = HashMap::new();
    let mut others = 0;
    let mut kinds = Vec::new();
    for _ in 0..programs {
        let (rates, mut day) = honest_program(&mut rng, 50, 0.2);
        kinds = inject(&mut rng, &mut day, &rates, 0.2);
        let flags = evaluate(&day);
        for &(index, kind) in &kinds {
            let id = &day.partners[index].partner_id;
            if flags.iter().any(|f| &f.partner_id == id && f.kind == kind) {
                *caught.entry(index).or_insert(0) += 1;
            }
        }
        others += flags
            .iter()
            .filter(|f| {
                !kinds
                    .iter()
                    .any(|&(i, k)| day.partners[i].partner_id == f.partner_id && k == f.kind)
            })
            .count();
    }
    for &(index, kind) in &kinds {
        let n = caught.get(&index).copied().unwrap_or(0);
        println!(
            "injected {:<24} (partner {index}): caught in {n}/{programs} programs",
            kind.as_str()
        );
        assert!(
            n >= programs * 95 / 100,
            "{kind:?} caught in only {n}/{programs}"
        );
    }
    println!(
        "other flags in those programs: {others} over {} partners",
        programs * 50
    );
}
