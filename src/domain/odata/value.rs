//! Typed values: the literals of a `$filter` once typed against their property, and the
//! property values of a row. Decimals stay `rust_decimal` (money compares exactly); only
//! `Edm.Double` properties compare as floats.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};

use super::{edm_type, EdmType, Schema};
use crate::domain::time::parse_date;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Date(NaiveDate),
    /// Keeps its offset: `year()` and friends read the date where the value was written.
    DateTime(DateTime<FixedOffset>),
    Int(i64),
    Decimal(Decimal),
    Double(f64),
    Bool(bool),
}

impl Value {
    /// How two non-null values compare, if they are comparable: numbers across `Int` and
    /// `Decimal` exactly, with a `Double` as floats; date-times by instant.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::DateTime(a), Value::DateTime(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Double(_), _) | (_, Value::Double(_)) => {
                self.float()?.partial_cmp(&other.float()?)
            }
            _ => Some(self.exact()?.cmp(&other.exact()?)),
        }
    }

    /// A total order for `$orderby`: null lowest (as OData sorts it), then by value;
    /// values of different kinds (never within one property) by kind, and NaN by
    /// `total_cmp`, so that sorting never meets an inconsistent comparison.
    pub fn order(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Double(a), Value::Double(b)) => a.total_cmp(b),
            _ => self
                .rank()
                .cmp(&other.rank())
                .then_with(|| self.compare(other).unwrap_or(Ordering::Equal)),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Decimal(_) | Value::Double(_) => 2,
            Value::Text(_) => 3,
            Value::Date(_) => 4,
            Value::DateTime(_) => 5,
        }
    }

    fn exact(&self) -> Option<Decimal> {
        match self {
            Value::Int(i) => Some(Decimal::from(*i)),
            Value::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    fn float(&self) -> Option<f64> {
        match self {
            Value::Double(f) => Some(*f),
            Value::Int(i) => i.to_f64(),
            Value::Decimal(d) => d.to_f64(),
            _ => None,
        }
    }

    /// A property value from the JSON the feed builds its entities as (decimals as
    /// strings, dates and date-times as ISO text); anything unreadable is null.
    pub fn from_json(edm: EdmType, json: &Json) -> Value {
        match json {
            Json::String(text) => Value::from_text(edm, text),
            Json::Number(n) => Value::from_text(edm, &n.to_string()),
            Json::Bool(b) if edm == EdmType::Boolean => Value::Bool(*b),
            _ => Value::Null,
        }
    }

    fn from_text(edm: EdmType, text: &str) -> Value {
        let value = match edm {
            EdmType::String => Some(Value::Text(text.to_owned())),
            EdmType::Date => parse_date(text).map(Value::Date),
            EdmType::DateTimeOffset => DateTime::parse_from_rfc3339(text).ok().map(Value::DateTime),
            EdmType::Int64 => text.parse().ok().map(Value::Int),
            EdmType::Decimal => exact_number(text).map(Value::Decimal),
            EdmType::Double => text.parse().ok().map(Value::Double),
            EdmType::Boolean => text.parse().ok().map(Value::Bool),
        };
        value.unwrap_or(Value::Null)
    }
}

/// A decimal written plainly or in scientific notation, if it fits exactly.
pub(super) fn exact_number(text: &str) -> Option<Decimal> {
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

/// A float from OData's number text, including `INF`, `-INF` and `NaN`.
pub(super) fn float_number(text: &str) -> Option<f64> {
    f64::from_str(text).ok()
}

/// The row of an entity built as JSON, typed by `schema`: what `Expr::matches` and
/// `compare` read. A property the entity lacks is null.
pub fn entity_row<'a>(
    schema: &'a Schema,
    entity: &'a Map<String, Json>,
) -> impl Fn(&str) -> Value + 'a {
    move |property| match (edm_type(schema, property), entity.get(property)) {
        (Some(edm), Some(json)) => Value::from_json(edm, json),
        _ => Value::Null,
    }
}

/// The value as an OData literal, so that a printed expression parses back to itself.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Text(text) => write!(f, "'{}'", text.replace('\'', "''")),
            Value::Date(date) => write!(f, "{}", date.format("%Y-%m-%d")),
            Value::DateTime(at) => f.write_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Double(x) if x.is_nan() => f.write_str("NaN"),
            Value::Double(x) if x.is_infinite() => {
                f.write_str(if *x > 0.0 { "INF" } else { "-INF" })
            }
            Value::Double(x) => write!(f, "{x:?}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_exactly_across_int_and_decimal() {
        let cents = Value::Decimal(Decimal::new(1050, 2));
        assert_eq!(Value::Int(10).compare(&cents), Some(Ordering::Less));
        assert_eq!(
            Value::Decimal(Decimal::new(100, 1)).compare(&Value::Int(10)),
            Some(Ordering::Equal)
        );
        assert_eq!(Value::Text("a".into()).compare(&Value::Int(1)), None);
    }

    #[test]
    fn nulls_order_first() {
        assert_eq!(Value::Null.order(&Value::Int(-5)), Ordering::Less);
        assert_eq!(
            Value::Text("a".into()).order(&Value::Null),
            Ordering::Greater
        );
        assert_eq!(
            Value::Double(f64::NAN).order(&Value::Double(1.0)),
            Ordering::Greater
        );
    }

    #[test]
    fn json_values_are_typed_by_the_schema() {
        let schema: &Schema = &[
            ("day", EdmType::Date),
            ("clicks", EdmType::Int64),
            ("revenue", EdmType::Decimal),
            ("created_at", EdmType::DateTimeOffset),
        ];
        let entity: Map<String, Json> = serde_json::from_str(
            r#"{"day":"2026-10-01","clicks":7,"revenue":"12.50","created_at":"2026-10-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        let row = entity_row(schema, &entity);
        assert_eq!(
            row("day"),
            Value::Date(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap())
        );
        assert_eq!(row("clicks"), Value::Int(7));
        assert_eq!(row("revenue"), Value::Decimal(Decimal::new(1250, 2)));
        assert!(matches!(row("created_at"), Value::DateTime(_)));
        assert_eq!(row("missing"), Value::Null);
    }
}
