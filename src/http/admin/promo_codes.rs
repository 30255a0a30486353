//! `/api/v1/promo-codes`: a partner's code in a program. A sale that brings a live code
//! and no click goes to the code's partner (`recording`). Codes are unique per program
//! whatever their case; deleting one retires it (its past sales stay attributed, and
//! the code is free for another partner).

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::conversions::promo_code::PromoCode;
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::time::rfc3339;
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::promo_codes::{self, PromoCodeRow};
use crate::storage::{is_unique_violation, partners, programs};

#[derive(Serialize)]
struct PromoCodeView {
    id: String,
    program_id: String,
    partner_id: String,
    code: String,
    /// `active`, or `retired` once deleted.
    status: &'static str,
    created_at: String,
    retired_at: Option<String>,
}

fn view(row: PromoCodeRow) -> PromoCodeView {
    PromoCodeView {
        id: row.id,
        program_id: row.program_id,
        partner_id: row.partner_id,
        code: row.code,
        status: if row.retired_at.is_some() {
            "retired"
        } else {
            "active"
        },
        created_at: rfc3339(row.created_at),
        retired_at: row.retired_at.map(rfc3339),
    }
}

/// `POST /api/v1/promo-codes` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromoCodeBody {
    program_id: String,
    partner_id: String,
    code: String,
}

fn unknown(field: &'static str, what: &str) -> ApiError {
    Invalid::new(field, "unknown_reference", format!("no {what} has this id")).into()
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<PromoCodeBody>(call.req).await?;
    let code = PromoCode::parse(&body.code)?;
    let db = &call.store.db;
    if programs::get(db, &body.program_id).await?.is_none() {
        return Err(unknown("program_id", "program"));
    }
    if partners::get(db, &body.partner_id).await?.is_none() {
        return Err(unknown("partner_id", "partner"));
    }
    let row = PromoCodeRow {
        id: new_id("pcd"),
        program_id: body.program_id,
        partner_id: body.partner_id,
        code: code.as_str().to_owned(),
        code_key: code.key(),
        created_at: call.now,
        retired_at: None,
    };
    match promo_codes::insert(db, &row).await {
        Ok(()) => Ok(respond::json(201, &view(row))),
        Err(error) if is_unique_violation(&error, "promo_codes.") => Err(ApiError::new(
            409,
            "code_taken",
            "this program already has a live promo code that differs from it only in case",
        )
        .with_field("code")),
        Err(error) => Err(error.into()),
    }
}

/// `GET /api/v1/promo-codes[?program_id=&partner_id=]`; a partner token sees its own.
pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let (program_id, partner_id) = (call.param("program_id"), call.param("partner_id"));
    let page = promo_codes::list(
        &call.store.db,
        program_id.as_deref(),
        partner_id.as_deref(),
        after.as_ref(),
        limit,
    )
    .await?;
    let key = |row: &PromoCodeRow| Cursor {
        at: row.created_at,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, view))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<PromoCodeRow> {
    promo_codes::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("promo code"))
}

/// `GET /api/v1/promo-codes/{id}`.
pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(find(call, id).await?)))
}

/// `DELETE /api/v1/promo-codes/{id}`: retires the code at once; twice is harmless.
pub async fn retire(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    find(call, id).await?;
    promo_codes::retire(&call.store.db, id, call.now).await?;
    Ok(respond::json(200, &view(find(call, id).await?)))
}
