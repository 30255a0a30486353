//! `GET /api/v1/reports/kpis`, `GET /api/v1/reports/partners` and
//! `POST /api/v1/rollups/run`: parameters in, the report service's rows out as a page
//! of JSON, CSV or an Excel workbook.

use chrono::NaiveDate;
use worker::Response;

use super::Call;
use crate::domain::partners::journey::Stage;
use crate::domain::reporting::{Cell, Dimension, Format, Paging, ReportQuery, Table};
use crate::domain::request_target::with_param;
use crate::domain::time::{parse_date, rfc3339};
use crate::domain::Invalid;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::reporting::{self, Reuse};
use crate::rollups::{self, RollupError};
use crate::{faults, http::error};

/// Report parameters are query parameters: a bad one is a `400` naming it.
pub fn bad_parameter(invalid: Invalid) -> ApiError {
    ApiError::bad_request(invalid.code, invalid.message).with_field(invalid.field)
}

impl From<reporting::ReportError> for ApiError {
    fn from(error: reporting::ReportError) -> Self {
        match error {
            reporting::ReportError::Invalid(invalid) => bad_parameter(invalid),
            reporting::ReportError::Storage(storage) => storage.into(),
        }
    }
}

/// What a report request asks for beyond the report itself.
struct Delivery {
    format: Format,
    paging: Paging,
}

impl Delivery {
    fn parse(call: &Call<'_>) -> ApiResult<Self> {
        Ok(Self {
            format: Format::parse(call.param("format").as_deref()).map_err(bad_parameter)?,
            paging: Paging::parse(|name| call.param(name)).map_err(bad_parameter)?,
        })
    }

    fn reuse(&self) -> Reuse {
        if self.paging.is_later() {
            Reuse::Snapshot
        } else {
            Reuse::Never
        }
    }
}

/// The currency of a report's money: its program's, when it is filtered to one program.
async fn currency(call: &Call<'_>, q: &ReportQuery) -> ApiResult<Option<String>> {
    let Some(filter) = q.filters.iter().find(|f| f.dimension == Dimension::Program) else {
        return Ok(None);
    };
    Ok(crate::storage::programs::get(&call.store.db, &filter.value)
        .await?
        .map(|program| program.currency))
}

/// One page of a report as JSON (`data`, `next`, `meta`), CSV or an Excel workbook (the
/// next page in a `Link` header), with the same columns on every row and page.
async fn page(
    call: &Call<'_>,
    q: &ReportQuery,
    delivery: &Delivery,
    total: usize,
    table: Table,
    name: &str,
) -> ApiResult<Response> {
    let next = delivery.paging.next_cursor(total).map(|cursor| {
        let query = with_param(&call.query, "cursor", &cursor);
        format!("{}{}?{}", call.origin, call.path, query)
    });
    let money_in = match delivery.format {
        Format::Xlsx => currency(call, q).await?,
        _ => None,
    };
    let meta = serde_json::json!({
        "from": q.from.to_string(),
        "to": q.to.to_string(),
        "timezone": q.timezone.name(),
        "generated_at": rfc3339(call.now),
        "columns": table.columns,
    });
    let bytes = delivery
        .format
        .render(&table, name, money_in.as_deref(), next.as_deref(), meta)
        .map_err(|e| ApiError::internal("report export", e))?;
    let (extension, content_type) = delivery.format.file_type();
    let mut headers = vec![("content-type", content_type)];
    let link = next.as_ref().map(|n| format!("<{n}>; rel=\"next\""));
    let disposition = format!(
        "attachment; filename=\"partnerlens-{}-{}-{}.{extension}\"",
        name.to_ascii_lowercase(),
        q.from,
        q.to
    );
    if delivery.format != Format::Json {
        // JSON has its next page in the body; the files in a Link header.
        if let Some(link) = link.as_deref() {
            headers.push(("link", link));
        }
    }
    if delivery.format == Format::Xlsx {
        headers.push(("content-disposition", disposition.as_str()));
    }
    Ok(respond::with_headers(200, bytes, &headers))
}

/// `GET /api/v1/reports/kpis`.
pub async fn kpis(call: &Call<'_>) -> ApiResult<Response> {
    let q = ReportQuery::parse(|name| call.param(name)).map_err(bad_parameter)?;
    let delivery = Delivery::parse(call)?;
    let rows = reporting::rows(&call.store.db, call.now, &q, delivery.reuse()).await?;
    let shown = delivery.paging.of(&rows);
    let table = Table {
        columns: q.columns(),
        rows: q.table(shown).rows,
    };
    page(call, &q, &delivery, rows.len(), table, "KPIs").await
}

/// `GET /api/v1/reports/partners`: one row per partner (every partner the filters allow
/// that existed before the range ended, activity or not): its KPIs over the range, and
/// its journey stage on the range's last day (or today) with the days spent in each
/// stage up to then.
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
    let q = ReportQuery::parse(|name| (name != "group_by").then(|| call.param(name)).flatten())
        .map_err(bad_parameter)?;
    let delivery = Delivery::parse(call)?;
    let table = reporting::partners(&call.store.db, call.now, &q, stage, delivery.reuse()).await?;
    let total = table.rows.len();
    let shown: Vec<Vec<Cell>> = delivery.paging.of(&table.rows).to_vec();
    let table = Table {
        columns: table.columns,
        rows: shown,
    };
    page(call, &q, &delivery, total, table, "Partners").await
}

impl From<RollupError> for ApiError {
    fn from(error: RollupError) -> Self {
        match error {
            RollupError::Invalid(invalid) => bad_parameter(invalid),
            RollupError::Storage(storage) => storage.into(),
        }
    }
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
    let missing = |name: &'static str, other: &str| {
        error::ApiError::bad_request(
            "invalid_parameter",
            format!("{name} is required with {other}"),
        )
        .with_field(name)
    };
    let range = match (date("from")?, date("to")?) {
        (None, None) => None,
        (Some(from), Some(to)) => Some((from, to)),
        (Some(_), None) => return Err(missing("to", "from")),
        (None, Some(_)) => return Err(missing("from", "to")),
    };
    let done = rollups::rebuild(&call.store.db, call.now, range, faults::rollup_crash).await?;
    Ok(respond::json(
        200,
        &serde_json::json!({
            "days_rolled_up": done.days_rolled_up,
            "partner_days": done.partner_days,
        }),
    ))
}
