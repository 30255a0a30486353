//! Conversions in D1. Idempotency lives in the schema: a UNIQUE index on
//! `(program_id, event, order_key)` and, for leads, on `(click_id, event)`; inserts do
//! nothing on conflict and the caller reads back the conversion that won.

use serde::Deserialize;
use worker::D1Database;

use super::{equal_filters, first, page, Arg, Page, Result};
use crate::domain::cursor::Cursor;

const INSERT: &str = "INSERT INTO conversions (id, program_id, partner_id, link_id, click_id, \
     event, status, order_id, order_key, sale_id, amount_cents, currency, commission_cents, rule_id, \
     monthly_sale_number, customer_id, ts, recorded_at, updated_at, click_ts, country, region, \
     city, device, os, browser, referrer_host, sub1, sub2, sub3, sub4, sub5, utm_source, \
     utm_medium, utm_campaign, utm_term, utm_content, hold_reason, attribution, promo_code, \
     variant, material_id) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \
     ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
const BY_ID: &str = "SELECT * FROM conversions WHERE id = ?";
const BY_ORDER: &str =
    "SELECT * FROM conversions WHERE program_id = ? AND event = ? AND order_key = ?";
const BY_CLICK: &str = "SELECT * FROM conversions WHERE click_id = ? AND event = ?";
const FIRST_OF_CUSTOMER: &str = "SELECT * FROM conversions WHERE program_id = ? \
     AND customer_id = ? AND event != 'refund' AND status != 'rejected' ORDER BY ts, id LIMIT 1";
const SALES_IN_MONTH_UP_TO: &str = "SELECT count(*) AS n FROM conversions \
     WHERE partner_id = ? AND program_id = ? AND event = 'sale' AND ts >= ? AND ts <= ?";
const REFUNDED_CENTS: &str = "SELECT coalesce(sum(amount_cents), 0) AS n FROM conversions \
     WHERE sale_id = ? AND event = 'refund' AND status != 'rejected'";
const SET_STATUS: &str = "UPDATE conversions SET status = ?, updated_at = ? WHERE id = ?";

/// A conversion row; also what is inserted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConversionRow {
    pub id: String,
    pub program_id: String,
    pub partner_id: String,
    pub link_id: String,
    pub click_id: Option<String>,
    pub event: String,
    pub status: String,
    pub order_id: Option<String>,
    pub order_key: Option<String>,
    pub sale_id: Option<String>,
    pub amount_cents: i64,
    pub currency: String,
    pub commission_cents: i64,
    pub rule_id: Option<String>,
    pub monthly_sale_number: Option<i64>,
    pub customer_id: Option<String>,
    pub ts: i64,
    pub recorded_at: i64,
    pub updated_at: i64,
    pub click_ts: Option<i64>,
    #[serde(default)]
    pub payout_id: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    pub browser: Option<String>,
    pub referrer_host: Option<String>,
    pub sub1: Option<String>,
    pub sub2: Option<String>,
    pub sub3: Option<String>,
    pub sub4: Option<String>,
    pub sub5: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    /// Why a new conversion waits for a manager rather than the hold period
    /// (`flagged`: its partner had an open flag); the hold period never approves it.
    #[serde(default)]
    pub hold_reason: Option<String>,
    /// How it found its partner: `click`, `promo_code` or `customer` (a refund: as its
    /// sale). A promo-code conversion has no link (`link_id` is empty) and no click.
    #[serde(default = "attributed_by_click")]
    pub attribution: String,
    /// The partner's promo code that came with it, as registered.
    #[serde(default)]
    pub promo_code: Option<String>,
    /// The split-test variant of its click.
    #[serde(default)]
    pub variant: Option<String>,
    /// The partner material of its click.
    #[serde(default)]
    pub material_id: Option<String>,
}

fn attributed_by_click() -> String {
    "click".to_owned()
}

/// Inserts `row` unless a conversion with its order or (lead) click exists; answers
/// whether it was inserted.
pub async fn insert(db: &D1Database, c: &ConversionRow) -> Result<bool> {
    let args: Vec<Arg<'_>> = vec![
        c.id.as_str().into(),
        c.program_id.as_str().into(),
        c.partner_id.as_str().into(),
        c.link_id.as_str().into(),
        (&c.click_id).into(),
        c.event.as_str().into(),
        c.status.as_str().into(),
        (&c.order_id).into(),
        (&c.order_key).into(),
        (&c.sale_id).into(),
        c.amount_cents.into(),
        c.currency.as_str().into(),
        c.commission_cents.into(),
        (&c.rule_id).into(),
        c.monthly_sale_number.map_or(Arg::Null, Arg::Int),
        (&c.customer_id).into(),
        c.ts.into(),
        c.recorded_at.into(),
        c.updated_at.into(),
        c.click_ts.map_or(Arg::Null, Arg::Int),
        (&c.country).into(),
        (&c.region).into(),
        (&c.city).into(),
        (&c.device).into(),
        (&c.os).into(),
        (&c.browser).into(),
        (&c.referrer_host).into(),
        (&c.sub1).into(),
        (&c.sub2).into(),
        (&c.sub3).into(),
        (&c.sub4).into(),
        (&c.sub5).into(),
        (&c.utm_source).into(),
        (&c.utm_medium).into(),
        (&c.utm_campaign).into(),
        (&c.utm_term).into(),
        (&c.utm_content).into(),
        (&c.hold_reason).into(),
        c.attribution.as_str().into(),
        (&c.promo_code).into(),
        (&c.variant).into(),
        (&c.material_id).into(),
    ];
    let mut batch = vec![
        super::statement(db, INSERT, &args)?,
        super::rollups::mark_statement(db, c.ts, c.recorded_at)?,
    ];
    if crate::faults::fail_write(c.order_key.as_deref()) {
        batch.push(super::injected_failure(db)?);
    }
    let results = db.batch(batch).await?;
    let inserted = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|meta| meta.changes)
        .unwrap_or(0);
    Ok(inserted == 1)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<ConversionRow>> {
    first(db, BY_ID, &[id.into()]).await
}

