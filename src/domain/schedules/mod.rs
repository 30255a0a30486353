//! Report schedules: when a schedule is due (a cadence at a local hour in its time zone),
//! the report period a run covers (relative to the run's local day), the period before it
//! (for the change a summary shows), and the key that makes each run happen once however
//! often or late the cron fires; `spec`: what a schedule asks for.

pub mod spec;

use chrono::{Datelike, Days, Duration, LocalResult, Months, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;

use crate::domain::text::string_enum;
use crate::domain::Invalid;

/// How far back a late cron still finds the schedule's last due moment.
const LOOKBACK_DAYS: u64 = 62;

/// How often a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Daily,
    /// On this weekday.
    Weekly(Weekday),
    /// On this day of the month (1–31; in shorter months, on their last day).
    Monthly(u32),
}

impl Cadence {
    /// Whether the schedule runs on local day `day`.
    pub fn runs_on(self, day: NaiveDate) -> bool {
        match self {
            Cadence::Daily => true,
            Cadence::Weekly(weekday) => day.weekday() == weekday,
            Cadence::Monthly(wanted) => day.day() == wanted.min(days_in_month(day)),
        }
    }

    /// A cadence from its parts as the API takes them: `daily`; `weekly` with `weekday`
    /// (`monday` … `sunday`); `monthly` with `day_of_month` (1–31).
    pub fn parse(
        kind: &str,
        weekday: Option<&str>,
        day_of_month: Option<u32>,
    ) -> Result<Self, Invalid> {
        let unexpected = |field: &'static str| {
            Invalid::new(
                field,
                "unexpected_field",
                format!("{field} does not apply to a {kind} schedule"),
            )
        };
        match kind {
            "daily" => match (weekday, day_of_month) {
                (Some(_), _) => Err(unexpected("weekday")),
                (_, Some(_)) => Err(unexpected("day_of_month")),
                _ => Ok(Cadence::Daily),
            },
            "weekly" => {
                if day_of_month.is_some() {
                    return Err(unexpected("day_of_month"));
                }
                let raw = weekday.ok_or_else(|| {
                    Invalid::new(
                        "weekday",
                        "missing_field",
                        "a weekly schedule needs weekday",
                    )
                })?;
                WeekdayName::parse(raw).map(|w| Cadence::Weekly(w.weekday()))
            }
            "monthly" => {
                if weekday.is_some() {
                    return Err(unexpected("weekday"));
                }
                match day_of_month {
                    Some(day) if (1..=31).contains(&day) => Ok(Cadence::Monthly(day)),
                    Some(_) => Err(Invalid::new(
                        "day_of_month",
                        "out_of_range",
                        "day_of_month is 1 to 31 (in shorter months, their last day)",
                    )),
                    None => Err(Invalid::new(
                        "day_of_month",
                        "missing_field",
                        "a monthly schedule needs day_of_month",
                    )),
                }
            }
            _ => Err(Invalid::new(
                "cadence",
                "invalid_value",
                "cadence must be one of: daily, weekly, monthly",
            )),
        }
    }
}

string_enum!(
    /// A weekday as the API names it.
    WeekdayName, "weekday" {
        Monday = "monday", Tuesday = "tuesday", Wednesday = "wednesday",
        Thursday = "thursday", Friday = "friday", Saturday = "saturday", Sunday = "sunday"
    }
);

impl WeekdayName {
    pub fn weekday(self) -> Weekday {
        match self {
            Self::Monday => Weekday::Mon,
            Self::Tuesday => Weekday::Tue,
            Self::Wednesday => Weekday::Wed,
            Self::Thursday => Weekday::Thu,
            Self::Friday => Weekday::Fri,
            Self::Saturday => Weekday::Sat,
            Self::Sunday => Weekday::Sun,
        }
    }
}

/// The report period of a run, relative to the run's local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelativeRange {
    Yesterday,
    LastWeek,
    LastMonth,
    MonthToDate,
    Last7Days,
    Last30Days,
}

const RANGES: [(RelativeRange, &str); 6] = [
    (RelativeRange::Yesterday, "yesterday"),
    (RelativeRange::LastWeek, "last_week"),
    (RelativeRange::LastMonth, "last_month"),
    (RelativeRange::MonthToDate, "month_to_date"),
    (RelativeRange::Last7Days, "last_7_days"),
    (RelativeRange::Last30Days, "last_30_days"),
];

