//! What the nightly insights job decides, apart from storage: which series it forecasts,
//! what it records about a forecast's accuracy, and how the facts of a program's partners
//! become the input of the flags.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::flags::{Interval, PartnerWindow, ProgramDay};
use super::insights::{Accuracy, Fitted};
use super::reporting::Metric;

/// The metrics forecast for every program (and partner with enough history).
pub const FORECAST_METRICS: [Metric; 5] = [
    Metric::Sales,
    Metric::Revenue,
    Metric::Commission,
    Metric::Clicks,
    Metric::NewCustomers,
];

/// Days forecast ahead: the longest horizon the API serves.
pub const HORIZON_DAYS: usize = 90;

/// Days of history loaded for a program's series (the forecaster uses at most three
/// years; two make a yearly season visible).
pub const PROGRAM_HISTORY_DAYS: i64 = 3 * 365;
/// Days of history loaded for the partners' series.
pub const PARTNER_HISTORY_DAYS: i64 = 365;

/// A partner's series is forecast when it has at least this many days since its first
/// activity...
pub const PARTNER_MIN_DAYS: usize = 56;
/// ...and is active (non-zero) on at least this share of its last `PARTNER_MIN_DAYS`
/// days: an intermittent series (a sale now and then) has no daily pattern to forecast,
/// and its forecast would be a flat line of fractions that helps no one.
pub const PARTNER_MIN_ACTIVE_SHARE: f64 = 0.5;

/// At most this many partners of a program get their own forecast of a metric: the
/// steady ones with the most volume over their last [`PARTNER_MIN_DAYS`] days, who make
/// the program's numbers. It bounds the nightly job (a fit with its backtest costs tens
/// of milliseconds) however many partners a program has.
pub const PARTNER_FORECASTS_PER_METRIC: usize = 25;

/// Which partners' series of one metric are forecast: of `series` (partner id, daily
/// values ending yesterday), those that [`partner_qualifies`], the busiest first, at
/// most [`PARTNER_FORECASTS_PER_METRIC`]; ties go to the smaller id.
pub fn partners_to_forecast<'a>(series: &[(&'a str, &[f64])]) -> Vec<&'a str> {
    let volume = |values: &[f64]| -> f64 {
        values[values.len().saturating_sub(PARTNER_MIN_DAYS)..]
            .iter()
            .sum()
    };
    let mut chosen: Vec<(&str, f64)> = series
        .iter()
        .filter(|(_, values)| partner_qualifies(values))
        .map(|(id, values)| (*id, volume(values)))
        .collect();
    chosen.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    chosen.truncate(PARTNER_FORECASTS_PER_METRIC);
    chosen.into_iter().map(|(id, _)| id).collect()
}

/// Days one nightly job judges at most (a program whose job was down longer starts
/// again from the last of them).
pub const CATCH_UP_DAYS: i64 = 7;

/// The flags' window: the evaluated day and the six before it.
pub const FLAG_WINDOW_DAYS: i64 = 7;
/// Days of daily clicks behind the spike and drop checks (three weeks of baseline for
/// the weekday adjustment, plus the days tested).
pub const FLAG_TRAILING_DAYS: i64 = 28;

/// Whether a partner's daily series (oldest first, ending yesterday) is worth a
/// forecast of its own.
pub fn partner_qualifies(values: &[f64]) -> bool {
    let Some(first) = values.iter().position(|v| *v != 0.0) else {
        return false;
    };
    if values.len() - first < PARTNER_MIN_DAYS {
        return false;
    }
    let recent = &values[values.len() - PARTNER_MIN_DAYS..];
    let active = recent.iter().filter(|v| **v != 0.0).count();
    active as f64 >= PARTNER_MIN_ACTIVE_SHARE * PARTNER_MIN_DAYS as f64
}

/// A series' backtest at one horizon, as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HorizonRecord {
    pub horizon: u32,
    pub origins: u32,
    pub mase: Option<f64>,
    pub smape: Option<f64>,
    pub bias: Option<f64>,
    pub coverage_80: Option<f64>,
    pub coverage_95: Option<f64>,
    pub mase_seasonal_naive: Option<f64>,
}

impl From<&Accuracy> for HorizonRecord {
    fn from(a: &Accuracy) -> Self {
        let round = |v: Option<f64>| v.filter(|v| v.is_finite()).map(|v| (v * 1e4).round() / 1e4);
        Self {
            horizon: a.horizon,
            origins: a.origins,
            mase: round(a.mase),
            smape: round(a.smape),
            bias: round(a.bias),
            coverage_80: round(a.coverage_80),
            coverage_95: round(a.coverage_95),
            mase_seasonal_naive: round(a.mase_seasonal_naive),
        }
    }
}

