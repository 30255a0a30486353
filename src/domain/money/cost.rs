//! Program costs beside commissions: what the program spends on marketing, training,
//! support and the rest, by day, for ROI, CPA and CAC.

use rust_decimal::Decimal;

use crate::domain::money::parse_amount;
use crate::domain::text::string_enum;
use crate::domain::time::parse_date;
use crate::domain::Invalid;

string_enum!(
    /// What a cost was spent on.
    CostCategory, "category" {
        Marketing = "marketing",
        Training = "training",
        Support = "support",
        Other = "other",
    }
);

#[derive(Debug, Clone, PartialEq)]
pub struct NewCost {
    pub date: String,
    pub category: CostCategory,
    pub amount: Decimal,
}

impl NewCost {
    /// A cost from its fields as given: a `YYYY-MM-DD` date, a category and an amount.
    pub fn parse(date: &str, category: &str, amount: &str) -> Result<Self, Invalid> {
        let date = parse_date(date).ok_or_else(|| {
            Invalid::new(
                "date",
                "invalid_date",
                "date must be a calendar date YYYY-MM-DD",
            )
        })?;
        Ok(Self {
            date: date.format("%Y-%m-%d").to_string(),
            category: CostCategory::parse(category)?,
            amount: parse_amount("amount", amount, 2)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_validated_field_by_field() {
        let ok = NewCost::parse("2026-11-01", "training", "250.00").unwrap();
        assert_eq!(ok.category, CostCategory::Training);
        assert_eq!(ok.amount.to_string(), "250.00");
        let field =
            |date, category, amount| NewCost::parse(date, category, amount).unwrap_err().field;
        assert_eq!(field("2026-13-01", "other", "1"), "date");
        assert_eq!(field("2026-11-01", "coffee", "1"), "category");
        assert_eq!(field("2026-11-01", "other", "-1"), "amount");
    }
}
