//! Spikes and drops: is the day's volume (clicks or sales) out of line with what the
//! partner usually does?
//!
//! With a forecast interval for the day (from the forecasting job) the day is compared
//! with it: the interval's midpoint is the expected value and its half-width / 1.96 the
//! standard deviation of the implied normal, floored at the Poisson standard deviation
//! √expected (a forecast cannot be surer than counting noise allows). A flag needs the
//! day outside the interval.
//!
//! Without one, the partner's own trailing days are the baseline, leaving out the last
//! three (so that a change that started yesterday does not hide itself). The expected
//! value is their median; with three weeks or more of history, the median of the same
//! weekday's days, so a quiet Sunday after busy weekdays is not a drop. The spread is
//! the median absolute deviation of each baseline day from the median of the *other*
//! days of its group (× 1.4826, the normal-consistent scale): a prediction error, as the
//! tested day's is, so a weekday median of three or four days is not taken as exact. It
//! is never below the Poisson √expected. Medians are used because a past spike must not
//! distort the baseline. Because that spread is measured from a few weeks of days, the
//! p-value comes from a Student t with the degrees of freedom it rests on (the median
//! absolute deviation of n days is worth about 0.37·n), not from the normal, whose thin
//! tails would turn an unlucky estimate into a flag. Two windows are tested: the day alone (a spike) and the last
//! three days together when all three moved the same way by at least one standard
//! deviation (a change point: a new level rather than one odd day); the better of the
//! two p-values is doubled (Bonferroni) to pay for looking twice.

use serde_json::{json, Value};

use super::rates::median;
use super::settings::Settings;
use super::tails::{normal_two_sided, student_two_sided};
use super::{FlagKind, Interval};

/// The days at the end of the series tested together and kept out of the baseline.
const RECENT: usize = 3;
/// Values beyond this (or negative, or not finite) are treated as missing days.
const MAX_VALUE: f64 = 1e15;
/// The 97.5 % standard normal quantile: a 95 % interval is ±1.96 σ.
const Z95: f64 = 1.959_963_984_540_054;
/// The normal-consistent scale of the median absolute deviation.
const MAD_SCALE: f64 = 1.4826;
/// The efficiency of the median absolute deviation at the normal: a spread measured by
/// it from n days is worth about 0.37·n days of a standard deviation's.
const MAD_EFFICIENCY: f64 = 0.37;
/// Each weekday needs this many baseline days to get its own factor.
const MIN_WEEKDAY_DAYS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VolumeTest {
    pub kind: FlagKind,
    pub p_value: f64,
    pub floor_met: bool,
    /// The effect over its floor (≥ 1 when the floor is met).
    pub strength: f64,
    pub evidence: Value,
}

/// Tests the last value of `daily` (oldest first); `None` without enough usable days,
/// or when the partner had no activity at all.
pub(crate) fn test(
    daily: &[f64],
    interval: Option<Interval>,
    settings: &Settings,
) -> Option<VolumeTest> {
    let days: Vec<Option<f64>> = daily
        .iter()
        .map(|&v| (v.is_finite() && (0.0..=MAX_VALUE).contains(&v)).then_some(v))
        .collect();
    let value = (*days.last()?)?;
    if days.iter().flatten().all(|&v| v == 0.0) {
        return None;
    }
    match interval.filter(valid) {
        Some(interval) => Some(against_forecast(value, interval, settings)),
        None => against_baseline(&days, settings),
    }
}

fn valid(interval: &Interval) -> bool {
    let Interval { lower_95, upper_95 } = *interval;
    lower_95.is_finite()
        && upper_95.is_finite()
        && lower_95 <= upper_95
        && lower_95.abs() <= MAX_VALUE
        && upper_95.abs() <= MAX_VALUE
}

fn poisson_floor(expected: f64) -> f64 {
    expected.max(1.0).sqrt()
}

fn against_forecast(value: f64, interval: Interval, settings: &Settings) -> VolumeTest {
    let Interval { lower_95, upper_95 } = interval;
    let expected = lower_95 / 2.0 + upper_95 / 2.0;
    let sd = ((upper_95 - lower_95) / (2.0 * Z95)).max(poisson_floor(expected));
    let z = (value - expected) / sd;
    let outside = value < lower_95 || value > upper_95;
    let (kind, floor_met, strength, ratio) = effect(value, expected, settings);
    VolumeTest {
        kind,
        p_value: normal_two_sided(z),
        floor_met: floor_met && outside,
        strength,
        evidence: json!({
            "method": "forecast",
            "value": value,
            "expected": expected,
            "lower_95": lower_95,
            "upper_95": upper_95,
            "z": z,
            "ratio": ratio,
            "window_days": 1,
        }),
    }
}

/// Spike or drop, whether the floor is met, the strength, and the smoothed ratio
/// (value + ½) / (expected + ½), finite even for empty days.
fn effect(value: f64, expected: f64, settings: &Settings) -> (FlagKind, bool, f64, f64) {
    let floor = settings.volume;
    let ratio = (value + 0.5) / (expected.max(0.0) + 0.5);
    let big_enough = (value - expected).abs() >= floor.min_delta;
    if value > expected {
        let strength = ratio / floor.spike_ratio;
        (
            FlagKind::Spike,
            big_enough && ratio >= floor.spike_ratio,
            strength,
            ratio,
        )
    } else {
        let strength = floor.drop_ratio / ratio;
        (
            FlagKind::Drop,
            big_enough && ratio <= floor.drop_ratio,
            strength,
            ratio,
        )
    }
}

