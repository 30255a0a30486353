//! Property tests of the `$filter` grammar: printed trees parse back to themselves
//! however they are spaced, parenthesised and cased; no input panics; `day_bounds`
//! never leaves out a day that matches; `not` negates on rows without nulls.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;

use super::expr::{CmpOp, DatePart, Expr, Target, TextFunction};
use super::tests::{row as reader, SCHEMA};
use super::{day_bounds, parse_filter, parse_orderby, EdmType, Refusal, Value};

fn base_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
}

/// Days from 2024 to 2028: narrow, so that literals and rows meet often.
fn day() -> impl Strategy<Value = NaiveDate> {
    (0i64..5 * 366).prop_map(|n| base_day() + Duration::days(n))
}

fn date_time() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (0i64..5 * 366 * 86_400, -12i32..=12, 0u32..1000).prop_map(|(seconds, hours, millis)| {
        let start = base_day()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        FixedOffset::east_opt(hours * 3600)
            .unwrap()
            .timestamp_opt(start + seconds, millis * 1_000_000)
            .unwrap()
    })
}

/// A literal of the type a property of `edm` is compared with (numbers against
/// `Int64`/`Decimal` are decimals), sometimes null.
fn literal(edm: EdmType) -> BoxedStrategy<Value> {
    prop_oneof![1 => Just(Value::Null), 9 => value(edm)].boxed()
}

/// A non-null value of `edm`, in narrow ranges so that rows and literals meet often.
fn value(edm: EdmType) -> BoxedStrategy<Value> {
    match edm {
        EdmType::String => "[ab' ,()]{0,3}".prop_map(Value::Text).boxed(),
        EdmType::Date => day().prop_map(Value::Date).boxed(),
        EdmType::DateTimeOffset => date_time().prop_map(Value::DateTime).boxed(),
        EdmType::Int64 | EdmType::Decimal => (-50i64..50, 0u32..2)
            .prop_map(|(mantissa, scale)| Value::Decimal(Decimal::new(mantissa, scale)))
            .boxed(),
        EdmType::Double => (-100.0f64..100.0).prop_map(Value::Double).boxed(),
        EdmType::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
    }
}

/// A literal for a date part, in the range the part takes (and a little outside).
fn part_literal(part: DatePart) -> BoxedStrategy<Value> {
    let range = match part {
        DatePart::Year => 2022i64..2031,
        DatePart::Month => 0..14,
        DatePart::Day => 0..33,
    };
    prop_oneof![
        1 => Just(Value::Null),
        9 => range.prop_map(|n| Value::Decimal(Decimal::from(n))),
    ]
    .boxed()
}

/// A target and literals of its type.
fn target() -> impl Strategy<Value = (Target, BoxedStrategy<Value>)> {
    let property = select(SCHEMA.to_vec())
        .prop_map(|(name, edm)| (Target::Property(name.to_owned()), literal(edm)));
    let part = (
        select(vec![DatePart::Year, DatePart::Month, DatePart::Day]),
        select(vec!["day", "created_at"]),
    )
        .prop_map(|(part, name)| (Target::Part(part, name.to_owned()), part_literal(part)));
    prop_oneof![3 => property, 1 => part]
}

fn op() -> impl Strategy<Value = CmpOp> {
    select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Lt,
        CmpOp::Le,
    ])
}

fn leaf() -> BoxedStrategy<Expr> {
    leaf_on(target().boxed())
}

/// Leaves mostly about `day`, for the bounds: its own comparisons and its date parts.
fn day_leaf() -> BoxedStrategy<Expr> {
    let day_target = prop_oneof![
        3 => Just((Target::Property("day".to_owned()), literal(EdmType::Date))),
        2 => select(vec![DatePart::Year, DatePart::Month, DatePart::Day])
            .prop_map(|part| (Target::Part(part, "day".to_owned()), part_literal(part))),
    ];
    prop_oneof![3 => leaf_on(day_target.boxed()), 1 => calendar(), 1 => leaf()].boxed()
}

