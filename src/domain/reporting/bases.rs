//! The base measures of `kpis.md` for one group and period: sums that add up across
//! days and groups, plus the distinct counts a row gathers once its facts are in.

use rust_decimal::Decimal;

/// Read straight from report queries, whose columns carry these names.
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
    /// Adds the sums of `other` (distinct counts are set per row, not added).
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

    /// Whether anything happened: a non-bot click or a counted conversion.
    pub fn has_activity(&self) -> bool {
        self.clicks > 0 || self.leads + self.qualified_leads + self.sales + self.refunds > 0
    }
}
