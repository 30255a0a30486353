//! One value of a report table, typed, so that each surface renders it its own way: JSON
//! (money as a two-decimal string, ratios as numbers), CSV, OData (decimals unquoted) and
//! spreadsheets (dates as dates, money as numbers).

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use crate::domain::money::format_money;

/// Decimals of a ratio or a quantity (`kpis.md`).
const RATIO_DECIMALS: u32 = 6;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value: an undefined KPI (zero denominator) or an absent attribute.
    Null,
    Text(String),
    /// A calendar day, or the Monday of a week.
    Date(NaiveDate),
    /// A calendar month, held as its first day.
    Month(NaiveDate),
    Count(i64),
    /// Money, exact; shown rounded half away from zero to cents.
    Money(Decimal),
    /// A pure ratio, rounded to 6 decimals.
    Ratio(Decimal),
    /// A quantity that is neither money nor a ratio (hours), rounded to 6 decimals.
    Number(Decimal),
}

impl Cell {
    pub fn text(value: Option<&str>) -> Self {
        value.map_or(Cell::Null, |text| Cell::Text(text.to_owned()))
    }

    /// `numerator / denominator` as a ratio, or null when the denominator is zero.
    pub fn ratio(numerator: Decimal, denominator: Decimal) -> Self {
        if denominator.is_zero() {
            return Cell::Null;
        }
        Cell::Ratio(round6(numerator / denominator))
    }

    /// `numerator / denominator` as money, or null when the denominator is zero.
    pub fn money_per(numerator: Decimal, denominator: Decimal) -> Self {
        if denominator.is_zero() {
            Cell::Null
        } else {
            Cell::Money(numerator / denominator)
        }
    }

    pub fn number(value: Option<Decimal>) -> Self {
        value.map_or(Cell::Null, |v| Cell::Number(round6(v)))
    }

    /// The cell as the JSON API shows it.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Count(n) => Value::from(*n),
            Cell::Ratio(v) | Cell::Number(v) => v
                .to_f64()
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::Null, Value::Number),
            Cell::Text(_) | Cell::Date(_) | Cell::Month(_) | Cell::Money(_) => {
                self.to_text().map_or(Value::Null, Value::String)
            }
        }
    }

    /// The cell as text (CSV, sort keys), `None` for null. Numbers are written as the
    /// JSON API writes them.
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            Cell::Null => return None,
            Cell::Text(text) => text.clone(),
            Cell::Date(day) => day.to_string(),
            Cell::Month(first) => first.format("%Y-%m").to_string(),
            Cell::Count(n) => n.to_string(),
            Cell::Money(amount) => format_money(*amount),
            Cell::Ratio(_) | Cell::Number(_) => self.to_json().to_string(),
        })
    }

    /// The text of a `Text` cell.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }
}

fn round6(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(RATIO_DECIMALS, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_renders_as_the_api_promises() {
        let day: NaiveDate = "2026-11-02".parse().unwrap();
        assert_eq!(Cell::Date(day).to_json(), "2026-11-02");
        assert_eq!(Cell::Month(day).to_json(), "2026-11");
        assert_eq!(Cell::Money(Decimal::new(12345, 3)).to_json(), "12.35");
        assert_eq!(Cell::Money(Decimal::new(-12345, 3)).to_json(), "-12.35");
        assert_eq!(Cell::Count(7).to_json(), 7);
        assert_eq!(Cell::ratio(1.into(), 3.into()).to_json(), 0.333333);
        assert_eq!(
            Cell::ratio(2.into(), 3.into()).to_text().unwrap(),
            "0.666667"
        );
        assert_eq!(Cell::Null.to_json(), Value::Null);
        assert_eq!(Cell::Null.to_text(), None);
    }

    #[test]
    fn zero_denominators_are_null_not_zero() {
        assert_eq!(Cell::ratio(5.into(), Decimal::ZERO), Cell::Null);
        assert_eq!(Cell::money_per(5.into(), Decimal::ZERO), Cell::Null);
        assert_eq!(Cell::number(None), Cell::Null);
    }
}
