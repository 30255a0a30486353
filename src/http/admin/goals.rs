//! `/api/v1/goals`: SMART goals of a program (or of one partner or segment in it), each
//! answered with how it stands: actual to date, expected to date at a seasonal pace, the
//! projection at the deadline, the probability of meeting it, and a status.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::goals::{GoalFields, GoalSpec};
use crate::domain::ids::new_id;
use crate::domain::reporting::{Cell, MetricKind};
use crate::domain::time::rfc3339;
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::insights::goals::{standing, Outcome};
use crate::storage::goals::{self, GoalRow};
use crate::storage::programs::{self, ProgramRow};
use crate::storage::{links, partners};

/// `POST /api/v1/goals` as it arrives (and, with every field optional, `PATCH`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GoalBody {
    program_id: Option<String>,
    metric: Option<String>,
    target: Option<String>,
    target_change_percent: Option<String>,
    baseline_from: Option<String>,
    baseline_to: Option<String>,
    start: Option<String>,
    deadline: Option<String>,
    partner_id: Option<String>,
    segment: Option<String>,
}

#[derive(Serialize)]
struct ProgressView {
    /// The target the goal is measured against (a change target made absolute).
    target_value: Value,
    actual: Value,
    expected_to_date: Value,
    projected: Value,
    probability: Option<f64>,
    status: Option<&'static str>,
}

#[derive(Serialize)]
struct GoalView {
    id: String,
    program_id: String,
    partner_id: Option<String>,
    segment: Option<String>,
    metric: String,
    target: Option<String>,
    target_change_percent: Option<String>,
    baseline_from: Option<String>,
    baseline_to: Option<String>,
    start: String,
    deadline: String,
    created_at: String,
    updated_at: String,
    progress: ProgressView,
}

/// A figure of the goal's metric as the API shows its kind: money as a two-decimal
/// string, counts and ratios as numbers.
fn figure(kind: MetricKind, value: Option<f64>) -> Value {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return Value::Null;
    };
    match kind {
        MetricKind::Money | MetricKind::MoneyPerUnit => Value::String(format!("{v:.2}")),
        MetricKind::Count => serde_json::Number::from_f64((v * 100.0).round() / 100.0)
            .map_or(Value::Null, Value::Number),
        MetricKind::Ratio | MetricKind::Hours => {
            serde_json::Number::from_f64((v * 1e6).round() / 1e6).map_or(Value::Null, Value::Number)
        }
    }
}

fn view(row: GoalRow, spec: &GoalSpec, outcome: Outcome) -> GoalView {
    let kind = spec.metric.kind();
    let p = outcome.progress;
    let progress = ProgressView {
        target_value: figure(kind, outcome.target),
        actual: match outcome.actual {
            Cell::Null => figure(kind, p.as_ref().map(|p| p.actual)),
            exact => exact.to_json(),
        },
        expected_to_date: figure(kind, p.as_ref().and_then(|p| p.expected_to_date)),
        projected: figure(kind, p.as_ref().and_then(|p| p.projected)),
        probability: p
            .as_ref()
            .and_then(|p| p.probability)
            .map(|v| (v * 1e4).round() / 1e4),
        status: p.as_ref().map(|p| p.status.as_str()),
    };
    GoalView {
        id: row.id,
        program_id: row.program_id,
        partner_id: row.partner_id,
        segment: row.segment,
        metric: row.metric,
        target: row.target,
        target_change_percent: row.target_change_percent,
        baseline_from: row.baseline_from,
        baseline_to: row.baseline_to,
        start: row.start,
        deadline: row.deadline,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        progress,
    }
}

async fn program(call: &Call<'_>, id: &str) -> ApiResult<ProgramRow> {
    programs::get(&call.store.db, id).await?.ok_or_else(|| {
        Invalid::new("program_id", "unknown_reference", "no program has this id").into()
    })
}

async fn shown(call: &Call<'_>, row: GoalRow) -> ApiResult<GoalView> {
    let spec = GoalSpec::parse(&row.fields()).map_err(|e| ApiError::internal("stored goal", e))?;
    let program = program(call, &row.program_id).await?;
    let outcome = standing(&call.store.db, call.now, &program, &spec).await?;
    Ok(view(row, &spec, outcome))
}

