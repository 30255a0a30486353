//! SMART goals: a target for one KPI over a stretch of days (`start` to `deadline`, both
//! included), in a scope (a program, one partner or one segment of it), tracked against
//! the actuals with a seasonal pace, a projection and the odds of meeting it.
//!
//! A target is reached when the KPI is at least the target. For a sum (clicks, sales,
//! revenue, new customers…) the actual grows day by day: the pace expects each day's
//! share of the target by the weekday profile of the history (not a straight line), the
//! projection adds the forecast of the days left, and the probability treats the sum of
//! those days as normal around the forecast, with a spread from its intervals. For a
//! ratio or a money-per-unit KPI (CR, EPC, ROI…) there is no sum to project: the actual
//! is compared with the target as it stands, and no probability is given.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use statrs::distribution::{ContinuousCDF, Normal};

use super::money::parse_amount;
use super::partners::Segment;
use super::reporting::{Metric, MetricKind};
use super::time::parse_date;
use super::Invalid;

/// The longest goal, in days.
pub const MAX_GOAL_DAYS: i64 = 366 * 2;
/// The longest baseline period, in days (a report's longest range).
pub const MAX_BASELINE_DAYS: i64 = 366;

/// What a goal aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Absolute(Decimal),
    /// A change in percent against the baseline period's value (`-10` is a tenth less).
    Change(Decimal),
}

/// A goal as asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalSpec {
    pub metric: Metric,
    pub target: Target,
    /// `[from, to]`, both days included: the period a change is measured against.
    pub baseline: Option<(NaiveDate, NaiveDate)>,
    pub start: NaiveDate,
    pub deadline: NaiveDate,
    pub partner_id: Option<String>,
    pub segment: Option<Segment>,
}

/// The goal's fields as given, unvalidated (the API's body, or a stored row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoalFields {
    pub metric: Option<String>,
    pub target: Option<String>,
    pub target_change_percent: Option<String>,
    pub baseline_from: Option<String>,
    pub baseline_to: Option<String>,
    pub start: Option<String>,
    pub deadline: Option<String>,
    pub partner_id: Option<String>,
    pub segment: Option<String>,
}

fn day(field: &'static str, raw: Option<&str>) -> Result<Option<NaiveDate>, Invalid> {
    raw.map(|r| {
        parse_date(r).ok_or_else(|| {
            Invalid::new(
                field,
                "invalid_date",
                format!("{field} must be a date YYYY-MM-DD"),
            )
        })
    })
    .transpose()
}

fn required<T>(field: &'static str, value: Option<T>) -> Result<T, Invalid> {
    value.ok_or_else(|| Invalid::new(field, "missing_field", format!("{field} is required")))
}

fn percent(raw: &str) -> Result<Decimal, Invalid> {
    let bad = || {
        Invalid::new(
            "target_change_percent",
            "invalid_amount",
            "target_change_percent is a number like 20 or -12.5 (percent)",
        )
    };
    let (negative, digits) = raw.strip_prefix('-').map_or((false, raw), |d| (true, d));
    let whole = digits.split_once('.').map_or(digits, |(whole, _)| whole);
    if whole.len() > 5 {
        return Err(bad());
    }
    let magnitude = parse_amount("target_change_percent", digits, 2).map_err(|_| bad())?;
    if magnitude > Decimal::from(10_000) || (negative && magnitude >= Decimal::ONE_HUNDRED) {
        return Err(Invalid::new(
            "target_change_percent",
            "out_of_range",
            "a change is more than -100 % and at most +10,000 %",
        ));
    }
    Ok(if negative { -magnitude } else { magnitude })
}

