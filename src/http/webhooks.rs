//! `POST /webhooks/amocrm?token=<program postback secret>`: AmoCRM lead webhooks. Each
//! lead whose pipeline status the program maps becomes a conversion (or a rejection)
//! through the same recording as a postback. The answer lists what happened to each lead;
//! it is 200 whenever the request itself was sound, so AmoCRM does not retry a batch
//! because one lead in it could not be attributed. A storage failure is a `503`: AmoCRM
//! retries the whole batch, and the leads already recorded come back as duplicates.

use serde::Serialize;
use worker::{Date, Env, Request, Response};

use super::body;
use super::error::{ApiError, ApiResult};
use super::respond;
use super::throttle;
use crate::domain::conversions::amocrm::parse_leads;
use crate::domain::conversions::ConversionStatus;
use crate::domain::ids::sha256_hex;
use crate::domain::request_target::query_param;
use crate::outbound;
use crate::recording::{self, RecordError};
use crate::storage::{crm, programs, shards, DB_BINDING};

const MAX_BODY_BYTES: usize = 256 * 1024;

#[derive(Serialize)]
struct LeadResult {
    lead_id: String,
    event: Option<&'static str>,
    status: &'static str,
    conversion_id: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct Answer {
    processed: Vec<LeadResult>,
}

pub async fn amocrm(req: &mut Request, env: &Env, query: &str) -> ApiResult<Response> {
    let db = env.d1(DB_BINDING)?;
    let program = throttle::guard(req, env, &db, async {
        let token = query_param(query, "token").ok_or_else(|| {
            ApiError::unauthorized(
                "add the program's postback secret to the webhook URL as ?token=",
            )
        })?;
        programs::by_secret_hash(&db, &sha256_hex(&[token.as_bytes()]))
            .await?
            .ok_or_else(|| ApiError::unauthorized("the webhook token is not valid"))
    })
    .await?;
    let mapping = crm::amocrm(&db, &program.id).await?.ok_or_else(|| {
        ApiError::new(
            409,
            "not_configured",
            "this program has no AmoCRM mapping; create it with POST /api/v1/amocrm-mappings",
        )
    })?;
    let events = shards::events_db(env, &program.events_shard)?;
    let body = body::bytes(req, MAX_BODY_BYTES).await?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let now = Date::now().as_millis() as i64;
    let mut processed = Vec::new();
    for lead in parse_leads(&pairs) {
        let postbacks = match mapping.postbacks(&lead) {
            Ok(postbacks) => postbacks,
            Err(invalid) => {
                processed.push(LeadResult {
                    lead_id: lead.id,
                    event: None,
                    status: "error",
                    conversion_id: None,
                    error: Some(invalid.message),
                });
                continue;
            }
        };
        if postbacks.is_empty() {
            processed.push(LeadResult {
                lead_id: lead.id.clone(),
                event: None,
                status: "ignored",
                conversion_id: None,
                error: None,
            });
        }
        for postback in postbacks {
            let rejecting = postback.status == Some(ConversionStatus::Rejected);
            let event = Some(postback.event.as_str());
            match recording::record(&db, &events, &program, &postback, now).await {
                Ok(outcome) => processed.push(LeadResult {
                    lead_id: lead.id.clone(),
                    event,
                    status: outcome.status,
                    conversion_id: Some(outcome.row.id),
                    error: None,
                }),
                // A lost lead rejects only the conversions it produced; the others don't exist.
                Err(RecordError::Invalid(_)) if rejecting => {}
                Err(RecordError::Invalid(invalid)) => processed.push(LeadResult {
                    lead_id: lead.id.clone(),
                    event,
                    status: "error",
                    conversion_id: None,
                    error: Some(invalid.message),
                }),
                Err(RecordError::Storage(error)) => {
                    // The deliveries of what was recorded still go out.
                    outbound::dispatch(env, &db, now).await;
                    return Err(error.into());
                }
            }
        }
    }
    outbound::dispatch(env, &db, now).await;
    Ok(respond::json(200, &Answer { processed }))
}
