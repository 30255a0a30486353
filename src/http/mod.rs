//! The HTTP surface: one dispatch over the path, the edge endpoints first.

mod admin;
pub mod auth;
mod body;
pub mod edge;
pub mod error;
mod outbox;
mod postback;
mod respond;
pub mod throttle;
mod webhooks;

use worker::{Context, Env, Method, Request, Response};

use crate::domain::request_target::{origin, path_and_query, segments};
use error::ApiError;

/// The request's method. workers-rs reads a method it does not know (`QUERY`, `FOO`) as
/// `GET`; partnerlens reads it as `REPORT`, which no route serves, so it gets a `405`.
pub fn method(req: &Request) -> Method {
    let raw = req.inner().method();
    match Method::from(raw.clone()) {
        Method::Get if !raw.eq_ignore_ascii_case("GET") => Method::Report,
        known => known,
    }
}

pub async fn handle(mut req: Request, env: Env, ctx: Context) -> Response {
    let url = req.inner().url();
    let (path, query) = path_and_query(&url);
    let method = method(&req);
    // HEAD answers like GET but records nothing.
    let record = method == Method::Get;
    let edge_method = matches!(method, Method::Get | Method::Head);
    if let Some(code) = path.strip_prefix("/r/") {
        if !edge_method {
            return ApiError::method_not_allowed("GET, HEAD").into_response();
        }
        return edge::redirect(&req, &env, &ctx, code, query, record).await;
    }
    if let Some(code) = path.strip_prefix("/i/") {
        if !edge_method {
            return ApiError::method_not_allowed("GET, HEAD").into_response();
        }
        return edge::pixel(&req, &env, &ctx, code, record).await;
    }
    if path == edge::BENCH_FLOOR_PATH {
        return edge::bench_floor(&env);
    }
    let parts = segments(path);
    let answer = match parts.as_slice() {
        ["api", "v1", rest @ ..] => {
            admin::route(&mut req, &env, origin(&url).to_owned(), path, query, rest).await
        }
        ["postback"] if matches!(method, Method::Get | Method::Post) => {
            postback::handle(&mut req, &env, query).await
        }
        ["postback"] => Err(ApiError::method_not_allowed("GET, POST")),
        ["webhooks", "amocrm"] if method == Method::Post => {
            webhooks::amocrm(&mut req, &env, query).await
        }
        ["webhooks", "amocrm"] => Err(ApiError::method_not_allowed("POST")),
        ["odata", rest @ ..] => {
            let segments: Vec<&str> = std::iter::once("odata")
                .chain(rest.iter().copied())
                .collect();
            admin::route(
                &mut req,
                &env,
                origin(&url).to_owned(),
                path,
                query,
                &segments,
            )
            .await
        }
        ["healthz"] if edge_method => Ok(respond::json(200, &serde_json::json!({"status": "ok"}))),
        ["healthz"] => Err(ApiError::method_not_allowed("GET, HEAD")),
        _ => Err(ApiError::not_found("endpoint")),
    };
    answer.unwrap_or_else(ApiError::into_response)
}
