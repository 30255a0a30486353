//! The edge's JavaScript boundary: what a redirect or a pixel reads from its request, and
//! the responses they answer, each in one call into the few JavaScript functions below.
//!
//! Through web-sys the same work is one wasm-bindgen call per header, per `cf` field and
//! per response header, each copying a string into or out of wasm memory, and a `Headers`
//! object built for the response; measured against that (bench/redirect's links Worker,
//! one run, 5 s × 3 rounds), this was 1.5 % faster: within the noise. The crossings are
//! cheap; what the redirect pays for is the work behind them (`request.cf`'s parse alone
//! is 5–7 % of its throughput, which is why the location comes from Cloudflare's
//! headers by default: `domain::tracking::location`, docs/benchmarks.md). The JavaScript
//! only reads and builds; every decision stays in Rust ([`super::edge`]).
//!
//! It is inline (`inline_js`), not a `module = "/src/…"` file: a crate-local module makes
//! wasm-bindgen carry the crate's `package.json` (the dashboard's npm dependencies) into
//! its output, which worker-build 0.8.7 then fails to read.

use serde::Deserialize;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use worker::{js_sys, web_sys, Queue};

use crate::domain::tracking::location::{Location, LocationDetail};

#[wasm_bindgen(wasm_bindgen = ::worker::wasm_bindgen, inline_js = r#"
const NO_STORE = "private, no-cache, no-store, must-revalidate, max-age=0";

const NOT_FOUND_PAGE = "<!doctype html><meta charset=utf-8><title>Link not found</title>" +
  "<h1>Link not found</h1><p>This referral link does not exist or is no longer active.</p>";

/**
 * What an event needs from its request, as JSON (the fields of `edge_io::Facts`): the
 * client's address and browser, the referrer, the prefetch hints, the cookie header only
 * when asked (a split test), and where the client is. The location comes from
 * Cloudflare's `cf-ipcountry` and `cf-ray` headers unless `fromCf` (CLICK_LOCATION =
 * "city") or the country header is missing; only then is `request.cf` read, which the
 * runtime parses whole on first access.
 */
export function requestFacts(request, withCookie, fromCf) {
  const headers = request.headers;
  const ipCountry = fromCf ? null : headers.get("cf-ipcountry");
  const cf = ipCountry === null ? request.cf : undefined;
  return JSON.stringify({
    ip: headers.get("cf-connecting-ip"),
    user_agent: headers.get("user-agent"),
    referer: headers.get("referer"),
    cookie: withCookie ? headers.get("cookie") : null,
    sec_purpose: headers.get("sec-purpose"),
    purpose: headers.get("purpose"),
    x_moz: headers.get("x-moz"),
    ip_country: ipCountry,
    ray: ipCountry === null ? null : headers.get("cf-ray"),
    country: cf?.country ?? null,
    region: cf?.region ?? null,
    city: cf?.city ?? null,
    colo: cf?.colo ?? null,
  });
}

/** The redirect: `302` to `location`, never cached, with a cookie to set when given. */
export function redirectResponse(location, cookie) {
  const headers = { location, "cache-control": NO_STORE };
  if (cookie != null) headers["set-cookie"] = cookie;
  return new Response(null, { status: 302, headers });
}

/** The tracking pixel (`body`, a GIF) with `status`, never cached. */
export function pixelResponse(status, body) {
  return new Response(body, {
    status,
    headers: { "content-type": "image/gif", "cache-control": NO_STORE, pragma: "no-cache", expires: "0" },
  });
}

/**
 * Sends the messages `joined` holds, NUL between two, to `queue` in one `sendBatch`,
 * each as a `text` message: the events they carry are JSON already, and as `json`
 * messages each would be quoted and escaped again on the way in and parsed on the way out.
 */
export function sendTexts(queue, joined) {
  return queue.sendBatch(joined.split("\0").map((body) => ({ body, contentType: "text" })));
}

/** The page a link that does not exist answers, `404`. */
export function notFoundResponse() {
  return new Response(NOT_FOUND_PAGE, {
    status: 404,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": NO_STORE },
  });
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = requestFacts)]
    fn request_facts(request: &web_sys::Request, with_cookie: bool, from_cf: bool) -> String;
    #[wasm_bindgen(js_name = redirectResponse)]
    fn redirect_response(location: &str, cookie: Option<String>) -> web_sys::Response;
    #[wasm_bindgen(js_name = pixelResponse)]
    fn pixel_response(status: u16, body: &[u8]) -> web_sys::Response;
    #[wasm_bindgen(js_name = notFoundResponse)]
    fn not_found_response() -> web_sys::Response;
    #[wasm_bindgen(js_name = sendTexts)]
    fn send_texts(queue: &JsValue, joined: &str) -> js_sys::Promise;
}

/// What an event needs from its request: headers (absent ones `None`) and where the
/// client is, from Cloudflare's headers or from the runtime's `cf` object (absent outside
/// Cloudflare's network, in some tests).
#[derive(Debug, Default, Deserialize)]
pub struct Facts {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    /// Read only when asked for (a link running a split test).
    pub cookie: Option<String>,
    pub sec_purpose: Option<String>,
    pub purpose: Option<String>,
    pub x_moz: Option<String>,
    /// `cf-ipcountry`, and `cf-ray` with it; when present, `cf` was not read.
    ip_country: Option<String>,
    ray: Option<String>,
    /// From `request.cf`.
    country: Option<String>,
    region: Option<String>,
    city: Option<String>,
    colo: Option<String>,
}

impl Facts {
    /// Where the client is: from the headers when they were read, else from `cf`.
    pub fn location(&self) -> Location {
        match &self.ip_country {
            Some(ip_country) => Location::from_headers(ip_country, self.ray.as_deref()),
            None => Location {
                country: self.country.clone(),
                region: self.region.clone(),
                city: self.city.clone(),
                colo: self.colo.clone(),
            },
        }
    }
}

/// Reads `request`'s [`Facts`], its `Cookie` header too when `with_cookie`, and its
/// location as `detail` asks.
pub fn facts(request: &web_sys::Request, with_cookie: bool, detail: LocationDetail) -> Facts {
    let json = request_facts(request, with_cookie, detail.reads_cf());
    serde_json::from_str(&json).unwrap_or_else(|error| {
        // JSON.stringify of strings and nulls: cannot happen; the event still counts.
        worker::console_error!("reading the request's facts failed: {error}");
        Facts::default()
    })
}

/// `302` to `location`, never cached; `cookie` is a `Set-Cookie` value to send with it.
pub fn redirect(location: &str, cookie: Option<String>) -> web_sys::Response {
    redirect_response(location, cookie)
}

/// The tracking pixel `body` with `status`, never cached.
pub fn pixel(status: u16, body: &[u8]) -> web_sys::Response {
    pixel_response(status, body)
}

/// The `404` page of a link that does not exist.
pub fn not_found() -> web_sys::Response {
    not_found_response()
}

/// Sends `bodies` (texts with no NUL: packed events, compact JSON whose strings escape
/// their control characters) to `queue` in one `sendBatch` of `text` messages, crossing
/// into JavaScript once: through workers-rs each message was a JS object set field by
/// field, and a `json` message whose body is already JSON is quoted and escaped again on
/// its way to the consumer.
pub async fn send_texts_batch(queue: &Queue, bodies: &[String]) -> Result<(), JsValue> {
    debug_assert!(bodies.iter().all(|body| !body.contains('\0')));
    JsFuture::from(send_texts(queue.as_ref(), &bodies.join("\0")))
        .await
        .map(drop)
}