pub async fn by_order(
    db: &D1Database,
    program_id: &str,
    event: &str,
    key: &str,
) -> Result<Option<ConversionRow>> {
    first(db, BY_ORDER, &[program_id.into(), event.into(), key.into()]).await
}

pub async fn by_click(
    db: &D1Database,
    click_id: &str,
    event: &str,
) -> Result<Option<ConversionRow>> {
    first(db, BY_CLICK, &[click_id.into(), event.into()]).await
}

/// The first counted conversion of a customer in a program: who brought them.
pub async fn first_of_customer(
    db: &D1Database,
    program_id: &str,
    customer_id: &str,
) -> Result<Option<ConversionRow>> {
    first(
        db,
        FIRST_OF_CUSTOMER,
        &[program_id.into(), customer_id.into()],
    )
    .await
}

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// The partner's sales in the program with `ts` in `[month_start, up_to]`, whatever
/// their status.
pub async fn sales_in_month_up_to(
    db: &D1Database,
    partner_id: &str,
    program_id: &str,
    month_start: i64,
    up_to: i64,
) -> Result<i64> {
    let count: Option<Count> = first(
        db,
        SALES_IN_MONTH_UP_TO,
        &[
            partner_id.into(),
            program_id.into(),
            month_start.into(),
            up_to.into(),
        ],
    )
    .await?;
    Ok(count.map_or(0, |c| c.n))
}

/// The amount already refunded by the counted refunds of a sale, in hundredths.
pub async fn refunded_cents(db: &D1Database, sale_id: &str) -> Result<i64> {
    let total: Option<Count> = first(db, REFUNDED_CENTS, &[sale_id.into()]).await?;
    Ok(total.map_or(0, |t| t.n))
}

/// Changes the status of the conversion `id` (event time `ts`) and marks its day for the
/// rollup.
pub async fn set_status(db: &D1Database, id: &str, ts: i64, status: &str, now: i64) -> Result<()> {
    db.batch(vec![
        super::statement(db, SET_STATUS, &[status.into(), now.into(), id.into()])?,
        super::rollups::mark_statement(db, ts, now)?,
    ])
    .await
    .map(drop)
    .map_err(Into::into)
}

pub struct ConversionFilter<'a> {
    pub program_id: Option<&'a str>,
    pub partner_id: Option<&'a str>,
    pub event: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// Conversions in recording order.
pub async fn list(
    db: &D1Database,
    filter: &ConversionFilter<'_>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<ConversionRow>> {
    let filters = equal_filters(&[
        ("program_id", filter.program_id),
        ("partner_id", filter.partner_id),
        ("event", filter.event),
        ("status", filter.status),
    ]);
    page(db, "conversions", "recorded_at", &filters, after, limit).await
}

const HELD_PAST: &str =
    "status = 'pending' AND hold_reason IS NULL AND event IN ('sale', 'refund') \
     AND ts + (SELECT hold_days FROM programs WHERE programs.id = conversions.program_id) \
     * 86400000 <= ?1";

/// Approves every pending sale and refund whose program's hold period has passed since
/// its event time; answers how many.
pub async fn approve_after_hold(db: &D1Database, now: i64) -> Result<usize> {
    let mark = format!(
        "INSERT INTO rollup_dirty_days (day, marked_at) SELECT DISTINCT ts / 86400000, ?1 \
         FROM conversions WHERE {HELD_PAST} ON CONFLICT (day) DO UPDATE SET marked_at = max(marked_at, ?1) + 1"
    );
    let approve =
        format!("UPDATE conversions SET status = 'approved', updated_at = ?1 WHERE {HELD_PAST}");
    let results = db
        .batch(vec![
            super::statement(db, &mark, &[now.into()])?,
            super::statement(db, &approve, &[now.into()])?,
        ])
        .await?;
    Ok(results
        .get(1)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|meta| meta.changes)
        .unwrap_or(0))
}
