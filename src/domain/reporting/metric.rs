//! Every metric of `kpis.md`: its name, its kind, what a report must gather for it, and
//! its value from a row's base measures (at query time, never averages of ratios).

use rust_decimal::Decimal;

use super::{vocabulary, Bases, Cell};
use crate::domain::money::from_cents;
use crate::domain::Invalid;

vocabulary!(
    /// A column a report can show, in the order reports show them.
    Metric {
        Clicks = "clicks",
        UniqueClicks = "unique_clicks",
        BotClicks = "bot_clicks",
        Impressions = "impressions",
        Leads = "leads",
        QualifiedLeads = "qualified_leads",
        Sales = "sales",
        Refunds = "refunds",
        Revenue = "revenue",
        Commission = "commission",
        OtherCost = "other_cost",
        Cost = "cost",
        NewCustomers = "new_customers",
        CrClickToLead = "cr_click_to_lead",
        CrLeadToSale = "cr_lead_to_sale",
        CrClickToSale = "cr_click_to_sale",
        Ctr = "ctr",
        Epc = "epc",
        Rpc = "rpc",
        Ecpm = "ecpm",
        Aov = "aov",
        Cpa = "cpa",
        Cac = "cac",
        Roi = "roi",
        Roas = "roas",
        Ltv = "ltv",
        PartnersTotal = "partners_total",
        ActivePartners = "active_partners",
        SellingPartners = "selling_partners",
        PartnerConversion = "partner_conversion",
        PartnerRetention = "partner_retention",
        AvgSalesPerPartner = "avg_sales_per_partner",
        ResponseTimeHoursMedian = "response_time_hours_median",
    }
);

/// What a metric's values are, for every surface that types them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A whole number (clicks, partners).
    Count,
    /// A sum of money.
    Money,
    /// Money divided by a count (EPC, AOV, CPA): money, rounded to cents.
    MoneyPerUnit,
    /// A pure ratio (conversion rates, ROI), a number rounded to 6 decimals.
    Ratio,
    /// Hours, a number rounded to 6 decimals.
    Hours,
}

/// What a report must gather beyond the rollup sums for its metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// Each partner's activity per row (distinct active and selling partners).
    pub partner_activity: bool,
    /// Approved partners at each row's period end.
    pub partners_total: bool,
    /// Partner activity in the period of equal length before the range.
    pub retention: bool,
    /// First sales of new customers and their lifetime revenue.
    pub customers: bool,
    /// Leads' response times.
    pub responses: bool,
}

impl Needs {
    fn union(self, other: Needs) -> Needs {
        Needs {
            partner_activity: self.partner_activity || other.partner_activity,
            partners_total: self.partners_total || other.partners_total,
            retention: self.retention || other.retention,
            customers: self.customers || other.customers,
            responses: self.responses || other.responses,
        }
    }

    /// What `metrics` need together.
    pub fn of(metrics: &[Metric]) -> Needs {
        metrics
            .iter()
            .fold(Needs::default(), |needs, m| needs.union(m.needs()))
    }
}

impl Metric {
    /// The metrics a report shows when none are asked for: every base measure and
    /// derived KPI (the partner-network KPIs are asked for by name).
    pub fn defaults() -> Vec<Metric> {
        Self::ALL
            .iter()
            .copied()
            .take_while(|m| *m != Metric::PartnersTotal)
            .collect()
    }

    pub fn kind(self) -> MetricKind {
        use Metric::*;
        match self {
            Clicks | UniqueClicks | BotClicks | Impressions | Leads | QualifiedLeads | Sales
            | Refunds | NewCustomers | PartnersTotal | ActivePartners | SellingPartners => {
                MetricKind::Count
            }
            Revenue | Commission | OtherCost | Cost => MetricKind::Money,
            Epc | Rpc | Ecpm | Aov | Cpa | Cac | Ltv | AvgSalesPerPartner => {
                MetricKind::MoneyPerUnit
            }
            CrClickToLead | CrLeadToSale | CrClickToSale | Ctr | Roi | Roas | PartnerConversion
            | PartnerRetention => MetricKind::Ratio,
            ResponseTimeHoursMedian => MetricKind::Hours,
        }
    }

