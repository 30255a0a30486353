//! Every route partnerlens serves, declared once: method, path, who may call it, and the
//! handler. Dispatch, the `Allow` list of a `405`, and the BI-key and partner-token
//! checks all read this table.

use std::future::Future;
use std::pin::Pin;

use worker::{Context, Env, Method, Request, Response};

use super::admin::{self, Call};
use super::error::ApiResult;
use super::{edge, pages, postback, respond, webhooks};
use crate::domain::request_target::{match_path, Params};
use crate::domain::tracking::click::EventKind;

/// One request, as the dispatcher hands it to a handler.
pub struct Incoming<'a> {
    pub req: &'a mut Request,
    pub env: &'a Env,
    pub ctx: &'a Context,
    pub method: Method,
    /// `scheme://host` of this request, for `short_url` and `next` links.
    pub origin: &'a str,
    pub path: &'a str,
    pub query: &'a str,
}

pub type Answer<'a> = Pin<Box<dyn Future<Output = ApiResult<Response>> + 'a>>;

#[derive(Clone, Copy)]
pub enum Handler {
    /// Takes the request as it came: the edge, postbacks, webhooks, health.
    Public(for<'a, 'b> fn(&'a mut Incoming<'b>, Params<'a>) -> Answer<'a>),
    /// An API call from an authenticated and admitted caller.
    Api(for<'a, 'b> fn(&'a mut Call<'b>, Params<'a>) -> Answer<'a>),
}

/// What a partner token may do on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerAccess {
    Denied,
    /// As any caller (nothing of another partner is at stake).
    Any,
    /// Rows of its own partner only: the query's `partner_id` is set to its partner (and
    /// naming another partner is a `403`).
    OwnRows,
    /// The route's `{id}` must be its own partner.
    OwnPartner,
    /// The route's `{id}` must be a conversion of its own partner.
    OwnConversion,
    /// The route's `{id}` must be a payout to its own partner.
    OwnPayout,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone: the edge and health; postbacks and webhooks check their own credentials.
    Public,
    /// The admin key, and BI keys and partner tokens as given.
    Keys { bi: bool, partner: PartnerAccess },
}

const ADMIN: Guard = Guard::Keys {
    bi: false,
    partner: PartnerAccess::Denied,
};
/// Reports: BI keys, and partner tokens for their own partner.
const REPORT: Guard = Guard::Keys {
    bi: true,
    partner: PartnerAccess::OwnRows,
};
/// The OData feed: BI keys.
const FEED: Guard = Guard::Keys {
    bi: true,
    partner: PartnerAccess::Denied,
};
/// Anyone with a key or a session: who am I, sign out.
const SIGNED_IN: Guard = Guard::Keys {
    bi: true,
    partner: PartnerAccess::Any,
};
const OWN_ROWS: Guard = Guard::Keys {
    bi: false,
    partner: PartnerAccess::OwnRows,
};
const OWN_PARTNER: Guard = Guard::Keys {
    bi: false,
    partner: PartnerAccess::OwnPartner,
};
const OWN_CONVERSION: Guard = Guard::Keys {
    bi: false,
    partner: PartnerAccess::OwnConversion,
};
const OWN_PAYOUT: Guard = Guard::Keys {
    bi: false,
    partner: PartnerAccess::OwnPayout,
};

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub guard: Guard,
    pub handler: Handler,
}

/// An API route under `/api/v1` (or, with `@`, elsewhere): `api!(GET "/links/{id}",
/// GUARD, |call, p| handler(call, p.first()))`.
macro_rules! api {
    ($method:ident $path:literal, $guard:expr, |$call:ident, $p:pat_param| $body:expr) => {
        Route {
            method: Method::$method,
            path: concat!("/api/v1", $path),
            guard: $guard,
            handler: Handler::Api(|$call, $p| Box::pin($body)),
        }
    };
    (@ $method:ident $path:literal, $guard:expr, |$call:ident, $p:pat_param| $body:expr) => {
        Route {
            method: Method::$method,
            path: $path,
            guard: $guard,
            handler: Handler::Api(|$call, $p| Box::pin($body)),
        }
    };
}

