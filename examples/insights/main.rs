//! The statistics of bench/insights, natively and on data with a known answer:
//! forecasts scored out of sample against seasonal naive, flags against injected fraud,
//! and goals' probabilities against the outcomes that followed (Brier score). The same
//! code the nightly job and the goals API run (`partnerlens::domain`); the job's own
//! time in the runtime is measured by bench/insights.mjs.
//!
//! `cargo run --release --example insights` (BENCH_SEED, BENCH_SERIES tune it).

mod sim;

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate};
use partnerlens::domain::flags::{evaluate, FlagKind, PartnerWindow, ProgramDay};
use partnerlens::domain::goals::{
    progress, weekday_weights, DayOutlook, GoalFields, GoalSpec, Standing,
};
use partnerlens::domain::insights::{forecast, DailySeries};
use partnerlens::domain::nightly::{interval_inflation, FLAG_WINDOW_DAYS};
use sim::{Rng, SeriesShape};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// In-sample scale of MASE: the mean absolute weekly difference of the history.
fn weekly_scale(history: &[f64]) -> f64 {
    let diffs: Vec<f64> = history.windows(8).map(|w| (w[7] - w[0]).abs()).collect();
    mean(&diffs)
}

struct ForecastScore {
    mase: Vec<f64>,
    mase_naive: Vec<f64>,
    covered_80: usize,
    covered_95: usize,
    days: usize,
    beat_naive: usize,
    chosen: HashMap<&'static str, usize>,
    fit_ms: Vec<f64>,
}

/// Fits `programs` synthetic series (400 days of history) and scores the published
/// forecast on the `horizon` days that followed, beside seasonal naive's.
fn forecasts(seed: u64, programs: u64, horizon: usize) -> ForecastScore {
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("a date");
    let history_days = 400;
    let mut score = ForecastScore {
        mase: vec![],
        mase_naive: vec![],
        covered_80: 0,
        covered_95: 0,
        days: 0,
        beat_naive: 0,
        chosen: HashMap::new(),
        fit_ms: vec![],
    };
    for p in 0..programs {
        let mut rng = Rng::new(seed * 1000 + p);
        let shape = SeriesShape::draw(&mut rng);
        let all = shape.sample(&mut rng, start, history_days + horizon);
        let (history, future) = all.split_at(history_days);
        let began = Instant::now();
        let fitted = forecast(&DailySeries::new(start, history.to_vec()), horizon)
            .expect("400 days forecast");
        score.fit_ms.push(began.elapsed().as_secs_f64() * 1000.0);
        *score.chosen.entry(fitted.model.name()).or_default() += 1;
        let scale = weekly_scale(history);
        let naive: Vec<f64> = (0..horizon)
            .map(|h| history[history_days - 7 + h % 7])
            .collect();
        let mae = |forecast: &dyn Fn(usize) -> f64| {
            mean(
                &(0..horizon)
                    .map(|h| (forecast(h) - future[h]).abs())
                    .collect::<Vec<_>>(),
            )
        };
        let model = mae(&|h| fitted.days[h].value) / scale;
        let baseline = mae(&|h| naive[h]) / scale;
        score.mase.push(model);
        score.mase_naive.push(baseline);
        if model < baseline {
            score.beat_naive += 1;
        }
        for (day, actual) in fitted.days.iter().zip(future) {
            score.days += 1;
            score.covered_80 += usize::from(day.lower_80 <= *actual && *actual <= day.upper_80);
            score.covered_95 += usize::from(day.lower_95 <= *actual && *actual <= day.upper_95);
        }
    }
    score
}

/// One simulated partner: its daily traffic and what (if anything) was injected.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Injected {
    Clean,
    Flooding,
    FastConversions,
    BotFarm,
    Spike,
}

impl Injected {
    fn kind(self) -> Option<FlagKind> {
        match self {
            Self::Clean => None,
            Self::Flooding => Some(FlagKind::ClickFlooding),
            Self::FastConversions => Some(FlagKind::FastConversions),
            Self::BotFarm => Some(FlagKind::BotShare),
            Self::Spike => Some(FlagKind::Spike),
        }
    }
}

#[derive(Default, Clone, Copy)]
struct DayFacts {
    clicks: u64,
    bots: u64,
    visitors: u64,
    top_visitor: u64,
    conversions: u64,
    fast: u64,
    sales: u64,
    repeats: u64,
}

