//! `/api/v1/amocrm-mappings`: how a program reads AmoCRM's lead webhooks.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::Call;
use std::collections::BTreeMap;

use crate::domain::conversions::amocrm::{AmoMapping, Mapped};
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::{crm, programs};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingBody {
    program_id: String,
    pipeline_id: Option<String>,
    click_id_field_id: String,
    statuses: BTreeMap<String, Mapped>,
}

#[derive(Serialize)]
struct MappingView<'a> {
    program_id: &'a str,
    #[serde(flatten)]
    mapping: &'a AmoMapping,
    webhook_url: String,
}

fn view<'a>(call: &Call<'_>, program_id: &'a str, mapping: &'a AmoMapping) -> MappingView<'a> {
    MappingView {
        program_id,
        mapping,
        webhook_url: format!(
            "{}/webhooks/amocrm?token=<the program's postback secret>",
            call.origin
        ),
    }
}

/// Creates or replaces a program's mapping.
pub async fn save(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<MappingBody>(call.req).await?;
    let mapping = AmoMapping {
        pipeline_id: body.pipeline_id,
        click_id_field_id: body.click_id_field_id,
        statuses: body.statuses,
    };
    mapping.validate()?;
    if programs::get(&call.store.db, &body.program_id)
        .await?
        .is_none()
    {
        return Err(
            Invalid::new("program_id", "unknown_reference", "no program has this id").into(),
        );
    }
    crm::save_amocrm(&call.store.db, &body.program_id, &mapping, call.now).await?;
    Ok(respond::json(201, &view(call, &body.program_id, &mapping)))
}

pub async fn get(call: &Call<'_>, program_id: &str) -> ApiResult<Response> {
    let mapping = crm::amocrm(&call.store.db, program_id)
        .await?
        .ok_or_else(|| ApiError::not_found("AmoCRM mapping"))?;
    Ok(respond::json(200, &view(call, program_id, &mapping)))
}
