//! `/api/v1/links`. Every change is published to the link cache before the answer, so
//! the next redirect follows it.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::ids::{new_id, new_link_code};
use crate::domain::time::rfc3339;
use crate::domain::tracking::link::{Destination, LinkCode, LinkStatus};
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::links::{self, LinkFilter, LinkRow};
use crate::storage::{is_unique_violation, partners, programs};

/// Attempts at a fresh generated code before giving up (a collision is ~1 in 10^14).
const GENERATED_CODE_ATTEMPTS: usize = 3;
const PUBLIC_BASE_URL_VAR: &str = "PUBLIC_BASE_URL";

#[derive(Serialize)]
struct LinkView {
    id: String,
    code: String,
    short_url: String,
    program_id: String,
    partner_id: String,
    destination: String,
    status: String,
    created_at: String,
    updated_at: String,
}

/// Where short links live: the `PUBLIC_BASE_URL` variable, else this request's origin.
pub(super) fn base_url(call: &Call<'_>) -> String {
    call.env
        .var(PUBLIC_BASE_URL_VAR)
        .map(|v| v.to_string())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| call.origin.clone())
        .trim_end_matches('/')
        .to_owned()
}

fn view(base: &str, row: LinkRow) -> LinkView {
    LinkView {
        short_url: format!("{base}/r/{}", row.code),
        id: row.id,
        code: row.code,
        program_id: row.program_id,
        partner_id: row.partner_id,
        destination: row.destination,
        status: row.status,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

fn cursor(row: &LinkRow) -> Cursor {
    Cursor {
        at: row.created_at,
        id: row.id.clone(),
    }
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<LinkRow> {
    links::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("link"))
}

async fn publish(call: &Call<'_>, code: &str) -> ApiResult<()> {
    let code = LinkCode::parse(code)?;
    links::publish(&call.store.kv, &call.store.db, &code).await?;
    Ok(())
}

fn unknown(field: &'static str, what: &str) -> ApiError {
    Invalid::new(field, "unknown_reference", format!("no {what} has this id")).into()
}

/// `POST /api/v1/links` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    program_id: String,
    partner_id: String,
    destination: String,
    code: Option<String>,
}

/// `PATCH /api/v1/links/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkPatch {
    destination: Option<String>,
    status: Option<String>,
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<LinkBody>(call.req).await?;
    let destination = Destination::parse(&body.destination)?;
    let custom = body.code.as_deref().map(LinkCode::parse).transpose()?;
    let db = &call.store.db;
    if programs::get(db, &body.program_id).await?.is_none() {
        return Err(unknown("program_id", "program"));
    }
    if partners::get(db, &body.partner_id).await?.is_none() {
        return Err(unknown("partner_id", "partner"));
    }
    insert_new(call, body.program_id, body.partner_id, &destination, custom).await
}

/// Stores a new active link (a generated code unless `custom`), publishes it to the
/// edge cache and answers `201` with it.
pub async fn insert_new(
    call: &Call<'_>,
    program_id: String,
    partner_id: String,
    destination: &Destination,
    custom: Option<LinkCode>,
) -> ApiResult<Response> {
    let db = &call.store.db;
    let mut row = LinkRow {
        id: new_id("lnk"),
        code: String::new(),
        program_id,
        partner_id,
        destination: destination.as_str().to_owned(),
        status: LinkStatus::Active.as_str().to_owned(),
        created_at: call.now,
        updated_at: call.now,
    };
    let attempts = if custom.is_some() {
        1
    } else {
        GENERATED_CODE_ATTEMPTS
    };
    for attempt in 1..=attempts {
        row.code = custom
            .as_ref()
            .map_or_else(new_link_code, |code| code.as_str().to_owned());
        match links::insert(db, &row).await {
            Ok(()) => {
                publish(call, &row.code).await?;
                return Ok(respond::json(201, &view(&base_url(call), row)));
            }
            Err(error) if is_unique_violation(&error, "links.code") => {
                if custom.is_some() {
                    return Err(ApiError::new(
                        409,
                        "code_taken",
                        "another link already uses this code",
                    )
                    .with_field("code"));
                }
                worker::console_warn!("generated link code collided (attempt {attempt})");
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::internal("link create", "no free generated code"))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let status = call.param("status");
    if let Some(status) = status.as_deref() {
        LinkStatus::parse(status)?;
    }
    let program_id = call.param("program_id");
    let partner_id = call.param("partner_id");
    let filter = LinkFilter {
        program_id: program_id.as_deref(),
        partner_id: partner_id.as_deref(),
        status: status.as_deref(),
    };
    let page = links::list(&call.store.db, &filter, after.as_ref(), limit).await?;
    let base = base_url(call);
    Ok(list_response(call, page, cursor, |row| view(&base, row)))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(
        200,
        &view(&base_url(call), find(call, id).await?),
    ))
}

pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<LinkPatch>(call.req).await?;
    let destination = patch
        .destination
        .as_deref()
        .map(Destination::parse)
        .transpose()?;
    let status = patch.status.as_deref().map(LinkStatus::parse).transpose()?;
    let mut row = find(call, id).await?;
    if let Some(destination) = destination {
        row.destination = destination.as_str().to_owned();
    }
    if let Some(status) = status {
        row.status = status.as_str().to_owned();
    }
    row.updated_at = call.now;
    links::update(&call.store.db, &row).await?;
    publish(call, &row.code).await?;
    Ok(respond::json(200, &view(&base_url(call), row)))
}
