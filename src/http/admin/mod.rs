//! The admin, BI and partner API under `/api/v1` and the OData feed: who may call a
//! route (from its guard in the route table), and what every handler is given.

pub mod alerts;
pub mod archives;
pub mod bi_keys;
pub mod conversions;
pub mod crm;
pub mod events;
pub mod experiments;
pub mod goals;
pub mod import;
pub mod insights;
pub mod links;
pub mod materials;
pub mod money;
pub mod odata;
pub mod outbound;
pub mod partner_tokens;
pub mod partners;
pub mod portal;
pub mod programs;
pub mod promo_codes;
pub mod reports;
pub mod rules;
pub mod schedules;
pub mod sessions;

use serde::Serialize;
use worker::{Date, Env, Method, Request, Response};

use super::auth::Principal;
use super::error::{ApiError, ApiResult};
use super::respond;
use super::routes::{Answer, Guard, Incoming, PartnerAccess};
use crate::domain::cursor::{page_size, Cursor};
use crate::domain::request_target::{query_param, with_param, Params};
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

/// Serves an API route: authenticates the caller, admits it as the route's guard says
/// (narrowing a partner token's query to its partner), then calls the handler.
pub async fn serve(
    incoming: &mut Incoming<'_>,
    guard: Guard,
    params: Params<'_>,
    handler: for<'a, 'b> fn(&'a mut Call<'b>, Params<'a>) -> Answer<'a>,
) -> ApiResult<Response> {
    let store = Store::open(incoming.env)?;
    let principal = super::auth::authenticate(
        incoming.req,
        incoming.env,
        &store.db,
        incoming.query,
        incoming.origin,
    )
    .await?;
    let query = admit(
        &store,
        guard,
        &principal,
        &incoming.method,
        params,
        incoming.query,
    )
    .await?;
    let mut call = Call {
        req: incoming.req,
        env: incoming.env,
        store,
        origin: incoming.origin.to_owned(),
        path: incoming.path.to_owned(),
        query,
        now: Date::now().as_millis() as i64,
    };
    handler(&mut call, params).await
}

fn forbidden<T>(message: &str) -> ApiResult<T> {
    Err(ApiError::new(403, "forbidden", message))
}

/// Whether `principal` may call a route with `guard`; answers the query to serve it with.
async fn admit(
    store: &Store,
    guard: Guard,
    principal: &Principal,
    method: &Method,
    params: Params<'_>,
    query: &str,
) -> ApiResult<String> {
    let Guard::Keys { bi, partner } = guard else {
        return Ok(query.to_owned());
    };
    match principal {
        Principal::Admin => Ok(query.to_owned()),
        Principal::Bi if bi => Ok(query.to_owned()),
        Principal::Bi => forbidden("BI keys are read-only and reach only the reports"),
        Principal::Partner(partner_id) => {
            partner_scope(store, partner, method, params, query, partner_id).await
        }
    }
}

/// What a partner token may do: read its own partner, and its own reports, conversions
/// and clicks. Lists and reports are narrowed to the partner (the answer is the query to
/// serve them with); naming another partner, or another partner's conversion, is a `403`.
async fn partner_scope(
    store: &Store,
    access: PartnerAccess,
    method: &Method,
    params: Params<'_>,
    query: &str,
    partner_id: &str,
) -> ApiResult<String> {
    match access {
        PartnerAccess::Any => Ok(query.to_owned()),
        PartnerAccess::Denied if *method != Method::Get => {
            forbidden("partner tokens are read-only")
        }
        PartnerAccess::Denied => forbidden(
            "partner tokens read their partner, and its reports, conversions and clicks only",
        ),
        PartnerAccess::OwnRows => match query_param(query, "partner_id") {
            Some(asked) if asked != partner_id => {
                forbidden("this partner token reads its own partner's data only")
            }
            // Rewritten whatever was asked: one partner_id, the token's own.
            _ => Ok(with_param(query, "partner_id", partner_id)),
        },
        PartnerAccess::OwnPartner if params.first() == partner_id => Ok(query.to_owned()),
        PartnerAccess::OwnPartner => forbidden("this partner token reads its own partner only"),
        PartnerAccess::OwnPayout => {
            match crate::storage::payouts::get(&store.db, params.first()).await? {
                Some(row) if row.partner_id != partner_id => {
                    forbidden("this payout belongs to another partner")
                }
                _ => Ok(query.to_owned()),
            }
        }
        PartnerAccess::OwnConversion => {
            match crate::storage::conversions::get(&store.db, params.first()).await? {
                Some(row) if row.partner_id != partner_id => {
                    forbidden("this conversion belongs to another partner")
                }
                _ => Ok(query.to_owned()),
            }
        }
    }
}