macro_rules! public {
    ($method:ident $path:literal, |$inc:ident, $p:pat_param| $body:expr) => {
        Route {
            method: Method::$method,
            path: $path,
            guard: Guard::Public,
            handler: Handler::Public(|$inc, $p| Box::pin($body)),
        }
    };
}

/// The routes, the hot path first.
pub static ROUTES: &[Route] = &[
    public!(Get "/r/{code}", |inc, p| async move {
        Ok(edge::redirect(inc.req, inc.env, inc.ctx, p.first(), inc.query, true).await)
    }),
    // HEAD answers like GET but records nothing.
    public!(Head "/r/{code}", |inc, p| async move {
        Ok(edge::redirect(inc.req, inc.env, inc.ctx, p.first(), inc.query, false).await)
    }),
    public!(Get "/i/{code}", |inc, p| async move {
        Ok(edge::pixel(inc.req, inc.env, inc.ctx, p.first(), inc.query, true).await)
    }),
    public!(Head "/i/{code}", |inc, p| async move {
        Ok(edge::pixel(inc.req, inc.env, inc.ctx, p.first(), inc.query, false).await)
    }),
    public!(Get "/postback", |inc, _| postback::handle(inc.req, inc.env, inc.query)),
    public!(Post "/postback", |inc, _| postback::handle(inc.req, inc.env, inc.query)),
    public!(Post "/webhooks/amocrm", |inc, _| webhooks::amocrm(inc.req, inc.env, inc.query)),
    public!(Get "/healthz", |_inc, _| async { Ok(health()) }),
    public!(Head "/healthz", |_inc, _| async { Ok(health()) }),
    public!(Get "/__bench/floor", |inc, _| async move { Ok(Response::from(edge::bench_floor(inc.env))) }),
    public!(Get "/__fault/panic", |_inc, _| async { fault_panic() }),
    public!(Get "/", |inc, _| pages::dashboard(inc)),
    public!(Get "/portal", |inc, _| pages::portal(inc)),
    public!(Get "/assets/{file}", |inc, _| pages::asset(inc)),
    public!(Post "/api/v1/sessions", |inc, _| admin::sessions::sign_in(inc)),
    public!(Get "/api/v1/sessions/current", |inc, _| admin::sessions::current(inc)),
    public!(Get "/api/v1/report-files/{id}", |inc, p| admin::schedules::signed_file(inc, p.first())),
    api!(Delete "/sessions/current", SIGNED_IN, |c, _| admin::sessions::sign_out(c)),
    api!(Get "/programs", ADMIN, |c, _| admin::programs::list(c)),
    api!(Post "/programs", ADMIN, |c, _| admin::programs::create(c)),
    api!(Get "/programs/{id}", ADMIN, |c, p| admin::programs::get(c, p.first())),
    api!(Patch "/programs/{id}", ADMIN, |c, p| admin::programs::update(c, p.first())),
    api!(Post "/programs/{id}/rotate-secret", ADMIN, |c, p| admin::programs::rotate_secret(c, p.first())),
    api!(Get "/partners", ADMIN, |c, _| admin::partners::list(c)),
    api!(Post "/partners", ADMIN, |c, _| admin::partners::create(c)),
    api!(Get "/partners/{id}", OWN_PARTNER, |c, p| admin::partners::get(c, p.first())),
    api!(Patch "/partners/{id}", ADMIN, |c, p| admin::partners::update(c, p.first())),
    api!(Get "/links", OWN_ROWS, |c, _| admin::links::list(c)),
    api!(Post "/links", ADMIN, |c, _| admin::links::create(c)),
    api!(Get "/links/{id}", ADMIN, |c, p| admin::links::get(c, p.first())),
    api!(Patch "/links/{id}", ADMIN, |c, p| admin::links::update(c, p.first())),
    api!(Get "/commission-rules", ADMIN, |c, _| admin::rules::list(c)),
    api!(Post "/commission-rules", ADMIN, |c, _| admin::rules::create(c)),
    api!(Get "/commission-rules/{id}", ADMIN, |c, p| admin::rules::get(c, p.first())),
    api!(Patch "/commission-rules/{id}", ADMIN, |c, p| admin::rules::update(c, p.first())),
    api!(Get "/conversions", OWN_ROWS, |c, _| admin::conversions::list(c)),
    api!(Get "/conversions/{id}", OWN_CONVERSION, |c, p| admin::conversions::get(c, p.first())),
    api!(Patch "/conversions/{id}", ADMIN, |c, p| admin::conversions::update(c, p.first())),
    api!(Get "/payouts", OWN_ROWS, |c, _| admin::money::list(c)),
    api!(Post "/payouts", ADMIN, |c, _| admin::money::run(c)),
    api!(Get "/payouts/{id}", OWN_PAYOUT, |c, p| admin::money::get(c, p.first())),
    api!(Patch "/payouts/{id}", ADMIN, |c, p| admin::money::update(c, p.first())),
    api!(Get "/payouts/{id}/statement.csv", OWN_PAYOUT, |c, p| admin::money::statement(c, p.first())),
    api!(Get "/balances", OWN_ROWS, |c, _| admin::money::balances(c)),
    api!(Get "/partner-programs", OWN_ROWS, |c, _| admin::portal::programs(c)),
    api!(Post "/partner-links", OWN_ROWS, |c, _| admin::portal::create_link(c)),
    api!(Get "/experiments", ADMIN, |c, _| admin::experiments::list(c)),
    api!(Post "/experiments", ADMIN, |c, _| admin::experiments::create(c)),
    api!(Get "/experiments/{id}", ADMIN, |c, p| admin::experiments::get(c, p.first())),
    api!(Get "/experiments/{id}/results", ADMIN, |c, p| admin::experiments::results(c, p.first())),
    api!(Get "/experiments/{id}/partners", ADMIN, |c, p| admin::experiments::partners(c, p.first())),
    api!(Post "/experiments/{id}/stop", ADMIN, |c, p| admin::experiments::stop(c, p.first())),
    api!(Get "/materials", OWN_ROWS, |c, _| admin::materials::list(c)),
    api!(Post "/materials", ADMIN, |c, _| admin::materials::create(c)),
    api!(Get "/materials/{id}", ADMIN, |c, p| admin::materials::get(c, p.first())),
    api!(Delete "/materials/{id}", ADMIN, |c, p| admin::materials::archive(c, p.first())),
    api!(Get "/alerts", ADMIN, |c, _| admin::alerts::list(c)),
    api!(Post "/alerts", ADMIN, |c, _| admin::alerts::create(c)),
    api!(Get "/alerts/{id}", ADMIN, |c, p| admin::alerts::get(c, p.first())),
    api!(Patch "/alerts/{id}", ADMIN, |c, p| admin::alerts::update(c, p.first())),
    api!(Delete "/alerts/{id}", ADMIN, |c, p| admin::alerts::delete(c, p.first())),
    api!(Get "/alert-events", ADMIN, |c, _| admin::alerts::events(c)),
    api!(Get "/report-schedules", ADMIN, |c, _| admin::schedules::list(c)),
    api!(Post "/report-schedules", ADMIN, |c, _| admin::schedules::create(c)),
    api!(Get "/report-schedules/{id}", ADMIN, |c, p| admin::schedules::get(c, p.first())),
    api!(Patch "/report-schedules/{id}", ADMIN, |c, p| admin::schedules::update(c, p.first())),
    api!(Delete "/report-schedules/{id}", ADMIN, |c, p| admin::schedules::delete(c, p.first())),
    api!(Get "/archives", ADMIN, |c, _| admin::archives::list(c)),
    api!(Post "/archive-runs", ADMIN, |c, _| admin::archives::run(c)),
    api!(Get "/archives/{id}", ADMIN, |c, p| admin::archives::get(c, p.first())),
    api!(Get "/archives/{id}/parts/{part}", ADMIN, |c, p| admin::archives::part(
        c,
        p.first(),
        p.as_slice()[1]
    )),
    api!(Post "/archives/{id}/restore", ADMIN, |c, p| admin::archives::restore(c, p.first())),
    api!(Get "/report-runs", ADMIN, |c, _| admin::schedules::runs(c)),
    api!(Get "/report-runs/{id}", ADMIN, |c, p| admin::schedules::run(c, p.first())),
    api!(Get "/report-runs/{id}/file", ADMIN, |c, p| admin::schedules::file(c, p.first())),
    api!(Get "/promo-codes", OWN_ROWS, |c, _| admin::promo_codes::list(c)),
    api!(Post "/promo-codes", ADMIN, |c, _| admin::promo_codes::create(c)),
    api!(Get "/promo-codes/{id}", ADMIN, |c, p| admin::promo_codes::get(c, p.first())),
    api!(Delete "/promo-codes/{id}", ADMIN, |c, p| admin::promo_codes::retire(c, p.first())),
    api!(Get "/costs", ADMIN, |c, _| admin::money::list_costs(c)),
    api!(Post "/costs", ADMIN, |c, _| admin::money::create_cost(c)),
    api!(Get "/costs/{id}", ADMIN, |c, p| admin::money::get_cost(c, p.first())),
    api!(Patch "/costs/{id}", ADMIN, |c, p| admin::money::update_cost(c, p.first())),
    api!(Delete "/costs/{id}", ADMIN, |c, p| admin::money::delete_cost(c, p.first())),
    api!(Post "/amocrm-mappings", ADMIN, |c, _| admin::crm::save(c)),
    api!(Get "/amocrm-mappings/{id}", ADMIN, |c, p| admin::crm::get(c, p.first())),
    api!(Get "/partner-postbacks", ADMIN, |c, _| admin::outbound::list(c)),
    api!(Post "/partner-postbacks", ADMIN, |c, _| admin::outbound::create(c)),
    api!(Get "/partner-postbacks/{id}", ADMIN, |c, p| admin::outbound::get(c, p.first())),
    api!(Patch "/partner-postbacks/{id}", ADMIN, |c, p| admin::outbound::update(c, p.first())),
    api!(Get "/postback-deliveries", ADMIN, |c, _| admin::outbound::deliveries(c)),
    api!(Get "/bi-keys", ADMIN, |c, _| admin::bi_keys::list(c)),
    api!(Post "/bi-keys", ADMIN, |c, _| admin::bi_keys::create(c)),
    api!(Get "/bi-keys/{id}", ADMIN, |c, p| admin::bi_keys::get(c, p.first())),
    api!(Patch "/bi-keys/{id}", ADMIN, |c, p| admin::bi_keys::update(c, p.first())),
    api!(Delete "/bi-keys/{id}", ADMIN, |c, p| admin::bi_keys::revoke(c, p.first())),
    api!(Get "/partner-tokens", ADMIN, |c, _| admin::partner_tokens::list(c)),
    api!(Post "/partner-tokens", ADMIN, |c, _| admin::partner_tokens::create(c)),
    api!(Get "/partner-tokens/{id}", ADMIN, |c, p| admin::partner_tokens::get(c, p.first())),
    api!(Patch "/partner-tokens/{id}", ADMIN, |c, p| admin::partner_tokens::update(c, p.first())),
    api!(Delete "/partner-tokens/{id}", ADMIN, |c, p| admin::partner_tokens::revoke(c, p.first())),
    api!(Post "/import/clicks", ADMIN, |c, _| admin::import::clicks(c)),
    api!(Post "/import/impressions", ADMIN, |c, _| admin::import::impressions(c)),
    api!(Post "/import/conversions", ADMIN, |c, _| admin::import::conversions(c)),
    api!(Get "/reports/kpis", REPORT, |c, _| admin::reports::kpis(c)),
    api!(Get "/reports/partners", REPORT, |c, _| admin::reports::partners(c)),
    api!(Post "/rollups/run", ADMIN, |c, _| admin::reports::run(c)),
    api!(Get "/goals", ADMIN, |c, _| admin::goals::list(c)),
    api!(Post "/goals", ADMIN, |c, _| admin::goals::create(c)),
    api!(Get "/goals/{id}", ADMIN, |c, p| admin::goals::get(c, p.first())),
    api!(Patch "/goals/{id}", ADMIN, |c, p| admin::goals::update(c, p.first())),
    api!(Delete "/goals/{id}", ADMIN, |c, p| admin::goals::delete(c, p.first())),
    api!(Get "/insights/forecast", ADMIN, |c, _| admin::insights::forecast(c)),
    api!(Get "/insights/flags", ADMIN, |c, _| admin::insights::flags(c)),
    api!(Get "/insights/flags/{id}", ADMIN, |c, p| admin::insights::flag(c, p.first())),
    api!(Patch "/insights/flags/{id}", ADMIN, |c, p| admin::insights::acknowledge(c, p.first())),
    api!(Post "/insights/run", ADMIN, |c, _| admin::insights::run(c)),
    api!(Get "/clicks", OWN_ROWS, |c, _| admin::events::list(c, EventKind::Click)),
    api!(Get "/impressions", ADMIN, |c, _| admin::events::list(c, EventKind::Impression)),
    api!(@ Get "/odata", FEED, |c, _| admin::odata::service(c)),
    api!(@ Get "/odata/$metadata", FEED, |_c, _| async { Ok(admin::odata::metadata()) }),
    api!(@ Get "/odata/DailyKpis", FEED, |c, _| admin::odata::daily_kpis(c)),
    api!(@ Get "/odata/Partners", FEED, |c, _| admin::odata::partners(c)),
];

