//! The event archive's rules: when a day of a program's raw clicks or impressions may
//! leave D1 for R2, what its archive and objects are called, and how an object's lines
//! are cut into the JSON arrays D1 statements take.
//!
//! A day leaves D1 only when nothing reads its raw rows any more: it is older than the
//! program's attribution window (clicks), the fraud flags' trailing window with the
//! nightly job's catch-up, and a margin past the queue's retention (late messages); its
//! rollup is current; no split or commission test of the program covers it (their
//! results are recomputed from raw clicks); and it was not restored within the hold.

use chrono::{Duration, NaiveDate};

use super::nightly::{CATCH_UP_DAYS, FLAG_TRAILING_DAYS};

const DAY_MS: i64 = 86_400_000;

/// Days past every other need a day is kept, for late queue messages (a queue keeps a
/// message at most 14 days) and late rollups.
pub const MARGIN_DAYS: i64 = 14;
/// Clicks are kept at least this long whatever the attribution window: the fraud flags
/// read the raw clicks of their trailing window, judged up to [`CATCH_UP_DAYS`] late.
pub const CLICK_MIN_KEEP_DAYS: i64 = FLAG_TRAILING_DAYS + CATCH_UP_DAYS;
/// A restored day stays in D1 this long before it may be archived again.
pub const RESTORE_HOLD_DAYS: i64 = 7;
/// Events in one R2 object (a part): about 3 MB of NDJSON for clicks.
pub const PART_EVENTS: u32 = 5_000;
/// Events in one D1 statement's JSON array (one bound value, well under D1's 2 MB).
pub const CHUNK_EVENTS: usize = 500;

/// Which raw events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Clicks,
    Impressions,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Clicks, Kind::Impressions];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Clicks => "clicks",
            Kind::Impressions => "impressions",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whole days after its own a day's events are kept in D1, for a program whose
    /// attribution window is `window_days`.
    pub fn keep_days(self, window_days: i64) -> i64 {
        match self {
            Kind::Clicks => window_days.max(CLICK_MIN_KEEP_DAYS) + MARGIN_DAYS,
            Kind::Impressions => MARGIN_DAYS,
        }
    }

    /// The first UTC day (days since the epoch) whose events stay in D1 at `now`: every
    /// earlier day may be archived.
    pub fn first_kept_day(self, window_days: i64, now: i64) -> i64 {
        now.div_euclid(DAY_MS) - self.keep_days(window_days)
    }
}

/// What keeps a day in D1 besides its age.
#[derive(Debug, Default)]
pub struct Holds {
    /// UTC days whose rollup is not current.
    pub dirty_days: Vec<i64>,
    /// The program's experiments: `[created_at, stopped_at)` in ms, open while running.
    pub experiments: Vec<(i64, Option<i64>)>,
    /// Days restored from the archive, with when.
    pub restored: Vec<(i64, i64)>,
}

impl Holds {
    /// Why `day` (days since the epoch) stays in D1 at `now`, if it does.
    pub fn holding(&self, day: i64, now: i64) -> Option<&'static str> {
        let (start, end) = (day * DAY_MS, (day + 1) * DAY_MS);
        if self.dirty_days.contains(&day) {
            return Some("its rollup is not current");
        }
        if self
            .experiments
            .iter()
            .any(|&(from, to)| from < end && to.is_none_or(|to| to >= start))
        {
            return Some("an experiment of the program covers it");
        }
        if self
            .restored
            .iter()
            .any(|&(d, at)| d == day && now < at + RESTORE_HOLD_DAYS * DAY_MS)
        {
            return Some("it was restored lately");
        }
        None
    }
}

/// The date of a day index.
pub fn date_of(day: i64) -> NaiveDate {
    NaiveDate::default() + Duration::days(day)
}

/// The day index of a date.
pub fn day_of(date: NaiveDate) -> i64 {
    (date - NaiveDate::default()).num_days()
}

/// An archive's id: `<program_id>.<kind>.<YYYY-MM-DD>` (program ids hold no dots).
pub fn archive_id(program_id: &str, kind: Kind, day: i64) -> String {
    format!("{program_id}.{}.{}", kind.as_str(), date_of(day))
}

/// The program, kind and day of an archive id.
pub fn parse_archive_id(id: &str) -> Option<(String, Kind, i64)> {
    let mut fields = id.rsplitn(3, '.');
    let date = NaiveDate::parse_from_str(fields.next()?, "%Y-%m-%d").ok()?;
    let kind = Kind::parse(fields.next()?)?;
    let program = fields
        .next()
        .filter(|p| !p.is_empty() && !p.contains('.'))?;
    Some((program.to_owned(), kind, day_of(date)))
}

