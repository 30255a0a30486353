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
