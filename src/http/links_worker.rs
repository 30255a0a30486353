//! The links Worker's entry (`--features edge`, deployed by `wrangler.links.toml` on the
//! short-link hostname): a bundle that holds only the hot paths. `GET|HEAD /r/{code}` and
//! `/i/{code}` are served here by the same code as in the app (`edge`); every other
//! request goes, unchanged, to the app Worker through the service binding `APP`, so
//! postbacks, the API and the pages answer on this hostname too. Nothing else is
//! reachable from this entry, so the linker leaves the report engine, the insights, the
//! exports and their libraries out of the bundle.

use worker::{Context, Env, Method, Request, Response};

use super::error::ApiError;
use super::{edge, method};
use crate::domain::request_target::path_and_query;

/// The service binding to the app Worker (`wrangler.links.toml`).
pub const APP_BINDING: &str = "APP";

/// Everything [`edge::answer_now`] could not answer at once: a link to look up, and every
/// other path (forwarded).
pub async fn handle(req: Request, env: Env, ctx: Context) -> Response {
    let url = req.inner().url();
    let (path, query) = path_and_query(&url);
    let record = match method(&req) {
        Method::Get => Some(true),
        Method::Head => Some(false),
        _ => None,
    };
    if let Some(record) = record {
        if let Some(code) = edge::code_after(path, "/r/") {
            return edge::redirect(&req, &env, &ctx, code, query, record).await;
        }
        if let Some(code) = edge::code_after(path, "/i/") {
            return edge::pixel(&req, &env, &ctx, code, query, record).await;
        }
        if record && path == "/__bench/floor" {
            return Response::from(edge::bench_floor(&env));
        }
    }
    forward(req, &env).await
}

/// The app Worker's answer to `req`; a `502` if it cannot be reached.
async fn forward(req: Request, env: &Env) -> Response {
    let answer = match env.service(APP_BINDING) {
        Ok(app) => app.fetch_request(req).await,
        Err(error) => Err(error),
    };
    answer.unwrap_or_else(|error| {
        worker::console_error!("forwarding to the app Worker failed: {error}");
        ApiError::new(
            502,
            "bad_gateway",
            "the app Worker did not answer; try again",
        )
        .into_response()
    })
}
