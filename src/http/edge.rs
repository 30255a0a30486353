//! The public edge: `GET|HEAD /r/{code}` (redirect and click) and `GET|HEAD /i/{code}`
//! (impression pixel). This is the hot path: a cached link costs no storage round trip,
//! and the click is handed to the queue after the response has gone.

use std::rc::Rc;

use worker::{Context, Env, Method, Request, Response};

use super::respond::with_headers;
use crate::domain::experiments::split::{visitor_key, VISITOR_COOKIE};
use crate::domain::ids::new_click_id;
use crate::domain::request_target::path_and_query;
use crate::domain::time::utc_day;
use crate::domain::tracking::click::{
    is_prefetch, referrer_host, visitor_hash, CapturedEvent, EventKind, Tracking,
};
use crate::domain::tracking::link::{LinkCode, LinkTarget};
use crate::storage::{links, salts};

use super::outbox;

/// A 1×1 transparent GIF.
const PIXEL: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];
const NO_STORE: &str = "private, no-cache, no-store, must-revalidate, max-age=0";

const NOT_FOUND_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Link not found</title>\
<h1>Link not found</h1><p>This referral link does not exist or is no longer active.</p>";

/// What a `GET` or `HEAD` of an edge path answers at once, with no storage round trip
/// and no task: `/r/{code}` and `/i/{code}` whose link this isolate remembers (or whose
/// code can name no link), and `/__bench/floor`. `None` for every other request, and for
/// a link that must be looked up: those take the asynchronous way ([`redirect`],
/// [`pixel`], the router).
pub fn answer_now(req: &Request, env: &Env, ctx: &Context) -> Option<Response> {
    let record = match super::method(req) {
        Method::Get => true,
        Method::Head => false,
        _ => return None,
    };
    let url = req.inner().url();
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
    req: &Request,
    env: &Env,
    ctx: &Context,
    code: &str,
    query: &str,
    record: bool,
) -> Response {
    let now = now();
    let target = target(env, ctx, code, now).await;
    redirect_to(req, env, ctx, target, query, record, now)
}

fn redirect_to(
    req: &Request,
    env: &Env,
    ctx: &Context,
    target: Option<Rc<LinkTarget>>,
    query: &str,
    record: bool,
    now: i64,
) -> Response {
    let Some(target) = target else {
        return not_found_page();
    };
    let click_id = new_click_id();
    // A split test sends each visitor to its own arm, the same one on every visit. The
    // address and browser it reads are handed on to the click rather than read again.
    let (location, variant, cookie, seen) = match &target.split {
        None => (target.location.location(&click_id), None, None, None),
        Some(split) => {
            let ip = header(req, "cf-connecting-ip").unwrap_or_default();
            let agent = header(req, "user-agent").unwrap_or_default();
            let (key, fresh) = visitor_key(header(req, "cookie").as_deref(), &ip, &agent);
            let arm = split.arm_for(&key);
            let cookie = fresh.then(|| {
                format!("{VISITOR_COOKIE}={key}; Max-Age=31536000; Path=/r/; HttpOnly; Secure; SameSite=Lax")
            });
            let location = arm.location.location(&click_id);
            (location, Some(arm.name.clone()), cookie, Some((ip, agent)))
        }
    };
    if record && !prefetch(req) {
        let (mut event, ip) = capture(
            req,
            &target,
            EventKind::Click,
            click_id,
            now,
            Tracking::from_query(query),
            seen,
        );
        event.variant = variant;
        finish(env, ctx, (event, ip));
    }
    let mut headers = vec![("location", location.as_str()), ("cache-control", NO_STORE)];
    if let Some(cookie) = &cookie {
        headers.push(("set-cookie", cookie.as_str()));
    }
    with_headers(302, Vec::new(), &headers)
}

/// `/i/{code}`: the pixel, and the impression queued (with the material `m=` names).
pub async fn pixel(
    req: &Request,
    env: &Env,
    ctx: &Context,
    code: &str,
    query: &str,
    record: bool,
) -> Response {
    let now = now();
    let target = target(env, ctx, code, now).await;
    pixel_of(req, env, ctx, target, query, record, now)
}

