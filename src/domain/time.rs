//! Time as partnerlens stores it: UTC milliseconds, and UTC calendar days.

use chrono::{DateTime, NaiveDate, Utc};

const DAY_MS: i64 = 86_400_000;

/// The UTC calendar day (`YYYY-MM-DD`) that `ms` falls on.
pub fn utc_day(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// `[start, end)` in UTC milliseconds of the UTC day that `ms` falls on.
pub fn utc_day_bounds(ms: i64) -> (i64, i64) {
    let start = ms.div_euclid(DAY_MS) * DAY_MS;
    (start, start + DAY_MS)
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    if raw.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_calendar_days() {
        // 2026-03-08T23:59:59.999Z and the next millisecond.
        assert_eq!(utc_day(1_773_014_399_999), "2026-03-08");
        assert_eq!(utc_day(1_773_014_400_000), "2026-03-09");
    }

    #[test]
    fn day_bounds_contain_the_instant() {
        let ms = 1_773_014_399_999;
        let (start, end) = utc_day_bounds(ms);
        assert_eq!(end - start, DAY_MS);
        assert!(start <= ms && ms < end);
        assert_eq!(utc_day(start), utc_day(ms));
        assert_ne!(utc_day(end), utc_day(ms));
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("2026-2-3").is_none());
    }
}

/// An instant in UTC milliseconds as RFC 3339 with milliseconds (`2026-11-22T07:00:00.000Z`).
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod rfc3339_tests {
    #[test]
    fn formats_utc_with_millis() {
        assert_eq!(
            super::rfc3339(1_773_014_400_123),
            "2026-03-09T00:00:00.123Z"
        );
    }
}

/// `[start, end)` in UTC milliseconds of the calendar month that `ms` falls in, in the
/// time zone `tz` (an IANA name; unknown names count as UTC).
pub fn month_bounds(ms: i64, tz: &str) -> (i64, i64) {
    use chrono::{Datelike, TimeZone};
    let zone: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    let local = DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&zone);
    let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).unwrap_or_default();
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    // Local midnight; where a DST jump skips it, the first instant of the day.
    let start_of = |day: NaiveDate| {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        zone.from_local_datetime(&midnight)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map_or(0, |t| t.timestamp_millis())
    };
    (start_of(first), start_of(next))
}

#[cfg(test)]
mod month_tests {
    use super::*;

    #[test]
    fn months_follow_the_program_time_zone() {
        // 2026-10-31T23:30:00Z is already November in Berlin (UTC+1).
        let ms = 1_793_489_400_000;
        let (start, end) = month_bounds(ms, "UTC");
        assert_eq!(rfc3339(start), "2026-10-01T00:00:00.000Z");
        assert_eq!(rfc3339(end), "2026-11-01T00:00:00.000Z");
        let (start, end) = month_bounds(ms, "Europe/Berlin");
        assert_eq!(rfc3339(start), "2026-10-31T23:00:00.000Z");
        assert_eq!(rfc3339(end), "2026-11-30T23:00:00.000Z");
        assert!(start <= ms && ms < end);
    }
}
