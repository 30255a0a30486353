//! `/api/v1/partner-postbacks` (a partner's outbound postback URLs) and
//! `/api/v1/postback-deliveries` (the delivery log).

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::conversions::outbound::NewEndpoint;
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::time::rfc3339;
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::outbound::{self, DeliveryRow, EndpointRow};
use crate::storage::{partners, programs};

#[derive(Serialize)]
struct EndpointView {
    id: String,
    partner_id: String,
    program_id: Option<String>,
    url_template: String,
    events: Vec<String>,
    status: String,
    created_at: String,
    updated_at: String,
}

fn endpoint_view(row: EndpointRow) -> EndpointView {
    EndpointView {
        id: row.id,
        partner_id: row.partner_id,
        program_id: row.program_id,
        url_template: row.url_template,
        events: row.events.split(',').map(str::to_owned).collect(),
        status: row.status,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<EndpointBody>(call.req).await?;
    let endpoint = NewEndpoint::parse(&body.url_template, body.events.as_deref())?;
    let db = &call.store.db;
    if partners::get(db, &body.partner_id).await?.is_none() {
        return Err(
            Invalid::new("partner_id", "unknown_reference", "no partner has this id").into(),
        );
    }
    if let Some(program_id) = &body.program_id {
        if programs::get(db, program_id).await?.is_none() {
            return Err(
                Invalid::new("program_id", "unknown_reference", "no program has this id").into(),
            );
        }
    }
    let row = EndpointRow {
        id: new_id("obp"),
        partner_id: body.partner_id,
        program_id: body.program_id,
        url_template: endpoint.url_template,
        events: endpoint
            .events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(","),
        status: "active".to_owned(),
        created_at: call.now,
        updated_at: call.now,
    };
    outbound::insert_endpoint(db, &row).await?;
    Ok(respond::json(201, &endpoint_view(row)))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let partner_id = call.param("partner_id");
    let page =
        outbound::endpoints(&call.store.db, partner_id.as_deref(), after.as_ref(), limit).await?;
    let key = |row: &EndpointRow| Cursor {
        at: row.created_at,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, endpoint_view))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<EndpointRow> {
    outbound::endpoint(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner postback"))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &endpoint_view(find(call, id).await?)))
}

/// `POST /api/v1/partner-postbacks` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointBody {
    partner_id: String,
    program_id: Option<String>,
    url_template: String,
    events: Option<Vec<String>>,
}

/// `PATCH /api/v1/partner-postbacks/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndpointPatch {
    url_template: Option<String>,
    status: Option<String>,
}

pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<EndpointPatch>(call.req).await?;
    let mut row = find(call, id).await?;
    if let Some(template) = patch.url_template {
        row.url_template = NewEndpoint::parse(&template, None)?.url_template;
    }
    if let Some(status) = patch.status {
        if !matches!(status.as_str(), "active" | "disabled") {
            return Err(Invalid::new(
                "status",
                "invalid_value",
                "status must be one of: active, disabled",
            )
            .into());
        }
        row.status = status;
    }
    row.updated_at = call.now;
    outbound::update_endpoint(&call.store.db, &row).await?;
    Ok(respond::json(200, &endpoint_view(row)))
}

#[derive(Serialize)]
struct DeliveryView {
    id: String,
    conversion_id: String,
    endpoint_id: String,
    partner_id: String,
    state: String,
    url: Option<String>,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
}

fn delivery_view(row: DeliveryRow) -> DeliveryView {
    DeliveryView {
        id: row.id,
        conversion_id: row.conversion_id,
        endpoint_id: row.endpoint_id,
        partner_id: row.partner_id,
        state: row.state,
        url: row.url,
        attempts: row.attempts,
        last_status: row.last_status,
        last_error: row.last_error,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

pub async fn deliveries(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let partner_id = call.param("partner_id");
    let conversion_id = call.param("conversion_id");
    let page = outbound::deliveries(
        &call.store.db,
        partner_id.as_deref(),
        conversion_id.as_deref(),
        after.as_ref(),
        limit,
    )
    .await?;
    let key = |row: &DeliveryRow| Cursor {
        at: row.created_at,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, delivery_view))
}
