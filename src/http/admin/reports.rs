//! `GET /api/v1/reports/kpis` and `POST /api/v1/rollups/run`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use chrono::{NaiveDate, TimeZone};
use serde_json::{Map, Value};
use worker::Response;

use super::Call;
use crate::domain::journey::{Stage, StatusHistory, DAY_MS, STAGES};
use crate::domain::kpi::{is_partner_metric, value, Bases};
use crate::domain::network::PartnerFacts;
use crate::domain::report::{
    day_of_index, local_midnight, offset_spans, Activity, Dims, Fact, ReportQuery, Row, MAX_DAYS,
};
use crate::domain::request_target::with_param;
use crate::domain::time::{parse_date, rfc3339};
use crate::domain::Invalid;
use crate::faults;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::{journey, partners, reports, rollups};

/// Report parameters are query parameters: a bad one is a `400` naming it.
fn bad_parameter(invalid: Invalid) -> ApiError {
    ApiError::bad_request(invalid.code, invalid.message).with_field(invalid.field)
}

/// Whether program costs belong in these rows: only when rows are programs and periods,
/// never split by partner, link or a click dimension (`kpis.md`).
fn costs_apply(q: &ReportQuery) -> bool {
    q.group_by
        .iter()
        .all(|g| matches!(*g, "day" | "week" | "month" | "program" | "model"))
        && q.filters
            .iter()
            .all(|(name, _)| matches!(*name, "program_id" | "model"))
}

fn needs_customers(q: &ReportQuery) -> bool {
    q.metrics
        .iter()
        .any(|m| matches!(*m, "new_customers" | "cac" | "ltv"))
}

fn local_date(q: &ReportQuery, ms: i64) -> NaiveDate {
    q.timezone
        .timestamp_millis_opt(ms)
        .single()
        .map_or(q.from, |t| t.date_naive())
}

/// The report's facts; with `since` before the range, the rollup facts of
/// `[since, from)` too (partner activity for retention), which the caller keeps apart.
async fn facts(call: &Call<'_>, q: &ReportQuery, since: NaiveDate) -> ApiResult<Vec<Fact>> {
    let db = &call.store.db;
    let spans = offset_spans(q.timezone, since, q.to).map_err(bad_parameter)?;
    let mut groups: Vec<&str> = q
        .group_by
        .iter()
        .copied()
        .filter(|g| !matches!(*g, "day" | "week" | "month"))
        .collect();
    // Distinct partner counts need each partner's own rows, whatever the grouping.
    let by_partner = q.metrics.iter().any(|m| is_partner_metric(m));
    if by_partner && !groups.contains(&"partner") {
        groups.push("partner");
    }
    let mut facts = Vec::new();
    for row in reports::rollup_days(db, &spans, &groups, &q.filters).await? {
        // kpis.md: active partners are approved ones; selling partners are any with a sale.
        let activity = row
            .dims
            .partner_id
            .clone()
            .filter(|_| by_partner)
            .map(|partner_id| Activity {
                partner_id,
                active: row.partner_status.as_deref() == Some("approved")
                    && (row.bases.clicks > 0
                        || row.bases.leads
                            + row.bases.qualified_leads
                            + row.bases.sales
                            + row.bases.refunds
                            > 0),
                selling: row.bases.sales > 0,
            });
        facts.push(Fact {
            day: day_of_index(row.local_day),
            activity,
            dims: row.dims,
            bases: row.bases,
            response_ms: None,
        });
    }
    let (start, end) = (
        local_midnight(q.timezone, q.from),
        local_midnight(q.timezone, q.to),
    );
    if q.metrics.contains(&"response_time_hours_median") {
        for row in reports::lead_responses(db, start, end, &q.filters).await? {
            facts.push(Fact {
                day: local_date(q, row.ts),
                dims: row.dims,
                bases: Bases::default(),
                activity: None,
                response_ms: Some(row.response_ms),
            });
        }
    }
    if needs_customers(q) {
        for row in reports::new_customers(db, start, end, &q.filters).await? {
            facts.push(Fact {
                day: local_date(q, row.ts),
                dims: row.dims,
                activity: None,
                bases: Bases {
                    new_customers: 1,
                    new_customer_revenue_cents: row.lifetime_revenue_cents,
                    ..Bases::default()
                },
                response_ms: None,
            });
        }
    }
    if costs_apply(q) {
        for row in reports::costs(db, &q.from.to_string(), &q.to.to_string(), &q.filters).await? {
            let Some(day) = parse_date(&row.date) else {
                continue;
            };
            facts.push(Fact {
                day,
                dims: Dims {
                    program_id: Some(row.program_id),
                    program_name: row.program_name,
                    model: row.model,
                    ..Dims::default()
                },
                activity: None,
                bases: Bases {
                    other_cost_cents: row.cents,
                    ..Bases::default()
                },
                response_ms: None,
            });
        }
    }
    Ok(facts)
}

