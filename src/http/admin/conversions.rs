//! `/api/v1/conversions`: what was recorded, and the admin's approve / reject.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::conversions::{ConversionEvent, ConversionStatus};
use crate::domain::cursor::Cursor;
use crate::domain::money::{format_money, from_cents};
use crate::domain::time::rfc3339;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::conversions::{self, ConversionFilter, ConversionRow};

#[derive(Serialize)]
struct ConversionView {
    id: String,
    program_id: String,
    partner_id: String,
    /// None for a conversion a promo code brought without a click.
    link_id: Option<String>,
    click_id: Option<String>,
    /// `click`, `promo_code` or `customer`.
    attribution: String,
    promo_code: Option<String>,
    variant: Option<String>,
    /// The partner material of its click.
    material_id: Option<String>,
    event: String,
    status: String,
    order_id: Option<String>,
    refund_id: Option<String>,
    sale_id: Option<String>,
    amount: String,
    currency: String,
    commission: String,
    rule_id: Option<String>,
    monthly_sale_number: Option<i64>,
    customer_id: Option<String>,
    payout_id: Option<String>,
    ts: String,
    recorded_at: String,
    updated_at: String,
    country: Option<String>,
    device: Option<String>,
    sub1: Option<String>,
    sub2: Option<String>,
    sub3: Option<String>,
    sub4: Option<String>,
    sub5: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
}

fn view(row: ConversionRow) -> ConversionView {
    let refund_id = (row.event == "refund")
        .then(|| row.order_key.clone())
        .flatten();
    ConversionView {
        id: row.id,
        program_id: row.program_id,
        partner_id: row.partner_id,
        link_id: (!row.link_id.is_empty()).then_some(row.link_id),
        click_id: row.click_id,
        attribution: row.attribution,
        promo_code: row.promo_code,
        variant: row.variant,
        material_id: row.material_id,
        event: row.event,
        status: row.status,
        order_id: row.order_id,
        refund_id,
        sale_id: row.sale_id,
        amount: format_money(from_cents(row.amount_cents)),
        currency: row.currency,
        commission: format_money(from_cents(row.commission_cents)),
        rule_id: row.rule_id,
        monthly_sale_number: row.monthly_sale_number,
        customer_id: row.customer_id,
        payout_id: row.payout_id,
        ts: rfc3339(row.ts),
        recorded_at: rfc3339(row.recorded_at),
        updated_at: rfc3339(row.updated_at),
        country: row.country,
        device: row.device,
        sub1: row.sub1,
        sub2: row.sub2,
        sub3: row.sub3,
        sub4: row.sub4,
        sub5: row.sub5,
        utm_source: row.utm_source,
        utm_medium: row.utm_medium,
        utm_campaign: row.utm_campaign,
    }
}

fn cursor(row: &ConversionRow) -> Cursor {
    Cursor {
        at: row.recorded_at,
        id: row.id.clone(),
    }
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<ConversionRow> {
    conversions::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversion"))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let event = call.param("event");
    if let Some(event) = event.as_deref() {
        ConversionEvent::parse(event)?;
    }
    let status = call.param("status");
    if let Some(status) = status.as_deref() {
        ConversionStatus::parse(status)?;
    }
    let program_id = call.param("program_id");
    let partner_id = call.param("partner_id");
    let filter = ConversionFilter {
        program_id: program_id.as_deref(),
        partner_id: partner_id.as_deref(),
        event: event.as_deref(),
        status: status.as_deref(),
    };
    let page = conversions::list(&call.store.db, &filter, after.as_ref(), limit).await?;
    Ok(list_response(call, page, cursor, view))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(find(call, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusPatch {
    status: String,
}

/// Approves or rejects a conversion.
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<StatusPatch>(call.req).await?;
    let status = ConversionStatus::parse(&patch.status)?;
    let mut row = find(call, id).await?;
    conversions::set_status(&call.store.db, id, row.ts, status.as_str(), call.now).await?;
    row.status = status.as_str().to_owned();
    row.updated_at = call.now;
    if status == ConversionStatus::Approved {
        crate::outbound::dispatch(call.env, &call.store.db, call.now).await;
    }
    Ok(respond::json(200, &view(row)))
}