    pub fn needs(self) -> Needs {
        use Metric::*;
        let none = Needs::default();
        match self {
            Clicks | UniqueClicks | BotClicks | Impressions | Leads | QualifiedLeads | Sales
            | Refunds | Revenue | Commission | OtherCost | Cost | CrClickToLead | CrLeadToSale
            | CrClickToSale | Ctr | Epc | Rpc | Ecpm | Aov | Cpa | Roi | Roas => none,
            NewCustomers | Cac | Ltv => Needs {
                customers: true,
                ..none
            },
            PartnersTotal => Needs {
                partners_total: true,
                ..none
            },
            ActivePartners | SellingPartners | AvgSalesPerPartner => Needs {
                partner_activity: true,
                ..none
            },
            PartnerConversion => Needs {
                partner_activity: true,
                partners_total: true,
                ..none
            },
            PartnerRetention => Needs {
                partner_activity: true,
                retention: true,
                ..none
            },
            ResponseTimeHoursMedian => Needs {
                responses: true,
                ..none
            },
        }
    }

    /// The metric's value for a row with bases `b`.
    pub fn value(self, b: &Bases) -> Cell {
        use Metric::*;
        let count = Decimal::from;
        let revenue = from_cents(b.revenue_cents);
        let commission = from_cents(b.commission_cents);
        let cost = from_cents(b.cost_cents());
        match self {
            Clicks => Cell::Count(b.clicks),
            UniqueClicks => Cell::Count(b.unique_clicks),
            BotClicks => Cell::Count(b.bot_clicks),
            Impressions => Cell::Count(b.impressions),
            Leads => Cell::Count(b.leads),
            QualifiedLeads => Cell::Count(b.qualified_leads),
            Sales => Cell::Count(b.sales),
            Refunds => Cell::Count(b.refunds),
            Revenue => Cell::Money(revenue),
            Commission => Cell::Money(commission),
            OtherCost => Cell::Money(from_cents(b.other_cost_cents)),
            Cost => Cell::Money(cost),
            NewCustomers => Cell::Count(b.new_customers),
            CrClickToLead => Cell::ratio(count(b.leads), count(b.clicks)),
            CrLeadToSale => Cell::ratio(count(b.sales), count(b.leads)),
            CrClickToSale => Cell::ratio(count(b.sales), count(b.clicks)),
            Ctr => Cell::ratio(count(b.clicks), count(b.impressions)),
            Epc => Cell::money_per(commission, count(b.clicks)),
            Rpc => Cell::money_per(revenue, count(b.clicks)),
            Ecpm => Cell::money_per(commission * Decimal::ONE_THOUSAND, count(b.impressions)),
            Aov => Cell::money_per(revenue, count(b.sales)),
            Cpa => Cell::money_per(cost, count(b.sales)),
            Cac => Cell::money_per(cost, count(b.new_customers)),
            Roi => Cell::ratio(revenue - cost, cost),
            Roas => Cell::ratio(revenue, cost),
            Ltv => {
                let customers = count(b.new_customers);
                match Cell::money_per(from_cents(b.new_customer_revenue_cents), customers) {
                    Cell::Money(per_customer) => Cell::Money(per_customer - cost / customers),
                    undefined => undefined,
                }
            }
            PartnersTotal => Cell::Count(b.partners_total),
            ActivePartners => Cell::Count(b.active_partners),
            SellingPartners => Cell::Count(b.selling_partners),
            PartnerConversion => Cell::ratio(count(b.selling_partners), count(b.partners_total)),
            PartnerRetention => Cell::ratio(
                count(b.retained_partners),
                count(b.previously_active_partners),
            ),
            AvgSalesPerPartner => Cell::money_per(revenue, count(b.selling_partners)),
            ResponseTimeHoursMedian => Cell::number(b.response_time_hours_median),
        }
    }
}

