//! The `$filter` syntax tree. It is normalised as it is built (a literal on the left of a
//! comparison is turned around, `a and b and c` is one `And`), and it prints back as
//! OData text that parses to the same tree.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use super::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Two or more conditions that all hold.
    And(Vec<Expr>),
    /// Two or more conditions of which one holds.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `target op value`, the value typed as the target's property.
    Compare {
        target: Target,
        op: CmpOp,
        value: Value,
    },
    /// `target in (v1, v2, …)`.
    In {
        target: Target,
        values: Vec<Value>,
    },
    /// `startswith(property,'needle')` and its siblings, on an `Edm.String` property.
    Text {
        function: TextFunction,
        property: String,
        needle: String,
    },
}

/// What a comparison reads from the row: a property, or a part of a date property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Property(String),
    Part(DatePart, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePart {
    Year,
    Month,
    Day,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFunction {
    StartsWith,
    EndsWith,
    Contains,
}

impl CmpOp {
    pub(super) fn from_keyword(lowercase: &str) -> Option<CmpOp> {
        Some(match lowercase {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    fn keyword(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
        }
    }

    /// The operator with its operands swapped: `5 lt x` is `x gt 5`.
    pub(super) fn swapped(self) -> CmpOp {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            same => same,
        }
    }

    /// The operator that holds exactly when this one does not (on non-null operands).
    pub(super) fn negated(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Ne,
            CmpOp::Ne => CmpOp::Eq,
            CmpOp::Gt => CmpOp::Le,
            CmpOp::Ge => CmpOp::Lt,
            CmpOp::Lt => CmpOp::Ge,
            CmpOp::Le => CmpOp::Gt,
        }
    }
}

impl DatePart {
    pub(super) fn from_name(lowercase: &str) -> Option<DatePart> {
        match lowercase {
            "year" => Some(DatePart::Year),
            "month" => Some(DatePart::Month),
            "day" => Some(DatePart::Day),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            DatePart::Year => "year",
            DatePart::Month => "month",
            DatePart::Day => "day",
        }
    }

    pub(super) fn of_date(self, date: NaiveDate) -> i64 {
        match self {
            DatePart::Year => i64::from(date.year()),
            DatePart::Month => i64::from(date.month()),
            DatePart::Day => i64::from(date.day()),
        }
    }

    /// The part in the value's own offset, as OData reads it.
    pub(super) fn of_date_time(self, at: &DateTime<FixedOffset>) -> i64 {
        self.of_date(at.date_naive())
    }
}

impl TextFunction {
    pub(super) fn from_name(lowercase: &str) -> Option<TextFunction> {
        match lowercase {
            "startswith" => Some(TextFunction::StartsWith),
            "endswith" => Some(TextFunction::EndsWith),
            "contains" => Some(TextFunction::Contains),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            TextFunction::StartsWith => "startswith",
            TextFunction::EndsWith => "endswith",
            TextFunction::Contains => "contains",
        }
    }

    pub(super) fn holds(self, text: &str, needle: &str) -> bool {
        match self {
            TextFunction::StartsWith => text.starts_with(needle),
            TextFunction::EndsWith => text.ends_with(needle),
            TextFunction::Contains => text.contains(needle),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Property(name) => f.write_str(name),
            Target::Part(part, name) => write!(f, "{}({name})", part.name()),
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// Conditions joined by `and`/`or`, compound ones in parentheses.
fn joined(f: &mut fmt::Formatter<'_>, items: &[Expr], keyword: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, " {keyword} ")?;
        }
        match item {
            Expr::And(_) | Expr::Or(_) => write!(f, "({item})")?,
            _ => write!(f, "{item}")?,
        }
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(items) => joined(f, items, "and"),
            Expr::Or(items) => joined(f, items, "or"),
            // `not` binds tighter than a comparison: `not (x gt 5)` needs its parentheses.
            Expr::Not(inner) => match **inner {
                Expr::Text { .. } | Expr::Not(_) => write!(f, "not {inner}"),
                _ => write!(f, "not ({inner})"),
            },
            Expr::Compare { target, op, value } => write!(f, "{target} {op} {value}"),
            Expr::In { target, values } => {
                let values: Vec<String> = values.iter().map(Value::to_string).collect();
                write!(f, "{target} in ({})", values.join(","))
            }
            Expr::Text {
                function,
                property,
                needle,
            } => write!(
                f,
                "{}({property},{})",
                function.name(),
                Value::Text(needle.clone())
            ),
        }
    }
}