/// A candidate method's selection score (mean MASE over the backtest's horizons).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRecord {
    pub model: String,
    pub score: Option<f64>,
}

/// What the job records about a series: how much history it had, why there is no
/// forecast (when there is none), and the chosen model's backtest next to the others'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyRecord {
    pub history_days: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default)]
    pub backtest: Vec<HorizonRecord>,
    #[serde(default)]
    pub candidates: Vec<CandidateRecord>,
    /// How much the model's own 80 % and 95 % intervals were scaled to match the
    /// backtest's errors (1: as the model gave them).
    #[serde(default = "one")]
    pub interval_scale_80: f64,
    #[serde(default = "one")]
    pub interval_scale_95: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for AccuracyRecord {
    fn default() -> Self {
        Self {
            history_days: 0,
            reason: None,
            backtest: Vec::new(),
            candidates: Vec::new(),
            interval_scale_80: 1.0,
            interval_scale_95: 1.0,
        }
    }
}

/// The stored name of "no forecast" (with its reason in the record).
pub const NO_MODEL: &str = "none";

impl AccuracyRecord {
    pub fn of(fitted: &Fitted, history_days: usize) -> Self {
        Self {
            history_days,
            reason: None,
            backtest: fitted.accuracy.iter().map(HorizonRecord::from).collect(),
            candidates: fitted
                .candidates
                .iter()
                .map(|(kind, score)| CandidateRecord {
                    model: kind.name().to_owned(),
                    score: score
                        .filter(|s| s.is_finite())
                        .map(|s| (s * 1e4).round() / 1e4),
                })
                .collect(),
            interval_scale_80: (fitted.interval_scales.s80 * 1e4).round() / 1e4,
            interval_scale_95: (fitted.interval_scales.s95 * 1e4).round() / 1e4,
        }
    }

    pub fn none(history_days: usize, reason: String) -> Self {
        Self {
            history_days,
            reason: Some(reason),
            ..Self::default()
        }
    }

    /// The backtest for a forecast `horizon` days ahead: the shortest tested horizon
    /// that covers it, else the longest tested.
    pub fn at(&self, horizon: u32) -> Option<&HorizonRecord> {
        self.backtest
            .iter()
            .filter(|h| h.horizon >= horizon)
            .min_by_key(|h| h.horizon)
            .or_else(|| self.backtest.iter().max_by_key(|h| h.horizon))
    }
}

/// How much wider than its stated interval a forecast's error really is, from the
/// backtest: the ratio of the normal quantile its 80 % interval claims (1.2816) to the
/// quantile its observed coverage implies. Above 1 when the backtest's actuals fell
/// outside the 80 % interval more often than one day in five; bounded to [0.5, 4].
pub fn interval_inflation(coverage_80: Option<f64>) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    let Some(c) = coverage_80.filter(|c| c.is_finite()) else {
        return 1.0;
    };
    let c = c.clamp(0.05, 0.995);
    let z = Normal::standard().inverse_cdf(0.5 + c / 2.0);
    (1.281_551_565_5 / z).clamp(0.5, 4.0)
}

/// One partner's raw facts over the flags' window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub partner_id: String,
    pub clicks: i64,
    pub bot_clicks: i64,
    pub unique_visitors: i64,
    pub top_visitor_clicks: i64,
    pub conversions: i64,
    pub fast_conversions: i64,
    pub sales: i64,
    pub repeat_orders: i64,
}

