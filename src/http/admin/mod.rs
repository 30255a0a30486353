//! The admin API under `/api/v1`: programs, partners and links.

mod bi_keys;
mod conversions;
mod crm;
mod events;
mod import;
mod links;
mod money;
mod odata;
mod outbound;
mod partners;
mod programs;
mod reports;
mod rules;

use serde::Serialize;
use worker::{Date, Env, Method, Request, Response};

use super::auth::Principal;
use super::error::{ApiError, ApiResult};
use super::respond;
use crate::domain::click::EventKind;
use crate::domain::cursor::{page_size, Cursor};
use crate::domain::request_target::{query_param, with_param};
use crate::storage::{Page, Store};

/// One admin call: the request and what every handler needs beside it.
pub struct Call<'a> {
    pub req: &'a mut Request,
    pub env: &'a Env,
    pub store: Store,
    /// `scheme://host` of this request, for `short_url` and `next` links.
    pub origin: String,
    pub path: String,
    pub query: String,
    pub now: i64,
}

impl Call<'_> {
    pub fn param(&self, name: &str) -> Option<String> {
        query_param(&self.query, name)
    }

    /// `limit` and `cursor` of a list request.
    pub fn paging(&self) -> ApiResult<(Option<Cursor>, u32)> {
        let limit = page_size(self.param("limit").as_deref())?;
        let cursor = self
            .param("cursor")
            .map(|raw| Cursor::decode(&raw))
            .transpose()?;
        Ok((cursor, limit))
    }

    /// The absolute URL of the page after `page`, or `None` on the last page.
    pub fn next_url<T>(&self, page: &Page<T>, key: impl Fn(&T) -> Cursor) -> Option<String> {
        let last = page.rows.last().filter(|_| page.has_more)?;
        let query = with_param(&self.query, "cursor", &key(last).encode());
        Some(format!("{}{}?{}", self.origin, self.path, query))
    }
}

#[derive(Serialize)]
struct List<T> {
    data: Vec<T>,
    next: Option<String>,
}

/// `{"data": [...], "next": url|null}`.
pub fn list<R, V: Serialize>(
    call: &Call<'_>,
    page: Page<R>,
    key: impl Fn(&R) -> Cursor,
    view: impl Fn(R) -> V,
) -> Response {
    let next = call.next_url(&page, key);
    let data = page.rows.into_iter().map(view).collect();
    respond::json(200, &List { data, next })
}

pub async fn route(
    req: &mut Request,
    env: &Env,
    origin: String,
    path: &str,
    query: &str,
    segments: &[&str],
) -> ApiResult<Response> {
    let store = Store::open(env)?;
    let principal = super::auth::authenticate(req, env, &store.db, query).await?;
    let method = super::method(req);
    let query = match &principal {
        Principal::Admin => query.to_owned(),
        Principal::Bi => {
            // BI keys read reports and nothing else.
            let readable = method == Method::Get
                && matches!(segments, ["reports", "kpis" | "partners"] | ["odata", ..]);
            if !readable {
                return Err(ApiError::new(
                    403,
                    "forbidden",
                    "BI keys are read-only and reach only the reports",
                ));
            }
            query.to_owned()
        }
        Principal::Partner(partner_id) => {
            partner_scope(&store, &method, segments, query, partner_id).await?
        }
    };
    let mut call = Call {
        req,
        env,
        store,
        origin,
        path: path.to_owned(),
        query,
        now: Date::now().as_millis() as i64,
    };
    match (segments, method) {
        (["programs"], Method::Post) => programs::create(&mut call).await,
        (["programs"], Method::Get) => programs::list(&call).await,
        (["programs", id], Method::Get) => programs::get(&call, id).await,
        (["programs", id], Method::Patch) => programs::update(&mut call, id).await,
        (["programs", id, "rotate-secret"], Method::Post) => {
            programs::rotate_secret(&mut call, id).await
        }
        (["partners"], Method::Post) => partners::create(&mut call).await,
        (["partners"], Method::Get) => partners::list(&call).await,
        (["partners", id], Method::Get) => partners::get(&call, id).await,
        (["partners", id], Method::Patch) => partners::update(&mut call, id).await,
        (["links"], Method::Post) => links::create(&mut call).await,
        (["links"], Method::Get) => links::list(&call).await,
        (["links", id], Method::Get) => links::get(&call, id).await,
        (["links", id], Method::Patch) => links::update(&mut call, id).await,
        (["commission-rules"], Method::Post) => rules::create(&mut call).await,
        (["commission-rules"], Method::Get) => rules::list(&call).await,
        (["commission-rules", id], Method::Get) => rules::get(&call, id).await,
        (["commission-rules", id], Method::Patch) => rules::update(&mut call, id).await,
        (["conversions"], Method::Get) => conversions::list(&call).await,
        (["conversions", id], Method::Get) => conversions::get(&call, id).await,
        (["conversions", id], Method::Patch) => conversions::update(&mut call, id).await,
        (["payouts"], Method::Post) => money::run(&mut call).await,
        (["payouts"], Method::Get) => money::list(&call).await,
        (["payouts", id], Method::Get) => money::get(&call, id).await,
        (["payouts", id, "statement.csv"], Method::Get) => money::statement(&call, id).await,
        (["balances"], Method::Get) => money::balances(&call).await,
        (["costs"], Method::Post) => money::create_cost(&mut call).await,
        (["costs"], Method::Get) => money::list_costs(&call).await,
        (["amocrm-mappings"], Method::Post) => crm::save(&mut call).await,
        (["amocrm-mappings", program_id], Method::Get) => crm::get(&call, program_id).await,
        (["partner-postbacks"], Method::Post) => outbound::create(&mut call).await,
        (["partner-postbacks"], Method::Get) => outbound::list(&call).await,
        (["partner-postbacks", id], Method::Get) => outbound::get(&call, id).await,
        (["partner-postbacks", id], Method::Patch) => outbound::update(&mut call, id).await,
        (["postback-deliveries"], Method::Get) => outbound::deliveries(&call).await,
        (["bi-keys"], Method::Post) => bi_keys::create(&mut call).await,
        (["bi-keys"], Method::Get) => bi_keys::list(&call).await,
        (["bi-keys", id], Method::Delete) => bi_keys::revoke(&call, id).await,
        (["import", "clicks"], Method::Post) => import::clicks(&mut call).await,
        (["import", "conversions"], Method::Post) => import::conversions(&mut call).await,
        (["reports", "kpis"], Method::Get) => reports::kpis(&call).await,
        (["reports", "partners"], Method::Get) => reports::partners(&call).await,
        (["odata"], Method::Get) => odata::service(&call).await,
        (["odata", "$metadata"], Method::Get) => Ok(odata::metadata()),
        (["odata", "DailyKpis"], Method::Get) => odata::daily_kpis(&call).await,
        (["odata", "Partners"], Method::Get) => odata::partners(&call).await,
        (["rollups", "run"], Method::Post) => reports::run(&call).await,
        (["clicks"], Method::Get) => events::list(&call, EventKind::Click).await,
        (["impressions"], Method::Get) => events::list(&call, EventKind::Impression).await,
        (segments, _) => Err(match allowed_methods(segments) {
            Some(allow) => ApiError::method_not_allowed(allow),
            None => ApiError::not_found("endpoint"),
        }),
    }
}

