//! Rate limiting of failed postback and webhook credentials: after
//! `FAILURES_PER_MINUTE` failures from one source in a minute, that source gets `429`
//! with `Retry-After` until the minute is over, whatever it sends. A source is a keyed
//! SHA-256 of the client address (under `POSTBACK_SECRET_KEY`), never the address.

use std::future::Future;

use worker::{Date, Env, Request};

use super::auth::postback_master_key;
use super::error::{ApiError, ApiResult};
use crate::domain::ids::sha256_hex;
use crate::storage::auth_failures;

pub const FAILURES_PER_MINUTE: i64 = 20;
const MINUTE_MS: i64 = 60_000;

/// The rate-limit key of the request's client: its IPv4 address, or the /64 network of
/// its IPv6 address (one host usually holds a whole /64, and could rotate through it).
fn source(req: &Request, env: &Env) -> ApiResult<String> {
    let raw = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_default();
    let address = match raw.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => raw,
    };
    let key = postback_master_key(env)?;
    Ok(sha256_hex(&[
        b"auth-failures\0".as_slice(),
        key.as_bytes(),
        b"\0".as_slice(),
        address.as_bytes(),
    ]))
}

/// Runs `authenticate` unless the source is over its failures for this minute; counts
/// a `401` it answers against the source.
pub async fn guard<T>(
    req: &Request,
    env: &Env,
    db: &worker::D1Database,
    authenticate: impl Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    let now = Date::now().as_millis() as i64;
    let minute = now.div_euclid(MINUTE_MS);
    let source = source(req, env)?;
    if auth_failures::count(db, &source, minute).await? >= FAILURES_PER_MINUTE {
        let retry_after = ((minute + 1) * MINUTE_MS - now + 999) / 1000;
        return Err(ApiError::too_many_requests(
            format!("too many failed credentials from this address; try again in {retry_after} s"),
            retry_after,
        ));
    }
    let result = authenticate.await;
    if matches!(&result, Err(error) if error.status == 401) {
        auth_failures::add(db, &source, minute).await?;
    }
    result
}

/// Forgets failures older than an hour (the cron).
pub async fn forget_old(db: &worker::D1Database, now: i64) -> crate::storage::Result<usize> {
    auth_failures::delete_before(db, now.div_euclid(MINUTE_MS) - 60).await
}