const FRAUD: [Injected; 4] = [
    Injected::Flooding,
    Injected::FastConversions,
    Injected::BotFarm,
    Injected::Spike,
];

struct FlagScore {
    true_flags: usize,
    other_flags_on_fraud: usize,
    /// On a partner that would defraud later, before it did.
    early_flags: usize,
    false_flags: usize,
    fraud_partners: usize,
    detected: usize,
    days_to_detect: Vec<f64>,
    clean_partner_nights: usize,
    clean_partners: usize,
}

/// `programs` programs of 100 partners (2 of each fraud among 92 clean ones), 35 days;
/// the fraud starts on day 28; the job's checks run on days 14 to 34 with its 7-day
/// window, each flag raised once per partner and kind within a week (as the job does).
fn flags(seed: u64, programs: u64) -> FlagScore {
    let days = 35;
    let fraud_from = 28;
    let first_judged = 14;
    let start = NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date");
    let mut score = FlagScore {
        true_flags: 0,
        other_flags_on_fraud: 0,
        early_flags: 0,
        false_flags: 0,
        fraud_partners: 0,
        detected: 0,
        days_to_detect: vec![],
        clean_partner_nights: 0,
        clean_partners: 0,
    };
    for p in 0..programs {
        let mut rng = Rng::new(seed * 7919 + p);
        let program_cr = rng.between(0.01, 0.05);
        let partners: Vec<(String, Injected, Vec<DayFacts>)> = (0..100)
            .map(|i| {
                let injected = if i < 8 { FRAUD[i / 2] } else { Injected::Clean };
                let rate = (rng.between(1.0, 5.0)).exp() * 0.5; // 1 to 75 clicks a day
                let cr = program_cr * (0.2 * rng.normal()).exp();
                let weekend = rng.between(0.5, 1.0);
                let facts = (0..days)
                    .map(|d| {
                        let weekday = (start + Duration::days(d as i64))
                            .weekday()
                            .num_days_from_monday();
                        let fraud = d >= fraud_from;
                        let mut mean = rate * if weekday >= 5 { weekend } else { 1.0 };
                        if fraud && injected == Injected::Spike {
                            mean *= 4.0;
                        }
                        let human = rng.poisson(mean);
                        let repeats = rng.binomial(human, 0.08);
                        let mut f = DayFacts {
                            clicks: human,
                            bots: rng.binomial(human, 0.02),
                            visitors: human - repeats,
                            top_visitor: u64::from(human > 0) + repeats.min(2),
                            ..DayFacts::default()
                        };
                        if fraud && injected == Injected::Flooding {
                            let flood = (mean * 2.0).round() as u64 + 20;
                            f.clicks += flood;
                            f.visitors += 3;
                            f.top_visitor = f.top_visitor.max(flood / 3);
                        }
                        if fraud && injected == Injected::BotFarm {
                            f.bots += (mean * 1.5).round() as u64 + 20;
                        }
                        f.sales = rng.binomial(f.clicks.min(human), cr);
                        f.conversions = f.sales;
                        f.fast = rng.binomial(f.conversions, 0.02);
                        if fraud && injected == Injected::FastConversions {
                            let injected_sales = (mean * cr * 2.0).round() as u64 + 3;
                            f.sales += injected_sales;
                            f.conversions += injected_sales;
                            f.fast += injected_sales;
                        }
                        f.repeats = rng.binomial(f.sales, 0.005);
                        f
                    })
                    .collect();
                (format!("p{i:03}"), injected, facts)
            })
            .collect();
        let mut raised: HashMap<(String, FlagKind), usize> = HashMap::new();
        let mut first_detection: HashMap<String, usize> = HashMap::new();
        for d in first_judged..days {
            let window = (d + 1 - FLAG_WINDOW_DAYS as usize)..=d;
            let windows = partners
                .iter()
                .map(|(id, _, facts)| {
                    let sum = |pick: fn(&DayFacts) -> u64| -> u64 {
                        window.clone().map(|k| pick(&facts[k])).sum()
                    };
                    PartnerWindow {
                        partner_id: id.clone(),
                        clicks: sum(|f| f.clicks),
                        bot_clicks: sum(|f| f.bots),
                        unique_visitors: sum(|f| f.visitors),
                        top_visitor_clicks: window
                            .clone()
                            .map(|k| facts[k].top_visitor)
                            .max()
                            .unwrap_or(0),
                        conversions: sum(|f| f.conversions),
                        fast_conversions: sum(|f| f.fast),
                        sales: sum(|f| f.sales),
                        repeat_orders: sum(|f| f.repeats),
                        daily: facts[d.saturating_sub(27)..=d]
                            .iter()
                            .map(|f| f.clicks as f64)
                            .collect(),
                    }
                })
                .collect();
            let input = ProgramDay {
                program_id: format!("prg{p}"),
                day: start + Duration::days(d as i64),
                partners: windows,
                intervals: HashMap::new(),
            };
            for flag in evaluate(&input) {
                let key = (flag.partner_id.clone(), flag.kind);
                if raised
                    .get(&key)
                    .is_some_and(|last| d - last < FLAG_WINDOW_DAYS as usize)
                {
                    continue;
                }
                raised.insert(key, d);
                let injected = partners
                    .iter()
                    .find(|(id, _, _)| *id == flag.partner_id)
                    .map_or(Injected::Clean, |(_, i, _)| *i);
                match injected.kind() {
                    Some(kind) if d >= fraud_from && kind == flag.kind => {
                        score.true_flags += 1;
                        first_detection.entry(flag.partner_id.clone()).or_insert(d);
                    }
                    // Flooding also spikes the clicks: a right alarm under another name.
                    Some(_) if d >= fraud_from => score.other_flags_on_fraud += 1,
                    Some(_) => score.early_flags += 1,
                    None => score.false_flags += 1,
                }
            }
        }
        for (id, injected, _) in &partners {
            if *injected == Injected::Clean {
                score.clean_partners += 1;
                score.clean_partner_nights += days - first_judged;
            } else {
                score.fraud_partners += 1;
                if let Some(d) = first_detection.get(id) {
                    score.detected += 1;
                    score.days_to_detect.push((d - fraud_from + 1) as f64);
                }
            }
        }
    }
    score
}

