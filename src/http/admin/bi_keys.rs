//! `/api/v1/bi-keys`: read-only keys for Power BI, Tableau and friends, and partner
//! tokens (a key with a `partner_id`) for a partner's own data. A key is shown once, when
//! created; only its SHA-256 is stored.

use serde::{Deserialize, Serialize};
use worker::Response;

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
struct KeyView {
    id: String,
    name: String,
    created_at: String,
    revoked_at: Option<String>,
    /// Set for a partner token.
    partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

fn view(row: BiKeyRow) -> KeyView {
    KeyView {
        id: row.id,
        name: row.name,
        created_at: rfc3339(row.created_at),
        revoked_at: row.revoked_at.map(rfc3339),
        partner_id: row.partner_id,
        key: None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    name: String,
    /// Makes the key a partner token of this partner.
    #[serde(default)]
    partner_id: Option<String>,
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<KeyBody>(call.req).await?;
    if let Some(partner_id) = body.partner_id.as_deref() {
        if partners::get(&call.store.db, partner_id).await?.is_none() {
            return Err(
                ApiError::new(422, "unknown_reference", "no partner has this id")
                    .with_field("partner_id"),
            );
        }
    }
    let key = new_secret(if body.partner_id.is_some() {
        "plpt"
    } else {
        "plbi"
    });
    let row = BiKeyRow {
        id: new_id("bik"),
        name: name("name", &body.name, 200)?,
        key_hash: sha256_hex(&[key.as_bytes()]),
        created_at: call.now,
        revoked_at: None,
        partner_id: body.partner_id,
    };
    bi_keys::insert(&call.store.db, &row).await?;
    let mut shown = view(row);
    shown.key = Some(key);
    Ok(respond::json(201, &shown))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let page = bi_keys::list(&call.store.db, after.as_ref(), limit).await?;
    let key = |row: &BiKeyRow| Cursor {
        at: row.created_at,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, view))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<BiKeyRow> {
    bi_keys::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("BI key"))
}

/// `GET /api/v1/bi-keys/{id}` (never the key itself: only its hash is kept).
pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(find(call, id).await?)))
}

/// `PATCH /api/v1/bi-keys/{id}` as it arrives: a key's name is all that changes (a new
/// key, or another partner, is a new key).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    #[serde(default)]
    pub name: Option<String>,
}

/// `PATCH /api/v1/bi-keys/{id}`: renames a key.
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let body = body::json::<RenameBody>(call.req).await?;
    find(call, id).await?;
    if let Some(raw) = body.name.as_deref() {
        bi_keys::rename(&call.store.db, id, &name("name", raw, 200)?).await?;
    }
    get(call, id).await
}

/// Revokes a key at once; revoking twice is harmless.
pub async fn revoke(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    find(call, id).await?;
    bi_keys::revoke(&call.store.db, id, call.now).await?;
    get(call, id).await
}
