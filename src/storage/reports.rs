//! The report queries: rollup hours summed into local days (the day expression maps each
//! UTC hour to its local day through the range's offset spans), first sales of new
//! customers, and program costs. Column and table names come from this module's
//! constants; values are always bound.

use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::D1Database;

use super::{Result, StorageError};
use crate::domain::partners::journey::StatusHistory;
use crate::domain::reporting::{Bases, Dimension, Dims, Filter, OffsetSpan, PartnerFacts};

impl Dimension {
    /// The report query columns this dimension selects and groups by (`r` is the rollup
    /// or fact row, `pg` its program, `pt` its partner, `l` its link); none for periods,
    /// which come from the hour.
    fn sql_columns(self) -> &'static [&'static str] {
        use Dimension::*;
        match self {
            Day | Week | Month => &[],
            Program => &["r.program_id", "pg.name AS program_name"],
            Partner => &[
                "r.partner_id",
                "pt.name AS partner_name",
                "pt.status AS partner_status",
            ],
            Link => &["r.link_id", "l.code AS link_code"],
            Material => &["r.material_id", "m.name AS material_name"],
            Country => &["r.country"],
            Device => &["r.device"],
            Source => &["r.source"],
            Attribution => &["r.attribution"],
            Variant => &["r.variant"],
            Segment => &["pt.segment"],
            Model => &["pg.model"],
        }
    }

    /// The column a filter on this dimension constrains.
    fn sql_filter(self) -> Option<&'static str> {
        self.sql_columns()
            .first()
            .map(|column| column.split(" AS ").next().unwrap_or(column))
    }
}

/// `CASE` mapping `column` (a UTC hour index) to its local day index.
fn local_day(column: &str, spans: &[OffsetSpan]) -> String {
    let mut sql = String::from("CASE");
    for span in spans {
        sql.push_str(&format!(
            " WHEN {column} < {} THEN ({column} + {}) / 24",
            span.to_hour, span.offset_hours
        ));
    }
    sql.push_str(" END");
    sql
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RollupRow {
    pub local_day: i64,
    #[serde(flatten)]
    pub dims: Dims,
    /// Present when grouped by partner.
    #[serde(default)]
    pub partner_status: Option<String>,
    #[serde(flatten)]
    pub bases: Bases,
}

const JOINS: &str = "LEFT JOIN programs pg ON pg.id = r.program_id \
     LEFT JOIN partners pt ON pt.id = r.partner_id LEFT JOIN links l ON l.id = r.link_id \
     LEFT JOIN materials m ON m.id = r.material_id";

fn filters_sql(filters: &[Filter], args: &mut Vec<JsValue>) -> String {
    let mut sql = String::new();
    for filter in filters {
        if let Some(column) = filter.dimension.sql_filter() {
            sql.push_str(&format!(" AND {column} = ?"));
            args.push(JsValue::from_str(&filter.value));
        }
    }
    sql
}

/// Rollup sums per local day and requested group over the spans' hours.
pub async fn rollup_days(
    db: &D1Database,
    spans: &[OffsetSpan],
    groups: &[Dimension],
    filters: &[Filter],
) -> Result<Vec<RollupRow>> {
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return Ok(Vec::new());
    };
    let selected: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.sql_columns().iter().copied())
        .collect();
    let grouped: Vec<&str> = selected
        .iter()
        .map(|c| c.split(" AS ").next().unwrap_or(c))
        .collect();
    let mut args = vec![
        JsValue::from_f64(first.from_hour as f64),
        JsValue::from_f64(last.to_hour as f64),
    ];
    let where_filters = filters_sql(filters, &mut args);
    let select_dims = selected
        .iter()
        .map(|c| format!(", {c}"))
        .collect::<String>();
    let group_dims = grouped.iter().map(|c| format!(", {c}")).collect::<String>();
    let sql = format!(
        "SELECT {day} AS local_day{select_dims}, sum(r.clicks) AS clicks, \
         sum(r.unique_clicks) AS unique_clicks, sum(r.bot_clicks) AS bot_clicks, \
         sum(r.impressions) AS impressions, sum(r.leads) AS leads, \
         sum(r.qualified_leads) AS qualified_leads, sum(r.sales) AS sales, sum(r.refunds) AS refunds, \
         sum(r.revenue_cents) AS revenue_cents, sum(r.commission_cents) AS commission_cents \
         FROM rollup_hourly r {JOINS} WHERE r.hour >= ? AND r.hour < ?{where_filters} \
         GROUP BY local_day{group_dims}",
        day = local_day("r.hour", spans),
    );
    db.prepare(sql)
        .bind(&args)?
        .all()
        .await?
        .results::<RollupRow>()
        .map_err(Into::into)
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewCustomerRow {
    pub ts: i64,
    #[serde(flatten)]
    pub dims: Dims,
    pub lifetime_revenue_cents: i64,
}

