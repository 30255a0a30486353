//! `/api/v1/report-schedules` and `/api/v1/report-runs`: scheduled reports, their runs
//! and files. A schedule's webhook URLs and signing secrets are sealed when stored and
//! shown as hints; a generic webhook's signing secret is shown in full once, in the
//! answer that made it. Files are kept in R2: an admin downloads them at
//! `/report-runs/{id}/file`, a message's recipient through its signed, expiring link at
//! `/report-files/{id}`.

use serde::Serialize;
use serde_json::{json, Value};
use worker::Response;

use super::links::base_url;
use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::notify::recipient::{self, Recipient, RecipientInput};
use crate::domain::notify::{file_link_valid, seal};
use crate::domain::schedules::next_due;
use crate::domain::schedules::spec::{ScheduleBody, ScheduleSpec};
use crate::domain::time::rfc3339;
use crate::domain::Invalid;
use crate::http::auth::postback_master_key;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::http::routes::Incoming;
use crate::schedules::{spec_of, RunError, BUCKET_BINDING};
use crate::storage::schedules::{self, DeliveryRow, RunRow, ScheduleRow};
use crate::storage::{programs, Store};

impl From<RunError> for ApiError {
    fn from(error: RunError) -> Self {
        match error {
            RunError::Storage(storage) => storage.into(),
            RunError::Invalid(invalid) => invalid.into(),
            RunError::Other(text) => ApiError::internal("report schedule", text),
        }
    }
}

fn view(row: &ScheduleRow, spec: &ScheduleSpec, now: i64) -> Value {
    let next_run_at = match (spec.status, spec.cadence_value(), spec.tz()) {
        (crate::domain::schedules::spec::ScheduleStatus::Active, Ok(cadence), Ok(tz)) => {
            next_due(cadence, spec.hour, tz, now).map(|due| rfc3339(due.at_ms))
        }
        _ => None,
    };
    let recipients: Value = serde_json::from_str(&row.recipients).unwrap_or(Value::Null);
    json!({
        "id": row.id,
        "name": spec.name,
        "report": spec.report,
        "range": spec.range,
        "group_by": spec.group_by,
        "metrics": spec.metrics,
        "filters": spec.filters,
        "timezone": spec.timezone,
        "cadence": spec.cadence,
        "weekday": spec.weekday,
        "day_of_month": spec.day_of_month,
        "hour": spec.hour,
        "format": spec.format,
        "status": spec.status,
        "recipients": recipients,
        "next_run_at": next_run_at,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    })
}

/// The answer to a create or update: the view, with the signing secret of each webhook
/// recipient that is new in full (the only time it is shown).
pub(super) fn with_new_secrets(
    mut shown: Value,
    stored: &[Recipient],
    before: &[Recipient],
) -> Value {
    if let Some(list) = shown["recipients"].as_array_mut() {
        for (item, recipient) in list.iter_mut().zip(stored) {
            if let Recipient::Webhook { secret, .. } = recipient {
                let known = before
                    .iter()
                    .any(|b| matches!(b, Recipient::Webhook { secret: s, .. } if s == secret));
                if !known {
                    item["signing_secret"] = Value::String(secret.clone());
                }
            }
        }
    }
    shown
}

async fn check_program(call: &Call<'_>, spec: &ScheduleSpec) -> ApiResult<()> {
    if let Some(program_id) = spec.filters.get("program_id") {
        if programs::get(&call.store.db, program_id).await?.is_none() {
            return Err(Invalid::new(
                "filters",
                "unknown_reference",
                "no program has this program_id",
            )
            .into());
        }
    }
    Ok(())
}

/// A row's recipients after a create or update: those stored before (none for a new
/// row), the new list (`inputs`, or the stored one kept), and its shown and sealed forms.
pub(super) struct Resealed {
    pub before: Vec<Recipient>,
    pub to: Vec<Recipient>,
    pub shown: String,
    pub sealed: String,
}

/// Opens the recipients `stored` for the row `id` (if any), replaces them with `inputs`
/// when given (a webhook whose URL stays keeps its secret), and seals the result.
pub(super) fn reseal(
    env: &worker::Env,
    id: &str,
    stored: Option<&str>,
    inputs: Option<&[RecipientInput]>,
) -> ApiResult<Resealed> {
    let master = postback_master_key(env)?;
    let before = match stored {
        Some(sealed) => crate::schedules::open_recipients(&master, id, sealed)?,
        None => Vec::new(),
    };
    let to = match (inputs, stored) {
        (Some(inputs), _) => recipient::parse(inputs, &before)?,
        (None, Some(_)) => before.clone(),
        (None, None) => {
            return Err(
                Invalid::new("recipients", "missing_field", "recipients is required").into(),
            )
        }
    };
    let plain = serde_json::to_vec(&to).map_err(|e| ApiError::internal("recipients", e))?;
    let views: Vec<_> = to.iter().map(Recipient::view).collect();
    let shown = serde_json::to_string(&views).map_err(|e| ApiError::internal("recipients", e))?;
    let sealed = seal::seal(&master, id, &plain);
    Ok(Resealed {
        before,
        to,
        shown,
        sealed,
    })
}