/// `GET /__fault/panic`: a panic where the test-only fault `panic_route` is on
/// (src/faults.rs), and no such endpoint everywhere else.
fn fault_panic() -> ApiResult<Response> {
    if crate::faults::on(crate::faults::PANIC_ROUTE) {
        panic!("a panic asked for by FAULT_INJECTION=panic_route");
    }
    Err(super::error::ApiError::not_found("endpoint"))
}

fn health() -> Response {
    respond::json(200, &serde_json::json!({"status": "ok"}))
}

/// The route for `method` on `path`, with the path's parameters.
pub fn find<'p>(method: &Method, path: &'p str) -> Option<(&'static Route, Params<'p>)> {
    ROUTES.iter().find_map(|route| {
        if route.method != *method {
            return None;
        }
        match_path(route.path, path).map(|params| (route, params))
    })
}

fn first_segment(path: &str) -> Option<&str> {
    path.split('/').find(|s| !s.is_empty())
}

/// Whether `path` lies where callers need a key (`/api/…`, `/odata/…`): there even a path
/// that does not exist answers `401` to a caller without one, so the API's routes cannot
/// be probed anonymously.
pub fn keyed(path: &str) -> bool {
    let area = first_segment(path);
    ROUTES
        .iter()
        .any(|r| matches!(r.guard, Guard::Keys { .. }) && first_segment(r.path) == area)
}

/// The methods served on `path` (for the `Allow` header of a `405`), `None` when no
/// route has this path.
pub fn allowed(path: &str) -> Option<String> {
    let mut methods: Vec<&str> = Vec::new();
    for route in ROUTES.iter().filter(|r| match_path(r.path, path).is_some()) {
        let name = route.method.as_ref();
        if !methods.contains(&name) {
            methods.push(name);
        }
    }
    (!methods.is_empty()).then(|| methods.join(", "))
}
