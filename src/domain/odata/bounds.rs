//! What the feed can push down to its query before evaluating a `$filter` in full: a day
//! range and `property eq 'text'` equalities. Both only ever over-approximate (every
//! row the filter keeps is inside them), since the filter still runs on every row.

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::prelude::ToPrimitive;

use super::expr::{CmpOp, DatePart, Expr, Target};
use super::Value;

/// Days `[from, to)`; `None` leaves a side open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

const ALL: Range = Range {
    from: None,
    to: None,
};

impl Range {
    fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Range {
        Range { from, to }
    }

    fn intersect(self, other: Range) -> Range {
        Range {
            from: either(self.from, other.from, NaiveDate::max),
            to: either(self.to, other.to, NaiveDate::min),
        }
    }

    fn hull(self, other: Range) -> Range {
        Range {
            from: self.from.zip(other.from).map(|(a, b)| a.min(b)),
            to: self.to.zip(other.to).map(|(a, b)| a.max(b)),
        }
    }
}

/// The tighter of two bounds, where `None` is no bound.
fn either(
    a: Option<NaiveDate>,
    b: Option<NaiveDate>,
    pick: fn(NaiveDate, NaiveDate) -> NaiveDate,
) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// Days `[from, to)` that contain the `Edm.Date` property `property` of every row the
/// filter keeps (rows where it is null aside); `None` leaves a side open. `and`
/// intersects, `or` takes the hull, `not` is pushed inwards; `year(p)` bounds on its
/// own, `month(p)` and `day(p)` only beside a `year(p) eq` in the same `and`. The range
/// may be empty (`from >= to`) when the filter cannot match.
pub fn day_bounds(expr: &Expr, property: &str) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let range = range(expr, property, false);
    (range.from, range.to)
}

/// The range of days where `expr` is true, or, `negated`, where it is false.
fn range(expr: &Expr, property: &str, negated: bool) -> Range {
    match (expr, negated) {
        (Expr::And(_), false) => {
            let parts = conjuncts(expr);
            let each = parts.iter().map(|part| range(part, property, false));
            each.fold(calendar(&parts, property), Range::intersect)
        }
        (Expr::Or(items), true) => items
            .iter()
            .map(|item| range(item, property, true))
            .fold(ALL, Range::intersect),
        // `a and b` is false where either is false; `a or b` true where either is true.
        (Expr::And(items) | Expr::Or(items), _) => items
            .iter()
            .map(|item| range(item, property, negated))
            .reduce(Range::hull)
            .unwrap_or(ALL),
        (Expr::Not(inner), _) => range(inner, property, !negated),
        (Expr::Compare { target, op, value }, _) => {
            let op = if negated { op.negated() } else { *op };
            comparison(target, op, value, property)
        }
        (Expr::In { target, values }, false) => values
            .iter()
            .map(|value| comparison(target, CmpOp::Eq, value, property))
            .reduce(Range::hull)
            .unwrap_or(ALL),
        (Expr::In { .. } | Expr::Text { .. }, _) => ALL,
    }
}

/// The conditions of an `and`, nested ones included.
fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::And(items) => items.iter().flat_map(conjuncts).collect(),
        other => vec![other],
    }
}

/// The days where `target op value` holds, for a non-null property.
fn comparison(target: &Target, op: CmpOp, value: &Value, property: &str) -> Range {
    match (target, value) {
        (Target::Property(name), Value::Date(day)) if name == property => days(op, *day),
        (Target::Part(DatePart::Year, name), _) if name == property => {
            whole(value).map_or(ALL, |year| years(op, year))
        }
        _ => ALL,
    }
}

fn days(op: CmpOp, day: NaiveDate) -> Range {
    let next = day.succ_opt();
    match op {
        CmpOp::Eq => Range::new(Some(day), next),
        CmpOp::Ge => Range::new(Some(day), None),
        CmpOp::Gt => Range::new(next, None),
        CmpOp::Lt => Range::new(None, Some(day)),
        CmpOp::Le => Range::new(None, next),
        CmpOp::Ne => ALL,
    }
}

fn years(op: CmpOp, year: i32) -> Range {
    let start = NaiveDate::from_ymd_opt(year, 1, 1);
    let end = year
        .checked_add(1)
        .and_then(|next| NaiveDate::from_ymd_opt(next, 1, 1));
    match op {
        CmpOp::Eq => Range::new(start, end),
        CmpOp::Ge => Range::new(start, None),
        CmpOp::Gt => Range::new(end, None),
        CmpOp::Lt => Range::new(None, start),
        CmpOp::Le => Range::new(None, end),
        CmpOp::Ne => ALL,
    }
}

/// A whole-number literal as an `i32`.
fn whole(value: &Value) -> Option<i32> {
    match value {
        Value::Int(i) => i32::try_from(*i).ok(),
        Value::Decimal(d) if d.is_integer() => d.to_i32(),
        _ => None,
    }
}

/// `year(p) eq Y and month(p) eq M [and day(p) eq D]` side by side in one `and`: that
/// month (or day).
fn calendar(conjuncts: &[&Expr], property: &str) -> Range {
    let part = |wanted: DatePart| {
        conjuncts.iter().find_map(|expr| match expr {
            Expr::Compare {
                target: Target::Part(part, name),
                op: CmpOp::Eq,
                value,
            } if *part == wanted && name == property => whole(value),
            _ => None,
        })
    };
    let (Some(year), Some(month)) = (part(DatePart::Year), part(DatePart::Month)) else {
        return ALL;
    };
    let Some(first) = u32::try_from(month)
        .ok()
        .and_then(|month| NaiveDate::from_ymd_opt(year, month, 1))
    else {
        return ALL;
    };
    let day = part(DatePart::Day)
        .and_then(|day| u32::try_from(day).ok())
        .and_then(|day| first.with_day(day));
    match day {
        Some(day) => days(CmpOp::Eq, day),
        None => Range::new(Some(first), first.checked_add_months(Months::new(1))),
    }
}

/// The `property eq 'text'` conditions every kept row satisfies (the top-level `and`s),
/// as (property, text): the feed narrows its query by them.
pub fn required_equalities(expr: &Expr) -> Vec<(String, String)> {
    conjuncts(expr)
        .into_iter()
        .filter_map(|part| match part {
            Expr::Compare {
                target: Target::Property(name),
                op: CmpOp::Eq,
                value: Value::Text(text),
            } => Some((name.clone(), text.clone())),
            _ => None,
        })
        .collect()
}
