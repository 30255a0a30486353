//! `/api/v1/commission-rules`. Rules are never deleted: archiving keeps the history of
//! which rule set a recorded commission.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::conversions::commission::{NewRule, RuleKind};
use crate::domain::cursor::Cursor;
use crate::domain::ids::new_id;
use crate::domain::money::parse_amount;
use crate::domain::time::rfc3339;
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::rules::{self, RuleRow};
use crate::storage::{partners, programs};

#[derive(Serialize)]
struct RuleView {
    id: String,
    program_id: String,
    event: String,
    kind: String,
    value: String,
    partner_id: Option<String>,
    segment: Option<String>,
    from_monthly_sale: Option<i64>,
    status: String,
    created_at: String,
    updated_at: String,
}

fn view(row: RuleRow) -> RuleView {
    RuleView {
        id: row.id,
        program_id: row.program_id,
        event: row.event.as_str().to_owned(),
        kind: row.kind.as_str().to_owned(),
        value: row.value.to_string(),
        partner_id: row.partner_id,
        segment: row.segment.map(|s| s.as_str().to_owned()),
        from_monthly_sale: row.from_monthly_sale,
        status: row.status,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

fn cursor(row: &RuleRow) -> Cursor {
    Cursor {
        at: row.created_at,
        id: row.id.clone(),
    }
}

async fn find(call: &Call<'_>, id: &str) -> ApiResult<RuleRow> {
    rules::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("commission rule"))
}

/// `POST /api/v1/commission-rules` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    program_id: String,
    event: String,
    kind: String,
    value: String,
    partner_id: Option<String>,
    segment: Option<String>,
    from_monthly_sale: Option<u32>,
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<RuleBody>(call.req).await?;
    let rule = NewRule::parse(
        &body.event,
        &body.kind,
        &body.value,
        body.partner_id.is_some(),
        body.segment.as_deref(),
        body.from_monthly_sale,
    )?;
    let db = &call.store.db;
    if programs::get(db, &body.program_id).await?.is_none() {
        return Err(
            Invalid::new("program_id", "unknown_reference", "no program has this id").into(),
        );
    }
    if let Some(partner_id) = &body.partner_id {
        if partners::get(db, partner_id).await?.is_none() {
            return Err(
                Invalid::new("partner_id", "unknown_reference", "no partner has this id").into(),
            );
        }
    }
    let row = RuleRow {
        id: new_id("rul"),
        program_id: body.program_id,
        event: rule.event,
        kind: rule.kind,
        value: rule.value,
        partner_id: body.partner_id,
        segment: rule.segment,
        from_monthly_sale: rule.from_monthly_sale.map(i64::from),
        status: "active".to_owned(),
        created_at: call.now,
        updated_at: call.now,
    };
    rules::insert(db, &row).await?;
    Ok(respond::json(201, &view(row)))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let program_id = call.param("program_id");
    let page = rules::list(&call.store.db, program_id.as_deref(), after.as_ref(), limit).await?;
    Ok(list_response(call, page, cursor, view))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(find(call, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulePatch {
    value: Option<String>,
    status: Option<String>,
}

/// Changes a rule's value or archives it. Commissions already recorded keep their amount.
pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<RulePatch>(call.req).await?;
    let mut row = find(call, id).await?;
    if let Some(raw) = patch.value {
        let value = parse_amount("value", &raw, 4)?;
        if row.kind == RuleKind::Percent && value > rust_decimal::Decimal::ONE_HUNDRED {
            return Err(Invalid::new(
                "value",
                "out_of_range",
                "a percent rule's value is at most 100",
            )
            .into());
        }
        row.value = value;
    }
    if let Some(status) = patch.status {
        if !matches!(status.as_str(), "active" | "archived") {
            return Err(Invalid::new(
                "status",
                "invalid_value",
                "status must be one of: active, archived",
            )
            .into());
        }
        row.status = status;
    }
    row.updated_at = call.now;
    rules::update(&call.store.db, &row).await?;
    Ok(respond::json(200, &view(row)))
}