/// `POST /api/v1/report-schedules`.
pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<ScheduleBody>(call.req).await?;
    let spec = ScheduleSpec::create(&body)?;
    let id = new_id("rsc");
    let r = reseal(call.env, &id, None, body.recipients.as_deref())?;
    check_program(call, &spec).await?;
    let row = ScheduleRow {
        id,
        name: spec.name.clone(),
        spec: serde_json::to_string(&spec).map_err(|e| ApiError::internal("schedule", e))?,
        status: spec.status.as_str().to_owned(),
        recipients: r.shown,
        recipients_sealed: r.sealed,
        base_url: base_url(call),
        created_at: call.now,
        updated_at: call.now,
    };
    schedules::insert(&call.store.db, &row).await?;
    Ok(respond::json(
        201,
        &with_new_secrets(view(&row, &spec, call.now), &r.to, &r.before),
    ))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<ScheduleRow> {
    schedules::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("report schedule"))
}

/// `GET /api/v1/report-schedules[?status=]`.
pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let status = call.param("status");
    if let Some(status) = status.as_deref() {
        crate::domain::schedules::spec::ScheduleStatus::parse(status)?;
    }
    let (after, limit) = call.paging()?;
    let page = schedules::list(&call.store.db, status.as_deref(), after.as_ref(), limit).await?;
    let rows = page
        .rows
        .into_iter()
        .map(|row| {
            let spec = spec_of(&row)?;
            let cursor = Cursor {
                at: row.created_at,
                id: row.id.clone(),
            };
            Ok((cursor, view(&row, &spec, call.now)))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let page = crate::storage::Page {
        rows,
        has_more: page.has_more,
    };
    Ok(list_response(call, page, |(c, _)| c.clone(), |(_, v)| v))
}

/// `GET /api/v1/report-schedules/{id}`.
pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    let spec = spec_of(&row)?;
    Ok(respond::json(200, &view(&row, &spec, call.now)))
}

/// `PATCH /api/v1/report-schedules/{id}`: the fields given replace the stored ones;
/// `recipients`, when given, replace the list (a webhook whose URL stays keeps its
/// signing secret).
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let body = body::json::<ScheduleBody>(call.req).await?;
    let row = find(call, id).await?;
    let spec = spec_of(&row)?.update(&body)?;
    check_program(call, &spec).await?;
    let r = reseal(
        call.env,
        &row.id,
        Some(&row.recipients_sealed),
        body.recipients.as_deref(),
    )?;
    let updated = ScheduleRow {
        name: spec.name.clone(),
        spec: serde_json::to_string(&spec).map_err(|e| ApiError::internal("schedule", e))?,
        status: spec.status.as_str().to_owned(),
        recipients: r.shown,
        recipients_sealed: r.sealed,
        updated_at: call.now,
        ..row
    };
    if !schedules::update(&call.store.db, &updated).await? {
        return Err(ApiError::not_found("report schedule"));
    }
    Ok(respond::json(
        200,
        &with_new_secrets(view(&updated, &spec, call.now), &r.to, &r.before),
    ))
}

/// `DELETE /api/v1/report-schedules/{id}`: no more runs; past runs and files stay.
pub async fn delete(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    schedules::delete(&call.store.db, id, call.now).await?;
    Ok(respond::json(
        200,
        &json!({ "id": row.id, "deleted": true }),
    ))
}

#[derive(Serialize)]
pub(super) struct DeliveryView {
    channel: String,
    target: String,
    status: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    next_attempt_at: Option<String>,
    delivered_at: Option<String>,
}

pub(super) fn delivery_view(d: DeliveryRow) -> DeliveryView {
    DeliveryView {
        channel: d.channel,
        target: d.target,
        status: d.status,
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error,
        next_attempt_at: d
            .next_attempt_at
            .filter(|_| d.delivered_at.is_none())
            .map(rfc3339),
        delivered_at: d.delivered_at.map(rfc3339),
    }
}

