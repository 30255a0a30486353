//! Admin authentication: `Authorization: Bearer <ADMIN_API_KEY>`.

use worker::{Env, Request};

use super::error::{ApiError, ApiResult};
use crate::domain::ids::constant_time_eq;

pub const ADMIN_KEY_SECRET: &str = "ADMIN_API_KEY";

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get("authorization").ok().flatten()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

/// Lets the request through only with the admin key.
pub fn require_admin(req: &Request, env: &Env) -> ApiResult<()> {
    let Some(presented) = bearer(req) else {
        return Err(ApiError::unauthorized(
            "send the admin key as 'Authorization: Bearer <key>'",
        ));
    };
    let expected = env
        .secret(ADMIN_KEY_SECRET)
        .map(|secret| secret.to_string())
        .ok()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| ApiError::internal("admin auth", "the ADMIN_API_KEY secret is not set"))?;
    if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("the admin key is not valid"))
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