/// Every partner with its status history, programs and links (for `partners_total`).
async fn partner_facts(call: &Call<'_>) -> ApiResult<Vec<PartnerFacts>> {
    let db = &call.store.db;
    let mut histories = partners::status_histories(db).await?;
    Ok(reports::partners(db)
        .await?
        .iter()
        .map(|row| row.facts(histories.remove(&row.id).unwrap_or_default()))
        .collect())
}

/// Computes the report's rows: sums and distinct counts per row, then the KPIs that
/// look beyond a row's own facts (retention, partners at the period's end).
async fn compute(call: &Call<'_>, q: &ReportQuery) -> ApiResult<Vec<Row>> {
    let wants = |metric: &str| q.metrics.contains(&metric);
    let retention = wants("partner_retention");
    let since = if retention {
        q.from - (q.to - q.from)
    } else {
        q.from
    };
    let mut all = facts(call, q, since).await?;
    if q.program_rows() {
        all.extend(q.zero_facts(reports::programs(&call.store.db, &q.filters).await?));
    }
    let wants_partners_total = wants("partners_total") || wants("partner_conversion");
    let partners = if wants_partners_total || q.partner_rows() {
        partner_facts(call).await?
    } else {
        Vec::new()
    };
    if q.partner_rows() {
        let filters: Vec<(&str, &str)> = q.filters.iter().map(|(n, v)| (*n, v.as_str())).collect();
        // Partners who existed before the range ended.
        let end = local_midnight(q.timezone, q.to);
        let quiet = partners
            .iter()
            .filter(|p| p.since < end && p.belongs(&filters))
            .map(|p| Dims {
                partner_id: Some(p.id.clone()),
                partner_name: Some(p.name.clone()),
                ..Dims::default()
            })
            .collect();
        all.extend(q.zero_facts(quiet));
    }
    let (earlier, mut in_range): (Vec<Fact>, Vec<Fact>) =
        all.into_iter().partition(|f| f.day < q.from);
    let mut rows;
    if retention {
        if q.group_by
            .iter()
            .all(|g| !matches!(*g, "day" | "week" | "month"))
        {
            // A group active before the range but quiet in it still gets its row: its
            // retention is 0, not missing.
            in_range.extend(q.zero_facts(earlier.iter().map(|f| f.dims.clone()).collect()));
        }
        rows = q.aggregate(in_range.iter().cloned());
        let mut activity = earlier;
        activity.extend(in_range.into_iter().filter(|f| f.activity.is_some()));
        q.count_retention(&mut rows, &activity);
    } else {
        rows = q.aggregate(in_range);
    }
    if wants_partners_total {
        q.count_partners_total(&mut rows, &partners);
    }
    Ok(rows)
}

pub fn json_row(q: &ReportQuery, row: &Row) -> Map<String, Value> {
    let mut out = Map::new();
    for (column, group_value) in &row.groups {
        out.insert(
            (*column).to_owned(),
            group_value.clone().map_or(Value::Null, Value::String),
        );
    }
    for metric in &q.metrics {
        out.insert((*metric).to_owned(), value(metric, &row.bases));
    }
    out
}

fn csv_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// How long this isolate keeps a computed report for the pages that follow its first.
const SNAPSHOT_MS: f64 = 60_000.0;
const SNAPSHOTS_KEPT: usize = 8;

/// Report key → (computed at, rows).
type Snapshots = HashMap<String, (f64, Rc<Vec<Row>>)>;

thread_local! {
    static SNAPSHOTS: RefCell<Snapshots> = RefCell::new(HashMap::new());
}

/// The report's rows. A BI tool pages through a report in quick succession: the pages
/// after the first come from a snapshot this isolate keeps for a minute (keyed by every
/// parameter but the cursor), so paging costs one computation, not one per page, and the
/// pages of one pull are consistent with each other.
pub async fn rows_for(
    call: &Call<'_>,
    q: &ReportQuery,
    later_page: bool,
) -> ApiResult<Rc<Vec<Row>>> {
    let key = format!(
        "{:?}|{:?}|{:?}|{:?}|{}|{}|{}",
        q.from,
        q.to,
        q.group_by,
        q.metrics,
        q.filters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&"),
        q.timezone.name(),
        q.csv
    );
    let now = call.now as f64;
    let cached = SNAPSHOTS.with_borrow(|s| {
        s.get(&key)
            .filter(|(at, _)| now - at < SNAPSHOT_MS)
            .map(|(_, rows)| rows.clone())
    });
    if let (Some(rows), true) = (cached, later_page) {
        return Ok(rows);
    }
    let rows = Rc::new(compute(call, q).await?);
    SNAPSHOTS.with_borrow_mut(|s| {
        s.retain(|_, (at, _)| now - *at < SNAPSHOT_MS);
        if s.len() >= SNAPSHOTS_KEPT {
            s.clear();
        }
        s.insert(key, (now, rows.clone()));
    });
    Ok(rows)
}

