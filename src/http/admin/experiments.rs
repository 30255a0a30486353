//! `/api/v1/experiments`: destination split tests on a link, and commission experiments on
//! a program's partners. Creating a split test publishes the link with its arms (the next
//! redirect splits visitors); creating a commission experiment fixes each partner's arm
//! (the commission engine reads it). The results judge either; stopping one with the
//! winner the results name makes the winner's destination the link's, or the winning
//! rule the program's.

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::experiments::commission::{
    self, Candidate, ExperimentRule, Member, CONTROL, MIN_PARTNERS_PER_ARM, TREATMENT,
};
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
use crate::storage::rules::RuleRow;
use crate::storage::{is_unique_violation, links, programs, shards, StorageError, DB_BINDING};

const DEFAULT_ALPHA: f64 = 0.05;
const DEFAULT_MDE: f64 = 0.2;
const DEFAULT_DAYS: u32 = 28;
const MAX_DAYS: u32 = 365;
const DAY_MS: i64 = 86_400_000;
/// Commission experiments stratify partners by their revenue over this many days before.
const PRIOR_DAYS: i64 = 90;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<ExperimentRule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    treatment_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ends_at: Option<String>,
}

fn stored_variants(row: &ExperimentRow) -> ApiResult<Vec<Variant>> {
    serde_json::from_str(&row.variants)
        .map_err(|e| ApiError::from(StorageError::corrupt("experiment's variants", e)))
}

fn stored_rule(row: &ExperimentRow) -> ApiResult<Option<ExperimentRule>> {
    row.rule
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| ApiError::from(StorageError::corrupt("experiment's rule", e)))
}

