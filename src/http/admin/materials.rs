//! `/api/v1/materials`: a program's banners and text snippets. Each partner places a
//! material with its own link (`/r/{code}?m={id}`) and impression pixel (`/i/{code}?m={id}`),
//! so clicks, impressions and the conversions of those clicks carry the material and the
//! reports give CTR and eCPM per material (`group_by=material`). A partner token lists the
//! materials it may place, each with its ready-to-paste HTML. Deleting archives.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::links::base_url;
use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::time::rfc3339;
use crate::domain::tracking::material::{self, Content, NewMaterial};
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::materials::{self, MaterialRow};
use crate::storage::{links, programs, StorageError};

#[derive(Serialize)]
struct MaterialView {
    id: String,
    program_id: String,
    link_id: Option<String>,
    name: String,
    kind: String,
    image_url: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    text: Option<String>,
    status: String,
    created_at: String,
    archived_at: Option<String>,
    /// The tracking link, the impression pixel and the HTML to paste, for the link the
    /// material is placed with (a partner's own; a link-bound material's link); `null`
    /// for a program-wide material read without a partner.
    click_url: Option<String>,
    pixel_url: Option<String>,
    html: Option<String>,
}

fn content(row: &MaterialRow) -> ApiResult<Content> {
    let corrupt = || ApiError::from(StorageError::corrupt("material", &row.id));
    Ok(match row.kind.as_str() {
        "banner" => Content::Banner {
            image_url: row.image_url.clone().ok_or_else(corrupt)?,
            width: row
                .width
                .and_then(|w| u32::try_from(w).ok())
                .ok_or_else(corrupt)?,
            height: row
                .height
                .and_then(|h| u32::try_from(h).ok())
                .ok_or_else(corrupt)?,
        },
        _ => Content::Text {
            body: row.body.clone().ok_or_else(corrupt)?,
        },
    })
}

fn view(base: &str, row: MaterialRow) -> ApiResult<MaterialView> {
    let placed = match &row.link_code {
        Some(code) => {
            let (click, pixel) = material::urls(base, code, &row.id);
            let html = material::snippet(&row.name, &content(&row)?, &click, &pixel);
            (Some(click), Some(pixel), Some(html))
        }
        None => (None, None, None),
    };
    Ok(MaterialView {
        id: row.id,
        program_id: row.program_id,
        link_id: row.link_id,
        name: row.name,
        kind: row.kind,
        image_url: row.image_url,
        width: row.width,
        height: row.height,
        text: row.body,
        status: row.status,
        created_at: rfc3339(row.created_at),
        archived_at: row.archived_at.map(rfc3339),
        click_url: placed.0,
        pixel_url: placed.1,
        html: placed.2,
    })
}

/// `POST /api/v1/materials` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaterialBody {
    program_id: String,
    name: String,
    kind: String,
    link_id: Option<String>,
    image_url: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    text: Option<String>,
}

fn unknown(field: &'static str, message: &str) -> ApiError {
    Invalid::new(field, "unknown_reference", message).into()
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<MaterialBody>(call.req).await?;
    let (label, content) = material::parse(&NewMaterial {
        name: &body.name,
        kind: &body.kind,
        image_url: body.image_url.as_deref(),
        width: body.width,
        height: body.height,
        text: body.text.as_deref(),
    })?;
    let db = &call.store.db;
    if programs::get(db, &body.program_id).await?.is_none() {
        return Err(unknown("program_id", "no program has this id"));
    }
    if let Some(link_id) = &body.link_id {
        match links::get(db, link_id).await? {
            Some(link) if link.program_id == body.program_id => {}
            Some(_) => {
                return Err(Invalid::new(
                    "link_id",
                    "conflicting_values",
                    "this link belongs to another program",
                )
                .into())
            }
            None => return Err(unknown("link_id", "no link has this id")),
        }
    }
    let (image_url, width, height, text) = match content {
        Content::Banner {
            image_url,
            width,
            height,
        } => (
            Some(image_url),
            Some(i64::from(width)),
            Some(i64::from(height)),
            None,
        ),
        Content::Text { body } => (None, None, None, Some(body)),
    };
    let row = MaterialRow {
        id: new_id("mat"),
        program_id: body.program_id,
        link_id: body.link_id,
        name: label,
        kind: body.kind,
        image_url,
        width,
        height,
        body: text,
        status: "active".to_owned(),
        created_at: call.now,
        archived_at: None,
        link_code: None,
    };
    materials::insert(db, &row).await?;
    let stored = find(call, &row.id).await?;
    Ok(respond::json(201, &view(&base_url(call), stored)?))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<MaterialRow> {
    materials::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("material"))
}

/// `GET /api/v1/materials[?program_id=]`; with `partner_id` (a partner token always has
/// its own) the live materials that partner may place, each with its link and HTML.
pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let base = base_url(call);
    let program_id = call.param("program_id");
    // Checked first: a bad `limit` or `cursor` is a 400 whatever else the request says.
    let (after, limit) = call.paging()?;
    if let Some(partner_id) = call.param("partner_id") {
        let rows = materials::for_partner(&call.store.db, &partner_id, program_id.as_deref())
            .await?
            .into_iter()
            .map(|row| view(&base, row))
            .collect::<ApiResult<Vec<_>>>()?;
        return Ok(respond::json(
            200,
            &serde_json::json!({ "data": rows, "next": null }),
        ));
    }
    let page =
        materials::list(&call.store.db, program_id.as_deref(), after.as_ref(), limit).await?;
    let rows = page
        .rows
        .into_iter()
        .map(|row| {
            let cursor = Cursor {
                at: row.created_at,
                id: row.id.clone(),
            };
            Ok((cursor, view(&base, row)?))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let page = crate::storage::Page {
        rows,
        has_more: page.has_more,
    };
    Ok(list_response(call, page, |(c, _)| c.clone(), |(_, v)| v))
}

/// `GET /api/v1/materials/{id}`.
pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    Ok(respond::json(200, &view(&base_url(call), row)?))
}

/// `DELETE /api/v1/materials/{id}`: archives it (its past clicks and impressions keep it;
/// partners no longer see it). Twice is harmless.
pub async fn archive(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    find(call, id).await?;
    materials::archive(&call.store.db, id, call.now).await?;
    Ok(respond::json(
        200,
        &view(&base_url(call), find(call, id).await?)?,
    ))
}
