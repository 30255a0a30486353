//! `/api/v1/experiments`: destination split tests on a link. Creating one publishes the
//! link with its arms (the next redirect splits visitors); the results judge it; stopping
//! it publishes the link again, to the winner's destination when the results name one.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::experiments::results::{self, Results};
use crate::domain::experiments::split::{parse_variants, Variant};
use crate::domain::ids::new_id;
use crate::domain::text::name;
use crate::domain::time::rfc3339;
use crate::domain::tracking::link::{Destination, LinkCode};
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::experiments::{self, ExperimentRow};
use crate::storage::{is_unique_violation, links, StorageError};

const DEFAULT_ALPHA: f64 = 0.05;
const DEFAULT_MDE: f64 = 0.2;

#[derive(Serialize)]
struct ExperimentView {
    id: String,
    kind: String,
    name: String,
    program_id: String,
    link_id: Option<String>,
    variants: Vec<Variant>,
    alpha: f64,
    minimum_detectable_effect: f64,
    status: String,
    winner: Option<String>,
    created_at: String,
    stopped_at: Option<String>,
}

fn stored_variants(row: &ExperimentRow) -> ApiResult<Vec<Variant>> {
    serde_json::from_str(&row.variants)
        .map_err(|e| ApiError::from(StorageError::corrupt("experiment's variants", e)))
}

fn view(row: ExperimentRow) -> ApiResult<ExperimentView> {
    Ok(ExperimentView {
        variants: stored_variants(&row)?,
        id: row.id,
        kind: row.kind,
        name: row.name,
        program_id: row.program_id,
        link_id: row.link_id,
        alpha: row.alpha,
        minimum_detectable_effect: row.minimum_detectable_effect,
        status: row.status,
        winner: row.winner,
        created_at: rfc3339(row.created_at),
        stopped_at: row.stopped_at.map(rfc3339),
    })
}

/// `POST /api/v1/experiments` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentBody {
    kind: String,
    link_id: Option<String>,
    name: Option<String>,
    variants: Option<Vec<Variant>>,
    alpha: Option<f64>,
    minimum_detectable_effect: Option<f64>,
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> ApiError {
    Invalid::new(field, code, message).into()
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<ExperimentBody>(call.req).await?;
    match body.kind.as_str() {
        "link_split" => {}
        "commission" => {
            return Err(invalid(
                "kind",
                "unsupported_kind",
                "commission experiments are not available yet; kind must be link_split",
            ))
        }
        _ => {
            return Err(invalid(
                "kind",
                "invalid_value",
                "kind must be one of: link_split",
            ))
        }
    }
    let alpha = body.alpha.unwrap_or(DEFAULT_ALPHA);
    if !(0.001..=0.2).contains(&alpha) {
        return Err(invalid(
            "alpha",
            "invalid_value",
            "alpha must be from 0.001 to 0.2",
        ));
    }
    let mde = body.minimum_detectable_effect.unwrap_or(DEFAULT_MDE);
    if !(0.01..=10.0).contains(&mde) {
        return Err(invalid(
            "minimum_detectable_effect",
            "invalid_value",
            "minimum_detectable_effect is a relative change from 0.01 (1 %) to 10",
        ));
    }
    let variants = parse_variants(
        body.variants
            .ok_or_else(|| invalid("variants", "missing_field", "variants is required"))?,
    )?;
    let link_id = body
        .link_id
        .ok_or_else(|| invalid("link_id", "missing_field", "link_id is required"))?;
    let db = &call.store.db;
    let link = links::get(db, &link_id)
        .await?
        .ok_or_else(|| invalid("link_id", "unknown_reference", "no link has this id"))?;
    let label = match body.name.as_deref() {
        Some(raw) => name("name", raw, 200)?,
        None => format!("Split test of {}", link.code),
    };
    let row = ExperimentRow {
        id: new_id("exp"),
        kind: "link_split".to_owned(),
        name: label,
        program_id: link.program_id.clone(),
        link_id: Some(link.id.clone()),
        variants: serde_json::to_string(&variants)
            .map_err(|e| ApiError::internal("experiment create", e.to_string()))?,
        alpha,
        minimum_detectable_effect: mde,
        status: "running".to_owned(),
        winner: None,
        created_at: call.now,
        stopped_at: None,
    };
    match experiments::insert(db, &row).await {
        Ok(()) => {}
        Err(error) if is_unique_violation(&error, "experiments.link_id") => {
            return Err(ApiError::new(
                409,
                "experiment_running",
                "this link already runs a split test; stop it first",
            )
            .with_field("link_id"))
        }
        Err(error) => return Err(error.into()),
    }
    links::publish(&call.store.kv, db, &LinkCode::parse(&link.code)?).await?;
    Ok(respond::json(201, &view(row)?))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<ExperimentRow> {
    experiments::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("experiment"))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let (program_id, link_id) = (call.param("program_id"), call.param("link_id"));
    let page = experiments::list(
        &call.store.db,
        program_id.as_deref(),
        link_id.as_deref(),
        after.as_ref(),
        limit,
    )
    .await?;
    let rows = page
        .rows
        .into_iter()
        .map(|row| {
            let cursor = Cursor {
                at: row.created_at,
                id: row.id.clone(),
            };
            Ok((cursor, view(row)?))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let page = crate::storage::Page {
        rows,
        has_more: page.has_more,
    };
    Ok(list_response(
        call,
        page,
        |(cursor, _)| cursor.clone(),
        |(_, view)| view,
    ))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(find(call, id).await?)?))
}

