//! `/api/v1/insights`: the stored forecasts with their backtest, the flags with their
//! evidence (and their acknowledgement), and the nightly job on demand. Manager-only:
//! nothing here reaches the partner portal.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::flags::FlagKind;
use crate::domain::nightly::{AccuracyRecord, FORECAST_METRICS, HORIZON_DAYS, NO_MODEL};
use crate::domain::reporting::{Metric, MetricKind};
use crate::domain::time::{parse_date, rfc3339};
use crate::domain::Invalid;
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::insights::nightly;
use crate::storage::flags::{self, FlagFilter, FlagRow};
use crate::storage::forecasts::{self, Series};
use crate::storage::programs::{self, ProgramRow};
use crate::storage::shards;

fn bad(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_parameter", message).with_field(field)
}

fn date_param(call: &Call<'_>, name: &'static str) -> ApiResult<Option<NaiveDate>> {
    call.param(name)
        .map(|raw| {
            parse_date(&raw).ok_or_else(|| bad(name, format!("{name} must be a date YYYY-MM-DD")))
        })
        .transpose()
}

async fn program_param(call: &Call<'_>) -> ApiResult<ProgramRow> {
    let id = call
        .param("program_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("missing_parameter", "program_id is required")
                .with_field("program_id")
        })?;
    programs::get(&call.store.db, &id).await?.ok_or_else(|| {
        Invalid::new("program_id", "unknown_reference", "no program has this id").into()
    })
}

/// A figure rounded as its metric is shown (money and counts to hundredths).
fn rounded(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[derive(Serialize)]
struct ForecastDay {
    day: String,
    value: f64,
    lower_80: f64,
    upper_80: f64,
    lower_95: f64,
    upper_95: f64,
}

#[derive(Serialize)]
struct ModelView {
    name: String,
    trained_through: String,
    fitted_at: String,
    /// The backtest horizon the figures below are from (the shortest covering the
    /// requested horizon).
    backtest_horizon: Option<u32>,
    origins: Option<u32>,
    mase: Option<f64>,
    smape: Option<f64>,
    bias: Option<f64>,
    coverage_80: Option<f64>,
    coverage_95: Option<f64>,
    mase_seasonal_naive: Option<f64>,
    history_days: usize,
    /// How much the model's own intervals were scaled to match the backtest's errors.
    interval_scale_80: f64,
    interval_scale_95: f64,
    backtest: Vec<crate::domain::nightly::HorizonRecord>,
    candidates: Vec<crate::domain::nightly::CandidateRecord>,
}

/// `GET /api/v1/insights/forecast?program_id=&metric=&horizon=&partner_id=`.
pub async fn forecast(call: &Call<'_>) -> ApiResult<Response> {
    let metric_name = call
        .param("metric")
        .ok_or_else(|| bad("metric", "metric is required"))?;
    let metric = Metric::parse(&metric_name)
        .filter(|m| FORECAST_METRICS.contains(m))
        .ok_or_else(|| {
            bad(
                "metric",
                "metric is one of sales, revenue, commission, clicks, new_customers",
            )
        })?;
    let horizon = match call.param("horizon") {
        None => 28,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|h| (7..=HORIZON_DAYS as u32).contains(h))
            .ok_or_else(|| bad("horizon", "horizon is a number of days from 7 to 90"))?,
    };
    let program = program_param(call).await?;
    let partner_id = call.param("partner_id").unwrap_or_default();
    let series = Series {
        program_id: &program.id,
        partner_id: &partner_id,
        metric: metric.name(),
    };
    let stored = forecasts::model(&call.store.db, series).await?;
    let meta = |reason: Option<String>| {
        serde_json::json!({
            "program_id": program.id,
            "partner_id": (!partner_id.is_empty()).then_some(&partner_id),
            "metric": metric.name(),
            "horizon": horizon,
            "money": matches!(metric.kind(), MetricKind::Money),
            "reason": reason,
        })
    };
    let Some(row) = stored else {
        let reason = if partner_id.is_empty() {
            "not_fitted_yet: the nightly job has not run for this program yet"
        } else {
            "no_partner_forecast: partners get their own forecast once they have 8 weeks \
             of history, active on at least half of the last 56 days"
        };
        return Ok(respond::json(
            200,
            &serde_json::json!({ "data": [], "model": null, "meta": meta(Some(reason.into())) }),
        ));
    };
    let record: AccuracyRecord = serde_json::from_str(&row.accuracy)
        .map_err(|e| ApiError::internal("stored forecast accuracy", e))?;
    if row.model == NO_MODEL {
        return Ok(respond::json(
            200,
            &serde_json::json!({ "data": [], "model": null, "meta": meta(record.reason) }),
        ));
    }
    let trained = parse_date(&row.trained_through)
        .ok_or_else(|| ApiError::internal("stored forecast", "trained_through"))?;
    let first = trained + Duration::days(1);
    let last = trained + Duration::days(i64::from(horizon));
    let days = forecasts::days(
        &call.store.db,
        series,
        &first.to_string(),
        &last.to_string(),
    )
    .await?;
    let data: Vec<ForecastDay> = days
        .into_iter()
        .map(|d| ForecastDay {
            day: d.day,
            value: rounded(d.value),
            lower_80: rounded(d.lower_80),
            upper_80: rounded(d.upper_80),
            lower_95: rounded(d.lower_95),
            upper_95: rounded(d.upper_95),
        })
        .collect();
    let at = record.at(horizon).cloned();
    let model = ModelView {
        name: row.model,
        trained_through: row.trained_through,
        fitted_at: rfc3339(row.fitted_at),
        backtest_horizon: at.as_ref().map(|h| h.horizon),
        origins: at.as_ref().map(|h| h.origins),
        mase: at.as_ref().and_then(|h| h.mase),
        smape: at.as_ref().and_then(|h| h.smape),
        bias: at.as_ref().and_then(|h| h.bias),
        coverage_80: at.as_ref().and_then(|h| h.coverage_80),
        coverage_95: at.as_ref().and_then(|h| h.coverage_95),
        mase_seasonal_naive: at.as_ref().and_then(|h| h.mase_seasonal_naive),
        history_days: record.history_days,
        interval_scale_80: record.interval_scale_80,
        interval_scale_95: record.interval_scale_95,
        backtest: record.backtest,
        candidates: record.candidates,
    };
    Ok(respond::json(
        200,
        &serde_json::json!({ "data": data, "model": model, "meta": meta(None) }),
    ))
}

