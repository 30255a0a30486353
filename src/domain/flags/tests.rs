//! Edge cases and properties of `evaluate`: degenerate programs, tiny partners,
//! forecasts, severities, and no panic or NaN whatever the input.

use std::collections::HashMap;

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::Value;

use super::simulation::{honest, honest_program, Rates, Rng};
use super::*;

fn program(partners: Vec<PartnerWindow>) -> ProgramDay {
    ProgramDay {
        program_id: "program".into(),
        day: NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
        partners,
        intervals: HashMap::new(),
    }
}

fn partner(id: &str, clicks: u64, sales: u64) -> PartnerWindow {
    PartnerWindow {
        partner_id: id.into(),
        clicks,
        unique_visitors: clicks * 9 / 10,
        top_visitor_clicks: clicks.min(3),
        conversions: sales * 2,
        fast_conversions: sales / 20,
        sales,
        bot_clicks: clicks / 20,
        repeat_orders: sales / 100,
        daily: vec![clicks as f64 / 7.0; 28],
    }
}

/// Every number in the evidence is finite (serde_json turns NaN and ∞ into null).
fn no_nulls(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => items.iter().all(no_nulls),
        Value::Object(map) => map.values().all(no_nulls),
        _ => true,
    }
}

#[test]
fn an_empty_or_silent_program_raises_nothing() {
    assert!(evaluate(&program(vec![])).is_empty());
    let silent = (0..20)
        .map(|i| PartnerWindow {
            partner_id: format!("p{i}"),
            daily: vec![0.0; 30],
            ..Default::default()
        })
        .collect();
    let day = program(silent);
    assert!(candidates(&day, &Settings::default()).is_empty());
    assert!(evaluate(&day).is_empty());
}

#[test]
fn identical_partners_raise_nothing() {
    let day = program(
        (0..30)
            .map(|i| partner(&format!("p{i}"), 5_000, 100))
            .collect(),
    );
    assert!(evaluate(&day).is_empty());
    assert!(candidates(&day, &Settings::default())
        .iter()
        .all(|c| c.p_value > 0.01));
}

#[test]
fn a_single_partner_has_no_program_to_compare_with_but_its_own_history() {
    let mut only = partner("only", 3_000, 100);
    only.bot_clicks = 3_000;
    let day = program(vec![only.clone()]);
    assert!(
        evaluate(&day).is_empty(),
        "no other partners: no share-based flags"
    );
    *only.daily.last_mut().unwrap() = 3_000.0;
    let flags = evaluate(&program(vec![only]));
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].kind, FlagKind::Spike);
}

#[test]
fn tiny_partners_are_not_conversion_rate_outliers() {
    // A program converting at about 2 %, and a partner with 1 sale from 3 clicks (33 %).
    let mut rng = Rng::new(11);
    let rates = Rates {
        bot: 0.05,
        duplicate: 0.1,
        conversion: 0.04,
        fast: 0.02,
        sale: 0.02,
        repeat: 0.01,
    };
    let mut partners: Vec<PartnerWindow> = (0..40)
        .map(|i| honest(&mut rng, i, &rates, 0.2, Some(2_000)))
        .collect();
    partners.push(PartnerWindow {
        partner_id: "tiny".into(),
        clicks: 3,
        unique_visitors: 3,
        sales: 1,
        ..Default::default()
    });
    let day = program(partners);
    assert!(!evaluate(&day).iter().any(|f| f.partner_id == "tiny"));

    // Even with every floor removed, the test itself sees no evidence: the beta-binomial
    // chance of at least one sale in three clicks is about 6 %.
    let settings = Settings {
        conversion_rate: ShareFloor {
            min_events: 0,
            min_ratio: 0.0,
            min_excess: -1.0,
        },
        ..Settings::default()
    };
    assert!(!evaluate_with(&day, &settings)
        .iter()
        .any(|f| f.partner_id == "tiny"));
    let tiny = candidates(&day, &settings)
        .into_iter()
        .find(|c| c.partner == 40 && c.kind == FlagKind::ConversionRateOutlier)
        .unwrap();
    assert!(tiny.p_value > 0.05 && tiny.p_value < 0.1, "{tiny:?}");
    let shrunk = tiny.evidence["shrunk_rate"].as_f64().unwrap();
    assert!(shrunk < 0.03, "shrunk to the program's rate: {shrunk}");

    // The same 33 % on 300 clicks is a flag.
    day_with_big_converter(&rates);
}