/// `year(day) eq Y and month(day) eq M [and day(day) eq D]`, which bounds to that month
/// (or day) only as a whole.
fn calendar() -> BoxedStrategy<Expr> {
    let equal = |part, value: i64| Expr::Compare {
        target: Target::Part(part, "day".to_owned()),
        op: CmpOp::Eq,
        value: Value::Decimal(Decimal::from(value)),
    };
    (2024i64..2029, 0i64..14, proptest::option::of(0i64..33))
        .prop_map(move |(year, month, day)| {
            let mut parts = vec![equal(DatePart::Year, year), equal(DatePart::Month, month)];
            parts.extend(day.map(|day| equal(DatePart::Day, day)));
            Expr::And(parts)
        })
        .boxed()
}

/// Comparisons, `in` lists and string functions, comparing the targets `targets` makes.
fn leaf_on(targets: BoxedStrategy<(Target, BoxedStrategy<Value>)>) -> BoxedStrategy<Expr> {
    let compare = (targets.clone(), op()).prop_flat_map(|((target, literal), op)| {
        literal.prop_map(move |value| Expr::Compare {
            target: target.clone(),
            op,
            value,
        })
    });
    let within = targets.prop_flat_map(|(target, literal)| {
        vec(literal, 1..4).prop_map(move |values| Expr::In {
            target: target.clone(),
            values,
        })
    });
    let text = (
        select(vec![
            TextFunction::StartsWith,
            TextFunction::EndsWith,
            TextFunction::Contains,
        ]),
        select(vec!["partner_name", "x"]),
        "[ab']{0,2}",
    )
        .prop_map(|(function, property, needle)| Expr::Text {
            function,
            property: property.to_owned(),
            needle,
        });
    prop_oneof![4 => compare, 1 => within, 1 => text].boxed()
}

fn expr() -> impl Strategy<Value = Expr> {
    tree(leaf())
}

/// `and`, `or` and `not` over `leaves`.
fn tree(leaves: BoxedStrategy<Expr>) -> impl Strategy<Value = Expr> {
    leaves.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 2..4).prop_map(Expr::And),
            vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// A row with a value for every property; `nulls` lets some be null (never `day`).
fn row(nulls: bool) -> impl Strategy<Value = Vec<(&'static str, Value)>> {
    let values: Vec<BoxedStrategy<(&'static str, Value)>> = SCHEMA
        .iter()
        .map(|&(name, edm)| {
            let sample = match edm {
                EdmType::String => "[ab']{0,3}".prop_map(Value::Text).boxed(),
                EdmType::Int64 => (-20i64..20).prop_map(Value::Int).boxed(),
                other => value(other),
            };
            let sample = if nulls && name != "day" {
                prop_oneof![1 => Just(Value::Null), 4 => sample].boxed()
            } else {
                sample
            };
            sample.prop_map(move |v| (name, v)).boxed()
        })
        .collect();
    values
}

/// The literals a tree compares `day` (or its parts) with.
fn day_literals(expr: &Expr, out: &mut Vec<(Option<DatePart>, Value)>) {
    match expr {
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|item| day_literals(item, out)),
        Expr::Not(inner) => day_literals(inner, out),
        Expr::Compare { target, value, .. } => out.push((part_of_day(target), value.clone())),
        Expr::In { target, values } => out.extend(
            values
                .iter()
                .map(|value| (part_of_day(target), value.clone())),
        ),
        Expr::Text { .. } => {}
    }
}

fn part_of_day(target: &Target) -> Option<DatePart> {
    match target {
        Target::Part(part, name) if name == "day" => Some(*part),
        _ => None,
    }
}

/// The days either side of every date, year, month and day-of-month boundary the tree
/// mentions: where an off-by-one in the bounds would show.
fn edge_days(expr: &Expr) -> Vec<NaiveDate> {
    let mut literals = Vec::new();
    day_literals(expr, &mut literals);
    let numbers = |wanted: DatePart| -> Vec<i32> {
        literals
            .iter()
            .filter_map(|(part, value)| match (part, value) {
                (Some(part), Value::Decimal(d)) if *part == wanted => d.to_string().parse().ok(),
                _ => None,
            })
            .collect()
    };
    let (years, months, days) = (
        numbers(DatePart::Year),
        numbers(DatePart::Month),
        numbers(DatePart::Day),
    );
    let mut starts: Vec<NaiveDate> = literals
        .iter()
        .filter_map(|(_, value)| match value {
            Value::Date(day) => Some(*day),
            _ => None,
        })
        .collect();
    for &year in &years {
        starts.extend(NaiveDate::from_ymd_opt(year, 1, 1));
        starts.extend(NaiveDate::from_ymd_opt(year + 1, 1, 1));
        for &month in &months {
            let first = u32::try_from(month)
                .ok()
                .and_then(|m| NaiveDate::from_ymd_opt(year, m, 1));
            starts.extend(first);
            starts.extend(first.and_then(|f| f.checked_add_months(chrono::Months::new(1))));
            for &day in &days {
                starts.extend(
                    first.and_then(|f| u32::try_from(day).ok().and_then(|d| f.with_day(d))),
                );
            }
        }
    }
    starts
        .into_iter()
        .flat_map(|day| [day.pred_opt(), Some(day), day.succ_opt()])
        .flatten()
        .collect()
}