/// The first counted sale of every customer whose first counted sale ever (within its
/// program) falls in `[start_ms, end_ms)`, with its dimensions and the customer's revenue
/// over their whole history.
pub async fn new_customers(
    db: &D1Database,
    start_ms: i64,
    end_ms: i64,
    filters: &[Filter],
) -> Result<Vec<NewCustomerRow>> {
    let mut args = vec![
        JsValue::from_f64(start_ms as f64),
        JsValue::from_f64(end_ms as f64),
    ];
    let where_filters = filters_sql(filters, &mut args);
    let sql = format!(
        "WITH firsts AS (SELECT program_id, customer_id, min(ts) AS first_ts FROM conversions \
           WHERE event = 'sale' AND status != 'rejected' AND customer_id IS NOT NULL \
           GROUP BY program_id, customer_id HAVING min(ts) >= ? AND min(ts) < ?), \
         r AS (SELECT c.ts, c.program_id, c.partner_id, c.link_id, c.customer_id, \
           coalesce(c.country, '') AS country, coalesce(c.device, 'other') AS device, \
           {source} AS source, c.attribution, coalesce(c.variant, '') AS variant, \
           coalesce(c.material_id, '') AS material_id FROM firsts f \
           JOIN conversions c ON c.id = (SELECT y.id FROM conversions y \
             WHERE y.program_id = f.program_id AND y.customer_id = f.customer_id \
             AND y.event = 'sale' AND y.status != 'rejected' AND y.ts = f.first_ts \
             ORDER BY y.id LIMIT 1)) \
         SELECT r.ts, r.program_id, pg.name AS program_name, r.partner_id, pt.name AS partner_name, \
           r.link_id, l.code AS link_code, r.country, r.device, r.source, r.attribution, \
           r.variant, r.material_id, m.name AS material_name, pt.segment, pg.model, \
           (SELECT coalesce(sum(CASE x.event WHEN 'sale' THEN x.amount_cents \
             WHEN 'refund' THEN -x.amount_cents ELSE 0 END), 0) FROM conversions x \
             WHERE x.program_id = r.program_id AND x.customer_id = r.customer_id \
             AND x.status != 'rejected') AS lifetime_revenue_cents \
         FROM r {JOINS} WHERE true{where_filters}",
        source = super::conversion_source_sql!(),
    );
    db.prepare(sql)
        .bind(&args)?
        .all()
        .await?
        .results::<NewCustomerRow>()
        .map_err(Into::into)
}

#[derive(Debug, Clone, Deserialize)]
pub struct CostDayRow {
    pub date: String,
    pub program_id: String,
    pub program_name: Option<String>,
    pub model: Option<String>,
    pub cents: i64,
}