fn day_with_big_converter(rates: &Rates) {
    let mut rng = Rng::new(12);
    let mut partners: Vec<PartnerWindow> = (0..40)
        .map(|i| honest(&mut rng, i, rates, 0.2, Some(2_000)))
        .collect();
    partners.push(PartnerWindow {
        partner_id: "big".into(),
        clicks: 300,
        unique_visitors: 300,
        sales: 100,
        ..Default::default()
    });
    let flags = evaluate(&program(partners));
    let flag = flags.iter().find(|f| f.partner_id == "big").unwrap();
    assert_eq!(flag.kind, FlagKind::ConversionRateOutlier);
    assert_eq!(flag.severity, Severity::High);
}

#[test]
fn huge_programs_do_not_flag_trivial_differences() {
    // 6.1 % bots against 4.8 % on a million clicks: a naive binomial test calls it
    // certain, but it is neither beyond honest variety nor worth a look (under 2×).
    let mut partners: Vec<PartnerWindow> = (0..20)
        .map(|i| partner(&format!("p{i}"), 1_000_000, 20_000))
        .collect();
    partners[0].bot_clicks = 65_000;
    let day = program(partners);
    let bot = candidates(&day, &Settings::default())
        .into_iter()
        .find(|c| c.partner == 0 && c.kind == FlagKind::BotShare)
        .unwrap();
    let baseline = bot.evidence["program_share"].as_f64().unwrap();
    assert!(super::tails::binomial_upper(65_000, 1_065_000, baseline) < 1e-100);
    assert!(!bot.floor_met, "{bot:?}");
    assert!(evaluate(&day).is_empty());
}

#[test]
fn a_forecast_interval_decides_spikes_and_drops() {
    let mut partners: Vec<PartnerWindow> = (0..5)
        .map(|i| partner(&format!("p{i}"), 7_000, 100))
        .collect();
    *partners[0].daily.last_mut().unwrap() = 1_400.0;
    *partners[1].daily.last_mut().unwrap() = 1_400.0;
    *partners[2].daily.last_mut().unwrap() = 300.0;
    let mut day = program(partners);
    // p0's forecast expected the surge; p1's did not; p2 fell far below its forecast.
    day.intervals.insert(
        "p0".into(),
        Interval {
            lower_95: 1_200.0,
            upper_95: 1_600.0,
        },
    );
    day.intervals.insert(
        "p1".into(),
        Interval {
            lower_95: 900.0,
            upper_95: 1_100.0,
        },
    );
    day.intervals.insert(
        "p2".into(),
        Interval {
            lower_95: 900.0,
            upper_95: 1_100.0,
        },
    );
    let flags = evaluate(&day);
    let kinds: Vec<(&str, FlagKind)> = flags
        .iter()
        .map(|f| (f.partner_id.as_str(), f.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![("p2", FlagKind::Drop)],
        "p1 at 1.4× is outside but under the 1.5× floor"
    );
    assert_eq!(flags[0].evidence["method"], "forecast");
}

#[test]
fn weekday_patterns_are_not_drops() {
    // Weekends at a third of weekdays, four weeks of history, and the day is a weekend.
    let series: Vec<f64> = (0..29)
        .map(|i| if (28 - i) % 7 < 2 { 100.0 } else { 300.0 })
        .collect();
    let mut p = partner("p0", 1_500, 30);
    p.daily = series;
    let day = program(vec![p]);
    let test = candidates(&day, &Settings::default())
        .into_iter()
        .find(|c| c.partner == 0)
        .unwrap();
    assert_eq!(test.evidence["weekday_adjusted"], true);
    assert!(test.p_value > 0.5 && !test.floor_met, "{test:?}");
}

#[test]
fn three_days_at_a_new_level_are_caught_where_one_is_not() {
    // A noisy partner (±30 a day around 100) whose last three days sit at 160.
    let mut series: Vec<f64> = (0..20)
        .map(|i| 100.0 + [-30.0, 20.0, 0.0, 30.0, -20.0][i % 5])
        .collect();
    series.extend([160.0, 160.0, 160.0]);
    let mut p = partner("p0", 700, 30);
    p.daily = series;
    let test = candidates(&program(vec![p]), &Settings::default())
        .into_iter()
        .find(|c| c.partner == 0)
        .unwrap();
    assert_eq!(test.kind, FlagKind::Spike);
    assert_eq!(test.evidence["window_days"], 3, "{test:?}");
    // The day alone: 60 over a spread of 1.4826 × 20 is z ≈ 2, nowhere near a flag.
    assert!(test.p_value < 0.05 && test.floor_met, "{test:?}");
}

#[test]
fn severities_follow_the_rule() {
    assert_eq!(severity(0.0005, 2.0), Severity::High);
    assert_eq!(severity(0.0005, 1.9), Severity::Medium);
    assert_eq!(severity(0.005, 5.0), Severity::Medium);
    assert_eq!(severity(0.005, 1.2), Severity::Low);
    assert_eq!(severity(0.04, 10.0), Severity::Low);
}

#[test]
fn flags_serialize_with_the_contract_names() {
    let (_, mut day) = honest_program(&mut Rng::new(3), 30, 0.2);
    day.partners[0].bot_clicks = day.partners[0].clicks.max(1_000) * 3;
    day.partners[0].clicks = day.partners[0].clicks.max(1_000);
    let flag = evaluate(&day)
        .into_iter()
        .find(|f| f.kind == FlagKind::BotShare)
        .unwrap();
    let json = serde_json::to_value(&flag).unwrap();
    assert_eq!(json["kind"], "bot_share");
    assert!(["low", "medium", "high"].contains(&json["severity"].as_str().unwrap()));
    for key in ["partner_id", "p_value", "q_value", "evidence"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(
        FlagKind::parse("conversion_rate_outlier").unwrap(),
        FlagKind::ConversionRateOutlier
    );
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..20, 0u64..100_000, Just(u64::MAX), any::<u64>()]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0f64..1_000.0,
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-1.0)
    ]
}

