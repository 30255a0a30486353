//! Property tests of the parsers that take outside input (postback parameters, amounts,
//! timestamps and dates, link codes, report time zones) and of the report arithmetic:
//! whatever they are given, they answer a value or a named error, never panic, and the
//! values they accept mean what they say. The engines have their own properties beside
//! them (commission, KPI partitions, the journey walk).

use chrono::{Duration, NaiveDate, TimeZone};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::conversions::{parse_timestamp, Postback};
use super::money::{format_money, from_cents, parse_amount, to_cents};
use super::reporting::{day_of_index, local_midnight, offset_spans};
use super::time::parse_date;
use super::tracking::link::LinkCode;

fn pairs(list: &[(&str, String)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

proptest! {
    /// Any parameters at all: a postback or an error naming a field, never a panic.
    #[test]
    fn postback_parsing_never_panics(raw in proptest::collection::vec((".{0,12}", ".{0,40}"), 0..12)) {
        let raw: Vec<(String, String)> = raw;
        if let Err(invalid) = Postback::parse(&raw) {
            prop_assert!(!invalid.field.is_empty());
            prop_assert!(!invalid.message.is_empty());
        }
    }

    /// A well-formed sale keeps its amount exactly, under the canonical name or an alias.
    #[test]
    fn a_sale_keeps_its_amount_exactly(
        units in 0u64..10_000_000,
        cents in 0u32..100,
        alias in prop::sample::select(vec!["amount", "sale_amount"]),
        click in "[a-f0-9]{32}",
        order in "[A-Za-z0-9-]{1,20}",
    ) {
        let text = format!("{units}.{cents:02}");
        let postback = Postback::parse(&pairs(&[
            ("click_id", click),
            ("order_id", order),
            (alias, text.clone()),
        ])).unwrap();
        prop_assert_eq!(postback.amount.unwrap(), Decimal::from_str_exact(&text).unwrap());
    }

    /// Amounts: whatever the text, an exact decimal with at most 2 decimals or a named
    /// error; an accepted one goes to hundredths and back unchanged.
    #[test]
    fn amounts_parse_exactly_or_not_at_all(raw in "[0-9.eE+ ,-]{0,16}") {
        match parse_amount("amount", &raw, 2) {
            Ok(amount) => {
                prop_assert!(amount >= Decimal::ZERO);
                prop_assert!(amount.scale() <= 2);
                let cents = to_cents(amount).unwrap();
                prop_assert_eq!(from_cents(cents), amount.round_dp(2));
                prop_assert_eq!(format_money(from_cents(cents)), format_money(amount));
            }
            Err(invalid) => prop_assert_eq!(invalid.field, "amount"),
        }
    }

    /// Money keeps every cent through hundredths and its two-decimal text.
    #[test]
    fn cents_round_trip(cents in -1_000_000_000_000i64..1_000_000_000_000) {
        let money = from_cents(cents);
        prop_assert_eq!(to_cents(money), Some(cents));
        let shown = format_money(money);
        prop_assert_eq!(shown.split_once('.').map(|(_, f)| f.len()), Some(2));
        prop_assert_eq!(Decimal::from_str_exact(&shown).unwrap(), money);
    }

    /// Timestamps: RFC 3339 with any offset means the instant it names; unix seconds too.
    #[test]
    fn timestamps_mean_their_instant(
        seconds in 0i64..4_102_444_800,
        offset_minutes in -(14 * 60)..=(14 * 60),
    ) {
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let text = offset.timestamp_opt(seconds, 0).unwrap().to_rfc3339();
        prop_assert_eq!(parse_timestamp(&text).unwrap(), seconds * 1000);
        prop_assert_eq!(parse_timestamp(&seconds.to_string()).unwrap(), seconds * 1000);
    }

    #[test]
    fn timestamp_parsing_never_panics(raw in ".{0,40}") {
        if let Err(invalid) = parse_timestamp(&raw) {
            prop_assert_eq!(invalid.field, "ts");
        }
    }

    /// Dates: every real day round-trips; other text is refused.
    #[test]
    fn dates_round_trip(days in 0i64..50_000, junk in "[0-9a-z/ -]{0,12}") {
        let day = day_of_index(days);
        prop_assert_eq!(parse_date(&day.to_string()), Some(day));
        if let Some(parsed) = parse_date(&junk) {
            prop_assert_eq!(parsed.to_string(), junk);
        }
    }

    /// Link codes: accepted exactly when 3–64 characters of `[A-Za-z0-9_-]`, so nothing
    /// URL-like (`/`, `:`, `.`, `%`) can ever name a link.
    #[test]
    fn link_codes_are_exactly_the_safe_alphabet(raw in ".{0,70}") {
        let safe = (3..=64).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        prop_assert_eq!(LinkCode::parse(&raw).is_ok(), safe);
    }

    /// Report time zones: for any whole-hour zone and range, the offset spans cover the
    /// range's UTC hours without gap or overlap, and every hour lands on a local day of the
    /// range, in order; so any partition of a range into sub-ranges has the same hours.
    #[test]
    fn local_days_are_exact_unions_of_utc_hours(
        zone in prop::sample::select(vec![
            "UTC", "Europe/Berlin", "Europe/Moscow", "America/New_York", "America/Sao_Paulo",
            "Australia/Sydney", "Pacific/Auckland", "Asia/Tokyo", "America/Los_Angeles",
        ]),
        start in 19_000i64..21_000,
        length in 1i64..40,
        split in 1i64..40,
    ) {
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let (from, to) = (day_of_index(start), day_of_index(start + length));
        let spans = offset_spans(tz, from, to).unwrap();
        let hours = |spans: &[super::reporting::OffsetSpan]| -> Vec<(i64, NaiveDate)> {
            spans.iter().flat_map(|s| (s.from_hour..s.to_hour)
                .map(move |h| (h, day_of_index((h + s.offset_hours).div_euclid(24))))).collect()
        };
        let all = hours(&spans);
        prop_assert_eq!(all.first().unwrap().0 * 3_600_000, local_midnight(tz, from));
        prop_assert_eq!((all.last().unwrap().0 + 1) * 3_600_000, local_midnight(tz, to));
        prop_assert!(all.windows(2).all(|w| w[1].0 == w[0].0 + 1 && w[1].1 >= w[0].1));
        prop_assert!(all.iter().all(|(_, d)| *d >= from && *d < to));
        let middle = from + Duration::days(split.min(length - 1).max(0));
        if middle > from && middle < to {
            let mut pieces = hours(&offset_spans(tz, from, middle).unwrap());
            pieces.extend(hours(&offset_spans(tz, middle, to).unwrap()));
            prop_assert_eq!(pieces, all);
        }
    }
}
