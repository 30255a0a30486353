//! `/api/v1/archives`: the days of raw clicks and impressions moved to R2 (or on their
//! way), their objects, and a restore back into D1 for a rebuild.

use serde_json::{json, Value};
use worker::Response;

use super::{list as list_response, Call};
use crate::archive::{self, Action, Task, BUCKET_BINDING};
use crate::domain::archive::{parse_archive_id, Kind};
use crate::domain::cursor::Cursor;
use crate::domain::time::rfc3339;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::archive::{self as store, ArchiveFilter, ArchiveRow, PartRow};

const STATUSES: [&str; 5] = ["archiving", "archived", "failed", "restoring", "restored"];

fn view(call: &Call<'_>, row: &ArchiveRow, parts: Option<&[PartRow]>) -> Value {
    let mut view = json!({
        "id": row.id,
        "program_id": row.program_id,
        "kind": row.kind,
        "day": row.day,
        "status": row.status,
        "events": row.events,
        "bytes": row.bytes,
        "parts": row.parts,
        "last_error": row.last_error,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
        "archived_at": row.archived_at.map(rfc3339),
        "restored_at": row.restored_at.map(rfc3339),
    });
    if let Some(parts) = parts {
        view["objects"] = parts
            .iter()
            .map(|p| {
                json!({
                    "part": p.part,
                    "key": p.object_key,
                    "events": p.events,
                    "bytes": p.bytes,
                    "status": p.status,
                    "download_url": format!(
                        "{}/api/v1/archives/{}/parts/{}", call.origin, row.id, p.part
                    ),
                })
            })
            .collect();
    }
    view
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<ArchiveRow> {
    store::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("archive"))
}

/// `GET /api/v1/archives[?program_id=&kind=&status=]`: oldest first.
pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let kind = call.param("kind");
    if let Some(kind) = kind.as_deref().filter(|k| Kind::parse(k).is_none()) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("kind '{kind}' is not one of: clicks, impressions"),
        )
        .with_field("kind"));
    }
    let status = call.param("status");
    if let Some(status) = status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("status '{status}' is not one of: {}", STATUSES.join(", ")),
        )
        .with_field("status"));
    }
    let program_id = call.param("program_id");
    let (after, limit) = call.paging()?;
    let filter = ArchiveFilter {
        program_id: program_id.as_deref(),
        kind: kind.as_deref(),
        status: status.as_deref(),
    };
    let page = store::list(&call.store.db, &filter, after.as_ref(), limit).await?;
    Ok(list_response(
        call,
        page,
        |row| Cursor {
            at: row.created_at,
            id: row.id.clone(),
        },
        |row| view(call, &row, None),
    ))
}

/// `GET /api/v1/archives/{id}`: the day with its objects.
pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    let parts = store::parts(&call.store.db, id).await?;
    Ok(respond::json(200, &view(call, &row, Some(&parts))))
}

/// `GET /api/v1/archives/{id}/parts/{part}`: one object, as R2 keeps it (NDJSON).
pub async fn part(call: &Call<'_>, id: &str, part: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    let number: i64 = part
        .parse()
        .map_err(|_| ApiError::not_found("archive part"))?;
    let parts = store::parts(&call.store.db, &row.id).await?;
    let part = parts
        .iter()
        .find(|p| p.part == number)
        .ok_or_else(|| ApiError::not_found("archive part"))?;
    let bucket = call
        .env
        .bucket(BUCKET_BINDING)
        .map_err(|e| ApiError::internal("event archive", e))?;
    let text = archive::read(&bucket, &part.object_key)
        .await
        .map_err(|e| ApiError::new(503, "storage_unavailable", e.to_string()))?;
    let name = part.object_key.replace('/', "_");
    Ok(respond::with_headers(
        200,
        text.into_bytes(),
        &[
            ("Content-Type", "application/x-ndjson; charset=utf-8"),
            (
                "Content-Disposition",
                &format!("attachment; filename=\"{name}\""),
            ),
        ],
    ))
}

/// `POST /api/v1/archives/{id}/restore`: puts the day's events back into D1 (queued;
/// the day answers `restoring`, then `restored`). Its reports do not change.
pub async fn restore(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    if !store::ask_restore(&call.store.db, id, call.now).await? {
        return Err(ApiError::new(
            409,
            "not_archived",
            format!(
                "only an archived day can be restored; this one is {} (a failed or unfinished \
                 archive is taken up again by the next cron)",
                row.status
            ),
        ));
    }
    archive::send(
        call.env,
        &[Task {
            action: Action::Restore,
            id: id.to_owned(),
        }],
    )
    .await
    .map_err(|e| ApiError::new(503, "queue_unavailable", e.to_string()))?;
    let row = find(call, id).await?;
    Ok(respond::json(202, &view(call, &row, None)))
}

/// `POST /api/v1/archive-runs`: what the cron does now: queues the oldest day each
/// program may archive, of each kind.
pub async fn run(call: &Call<'_>) -> ApiResult<Response> {
    let tasks = archive::plan(call.env, &call.store.db, call.now)
        .await
        .map_err(|e| ApiError::new(503, "storage_unavailable", e.to_string()))?;
    let queued: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let (program_id, kind) = parse_archive_id(&t.id)
                .map(|(program, kind, _)| (program, kind.as_str()))
                .unwrap_or_default();
            json!({"id": t.id, "action": t.action, "program_id": program_id, "kind": kind})
        })
        .collect();
    Ok(respond::json(200, &json!({ "queued": queued })))
}
