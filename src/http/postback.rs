//! `GET|POST /postback`: the advertiser reports a conversion. Recorded exactly once
//! (the database's unique indexes decide), attributed to its click (or, for a repeat sale,
//! to the partner who brought the customer), and its commission fixed at recording.

use std::time::Duration;

use rust_decimal::Decimal;
use serde::Serialize;
use worker::{D1Database, Date, Delay, Env, Method, Request, Response};

use super::auth::postback_master_key;
use super::error::{ApiError, ApiResult};
use super::respond;
use crate::domain::attribution::{check_refund, check_window};
use crate::domain::commission::{cents, commission, refund_commission, Earning};
use crate::domain::conversion::{ConversionEvent, Postback};
use crate::domain::ids::{new_id, sha256_hex};
use crate::domain::money::{format_money, from_cents, to_cents};
use crate::domain::partner::Segment;
use crate::domain::signature::{postback_secret, verify, SIGNATURE_HEADER};
use crate::domain::time::month_bounds;
use crate::domain::Invalid;
use crate::storage::conversions::{self, ConversionRow};
use crate::storage::programs::{self, ProgramRow};
use crate::storage::tracking::ClickRow;
use crate::storage::{partners, rules, tracking, DB_BINDING};

/// A click may still be in the queue when its conversion arrives: look a few times.
const CLICK_LOOKUPS: usize = 5;
const CLICK_LOOKUP_PAUSE_MS: u64 = 400;
const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Serialize)]
struct Answer<'a> {
    status: &'a str,
    conversion_id: &'a str,
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversion_status: Option<&'a str>,
    commission: String,
}

fn answer(status: &str, row: &ConversionRow) -> Response {
    respond::json(
        200,
        &Answer {
            status,
            conversion_id: &row.id,
            event: &row.event,
            conversion_status: Some(&row.status),
            commission: format_money(from_cents(row.commission_cents)),
        },
    )
}

pub async fn handle(req: &mut Request, env: &Env, query: &str) -> ApiResult<Response> {
    let body = raw_body(req).await?;
    let pairs = parameters(req, query, &body)?;
    let postback = Postback::parse(&pairs)?;
    let db = env.d1(DB_BINDING)?;
    let signature = req.headers().get(SIGNATURE_HEADER).ok().flatten();
    let program = match signature {
        Some(signature) => {
            let signed = if req.method() == Method::Post {
                body.as_slice()
            } else {
                query.as_bytes()
            };
            authenticate_signed(env, &db, &pairs, &postback, signed, &signature).await?
        }
        None => authenticate(&db, &postback).await?,
    };
    if let Some(currency) = &postback.currency {
        if currency.as_str() != program.currency {
            return Err(Invalid::new(
                "currency",
                "currency_mismatch",
                format!(
                    "this program is in {}, not {}",
                    program.currency,
                    currency.as_str()
                ),
            )
            .into());
        }
    }
    let now = Date::now().as_millis() as i64;
    if let Some(existing) = existing(&db, &program, &postback).await? {
        return replay(&db, existing, &postback, now).await;
    }
    let row = match postback.event {
        ConversionEvent::Refund => refund(&db, &program, &postback, now).await?,
        _ => conversion(&db, &program, &postback, now).await?,
    };
    if conversions::insert(&db, &row).await? {
        return Ok(answer("recorded", &row));
    }
    // A concurrent replay won the race: answer with the conversion it recorded.
    match existing(&db, &program, &postback).await? {
        Some(winner) => Ok(answer("duplicate", &winner)),
        None => Err(ApiError::internal(
            "postback",
            "insert ignored but no conversion found",
        )),
    }
}

async fn raw_body(req: &mut Request) -> ApiResult<Vec<u8>> {
    if req.method() != Method::Post {
        return Ok(Vec::new());
    }
    let body = req
        .bytes()
        .await
        .map_err(|_| ApiError::bad_request("invalid_body", "the request body could not be read"))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            413,
            "body_too_large",
            "the postback body is larger than 16 KiB",
        ));
    }
    Ok(body)
}

/// The parameters of the query string and of a form or JSON body.
fn parameters(req: &Request, query: &str, body: &[u8]) -> ApiResult<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if body.is_empty() {
        return Ok(pairs);
    }
    let content_type = req
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid_json",
                    format!("the body is not a JSON object: {e}"),
                )
            })?;
        for (key, value) in object {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Null => continue,
                _ => {
                    return Err(Invalid::new(
                        "body",
                        "invalid_value",
                        format!("{key} must be a string or a number"),
                    )
                    .into())
                }
            };
            pairs.push((key, text));
        }
    } else {
        pairs.extend(url::form_urlencoded::parse(body).into_owned());
    }
    Ok(pairs)
}

