//! `/api/v1/sessions`: signing in to the dashboard (the admin key) or the partner portal
//! (a partner token) for a session cookie, who the session is, and signing out. The key
//! travels once, in the sign-in body; the browser keeps only an `HttpOnly`,
//! `SameSite=Strict` cookie whose token is stored as a SHA-256.

use serde::{Deserialize, Serialize};
use worker::{Date, Response};

use super::Call;
use crate::domain::auth::session::{
    clear_cookie, set_cookie, ADMIN_SESSION_MS, PARTNER_SESSION_MS,
};
use crate::domain::ids::{new_secret, sha256_hex};
use crate::domain::time::rfc3339;
use crate::http::auth::{authenticate, is_admin_key, session_token, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::routes::Incoming;
use crate::http::{body, respond, throttle};
use crate::storage::sessions::{self, NewSession};
use crate::storage::{bi_keys, partners, Store};

/// `POST /api/v1/sessions` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    key: String,
}

#[derive(Serialize)]
struct SessionView {
    signed_in: bool,
    /// `admin`, `partner` or `bi`; null when nobody is signed in.
    kind: Option<&'static str>,
    partner_id: Option<String>,
    partner_name: Option<String>,
    expires_at: Option<String>,
}

/// Who signs in with `key`: the manager, or a partner with the id of its token.
async fn signer(
    incoming: &Incoming<'_>,
    store: &Store,
    key: &str,
) -> ApiResult<Option<(String, String)>> {
    if is_admin_key(incoming.env, key)? {
        return Ok(None);
    }
    match bi_keys::active_by_hash(&store.db, &sha256_hex(&[key.as_bytes()])).await? {
        Some(row) => match row.partner_id {
            Some(partner_id) => Ok(Some((partner_id, row.id))),
            None => Err(ApiError::new(
                403,
                "forbidden",
                "BI keys read reports from BI tools; sign in with the admin key or a partner token",
            )),
        },
        None => Err(ApiError::unauthorized(
            "the key is not valid (or was revoked)",
        )),
    }
}

/// `POST /api/v1/sessions {key}`: a new session and its cookie. Failed keys count
/// against the caller's address like failed postback credentials (`429` after too many).
pub async fn sign_in(incoming: &mut Incoming<'_>) -> ApiResult<Response> {
    let store = Store::open(incoming.env)?;
    let body = body::json::<SignIn>(incoming.req).await?;
    let signer = throttle::guard(
        incoming.req,
        incoming.env,
        &store.db,
        signer(incoming, &store, body.key.trim()),
    )
    .await?;
    let now = Date::now().as_millis() as i64;
    let lifetime = if signer.is_some() {
        PARTNER_SESSION_MS
    } else {
        ADMIN_SESSION_MS
    };
    let token = new_secret("pls");
    let session = NewSession {
        token_hash: &sha256_hex(&[token.as_bytes()]),
        partner: signer
            .as_ref()
            .map(|(partner, key)| (partner.as_str(), key.as_str())),
        created_at: now,
        expires_at: now + lifetime,
    };
    sessions::insert(&store.db, &session).await?;
    let expires_at = Some(rfc3339(session.expires_at));
    let view = SessionView {
        signed_in: true,
        kind: Some(if signer.is_some() { "partner" } else { "admin" }),
        partner_name: match &signer {
            Some((id, _)) => partners::get(&store.db, id).await?.map(|p| p.name),
            None => None,
        },
        partner_id: signer.map(|(id, _)| id),
        expires_at,
    };
    let mut response = respond::json(201, &view);
    set(
        &mut response,
        &set_cookie(&token, lifetime, incoming.origin),
    );
    Ok(response)
}

fn set(response: &mut Response, cookie: &str) {
    // A cookie this module builds is always a valid header value.
    let _ = response.headers_mut().set("set-cookie", cookie);
}

/// `GET /api/v1/sessions/current`: who is calling, `signed_in: false` for nobody (the
/// pages ask before they draw; an anonymous visitor is not an error).
pub async fn current(incoming: &mut Incoming<'_>) -> ApiResult<Response> {
    let store = Store::open(incoming.env)?;
    let principal = match authenticate(
        incoming.req,
        incoming.env,
        &store.db,
        incoming.query,
        incoming.origin,
    )
    .await
    {
        Ok(principal) => principal,
        Err(refusal) if refusal.status == 401 => {
            let nobody = SessionView {
                signed_in: false,
                kind: None,
                partner_id: None,
                partner_name: None,
                expires_at: None,
            };
            return Ok(respond::json(200, &nobody));
        }
        Err(error) => return Err(error),
    };
    let (kind, partner_id) = match principal {
        Principal::Admin => ("admin", None),
        Principal::Bi => ("bi", None),
        Principal::Partner(id) => ("partner", Some(id)),
    };
    let partner_name = match &partner_id {
        Some(id) => partners::get(&store.db, id).await?.map(|p| p.name),
        None => None,
    };
    let now = Date::now().as_millis() as i64;
    let expires_at = match session_token(incoming.req) {
        Some(token) => sessions::active(&store.db, &sha256_hex(&[token.as_bytes()]), now)
            .await?
            .map(|s| rfc3339(s.expires_at)),
        None => None,
    };
    Ok(respond::json(
        200,
        &SessionView {
            signed_in: true,
            kind: Some(kind),
            partner_id,
            partner_name,
            expires_at,
        },
    ))
}

/// `DELETE /api/v1/sessions/current`: ends the session on the server, and the cookie.
pub async fn sign_out(call: &Call<'_>) -> ApiResult<Response> {
    let token = session_token(call.req)
        .ok_or_else(|| ApiError::not_found("session (this request carries no session cookie)"))?;
    sessions::revoke(&call.store.db, &sha256_hex(&[token.as_bytes()]), call.now).await?;
    let mut response = respond::json(200, &serde_json::json!({"status": "signed_out"}));
    set(&mut response, &clear_cookie(&call.origin));
    Ok(response)
}
