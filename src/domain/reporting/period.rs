//! Report time: a report's local days as whole UTC hours (rollups are hourly), for any
//! IANA time zone whose offsets in the range are whole hours, across DST changes; and
//! the weeks and months rows are grouped by.

use chrono::{Datelike, Duration, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::domain::Invalid;

/// The longest range a report covers, in days.
pub const MAX_DAYS: i64 = 366;
const HOUR_MS: i64 = 3_600_000;

/// The UTC instant (ms) of local midnight starting `day` in `tz` (the first instant of
/// the day where a DST change skips midnight).
pub fn local_midnight(tz: Tz, day: NaiveDate) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..3)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map_or(0, |t| t.timestamp_millis())
}

/// The local day of instant `ms` in `tz`.
pub fn local_day(tz: Tz, ms: i64) -> Option<NaiveDate> {
    tz.timestamp_millis_opt(ms).single().map(|t| t.date_naive())
}

/// A stretch of UTC hours `[from_hour, to_hour)` with one UTC offset (in whole hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetSpan {
    pub from_hour: i64,
    pub to_hour: i64,
    pub offset_hours: i64,
}

/// The UTC hour range of `[from, to)` in `tz`, split where the offset changes. Refused
/// when an offset is not a whole number of hours: hourly rollups cannot be exact there.
pub fn offset_spans(tz: Tz, from: NaiveDate, to: NaiveDate) -> Result<Vec<OffsetSpan>, Invalid> {
    let start = local_midnight(tz, from);
    let end = local_midnight(tz, to);
    let offset_at = |hour: i64| -> Result<i64, Invalid> {
        let seconds = tz
            .timestamp_millis_opt(hour * HOUR_MS)
            .single()
            .map_or(0, |t| i64::from(t.offset().fix().local_minus_utc()));
        if seconds % 3600 != 0 {
            return Err(Invalid::new(
                "timezone",
                "unsupported_timezone",
                format!(
                    "{} is {}:{:02} from UTC; reports support time zones whose offsets are whole hours",
                    tz.name(),
                    seconds / 3600,
                    (seconds % 3600).abs() / 60
                ),
            ));
        }
        Ok(seconds / 3600)
    };
    let (first, last) = (start / HOUR_MS, end / HOUR_MS);
    let mut spans: Vec<OffsetSpan> = Vec::new();
    for hour in first..last {
        let offset = offset_at(hour)?;
        match spans.last_mut() {
            Some(span) if span.offset_hours == offset => span.to_hour = hour + 1,
            _ => spans.push(OffsetSpan {
                from_hour: hour,
                to_hour: hour + 1,
                offset_hours: offset,
            }),
        }
    }
    Ok(spans)
}

/// The median of `ms` in hours (the mean of the middle two for an even count), exact.
pub fn median_hours(ms: &mut [i64]) -> Option<Decimal> {
    if ms.is_empty() {
        return None;
    }
    ms.sort_unstable();
    let mid = ms.len() / 2;
    let twice = if ms.len() % 2 == 1 {
        2 * i128::from(ms[mid])
    } else {
        i128::from(ms[mid - 1]) + i128::from(ms[mid])
    };
    Some(Decimal::from_i128_with_scale(twice, 0) / Decimal::from(2 * HOUR_MS))
}

/// The day of local day index `n` (days since 1970-01-01).
pub fn day_of_index(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + Duration::days(n)
}

/// The day index (days since 1970-01-01) of `day`.
pub fn index_of_day(day: NaiveDate) -> i64 {
    (day - day_of_index(0)).num_days()
}

/// The Monday of the ISO week of `day`.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// The first day of the month of `day`.
pub fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// `YYYY-MM` of `day`.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// The first day of the month after `day`'s.
pub fn next_month(day: NaiveDate) -> NaiveDate {
    let first = month_start(day);
    first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn new_york_dst_days_have_23_and_25_hours() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let spring = offset_spans(ny, d("2026-03-08"), d("2026-03-09")).unwrap();
        assert_eq!(
            spring.iter().map(|s| s.to_hour - s.from_hour).sum::<i64>(),
            23
        );
        assert_eq!(
            spring.iter().map(|s| s.offset_hours).collect::<Vec<_>>(),
            vec![-5, -4]
        );
        let autumn = offset_spans(ny, d("2026-11-01"), d("2026-11-02")).unwrap();
        assert_eq!(
            autumn.iter().map(|s| s.to_hour - s.from_hour).sum::<i64>(),
            25
        );
        // Every hour of the day maps to local day 2026-11-01.
        for span in autumn {
            for hour in span.from_hour..span.to_hour {
                assert_eq!(
                    day_of_index((hour + span.offset_hours).div_euclid(24)),
                    d("2026-11-01")
                );
            }
        }
    }

    #[test]
    fn half_hour_zones_are_refused() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(
            offset_spans(kolkata, d("2026-11-01"), d("2026-11-02"))
                .unwrap_err()
                .code,
            "unsupported_timezone"
        );
    }

    #[test]
    fn weeks_start_on_monday_and_months_are_year_month() {
        assert_eq!(week_of(d("2026-11-22")), d("2026-11-16"));
        assert_eq!(week_of(d("2026-11-16")), d("2026-11-16"));
        assert_eq!(month_of(d("2026-11-22")), "2026-11");
        assert_eq!(month_start(d("2026-11-22")), d("2026-11-01"));
        assert_eq!(next_month(d("2026-12-22")), d("2027-01-01"));
        assert_eq!(day_of_index(0), d("1970-01-01"));
        assert_eq!(index_of_day(d("1970-01-11")), 10);
    }

    #[test]
    fn medians_are_exact_hours() {
        assert_eq!(median_hours(&mut []), None);
        assert_eq!(
            median_hours(&mut [3 * HOUR_MS, HOUR_MS, 2 * HOUR_MS]),
            Some(Decimal::from(2))
        );
        assert_eq!(
            median_hours(&mut [HOUR_MS, 2 * HOUR_MS]),
            Some(Decimal::new(15, 1))
        );
    }
}