/// What a partner token may do: read its own partner, and its own reports, conversions
/// and clicks. Lists and reports are narrowed to the partner (the answer is the query to
/// serve them with); naming another partner, or another partner's conversion, is a `403`.
async fn partner_scope(
    store: &Store,
    method: &Method,
    segments: &[&str],
    query: &str,
    partner_id: &str,
) -> ApiResult<String> {
    let forbidden = |message: &str| Err(ApiError::new(403, "forbidden", message));
    if *method != Method::Get {
        return forbidden("partner tokens are read-only");
    }
    match segments {
        ["reports", "kpis" | "partners"] | ["conversions"] | ["clicks"] => {
            match query_param(query, "partner_id") {
                Some(asked) if asked != partner_id => {
                    forbidden("this partner token reads its own partner's data only")
                }
                // Rewritten whatever was asked: one partner_id, the token's own.
                _ => Ok(with_param(query, "partner_id", partner_id)),
            }
        }
        ["partners", id] if *id == partner_id => Ok(query.to_owned()),
        ["conversions", id] => match crate::storage::conversions::get(&store.db, id).await? {
            Some(row) if row.partner_id != partner_id => {
                forbidden("this conversion belongs to another partner")
            }
            _ => Ok(query.to_owned()),
        },
        ["partners", _] => forbidden("this partner token reads its own partner only"),
        _ => forbidden(
            "partner tokens read their partner, and its reports, conversions and clicks only",
        ),
    }
}

/// The methods routed on this path, for the `Allow` header of a `405`.
fn allowed_methods(segments: &[&str]) -> Option<&'static str> {
    Some(match segments {
        ["programs" | "partners" | "links" | "commission-rules" | "payouts" | "costs"
        | "partner-postbacks" | "bi-keys"] => "GET, POST",
        ["programs" | "partners" | "links" | "commission-rules" | "conversions"
        | "partner-postbacks", _] => "GET, PATCH",
        ["conversions" | "balances" | "postback-deliveries" | "clicks" | "impressions"]
        | ["payouts" | "amocrm-mappings", _]
        | ["payouts", _, "statement.csv"]
        | ["reports", "kpis" | "partners"]
        | ["odata"]
        | ["odata", "$metadata" | "DailyKpis" | "Partners"] => "GET",
        ["amocrm-mappings"]
        | ["programs", _, "rotate-secret"]
        | ["import", "clicks" | "conversions"]
        | ["rollups", "run"] => "POST",
        ["bi-keys", _] => "DELETE",
        _ => return None,
    })
}