/// One page of a report as JSON (`data`, `next`, `meta`) or CSV (the next page in a
/// `Link` header), with the same columns on every row and page.
fn table(
    call: &Call<'_>,
    q: &ReportQuery,
    columns: &[&str],
    total: usize,
    page: Vec<Map<String, Value>>,
) -> Response {
    let next = (q.offset + page.len() < total).then(|| {
        let query = with_param(
            &call.query,
            "cursor",
            &format!("o{}", q.offset + page.len()),
        );
        format!("{}{}?{}", call.origin, call.path, query)
    });
    if q.csv {
        let mut csv = columns.join(",");
        csv.push('\n');
        for values in &page {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| csv_cell(values.get(*c).unwrap_or(&Value::Null)))
                .collect();
            csv.push_str(&cells.join(","));
            csv.push('\n');
        }
        // CSV has no body field for the next page: it travels in a Link header.
        let link = next.as_ref().map(|n| format!("<{n}>; rel=\"next\""));
        let mut headers = vec![("content-type", "text/csv; charset=utf-8")];
        if let Some(link) = link.as_deref() {
            headers.push(("link", link));
        }
        return respond::with_headers(200, csv.into_bytes(), &headers);
    }
    let body = serde_json::json!({
        "data": page,
        "next": next,
        "meta": {
            "from": q.from.to_string(),
            "to": q.to.to_string(),
            "timezone": q.timezone.name(),
            "generated_at": rfc3339(call.now),
            "columns": columns,
        },
    });
    respond::json(200, &body)
}

/// `GET /api/v1/reports/kpis`.
pub async fn kpis(call: &Call<'_>) -> ApiResult<Response> {
    let q = ReportQuery::parse(|name| call.param(name)).map_err(bad_parameter)?;
    let rows = rows_for(call, &q, q.offset > 0).await?;
    let page = rows
        .iter()
        .skip(q.offset)
        .take(q.limit)
        .map(|row| json_row(&q, row))
        .collect();
    Ok(table(call, &q, &q.columns(), rows.len(), page))
}

/// The columns of `/api/v1/reports/partners` before its metrics.
const PARTNER_COLUMNS: &[&str] = &[
    "partner_id",
    "partner_name",
    "partner_status",
    "segment",
    "stage",
    "stage_since",
    "days_in_stage",
    "risk",
    "activity_last_14d",
    "activity_prev_14d",
    "days_since_activity",
    "days_applied",
    "days_approved",
    "days_first_click",
    "days_first_conversion",
    "days_active",
    "days_at_risk",
    "days_churned",
];

