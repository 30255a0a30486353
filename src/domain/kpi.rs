//! The KPI engine: base measures summed over any group and period, and every derived KPI
//! of `kpis.md` computed from those sums at query time (never averages of ratios). Money
//! is integer hundredths until it is shown as a two-decimal string; ratios are numbers
//! rounded to 6 decimals; a zero denominator gives `null`.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use super::money::{format_money, from_cents};
use super::Invalid;

/// The base measures of one group and period (read straight from report queries, whose
/// columns carry these names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Bases {
    pub clicks: i64,
    pub unique_clicks: i64,
    pub bot_clicks: i64,
    pub impressions: i64,
    pub leads: i64,
    pub qualified_leads: i64,
    pub sales: i64,
    pub refunds: i64,
    pub revenue_cents: i64,
    pub commission_cents: i64,
    pub other_cost_cents: i64,
    pub new_customers: i64,
    /// Revenue of this group's new customers over their whole history (for LTV).
    pub new_customer_revenue_cents: i64,
    /// Distinct counts, set once a row's facts are gathered (they do not add up).
    pub active_partners: i64,
    pub selling_partners: i64,
    /// Approved partners at the end of the row's period.
    pub partners_total: i64,
    /// Partners active in the period of equal length before the row's, and how many of
    /// them are active in the row's period too.
    pub previously_active_partners: i64,
    pub retained_partners: i64,
    /// Median hours from a lead to the first later response on its click.
    pub response_time_hours_median: Option<Decimal>,
}

impl Bases {
    pub fn add(&mut self, other: &Bases) {
        self.clicks += other.clicks;
        self.unique_clicks += other.unique_clicks;
        self.bot_clicks += other.bot_clicks;
        self.impressions += other.impressions;
        self.leads += other.leads;
        self.qualified_leads += other.qualified_leads;
        self.sales += other.sales;
        self.refunds += other.refunds;
        self.revenue_cents += other.revenue_cents;
        self.commission_cents += other.commission_cents;
        self.other_cost_cents += other.other_cost_cents;
        self.new_customers += other.new_customers;
        self.new_customer_revenue_cents += other.new_customer_revenue_cents;
    }

    pub fn cost_cents(&self) -> i64 {
        self.commission_cents + self.other_cost_cents
    }
}

/// Base measures, in the order reports show them.
pub const BASE_METRICS: &[&str] = &[
    "clicks",
    "unique_clicks",
    "bot_clicks",
    "impressions",
    "leads",
    "qualified_leads",
    "sales",
    "refunds",
    "revenue",
    "commission",
    "other_cost",
    "cost",
    "new_customers",
];

/// Derived KPIs, in the order reports show them.
pub const DERIVED_METRICS: &[&str] = &[
    "cr_click_to_lead",
    "cr_lead_to_sale",
    "cr_click_to_sale",
    "ctr",
    "epc",
    "rpc",
    "ecpm",
    "aov",
    "cpa",
    "cac",
    "roi",
    "roas",
    "ltv",
];

/// Partner-network KPIs a report can add (not in the default set).
pub const PARTNER_METRICS: &[&str] = &[
    "partners_total",
    "active_partners",
    "selling_partners",
    "partner_conversion",
    "partner_retention",
    "avg_sales_per_partner",
    "response_time_hours_median",
];

/// Whether `metric` needs each partner's activity rather than sums.
pub fn is_partner_metric(metric: &str) -> bool {
    matches!(
        metric,
        "active_partners"
            | "selling_partners"
            | "avg_sales_per_partner"
            | "partner_conversion"
            | "partner_retention"
    )
}

/// Parses `metrics`: absent means every base measure and derived KPI.
pub fn parse_metrics(raw: Option<&str>) -> Result<Vec<&'static str>, Invalid> {
    let defaults = || BASE_METRICS.iter().chain(DERIVED_METRICS);
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(defaults().copied().collect());
    };
    let all = || defaults().chain(PARTNER_METRICS);
    let mut chosen = Vec::new();
    for name in raw.split(',').map(str::trim) {
        let known = all().find(|m| **m == name).ok_or_else(|| {
            Invalid::new(
                "metrics",
                "unknown_metric",
                format!("'{name}' is not a metric of kpis.md"),
            )
        })?;
        if !chosen.contains(known) {
            chosen.push(*known);
        }
    }
    Ok(chosen)
}

