//! `GET /api/v1/reports/kpis` and `POST /api/v1/rollups/run`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use chrono::{NaiveDate, TimeZone};
use serde_json::{Map, Value};
use worker::Response;

use super::Call;
use crate::domain::kpi::{is_partner_metric, value, Bases};
use crate::domain::report::{
    day_of_index, local_midnight, offset_spans, Activity, Dims, Fact, ReportQuery, Row, MAX_DAYS,
};
use crate::domain::request_target::with_param;
use crate::domain::time::{parse_date, rfc3339};
use crate::domain::Invalid;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::storage::{reports, rollups};

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

async fn facts(call: &Call<'_>, q: &ReportQuery) -> ApiResult<Vec<Fact>> {
    let db = &call.store.db;
    let spans = offset_spans(q.timezone, q.from, q.to).map_err(bad_parameter)?;
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
        });
    }
    if needs_customers(q) {
        let (start, end) = (
            local_midnight(q.timezone, q.from),
            local_midnight(q.timezone, q.to),
        );
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
            });
        }
    }
    Ok(facts)
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
    let rows = Rc::new(q.aggregate(facts(call, q).await?));
    SNAPSHOTS.with_borrow_mut(|s| {
        s.retain(|_, (at, _)| now - *at < SNAPSHOT_MS);
        if s.len() >= SNAPSHOTS_KEPT {
            s.clear();
        }
        s.insert(key, (now, rows.clone()));
    });
    Ok(rows)
}

/// `GET /api/v1/reports/kpis`.
pub async fn kpis(call: &Call<'_>) -> ApiResult<Response> {
    let q = ReportQuery::parse(|name| call.param(name)).map_err(bad_parameter)?;
    let rows = rows_for(call, &q, q.offset > 0).await?;
    let page: Vec<&Row> = rows.iter().skip(q.offset).take(q.limit).collect();
    let next = (q.offset + page.len() < rows.len()).then(|| {
        let query = with_param(
            &call.query,
            "cursor",
            &format!("o{}", q.offset + page.len()),
        );
        format!("{}{}?{}", call.origin, call.path, query)
    });
    let columns = q.columns();
    if q.csv {
        let mut csv = columns.join(",");
        csv.push('\n');
        for row in page {
            let values = json_row(&q, row);
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
        return Ok(respond::with_headers(200, csv.into_bytes(), &headers));
    }
    let data: Vec<Value> = page
        .iter()
        .map(|row| Value::Object(json_row(&q, row)))
        .collect();
    let body = serde_json::json!({
        "data": data,
        "next": next,
        "meta": {
            "from": q.from.to_string(),
            "to": q.to.to_string(),
            "timezone": q.timezone.name(),
            "generated_at": rfc3339(call.now),
            "columns": columns,
        },
    });
    Ok(respond::json(200, &body))
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
        let done = rollups::run(&call.store.db, 50).await?;
        rolled += done;
        if done < 50 {
            break;
        }
    }
    Ok(respond::json(
        200,
        &serde_json::json!({ "days_rolled_up": rolled }),
    ))
}