#[derive(Serialize)]
struct FlagView {
    id: String,
    program_id: String,
    partner_id: String,
    partner_name: Option<String>,
    day: String,
    kind: String,
    severity: String,
    p_value: f64,
    q_value: f64,
    evidence: Value,
    acknowledged: bool,
    acknowledged_at: Option<String>,
    created_at: String,
}

fn flag_view(row: FlagRow) -> FlagView {
    FlagView {
        evidence: serde_json::from_str(&row.evidence).unwrap_or(Value::Null),
        id: row.id,
        program_id: row.program_id,
        partner_id: row.partner_id,
        partner_name: row.partner_name,
        day: row.day,
        kind: row.kind,
        severity: row.severity,
        p_value: row.p_value,
        q_value: row.q_value,
        acknowledged: row.acknowledged_at.is_some(),
        acknowledged_at: row.acknowledged_at.map(rfc3339),
        created_at: rfc3339(row.created_at),
    }
}

/// `GET /api/v1/insights/flags?from=&to=&program_id=&partner_id=&kind=&acknowledged=`,
/// newest first.
pub async fn flags(call: &Call<'_>) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let from = date_param(call, "from")?.map(|d| d.to_string());
    let to = date_param(call, "to")?.map(|d| d.to_string());
    let kind = call
        .param("kind")
        .map(|raw| {
            FlagKind::parse(&raw).map_err(|_| {
                bad(
                    "kind",
                    "kind is one of fast_conversions, click_flooding, bot_share, \
                     conversion_rate_outlier, spike, drop, repeat_orders",
                )
            })
        })
        .transpose()?;
    let acknowledged = match call.param("acknowledged").as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(bad("acknowledged", "acknowledged is true or false")),
    };
    let program_id = call.param("program_id");
    let partner_id = call.param("partner_id");
    let filter = FlagFilter {
        program_id: program_id.as_deref(),
        partner_id: partner_id.as_deref(),
        kind: kind.map(FlagKind::as_str),
        from: from.as_deref(),
        to: to.as_deref(),
        acknowledged,
    };
    let page = flags::list(&call.store.db, &filter, after.as_ref(), limit).await?;
    Ok(list_response(
        call,
        page,
        |row| Cursor {
            at: row.created_at,
            id: row.id.clone(),
        },
        flag_view,
    ))
}

async fn find_flag(call: &Call<'_>, id: &str) -> ApiResult<FlagRow> {
    flags::get(&call.store.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("flag"))
}

pub async fn flag(call: &Call<'_>, id: &str) -> ApiResult<Response> {
    Ok(respond::json(200, &flag_view(find_flag(call, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagPatch {
    acknowledged: bool,
}

/// `PATCH /api/v1/insights/flags/{id} {"acknowledged": true|false}`: a manager has
/// looked (or wants it open again). Acknowledging releases no held conversion: those
/// are approved or rejected one by one.
pub async fn acknowledge(call: &mut Call<'_>, id: &str) -> ApiResult<Response> {
    let patch = body::json::<FlagPatch>(call.req).await?;
    let row = find_flag(call, id).await?;
    let at = match (patch.acknowledged, row.acknowledged_at) {
        (true, Some(at)) => Some(at),
        (true, None) => Some(call.now),
        (false, _) => None,
    };
    flags::acknowledge(&call.store.db, id, at).await?;
    Ok(respond::json(200, &flag_view(find_flag(call, id).await?)))
}

/// `POST /api/v1/insights/run?program_id=&day=`: the program's nightly job for `day`
/// (default: its last finished local day) now, judging that day again.
pub async fn run(call: &Call<'_>) -> ApiResult<Response> {
    let program = program_param(call).await?;
    let yesterday = nightly::yesterday(&program, call.now)
        .ok_or_else(|| ApiError::internal("insights", "no local day"))?;
    let day = date_param(call, "day")?.unwrap_or(yesterday);
    if day > yesterday {
        return Err(ApiError::new(
            409,
            "day_not_finished",
            format!("{day} has not ended in the program's time zone; the last finished day is {yesterday}"),
        )
        .with_field("day"));
    }
    // The program's stored time zone, not this request, decides whether its days can be
    // rolled up exactly: a zone with a fractional offset is a conflict with that setting.
    let tz: chrono_tz::Tz = program.timezone.parse().map_err(|_| {
        ApiError::internal(
            "insights",
            format!("stored time zone {:?}", program.timezone),
        )
    })?;
    if let Err(invalid) =
        crate::domain::reporting::offset_spans(tz, day, day + chrono::Days::new(1))
    {
        return Err(ApiError::new(409, invalid.code, invalid.message).with_field("program_id"));
    }
    let events = shards::events_db(call.env, &program.events_shard)?;
    let summary = nightly::run(&call.store.db, &events, call.now, &program, day, true).await?;
    Ok(respond::json(200, &summary))
}