struct GoalScore {
    brier: f64,
    brier_base_rate: f64,
    met: usize,
    goals: usize,
    bins: Vec<(f64, f64, usize)>,
}

/// `goals` goals of 60 days on synthetic sales, judged on their 31st day: the
/// probability the goals API gives (forecast of the 29 days left, spread widened by the
/// backtest's coverage) against whether the simulated days that followed met it.
fn goals(seed: u64, goals: u64) -> GoalScore {
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("a date");
    let history_days = 400;
    let left = 29;
    let mut forecasts_and_outcomes = vec![];
    for g in 0..goals {
        let mut rng = Rng::new(seed * 104_729 + g);
        let shape = SeriesShape::draw(&mut rng);
        let all = shape.sample(&mut rng, start, history_days + left);
        let history = &all[..history_days];
        let today = start + Duration::days(history_days as i64 - 1);
        let goal_start = today - Duration::days(30);
        let deadline = today + Duration::days(left as i64);
        let expected: f64 = (history_days - 31..history_days + left)
            .map(|t| shape.mean(start, t))
            .sum();
        let target = (expected * rng.between(0.85, 1.15)).round();
        let spec = GoalSpec::parse(&GoalFields {
            metric: Some("sales".into()),
            target: Some(format!("{target}")),
            start: Some(goal_start.to_string()),
            deadline: Some(deadline.to_string()),
            ..GoalFields::default()
        })
        .expect("a goal");
        let fitted =
            forecast(&DailySeries::new(start, history.to_vec()), left).expect("a forecast");
        let coverage = fitted
            .accuracy
            .iter()
            .filter(|a| a.horizon as usize >= left)
            .min_by_key(|a| a.horizon)
            .or(fitted.accuracy.last())
            .and_then(|a| a.coverage_80);
        let inflation = interval_inflation(coverage);
        let remaining: Vec<DayOutlook> = fitted
            .days
            .iter()
            .map(|d| {
                let mut o = DayOutlook::from_interval(d.value, d.lower_95, d.upper_95);
                o.sd *= inflation;
                o
            })
            .collect();
        let actual: f64 = history[history_days - 31..].iter().sum();
        let standing = Standing {
            today,
            target,
            actual,
            weekday_weights: weekday_weights(&history[history_days - 56..], today),
            remaining,
        };
        let p = progress(&spec, &standing)
            .probability
            .expect("a sum has odds");
        let outcome = actual + all[history_days..].iter().sum::<f64>() >= target;
        forecasts_and_outcomes.push((p, outcome));
    }
    let n = forecasts_and_outcomes.len() as f64;
    let met = forecasts_and_outcomes.iter().filter(|(_, o)| *o).count();
    let rate = met as f64 / n;
    let brier = forecasts_and_outcomes
        .iter()
        .map(|(p, o)| (p - f64::from(u8::from(*o))).powi(2))
        .sum::<f64>()
        / n;
    let brier_base_rate = forecasts_and_outcomes
        .iter()
        .map(|(_, o)| (rate - f64::from(u8::from(*o))).powi(2))
        .sum::<f64>()
        / n;
    let bins = (0..5)
        .map(|b| {
            let (low, high) = (b as f64 / 5.0, (b + 1) as f64 / 5.0);
            let inside: Vec<&(f64, bool)> = forecasts_and_outcomes
                .iter()
                .filter(|(p, _)| *p >= low && (*p < high || (b == 4 && *p <= 1.0)))
                .collect();
            let said = mean(&inside.iter().map(|(p, _)| *p).collect::<Vec<_>>());
            let happened = mean(
                &inside
                    .iter()
                    .map(|(_, o)| f64::from(u8::from(*o)))
                    .collect::<Vec<_>>(),
            );
            (said, happened, inside.len())
        })
        .collect();
    GoalScore {
        brier,
        brier_base_rate,
        met,
        goals: forecasts_and_outcomes.len(),
        bins,
    }
}