fn view(row: ExperimentRow) -> ApiResult<ExperimentView> {
    Ok(ExperimentView {
        variants: stored_variants(&row)?,
        rule: stored_rule(&row)?,
        treatment_share: row.treatment_share,
        ends_at: row.ends_at.map(rfc3339),
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
    name: Option<String>,
    alpha: Option<f64>,
    minimum_detectable_effect: Option<f64>,
    // link_split
    link_id: Option<String>,
    variants: Option<Vec<Variant>>,
    // commission
    program_id: Option<String>,
    rule: Option<ExperimentRule>,
    treatment_share: Option<f64>,
    duration_days: Option<u32>,
    ends_at: Option<String>,
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> ApiError {
    Invalid::new(field, code, message).into()
}

/// Rejects fields that belong to the other kind, so a typo is not silently ignored.
fn only_for(kind: &str, fields: &[(&'static str, bool)]) -> ApiResult<()> {
    match fields.iter().find(|(_, present)| *present) {
        Some((field, _)) => Err(invalid(
            field,
            "unexpected_field",
            &format!("{field} does not apply to a {kind} experiment"),
        )),
        None => Ok(()),
    }
}

pub async fn create(call: &mut Call<'_>) -> ApiResult<Response> {
    let body = body::json::<ExperimentBody>(call.req).await?;
    if !["link_split", "commission"].contains(&body.kind.as_str()) {
        return Err(invalid(
            "kind",
            "invalid_value",
            "kind must be one of: link_split, commission",
        ));
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
    let label = body
        .name
        .as_deref()
        .map(|raw| name("name", raw, 200))
        .transpose()?;
    if body.kind == "commission" {
        only_for(
            "commission",
            &[
                ("link_id", body.link_id.is_some()),
                ("variants", body.variants.is_some()),
            ],
        )?;
        return create_commission(call, body, label, alpha, mde).await;
    }
    only_for(
        "link_split",
        &[
            ("program_id", body.program_id.is_some()),
            ("rule", body.rule.is_some()),
            ("treatment_share", body.treatment_share.is_some()),
            ("duration_days", body.duration_days.is_some()),
            ("ends_at", body.ends_at.is_some()),
        ],
    )?;
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
    let row = ExperimentRow {
        id: new_id("exp"),
        kind: "link_split".to_owned(),
        name: label.unwrap_or_else(|| format!("Split test of {}", link.code)),
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
        rule: None,
        treatment_share: None,
        ends_at: None,
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

/// The end of a commission experiment's period: `ends_at`, or `duration_days` (default
/// 28) from now; at most [`MAX_DAYS`] days.
fn period_end(body: &ExperimentBody, now: i64) -> ApiResult<i64> {
    let latest = now + i64::from(MAX_DAYS) * DAY_MS;
    match (&body.ends_at, body.duration_days) {
        (Some(_), Some(_)) => Err(invalid(
            "ends_at",
            "conflicting_values",
            "give ends_at or duration_days, not both",
        )),
        (Some(raw), None) => {
            let end = chrono::DateTime::parse_from_rfc3339(raw)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    invalid(
                        "ends_at",
                        "invalid_value",
                        "ends_at is an RFC 3339 time, e.g. 2026-12-31T00:00:00Z",
                    )
                })?;
            if end <= now || end > latest {
                return Err(invalid(
                    "ends_at",
                    "out_of_range",
                    &format!("ends_at must be in the future, at most {MAX_DAYS} days from now"),
                ));
            }
            Ok(end)
        }
        (None, days) => {
            let days = days.unwrap_or(DEFAULT_DAYS);
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(invalid(
                    "duration_days",
                    "out_of_range",
                    &format!("duration_days is 1 to {MAX_DAYS}"),
                ));
            }
            Ok(now + i64::from(days) * DAY_MS)
        }
    }
}

fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the platform random number generator is unavailable");
    u64::from_le_bytes(bytes)
}

/// `POST /api/v1/experiments {kind: commission, program_id, rule, treatment_share, …}`:
/// the program's eligible partners, stratified by their revenue over the 90 days before,
/// each get an arm; the treatment's conversions earn by `rule` until the period ends.
async fn create_commission(
    call: &mut Call<'_>,
    body: ExperimentBody,
    label: Option<String>,
    alpha: f64,
    mde: f64,
) -> ApiResult<Response> {
    let program_id = body
        .program_id
        .clone()
        .ok_or_else(|| invalid("program_id", "missing_field", "program_id is required"))?;
    let (rule, parsed) = ExperimentRule::parse(
        body.rule
            .clone()
            .ok_or_else(|| invalid("rule", "missing_field", "rule is required"))?,
    )?;
    let share = body.treatment_share.ok_or_else(|| {
        invalid(
            "treatment_share",
            "missing_field",
            "treatment_share is required",
        )
    })?;
    if !(0.05..=0.95).contains(&share) {
        return Err(invalid(
            "treatment_share",
            "out_of_range",
            "treatment_share is the share of partners given the rule, from 0.05 to 0.95",
        ));
    }
    let ends_at = period_end(&body, call.now)?;
    let db = &call.store.db;
    if programs::get(db, &program_id).await?.is_none() {
        return Err(invalid(
            "program_id",
            "unknown_reference",
            "no program has this id",
        ));
    }
    let candidates: Vec<Candidate> = experiments::candidates(
        db,
        &program_id,
        parsed.event.as_str(),
        call.now - PRIOR_DAYS * DAY_MS,
        call.now,
    )
    .await?;
    let members: Vec<Member> = commission::assign(candidates, share, random_seed());
    let in_arm = |arm: &str| members.iter().filter(|m| m.arm == arm).count();
    if in_arm(CONTROL).min(in_arm(TREATMENT)) < MIN_PARTNERS_PER_ARM {
        return Err(invalid(
            "treatment_share",
            "too_few_partners",
            &format!(
                "{} eligible partners (approved, with a live link or promo code, without a {} rule of their own) \
                 give {} to the treatment and {} to the control; each arm needs at least {MIN_PARTNERS_PER_ARM}",
                members.len(),
                parsed.event.as_str(),
                in_arm(TREATMENT),
                in_arm(CONTROL),
            ),
        ));
    }
    let row = ExperimentRow {
        id: new_id("exp"),
        kind: "commission".to_owned(),
        name: label.unwrap_or_else(|| {
            format!(
                "{} {} {} for {:.0} % of partners",
                rule.event,
                rule.kind,
                rule.value,
                share * 100.0
            )
        }),
        program_id,
        link_id: None,
        variants: "[]".to_owned(),
        alpha,
        minimum_detectable_effect: mde,
        status: "running".to_owned(),
        winner: None,
        created_at: call.now,
        stopped_at: None,
        rule: Some(
            serde_json::to_string(&rule)
                .map_err(|e| ApiError::internal("experiment create", e.to_string()))?,
        ),
        treatment_share: Some(share),
        ends_at: Some(ends_at),
    };
    match experiments::insert_commission(db, &row, &members).await {
        Ok(()) => {}
        Err(error) if is_unique_violation(&error, "experiments.program_id") => {
            return Err(ApiError::new(
                409,
                "experiment_running",
                "this program already runs a commission experiment; stop it first",
            )
            .with_field("program_id"))
        }
        Err(error) => return Err(error.into()),
    }
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

/// A split test's results or a commission experiment's.
#[derive(Serialize)]
#[serde(untagged)]
enum AnyResults {
    Split(Results),
    Commission(commission::CommissionResults),
}

impl AnyResults {
    fn winner(&self) -> Option<&str> {
        match self {
            Self::Split(r) => r.winner.as_deref(),
            Self::Commission(r) => r.winner.as_deref(),
        }
    }

    fn verdict(&self) -> &'static str {
        match self {
            Self::Split(r) => r.verdict,
            Self::Commission(r) => r.verdict,
        }
    }
}

async fn results_of(call: &Call<'_>, row: &ExperimentRow) -> ApiResult<AnyResults> {
    let db = &call.store.db;
    let shard = shards::shards_of(db, &[row.program_id.as_str()])
        .await?
        .remove(&row.program_id)
        .unwrap_or_else(|| DB_BINDING.to_owned());
    let events = &shards::events_db(call.env, &shard)?;
    if row.kind == "commission" {
        let ends_at = row.ends_at.unwrap_or(row.created_at);
        let until = row.stopped_at.unwrap_or(call.now + 1).min(ends_at);
        let members = experiments::members(db, &row.id).await?;
        let outcomes = experiments::partner_outcomes(db, events, row, until).await?;
        return Ok(AnyResults::Commission(commission::compute(
            &members,
            &outcomes,
            row.treatment_share.unwrap_or(0.5),
            // Stopped before its end, a fixed-period experiment has no verdict.
            row.stopped_at.map_or(call.now, |at| at.min(call.now)) >= ends_at,
            row.alpha,
            row.minimum_detectable_effect,
        )));
    }
    let variants = stored_variants(row)?;
    let link_id = row.link_id.as_deref().unwrap_or_default();
    let until = row.stopped_at.unwrap_or(call.now + 1);
    let (traffic, converted) =
        experiments::outcomes(db, events, link_id, row.created_at, until).await?;
    Ok(AnyResults::Split(results::compute(
        &variants,
        &traffic,
        &converted,
        row.alpha,
        row.minimum_detectable_effect,
    )))
}

#[derive(Serialize)]
struct ResultsView<'a> {
    experiment_id: &'a str,
    kind: &'a str,
    status: &'a str,
    alpha: f64,
    minimum_detectable_effect: f64,
    #[serde(flatten)]
    results: AnyResults,
}

/// `GET /api/v1/experiments/{id}/results`.
pub async fn results(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    let results = results_of(call, &row).await?;
    Ok(respond::json(
        200,
        &ResultsView {
            experiment_id: &row.id,
            kind: &row.kind,
            status: &row.status,
            alpha: row.alpha,
            minimum_detectable_effect: row.minimum_detectable_effect,
            results,
        },
    ))
}

#[derive(Serialize)]
struct MemberView {
    partner_id: String,
    arm: String,
    stratum: u32,
    prior_revenue: String,
}

/// `GET /api/v1/experiments/{id}/partners`: a commission experiment's partners, each with
/// its arm, its stratum and the prior revenue it was stratified by.
pub async fn partners(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    let row = find(call, id).await?;
    if row.kind != "commission" {
        return Err(ApiError::new(
            409,
            "not_a_commission_experiment",
            "only a commission experiment has partners; a split test splits visitors",
        ));
    }
    let data: Vec<MemberView> = experiments::members(&call.store.db, &row.id)
        .await?
        .into_iter()
        .map(|m| MemberView {
            partner_id: m.partner_id,
            arm: m.arm,
            stratum: m.stratum,
            prior_revenue: crate::domain::money::format_money(crate::domain::money::from_cents(
                m.prior_revenue_cents,
            )),
        })
        .collect();
    Ok(respond::json(200, &serde_json::json!({ "data": data })))
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
    if let Some(winner) = &body.winner {
        let known = if row.kind == "commission" {
            [CONTROL, TREATMENT].contains(&winner.as_str())
        } else {
            stored_variants(&row)?.iter().any(|v| &v.name == winner)
        };
        if !known {
            return Err(invalid(
                "winner",
                "unknown_variant",
                "no variant of this experiment has this name",
            ));
        }
        let results = results_of(call, &row).await?;
        if results.winner() != Some(winner.as_str()) {
            return Err(ApiError::new(
                409,
                "no_winner_yet",
                format!(
                    "the results do not name {winner:?} the winner (verdict: {}); stop without a winner, or wait",
                    results.verdict()
                ),
            )
            .with_field("winner"));
        }
    }
    let db = &call.store.db;
    if row.kind == "commission" {
        let rule = match body.winner.as_deref() {
            Some(TREATMENT) => Some(promoted_rule(call, &row)?),
            _ => None,
        };
        experiments::stop_with_rule(db, &row.id, body.winner.as_deref(), call.now, rule.as_ref())
            .await?;
        return Ok(respond::json(200, &view(find(call, id).await?)?));
    }
    let mut link = links::get(db, row.link_id.as_deref().unwrap_or_default())
        .await?
        .ok_or_else(|| ApiError::internal("experiment stop", "the experiment's link is gone"))?;
    if let Some(winner) = &body.winner {
        let variants = stored_variants(&row)?;
        if let Some(variant) = variants.iter().find(|v| &v.name == winner) {
            link.destination = Destination::parse(&variant.destination)?
                .as_str()
                .to_owned();
            link.updated_at = call.now;
            links::update(db, &link).await?;
        }
    }
    experiments::stop(db, &row.id, body.winner.as_deref(), call.now).await?;
    links::publish(&call.store.kv, db, &LinkCode::parse(&link.code)?).await?;
    Ok(respond::json(200, &view(find(call, id).await?)?))
}

/// The winning treatment's rule as a program-wide rule, created now (so among equal
/// program rules it is the one that applies).
fn promoted_rule(call: &Call<'_>, row: &ExperimentRow) -> ApiResult<RuleRow> {
    let stored = stored_rule(row)?
        .ok_or_else(|| ApiError::internal("experiment stop", "the experiment has no rule"))?;
    let (_, rule) = ExperimentRule::parse(stored)?;
    Ok(RuleRow {
        id: new_id("rul"),
        program_id: row.program_id.clone(),
        event: rule.event,
        kind: rule.kind,
        value: rule.value,
        partner_id: None,
        segment: None,
        from_monthly_sale: rule.from_monthly_sale.map(i64::from),
        status: "active".to_owned(),
        created_at: call.now,
        updated_at: call.now,
    })
}