impl GoalSpec {
    pub fn parse(f: &GoalFields) -> Result<Self, Invalid> {
        let name = required("metric", f.metric.as_deref())?;
        let metric = Metric::parse(name).ok_or_else(|| {
            Invalid::new(
                "metric",
                "unknown_metric",
                format!("'{name}' is not a metric of kpis.md"),
            )
        })?;
        let target = match (f.target.as_deref(), f.target_change_percent.as_deref()) {
            (Some(raw), None) => Target::Absolute(parse_amount("target", raw, 6)?),
            (None, Some(raw)) => Target::Change(percent(raw)?),
            (Some(_), Some(_)) => {
                return Err(Invalid::new(
                    "target_change_percent",
                    "conflicting_values",
                    "give a target or a target_change_percent, not both",
                ))
            }
            (None, None) => {
                return Err(Invalid::new(
                    "target",
                    "missing_field",
                    "give a target (an absolute value) or a target_change_percent",
                ))
            }
        };
        let start = required("start", day("start", f.start.as_deref())?)?;
        let deadline = required("deadline", day("deadline", f.deadline.as_deref())?)?;
        if deadline < start || (deadline - start).num_days() >= MAX_GOAL_DAYS {
            return Err(Invalid::new(
                "deadline",
                "invalid_value",
                format!(
                    "the deadline is on or after the start, at most {MAX_GOAL_DAYS} days later"
                ),
            ));
        }
        let from = day("baseline_from", f.baseline_from.as_deref())?;
        let to = day("baseline_to", f.baseline_to.as_deref())?;
        let baseline =
            match (target, from, to) {
                (Target::Change(_), Some(from), Some(to))
                    if from <= to && (to - from).num_days() < MAX_BASELINE_DAYS =>
                {
                    Some((from, to))
                }
                (Target::Change(_), Some(_), Some(_)) => {
                    return Err(Invalid::new(
                        "baseline_to",
                        "invalid_value",
                        format!(
                            "baseline_to is on or after baseline_from, \
                             at most {MAX_BASELINE_DAYS} days in all"
                        ),
                    ))
                }
                (Target::Change(_), _, _) => return Err(Invalid::new(
                    "baseline_from",
                    "missing_field",
                    "a change is measured against a baseline: give baseline_from and baseline_to",
                )),
                (Target::Absolute(_), None, None) => None,
                (Target::Absolute(_), _, _) => {
                    return Err(Invalid::new(
                        "baseline_from",
                        "conflicting_values",
                        "a baseline goes with target_change_percent only",
                    ))
                }
            };
        if f.partner_id.is_some() && f.segment.is_some() {
            return Err(Invalid::new(
                "segment",
                "conflicting_values",
                "a goal is for one partner or one segment, not both",
            ));
        }
        Ok(Self {
            metric,
            target,
            baseline,
            start,
            deadline,
            partner_id: f.partner_id.clone(),
            segment: f.segment.as_deref().map(Segment::parse).transpose()?,
        })
    }

    /// Whether the metric is a sum that grows day by day (it can be paced and projected).
    ///
    /// The partner-network counts are not: a partner active on Monday and on Tuesday is one
    /// active partner of the two days, so they are compared as they stand, like ratios.
    pub fn additive(&self) -> bool {
        matches!(self.metric.kind(), MetricKind::Count | MetricKind::Money)
            && !matches!(
                self.metric,
                Metric::PartnersTotal | Metric::ActivePartners | Metric::SellingPartners
            )
    }

    /// The target value, given the baseline period's value when the target is a change.
    pub fn target_value(&self, baseline_value: Option<f64>) -> Option<f64> {
        match self.target {
            Target::Absolute(value) => value.to_f64(),
            Target::Change(percent) => {
                let factor = 1.0 + percent.to_f64()? / 100.0;
                let baseline = baseline_value?;
                // A sum over a baseline of another length is scaled to the goal's length.
                let scale = match (self.additive(), self.baseline) {
                    (true, Some((from, to))) => {
                        self.days() as f64 / ((to - from).num_days() + 1) as f64
                    }
                    _ => 1.0,
                };
                Some(baseline * scale * factor)
            }
        }
    }

    /// Days the goal runs, both ends included.
    pub fn days(&self) -> i64 {
        (self.deadline - self.start).num_days() + 1
    }
}

/// Where a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    OnTrack,
    AtRisk,
    OffTrack,
    Achieved,
    Missed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
            Status::Achieved => "achieved",
            Status::Missed => "missed",
        }
    }
}

/// One day still to come: the forecast's mean and standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayOutlook {
    pub mean: f64,
    pub sd: f64,
}

impl DayOutlook {
    /// From a forecast's point and 95 % interval.
    pub fn from_interval(value: f64, lower_95: f64, upper_95: f64) -> Self {
        Self {
            mean: value.max(0.0),
            sd: ((upper_95 - lower_95) / (2.0 * 1.96)).max(0.0),
        }
    }
}

/// What the service knows when it asks how a goal stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// The current local day.
    pub today: NaiveDate,
    pub target: f64,
    /// The KPI from the start through today (through the deadline once it has passed).
    pub actual: f64,
    /// The history's share of a week's volume per weekday, Monday first (uniform when the
    /// history is too short to say).
    pub weekday_weights: [f64; 7],
    /// The forecast of every day after today up to the deadline, in order.
    pub remaining: Vec<DayOutlook>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub actual: f64,
    pub expected_to_date: Option<f64>,
    pub projected: Option<f64>,
    pub probability: Option<f64>,
    pub status: Status,
}

