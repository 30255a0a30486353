//! Forecasts of synthetic series whose structure is known: the right model is chosen,
//! the intervals cover what they claim, and no input makes the library panic.

use std::time::Instant;

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

/// splitmix64: a tiny deterministic generator, so every test series is reproducible.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 6).unwrap()
}

/// Weekday effects of partner sales: busy midweek, quiet weekend (they sum to zero).
const WEEKLY: [f64; 7] = [4.0, 6.0, 7.0, 5.0, 2.0, -11.0, -13.0];

/// level + slope·t + amplitude·weekly + N(0, noise²), kept at least 0.
fn trend_and_season(days: usize, slope: f64, amplitude: f64, noise: f64, seed: u64) -> DailySeries {
    let mut rng = Rng(seed);
    let values = (0..days)
        .map(|t| {
            let v = 100.0 + slope * t as f64 + amplitude * WEEKLY[t % 7] + noise * rng.normal();
            v.max(0.0)
        })
        .collect();
    DailySeries::new(start(), values)
}

fn white_noise(days: usize, seed: u64) -> DailySeries {
    let mut rng = Rng(seed);
    let values = (0..days).map(|_| 50.0 + 10.0 * rng.normal()).collect();
    DailySeries::new(start(), values)
}

fn score(fitted: &Fitted, kind: ModelKind) -> f64 {
    fitted
        .candidates
        .iter()
        .find(|(k, _)| *k == kind)
        .and_then(|(_, s)| *s)
        .expect("scored")
}

fn assert_well_formed(fitted: &Fitted, series: &DailySeries, horizon: usize) {
    assert_eq!(fitted.days.len(), horizon);
    assert_eq!(fitted.trained_through, series.last_day());
    for (i, d) in fitted.days.iter().enumerate() {
        assert_eq!(d.day, series.day(series.values.len() + i));
        assert!(
            0.0 <= d.lower_95
                && d.lower_95 <= d.lower_80
                && d.lower_80 <= d.value
                && d.value <= d.upper_80
                && d.upper_80 <= d.upper_95
                && d.upper_95.is_finite(),
            "{d:?}"
        );
    }
    assert_eq!(fitted.candidates.len(), 3);
    for a in &fitted.accuracy {
        assert!(a.origins >= 1);
        for share in [a.coverage_80, a.coverage_95].into_iter().flatten() {
            assert!((0.0..=1.0).contains(&share));
        }
        if let Some(s) = a.smape {
            assert!((0.0..=200.0).contains(&s));
        }
    }
}

#[test]
fn trend_and_weekly_season_choose_mstl_and_beat_seasonal_naive() {
    for seed in 1..=3 {
        let series = trend_and_season(365, 0.2, 1.5, 5.0, seed);
        let fitted = forecast(&series, 90).unwrap();
        assert_well_formed(&fitted, &series, 90);
        assert_eq!(fitted.model, ModelKind::MstlEts, "{:?}", fitted.candidates);
        assert_eq!(
            fitted
                .accuracy
                .iter()
                .map(|a| a.horizon)
                .collect::<Vec<_>>(),
            [7, 28, 90]
        );
        for a in &fitted.accuracy {
            assert_eq!(a.origins, 8);
            let (mase, naive) = (a.mase.unwrap(), a.mase_seasonal_naive.unwrap());
            assert!(mase < naive, "{a:?}");
        }
        // The trend continues: the last forecast week is above the last actual week.
        let last_week: f64 = series.values[358..].iter().sum();
        let final_week: f64 = fitted.days[83..].iter().map(|d| d.value).sum();
        assert!(final_week > last_week, "{final_week} vs {last_week}");
    }
}

#[test]
fn on_white_noise_no_model_claims_much_over_seasonal_naive() {
    // The best possible forecast of white noise is its mean, whose errors have √2 times
    // less spread than seasonal naive's: a MASE ratio near 0.71, and no lower.
    for seed in 11..=13 {
        let series = white_noise(200, seed);
        let fitted = forecast(&series, 28).unwrap();
        assert_well_formed(&fitted, &series, 28);
        let best = score(&fitted, fitted.model);
        let naive = score(&fitted, ModelKind::SeasonalNaive);
        assert!(
            (0.55..=1.0).contains(&(best / naive)),
            "{:?}",
            fitted.candidates
        );
    }
}

#[test]
fn intervals_cover_near_their_nominal_level() {
    let (mut inside_80, mut inside_95, mut days) = (0.0, 0.0, 0.0);
    for seed in 100..120 {
        let series = trend_and_season(240, 0.1, 1.0, 6.0, seed);
        let fitted = forecast(&series, 28).unwrap();
        for a in fitted.accuracy.iter().filter(|a| a.horizon <= 28) {
            let n = f64::from(a.origins) * f64::from(a.horizon);
            inside_80 += a.coverage_80.unwrap() * n;
            inside_95 += a.coverage_95.unwrap() * n;
            days += n;
        }
    }
    let (c80, c95) = (inside_80 / days, inside_95 / days);
    println!("coverage over 20 series: 80 % → {c80:.3}, 95 % → {c95:.3}");
    assert!((c80 - 0.80).abs() <= 0.10, "{c80}");
    assert!((c95 - 0.95).abs() <= 0.10, "{c95}");
}