/// The R2 key of part `part` (from 1) of a day:
/// `<kind>/<program_id>/<YYYY-MM-DD>/part-00001.ndjson`, so one prefix holds a program's
/// days and a glob reads them.
pub fn object_key(program_id: &str, kind: Kind, day: i64, part: i64) -> String {
    format!(
        "{}/{program_id}/{}/part-{part:05}.ndjson",
        kind.as_str(),
        date_of(day)
    )
}

/// An object's lines (JSON objects, one a line) cut into JSON arrays of at most
/// `max_events` each.
pub fn json_arrays(ndjson: &str, max_events: usize) -> Vec<String> {
    let lines: Vec<&str> = ndjson.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .chunks(max_events.max(1))
        .map(|chunk| format!("[{}]", chunk.join(",")))
        .collect()
}

/// The object's body for `lines`: NDJSON, one event a line, each line ending in `\n`.
pub fn ndjson(lines: &[String]) -> String {
    let mut body = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        body.push_str(line);
        body.push('\n');
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000; // 2026-11-18T…

    fn day(date: &str) -> i64 {
        day_of(NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn clicks_outlive_the_window_the_flags_and_the_margin() {
        assert_eq!(CLICK_MIN_KEEP_DAYS, 35);
        assert_eq!(Kind::Clicks.keep_days(30), 49);
        assert_eq!(Kind::Clicks.keep_days(1), 49);
        assert_eq!(Kind::Clicks.keep_days(90), 104);
        assert_eq!(Kind::Impressions.keep_days(90), 14);
        let today = NOW / DAY_MS;
        assert_eq!(Kind::Clicks.first_kept_day(30, NOW), today - 49);
        // The day before the first kept one ends 49 days before today began.
        assert!((Kind::Clicks.first_kept_day(30, NOW)) * DAY_MS <= NOW - 49 * DAY_MS);
    }

    #[test]
    fn a_held_day_says_why() {
        let d = day("2026-09-10");
        let holds = Holds {
            dirty_days: vec![d - 1],
            experiments: vec![(d * DAY_MS + 5, Some((d + 3) * DAY_MS)), (0, Some(1))],
            restored: vec![(d - 2, NOW - DAY_MS)],
        };
        assert_eq!(holds.holding(d - 1, NOW), Some("its rollup is not current"));
        assert!(holds.holding(d, NOW).unwrap().contains("experiment"));
        assert!(holds.holding(d + 3, NOW).unwrap().contains("experiment"));
        assert_eq!(holds.holding(d + 4, NOW), None);
        assert_eq!(holds.holding(d - 2, NOW), Some("it was restored lately"));
        assert_eq!(holds.holding(d - 2, NOW + 7 * DAY_MS), None);
        let running = Holds {
            experiments: vec![(d * DAY_MS, None)],
            ..Holds::default()
        };
        assert!(running.holding(d + 400, NOW).is_some());
        assert_eq!(running.holding(d - 1, NOW), None);
    }

    #[test]
    fn ids_and_keys_round_trip() {
        let d = day("2026-09-01");
        let id = archive_id("prg_a-b_C", Kind::Clicks, d);
        assert_eq!(id, "prg_a-b_C.clicks.2026-09-01");
        assert_eq!(
            parse_archive_id(&id),
            Some(("prg_a-b_C".to_owned(), Kind::Clicks, d))
        );
        assert_eq!(parse_archive_id("prg_x.views.2026-09-01"), None);
        assert_eq!(parse_archive_id("prg_x.clicks.2026-13-01"), None);
        assert_eq!(parse_archive_id(".clicks.2026-09-01"), None);
        assert_eq!(parse_archive_id("a.b.clicks.2026-09-01"), None);
        assert_eq!(
            object_key("prg_x", Kind::Impressions, d, 12),
            "impressions/prg_x/2026-09-01/part-00012.ndjson"
        );
        assert_eq!(date_of(0).to_string(), "1970-01-01");
    }

    #[test]
    fn lines_become_bounded_json_arrays() {
        let body = ndjson(&[
            r#"{"id":"a"}"#.to_owned(),
            r#"{"id":"b"}"#.to_owned(),
            r#"{"id":"c"}"#.to_owned(),
        ]);
        assert_eq!(body, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n");
        let arrays = json_arrays(&body, 2);
        assert_eq!(
            arrays,
            vec![r#"[{"id":"a"},{"id":"b"}]"#, r#"[{"id":"c"}]"#]
        );
        for a in &arrays {
            serde_json::from_str::<serde_json::Value>(a).unwrap();
        }
        assert!(json_arrays("\n\n", 2).is_empty());
    }
}
