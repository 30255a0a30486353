//! partnerlens: edge analytics for partner programs on Cloudflare Workers.
//!
//! - `domain`: the pure core (no Workers types), unit-tested natively.
//! - `storage`: every D1 statement and KV key.
//! - `http`: the edge endpoints (redirect, pixel) and the admin API.
//! - `recording`: attribution and commission of a conversion, over storage.
//! - `reporting`: every report's rows (JSON, CSV, OData, and what reads KPIs next).
//! - `rollups`: rolling events up into the hourly KPI tables.
//! - `insights`: goals' standing, forecasts and flags, over the report engine and storage.
//! - `journey`: the daily partner-journey stages, over storage.
//! - `outbound`: approved conversions told to partners' own trackers.
//! - `schedules`: scheduled reports (due runs, files in R2, deliveries); `alerts`: KPI and
//!   flag alerts; `notify`: the channels (e-mail, Slack, Teams, signed webhooks).
//! - `archive`: raw clicks and impressions moved to R2 by day, and back on request.
//! - `queue`, `cron`: the click queue consumer and the scheduled worker.

// The links Worker (`--features edge`) reaches only the redirect and the pixel from its
// entry; the rest of the crate compiles and is left out of its bundle by the linker.
#![cfg_attr(feature = "edge", allow(dead_code, unused_imports))]

pub mod domain;

#[cfg(target_arch = "wasm32")]
mod alerts;
#[cfg(target_arch = "wasm32")]
mod archive;
#[cfg(target_arch = "wasm32")]
mod cron;
#[cfg(target_arch = "wasm32")]
mod faults;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod insights;
#[cfg(target_arch = "wasm32")]
mod journey;
#[cfg(target_arch = "wasm32")]
mod notify;
#[cfg(target_arch = "wasm32")]
mod outbound;
#[cfg(target_arch = "wasm32")]
mod queue;
#[cfg(target_arch = "wasm32")]
mod recording;
#[cfg(target_arch = "wasm32")]
mod reporting;
#[cfg(target_arch = "wasm32")]
mod rollups;
#[cfg(target_arch = "wasm32")]
mod schedules;
#[cfg(target_arch = "wasm32")]
mod storage;

/// What a fetch handler gives the runtime: the response `now` when there is one (no
/// future, no promise, no microtask: the hot path's redirect), else a promise of `later`.
///
/// `#[event(fetch)]` makes every request a future driven by wasm-bindgen-futures, whose
/// task queue and `queueMicrotask` calls cost a redirect more than its own work
/// (`bench/profile`); the handlers below are exported by hand for that reason.
#[cfg(target_arch = "wasm32")]
fn respond(
    now: Option<worker::web_sys::Response>,
    later: impl std::future::Future<Output = worker::Response> + 'static,
) -> worker::wasm_bindgen::JsValue {
    use worker::wasm_bindgen::JsValue;
    match now {
        Some(response) => JsValue::from(response),
        None => worker::wasm_bindgen_futures::future_to_promise(async move {
            Ok(JsValue::from(worker::web_sys::Response::from(later.await)))
        })
        .into(),
    }
}

#[cfg(all(target_arch = "wasm32", feature = "edge"))]
mod entry {
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;
    use worker::{event, web_sys, worker_sys, Context, Env, Request};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    /// The fetch handler, exported by hand rather than by `#[event(fetch)]` (see
    /// [`crate::respond`]): a remembered link's redirect is answered synchronously.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
    pub fn fetch(req: web_sys::Request, env: Env, ctx: worker_sys::Context) -> JsValue {
        let ctx = Context::new(ctx);
        let now = crate::http::edge::answer_now(&req, &env, &ctx);
        crate::respond(now, async move {
            crate::http::links_worker::handle(Request::from(req), env, ctx).await
        })
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "edge")))]
mod entry {
    use worker::wasm_bindgen::prelude::wasm_bindgen;
    use worker::wasm_bindgen::JsValue;
    use worker::{
        event, web_sys, worker_sys, Context, Env, MessageBatch, Request, Result, ScheduleContext,
        ScheduledEvent,
    };

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    /// The fetch handler, exported by hand rather than by `#[event(fetch)]` (see
    /// [`crate::respond`]): a remembered link's redirect is answered synchronously.
    #[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen)]
    pub fn fetch(req: web_sys::Request, env: Env, ctx: worker_sys::Context) -> JsValue {
        crate::faults::configure(&env);
        crate::storage::shards::configure(&env);
        let ctx = Context::new(ctx);
        let now = crate::http::edge::answer_now(&req, &env, &ctx);
        crate::respond(now, async move {
            crate::http::handle(Request::from(req), env, ctx).await
        })
    }

    #[event(queue)]
    async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> Result<()> {
        crate::faults::configure(&env);
        crate::storage::shards::configure(&env);
        if batch.queue().ends_with("-deliveries") {
            crate::outbound::deliver(batch, &env).await;
        } else if batch.queue().ends_with("-insights") {
            crate::insights::consume(batch, &env).await;
        } else if batch.queue().ends_with("-archive") {
            crate::archive::consume(batch, &env).await;
        } else if batch.queue().ends_with("-reports") {
            crate::schedules::consume(batch, &env).await;
        } else {
            crate::queue::consume(batch, &env).await;
        }
        Ok(())
    }

    #[event(scheduled)]
    async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        crate::faults::configure(&env);
        crate::storage::shards::configure(&env);
        let now = worker::Date::now().as_millis() as i64;
        crate::cron::run(&env, now, event.schedule() as i64).await;
    }
}
