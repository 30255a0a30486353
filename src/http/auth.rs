//! Authentication: the admin key (`Authorization: Bearer <ADMIN_API_KEY>`), read-only BI
//! keys and partner tokens, the browser session cookie the dashboard and the portal sign
//! in for, and the master key postback secrets derive from.

use worker::{D1Database, Date, Env, Method, Request};

use super::error::{ApiError, ApiResult};
use crate::domain::auth::credentials::{credential, Credential};
use crate::domain::auth::session::{cookie_value, same_origin, COOKIE};
use crate::domain::ids::{constant_time_eq, sha256_hex};
use crate::domain::request_target::query_param;
use crate::storage::{bi_keys, sessions};

pub const ADMIN_KEY_SECRET: &str = "ADMIN_API_KEY";

/// Who is calling: the operator (admin key), a BI tool (a read-only BI key), or a partner
/// (a partner token, reading only that partner's own data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Admin,
    Bi,
    Partner(String),
}

/// The key that replaces `ADMIN_API_KEY` during a rotation; both are accepted while set.
pub const NEXT_ADMIN_KEY_SECRET: &str = "ADMIN_API_KEY_NEXT";

fn admin_key(env: &Env) -> ApiResult<String> {
    env.secret(ADMIN_KEY_SECRET)
        .map(|secret| secret.to_string())
        .ok()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| ApiError::internal("admin auth", "the ADMIN_API_KEY secret is not set"))
}

/// Whether `token` is the admin key, or the next admin key while a rotation is under way.
pub fn is_admin_key(env: &Env, token: &str) -> ApiResult<bool> {
    if constant_time_eq(token.as_bytes(), admin_key(env)?.as_bytes()) {
        return Ok(true);
    }
    Ok(env
        .secret(NEXT_ADMIN_KEY_SECRET)
        .map(|next| next.to_string())
        .is_ok_and(|next| !next.is_empty() && constant_time_eq(token.as_bytes(), next.as_bytes())))
}

/// The session token in the request's cookie, if any.
pub fn session_token(req: &Request) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten()?;
    cookie_value(&header, COOKIE).map(str::to_owned)
}

/// Identifies the caller: the admin key as a bearer token, a BI key or partner token as a
/// bearer token, an HTTP Basic password or `?api_key=`, or else a session cookie. A write
/// authenticated by the cookie must come from a page of this site (`Origin` = `site`).
/// Anything else is a `401`.
pub async fn authenticate(
    req: &Request,
    env: &Env,
    db: &D1Database,
    query: &str,
    site: &str,
) -> ApiResult<Principal> {
    let header = req.headers().get("authorization").ok().flatten();
    let Some(credential) = credential(header.as_deref(), query_param(query, "api_key")) else {
        return match session_token(req) {
            Some(token) => from_session(req, db, &token, site).await,
            None => Err(ApiError::unauthorized(
                "send the admin key as 'Authorization: Bearer <key>' (BI keys also as ?api_key= or a Basic password), or sign in",
            )),
        };
    };
    if let Credential::Bearer(token) = &credential {
        if is_admin_key(env, token)? {
            return Ok(Principal::Admin);
        }
    }
    let hash = sha256_hex(&[credential.secret().as_bytes()]);
    match bi_keys::active_by_hash(db, &hash).await? {
        Some(key) => Ok(key.partner_id.map_or(Principal::Bi, Principal::Partner)),
        None => Err(ApiError::unauthorized(
            "the key is not valid (or was revoked)",
        )),
    }
}

/// The caller a session cookie stands for.
async fn from_session(
    req: &Request,
    db: &D1Database,
    token: &str,
    site: &str,
) -> ApiResult<Principal> {
    let now = Date::now().as_millis() as i64;
    let session = sessions::active(db, &sha256_hex(&[token.as_bytes()]), now)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the session has ended; sign in again"))?;
    let reading = matches!(req.method(), Method::Get | Method::Head);
    let origin = req.headers().get("origin").ok().flatten();
    if !reading && !same_origin(origin.as_deref(), site) {
        return Err(ApiError::new(
            403,
            "cross_origin",
            "a change made with the session cookie must come from this site's own pages",
        ));
    }
    match (session.kind.as_str(), session.partner_id) {
        ("admin", _) => Ok(Principal::Admin),
        ("partner", Some(partner_id)) => Ok(Principal::Partner(partner_id)),
        (kind, _) => Err(crate::storage::StorageError::corrupt("session kind", kind).into()),
    }
}

pub const POSTBACK_KEY_SECRET: &str = "POSTBACK_SECRET_KEY";

/// The master key postback secrets are derived from.
pub fn postback_master_key(env: &Env) -> ApiResult<String> {
    env.secret(POSTBACK_KEY_SECRET)
        .map(|secret| secret.to_string())
        .ok()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| {
            ApiError::internal(
                "postback secrets",
                "the POSTBACK_SECRET_KEY secret is not set",
            )
        })
}