fn run_view(call: &Call<'_>, run: RunRow, deliveries: Vec<DeliveryRow>) -> Value {
    let file = run.file_key.as_ref().map(|_| {
        json!({
            "name": run.file_name,
            "content_type": run.content_type,
            "bytes": run.file_bytes,
            "rows": run.row_count,
            "download_url": format!("{}/api/v1/report-runs/{}/file", call.origin, run.id),
        })
    });
    let summary: Value = run
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .map_or(
            Value::Null,
            |m| json!({"title": m["title"], "facts": m["facts"], "data": m["data"]}),
        );
    json!({
        "id": run.id,
        "schedule_id": run.schedule_id,
        "schedule_name": run.schedule_name,
        "period_key": run.period_key,
        "due_at": rfc3339(run.due_at),
        "from": run.range_from,
        "to": run.range_to,
        "status": run.status,
        "file": file,
        "summary": summary,
        "error": run.error,
        "attempts": run.attempts,
        "created_at": rfc3339(run.created_at),
        "generated_at": run.generated_at.map(rfc3339),
        "finished_at": run.finished_at.map(rfc3339),
        "deliveries": deliveries.into_iter().map(delivery_view).collect::<Vec<_>>(),
    })
}

const RUN_STATUSES: [&str; 5] = [
    "queued",
    "sending",
    "delivered",
    "partly_delivered",
    "failed",
];

/// `GET /api/v1/report-runs[?schedule_id=&status=]`: newest first.
pub async fn runs(call: &Call<'_>) -> ApiResult<Response> {
    let status = call.param("status");
    if let Some(status) = status.as_deref().filter(|s| !RUN_STATUSES.contains(s)) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!(
                "status '{status}' is not one of: {}",
                RUN_STATUSES.join(", ")
            ),
        )
        .with_field("status"));
    }
    let (after, limit) = call.paging()?;
    let schedule_id = call.param("schedule_id");
    let page = schedules::runs(
        &call.store.db,
        schedule_id.as_deref(),
        status.as_deref(),
        after.as_ref(),
        limit,
    )
    .await?;
    let mut rows = Vec::with_capacity(page.rows.len());
    for run in page.rows {
        let deliveries = schedules::deliveries(&call.store.db, &run.id).await?;
        let cursor = Cursor {
            at: run.created_at,
            id: run.id.clone(),
        };
        rows.push((cursor, run_view(call, run, deliveries)));
    }
    let page = crate::storage::Page {
        rows,
        has_more: page.has_more,
    };
    Ok(list_response(call, page, |(c, _)| c.clone(), |(_, v)| v))
}

async fn find_run(db: &worker::D1Database, id: &str) -> ApiResult<RunRow> {
    schedules::run(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("report run"))
}

/// `GET /api/v1/report-runs/{id}`.
pub async fn run(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let run = find_run(&call.store.db, id).await?;
    let deliveries = schedules::deliveries(&call.store.db, &run.id).await?;
    Ok(respond::json(200, &run_view(call, run, deliveries)))
}

/// The run's file from R2, as a download.
async fn file_response(env: &worker::Env, run: &RunRow) -> ApiResult<Response> {
    let (Some(key), Some(name)) = (&run.file_key, &run.file_name) else {
        return Err(ApiError::new(404, "no_file", "this run has no file yet"));
    };
    let bucket = env
        .bucket(BUCKET_BINDING)
        .map_err(|e| ApiError::internal("report files", e))?;
    let object = bucket
        .get(key.clone())
        .execute()
        .await
        .map_err(|e| {
            ApiError::new(
                503,
                "storage_unavailable",
                format!("the file store failed: {e}"),
            )
        })?
        .ok_or_else(|| ApiError::new(404, "no_file", "this run's file is no longer kept"))?;
    let bytes = match object.body() {
        Some(body) => body
            .bytes()
            .await
            .map_err(|e| ApiError::new(503, "storage_unavailable", e.to_string()))?,
        None => Vec::new(),
    };
    let content_type = run
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(respond::with_headers(
        200,
        bytes,
        &[
            ("content-type", content_type.as_str()),
            ("content-disposition", disposition.as_str()),
            ("cache-control", "private, no-store"),
        ],
    ))
}

/// `GET /api/v1/report-runs/{id}/file`.
pub async fn file(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let run = find_run(&call.store.db, id).await?;
    file_response(call.env, &run).await
}

/// `GET /api/v1/report-files/{id}?expires=&signature=`: the link a message carries; no
/// login, valid until it expires.
pub async fn signed_file(incoming: &mut Incoming<'_>, id: &str) -> ApiResult<Response> {
    let param = |name: &str| crate::domain::request_target::query_param(incoming.query, name);
    let expires = param("expires").and_then(|e| e.parse::<i64>().ok());
    let signature = param("signature");
    let master = postback_master_key(incoming.env)?;
    let now = worker::Date::now().as_millis() as i64;
    let valid = match (expires, signature.as_deref()) {
        (Some(expires), Some(signature)) => file_link_valid(&master, id, expires, signature, now),
        _ => false,
    };
    if !valid {
        return Err(ApiError::new(
            403,
            "invalid_link",
            "this download link is not valid or has expired; download the file from the dashboard",
        ));
    }
    let store = Store::open(incoming.env)?;
    let run = find_run(&store.db, id).await?;
    file_response(incoming.env, &run).await
}