async fn results_of(call: &Call<'_>, row: &ExperimentRow) -> ApiResult<Results> {
    let variants = stored_variants(row)?;
    let link_id = row.link_id.as_deref().unwrap_or_default();
    let until = row.stopped_at.unwrap_or(call.now + 1);
    let (clicks, converted) =
        experiments::outcomes(&call.store.db, link_id, row.created_at, until).await?;
    Ok(results::compute(
        &variants,
        &clicks,
        &converted,
        row.alpha,
        row.minimum_detectable_effect,
    ))
}

#[derive(Serialize)]
struct ResultsView<'a> {
    experiment_id: &'a str,
    status: &'a str,
    alpha: f64,
    minimum_detectable_effect: f64,
    #[serde(flatten)]
    results: Results,
}

/// `GET /api/v1/experiments/{id}/results`.
pub async fn results(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    let results = results_of(call, &row).await?;
    Ok(respond::json(
        200,
        &ResultsView {
            experiment_id: &row.id,
            status: &row.status,
            alpha: row.alpha,
            minimum_detectable_effect: row.minimum_detectable_effect,
            results,
        },
    ))
}

/// `POST /api/v1/experiments/{id}/stop` as it arrives.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StopBody {
    winner: Option<String>,
}

/// `POST /api/v1/experiments/{id}/stop {winner?}`: ends the split (every visitor goes to
/// the link's destination again). With `winner`, which must be the variant the results
/// name, the link's destination becomes the winner's.
pub async fn stop(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let body = body::optional_json::<StopBody>(call.req).await?;
    let row = find(call, id).await?;
    if row.status != "running" {
        return Err(ApiError::new(
            409,
            "experiment_stopped",
            "this experiment has already stopped",
        ));
    }
    let db = &call.store.db;
    let mut link = links::get(db, row.link_id.as_deref().unwrap_or_default())
        .await?
        .ok_or_else(|| ApiError::internal("experiment stop", "the experiment's link is gone"))?;
    if let Some(winner) = &body.winner {
        let variants = stored_variants(&row)?;
        let Some(variant) = variants.iter().find(|v| &v.name == winner) else {
            return Err(invalid(
                "winner",
                "unknown_variant",
                "no variant of this experiment has this name",
            ));
        };
        let results = results_of(call, &row).await?;
        if results.winner.as_deref() != Some(winner.as_str()) {
            return Err(ApiError::new(
                409,
                "no_winner_yet",
                format!(
                    "the results do not name {winner:?} the winner (verdict: {}); stop without a winner, or wait",
                    results.verdict
                ),
            )
            .with_field("winner"));
        }
        link.destination = Destination::parse(&variant.destination)?
            .as_str()
            .to_owned();
        link.updated_at = call.now;
        links::update(db, &link).await?;
    }
    experiments::stop(db, &row.id, body.winner.as_deref(), call.now).await?;
    links::publish(&call.store.kv, db, &LinkCode::parse(&link.code)?).await?;
    Ok(respond::json(200, &view(find(call, id).await?)?))
}
