//! `/api/v1/alerts` and `/api/v1/alert-events`: rules on a program's KPIs or new flags,
//! checked by the cron after each rollup, and the events they raised with their
//! deliveries. Recipients are kept and shown as a report schedule's are.

use serde_json::{json, Value};
use worker::Response;

use super::links::base_url;
use super::schedules::{delivery_view, reseal, with_new_secrets};
use super::{list as list_response, Call};
use crate::alerts::spec_of;
use crate::domain::alerts::{AlertBody, AlertSpec};
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::time::rfc3339;
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::alerts::{self, AlertRow, EventRow};
use crate::storage::{programs, schedules};

fn view(row: &AlertRow, spec: &AlertSpec) -> Value {
    let recipients: Value = serde_json::from_str(&row.recipients).unwrap_or(Value::Null);
    json!({
        "id": row.id,
        "name": spec.name,
        "program_id": spec.program_id,
        "kind": spec.kind,
        "metric": spec.metric,
        "operator": spec.operator,
        "threshold": spec.threshold.map(|t| t.normalize().to_string()),
        "relative_to": spec.relative_to,
        "min_severity": spec.min_severity,
        "quiet_hours": spec.quiet_hours,
        "status": spec.status,
        "rule": spec.describe(),
        "recipients": recipients,
        "last_sent_at": row.last_sent_at.map(rfc3339),
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    })
}

async fn check_program(call: &Call<'_>, spec: &AlertSpec) -> ApiResult<()> {
    if programs::get(&call.store.db, &spec.program_id)
        .await?
        .is_none()
    {
        return Err(
            Invalid::new("program_id", "unknown_reference", "no program has this id").into(),
        );
    }
    Ok(())
}

/// `POST /api/v1/alerts`.
pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<AlertBody>(call.req).await?;
    let spec = AlertSpec::create(&body)?;
    let id = new_id("alr");
    let r = reseal(call.env, &id, None, body.recipients.as_deref())?;
    check_program(call, &spec).await?;
    let row = AlertRow {
        id,
        program_id: spec.program_id.clone(),
        name: spec.name.clone(),
        spec: serde_json::to_string(&spec).map_err(|e| ApiError::internal("alert", e))?,
        status: spec.status.as_str().to_owned(),
        recipients: r.shown,
        recipients_sealed: r.sealed,
        base_url: base_url(call),
        last_sent_at: None,
        flags_through: None,
        created_at: call.now,
        updated_at: call.now,
    };
    alerts::insert(&call.store.db, &row).await?;
    Ok(respond::json(
        201,
        &with_new_secrets(view(&row, &spec), &r.to, &r.before),
    ))
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<AlertRow> {
    alerts::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))
}

/// `GET /api/v1/alerts[?program_id=]`.
pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let program_id = call.param("program_id");
    let page = alerts::list(&call.store.db, program_id.as_deref(), after.as_ref(), limit).await?;
    let rows = page
        .rows
        .into_iter()
        .map(|row| {
            let spec = spec_of(&row)?;
            let cursor = Cursor {
                at: row.created_at,
                id: row.id.clone(),
            };
            Ok((cursor, view(&row, &spec)))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let page = crate::storage::Page {
        rows,
        has_more: page.has_more,
    };
    Ok(list_response(call, page, |(c, _)| c.clone(), |(_, v)| v))
}

/// `GET /api/v1/alerts/{id}`.
pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    let spec = spec_of(&row)?;
    Ok(respond::json(200, &view(&row, &spec)))
}

/// `PATCH /api/v1/alerts/{id}`: the fields given replace the stored ones (the kind
/// stays); `recipients` replace the list.
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let body = body::json::<AlertBody>(call.req).await?;
    let row = find(call, id).await?;
    let spec = spec_of(&row)?.update(&body)?;
    check_program(call, &spec).await?;
    let r = reseal(
        call.env,
        &row.id,
        Some(&row.recipients_sealed),
        body.recipients.as_deref(),
    )?;
    let updated = AlertRow {
        program_id: spec.program_id.clone(),
        name: spec.name.clone(),
        spec: serde_json::to_string(&spec).map_err(|e| ApiError::internal("alert", e))?,
        status: spec.status.as_str().to_owned(),
        recipients: r.shown,
        recipients_sealed: r.sealed,
        updated_at: call.now,
        ..row
    };
    if !alerts::update(&call.store.db, &updated).await? {
        return Err(ApiError::not_found("alert"));
    }
    Ok(respond::json(
        200,
        &with_new_secrets(view(&updated, &spec), &r.to, &r.before),
    ))
}

/// `DELETE /api/v1/alerts/{id}`: no more checks; its events stay.
pub async fn delete(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    alerts::delete(&call.store.db, id, call.now).await?;
    Ok(respond::json(
        200,
        &json!({ "id": row.id, "deleted": true }),
    ))
}

async fn event_view(call: &Call<'_>, e: EventRow) -> ApiResult<Value> {
    let deliveries = schedules::deliveries(&call.store.db, &e.id).await?;
    let message: Value = serde_json::from_str(&e.message).unwrap_or(Value::Null);
    Ok(json!({
        "id": e.id,
        "alert_id": e.alert_id,
        "alert_name": e.alert_name,
        "program_id": e.program_id,
        "condition_key": e.condition_key,
        "status": e.status,
        "title": message["title"],
        "facts": message["facts"],
        "data": message["data"],
        "created_at": rfc3339(e.created_at),
        "finished_at": e.finished_at.map(rfc3339),
        "deliveries": deliveries.into_iter().map(delivery_view).collect::<Vec<_>>(),
    }))
}

/// `GET /api/v1/alert-events[?alert_id=&program_id=]`: newest first.
pub async fn events(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let alert_id = call.param("alert_id");
    let program_id = call.param("program_id");
    let page = alerts::events(
        &call.store.db,
        alert_id.as_deref(),
        program_id.as_deref(),
        after.as_ref(),
        limit,
    )
    .await?;
    let mut rows = Vec::with_capacity(page.rows.len());
    for e in page.rows {
        let cursor = Cursor {
            at: e.created_at,
            id: e.id.clone(),
        };
        rows.push((cursor, event_view(call, e).await?));
    }
    let page = crate::storage::Page {
        rows,
        has_more: page.has_more,
    };
    Ok(list_response(call, page, |(c, _)| c.clone(), |(_, v)| v))
}