fn weight(weights: &[f64; 7], day: NaiveDate) -> f64 {
    weights[day.weekday().num_days_from_monday() as usize]
}

/// How a goal stands.
pub fn progress(spec: &GoalSpec, s: &Standing) -> Progress {
    let over = s.today > spec.deadline;
    let met = s.actual >= s.target;
    if !spec.additive() {
        let status = match (over, met) {
            (true, true) => Status::Achieved,
            (true, false) => Status::Missed,
            (false, true) => Status::OnTrack,
            (false, false) if s.actual >= 0.9 * s.target => Status::AtRisk,
            (false, false) => Status::OffTrack,
        };
        return Progress {
            actual: s.actual,
            expected_to_date: None,
            projected: None,
            probability: None,
            status,
        };
    }
    let through = s.today.min(spec.deadline);
    let sum = |from: NaiveDate, to: NaiveDate| -> f64 {
        from.iter_days()
            .take_while(|d| *d <= to)
            .map(|d| weight(&s.weekday_weights, d))
            .sum()
    };
    let whole = sum(spec.start, spec.deadline);
    let elapsed = if through < spec.start {
        0.0
    } else {
        sum(spec.start, through)
    };
    let expected = if whole > 0.0 {
        s.target * elapsed / whole
    } else {
        0.0
    };
    let mean: f64 = s.remaining.iter().map(|d| d.mean).sum();
    let projected = s.actual + mean;
    // Daily forecast errors are positively correlated (a shift in level persists): the
    // spread of their sum lies between the independent (root of summed variances) and
    // the fully correlated (sum of deviations) cases; take the middle.
    let independent = s.remaining.iter().map(|d| d.sd * d.sd).sum::<f64>().sqrt();
    let correlated: f64 = s.remaining.iter().map(|d| d.sd).sum();
    let sd = (independent + correlated) / 2.0;
    let needed = s.target - s.actual;
    let probability = if met {
        1.0
    } else if over || s.remaining.is_empty() {
        0.0
    } else if sd <= f64::EPSILON {
        if mean >= needed {
            1.0
        } else {
            0.0
        }
    } else {
        Normal::new(mean, sd).map_or(0.0, |n| 1.0 - n.cdf(needed))
    };
    let status = match (over || met, met) {
        (true, true) => Status::Achieved,
        (true, false) => Status::Missed,
        _ if probability >= 0.7 => Status::OnTrack,
        _ if probability >= 0.3 => Status::AtRisk,
        _ => Status::OffTrack,
    };
    Progress {
        actual: s.actual,
        expected_to_date: Some(expected),
        projected: Some(projected),
        probability: Some(probability),
        status,
    }
}

/// The weekday profile of a daily series that ends on `last`: each weekday's mean over
/// the series, normalised to sum to 7 (uniform when the series is shorter than two weeks
/// or empty).
pub fn weekday_weights(values: &[f64], last: NaiveDate) -> [f64; 7] {
    let uniform = [1.0; 7];
    if values.len() < 14 {
        return uniform;
    }
    let mut sums = [0.0; 7];
    let mut counts = [0.0; 7];
    let first = last - Duration::days(values.len() as i64 - 1);
    for (i, value) in values.iter().enumerate() {
        let weekday = (first + Duration::days(i as i64))
            .weekday()
            .num_days_from_monday() as usize;
        sums[weekday] += value.max(0.0);
        counts[weekday] += 1.0;
    }
    let means: Vec<f64> = sums
        .iter()
        .zip(counts)
        .map(|(s, c)| if c > 0.0 { s / c } else { 0.0 })
        .collect();
    let total: f64 = means.iter().sum();
    if total <= 0.0 {
        return uniform;
    }
    let mut weights = [0.0; 7];
    for (w, m) in weights.iter_mut().zip(means) {
        *w = 7.0 * m / total;
    }
    weights
}