/// Choices for `render`, read in turn (zeros once used up).
struct Noise<'a> {
    bytes: &'a [u8],
    next: usize,
}

impl Noise<'_> {
    fn pick(&mut self, choices: u8) -> u8 {
        let byte = self.bytes.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        byte % choices
    }

    /// Where a space is needed: one or more.
    fn space(&mut self) -> &'static str {
        [" ", "  ", " \t "][usize::from(self.pick(3))]
    }

    /// Where a space may be.
    fn pad(&mut self) -> &'static str {
        ["", " ", "  "][usize::from(self.pick(3))]
    }

    fn case(&mut self, keyword: &str) -> String {
        match self.pick(3) {
            0 => keyword.to_owned(),
            1 => keyword.to_ascii_uppercase(),
            _ => {
                let (first, rest) = keyword.split_at(1);
                format!("{}{rest}", first.to_ascii_uppercase())
            }
        }
    }

    fn parens(&mut self, inner: String) -> String {
        format!("({}{inner}{})", self.pad(), self.pad())
    }
}

/// The expression as OData text, like `Display` but with spaces, redundant
/// parentheses, keyword case and the side of each literal chosen by `noise`.
fn render(expr: &Expr, noise: &mut Noise) -> String {
    let text = match expr {
        Expr::And(items) => joined(items, "and", noise),
        Expr::Or(items) => joined(items, "or", noise),
        Expr::Not(inner) => {
            let mut operand = render(inner, noise);
            if !matches!(**inner, Expr::Text { .. } | Expr::Not(_)) {
                operand = noise.parens(operand);
            }
            format!("{}{}{operand}", noise.case("not"), noise.space())
        }
        Expr::Compare { target, op, value } => {
            let target = render_target(target, noise);
            let value = render_value(value, noise);
            let (left, op, right) = if noise.pick(2) == 0 {
                (target, *op, value)
            } else {
                (value, op.swapped(), target)
            };
            let op = noise.case(&op.to_string());
            format!("{left}{}{op}{}{right}", noise.space(), noise.space())
        }
        Expr::In { target, values } => {
            let target = render_target(target, noise);
            let values: Vec<String> = values.iter().map(|v| render_value(v, noise)).collect();
            let separator = format!("{},{}", noise.pad(), noise.pad());
            let list = noise.parens(values.join(&separator));
            format!(
                "{target}{}{}{}{list}",
                noise.space(),
                noise.case("in"),
                noise.pad()
            )
        }
        Expr::Text { .. } => {
            let printed = expr.to_string();
            let (name, rest) = printed.split_once('(').unwrap();
            format!("{}({rest}", noise.case(name))
        }
    };
    if noise.pick(4) == 0 {
        noise.parens(text)
    } else {
        text
    }
}

fn joined(items: &[Expr], keyword: &str, noise: &mut Noise) -> String {
    let mut text = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            text.push_str(&format!(
                "{}{}{}",
                noise.space(),
                noise.case(keyword),
                noise.space()
            ));
        }
        let rendered = render(item, noise);
        if matches!(item, Expr::And(_) | Expr::Or(_)) {
            text.push_str(&noise.parens(rendered));
        } else {
            text.push_str(&rendered);
        }
    }
    text
}

fn render_target(target: &Target, noise: &mut Noise) -> String {
    match target {
        Target::Property(name) => name.clone(),
        Target::Part(..) => {
            let printed = target.to_string();
            let (name, rest) = printed.split_once('(').unwrap();
            let property = rest.trim_end_matches(')');
            format!(
                "{}({}{property}{})",
                noise.case(name),
                noise.pad(),
                noise.pad()
            )
        }
    }
}

