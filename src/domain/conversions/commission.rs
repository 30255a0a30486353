//! The commission engine: which rule applies to a conversion, what it earns, and what a
//! refund takes back. Pure `Decimal` arithmetic; amounts are rounded half away from zero
//! to cents once, here, and every sum elsewhere is an exact sum of these.
//!
//! Precedence (the most specific rule wins):
//! 1. only rules for the conversion's event, whose volume tier is reached
//!    (`from_monthly_sale` ≤ the sale's number in the partner's calendar month; a rule
//!    without a tier is reached from the first sale);
//! 2. among those, partner rules beat segment rules, which beat program-wide rules;
//! 3. within that level, the highest tier reached wins; among equal tiers, the rule
//!    created last.

use rust_decimal::Decimal;

use crate::domain::conversions::ConversionEvent;
use crate::domain::money::{parse_amount, round_cents};
use crate::domain::partners::Segment;
use crate::domain::text::string_enum;
use crate::domain::Invalid;

string_enum!(
    /// `fixed`: the value is money per conversion (CPA); `percent`: the value is a
    /// percentage of the conversion's amount (CPS).
    RuleKind, "kind" { Fixed = "fixed", Percent = "percent" }
);

/// A commission rule of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub event: ConversionEvent,
    pub kind: RuleKind,
    pub value: Decimal,
    pub partner_id: Option<String>,
    pub segment: Option<Segment>,
    pub from_monthly_sale: Option<u32>,
    /// Creation order, for ties: later wins.
    pub created_at: i64,
}

/// What the engine needs to know about the conversion being recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Earning<'a> {
    pub event: ConversionEvent,
    pub amount: Decimal,
    pub partner_id: &'a str,
    pub segment: Segment,
    /// 1 for the partner's first sale of the calendar month, 2 for the second, …
    pub monthly_sale_number: u32,
}

fn specificity(rule: &Rule, earning: &Earning<'_>) -> Option<u8> {
    match (&rule.partner_id, rule.segment) {
        (Some(partner), _) if partner == earning.partner_id => Some(2),
        (Some(_), _) => None,
        (None, Some(segment)) if segment == earning.segment => Some(1),
        (None, Some(_)) => None,
        (None, None) => Some(0),
    }
}

/// The rule that applies to `earning`, if any.
pub fn applicable<'r>(rules: &'r [Rule], earning: &Earning<'_>) -> Option<&'r Rule> {
    rules
        .iter()
        .filter(|rule| rule.event == earning.event)
        .filter(|rule| rule.from_monthly_sale.unwrap_or(1) <= earning.monthly_sale_number)
        .filter_map(|rule| specificity(rule, earning).map(|level| (level, rule)))
        .max_by_key(|(level, rule)| (*level, rule.from_monthly_sale.unwrap_or(1), rule.created_at))
        .map(|(_, rule)| rule)
}

/// What the rule earns on `amount`, rounded to cents.
pub fn earned(rule: &Rule, amount: Decimal) -> Decimal {
    round_cents(match rule.kind {
        RuleKind::Fixed => rule.value,
        RuleKind::Percent => amount * rule.value / Decimal::ONE_HUNDRED,
    })
}

/// The commission of a conversion and the rule that set it (zero without a rule).
pub fn commission<'r>(rules: &'r [Rule], earning: &Earning<'_>) -> (Decimal, Option<&'r Rule>) {
    match applicable(rules, earning) {
        Some(rule) => (earned(rule, earning.amount), Some(rule)),
        None => (Decimal::ZERO, None),
    }
}

/// The commission a refund of `refund_amount` carries against a sale of `sale_amount`
/// that earned `sale_commission`: `round(−sale_commission × refund_amount / sale_amount)`,
/// so a full refund reverses the sale's commission exactly.
pub fn refund_commission(
    sale_commission: Decimal,
    sale_amount: Decimal,
    refund_amount: Decimal,
) -> Decimal {
    if sale_amount.is_zero() || refund_amount == sale_amount {
        return -sale_commission;
    }
    round_cents(-sale_commission * refund_amount / sale_amount)
}

/// A validated new rule (ids of program and partner are checked against storage).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRule {
    pub event: ConversionEvent,
    pub kind: RuleKind,
    pub value: Decimal,
    pub segment: Option<Segment>,
    pub from_monthly_sale: Option<u32>,
}

