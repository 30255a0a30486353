//! `/api/v1/partner-tokens`: a partner's own key to its reports, conversions and clicks
//! (nothing of any other partner). A token is shown once, when created; only its SHA-256
//! is stored, beside the BI keys it is a kind of.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::bi_keys::RenameBody;
use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::ids::{new_id, new_secret, sha256_hex};
use crate::domain::text::name;
use crate::domain::time::rfc3339;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::bi_keys::{self, BiKeyRow};
use crate::storage::partners;

#[derive(Serialize)]
struct TokenView {
    id: String,
    partner_id: String,
    name: String,
    created_at: String,
    revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

fn view(row: BiKeyRow) -> TokenView {
    TokenView {
        id: row.id,
        partner_id: row.partner_id.unwrap_or_default(),
        name: row.name,
        created_at: rfc3339(row.created_at),
        revoked_at: row.revoked_at.map(rfc3339),
        token: None,
    }
}

/// `POST /api/v1/partner-tokens`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    partner_id: String,
    /// What the token is for; defaults to the partner's name.
    #[serde(default)]
    name: Option<String>,
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<TokenBody>(call.req).await?;
    let partner = partners::get(&call.store.db, &body.partner_id)
        .await?
        .ok_or_else(|| {
            ApiError::new(422, "unknown_reference", "no partner has this id")
                .with_field("partner_id")
        })?;
    let token = new_secret("plpt");
    let row = BiKeyRow {
        id: new_id("ptk"),
        name: name("name", body.name.as_deref().unwrap_or(&partner.name), 200)?,
        key_hash: sha256_hex(&[token.as_bytes()]),
        created_at: call.now,
        revoked_at: None,
        partner_id: Some(partner.id),
    };
    bi_keys::insert(&call.store.db, &row).await?;
    let mut shown = view(row);
    shown.token = Some(token);
    Ok(respond::json(201, &shown))
}

/// `GET /api/v1/partner-tokens[?partner_id=]`.
pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let partner_id = call.param("partner_id");
    let page =
        bi_keys::list_partner_tokens(&call.store.db, partner_id.as_deref(), after.as_ref(), limit)
            .await?;
    let key = |row: &BiKeyRow| Cursor {
        at: row.created_at,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, view))
}

async fn token(call: &Call<'_>, id: &str) -> ApiResult<BiKeyRow> {
    bi_keys::get(&call.store.db, id)
        .await?
        .filter(|row| row.partner_id.is_some())
        .ok_or_else(|| ApiError::not_found("partner token"))
}

/// `GET /api/v1/partner-tokens/{id}`.
pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(token(call, id).await?)))
}

/// `PATCH /api/v1/partner-tokens/{id}`: renames a token (its partner and secret stay).
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let body = body::json::<RenameBody>(call.req).await?;
    token(call, id).await?;
    if let Some(raw) = body.name.as_deref() {
        bi_keys::rename(&call.store.db, id, &name("name", raw, 200)?).await?;
    }
    get(call, id).await
}

/// `DELETE /api/v1/partner-tokens/{id}`: revokes at once; revoking twice is harmless.
pub async fn revoke(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    token(call, id).await?;
    bi_keys::revoke(&call.store.db, id, call.now).await?;
    Ok(respond::json(200, &view(token(call, id).await?)))
}