/// The flags' input for one program-day: every partner with facts in the window or
/// clicks in the trailing days (a partner whose traffic stopped has no facts, and is
/// exactly who a drop is about), each with its daily clicks (oldest first, ending on
/// `day`, from its first active day: the days before a partner started are not a quiet
/// baseline, and a new partner's first week is not a spike) and, where the partner's
/// clicks were forecast, that day's 95 % interval.
pub fn program_day(
    program_id: &str,
    day: NaiveDate,
    facts: Vec<Facts>,
    mut daily: HashMap<String, Vec<f64>>,
    intervals: HashMap<String, Interval>,
) -> ProgramDay {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    for values in daily.values_mut() {
        let first = values
            .iter()
            .position(|v| *v != 0.0)
            .unwrap_or(values.len());
        values.drain(..first);
    }
    let mut partners: Vec<PartnerWindow> = facts
        .into_iter()
        .map(|f| PartnerWindow {
            daily: daily.remove(&f.partner_id).unwrap_or_default(),
            partner_id: f.partner_id,
            clicks: u(f.clicks),
            bot_clicks: u(f.bot_clicks),
            unique_visitors: u(f.unique_visitors),
            top_visitor_clicks: u(f.top_visitor_clicks),
            conversions: u(f.conversions),
            fast_conversions: u(f.fast_conversions),
            sales: u(f.sales),
            repeat_orders: u(f.repeat_orders),
        })
        .collect();
    let mut quiet: Vec<(String, Vec<f64>)> = daily.into_iter().collect();
    quiet.sort_by(|a, b| a.0.cmp(&b.0));
    partners.extend(quiet.into_iter().map(|(partner_id, daily)| PartnerWindow {
        partner_id,
        daily,
        ..PartnerWindow::default()
    }));
    partners.sort_by(|a, b| a.partner_id.cmp(&b.partner_id));
    ProgramDay {
        program_id: program_id.to_owned(),
        day,
        partners,
        intervals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_steady_partners_with_eight_weeks_get_a_forecast() {
        let steady = vec![3.0; 60];
        assert!(partner_qualifies(&steady));
        let young: Vec<f64> = [vec![0.0; 10], vec![3.0; 50]].concat();
        assert!(
            !partner_qualifies(&young),
            "50 days since the first activity"
        );
        let sparse: Vec<f64> = (0..120)
            .map(|i| if i % 3 == 0 { 1.0 } else { 0.0 })
            .collect();
        assert!(!partner_qualifies(&sparse), "active one day in three");
        assert!(!partner_qualifies(&[]));
        assert!(!partner_qualifies(&[0.0; 90]));
    }

    #[test]
    fn the_backtest_for_a_horizon_is_the_shortest_that_covers_it() {
        let h = |horizon| HorizonRecord {
            horizon,
            origins: 1,
            mase: Some(f64::from(horizon)),
            smape: None,
            bias: None,
            coverage_80: None,
            coverage_95: None,
            mase_seasonal_naive: None,
        };
        let record = AccuracyRecord {
            backtest: vec![h(7), h(28)],
            ..AccuracyRecord::default()
        };
        assert_eq!(record.at(7).unwrap().horizon, 7);
        assert_eq!(record.at(8).unwrap().horizon, 28);
        assert_eq!(record.at(60).unwrap().horizon, 28, "the longest tested");
        assert!(AccuracyRecord::default().at(7).is_none());
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            serde_json::from_str::<AccuracyRecord>(&json).unwrap(),
            record
        );
    }

    #[test]
    fn intervals_that_covered_too_little_are_widened() {
        assert!((interval_inflation(Some(0.8)) - 1.0).abs() < 1e-6);
        let too_narrow = interval_inflation(Some(0.5));
        assert!(too_narrow > 1.8 && too_narrow < 1.95, "{too_narrow}");
        assert!(interval_inflation(Some(0.95)) < 1.0);
        assert_eq!(interval_inflation(None), 1.0);
        assert_eq!(interval_inflation(Some(0.0)), 4.0, "bounded");
    }

    #[test]
    fn quiet_partners_are_judged_too() {
        let facts = vec![Facts {
            partner_id: "b".into(),
            clicks: 10,
            ..Facts::default()
        }];
        let daily = HashMap::from([
            ("b".to_owned(), vec![0.0, 0.0, 1.0, 2.0]),
            ("a".to_owned(), vec![40.0, 0.0]),
        ]);
        let day = program_day(
            "p",
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            facts,
            daily,
            HashMap::new(),
        );
        let ids: Vec<&str> = day.partners.iter().map(|p| p.partner_id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(day.partners[1].clicks, 10);
        assert_eq!(
            day.partners[1].daily,
            vec![1.0, 2.0],
            "from its first active day"
        );
        assert_eq!(day.partners[0].daily, vec![40.0, 0.0]);
    }

    #[test]
    fn the_busiest_steady_partners_are_forecast_first() {
        let steady: Vec<Vec<f64>> = (0..40).map(|i| vec![f64::from(i) + 1.0; 60]).collect();
        let names: Vec<String> = (0..40).map(|i| format!("p{i:02}")).collect();
        let sparse = vec![0.0; 60];
        let mut series: Vec<(&str, &[f64])> = names
            .iter()
            .zip(&steady)
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        series.push(("quiet", &sparse));
        let chosen = partners_to_forecast(&series);
        assert_eq!(chosen.len(), PARTNER_FORECASTS_PER_METRIC);
        assert_eq!(chosen[0], "p39");
        assert!(!chosen.contains(&"quiet") && !chosen.contains(&"p00"));
    }
}
