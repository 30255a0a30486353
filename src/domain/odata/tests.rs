//! The shapes real clients send (Power BI's query folding, @odata/client), what each
//! construct means on rows, and how malformed and unserved input is refused.

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;

use super::*;

/// A schema with every EDM type; `x` is a string that is often null.
pub(super) const SCHEMA: &Schema = &[
    ("day", EdmType::Date),
    ("program_id", EdmType::String),
    ("partner_id", EdmType::String),
    ("partner_name", EdmType::String),
    ("clicks", EdmType::Int64),
    ("revenue", EdmType::Decimal),
    ("created_at", EdmType::DateTimeOffset),
    ("score", EdmType::Double),
    ("active", EdmType::Boolean),
    ("x", EdmType::String),
];

fn parse(raw: &str) -> Expr {
    parse_filter(raw, SCHEMA).unwrap_or_else(|e| panic!("{raw}: {e:?}"))
}

fn date(raw: &str) -> NaiveDate {
    raw.parse().unwrap()
}

fn prop(name: &str) -> Target {
    Target::Property(name.to_owned())
}

fn cmp(name: &str, op: CmpOp, value: Value) -> Expr {
    Expr::Compare {
        target: prop(name),
        op,
        value,
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// A row from (property, value) pairs; the rest are null.
pub(super) fn row<'a>(values: &'a [(&'static str, Value)]) -> impl Fn(&str) -> Value + 'a {
    move |name| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Value::Null, |(_, v)| v.clone())
    }
}

fn keeps(raw: &str, values: &[(&'static str, Value)]) -> bool {
    parse(raw).matches(&row(values))
}

fn bad_message(raw: &str) -> String {
    match parse_filter(raw, SCHEMA) {
        Err(Refusal::Bad(invalid)) => {
            assert_eq!(
                (invalid.field, invalid.code),
                ("$filter", "invalid_parameter")
            );
            invalid.message
        }
        other => panic!("{raw}: expected a 400, got {other:?}"),
    }
}

fn not_implemented(raw: &str) -> String {
    match parse_filter(raw, SCHEMA) {
        Err(Refusal::NotImplemented(what)) => what,
        other => panic!("{raw}: expected a 501, got {other:?}"),
    }
}

#[test]
fn power_bi_parenthesised_range() {
    let expr = parse("(day ge 2026-10-01) and (day lt 2026-11-01)");
    assert_eq!(
        expr,
        Expr::And(vec![
            cmp("day", CmpOp::Ge, Value::Date(date("2026-10-01"))),
            cmp("day", CmpOp::Lt, Value::Date(date("2026-11-01"))),
        ])
    );
    assert_eq!(
        day_bounds(&expr, "day"),
        (Some(date("2026-10-01")), Some(date("2026-11-01")))
    );
}

#[test]
fn power_bi_nested_range_and_program() {
    let expr = parse("((day ge 2026-10-01) and (day lt 2026-11-01)) and (program_id eq 'prg_1')");
    let Expr::And(items) = &expr else {
        panic!("{expr:?}")
    };
    assert!(matches!(items[..], [Expr::And(_), Expr::Compare { .. }]));
    assert_eq!(
        day_bounds(&expr, "day"),
        (Some(date("2026-10-01")), Some(date("2026-11-01")))
    );
    assert_eq!(
        required_equalities(&expr),
        vec![("program_id".to_owned(), "prg_1".to_owned())]
    );
    let oct = [
        ("day", Value::Date(date("2026-10-31"))),
        ("program_id", text("prg_1")),
    ];
    assert!(
        parse("((day ge 2026-10-01) and (day lt 2026-11-01)) and (program_id eq 'prg_1')")
            .matches(&row(&oct))
    );
}

#[test]
fn year_and_month_functions() {
    let raw = "year(day) eq 2026 and month(day) eq 10";
    let expr = parse(raw);
    assert_eq!(
        day_bounds(&expr, "day"),
        (Some(date("2026-10-01")), Some(date("2026-11-01")))
    );
    assert!(keeps(raw, &[("day", Value::Date(date("2026-10-15")))]));
    assert!(!keeps(raw, &[("day", Value::Date(date("2026-11-01")))]));
    assert!(keeps(
        "day(created_at) eq 1",
        &[(
            "created_at",
            Value::DateTime(DateTime::parse_from_rfc3339("2026-10-01T23:30:00-05:00").unwrap())
        )]
    ));
}

#[test]
fn in_lists() {
    let expr = parse("partner_id in ('a','b')");
    assert_eq!(
        expr,
        Expr::In {
            target: prop("partner_id"),
            values: vec![text("a"), text("b")]
        }
    );
    assert!(keeps(
        "partner_id in ('a','b')",
        &[("partner_id", text("b"))]
    ));
    assert!(!keeps(
        "partner_id in ('a','b')",
        &[("partner_id", text("c"))]
    ));
    assert!(keeps("clicks in (1, 2)", &[("clicks", Value::Int(2))]));
    assert!(keeps("x in ('a', null)", &[]));
}

#[test]
fn not_negates_a_parenthesised_comparison() {
    let expr = parse("not (clicks gt 5)");
    assert_eq!(
        expr,
        Expr::Not(Box::new(cmp(
            "clicks",
            CmpOp::Gt,
            Value::Decimal(Decimal::from(5))
        )))
    );
    assert!(keeps("not (clicks gt 5)", &[("clicks", Value::Int(5))]));
    assert!(!keeps("not (clicks gt 5)", &[("clicks", Value::Int(6))]));
    // `clicks gt null-clicks` is false, so its negation keeps the row.
    assert!(keeps("not (clicks gt 5)", &[]));
}

#[test]
fn string_functions() {
    let raw = "startswith(partner_name,'A') or contains(partner_name,'B')";
    assert!(keeps(raw, &[("partner_name", text("Acme"))]));
    assert!(keeps(raw, &[("partner_name", text("xBx"))]));
    assert!(!keeps(raw, &[("partner_name", text("cd"))]));
    // A function of null is null: neither the condition nor its negation keeps the row.
    assert!(!keeps(raw, &[]));
    assert!(!keeps("not contains(partner_name,'B')", &[]));
    assert!(keeps(
        "not contains(partner_name,'B')",
        &[("partner_name", text("acme"))]
    ));
    assert!(keeps(
        "endswith(partner_name,'me')",
        &[("partner_name", text("acme"))]
    ));
}

#[test]
fn decimals_compare_exactly_with_the_power_bi_suffix() {
    let expr = parse("revenue ge 10.50M");
    assert_eq!(
        expr,
        cmp("revenue", CmpOp::Ge, Value::Decimal(Decimal::new(1050, 2)))
    );
    let revenue = |cents| [("revenue", Value::Decimal(Decimal::new(cents, 2)))];
    assert!(keeps("revenue ge 10.50M", &revenue(1050)));
    assert!(!keeps("revenue ge 10.50M", &revenue(1049)));
    assert!(keeps("revenue eq 10", &revenue(1000)));
    assert!(keeps("clicks gt 5.5", &[("clicks", Value::Int(6))]));
    assert!(!keeps("clicks gt 5.5", &[("clicks", Value::Int(5))]));
    assert!(keeps(
        "revenue eq 0.30",
        &[("revenue", Value::Decimal(Decimal::new(3, 1)))]
    ));
    assert_eq!(
        parse("score lt 1e3"),
        cmp("score", CmpOp::Lt, Value::Double(1000.0))
    );
}

#[test]
fn date_times_compare_by_instant() {
    let at = |raw| {
        [(
            "created_at",
            Value::DateTime(DateTime::parse_from_rfc3339(raw).unwrap()),
        )]
    };
    let raw = "created_at ge 2026-10-01T00:00:00Z";
    assert!(keeps(raw, &at("2026-09-30T23:00:00-02:00")));
    assert!(!keeps(raw, &at("2026-10-01T01:00:00+02:00")));
    assert!(keeps(
        "created_at lt 2026-10-01T00:00:00.5+00:00",
        &at("2026-10-01T00:00:00.25Z")
    ));
    assert!(keeps(
        "created_at eq 2026-10-01T02:00+02:00",
        &at("2026-10-01T00:00:00Z")
    ));
}

#[test]
fn null_semantics() {
    assert!(keeps("x eq null", &[]));
    assert!(!keeps("x eq null", &[("x", text("a"))]));
    assert!(keeps("x ne null", &[("x", text("a"))]));
    assert!(!keeps("x ne 'a'", &[("x", text("a"))]));
    assert!(keeps("x ne 'a'", &[]));
    assert!(!keeps("clicks lt 5", &[]));
    assert!(!keeps("clicks ge 0 or contains(x,'a')", &[]));
    assert!(keeps(
        "clicks ge 0 or contains(x,'a')",
        &[("clicks", Value::Int(0))]
    ));
}

#[test]
fn keywords_are_case_insensitive_and_literals_go_either_side() {
    assert_eq!(
        parse("day GE 2026-10-01 AND Not (clicks Gt 5) Or x EQ NULL"),
        parse("day ge 2026-10-01 and not (clicks gt 5) or x eq null")
    );
    assert_eq!(parse("5 lt clicks"), parse("clicks gt 5"));
    assert_eq!(parse("YEAR(day) eq 2026"), parse("year(day) eq 2026"));
    assert_eq!(parse("active"), parse("active eq true"));
}

#[test]
fn precedence_is_not_then_comparison_then_and_then_or() {
    let a = cmp("x", CmpOp::Eq, text("a"));
    let b = cmp("x", CmpOp::Eq, text("b"));
    let c = cmp("x", CmpOp::Eq, text("c"));
    assert_eq!(
        parse("x eq 'a' or x eq 'b' and x eq 'c'"),
        Expr::Or(vec![a.clone(), Expr::And(vec![b.clone(), c.clone()])])
    );
    assert_eq!(
        parse("(x eq 'a' or x eq 'b') and x eq 'c'"),
        Expr::And(vec![Expr::Or(vec![a.clone(), b.clone()]), c])
    );
    assert!(matches!(
        parse("not contains(x,'a') and x eq 'b'"),
        Expr::And(items) if matches!(items[0], Expr::Not(_))
    ));
    assert_eq!(
        parse("partner_name eq 'O''Brien'"),
        cmp("partner_name", CmpOp::Eq, text("O'Brien"))
    );
}

#[test]
fn unserved_odata_is_not_implemented_naming_it() {
    for (raw, named) in [
        ("tolower(partner_name) eq 'a'", "tolower"),
        ("length(partner_name) gt 1", "length"),
        ("clicks add 1 gt 5", "add"),
        ("clicks gt 5 mul 2", "mul"),
        ("partner_id/any(t: t eq 'a')", "partner_id"),
        ("clicks eq @p", "@p"),
        ("$it/clicks eq 1", "$it"),
        ("clicks eq revenue", "two properties"),
        ("-clicks gt 1", "-"),
        ("created_at lt duration'P1D'", "duration"),
        ("true", "true"),
        ("contains(partner_name, partner_id)", "contains"),
        ("partner_id in ['a']", "["),
        ("geo.distance(x, x) lt 1", "geo.distance"),
    ] {
        let what = not_implemented(raw);
        assert!(what.contains(named), "{raw}: {what}");
    }
}

#[test]
fn malformed_filters_are_bad_requests_naming_token_and_position() {
    for (raw, named) in [
        ("(day ge 2026-10-01", "position 1"),
        ("day ge 2026-10-01)", "')' at position 18"),
        ("x eq 'open", "position 6"),
        ("day ge", "'ge' at position 5"),
        ("day ge 2026-10-01 and", "'and'"),
        ("day ge #", "'#' at position 8"),
        ("day ge 2026-02-30", "'2026-02-30' at position 8"),
        ("foo eq 1", "'foo' at position 1"),
        ("clicks eq 'x'", "'x' (position 11)"),
        ("day ge 5", "5 (position 8)"),
        ("contains(clicks,'1')", "Edm.Int64"),
        ("year(partner_name) eq 1", "Edm.String"),
        ("not clicks gt 5", "not (clicks"),
        ("x in ()", "at least one"),
        ("x in 'a'", "'in' at position 3"),
        ("foo(x) eq 1", "'foo'"),
        (
            "day ge 2026-10-01 day lt 2026-11-01",
            "'day' at position 19",
        ),
        ("", "expected"),
        ("clicks", "not a condition"),
        ("day eq eq", "position 8, found 'eq'"),
        ("clicks eq 1e99", "out of range"),
    ] {
        let message = bad_message(raw);
        assert!(message.contains(named), "{raw}: {message}");
    }
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth| format!("{}x eq 'a'{}", "(".repeat(depth), ")".repeat(depth));
    assert!(parse_filter(&nested(40), SCHEMA).is_ok());
    assert!(bad_message(&nested(5000)).contains("nests deeper"));
    assert!(bad_message(&"not ".repeat(5000)).contains("nests deeper"));
}

#[test]
fn day_bounds_are_conservative() {
    let bounds = |raw| day_bounds(&parse(raw), "day");
    let d = |raw| Some(date(raw));
    assert_eq!(
        bounds("day eq 2026-10-01"),
        (d("2026-10-01"), d("2026-10-02"))
    );
    assert_eq!(bounds("day gt 2026-10-01"), (d("2026-10-02"), None));
    assert_eq!(bounds("day le 2026-10-01"), (None, d("2026-10-02")));
    assert_eq!(
        bounds("day in (2026-10-05, 2026-10-01)"),
        (d("2026-10-01"), d("2026-10-06"))
    );
    assert_eq!(
        bounds("day eq 2026-10-01 or day eq 2026-12-01"),
        (d("2026-10-01"), d("2026-12-02"))
    );
    assert_eq!(bounds("day eq 2026-10-01 or clicks gt 1"), (None, None));
    assert_eq!(bounds("not (day lt 2026-10-01)"), (d("2026-10-01"), None));
    assert_eq!(
        bounds("not (day lt 2026-10-01 or day ge 2026-11-01)"),
        (d("2026-10-01"), d("2026-11-01"))
    );
    assert_eq!(bounds("year(day) ge 2025"), (d("2025-01-01"), None));
    assert_eq!(bounds("year(day) lt 2025"), (None, d("2025-01-01")));
    assert_eq!(bounds("month(day) eq 10"), (None, None));
    assert_eq!(
        bounds("year(day) eq 2026 and month(day) eq 2 and day(day) eq 28"),
        (d("2026-02-28"), d("2026-03-01"))
    );
    assert_eq!(bounds("day eq null"), (None, None));
    assert_eq!(bounds("day ne 2026-10-01"), (None, None));
    assert_eq!(bounds("year(day) eq 2026.5"), (None, None));
    let (from, to) = bounds("day lt 2026-01-01 and day ge 2026-02-01");
    assert!(from >= to);
}

#[test]
fn required_equalities_are_top_level_conjuncts_only() {
    let equalities = |raw| required_equalities(&parse(raw));
    assert_eq!(
        equalities("program_id eq 'a' and (partner_id eq 'b' and clicks gt 1)"),
        vec![
            ("program_id".to_owned(), "a".to_owned()),
            ("partner_id".to_owned(), "b".to_owned())
        ]
    );
    assert!(equalities("program_id eq 'a' or partner_id eq 'b'").is_empty());
    assert!(equalities("not (program_id eq 'a')").is_empty());
    assert!(equalities("program_id ne 'a'").is_empty());
}

fn pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

#[test]
fn options_are_read_and_unknown_ones_refused() {
    let o = parse_options(
        &pairs("$select=day,clicks&$top=10&$skip=5&$count=true&$format=json"),
        SCHEMA,
    )
    .unwrap();
    assert_eq!(o.select.unwrap(), vec!["day", "clicks"]);
    assert_eq!((o.top, o.skip, o.count), (Some(10), 5, true));
    for option in ["$expand=Partner", "$apply=groupby((day))", "$search=a"] {
        assert!(
            matches!(
                parse_options(&pairs(option), SCHEMA),
                Err(Refusal::NotImplemented(_))
            ),
            "{option}"
        );
    }
    for option in ["$top=x", "$skip=-1", "$count=yes", "$filter=day"] {
        assert!(
            matches!(parse_options(&pairs(option), SCHEMA), Err(Refusal::Bad(_))),
            "{option}"
        );
    }
}

#[test]
fn empty_filter_and_orderby_are_no_options() {
    let o = parse_options(&pairs("$filter=&$orderby=%20&$count=true"), SCHEMA).unwrap();
    assert_eq!((o.filter, o.orderby), (None, vec![]));
    let o = parse_options(
        &pairs(
            "$filter=(day%20ge%202026-10-01)%20and%20(day%20lt%202026-11-01)&$orderby=day%20desc",
        ),
        SCHEMA,
    )
    .unwrap();
    assert!(o.filter.is_some());
    assert_eq!(
        o.orderby,
        vec![OrderBy {
            property: "day".into(),
            descending: true
        }]
    );
}

#[test]
fn orderby_parses_and_refuses() {
    assert_eq!(
        parse_orderby("day desc, clicks,partner_name ASC", SCHEMA).unwrap(),
        vec![
            OrderBy {
                property: "day".into(),
                descending: true
            },
            OrderBy {
                property: "clicks".into(),
                descending: false
            },
            OrderBy {
                property: "partner_name".into(),
                descending: false
            },
        ]
    );
    for raw in [
        "Day",
        "day sideways",
        "day,",
        ",day",
        "day desc asc",
        "'day'",
    ] {
        assert!(
            matches!(parse_orderby(raw, SCHEMA), Err(Refusal::Bad(ref i)) if i.field == "$orderby"),
            "{raw}"
        );
    }
    for raw in ["year(day) desc", "partner/name"] {
        assert!(
            matches!(parse_orderby(raw, SCHEMA), Err(Refusal::NotImplemented(_))),
            "{raw}"
        );
    }
}

#[test]
fn ordering_puts_nulls_first_ascending_and_last_descending() {
    let rows = [
        vec![("clicks", Value::Int(3)), ("x", text("b"))],
        vec![("x", text("a"))],
        vec![("clicks", Value::Int(1)), ("x", text("c"))],
        vec![("clicks", Value::Int(3)), ("x", text("a"))],
    ];
    let sorted = |raw: &str| {
        let order = parse_orderby(raw, SCHEMA).unwrap();
        let mut indexes: Vec<usize> = (0..rows.len()).collect();
        indexes.sort_by(|&a, &b| compare(&order, &row(&rows[a]), &row(&rows[b])));
        indexes
    };
    assert_eq!(sorted("clicks"), vec![1, 2, 0, 3]);
    assert_eq!(sorted("clicks desc, x"), vec![3, 0, 2, 1]);
}