impl RelativeRange {
    pub fn as_str(self) -> &'static str {
        RANGES
            .iter()
            .find(|(range, _)| *range == self)
            .map_or("yesterday", |(_, name)| name)
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        RANGES
            .iter()
            .find(|(_, name)| *name == raw)
            .map(|(range, _)| *range)
            .ok_or_else(|| {
                let names: Vec<&str> = RANGES.iter().map(|(_, n)| *n).collect();
                Invalid::new(
                    "range",
                    "invalid_value",
                    format!("range must be one of: {}", names.join(", ")),
                )
            })
    }
}

fn days_in_month(day: NaiveDate) -> u32 {
    let first = day.with_day(1).unwrap_or(day);
    let next = first + Months::new(1);
    next.signed_duration_since(first).num_days() as u32
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

impl RelativeRange {
    /// The half-open local-day range `[from, to)` a run on local day `run_day` reports.
    /// Every range ends before `run_day`: a run reports finished days only. Month to date
    /// is the month of yesterday, so a run on the 1st reports the whole month before.
    pub fn of(self, run_day: NaiveDate) -> (NaiveDate, NaiveDate) {
        let back = |n: u64| run_day - Days::new(n);
        match self {
            Self::Yesterday => (back(1), run_day),
            Self::LastWeek => {
                let monday = back(u64::from(run_day.weekday().num_days_from_monday()));
                (monday - Days::new(7), monday)
            }
            Self::LastMonth => {
                let first = first_of_month(run_day);
                (first - Months::new(1), first)
            }
            Self::MonthToDate => (first_of_month(back(1)), run_day),
            Self::Last7Days => (back(7), run_day),
            Self::Last30Days => (back(30), run_day),
        }
    }

    /// The period before `[from, to)` that a summary compares with: the month before for a
    /// calendar month, the same stretch of the month before for month to date, else the
    /// same number of days just before.
    pub fn previous(self, (from, to): (NaiveDate, NaiveDate)) -> (NaiveDate, NaiveDate) {
        match self {
            Self::LastMonth => (from - Months::new(1), from),
            Self::MonthToDate => {
                let start = from - Months::new(1);
                let length = to.signed_duration_since(from).num_days().max(0) as u64;
                // Never past the end of that month (31 days of May against April's 30).
                (start, (start + Days::new(length)).min(from))
            }
            _ => {
                let length = to.signed_duration_since(from).num_days().max(0) as u64;
                (from - Days::new(length), from)
            }
        }
    }
}

/// A moment a schedule was due: the local day (the run's key, one per day at most) and the
/// UTC instant in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub local_day: NaiveDate,
    pub at_ms: i64,
}

/// The UTC instant of `hour`:00 on local day `day` in `tz`. In a DST gap (the hour does
/// not exist that day) it is the moment the clock jumps, the first valid local time after;
/// when the hour happens twice, the first.
pub fn local_hour(tz: Tz, day: NaiveDate, hour: u32) -> Option<i64> {
    let at = day.and_hms_opt(hour, 0, 0)?;
    match tz.from_local_datetime(&at) {
        LocalResult::Single(t) => Some(t.timestamp_millis()),
        LocalResult::Ambiguous(first, _) => Some(first.timestamp_millis()),
        LocalResult::None => {
            // Walk forward minute by minute to the end of the gap (gaps are at most a few
            // hours, and the first valid minute is the instant the clock jumped to).
            (1..=24 * 60).find_map(|minutes| {
                tz.from_local_datetime(&(at + Duration::minutes(minutes)))
                    .earliest()
                    .map(|t| t.timestamp_millis())
            })
        }
    }
}

/// The latest moment at or before `now_ms` when a schedule with `cadence` at local `hour`
/// in `tz` was due, looking back at most [`LOOKBACK_DAYS`] days.
pub fn latest_due(cadence: Cadence, hour: u32, tz: Tz, now_ms: i64) -> Option<Due> {
    let today = tz.timestamp_millis_opt(now_ms).single()?.date_naive();
    (0..=LOOKBACK_DAYS)
        .map(|back| today - Days::new(back))
        .filter(|day| cadence.runs_on(*day))
        .find_map(|day| {
            let at_ms = local_hour(tz, day, hour)?;
            (at_ms <= now_ms).then_some(Due {
                local_day: day,
                at_ms,
            })
        })
}