/// Program costs per program and date in `[from, to)` (dates `YYYY-MM-DD`).
pub async fn costs(
    db: &D1Database,
    from: &str,
    to: &str,
    filters: &[Filter],
) -> Result<Vec<CostDayRow>> {
    let mut args = vec![JsValue::from_str(from), JsValue::from_str(to)];
    let mut where_filters = String::new();
    for filter in filters {
        let column = match filter.dimension {
            Dimension::Program => "co.program_id",
            Dimension::Model => "pg.model",
            _ => continue,
        };
        where_filters.push_str(&format!(" AND {column} = ?"));
        args.push(JsValue::from_str(&filter.value));
    }
    let sql = format!(
        "SELECT co.date, co.program_id, pg.name AS program_name, pg.model, sum(co.amount_cents) AS cents \
         FROM costs co LEFT JOIN programs pg ON pg.id = co.program_id \
         WHERE co.date >= ? AND co.date < ?{where_filters} GROUP BY co.program_id, co.date"
    );
    db.prepare(sql)
        .bind(&args)?
        .all()
        .await?
        .results::<CostDayRow>()
        .map_err(Into::into)
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResponseRow {
    pub ts: i64,
    #[serde(flatten)]
    pub dims: Dims,
    pub response_ms: i64,
}

/// Every lead in `[start_ms, end_ms)` that has had a response: the first later
/// qualified or sale conversion of the same click, or its own rejection.
pub async fn lead_responses(
    db: &D1Database,
    start_ms: i64,
    end_ms: i64,
    filters: &[Filter],
) -> Result<Vec<ResponseRow>> {
    let mut args = vec![
        JsValue::from_f64(start_ms as f64),
        JsValue::from_f64(end_ms as f64),
    ];
    let where_filters = filters_sql(filters, &mut args);
    let sql = format!(
        "WITH r AS (SELECT c.ts, c.program_id, c.partner_id, c.link_id, \
           coalesce(c.country, '') AS country, coalesce(c.device, 'other') AS device, \
           {source} AS source, c.attribution, coalesce(c.variant, '') AS variant, \
           coalesce(c.material_id, '') AS material_id, \
           (SELECT min(t) FROM (SELECT min(n.ts) AS t FROM conversions n \
               WHERE n.click_id = c.click_id AND n.event IN ('qualified', 'sale') AND n.ts > c.ts \
             UNION ALL SELECT c.updated_at WHERE c.status = 'rejected')) AS response_ts \
           FROM conversions c WHERE c.event = 'lead' AND c.click_id IS NOT NULL \
           AND c.ts >= ? AND c.ts < ?) \
         SELECT r.ts, r.program_id, pg.name AS program_name, r.partner_id, pt.name AS partner_name, \
           r.link_id, l.code AS link_code, r.country, r.device, r.source, r.attribution, \
           r.variant, r.material_id, m.name AS material_name, pt.segment, pg.model, \
           r.response_ts - r.ts AS response_ms \
         FROM r {JOINS} WHERE r.response_ts IS NOT NULL{where_filters}",
        source = super::conversion_source_sql!(),
    );
    db.prepare(sql)
        .bind(&args)?
        .all()
        .await?
        .results::<ResponseRow>()
        .map_err(Into::into)
}

#[derive(Debug, Clone, Deserialize)]
pub struct PartnerRow {
    pub id: String,
    pub name: String,
    pub segment: String,
    pub status: String,
    /// JSON arrays: `[[program_id, model], ...]` and `[link_id, ...]`.
    pub programs: String,
    pub links: String,
    /// Its creation, or its first rolled-up activity when that is older (ms).
    pub since: i64,
}

impl PartnerRow {
    /// What the partner-network KPIs need to know of this partner.
    pub fn facts(&self, history: StatusHistory) -> Result<PartnerFacts> {
        fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
            serde_json::from_str(text).map_err(|e| StorageError::corrupt("partner's links", e))
        }
        Ok(PartnerFacts {
            id: self.id.clone(),
            name: self.name.clone(),
            segment: self.segment.clone(),
            history,
            programs: json(&self.programs)?,
            links: json(&self.links)?,
            since: self.since,
        })
    }
}

/// Every partner with the programs (and their models) it has links or promo codes in,
/// and its links.
pub async fn partners(db: &D1Database) -> Result<Vec<PartnerRow>> {
    const SQL: &str = "SELECT p.id, p.name, p.segment, p.status, \
         (SELECT json_group_array(json_array(x.program_id, x.model)) FROM \
           (SELECT l.program_id, pg.model FROM links l \
             JOIN programs pg ON pg.id = l.program_id WHERE l.partner_id = p.id \
             UNION SELECT c.program_id, pg.model FROM promo_codes c \
             JOIN programs pg ON pg.id = c.program_id WHERE c.partner_id = p.id) x) AS programs, \
         (SELECT json_group_array(l.id) FROM links l WHERE l.partner_id = p.id) AS links, \
         coalesce((SELECT min(min(r.hour) * 3600000, p.created_at) FROM rollup_hourly r \
           WHERE r.partner_id = p.id HAVING count(*) > 0), p.created_at) AS since \
         FROM partners p ORDER BY p.id";
    db.prepare(SQL)
        .all()
        .await?
        .results::<PartnerRow>()
        .map_err(Into::into)
}

/// The programs `filters` allow (only `program_id` and `model` apply), as report dims.
pub async fn programs(db: &D1Database, filters: &[Filter]) -> Result<Vec<Dims>> {
    let mut args = Vec::new();
    let mut sql = String::from(
        "SELECT id AS program_id, name AS program_name, model FROM programs WHERE true",
    );
    for filter in filters {
        let column = match filter.dimension {
            Dimension::Program => "id",
            Dimension::Model => "model",
            _ => continue,
        };
        sql.push_str(&format!(" AND {column} = ?"));
        args.push(JsValue::from_str(&filter.value));
    }
    db.prepare(sql)
        .bind(&args)?
        .all()
        .await?
        .results::<Dims>()
        .map_err(Into::into)
}