#[test]
fn constant_and_all_zero_series_forecast_themselves() {
    for level in [0.0, 5.0, 1234.56] {
        let series = DailySeries::new(start(), vec![level; 120]);
        let fitted = forecast(&series, 30).unwrap();
        assert_well_formed(&fitted, &series, 30);
        assert_eq!(fitted.model, ModelKind::SeasonalNaive);
        assert!(fitted.candidates.iter().all(|(_, s)| s.is_none()));
        assert!(fitted
            .days
            .iter()
            .all(|d| d.value == level && d.upper_95 == level));
        assert!(fitted.accuracy.iter().all(|a| a.mase.is_none()));
    }
}

#[test]
fn too_little_history_or_a_bad_horizon_is_a_named_error() {
    let short = DailySeries::new(start(), vec![1.0; MIN_HISTORY_DAYS - 1]);
    assert_eq!(
        forecast(&short, 7),
        Err(ForecastError::NotEnoughHistory {
            days: MIN_HISTORY_DAYS - 1,
            needed: MIN_HISTORY_DAYS
        })
    );
    let series = trend_and_season(60, 0.0, 1.0, 2.0, 5);
    for requested in [0, 6, 91] {
        assert_eq!(
            forecast(&series, requested),
            Err(ForecastError::InvalidHorizon { requested })
        );
    }
    let mut values = series.values.clone();
    values[10] = f64::INFINITY;
    assert!(matches!(
        forecast(&DailySeries::new(start(), values), 7),
        Err(ForecastError::NonFinite { .. })
    ));
    // Exactly the minimum: a forecast, with one 7-day origin behind it.
    let minimal = trend_and_season(MIN_HISTORY_DAYS, 0.0, 1.0, 2.0, 6);
    let fitted = forecast(&minimal, 7).unwrap();
    assert_well_formed(&fitted, &minimal, 7);
    assert_eq!(fitted.accuracy.len(), 1);
    assert_eq!(fitted.accuracy[0].origins, 1);
}

#[test]
fn a_declining_series_is_never_forecast_below_zero() {
    let series = trend_and_season(150, -0.7, 1.0, 4.0, 9);
    let fitted = forecast(&series, 90).unwrap();
    assert_well_formed(&fitted, &series, 90);
    assert!(fitted.days.iter().any(|d| d.value == 0.0));
}

#[test]
fn refund_days_below_zero_are_accepted_and_forecasts_stay_at_least_zero() {
    // Net revenue: a refund can outweigh a quiet day's sales.
    let mut series = trend_and_season(120, 0.0, 1.0, 8.0, 31);
    for t in (3..120).step_by(17) {
        series.values[t] = -40.0;
    }
    assert_well_formed(&forecast(&series, 28).unwrap(), &series, 28);
}

#[test]
fn sparse_small_counts_and_a_long_history_work() {
    // New customers of a small partner: mostly zeros, the odd one or two.
    let mut rng = Rng(21);
    let counts: Vec<f64> = (0..400)
        .map(|_| match rng.uniform() {
            u if u < 0.85 => 0.0,
            u if u < 0.97 => 1.0,
            _ => 2.0,
        })
        .collect();
    let sparse = DailySeries::new(start(), counts);
    assert_well_formed(&forecast(&sparse, 60).unwrap(), &sparse, 60);

    // Two and a half years of history: MSTL also models the yearly cycle.
    let mut long = trend_and_season(900, 0.05, 1.0, 5.0, 22);
    for (t, v) in long.values.iter_mut().enumerate() {
        *v += 30.0 * (std::f64::consts::TAU * t as f64 / 365.0).sin();
    }
    let fitted = forecast(&long, 90).unwrap();
    assert_well_formed(&fitted, &long, 90);
}

/// Measures the nightly job's unit of work: select, backtest and forecast one year of
/// daily data. Run with `cargo test --release fit_and_backtest_time -- --nocapture`
/// for the figure that matters (the debug build is several times slower).
#[test]
fn fit_and_backtest_time_of_a_year_of_history() {
    let series = trend_and_season(365, 0.2, 1.5, 5.0, 42);
    let runs = 3;
    let began = Instant::now();
    for _ in 0..runs {
        forecast(&series, 90).unwrap();
    }
    let each = began.elapsed() / runs;
    println!("forecast() of a 365-day series (backtest of 3 models + refit): {each:?}");
}

fn any_series() -> impl Strategy<Value = Vec<f64>> {
    let value = prop_oneof![
        4 => (0u32..4).prop_map(f64::from),
        3 => 0.0..1_000.0f64,
        1 => 0.0..1e9f64,
        1 => Just(0.0),
    ];
    prop_oneof![
        proptest::collection::vec(value.clone(), 28..400),
        // Long constant runs with a few changes: the shapes that trip decompositions.
        (
            proptest::collection::vec((value, 1usize..120), 1..6),
            28usize..400
        )
            .prop_map(|(runs, len)| {
                let mut v: Vec<f64> = runs
                    .iter()
                    .flat_map(|(x, n)| std::iter::repeat_n(*x, *n))
                    .collect();
                v.resize(len, 0.0);
                v
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any non-negative finite series of 28 to 400 days: a forecast with ordered,
    /// non-negative intervals, or a named error; never a panic.
    #[test]
    fn any_series_forecasts_or_names_its_error(values in any_series(), horizon in 7usize..=90) {
        let series = DailySeries::new(start(), values);
        match forecast(&series, horizon) {
            Ok(fitted) => assert_well_formed(&fitted, &series, horizon),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