/// A signed postback: the program comes from `program_id`, or from the click it names;
/// the signature must be the HMAC of the raw query (GET) or body (POST) under that
/// program's secret.
async fn authenticate_signed(
    env: &Env,
    db: &D1Database,
    pairs: &[(String, String)],
    postback: &Postback,
    signed: &[u8],
    signature: &str,
) -> ApiResult<ProgramRow> {
    let invalid = || ApiError::unauthorized("the signature does not match this postback");
    let program_id = match pairs.iter().find(|(key, _)| key == "program_id") {
        Some((_, id)) => Some(id.clone()),
        None => match &postback.click_id {
            Some(click_id) => find_click(db, click_id)
                .await?
                .map(|click| click.program_id),
            None => None,
        },
    };
    let program = match program_id {
        Some(id) => programs::get(db, &id).await?.ok_or_else(invalid)?,
        None => {
            return Err(ApiError::unauthorized(
                "a signed postback names its program with program_id (or a click_id)",
            ))
        }
    };
    let secret = postback_secret(
        &postback_master_key(env)?,
        &program.id,
        program.postback_secret_version,
    );
    if verify(&secret, signed, signature) {
        Ok(program)
    } else {
        Err(invalid())
    }
}

async fn authenticate(db: &D1Database, postback: &Postback) -> ApiResult<ProgramRow> {
    let token = postback.token.as_deref().ok_or_else(|| {
        ApiError::unauthorized(
            "send the program's postback secret as the token parameter, or sign the request",
        )
    })?;
    programs::by_secret_hash(db, &sha256_hex(&[token.as_bytes()]))
        .await?
        .ok_or_else(|| ApiError::unauthorized("the postback token is not valid"))
}

/// The conversion this postback names again, if it exists: by order (or refund) id, or
/// for a lead without an order id, by its click.
async fn existing(
    db: &D1Database,
    program: &ProgramRow,
    p: &Postback,
) -> ApiResult<Option<ConversionRow>> {
    let event = p.event.as_str();
    if let Some(key) = p.order_key() {
        if let Some(row) = conversions::by_order(db, &program.id, event, key).await? {
            return Ok(Some(row));
        }
    }
    if p.event.keyed_by_click() {
        if let Some(click_id) = &p.click_id {
            let row = conversions::by_click(db, click_id, event).await?;
            return Ok(row.filter(|r| r.program_id == program.id));
        }
    }
    Ok(None)
}

/// A replay changes nothing, unless it carries a new status: then the status changes.
async fn replay(
    db: &D1Database,
    mut row: ConversionRow,
    p: &Postback,
    now: i64,
) -> ApiResult<Response> {
    match p.status {
        Some(status) if status.as_str() != row.status => {
            conversions::set_status(db, &row.id, status.as_str(), now).await?;
            row.status = status.as_str().to_owned();
            Ok(answer("updated", &row))
        }
        _ => Ok(answer("duplicate", &row)),
    }
}

fn cents_of(amount: Decimal) -> ApiResult<i64> {
    to_cents(amount)
        .ok_or_else(|| Invalid::new("amount", "invalid_amount", "amount is too large").into())
}

async fn refund(
    db: &D1Database,
    program: &ProgramRow,
    p: &Postback,
    now: i64,
) -> ApiResult<ConversionRow> {
    let order_id = p.order_id.as_deref().unwrap_or_default();
    let sale = conversions::by_order(db, &program.id, ConversionEvent::Sale.as_str(), order_id)
        .await?
        .ok_or_else(|| {
            Invalid::new(
                "order_id",
                "unknown_order",
                "no sale of this program has this order_id",
            )
        })?;
    let amount = cents(
        p.amount
            .ok_or_else(|| Invalid::new("amount", "missing_field", "amount is required"))?,
    );
    let sale_amount = from_cents(sale.amount_cents);
    let refunded = from_cents(conversions::refunded_cents(db, &sale.id).await?);
    check_refund(sale_amount, refunded, amount)?;
    let sale_commission = from_cents(sale.commission_cents);
    Ok(ConversionRow {
        id: new_id("cnv"),
        event: ConversionEvent::Refund.as_str().to_owned(),
        status: p
            .status
            .unwrap_or(ConversionEvent::Refund.default_status())
            .as_str()
            .to_owned(),
        order_id: Some(order_id.to_owned()),
        order_key: p.order_key().map(str::to_owned),
        sale_id: Some(sale.id.clone()),
        amount_cents: cents_of(amount)?,
        commission_cents: cents_of(refund_commission(sale_commission, sale_amount, amount))?,
        rule_id: None,
        monthly_sale_number: None,
        customer_id: p.customer_id.clone().or(sale.customer_id.clone()),
        ts: p.ts.unwrap_or(now),
        recorded_at: now,
        updated_at: now,
        ..sale
    })
}

