//! `/api/v1/partners`.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::partners::{PartnerChanges, PartnerFields};
use crate::domain::time::rfc3339;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::partners::{self, PartnerRow};

/// `POST /api/v1/partners` as it arrives (and, with every field optional, `PATCH`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerBody {
    name: Option<String>,
    email: Option<String>,
    segment: Option<String>,
    tier: Option<String>,
    region: Option<String>,
    status: Option<String>,
}

impl From<PartnerBody> for PartnerChanges {
    fn from(b: PartnerBody) -> Self {
        let (name, email, segment) = (b.name, b.email, b.segment);
        let (tier, region, status) = (b.tier, b.region, b.status);
        PartnerChanges {
            name,
            email,
            segment,
            tier,
            region,
            status,
        }
    }
}

#[derive(Serialize)]
struct PartnerView {
    id: String,
    name: String,
    email: Option<String>,
    segment: String,
    tier: Option<String>,
    region: Option<String>,
    status: String,
    created_at: String,
    updated_at: String,
}

fn view(row: PartnerRow) -> PartnerView {
    PartnerView {
        id: row.id,
        name: row.name,
        email: row.email,
        segment: row.segment.as_str().to_owned(),
        tier: row.tier,
        region: row.region,
        status: row.status.as_str().to_owned(),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

fn cursor(row: &PartnerRow) -> Cursor {
    Cursor {
        at: row.created_at,
        id: row.id.clone(),
    }
}

pub async fn find(call: &Call<'_>, id: &str) -> ApiResult<PartnerRow> {
    partners::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("partner"))
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let fields = PartnerFields::create(body::json::<PartnerBody>(call.req).await?.into())?;
    let id = new_id("ptn");
    partners::insert(&call.store.db, &id, &fields, call.now).await?;
    Ok(respond::json(201, &view(find(call, &id).await?)))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let page = partners::list(&call.store.db, after.as_ref(), limit).await?;
    Ok(list_response(call, page, cursor, view))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(find(call, id).await?)))
}

pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<PartnerBody>(call.req).await?;
    let row = find(call, id).await?;
    let current = PartnerFields {
        name: row.name,
        email: row.email,
        segment: row.segment,
        tier: row.tier,
        region: row.region,
        status: row.status,
    };
    let fields = current.patched(patch.into())?;
    partners::update(&call.store.db, id, &fields, call.now).await?;
    Ok(respond::json(200, &view(find(call, id).await?)))
}
