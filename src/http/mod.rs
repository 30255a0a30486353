//! The HTTP surface: one dispatch over the route table (`routes`), the edge first. Only
//! this layer turns the services' errors into HTTP answers.

mod admin;
pub mod auth;
mod body;
pub mod edge;
mod edge_io;
pub mod error;
#[cfg(feature = "edge")]
pub mod links_worker;
mod outbox;
mod pages;
mod postback;
mod respond;
mod routes;
pub mod throttle;
mod webhooks;

use worker::{Context, Env, Method, Request, Response};

use crate::domain::request_target::{origin, path_and_query};
use error::ApiError;
use routes::{Handler, Incoming};

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
    let Some((route, params)) = routes::find(&method, path) else {
        return refuse(&req, &env, origin(&url), path, query)
            .await
            .into_response();
    };
    let mut incoming = Incoming {
        req: &mut req,
        env: &env,
        ctx: &ctx,
        method,
        origin: origin(&url),
        path,
        query,
    };
    let answer = match route.handler {
        Handler::Public(handler) => handler(&mut incoming, params).await,
        Handler::Api(handler) => admin::serve(&mut incoming, route.guard, params, handler).await,
    };
    answer.unwrap_or_else(ApiError::into_response)
}

/// No route serves this method on this path: a `405` naming the methods that are served,
/// or a `404`; where a key is needed, a caller without a valid one gets `401` first.
async fn refuse(req: &Request, env: &Env, site: &str, path: &str, query: &str) -> ApiError {
    if routes::keyed(path) {
        let authenticated = match crate::storage::Store::open(env) {
            Ok(store) => auth::authenticate(req, env, &store.db, query, site)
                .await
                .map(drop),
            Err(error) => Err(error.into()),
        };
        if let Err(refusal) = authenticated {
            return refusal;
        }
    }
    match routes::allowed(path) {
        Some(allow) => ApiError::method_not_allowed(allow),
        None => ApiError::not_found("endpoint"),
    }
}