/// Where a new conversion's partner, link and dimensions come from.
enum Source {
    Click(ClickRow),
    Customer(ConversionRow),
}

async fn find_click(db: &D1Database, click_id: &str) -> ApiResult<Option<ClickRow>> {
    for attempt in 1..=CLICK_LOOKUPS {
        if let Some(click) = tracking::click(db, click_id).await? {
            return Ok(Some(click));
        }
        if attempt < CLICK_LOOKUPS {
            Delay::from(Duration::from_millis(CLICK_LOOKUP_PAUSE_MS)).await;
        }
    }
    Ok(None)
}

async fn source(db: &D1Database, program: &ProgramRow, p: &Postback) -> ApiResult<Source> {
    if let Some(click_id) = &p.click_id {
        let click = find_click(db, click_id)
            .await?
            .filter(|click| click.program_id == program.id)
            .ok_or_else(|| {
                Invalid::new(
                    "click_id",
                    "unknown_click",
                    "no click of this program has this click_id",
                )
            })?;
        return Ok(Source::Click(click));
    }
    let customer = p
        .customer_id
        .as_deref()
        .filter(|_| p.event == ConversionEvent::Sale);
    if let (Some(customer), true) = (customer, program.lifetime_attribution == 1) {
        if let Some(first) = conversions::first_of_customer(db, &program.id, customer).await? {
            return Ok(Source::Customer(first));
        }
        return Err(Invalid::new(
            "customer_id",
            "unknown_customer",
            "no partner brought this customer; send the click_id",
        )
        .into());
    }
    if p.order_id.is_some() && p.status.is_some() {
        return Err(Invalid::new(
            "order_id",
            "unknown_order",
            "no conversion of this program has this order_id",
        )
        .into());
    }
    Err(Invalid::new("click_id", "missing_field", "click_id is required").into())
}

async fn conversion(
    db: &D1Database,
    program: &ProgramRow,
    p: &Postback,
    now: i64,
) -> ApiResult<ConversionRow> {
    let ts = p.ts.unwrap_or(now);
    let base = match source(db, program, p).await? {
        Source::Click(click) => {
            check_window(click.ts, ts, program.attribution_window_days)?;
            from_click(click)
        }
        Source::Customer(first) => ConversionRow {
            click_id: None,
            ..first
        },
    };
    let partner = partners::get(db, &base.partner_id).await?;
    let segment = partner
        .and_then(|partner| Segment::parse(&partner.segment).ok())
        .unwrap_or(Segment::Other);
    let amount = cents(p.amount.unwrap_or_default());
    let (month_start, _) = month_bounds(ts, &program.timezone);
    let monthly_sale_number = if p.event == ConversionEvent::Sale {
        conversions::sales_in_month_up_to(db, &base.partner_id, &program.id, month_start, ts)
            .await?
            + 1
    } else {
        0
    };
    let rules = rules::active_of_program(db, &program.id).await?;
    let earning = Earning {
        event: p.event,
        amount,
        partner_id: &base.partner_id,
        segment,
        monthly_sale_number: u32::try_from(monthly_sale_number.max(1)).unwrap_or(u32::MAX),
    };
    let (earned, rule) = commission(&rules, &earning);
    Ok(ConversionRow {
        id: new_id("cnv"),
        event: p.event.as_str().to_owned(),
        status: p
            .status
            .unwrap_or(p.event.default_status())
            .as_str()
            .to_owned(),
        order_id: p.order_id.clone(),
        order_key: p.order_key().map(str::to_owned),
        sale_id: None,
        amount_cents: cents_of(amount)?,
        currency: program.currency.clone(),
        commission_cents: cents_of(earned)?,
        rule_id: rule.map(|r| r.id.clone()),
        monthly_sale_number: (p.event == ConversionEvent::Sale).then_some(monthly_sale_number),
        customer_id: p.customer_id.clone(),
        ts,
        recorded_at: now,
        updated_at: now,
        ..base
    })
}

fn from_click(click: ClickRow) -> ConversionRow {
    ConversionRow {
        program_id: click.program_id,
        partner_id: click.partner_id,
        link_id: click.link_id,
        click_id: Some(click.id),
        click_ts: Some(click.ts),
        country: click.country,
        region: click.region,
        city: click.city,
        device: Some(click.device),
        os: Some(click.os),
        browser: Some(click.browser),
        referrer_host: click.referrer_host,
        sub1: click.sub1,
        sub2: click.sub2,
        sub3: click.sub3,
        sub4: click.sub4,
        sub5: click.sub5,
        utm_source: click.utm_source,
        utm_medium: click.utm_medium,
        utm_campaign: click.utm_campaign,
        utm_term: click.utm_term,
        utm_content: click.utm_content,
        ..ConversionRow::default()
    }
}
