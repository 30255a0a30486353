//! Evaluating a `$filter` on a row, with OData's null semantics: `eq`/`ne` treat null as
//! a value (`x eq null` holds when `x` is null), the ordering operators are false when an
//! operand is null (`ge`/`le` hold for two nulls, which are equal), a string function of
//! a null is null, and `and`/`or`/`not` follow three-valued logic. A row is kept only
//! when its condition is `true`, not when it is null.

use std::cmp::Ordering;

use super::expr::{CmpOp, Expr, Target};
use super::Value;

impl Expr {
    /// Whether the row (its property values by name) passes the filter.
    pub fn matches(&self, row: &impl Fn(&str) -> Value) -> bool {
        self.eval(row) == Some(true)
    }

    /// The condition's value: `None` is OData's null.
    fn eval(&self, row: &impl Fn(&str) -> Value) -> Option<bool> {
        match self {
            Expr::And(items) => all(items.iter().map(|item| item.eval(row))),
            Expr::Or(items) => all(items.iter().map(|item| item.eval(row).map(|b| !b))).map(|b| !b),
            Expr::Not(inner) => inner.eval(row).map(|b| !b),
            Expr::Compare { target, op, value } => Some(op.holds(&target.read(row), value)),
            Expr::In { target, values } => {
                let actual = target.read(row);
                Some(values.iter().any(|value| CmpOp::Eq.holds(&actual, value)))
            }
            Expr::Text {
                function,
                property,
                needle,
            } => match row(property) {
                Value::Text(text) => Some(function.holds(&text, needle)),
                _ => None,
            },
        }
    }
}

/// Three-valued conjunction: false if any is false, else null if any is null.
fn all(values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut result = Some(true);
    for value in values {
        match value {
            Some(false) => return Some(false),
            None => result = None,
            Some(true) => {}
        }
    }
    result
}

impl Target {
    /// The target's value in the row; a date part of a null (or non-date) is null.
    fn read(&self, row: &impl Fn(&str) -> Value) -> Value {
        match self {
            Target::Property(name) => row(name),
            Target::Part(part, name) => match row(name) {
                Value::Date(date) => Value::Int(part.of_date(date)),
                Value::DateTime(at) => Value::Int(part.of_date_time(&at)),
                _ => Value::Null,
            },
        }
    }
}

impl CmpOp {
    /// Whether `actual op expected` holds.
    fn holds(self, actual: &Value, expected: &Value) -> bool {
        match (actual, expected) {
            (Value::Null, Value::Null) => matches!(self, CmpOp::Eq | CmpOp::Ge | CmpOp::Le),
            (Value::Null, _) | (_, Value::Null) => self == CmpOp::Ne,
            _ => match actual.compare(expected) {
                Some(ordering) => self.accepts(ordering),
                // Incomparable (NaN): unequal, and neither above nor below.
                None => self == CmpOp::Ne,
            },
        }
    }

    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Eq => ordering.is_eq(),
            CmpOp::Ne => ordering.is_ne(),
            CmpOp::Gt => ordering.is_gt(),
            CmpOp::Ge => ordering.is_ge(),
            CmpOp::Lt => ordering.is_lt(),
            CmpOp::Le => ordering.is_le(),
        }
    }
}
