//! The public edge: `GET|HEAD /r/{code}` (redirect and click) and `GET|HEAD /i/{code}`
//! (impression pixel). This is the hot path: a cached link costs no storage round trip,
//! and the click is handed to the queue after the response has gone.

use std::cell::Cell;
use std::rc::Rc;

use worker::{web_sys, Context, Env, Response};

use super::edge_io::{self, Facts};
use crate::domain::experiments::split::{visitor_key, VISITOR_COOKIE};
use crate::domain::ids::new_click_id;
use crate::domain::request_target::path_and_query;
use crate::domain::tracking::click::{
    is_prefetch, referrer_host, visitor_hash, CapturedEvent, EventKind, Tracking,
};
use crate::domain::tracking::link::{LinkCode, LinkTarget};
use crate::domain::tracking::location::LocationDetail;
use crate::storage::{links, salts};

use super::outbox;

/// A 1×1 transparent GIF.
const PIXEL: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// What a `GET` or `HEAD` of an edge path answers at once, with no storage round trip
/// and no task: `/r/{code}` and `/i/{code}` whose link this isolate remembers (or whose
/// code can name no link), and `/__bench/floor`. `None` for every other request, and for
/// a link that must be looked up: those take the asynchronous way ([`redirect`],
/// [`pixel`], the router). It reads the runtime's request itself, not a workers-rs
/// `Request` (which copies its method, URL, headers and `cf` object on creation).
pub fn answer_now(req: &web_sys::Request, env: &Env, ctx: &Context) -> Option<web_sys::Response> {
    let record = match req.method().as_str() {
        "GET" => true,
        "HEAD" => false,
        _ => return None,
    };
    let url = req.url();
    let (path, query) = path_and_query(&url);
    if let Some(code) = code_after(path, "/r/") {
        let now = now();
        let target = remembered(code, now)?;
        return Some(redirect_to(req, env, ctx, target, query, record, now));
    }
    if let Some(code) = code_after(path, "/i/") {
        let now = now();
        let target = remembered(code, now)?;
        return Some(pixel_of(req, env, ctx, target, query, record, now));
    }
    (record && path == "/__bench/floor").then(|| bench_floor(env))
}

/// The one path segment after `prefix`, as the route `{prefix}{code}` reads it.
pub fn code_after<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    path.strip_prefix(prefix)
        .filter(|code| !code.is_empty() && !code.contains('/'))
}

/// `/r/{code}`: `302` to the stored destination with the click id, and the click queued.
pub async fn redirect(
    req: &worker::Request,
    env: &Env,
    ctx: &Context,
    code: &str,
    query: &str,
    record: bool,
) -> Response {
    let now = now();
    let target = target(env, ctx, code, now).await;
    Response::from(redirect_to(
        req.inner(),
        env,
        ctx,
        target,
        query,
        record,
        now,
    ))
}

fn redirect_to(
    req: &web_sys::Request,
    env: &Env,
    ctx: &Context,
    target: Option<Rc<LinkTarget>>,
    query: &str,
    record: bool,
    now: i64,
) -> web_sys::Response {
    let Some(target) = target else {
        return edge_io::not_found();
    };
    let click_id = new_click_id();
    // What the click needs from the request, read once; a split test reads the visitor's
    // cookie too, and sends each visitor to its own arm, the same one on every visit.
    let facts = (record || target.split.is_some())
        .then(|| edge_io::facts(req, target.split.is_some(), location_detail(env)));
    let (location, variant, cookie) = match (&target.split, &facts) {
        (Some(split), Some(facts)) => {
            let ip = facts.ip.as_deref().unwrap_or_default();
            let agent = facts.user_agent.as_deref().unwrap_or_default();
            let (key, fresh) = visitor_key(facts.cookie.as_deref(), ip, agent);
            let arm = split.arm_for(&key);
            let cookie = fresh.then(|| {
                format!("{VISITOR_COOKIE}={key}; Max-Age=31536000; Path=/r/; HttpOnly; Secure; SameSite=Lax")
            });
            (
                arm.location.location(&click_id),
                Some(arm.name.clone()),
                cookie,
            )
        }
        _ => (target.location.location(&click_id), None, None),
    };
    if let Some(facts) = facts.filter(|facts| record && !prefetch(facts)) {
        let (mut event, ip) = capture(
            facts,
            &target,
            EventKind::Click,
            click_id,
            now,
            Tracking::from_query(query),
        );
        event.variant = variant;
        finish(env, ctx, (event, ip));
    }
    edge_io::redirect(&location, cookie)
}

/// `/i/{code}`: the pixel, and the impression queued (with the material `m=` names).
pub async fn pixel(
    req: &worker::Request,
    env: &Env,
    ctx: &Context,
    code: &str,
    query: &str,
    record: bool,
) -> Response {
    let now = now();
    let target = target(env, ctx, code, now).await;
    Response::from(pixel_of(req.inner(), env, ctx, target, query, record, now))
}

