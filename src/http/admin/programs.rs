//! `/api/v1/programs`.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::auth::signature::postback_secret;
use crate::domain::cursor::Cursor;
use crate::domain::ids::{new_id, sha256_hex};
use crate::domain::money::format_money;
use crate::domain::program::{NewProgram, ProgramChanges, ProgramSettings};
use crate::domain::time::rfc3339;
use crate::http::auth::postback_master_key;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::programs::{self, ProgramRow};
use crate::storage::shards::Shards;

#[derive(Serialize)]
struct ProgramView {
    id: String,
    name: String,
    currency: String,
    model: String,
    attribution_window_days: i64,
    click_id_param: String,
    hold_days: i64,
    min_payout: String,
    timezone: String,
    lifetime_attribution: bool,
    partner_link_domains: Vec<String>,
    hold_flagged: bool,
    attribution_priority: &'static str,
    /// The event shard (D1 binding) holding its raw clicks and impressions.
    events_shard: String,
    created_at: String,
    updated_at: String,
    /// Only in the answer to the create call: the secret is stored hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    postback_secret: Option<String>,
}

fn view(row: ProgramRow) -> ProgramView {
    ProgramView {
        id: row.id,
        name: row.name,
        currency: row.currency,
        model: row.model.as_str().to_owned(),
        attribution_window_days: row.attribution_window_days,
        click_id_param: row.click_id_param,
        hold_days: row.hold_days,
        min_payout: format_money(row.min_payout),
        timezone: row.timezone,
        lifetime_attribution: row.lifetime_attribution == 1,
        partner_link_domains: row.partner_link_domains,
        hold_flagged: row.hold_flagged == 1,
        attribution_priority: row.attribution_priority.as_str(),
        events_shard: row.events_shard,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        postback_secret: None,
    }
}

fn cursor(row: &ProgramRow) -> Cursor {
    Cursor {
        at: row.created_at,
        id: row.id.clone(),
    }
}

/// `POST /api/v1/programs` as it arrives.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramBody {
    name: String,
    currency: String,
    model: String,
    attribution_window_days: Option<u32>,
    click_id_param: Option<String>,
    hold_days: Option<u32>,
    min_payout: Option<String>,
    timezone: Option<String>,
    lifetime_attribution: Option<bool>,
    partner_link_domains: Option<Vec<String>>,
    hold_flagged: Option<bool>,
    attribution_priority: Option<String>,
}

/// `PATCH /api/v1/programs/{id}`: the settings that may change after creation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramPatch {
    name: Option<String>,
    model: Option<String>,
    attribution_window_days: Option<u32>,
    hold_days: Option<u32>,
    min_payout: Option<String>,
    timezone: Option<String>,
    lifetime_attribution: Option<bool>,
    partner_link_domains: Option<Vec<String>>,
    hold_flagged: Option<bool>,
    attribution_priority: Option<String>,
}

impl From<ProgramPatch> for ProgramChanges {
    fn from(p: ProgramPatch) -> Self {
        let (name, model, timezone) = (p.name, p.model, p.timezone);
        let (attribution_window_days, hold_days) = (p.attribution_window_days, p.hold_days);
        let (min_payout, lifetime_attribution) = (p.min_payout, p.lifetime_attribution);
        let (partner_link_domains, hold_flagged) = (p.partner_link_domains, p.hold_flagged);
        let attribution_priority = p.attribution_priority;
        ProgramChanges {
            name,
            model,
            attribution_window_days,
            hold_days,
            min_payout,
            timezone,
            lifetime_attribution,
            partner_link_domains,
            hold_flagged,
            attribution_priority,
        }
    }
}

pub async fn find(call: &Call<'_>, id: &str) -> ApiResult<ProgramRow> {
    programs::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("program"))
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<ProgramBody>(call.req).await?;
    let changes = ProgramChanges {
        name: Some(body.name),
        model: Some(body.model),
        attribution_window_days: body.attribution_window_days,
        hold_days: body.hold_days,
        min_payout: body.min_payout,
        timezone: body.timezone,
        lifetime_attribution: body.lifetime_attribution,
        partner_link_domains: body.partner_link_domains,
        hold_flagged: body.hold_flagged,
        attribution_priority: body.attribution_priority,
    };
    let program = NewProgram::create(&body.currency, body.click_id_param.as_deref(), changes)?;
    let id = new_id("prg");
    let secret = postback_secret(&postback_master_key(call.env)?, &id, 1);
    let shards = Shards::open(call.env)?;
    programs::insert(
        &call.store.db,
        &id,
        &program,
        &sha256_hex(&[secret.as_bytes()]),
        shards.assign(&id),
        call.now,
    )
    .await?;
    let mut shown = view(find(call, &id).await?);
    shown.postback_secret = Some(secret);
    Ok(respond::json(201, &shown))
}

pub async fn list(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let page = programs::list(&call.store.db, after.as_ref(), limit).await?;
    Ok(list_response(call, page, cursor, view))
}

pub async fn get(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &view(find(call, id).await?)))
}

pub async fn update(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<ProgramPatch>(call.req).await?;
    let row = find(call, id).await?;
    let current = ProgramSettings {
        name: row.name.clone(),
        model: row.model,
        attribution_window_days: row.attribution_window_days as u32,
        hold_days: row.hold_days as u32,
        min_payout: row.min_payout,
        timezone: row.timezone.clone(),
        lifetime_attribution: row.lifetime_attribution == 1,
        partner_link_domains: row.partner_link_domains.clone(),
        hold_flagged: row.hold_flagged == 1,
        attribution_priority: row.attribution_priority,
    };
    let settings = current.patched(patch.into())?;
    programs::update(&call.store.db, id, &settings, call.now).await?;
    Ok(respond::json(200, &view(find(call, id).await?)))
}

/// `POST /api/v1/programs/{id}/rotate-secret`: a new postback secret, shown once; the old
/// one stops working at once.
pub async fn rotate_secret(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    let version = row.postback_secret_version + 1;
    let secret = postback_secret(&postback_master_key(call.env)?, id, version);
    let hash = sha256_hex(&[secret.as_bytes()]);
    if !programs::rotate_secret(
        &call.store.db,
        id,
        row.postback_secret_version,
        &hash,
        call.now,
    )
    .await?
    {
        return Err(ApiError::new(
            409,
            "concurrent_rotation",
            "the secret was rotated meanwhile; try again",
        ));
    }
    let mut shown = view(find(call, id).await?);
    shown.postback_secret = Some(secret);
    Ok(respond::json(200, &shown))
}
