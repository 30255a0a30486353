//! `GET|POST /postback`: the advertiser reports a conversion, authenticated by the
//! program's token or an HMAC signature, and handed to `recording`.

use serde::Serialize;
use worker::{D1Database, Date, Env, Method, Request, Response};

use super::auth::postback_master_key;
use super::body;
use super::error::{ApiError, ApiResult};
use super::{respond, throttle};
use crate::domain::auth::signature::{postback_secret, verify, SIGNATURE_HEADER};
use crate::domain::conversions::Postback;
use crate::domain::ids::sha256_hex;
use crate::domain::money::{format_money, from_cents};
use crate::domain::Invalid;
use crate::outbound;
use crate::recording::{self, find_click_in};
use crate::storage::conversions::ConversionRow;
use crate::storage::programs::{self, ProgramRow};
use crate::storage::shards::{self, Shards};
use crate::storage::DB_BINDING;

const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Serialize)]
struct Answer<'a> {
    status: &'a str,
    conversion_id: &'a str,
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversion_status: Option<&'a str>,
    commission: String,
    /// How it found its partner: `click`, `promo_code` or `customer`.
    attribution: &'a str,
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
            attribution: &row.attribution,
        },
    )
}

pub async fn handle(req: &mut Request, env: &Env, query: &str) -> ApiResult<Response> {
    let body = raw_body(req).await?;
    let pairs = parameters(req, query, &body)?;
    let postback = Postback::parse(&pairs)?;
    let db = env.d1(DB_BINDING)?;
    let signature = req.headers().get(SIGNATURE_HEADER).ok().flatten();
    let signed = if req.method() == Method::Post {
        body.as_slice()
    } else {
        query.as_bytes()
    };
    let program = throttle::guard(req, env, &db, async {
        match signature {
            Some(signature) => {
                authenticate_signed(env, &db, &pairs, &postback, signed, &signature).await
            }
            None => authenticate(&db, &postback).await,
        }
    })
    .await?;
    let now = Date::now().as_millis() as i64;
    let events = shards::events_db(env, &program.events_shard)?;
    let outcome = recording::record(&db, &events, &program, &postback, now).await?;
    if outcome.row.status == "approved" {
        outbound::dispatch(env, &db, now).await;
    }
    Ok(answer(outcome.status, &outcome.row))
}

async fn raw_body(req: &mut Request) -> ApiResult<Vec<u8>> {
    if req.method() != Method::Post {
        return Ok(Vec::new());
    }
    body::bytes(req, MAX_BODY_BYTES).await
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
            Some(click_id) => find_click_in(&Shards::open(env)?.into_databases(), click_id)
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