fn pixel_of(
    req: &web_sys::Request,
    env: &Env,
    ctx: &Context,
    target: Option<Rc<LinkTarget>>,
    query: &str,
    record: bool,
    now: i64,
) -> web_sys::Response {
    let status = match (&target, record) {
        (None, _) => 404,
        (Some(target), true) => {
            let captured = capture(
                edge_io::facts(req, false, location_detail(env)),
                target,
                EventKind::Impression,
                new_click_id(),
                now,
                Tracking {
                    material: Tracking::from_query(query).material,
                    ..Tracking::default()
                },
            );
            finish(env, ctx, captured);
            200
        }
        (Some(_), false) => 200,
    };
    edge_io::pixel(status, &PIXEL)
}

/// `/__bench/floor`: the floor of a Rust redirect in this runtime, for `bench/redirect`:
/// the same build answering a static `302` without touching storage. Exists only where
/// the variable `BENCH_ROUTES` is `on` (never in `wrangler.toml`).
pub fn bench_floor(env: &Env) -> web_sys::Response {
    let enabled = env.var("BENCH_ROUTES").map(|v| v.to_string()).ok();
    if enabled.as_deref() == Some("on") {
        edge_io::redirect("https://shop.example/landing?click_id=static", None)
    } else {
        edge_io::not_found()
    }
}

/// Milliseconds since the epoch, as the runtime's clock says.
fn now() -> i64 {
    worker::js_sys::Date::now() as i64
}

/// The active link `code` names, if this isolate remembers whether there is one. A
/// malformed code (a URL, an encoded slash) can never name a link: known at once.
fn remembered(code: &str, now: i64) -> Option<Option<Rc<LinkTarget>>> {
    match LinkCode::parse(code) {
        Ok(code) => links::remembered(&code, now as f64),
        Err(_) => Some(None),
    }
}

/// The active link `code` names. A malformed code (a URL, an encoded slash) can never
/// name a link and is refused before any storage is touched.
async fn target(env: &Env, ctx: &Context, code: &str, now: i64) -> Option<Rc<LinkTarget>> {
    let code = LinkCode::parse(code).ok()?;
    match links::resolve(env, ctx, &code, now as f64).await {
        Ok(target) => target,
        Err(error) => {
            worker::console_error!("resolving link {}: {error}", code.as_str());
            None
        }
    }
}

/// How much of a visitor's location events record (`CLICK_LOCATION`), read from the
/// environment once per isolate: a deployment's variables never change under it.
fn location_detail(env: &Env) -> LocationDetail {
    thread_local! {
        static DETAIL: Cell<Option<LocationDetail>> = const { Cell::new(None) };
    }
    DETAIL.with(|cached| {
        if let Some(detail) = cached.get() {
            return detail;
        }
        let value = env
            .var(LocationDetail::VARIABLE)
            .map(|v| v.to_string())
            .ok();
        let detail = LocationDetail::parse(value.as_deref()).unwrap_or_else(|error| {
            worker::console_error!("{error}");
            LocationDetail::City
        });
        cached.set(Some(detail));
        detail
    })
}

fn prefetch(facts: &Facts) -> bool {
    is_prefetch(
        facts.sec_purpose.as_deref(),
        facts.purpose.as_deref(),
        facts.x_moz.as_deref(),
    )
}

/// The event from what the request said (`facts`), to be finished after the response:
/// the daily salt (memory, KV, or on a cold day D1), the visitor hash, the queue send.
/// The raw IP is handed back beside the event: it lives only in memory until hashed and
/// never reaches the queue or storage.
fn capture(
    facts: Facts,
    target: &LinkTarget,
    kind: EventKind,
    id: String,
    now: i64,
    tracking: Tracking,
) -> (CapturedEvent, String) {
    let location = facts.location();
    let event = CapturedEvent {
        kind,
        id,
        ts: now,
        link_id: target.link_id.clone(),
        program_id: target.program_id.clone(),
        partner_id: target.partner_id.clone(),
        country: location.country,
        region: location.region,
        city: location.city,
        colo: location.colo,
        visitor: String::new(),
        referrer_host: referrer_host(facts.referer.as_deref()),
        user_agent: facts.user_agent.unwrap_or_default(),
        tracking,
        variant: None,
    };
    (event, facts.ip.unwrap_or_default())
}

/// Finishes the event and puts it in the outbox: at once when this isolate holds the
/// day's salt (the usual case), else in a task that first reads it (KV, or on a cold day
/// D1).
fn finish(env: &Env, ctx: &Context, (mut event, ip): (CapturedEvent, String)) {
    if let Some(salt) = salts::remembered(event.ts) {
        event.visitor = visitor_hash(&salt, &ip, &event.user_agent);
        if let Some(body) = encode(&event) {
            outbox::push_now(env, ctx, body);
        }
        return;
    }
    let now = event.ts;
    let env = env.clone();
    ctx.wait_until(async move {
        let salt = match salts::for_day(&env, now).await {
            Ok(salt) => salt,
            Err(error) => {
                // Still count the event; without the day's salt it cannot be told unique.
                worker::console_error!("daily salt unavailable: {error}");
                new_click_id()
            }
        };
        event.visitor = visitor_hash(&salt, &ip, &event.user_agent);
        drop(ip);
        if let Some(body) = encode(&event) {
            outbox::push(&env, body).await;
        }
    });
}

fn encode(event: &CapturedEvent) -> Option<String> {
    serde_json::to_string(event)
        .map_err(|error| worker::console_error!("encoding event {} failed: {error}", event.id))
        .ok()
}
