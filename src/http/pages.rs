//! The dashboard (`/`), the partner portal (`/portal`) and their files (`/assets/…`),
//! served from Workers Static Assets (`public/`, built from `web/` by
//! `scripts/web.mjs`). The Worker runs first for every request, so the redirect never
//! waits on an asset lookup, and pages get their security headers here: a strict
//! Content-Security-Policy (no inline script, nothing from another origin, no framing).

use worker::{Env, Response};

use super::error::{ApiError, ApiResult};
use super::respond::with_headers;
use super::routes::Incoming;

const ASSETS_BINDING: &str = "ASSETS";

/// Scripts, styles, data and images from this origin only; charts draw into canvases and
/// QR codes are `data:` SVG images.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// `GET /`: the manager's dashboard.
pub async fn dashboard(incoming: &Incoming<'_>) -> ApiResult<Response> {
    page(incoming, "/dashboard.html").await
}

/// `GET /portal`: the partner portal.
pub async fn portal(incoming: &Incoming<'_>) -> ApiResult<Response> {
    page(incoming, "/portal.html").await
}

async fn fetch(env: &Env, url: &str) -> ApiResult<Response> {
    // The links Worker (wrangler.links.toml) has no assets: its pages are elsewhere.
    let assets = env
        .assets(ASSETS_BINDING)
        .map_err(|_| ApiError::not_found("page (this Worker serves links only)"))?;
    assets
        .fetch(url.to_owned(), None)
        .await
        .map_err(|e| ApiError::internal("static assets", e))
}

async fn page(incoming: &Incoming<'_>, file: &str) -> ApiResult<Response> {
    let mut asset = fetch(incoming.env, &format!("{}{file}", incoming.origin)).await?;
    if asset.status_code() != 200 {
        return Err(ApiError::internal(
            "static assets",
            format!(
                "{file} answered {} (was public/ built?)",
                asset.status_code()
            ),
        ));
    }
    let body = asset
        .bytes()
        .await
        .map_err(|e| ApiError::internal("static assets", e))?;
    Ok(with_headers(
        200,
        body,
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("content-security-policy", CSP),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
            ("cross-origin-opener-policy", "same-origin"),
            (
                "permissions-policy",
                "camera=(), microphone=(), geolocation=()",
            ),
            ("cache-control", "no-store"),
        ],
    ))
}

/// `GET /assets/{file}`: a built file, with the type the assets layer gives it and
/// `nosniff`; a missing one is a JSON `404`.
pub async fn asset(incoming: &Incoming<'_>) -> ApiResult<Response> {
    let url = format!("{}{}", incoming.origin, incoming.path);
    let mut asset = fetch(incoming.env, &url).await?;
    if asset.status_code() != 200 {
        return Err(ApiError::not_found("file"));
    }
    let content_type = asset
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let body = asset
        .bytes()
        .await
        .map_err(|e| ApiError::internal("static assets", e))?;
    Ok(with_headers(
        200,
        body,
        &[
            ("content-type", &content_type),
            ("x-content-type-options", "nosniff"),
            ("cache-control", "no-cache"),
        ],
    ))
}