fn pixel_of(
    req: &Request,
    env: &Env,
    ctx: &Context,
    target: Option<Rc<LinkTarget>>,
    query: &str,
    record: bool,
    now: i64,
) -> Response {
    let status = match (&target, record) {
        (None, _) => 404,
        (Some(target), true) => {
            let captured = capture(
                req,
                target,
                EventKind::Impression,
                new_click_id(),
                now,
                Tracking {
                    material: Tracking::from_query(query).material,
                    ..Tracking::default()
                },
                None,
            );
            finish(env, ctx, captured);
            200
        }
        (Some(_), false) => 200,
    };
    with_headers(
        status,
        PIXEL.to_vec(),
        &[
            ("content-type", "image/gif"),
            ("cache-control", NO_STORE),
            ("pragma", "no-cache"),
            ("expires", "0"),
        ],
    )
}

/// `/__bench/floor`: the floor of a Rust redirect in this runtime, for `bench/redirect`:
/// the same build answering a static `302` without touching storage. Exists only where
/// the variable `BENCH_ROUTES` is `on` (never in `wrangler.toml`).
pub fn bench_floor(env: &Env) -> Response {
    let enabled = env.var("BENCH_ROUTES").map(|v| v.to_string()).ok();
    if enabled.as_deref() == Some("on") {
        with_headers(
            302,
            Vec::new(),
            &[
                ("location", "https://shop.example/landing?click_id=static"),
                ("cache-control", NO_STORE),
            ],
        )
    } else {
        not_found_page()
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

fn not_found_page() -> Response {
    with_headers(
        404,
        NOT_FOUND_PAGE.as_bytes().to_vec(),
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", NO_STORE),
        ],
    )
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

fn prefetch(req: &Request) -> bool {
    is_prefetch(
        header(req, "sec-purpose").as_deref(),
        header(req, "purpose").as_deref(),
        header(req, "x-moz").as_deref(),
    )
}

/// Reads what the event needs from the request (the address and user agent unless `seen`
/// already holds them), then finishes it after the response: the daily salt (memory, KV,
/// or on a cold day D1), the visitor hash, the queue send. The raw IP lives only in this
/// task's memory and never reaches the queue or storage.
fn capture(
    req: &Request,
    target: &LinkTarget,
    kind: EventKind,
    id: String,
    now: i64,
    tracking: Tracking,
    seen: Option<(String, String)>,
) -> (CapturedEvent, String) {
    let (ip, user_agent) = seen.unwrap_or_else(|| {
        (
            header(req, "cf-connecting-ip").unwrap_or_default(),
            header(req, "user-agent").unwrap_or_default(),
        )
    });
    let cf = req.cf();
    let event = CapturedEvent {
        kind,
        id,
        ts: now,
        link_id: target.link_id.clone(),
        program_id: target.program_id.clone(),
        partner_id: target.partner_id.clone(),
        country: cf.and_then(|cf| cf.country()),
        region: cf.and_then(|cf| cf.region()),
        city: cf.and_then(|cf| cf.city()),
        colo: cf.map(|cf| cf.colo()),
        visitor: String::new(),
        referrer_host: referrer_host(header(req, "referer").as_deref()),
        user_agent,
        tracking,
        variant: None,
    };
    (event, ip)
}

/// Finishes the event and puts it in the outbox: at once when this isolate holds the
/// day's salt (the usual case), else in a task that first reads it (KV, or on a cold day
/// D1).
fn finish(env: &Env, ctx: &Context, (mut event, ip): (CapturedEvent, String)) {
    if let Some(salt) = salts::remembered(&utc_day(event.ts)) {
        event.visitor = visitor_hash(&salt, &ip, &event.user_agent);
        if let Some(body) = encode(&event) {
            outbox::push_now(env, ctx, body);
        }
        return;
    }
    let now = event.ts;
    let env = env.clone();
    ctx.wait_until(async move {
        let salt = match salts::for_day(&env, &utc_day(now), now).await {
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