/// The first moment after `now_ms` when the schedule is due, looking ahead at most
/// [`LOOKBACK_DAYS`] days (every cadence is due at least once in that time).
pub fn next_due(cadence: Cadence, hour: u32, tz: Tz, now_ms: i64) -> Option<Due> {
    let today = tz.timestamp_millis_opt(now_ms).single()?.date_naive();
    (0..=LOOKBACK_DAYS)
        .map(|ahead| today + Days::new(ahead))
        .filter(|day| cadence.runs_on(*day))
        .find_map(|day| {
            let at_ms = local_hour(tz, day, hour)?;
            (at_ms > now_ms).then_some(Due {
                local_day: day,
                at_ms,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc_ms(y: i32, m: u32, day: u32, h: u32, min: u32) -> i64 {
        chrono::Utc
            .with_ymd_and_hms(y, m, day, h, min, 0)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn range_names_round_trip() {
        for (range, name) in RANGES {
            assert_eq!(
                (RelativeRange::parse(name).unwrap(), range.as_str()),
                (range, name)
            );
        }
        assert_eq!(RelativeRange::parse("today").unwrap_err().field, "range");
    }

    #[test]
    fn ranges_end_before_the_run_day() {
        // A Wednesday.
        let run = d(2026, 11, 25);
        assert_eq!(RelativeRange::Yesterday.of(run), (d(2026, 11, 24), run));
        assert_eq!(
            RelativeRange::LastWeek.of(run),
            (d(2026, 11, 16), d(2026, 11, 23))
        );
        assert_eq!(
            RelativeRange::LastMonth.of(run),
            (d(2026, 10, 1), d(2026, 11, 1))
        );
        assert_eq!(RelativeRange::MonthToDate.of(run), (d(2026, 11, 1), run));
        // On the 1st, month to date is the whole month before.
        assert_eq!(
            RelativeRange::MonthToDate.of(d(2026, 12, 1)),
            (d(2026, 11, 1), d(2026, 12, 1))
        );
        assert_eq!(RelativeRange::Last7Days.of(run), (d(2026, 11, 18), run));
        // A Monday run's last week is the whole week before.
        assert_eq!(
            RelativeRange::LastWeek.of(d(2026, 11, 23)),
            (d(2026, 11, 16), d(2026, 11, 23))
        );
    }

    #[test]
    fn previous_periods_line_up() {
        let last_month = RelativeRange::LastMonth.of(d(2026, 3, 2));
        assert_eq!(last_month, (d(2026, 2, 1), d(2026, 3, 1)));
        assert_eq!(
            RelativeRange::LastMonth.previous(last_month),
            (d(2026, 1, 1), d(2026, 2, 1))
        );
        let mtd = RelativeRange::MonthToDate.of(d(2026, 5, 11));
        assert_eq!(
            RelativeRange::MonthToDate.previous(mtd),
            (d(2026, 4, 1), d(2026, 4, 11))
        );
        let week = RelativeRange::LastWeek.of(d(2026, 11, 25));
        assert_eq!(
            RelativeRange::LastWeek.previous(week),
            (d(2026, 11, 9), d(2026, 11, 16))
        );
    }

    #[test]
    fn cadences_pick_their_days_and_short_months_use_their_last_day() {
        assert!(Cadence::Weekly(Weekday::Mon).runs_on(d(2026, 11, 23)));
        assert!(!Cadence::Weekly(Weekday::Mon).runs_on(d(2026, 11, 24)));
        assert!(Cadence::Monthly(31).runs_on(d(2026, 2, 28)));
        assert!(Cadence::Monthly(31).runs_on(d(2026, 4, 30)));
        assert!(!Cadence::Monthly(31).runs_on(d(2026, 5, 30)));
        assert!(Cadence::Monthly(30).runs_on(d(2028, 2, 29)));
    }

    #[test]
    fn the_latest_due_moment_is_found_late_and_keyed_by_local_day() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Daily at 07:00 Berlin (06:00 UTC in winter).
        let before = latest_due(Cadence::Daily, 7, berlin, utc_ms(2026, 11, 23, 5, 59)).unwrap();
        assert_eq!(before.local_day, d(2026, 11, 22));
        let at = latest_due(Cadence::Daily, 7, berlin, utc_ms(2026, 11, 23, 6, 0)).unwrap();
        assert_eq!(
            (at.local_day, at.at_ms),
            (d(2026, 11, 23), utc_ms(2026, 11, 23, 6, 0))
        );
        // A cron three hours late still finds the same due moment (the same key).
        let late = latest_due(Cadence::Daily, 7, berlin, utc_ms(2026, 11, 23, 9, 0)).unwrap();
        assert_eq!(late, at);
        // Weekly on Monday at 08:00, asked on Wednesday: Monday's run.
        let weekly = latest_due(
            Cadence::Weekly(Weekday::Mon),
            8,
            berlin,
            utc_ms(2026, 11, 25, 12, 0),
        )
        .unwrap();
        assert_eq!(weekly.local_day, d(2026, 11, 23));
        // Monthly on the 31st, asked in early March: February's last day.
        let monthly =
            latest_due(Cadence::Monthly(31), 6, berlin, utc_ms(2026, 3, 5, 0, 0)).unwrap();
        assert_eq!(monthly.local_day, d(2026, 2, 28));
    }

    #[test]
    fn daylight_saving_gaps_and_repeats_have_one_moment() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2026-03-29: 02:00 does not exist in Berlin (01:00 UTC is 03:00 CEST).
        assert_eq!(
            local_hour(berlin, d(2026, 3, 29), 2),
            Some(utc_ms(2026, 3, 29, 1, 0))
        );
        // 2026-10-25: 02:00 happens twice; the first is 00:00 UTC.
        assert_eq!(
            local_hour(berlin, d(2026, 10, 25), 2),
            Some(utc_ms(2026, 10, 25, 0, 0))
        );
        let new_york: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            local_hour(new_york, d(2026, 11, 23), 7),
            Some(utc_ms(2026, 11, 23, 12, 0))
        );
    }

    #[test]
    fn cadences_are_parsed_with_the_field_named() {
        assert_eq!(
            Cadence::parse("weekly", Some("friday"), None).unwrap(),
            Cadence::Weekly(Weekday::Fri)
        );
        assert_eq!(
            Cadence::parse("monthly", None, Some(15)).unwrap(),
            Cadence::Monthly(15)
        );
        for (kind, weekday, day, field, code) in [
            ("weekly", None, None, "weekday", "missing_field"),
            ("weekly", Some("funday"), None, "weekday", "invalid_value"),
            ("monthly", None, Some(0), "day_of_month", "out_of_range"),
            ("monthly", None, None, "day_of_month", "missing_field"),
            ("daily", Some("monday"), None, "weekday", "unexpected_field"),
            ("hourly", None, None, "cadence", "invalid_value"),
        ] {
            let error = Cadence::parse(kind, weekday, day).unwrap_err();
            assert_eq!(
                (error.field, error.code),
                (field, code),
                "{kind} {weekday:?} {day:?}"
            );
        }
    }

    #[test]
    fn the_next_run_is_the_first_due_moment_after_now() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        // Wed 2 Dec 2026 10:00 UTC (11:00 in Berlin).
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 12, 2, 10, 0, 0)
            .unwrap()
            .timestamp_millis();
        let daily = next_due(Cadence::Daily, 7, tz, now).unwrap();
        assert_eq!(daily.local_day.to_string(), "2026-12-03");
        assert_eq!(
            daily.at_ms,
            chrono::Utc
                .with_ymd_and_hms(2026, 12, 3, 6, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
        let later_today = next_due(Cadence::Daily, 12, tz, now).unwrap();
        assert_eq!(later_today.local_day.to_string(), "2026-12-02");
        let monday = next_due(Cadence::Weekly(Weekday::Mon), 7, tz, now).unwrap();
        assert_eq!(monday.local_day.to_string(), "2026-12-07");
        let last = latest_due(Cadence::Daily, 7, tz, now).unwrap();
        assert!(last.at_ms <= now && daily.at_ms > now);
    }
}