fn any_partner() -> impl Strategy<Value = PartnerWindow> {
    (
        (count(), count(), count(), count()),
        (count(), count(), count(), count()),
        proptest::collection::vec(value(), 0..40),
        "[ab]",
    )
        .prop_map(
            |((clicks, bots, visitors, top), (conversions, fast, sales, repeats), daily, id)| {
                PartnerWindow {
                    partner_id: id,
                    clicks,
                    bot_clicks: bots,
                    unique_visitors: visitors,
                    top_visitor_clicks: top,
                    conversions,
                    fast_conversions: fast,
                    sales,
                    repeat_orders: repeats,
                    daily,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever the aggregates (inconsistent, huge, NaN days, absurd intervals): no panic,
    /// p and q in [0, 1] with q ≥ p, evidence without NaN or ∞.
    #[test]
    fn any_input_gives_sane_flags(
        partners in proptest::collection::vec(any_partner(), 0..8),
        interval in proptest::option::of((value(), value())),
    ) {
        let mut day = program(partners);
        if let Some((lower_95, upper_95)) = interval {
            day.intervals.insert("a".into(), Interval { lower_95, upper_95 });
        }
        for candidate in candidates(&day, &Settings::default()) {
            prop_assert!((0.0..=1.0).contains(&candidate.p_value), "{candidate:?}");
            prop_assert!(no_nulls(&candidate.evidence), "{candidate:?}");
            prop_assert!(!candidate.strength.is_nan(), "{candidate:?}");
        }
        for flag in evaluate(&day) {
            prop_assert!((0.0..=1.0).contains(&flag.p_value));
            prop_assert!(flag.q_value >= flag.p_value && flag.q_value <= 0.05);
        }
    }

    /// Honest programs of any size and spread: every p-value is a probability.
    #[test]
    fn honest_programs_give_probabilities(seed in any::<u64>(), partners in 0usize..30, spread in 0.0f64..1.0) {
        let (_, day) = honest_program(&mut Rng::new(seed), partners, spread);
        for candidate in candidates(&day, &Settings::default()) {
            prop_assert!((0.0..=1.0).contains(&candidate.p_value));
            prop_assert!(no_nulls(&candidate.evidence));
        }
    }
}