/// Parses `metrics`: absent or empty means the defaults; every unknown name is refused.
pub fn parse_metrics(raw: Option<&str>) -> Result<Vec<Metric>, Invalid> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(Metric::defaults());
    };
    let mut chosen = Vec::new();
    for name in raw.split(',').map(str::trim) {
        let metric = Metric::parse(name).ok_or_else(|| {
            Invalid::new(
                "metrics",
                "unknown_metric",
                format!("'{name}' is not a metric of kpis.md"),
            )
        })?;
        if !chosen.contains(&metric) {
            chosen.push(metric);
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

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

    fn json(metric: Metric, b: &Bases) -> Value {
        metric.value(b).to_json()
    }

    #[test]
    fn every_kpi_follows_kpis_md() {
        use Metric::*;
        let b = bases();
        let v = |metric| json(metric, &b);
        assert_eq!(v(Revenue), "1599.92");
        assert_eq!(v(Commission), "160.00");
        assert_eq!(v(OtherCost), "40.00");
        assert_eq!(v(Cost), "200.00");
        assert_eq!(v(CrClickToLead), 0.04);
        assert_eq!(v(CrLeadToSale), 0.2);
        assert_eq!(v(CrClickToSale), 0.008);
        assert_eq!(v(Ctr), 0.05);
        assert_eq!(v(Epc), "0.16");
        assert_eq!(v(Rpc), "1.60");
        assert_eq!(v(Ecpm), "8.00");
        assert_eq!(v(Aov), "199.99");
        assert_eq!(v(Cpa), "25.00");
        assert_eq!(v(Cac), "40.00");
        assert_eq!(v(Roi), 6.9996);
        assert_eq!(v(Roas), 7.9996);
        // 2000.00 / 5 − 200.00 / 5 = 400.00 − 40.00
        assert_eq!(v(Ltv), "360.00");
        assert_eq!(v(ActivePartners), 4);
        assert_eq!(v(SellingPartners), 3);
        assert_eq!(v(AvgSalesPerPartner), "533.31");
        assert_eq!(v(PartnersTotal), 6);
        assert_eq!(v(PartnerConversion), 0.5);
        assert_eq!(v(PartnerRetention), 0.6);
        assert_eq!(v(ResponseTimeHoursMedian), 2.5);
    }

    #[test]
    fn undefined_kpis_are_null_and_sums_are_zero() {
        let none = Bases::default();
        for metric in Metric::ALL {
            let value = json(*metric, &none);
            match metric.kind() {
                MetricKind::Count => assert_eq!(value, 0, "{metric:?}"),
                MetricKind::Money => assert_eq!(value, "0.00", "{metric:?}"),
                MetricKind::MoneyPerUnit | MetricKind::Ratio | MetricKind::Hours => {
                    assert_eq!(value, Value::Null, "{metric:?}")
                }
            }
        }
    }

    #[test]
    fn ratios_round_to_six_decimals() {
        let b = Bases {
            clicks: 3,
            leads: 2,
            ..Bases::default()
        };
        assert_eq!(json(Metric::CrClickToLead, &b), 0.666667);
    }

    #[test]
    fn names_round_trip_and_every_member_is_listed_once() {
        for (i, metric) in Metric::ALL.iter().enumerate() {
            assert_eq!(Metric::parse(metric.name()), Some(*metric));
            assert_eq!(*metric as usize, i, "ALL is in declaration order");
        }
        assert_eq!(
            Metric::ALL.len(),
            Metric::ResponseTimeHoursMedian as usize + 1
        );
        assert_eq!(Metric::defaults().len(), 26);
    }

    #[test]
    fn metrics_default_to_all_and_unknown_ones_are_named() {
        assert_eq!(parse_metrics(None).unwrap(), Metric::defaults());
        assert_eq!(
            parse_metrics(Some("epc, clicks,epc")).unwrap(),
            vec![Metric::Epc, Metric::Clicks]
        );
        let error = parse_metrics(Some("clicks,hits")).unwrap_err();
        assert_eq!((error.field, error.code), ("metrics", "unknown_metric"));
        assert!(error.message.contains("'hits'"));
    }

    #[test]
    fn needs_follow_the_metrics() {
        let needs = Needs::of(&[Metric::Clicks, Metric::PartnerConversion, Metric::Ltv]);
        assert!(needs.partner_activity && needs.partners_total && needs.customers);
        assert!(!needs.retention && !needs.responses);
        assert!(!Needs::of(&Metric::defaults()).partner_activity);
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
            for metric in Metric::defaults() {
                prop_assert_eq!(metric.value(&left), metric.value(&whole));
            }
        }
    }
}