/// `GET /api/v1/reports/partners`: one row per partner (every partner the filters
/// allow that existed before the range ended, activity or not): its KPIs over the range, and its journey stage on the
/// range's last day (or today, when the range runs into the future) with the days spent
/// in each stage up to then.
pub async fn partners(call: &Call<'_>) -> ApiResult<Response> {
    if let Some(group_by) = call.param("group_by").filter(|g| g != "partner") {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("rows of this report are partners; group_by is 'partner' or absent, not '{group_by}'"),
        )
        .with_field("group_by"));
    }
    let stage = call
        .param("stage")
        .map(|raw| Stage::parse(&raw))
        .transpose()
        .map_err(bad_parameter)?;
    let mut q = ReportQuery::parse(|name| (name != "group_by").then(|| call.param(name)).flatten())
        .map_err(bad_parameter)?;
    q.group_by = vec!["partner"];
    let db = &call.store.db;
    let rows = rows_for(call, &q, q.offset > 0).await?;
    let kpis: HashMap<&str, &Bases> = rows
        .iter()
        .filter_map(|row| {
            let id = row
                .groups
                .iter()
                .find(|(c, _)| *c == "partner_id")?
                .1
                .as_deref()?;
            Some((id, &row.bases))
        })
        .collect();
    let today = call.now.div_euclid(DAY_MS);
    let as_of = ((q.to - day_of_index(0)).num_days() - 1).min(today);
    let stages: HashMap<String, journey::StageRow> = journey::stages_on(db, as_of)
        .await?
        .into_iter()
        .map(|row| (row.partner_id.clone(), row))
        .collect();
    let mut stage_days: HashMap<(String, String), i64> = HashMap::new();
    for row in journey::days_per_stage(db, as_of).await? {
        stage_days.insert((row.partner_id, row.stage), row.days);
    }
    let filters: Vec<(&str, &str)> = q
        .filters
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let empty = Bases::default();
    let range_end = local_midnight(q.timezone, q.to);
    let mut out = Vec::new();
    for partner in reports::partners(db).await? {
        // Every partner the filters allow that existed before the range ended.
        if !partner.facts(StatusHistory::default()).belongs(&filters) || partner.since >= range_end
        {
            continue;
        }
        let current = stages.get(&partner.id);
        if stage.is_some_and(|s| current.map(|c| c.stage.as_str()) != Some(s.as_str())) {
            continue;
        }
        let mut row = Map::new();
        let mut put = |column: &str, value: Value| {
            row.insert(column.to_owned(), value);
        };
        put("partner_id", partner.id.clone().into());
        put("partner_name", partner.name.into());
        put("partner_status", partner.status.into());
        put("segment", partner.segment.into());
        put("stage", current.map(|c| c.stage.clone()).into());
        put(
            "stage_since",
            current
                .map(|c| day_of_index(c.since_day).to_string())
                .into(),
        );
        put(
            "days_in_stage",
            current.map(|c| as_of - c.since_day + 1).into(),
        );
        put("risk", current.and_then(|c| c.risk.clone()).into());
        put("activity_last_14d", current.map(|c| c.last_14).into());
        put("activity_prev_14d", current.map(|c| c.prev_14).into());
        put(
            "days_since_activity",
            current
                .and_then(|c| c.last_active_day)
                .map(|d| as_of - d)
                .into(),
        );
        for s in STAGES {
            let days = stage_days
                .get(&(partner.id.clone(), s.as_str().to_owned()))
                .copied()
                .unwrap_or(0);
            put(&format!("days_{}", s.as_str()), days.into());
        }
        let bases = kpis.get(partner.id.as_str()).copied().unwrap_or(&empty);
        for metric in &q.metrics {
            put(metric, value(metric, bases));
        }
        out.push(row);
    }
    let columns: Vec<&str> = PARTNER_COLUMNS
        .iter()
        .chain(q.metrics.iter())
        .copied()
        .collect();
    let total = out.len();
    let page = out.into_iter().skip(q.offset).take(q.limit).collect();
    Ok(table(call, &q, &columns, total, page))
}

/// `POST /api/v1/rollups/run?from=&to=`: marks the UTC days of `[from, to)` dirty and
/// rolls up every dirty day now, with the same code as the cron. Without `from` and `to`
/// it rolls up only the days already marked.
pub async fn run(call: &Call<'_>) -> ApiResult<Response> {
    let date = |name: &'static str| -> ApiResult<Option<NaiveDate>> {
        call.param(name)
            .map(|raw| {
                parse_date(&raw).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_parameter",
                        format!("{name} must be a date YYYY-MM-DD"),
                    )
                    .with_field(name)
                })
            })
            .transpose()
    };
    match (date("from")?, date("to")?) {
        (None, None) => {}
        (Some(from), Some(to)) => {
            let days = (to - from).num_days();
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("to must be 1 to {MAX_DAYS} days after from"),
                )
                .with_field("to"));
            }
            let epoch = day_of_index(0);
            let (first, last) = ((from - epoch).num_days(), (to - epoch).num_days());
            // One more day on each side: a local day of any time zone overlaps its UTC neighbours.
            rollups::mark_range(&call.store.db, first - 1, last + 1, call.now).await?;
        }
        (Some(_), None) => {
            return Err(
                ApiError::bad_request("invalid_parameter", "to is required with from")
                    .with_field("to"),
            )
        }
        (None, Some(_)) => {
            return Err(
                ApiError::bad_request("invalid_parameter", "from is required with to")
                    .with_field("from"),
            )
        }
    }
    let mut rolled = 0;
    loop {
        let done = rollups::run(&call.store.db, 50, |dirty| {
            faults::rollup_crash(call.env, dirty)
        })
        .await?;
        rolled += done;
        if done < 50 {
            break;
        }
    }
    let partner_days = crate::journey::run(&call.store.db, call.now).await?;
    Ok(respond::json(
        200,
        &serde_json::json!({ "days_rolled_up": rolled, "partner_days": partner_days }),
    ))
}
