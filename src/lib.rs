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

#[cfg(all(target_arch = "wasm32", feature = "edge"))]
mod entry {
    use worker::{event, Context, Env, Request, Response, Result};

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
        Ok(crate::http::links_worker::handle(req, env, ctx).await)
    }
}

#[cfg(all(target_arch = "wasm32", not(feature = "edge")))]
mod entry {
    use worker::{
        event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext,
        ScheduledEvent,
    };

    #[event(start)]
    fn start() {
        console_error_panic_hook::set_once();
    }

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
        crate::faults::configure(&env);
        crate::storage::shards::configure(&env);
        Ok(crate::http::handle(req, env, ctx).await)
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