/// The days after `last` that a stored forecast does not cover, forecast the simple way:
/// each weekday's mean over the last four weeks of `history` (which ends on `last`), with
/// the spread of that weekday's values around it.
pub fn weekday_outlook(history: &[f64], last: NaiveDate, days: &[NaiveDate]) -> Vec<DayOutlook> {
    let recent = &history[history.len().saturating_sub(28)..];
    let first = last - Duration::days(recent.len() as i64 - 1);
    let mut by_weekday: [Vec<f64>; 7] = Default::default();
    for (i, value) in recent.iter().enumerate() {
        let weekday = (first + Duration::days(i as i64))
            .weekday()
            .num_days_from_monday() as usize;
        by_weekday[weekday].push(value.max(0.0));
    }
    let overall = if recent.is_empty() {
        0.0
    } else {
        recent.iter().sum::<f64>() / recent.len() as f64
    };
    days.iter()
        .map(|day| {
            let values = &by_weekday[day.weekday().num_days_from_monday() as usize];
            if values.is_empty() {
                return DayOutlook {
                    mean: overall,
                    sd: overall.sqrt(),
                };
            }
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            // Counts vary at least as a Poisson count would.
            DayOutlook {
                mean,
                sd: var.max(mean).sqrt(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn fields(metric: &str, target: &str) -> GoalFields {
        GoalFields {
            metric: Some(metric.into()),
            target: Some(target.into()),
            start: Some("2026-11-01".into()),
            deadline: Some("2026-11-30".into()),
            ..GoalFields::default()
        }
    }

    #[test]
    fn goals_are_checked_field_by_field() {
        assert!(GoalSpec::parse(&fields("sales", "100")).is_ok());
        let err = |f: GoalFields| GoalSpec::parse(&f).unwrap_err().field;
        assert_eq!(err(fields("hits", "1")), "metric");
        assert_eq!(
            err(GoalFields {
                target: None,
                ..fields("sales", "1")
            }),
            "target"
        );
        let change = GoalFields {
            target: None,
            target_change_percent: Some("20".into()),
            ..fields("sales", "1")
        };
        assert_eq!(err(change.clone()), "baseline_from");
        let with_baseline = GoalFields {
            baseline_from: Some("2026-10-01".into()),
            baseline_to: Some("2026-10-31".into()),
            ..change
        };
        assert_eq!(
            GoalSpec::parse(&with_baseline).unwrap().target,
            Target::Change(20.into())
        );
        assert_eq!(
            err(GoalFields {
                deadline: Some("2026-10-01".into()),
                ..fields("sales", "1")
            }),
            "deadline"
        );
        assert_eq!(
            err(GoalFields {
                partner_id: Some("p".into()),
                segment: Some("blogger".into()),
                ..fields("sales", "1")
            }),
            "segment"
        );
        assert_eq!(
            err(GoalFields {
                target: None,
                target_change_percent: Some("-100".into()),
                baseline_from: Some("2026-10-01".into()),
                baseline_to: Some("2026-10-31".into()),
                ..fields("sales", "1")
            }),
            "target_change_percent"
        );
    }

    #[test]
    fn a_change_target_scales_a_sum_to_the_goals_length() {
        let spec = GoalSpec::parse(&GoalFields {
            target: None,
            target_change_percent: Some("10".into()),
            baseline_from: Some("2026-10-01".into()),
            baseline_to: Some("2026-10-15".into()),
            ..fields("sales", "1")
        })
        .unwrap();
        // 15 baseline days with 150 sales → 300 for 30 days, +10 %.
        assert!((spec.target_value(Some(150.0)).unwrap() - 330.0).abs() < 1e-9);
        let cr = GoalSpec {
            metric: Metric::CrClickToSale,
            ..spec
        };
        assert!((cr.target_value(Some(0.02)).unwrap() - 0.022).abs() < 1e-12);
    }

    fn standing(today: &str, actual: f64, remaining: Vec<DayOutlook>) -> Standing {
        Standing {
            today: d(today),
            target: 300.0,
            actual,
            weekday_weights: [1.0; 7],
            remaining,
        }
    }

    #[test]
    fn pace_projection_and_odds_follow_the_forecast() {
        let spec = GoalSpec::parse(&fields("sales", "300")).unwrap();
        let days = |n, mean, sd| vec![DayOutlook { mean, sd }; n];
        // 10 of 30 days gone with 100 sales, 20 days of 10 ± 3 to come: projected 300.
        let even = progress(&spec, &standing("2026-11-10", 100.0, days(20, 10.0, 3.0)));
        assert!((even.expected_to_date.unwrap() - 100.0).abs() < 1e-9);
        assert!((even.projected.unwrap() - 300.0).abs() < 1e-9);
        assert!((even.probability.unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(even.status, Status::AtRisk);
        let ahead = progress(&spec, &standing("2026-11-10", 160.0, days(20, 10.0, 3.0)));
        assert!(ahead.probability.unwrap() > 0.9);
        assert_eq!(ahead.status, Status::OnTrack);
        let behind = progress(&spec, &standing("2026-11-10", 40.0, days(20, 10.0, 3.0)));
        assert!(behind.probability.unwrap() < 0.1);
        assert_eq!(behind.status, Status::OffTrack);
        assert_eq!(
            progress(&spec, &standing("2026-11-20", 301.0, vec![])).status,
            Status::Achieved
        );
        assert_eq!(
            progress(&spec, &standing("2026-12-01", 250.0, vec![])).status,
            Status::Missed
        );
    }

    #[test]
    fn the_pace_follows_the_weekday_profile() {
        let spec = GoalSpec::parse(&fields("sales", "300")).unwrap();
        // Weekends carry nothing: by Sunday 2026-11-01 (the start) nothing is expected.
        let weekdays_only = [1.4, 1.4, 1.4, 1.4, 1.4, 0.0, 0.0];
        let s = Standing {
            weekday_weights: weekdays_only,
            ..standing("2026-11-01", 0.0, vec![])
        };
        assert_eq!(progress(&spec, &s).expected_to_date, Some(0.0));
        let values: Vec<f64> = (0..28)
            .map(|i| if i % 7 < 5 { 10.0 } else { 0.0 })
            .collect();
        // 28 days ending on a Sunday start on a Monday: weekdays 10, weekends 0.
        let w = weekday_weights(&values, d("2026-11-29"));
        assert!((w[0] - 1.4).abs() < 1e-9 && w[6].abs() < 1e-9);
        assert_eq!(weekday_weights(&[1.0; 5], d("2026-11-29")), [1.0; 7]);
    }

    #[test]
    fn days_without_a_forecast_follow_their_weekday() {
        let history: Vec<f64> = (0..28)
            .map(|i| if i % 7 < 5 { 10.0 } else { 2.0 })
            .collect();
        let out = weekday_outlook(
            &history,
            d("2026-11-29"),
            &[d("2026-11-30"), d("2026-12-05")],
        );
        assert_eq!((out[0].mean, out[1].mean), (10.0, 2.0));
        assert!(out[0].sd > 0.0, "never tighter than a Poisson count");
        assert!(weekday_outlook(&[], d("2026-11-29"), &[d("2026-11-30")])[0].mean == 0.0);
    }

    #[test]
    fn ratios_are_compared_as_they_stand() {
        let spec = GoalSpec::parse(&fields("cr_click_to_sale", "0.05")).unwrap();
        let s = Standing {
            target: 0.05,
            ..standing("2026-11-10", 0.047, vec![])
        };
        let p = progress(&spec, &s);
        assert_eq!(
            (p.status, p.probability, p.projected),
            (Status::AtRisk, None, None)
        );
    }

    #[test]
    fn network_counts_are_not_summed_over_days() {
        let active = GoalSpec::parse(&fields("active_partners", "40")).unwrap();
        assert!(!active.additive(), "one partner active on two days is one");
        assert!(GoalSpec::parse(&fields("new_customers", "40"))
            .unwrap()
            .additive());
        assert!(GoalSpec::parse(&fields("revenue", "40"))
            .unwrap()
            .additive());
    }

    #[test]
    fn a_change_is_more_than_minus_100_and_at_most_10000_percent() {
        let change = |raw: &str| {
            GoalSpec::parse(&GoalFields {
                target: None,
                target_change_percent: Some(raw.into()),
                baseline_from: Some("2026-01-01".into()),
                baseline_to: Some("2026-01-31".into()),
                ..fields("sales", "1")
            })
            .map(|g| g.target)
            .map_err(|e| e.code)
        };
        let pct = |s: &str| Ok(Target::Change(s.parse().unwrap()));
        assert_eq!(change("-99.99"), pct("-99.99"));
        assert_eq!(change("00050"), pct("50"));
        assert_eq!(change("10000.00"), pct("10000"));
        assert_eq!(change("-100"), Err("out_of_range"));
        assert_eq!(change("10000.01"), Err("out_of_range"));
        assert_eq!(
            change("000001"),
            Err("invalid_amount"),
            "at most five digits"
        );
        assert_eq!(change("1.005"), Err("invalid_amount"));
        assert_eq!(change("+5"), Err("invalid_amount"));
    }
}