fn render_value(value: &Value, noise: &mut Noise) -> String {
    match value {
        Value::Null | Value::Bool(_) => noise.case(&value.to_string()),
        other => other.to_string(),
    }
}

/// Words and marks a filter is made of, for inputs nearer the grammar than random text.
const VOCABULARY: &[&str] = &[
    "(",
    ")",
    ",",
    "/",
    "-",
    ":",
    "and",
    "or",
    "not",
    "eq",
    "gt",
    "le",
    "in",
    "add",
    "has",
    "day",
    "clicks",
    "revenue",
    "partner_name",
    "created_at",
    "x",
    "active",
    "year",
    "month",
    "contains",
    "startswith",
    "tolower",
    "any",
    "'a'",
    "'",
    "''",
    "null",
    "true",
    "5",
    "-2",
    "1.5M",
    "1e999",
    "INF",
    "2026-10-01",
    "2026-13-01",
    "2026-10-01T00:00:00Z",
    "@p",
    "$it",
    "foo",
    "[",
    "asc",
    "desc",
];

fn soup() -> impl Strategy<Value = String> {
    vec((select(VOCABULARY.to_vec()), select(vec!["", " "])), 0..16).prop_map(|words| {
        words
            .into_iter()
            .map(|(word, gap)| format!("{word}{gap}"))
            .collect()
    })
}

/// Any answer but a panic: a tree, a 400 naming the option, or a 501 naming something.
fn answered<T>(result: Result<T, Refusal>, field: &str) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(Refusal::Bad(invalid)) => {
            prop_assert_eq!(invalid.field, field);
            prop_assert_eq!(invalid.code, "invalid_parameter");
            prop_assert!(!invalid.message.is_empty());
            Ok(())
        }
        Err(Refusal::NotImplemented(what)) => {
            prop_assert!(!what.is_empty());
            Ok(())
        }
    }
}

proptest! {
    /// Printing a tree and parsing it back gives the same tree, however the text is
    /// spaced, parenthesised and cased, and whichever side each literal is on.
    #[test]
    fn printed_filters_parse_back(expr in expr(), noise in vec(any::<u8>(), 0..64)) {
        let plain = expr.to_string();
        prop_assert_eq!(parse_filter(&plain, SCHEMA), Ok(expr.clone()), "{}", plain);
        let noisy = render(&expr, &mut Noise { bytes: &noise, next: 0 });
        prop_assert_eq!(parse_filter(&noisy, SCHEMA), Ok(expr), "{}", noisy);
    }

    /// Arbitrary text never panics.
    #[test]
    fn any_text_is_answered(raw in any::<String>()) {
        answered(parse_filter(&raw, SCHEMA), "$filter")?;
        answered(parse_orderby(&raw, SCHEMA), "$orderby")?;
    }

    /// Nor does text made of the grammar's own words.
    #[test]
    fn word_soup_is_answered(raw in soup()) {
        answered(parse_filter(&raw, SCHEMA), "$filter")?;
        answered(parse_orderby(&raw, SCHEMA), "$orderby")?;
    }

    /// Every row a filter keeps has its day inside the filter's day bounds: random days,
    /// and the days at the edges of the filter's own literals, where mistakes would show.
    #[test]
    fn day_bounds_contain_every_matching_day(expr in tree(day_leaf()), rows in vec(row(true), 1..8)) {
        let (from, to) = day_bounds(&expr, "day");
        let edges = edge_days(&expr);
        for values in &rows {
            let days = std::iter::once(reader(values)("day")).chain(edges.iter().map(|d| Value::Date(*d)));
            for day in days {
                let Value::Date(day) = day else { continue };
                let mut values = values.clone();
                values.retain(|(name, _)| *name != "day");
                values.push(("day", Value::Date(day)));
                if expr.matches(&reader(&values)) {
                    prop_assert!(from.is_none_or(|from| from <= day), "{} kept {} before {:?}", expr, day, from);
                    prop_assert!(to.is_none_or(|to| day < to), "{} kept {} after {:?}", expr, day, to);
                }
            }
        }
    }

    /// On rows without nulls, `not e` keeps exactly the rows `e` drops.
    #[test]
    fn not_negates_on_rows_without_nulls(expr in expr(), values in row(false)) {
        let row = reader(&values);
        let negated = Expr::Not(Box::new(expr.clone()));
        prop_assert_eq!(negated.matches(&row), !expr.matches(&row));
    }
}