impl NewRule {
    /// A rule from its fields as given; `for_partner` says whether it narrows to a
    /// partner (whose id is checked against storage by the caller).
    pub fn parse(
        event: &str,
        kind: &str,
        value: &str,
        for_partner: bool,
        segment: Option<&str>,
        from_monthly_sale: Option<u32>,
    ) -> Result<Self, Invalid> {
        let event = ConversionEvent::parse(event)?;
        if event == ConversionEvent::Refund {
            return Err(Invalid::new(
                "event",
                "invalid_value",
                "refunds carry no rule: they reverse the sale's commission",
            ));
        }
        let kind = RuleKind::parse(kind)?;
        let value = parse_amount("value", value, 4)?;
        if kind == RuleKind::Percent && value > Decimal::ONE_HUNDRED {
            return Err(Invalid::new(
                "value",
                "out_of_range",
                "a percent rule's value is at most 100",
            ));
        }
        if from_monthly_sale == Some(0) {
            return Err(Invalid::new(
                "from_monthly_sale",
                "out_of_range",
                "from_monthly_sale counts from 1 (the first sale of the month)",
            ));
        }
        if for_partner && segment.is_some() {
            return Err(Invalid::new(
                "segment",
                "conflicting_values",
                "a rule narrows to a partner or to a segment, not both",
            ));
        }
        Ok(Self {
            event,
            kind,
            value,
            segment: segment.map(Segment::parse).transpose()?,
            from_monthly_sale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(id: &str, event: ConversionEvent, kind: RuleKind, value: &str) -> Rule {
        Rule {
            id: id.into(),
            event,
            kind,
            value: value.parse().unwrap(),
            partner_id: None,
            segment: None,
            from_monthly_sale: None,
            created_at: 0,
        }
    }

    fn sale(amount: &str, n: u32) -> Earning<'static> {
        Earning {
            event: ConversionEvent::Sale,
            amount: amount.parse().unwrap(),
            partner_id: "p1",
            segment: Segment::Blogger,
            monthly_sale_number: n,
        }
    }

    use ConversionEvent::{Lead, Qualified, Sale};
    use RuleKind::{Fixed, Percent};

    #[test]
    fn cps_is_a_percentage_of_the_amount_rounded_half_away_from_zero() {
        let rules = [rule("r", Sale, Percent, "10")];
        assert_eq!(
            commission(&rules, &sale("100.00", 1)).0.to_string(),
            "10.00"
        );
        assert_eq!(commission(&rules, &sale("0.05", 1)).0.to_string(), "0.01");
        assert_eq!(commission(&rules, &sale("19.99", 1)).0.to_string(), "2.00");
    }

    #[test]
    fn cpa_is_fixed_per_event() {
        let rules = [
            rule("lead", Lead, Fixed, "2.50"),
            rule("q", Qualified, Fixed, "5"),
        ];
        let lead = Earning {
            event: Lead,
            ..sale("0", 1)
        };
        let qualified = Earning {
            event: Qualified,
            ..sale("0", 1)
        };
        assert_eq!(commission(&rules, &lead).0.to_string(), "2.50");
        assert_eq!(commission(&rules, &qualified).0.to_string(), "5.00");
        assert_eq!(
            commission(&rules, &sale("100", 1)).0,
            Decimal::ZERO,
            "no sale rule"
        );
    }

    #[test]
    fn partner_beats_segment_beats_program() {
        let program = rule("program", Sale, Percent, "10");
        let segment = Rule {
            segment: Some(Segment::Blogger),
            ..rule("segment", Sale, Percent, "12")
        };
        let other_segment = Rule {
            segment: Some(Segment::Agency),
            ..rule("agency", Sale, Percent, "30")
        };
        let partner = Rule {
            partner_id: Some("p1".into()),
            ..rule("partner", Sale, Percent, "15")
        };
        let other_partner = Rule {
            partner_id: Some("p2".into()),
            ..rule("p2", Sale, Percent, "40")
        };
        let all = [
            program.clone(),
            segment.clone(),
            other_segment.clone(),
            partner.clone(),
            other_partner.clone(),
        ];
        assert_eq!(applicable(&all, &sale("1", 1)).unwrap().id, "partner");
        let no_partner = [
            program.clone(),
            segment.clone(),
            other_segment.clone(),
            other_partner.clone(),
        ];
        assert_eq!(
            applicable(&no_partner, &sale("1", 1)).unwrap().id,
            "segment"
        );
        let only_program = [program, other_segment, other_partner];
        assert_eq!(
            applicable(&only_program, &sale("1", 1)).unwrap().id,
            "program"
        );
    }

    #[test]
    fn the_highest_tier_reached_wins_within_a_level() {
        let base = rule("base", Sale, Percent, "10");
        let tier = Rule {
            from_monthly_sale: Some(21),
            ..rule("tier", Sale, Percent, "12")
        };
        let rules = [base, tier];
        assert_eq!(applicable(&rules, &sale("1", 20)).unwrap().id, "base");
        assert_eq!(applicable(&rules, &sale("1", 21)).unwrap().id, "tier");
        assert_eq!(commission(&rules, &sale("100", 25)).0.to_string(), "12.00");
    }

    #[test]
    fn an_unreached_partner_tier_falls_back_to_a_wider_rule() {
        let program = rule("program", Sale, Percent, "10");
        let partner_tier = Rule {
            partner_id: Some("p1".into()),
            from_monthly_sale: Some(5),
            ..rule("partner-tier", Sale, Percent, "20")
        };
        let rules = [program, partner_tier];
        assert_eq!(applicable(&rules, &sale("1", 4)).unwrap().id, "program");
        assert_eq!(
            applicable(&rules, &sale("1", 5)).unwrap().id,
            "partner-tier"
        );
    }

    #[test]
    fn the_later_of_two_equal_rules_wins() {
        let old = rule("old", Sale, Percent, "10");
        let new = Rule {
            created_at: 5,
            ..rule("new", Sale, Percent, "11")
        };
        assert_eq!(applicable(&[old, new], &sale("1", 1)).unwrap().id, "new");
    }

    #[test]
    fn refunds_reverse_proportionally_and_exactly_when_full() {
        let c: Decimal = "10.00".parse().unwrap();
        let amount: Decimal = "100.00".parse().unwrap();
        assert_eq!(refund_commission(c, amount, amount), -c);
        assert_eq!(
            refund_commission(c, amount, "25".parse().unwrap()).to_string(),
            "-2.50"
        );
        assert_eq!(
            refund_commission(
                "3.33".parse().unwrap(),
                "9.99".parse().unwrap(),
                "3.33".parse().unwrap()
            )
            .to_string(),
            "-1.11"
        );
    }

    #[test]
    fn rule_bodies_are_validated() {
        let plain = |event, kind, value| NewRule::parse(event, kind, value, false, None, None);
        assert!(plain("sale", "percent", "10").is_ok());
        assert_eq!(plain("refund", "fixed", "1").unwrap_err().field, "event");
        assert_eq!(plain("sale", "cpm", "1").unwrap_err().field, "kind");
        assert_eq!(plain("sale", "percent", "101").unwrap_err().field, "value");
        assert_eq!(plain("sale", "fixed", "-1").unwrap_err().field, "value");
        let tier = NewRule::parse("sale", "fixed", "1", false, None, Some(0));
        assert_eq!(tier.unwrap_err().field, "from_monthly_sale");
        let both = NewRule::parse("sale", "fixed", "1", true, Some("expert"), None);
        assert_eq!(both.unwrap_err().field, "segment");
        let segment = NewRule::parse("lead", "fixed", "2.50", false, Some("expert"), Some(3));
        assert_eq!(segment.unwrap().segment, Some(Segment::Expert));
    }

    fn money() -> impl Strategy<Value = Decimal> {
        (0i64..1_000_000_000).prop_map(|cents| Decimal::new(cents, 2))
    }

    proptest! {
        #[test]
        fn percent_commission_never_exceeds_the_sale(amount in money(), pct in 0u32..=10_000) {
            let rules = [rule("r", Sale, Percent, &Decimal::new(i64::from(pct), 2).to_string())];
            let earning = Earning { amount, ..sale("0", 1) };
            let (c, _) = commission(&rules, &earning);
            prop_assert!(c <= amount);
            prop_assert!(c >= Decimal::ZERO);
            prop_assert_eq!(c.scale() <= 2, true);
        }

        #[test]
        fn refunds_in_parts_never_reverse_more_than_about_the_commission(
            amount in money().prop_filter("non-zero", |a| !a.is_zero()),
            pct in 0u32..=10_000,
            split in 1u32..100,
        ) {
            let rules = [rule("r", Sale, Percent, &Decimal::new(i64::from(pct), 2).to_string())];
            let (c, _) = commission(&rules, &Earning { amount, ..sale("0", 1) });
            let part = round_cents(amount * Decimal::from(split) / Decimal::ONE_HUNDRED);
            let rest = amount - part;
            let reversed = refund_commission(c, amount, part) + refund_commission(c, amount, rest);
            // Two roundings of half a cent each at most.
            prop_assert!((c + reversed).abs() <= Decimal::new(1, 2));
            prop_assert_eq!(refund_commission(c, amount, amount) + c, Decimal::ZERO);
        }
    }
}