fn money(cents: i64) -> Value {
    Value::String(format_money(from_cents(cents)))
}

/// `numerator / denominator` as money (two-decimal string), or null.
fn money_ratio(numerator: Decimal, denominator: Decimal) -> Value {
    if denominator.is_zero() {
        Value::Null
    } else {
        Value::String(format_money(numerator / denominator))
    }
}

/// `numerator / denominator` as a number rounded to 6 decimals, or null.
fn ratio(numerator: Decimal, denominator: Decimal) -> Value {
    if denominator.is_zero() {
        return Value::Null;
    }
    let value =
        (numerator / denominator).round_dp_with_strategy(6, RoundingStrategy::MidpointAwayFromZero);
    value
        .to_f64()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// The value of metric `name` for `b`.
pub fn value(name: &str, b: &Bases) -> Value {
    let count = Decimal::from;
    let cents = |c: i64| from_cents(c);
    let revenue = cents(b.revenue_cents);
    let commission = cents(b.commission_cents);
    let cost = cents(b.cost_cents());
    match name {
        "clicks" => b.clicks.into(),
        "unique_clicks" => b.unique_clicks.into(),
        "bot_clicks" => b.bot_clicks.into(),
        "impressions" => b.impressions.into(),
        "leads" => b.leads.into(),
        "qualified_leads" => b.qualified_leads.into(),
        "sales" => b.sales.into(),
        "refunds" => b.refunds.into(),
        "revenue" => money(b.revenue_cents),
        "commission" => money(b.commission_cents),
        "other_cost" => money(b.other_cost_cents),
        "cost" => money(b.cost_cents()),
        "new_customers" => b.new_customers.into(),
        "cr_click_to_lead" => ratio(count(b.leads), count(b.clicks)),
        "cr_lead_to_sale" => ratio(count(b.sales), count(b.leads)),
        "cr_click_to_sale" => ratio(count(b.sales), count(b.clicks)),
        "ctr" => ratio(count(b.clicks), count(b.impressions)),
        "epc" => money_ratio(commission, count(b.clicks)),
        "rpc" => money_ratio(revenue, count(b.clicks)),
        "ecpm" => money_ratio(commission * Decimal::ONE_THOUSAND, count(b.impressions)),
        "aov" => money_ratio(revenue, count(b.sales)),
        "cpa" => money_ratio(cost, count(b.sales)),
        "cac" => money_ratio(cost, count(b.new_customers)),
        "roi" => ratio(revenue - cost, cost),
        "roas" => ratio(revenue, cost),
        "active_partners" => b.active_partners.into(),
        "selling_partners" => b.selling_partners.into(),
        "avg_sales_per_partner" => money_ratio(revenue, count(b.selling_partners)),
        "partners_total" => b.partners_total.into(),
        "partner_conversion" => ratio(count(b.selling_partners), count(b.partners_total)),
        "partner_retention" => ratio(
            count(b.retained_partners),
            count(b.previously_active_partners),
        ),
        "response_time_hours_median" => b
            .response_time_hours_median
            .map_or(Value::Null, |hours| ratio(hours, Decimal::ONE)),
        "ltv" => {
            if b.new_customers == 0 {
                Value::Null
            } else {
                let customers = count(b.new_customers);
                let per_customer = cents(b.new_customer_revenue_cents) / customers;
                Value::String(format_money(per_customer - cost / customers))
            }
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bases() -> Bases {
        Bases {
            clicks: 1000,
            unique_clicks: 800,
            bot_clicks: 50,
            impressions: 20000,
            leads: 40,
            qualified_leads: 10,
            sales: 8,
            refunds: 1,
            revenue_cents: 159_992,
            commission_cents: 16_000,
            other_cost_cents: 4_000,
            new_customers: 5,
            new_customer_revenue_cents: 200_000,
            active_partners: 4,
            selling_partners: 3,
            partners_total: 6,
            previously_active_partners: 5,
            retained_partners: 3,
            response_time_hours_median: Some(Decimal::new(25, 1)),
        }
    }

    #[test]
    fn every_kpi_follows_kpis_md() {
        let b = bases();
        let v = |name| value(name, &b);
        assert_eq!(v("revenue"), "1599.92");
        assert_eq!(v("commission"), "160.00");
        assert_eq!(v("other_cost"), "40.00");
        assert_eq!(v("cost"), "200.00");
        assert_eq!(v("cr_click_to_lead"), 0.04);
        assert_eq!(v("cr_lead_to_sale"), 0.2);
        assert_eq!(v("cr_click_to_sale"), 0.008);
        assert_eq!(v("ctr"), 0.05);
        assert_eq!(v("epc"), "0.16");
        assert_eq!(v("rpc"), "1.60");
        assert_eq!(v("ecpm"), "8.00");
        assert_eq!(v("aov"), "199.99");
        assert_eq!(v("cpa"), "25.00");
        assert_eq!(v("cac"), "40.00");
        assert_eq!(v("roi"), 6.9996);
        assert_eq!(v("roas"), 7.9996);
        // 2000.00 / 5 − 200.00 / 5 = 400.00 − 40.00
        assert_eq!(v("ltv"), "360.00");
        assert_eq!(v("active_partners"), 4);
        assert_eq!(v("selling_partners"), 3);
        assert_eq!(v("avg_sales_per_partner"), "533.31");
        assert_eq!(v("partners_total"), 6);
        assert_eq!(v("partner_conversion"), 0.5);
        assert_eq!(v("partner_retention"), 0.6);
        assert_eq!(v("response_time_hours_median"), 2.5);
        let none = Bases::default();
        for undefined in [
            "partner_conversion",
            "partner_retention",
            "response_time_hours_median",
        ] {
            assert_eq!(value(undefined, &none), Value::Null, "{undefined}");
        }
    }

    #[test]
    fn zero_denominators_are_null_not_zero() {
        let b = Bases::default();
        for name in DERIVED_METRICS {
            assert_eq!(value(name, &b), Value::Null, "{name}");
        }
        assert_eq!(value("revenue", &b), "0.00");
        assert_eq!(value("clicks", &b), 0);
    }

    #[test]
    fn ratios_round_to_six_decimals() {
        let b = Bases {
            clicks: 3,
            leads: 1,
            ..Bases::default()
        };
        assert_eq!(value("cr_click_to_lead", &b), 0.333333);
        let b = Bases {
            clicks: 3,
            leads: 2,
            ..Bases::default()
        };
        assert_eq!(value("cr_click_to_lead", &b), 0.666667);
    }

    #[test]
    fn metrics_default_to_all_and_unknown_ones_are_named() {
        assert_eq!(
            parse_metrics(None).unwrap().len(),
            BASE_METRICS.len() + DERIVED_METRICS.len()
        );
        assert_eq!(
            parse_metrics(Some("epc, clicks,epc")).unwrap(),
            vec!["epc", "clicks"]
        );
        assert_eq!(
            parse_metrics(Some("clicks,hits")).unwrap_err().field,
            "metrics"
        );
    }

    fn some_bases() -> impl Strategy<Value = Bases> {
        (
            0i64..1000,
            0i64..1000,
            0i64..100,
            0i64..100_000,
            -50_000i64..50_000,
        )
            .prop_map(|(clicks, impressions, sales, revenue, commission)| Bases {
                clicks,
                unique_clicks: clicks / 2,
                impressions,
                leads: sales * 2,
                sales,
                revenue_cents: revenue,
                commission_cents: commission,
                ..Bases::default()
            })
    }

    proptest! {
        #[test]
        fn sums_over_any_partition_equal_the_whole(parts in proptest::collection::vec(some_bases(), 1..20), split in 0usize..20) {
            let split = split.min(parts.len());
            let mut whole = Bases::default();
            parts.iter().for_each(|p| whole.add(p));
            let (mut left, mut right) = (Bases::default(), Bases::default());
            parts[..split].iter().for_each(|p| left.add(p));
            parts[split..].iter().for_each(|p| right.add(p));
            left.add(&right);
            prop_assert_eq!(left, whole);
            for name in BASE_METRICS.iter().chain(DERIVED_METRICS) {
                prop_assert_eq!(value(name, &left), value(name, &whole));
            }
        }
    }
}
