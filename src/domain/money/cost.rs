//! Program costs beside commissions: what the program spends on marketing, training,
//! support and the rest, by day, for ROI, CPA and CAC.

use rust_decimal::Decimal;
use serde::Deserialize;

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

/// `POST /api/v1/costs` as it arrives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostBody {
    pub program_id: String,
    pub date: String,
    pub category: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewCost {
    pub date: String,
    pub category: CostCategory,
    pub amount: Decimal,
}

impl NewCost {
    pub fn parse(body: &CostBody) -> Result<Self, Invalid> {
        let date = parse_date(&body.date).ok_or_else(|| {
            Invalid::new(
                "date",
                "invalid_date",
                "date must be a calendar date YYYY-MM-DD",
            )
        })?;
        Ok(Self {
            date: date.format("%Y-%m-%d").to_string(),
            category: CostCategory::parse(&body.category)?,
            amount: parse_amount("amount", &body.amount, 2)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<NewCost, Invalid> {
        NewCost::parse(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn costs_are_validated_field_by_field() {
        let ok = parse(
            r#"{"program_id":"p","date":"2026-11-01","category":"training","amount":"250.00"}"#,
        )
        .unwrap();
        assert_eq!(ok.category, CostCategory::Training);
        assert_eq!(ok.amount.to_string(), "250.00");
        assert_eq!(
            parse(r#"{"program_id":"p","date":"2026-13-01","category":"other","amount":"1"}"#)
                .unwrap_err()
                .field,
            "date"
        );
        assert_eq!(
            parse(r#"{"program_id":"p","date":"2026-11-01","category":"coffee","amount":"1"}"#)
                .unwrap_err()
                .field,
            "category"
        );
        assert_eq!(
            parse(r#"{"program_id":"p","date":"2026-11-01","category":"other","amount":"-1"}"#)
                .unwrap_err()
                .field,
            "amount"
        );
    }
}