fn against_baseline(days: &[Option<f64>], settings: &Settings) -> Option<VolumeTest> {
    let len = days.len();
    if len < RECENT + settings.min_baseline_days.max(1) {
        return None;
    }
    // Position 0 is the evaluated day; the weekday class of position `pos` is pos % 7.
    let class = |index: usize| (len - 1 - index) % 7;
    let baseline: Vec<(usize, f64)> = days[..len - RECENT]
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (class(i), v)))
        .collect();
    if baseline.len() < settings.min_baseline_days.max(1) {
        return None;
    }
    let level = median(baseline.iter().map(|&(_, v)| v).collect());
    let by_weekday: Vec<Vec<f64>> = (0..7)
        .map(|c| {
            sorted(
                baseline
                    .iter()
                    .filter(|&&(k, _)| k == c)
                    .map(|&(_, v)| v)
                    .collect(),
            )
        })
        .collect();
    let weekday_adjusted = level > 0.0 && by_weekday.iter().all(|d| d.len() >= MIN_WEEKDAY_DAYS);
    // The days a weekday's expected value comes from: its own, or all of them.
    let pools: Vec<Vec<f64>> = if weekday_adjusted {
        by_weekday
    } else {
        vec![sorted(baseline.iter().map(|&(_, v)| v).collect())]
    };
    let pool = |c: usize| &pools[if weekday_adjusted { c } else { 0 }];
    let expected_at = |c: usize| median(pool(c).clone());
    // Each baseline day against the median of its pool without it: a prediction error,
    // as the day tested is, so a median of three or four days does not look exact.
    let errors = baseline
        .iter()
        .map(|&(c, v)| {
            let days = pool(c);
            (v - median_without(days, days.partition_point(|x| *x < v))).abs()
        })
        .collect();
    let scale = MAD_SCALE * median(errors);
    // A measured spread is itself uncertain: the day is judged on a Student t with the
    // degrees of freedom the spread rests on, whose tails are honestly heavier.
    let fitted = if weekday_adjusted { 7 } else { 1 };
    let freedom = (MAD_EFFICIENCY * baseline.len().saturating_sub(fitted) as f64).max(2.0);
    let sd_at = |c: usize| scale.max(poisson_floor(expected_at(c)));

    // The day alone.
    let value = days[len - 1]?;
    let (expected, sd) = (expected_at(0), sd_at(0));
    let z_day = (value - expected) / sd;
    let p_day = student_two_sided(z_day, freedom);

    // The last three days together, when they moved the same way.
    let recent: Option<Vec<(f64, f64, f64)>> = (len - RECENT..len)
        .map(|i| days[i].map(|v| (v, expected_at(class(i)), sd_at(class(i)))))
        .collect();
    let shift = recent.and_then(|recent| {
        let zs: Vec<f64> = recent.iter().map(|&(v, e, s)| (v - e) / s).collect();
        let sustained = zs.iter().all(|&z| z >= 1.0) || zs.iter().all(|&z| z <= -1.0);
        sustained.then(|| {
            let value: f64 = recent.iter().map(|r| r.0).sum();
            let expected: f64 = recent.iter().map(|r| r.1).sum();
            let sd = recent.iter().map(|r| r.2 * r.2).sum::<f64>().sqrt();
            let z = (value - expected) / sd;
            (value, expected, z, student_two_sided(z, freedom))
        })
    });

    let (window_days, value, expected, z, best) = match shift {
        Some((v, e, z, p)) if p < p_day => (RECENT, v, e, z, p),
        _ => (1, value, expected, z_day, p_day),
    };
    let (kind, floor_met, strength, ratio) = effect(value, expected, settings);
    Some(VolumeTest {
        kind,
        p_value: (2.0 * best).min(1.0),
        floor_met,
        strength,
        evidence: json!({
            "method": "baseline",
            "value": value,
            "expected": expected,
            "z": z,
            "ratio": ratio,
            "window_days": window_days,
            "baseline_days": baseline.len(),
            "weekday_adjusted": weekday_adjusted,
            "daily_scale": scale,
            "degrees_of_freedom": freedom,
        }),
    })
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// The median of sorted `values` without the one at `rank` (0 when nothing is left).
fn median_without(values: &[f64], rank: usize) -> f64 {
    let left = values.len().saturating_sub(1);
    let at = |j: usize| if j < rank { values[j] } else { values[j + 1] };
    match left {
        0 => 0.0,
        n if n % 2 == 1 => at(n / 2),
        n => at(n / 2 - 1) / 2.0 + at(n / 2) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_without_one_day() {
        let days = [1.0, 2.0, 3.0, 10.0];
        assert_eq!(median_without(&days, 0), 3.0);
        assert_eq!(median_without(&days, 3), 2.0);
        assert_eq!(median_without(&days[..3], 1), 2.0);
        assert_eq!(median_without(&days[..1], 0), 0.0);
    }
}