/// Checks a goal's fields and that its partner is in its program.
async fn checked(call: &Call<'_>, program_id: &str, fields: &GoalFields) -> ApiResult<GoalSpec> {
    let spec = GoalSpec::parse(fields)?;
    program(call, program_id).await?;
    if let Some(partner_id) = &spec.partner_id {
        partners::get(&call.store.db, partner_id)
            .await?
            .ok_or_else(|| {
                Invalid::new("partner_id", "unknown_reference", "no partner has this id")
            })?;
        if !links::programs_of_partner(&call.store.db, partner_id)
            .await?
            .iter()
            .any(|p| p == program_id)
        {
            return Err(Invalid::new(
                "partner_id",
                "unknown_reference",
                "this partner has no link in the program",
            )
            .into());
        }
    }
    Ok(spec)
}

fn fields(body: &GoalBody) -> GoalFields {
    GoalFields {
        metric: body.metric.clone(),
        target: body.target.clone(),
        target_change_percent: body.target_change_percent.clone(),
        baseline_from: body.baseline_from.clone(),
        baseline_to: body.baseline_to.clone(),
        start: body.start.clone(),
        deadline: body.deadline.clone(),
        partner_id: body.partner_id.clone(),
        segment: body.segment.clone(),
    }
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<GoalBody>(call.req).await?;
    let program_id = body
        .program_id
        .clone()
        .ok_or_else(|| Invalid::new("program_id", "missing_field", "program_id is required"))?;
    let f = fields(&body);
    checked(call, &program_id, &f).await?;
    let row = GoalRow {
        id: new_id("gol"),
        program_id,
        partner_id: f.partner_id,
        segment: f.segment,
        metric: f.metric.unwrap_or_default(),
        target: f.target,
        target_change_percent: f.target_change_percent,
        baseline_from: f.baseline_from,
        baseline_to: f.baseline_to,
        start: f.start.unwrap_or_default(),
        deadline: f.deadline.unwrap_or_default(),
        created_at: call.now,
        updated_at: call.now,
    };
    goals::insert(&call.store.db, &row).await?;
    Ok(respond::json(201, &shown(call, row).await?))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let program_id = call.param("program_id");
    let page = goals::list(
        &call.store.db,
        program_id.as_deref(),
        after.as_ref(),
        limit.min(100),
    )
    .await?;
    let has_more = page.has_more;
    let mut rows = Vec::with_capacity(page.rows.len());
    for row in page.rows {
        let cursor = Cursor {
            at: row.created_at,
            id: row.id.clone(),
        };
        rows.push((cursor, shown(call, row).await?));
    }
    let page = crate::storage::Page { rows, has_more };
    Ok(list_response(
        call,
        page,
        |(cursor, _)| cursor.clone(),
        |(_, v)| v,
    ))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<GoalRow> {
    goals::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("goal"))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    Ok(respond::json(200, &shown(call, row).await?))
}

/// `PATCH /api/v1/goals/{id}`: the fields given replace the goal's; the whole goal is
/// checked again. A goal stays in its program.
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let body = body::json::<GoalBody>(call.req).await?;
    if body.program_id.is_some() {
        return Err(Invalid::new(
            "program_id",
            "invalid_value",
            "a goal stays in its program; create a new one",
        )
        .into());
    }
    let mut row = find(call, id).await?;
    let mut f = row.fields();
    let replace = |slot: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            slot.clone_from(value);
        }
    };
    replace(&mut f.metric, &body.metric);
    replace(&mut f.start, &body.start);
    replace(&mut f.deadline, &body.deadline);
    replace(&mut f.partner_id, &body.partner_id);
    replace(&mut f.segment, &body.segment);
    replace(&mut f.baseline_from, &body.baseline_from);
    replace(&mut f.baseline_to, &body.baseline_to);
    // A new kind of target replaces the other kind.
    if body.target.is_some() {
        f.target.clone_from(&body.target);
        f.target_change_percent = None;
        f.baseline_from = None;
        f.baseline_to = None;
    }
    if body.target_change_percent.is_some() {
        f.target_change_percent
            .clone_from(&body.target_change_percent);
        f.target = None;
    }
    checked(call, &row.program_id, &f).await?;
    row.metric = f.metric.unwrap_or_default();
    row.target = f.target;
    row.target_change_percent = f.target_change_percent;
    row.baseline_from = f.baseline_from;
    row.baseline_to = f.baseline_to;
    row.start = f.start.unwrap_or_default();
    row.deadline = f.deadline.unwrap_or_default();
    row.partner_id = f.partner_id;
    row.segment = f.segment;
    row.updated_at = call.now;
    goals::update(&call.store.db, &row).await?;
    Ok(respond::json(200, &shown(call, row).await?))
}

pub async fn delete(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    goals::delete(&call.store.db, id, call.now).await?;
    Ok(respond::json(
        200,
        &serde_json::json!({ "id": row.id, "deleted": true }),
    ))
}