fn main() {
    let seed = env("BENCH_SEED", 20_261_123);
    let programs = env("BENCH_SERIES", 60);
    println!("insights statistics (native, seed {seed})");
    for horizon in [7, 28, 90] {
        let s = forecasts(seed, programs, horizon);
        let mut chosen: Vec<_> = s.chosen.iter().collect();
        chosen.sort();
        println!(
            "forecast, {horizon:>2} days ahead, {programs} series: MASE {:.3} (seasonal naive {:.3}), \
             beats seasonal naive on {}/{programs}; coverage 80 % {:.1} %, 95 % {:.1} %; chosen {:?}; \
             fit + backtest {:.0} ms a series (median)",
            mean(&s.mase),
            mean(&s.mase_naive),
            s.beat_naive,
            100.0 * s.covered_80 as f64 / s.days as f64,
            100.0 * s.covered_95 as f64 / s.days as f64,
            chosen,
            {
                let mut t = s.fit_ms.clone();
                t.sort_by(f64::total_cmp);
                t[t.len() / 2]
            }
        );
    }
    let f = flags(seed, programs.min(50));
    let all_flags = f.true_flags + f.other_flags_on_fraud + f.early_flags + f.false_flags;
    println!(
        "flags, {} programs × 100 partners ({} with injected fraud from day 28, {} clean), nights 14–34:",
        programs.min(50),
        f.fraud_partners,
        f.clean_partners
    );
    println!(
        "  precision {:.3} ({} of {all_flags} flags on a defrauding partner: {} of the injected kind, {} of another), \
         recall {:.3} ({}/{} caught under the injected kind), days to detect {:.2} (mean), \
         false flags {:.3} per 100 clean partners a night ({:.2} per 100 over the 21 nights)",
        (f.true_flags + f.other_flags_on_fraud) as f64 / all_flags.max(1) as f64,
        f.true_flags + f.other_flags_on_fraud,
        f.true_flags,
        f.other_flags_on_fraud,
        f.detected as f64 / f.fraud_partners as f64,
        f.detected,
        f.fraud_partners,
        mean(&f.days_to_detect),
        100.0 * f.false_flags as f64 / f.clean_partner_nights as f64,
        100.0 * f.false_flags as f64 / f.clean_partners as f64,
    );
    let g = goals(seed, programs * 3);
    println!(
        "goals, {} goals judged at day 31 of 60: Brier {:.4} (a constant {:.2}: {:.4}); met {}/{}",
        g.goals,
        g.brier,
        g.met as f64 / g.goals as f64,
        g.brier_base_rate,
        g.met,
        g.goals
    );
    for (said, happened, n) in g.bins {
        if n > 0 {
            println!("  said {:.2} → happened {:.2} ({n} goals)", said, happened);
        }
    }
}
