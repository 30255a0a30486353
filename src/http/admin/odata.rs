//! The OData v4 feed at `/odata/` for Power BI's OData connector: a service document,
//! `$metadata` (CSDL), the entity sets `DailyKpis` (one row per UTC day, program and
//! partner, from the rollups) and `Partners`, with `$filter` (`eq`/`ge`/`gt`/`le`/`lt`
//! joined by `and`), `$select`, `$top`, `$skip`, `$count` and server paging through
//! `@odata.nextLink`. Other options answer `501`.

use chrono::{Duration, NaiveDate};
use serde_json::Value;
use worker::Response;

use super::Call;
use crate::domain::odata::{parse_options, Clause, Literal, Op, Options, Refusal, PAGE_SIZE};
use crate::domain::reporting::{Dimension, Filter, Metric, ReportQuery, MAX_DAYS};
use crate::domain::request_target::with_param;
use crate::domain::time::{parse_date, rfc3339};
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::reporting::{self, Reuse};
use crate::storage::partners;

/// Days `DailyKpis` covers when `$filter` names no range.
const DEFAULT_DAYS: i64 = 90;

/// (name, EDM type) of `DailyKpis`' properties; `money` ones are decimals with 2 places.
const DAILY_KPI_PROPERTIES: &[(&str, &str)] = &[
    ("id", "Edm.String"),
    ("day", "Edm.Date"),
    ("program_id", "Edm.String"),
    ("program_name", "Edm.String"),
    ("partner_id", "Edm.String"),
    ("partner_name", "Edm.String"),
    ("clicks", "Edm.Int64"),
    ("unique_clicks", "Edm.Int64"),
    ("bot_clicks", "Edm.Int64"),
    ("impressions", "Edm.Int64"),
    ("leads", "Edm.Int64"),
    ("qualified_leads", "Edm.Int64"),
    ("sales", "Edm.Int64"),
    ("refunds", "Edm.Int64"),
    ("revenue", "Edm.Decimal"),
    ("commission", "Edm.Decimal"),
    ("new_customers", "Edm.Int64"),
];

const PARTNER_PROPERTIES: &[(&str, &str)] = &[
    ("id", "Edm.String"),
    ("name", "Edm.String"),
    ("segment", "Edm.String"),
    ("tier", "Edm.String"),
    ("region", "Edm.String"),
    ("status", "Edm.String"),
    ("created_at", "Edm.DateTimeOffset"),
];

fn headers() -> [(&'static str, &'static str); 2] {
    [
        ("odata-version", "4.0"),
        ("content-type", "application/json;odata.metadata=minimal"),
    ]
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Bad(invalid) => {
            ApiError::bad_request("invalid_parameter", invalid.message).with_field(invalid.field)
        }
        Refusal::NotImplemented(what) => ApiError::new(
            501,
            "not_implemented",
            format!("{what} is not supported by this feed"),
        ),
    }
}

fn base_url(call: &Call<'_>) -> String {
    format!("{}/odata", call.origin)
}

pub async fn service(call: &Call<'_>) -> ApiResult<Response> {
    let body = serde_json::json!({
        "@odata.context": format!("{}/$metadata", base_url(call)),
        "value": [
            {"name": "DailyKpis", "kind": "EntitySet", "url": "DailyKpis"},
            {"name": "Partners", "kind": "EntitySet", "url": "Partners"},
        ],
    });
    Ok(respond::with_headers(
        200,
        body.to_string().into_bytes(),
        &headers(),
    ))
}

fn entity_type(name: &str, properties: &[(&str, &str)]) -> String {
    let mut xml = format!("<EntityType Name=\"{name}\"><Key><PropertyRef Name=\"id\"/></Key>");
    for (property, kind) in properties {
        let facets = match *kind {
            "Edm.Decimal" => " Precision=\"38\" Scale=\"2\"",
            _ => "",
        };
        let nullable = if *property == "id" {
            " Nullable=\"false\""
        } else {
            ""
        };
        xml.push_str(&format!(
            "<Property Name=\"{property}\" Type=\"{kind}\"{facets}{nullable}/>"
        ));
    }
    xml.push_str("</EntityType>");
    xml
}

pub fn metadata() -> Response {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\
<edmx:DataServices><Schema Namespace=\"partnerlens\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\
{}{}\
<EntityContainer Name=\"Container\">\
<EntitySet Name=\"DailyKpis\" EntityType=\"partnerlens.DailyKpi\"/>\
<EntitySet Name=\"Partners\" EntityType=\"partnerlens.Partner\"/>\
</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>",
        entity_type("DailyKpi", DAILY_KPI_PROPERTIES),
        entity_type("Partner", PARTNER_PROPERTIES),
    );
    respond::with_headers(
        200,
        xml.into_bytes(),
        &[
            ("odata-version", "4.0"),
            ("content-type", "application/xml"),
        ],
    )
}

/// A property value as OData JSON: decimals unquoted (exact text, never a float).
fn json_value(kind: &str, value: &Value) -> String {
    match (kind, value) {
        ("Edm.Decimal", Value::String(text)) => text.clone(),
        _ => value.to_string(),
    }
}

/// Writes a page of entities with `$select`, `$count` and the next link.
fn page(
    call: &Call<'_>,
    set: &str,
    properties: &[(&str, &str)],
    entities: Vec<serde_json::Map<String, Value>>,
    options: &Options,
) -> ApiResult<Response> {
    let selected: Vec<&(&str, &str)> = match &options.select {
        None => properties.iter().collect(),
        Some(names) => {
            let mut chosen = Vec::new();
            for name in names {
                let property = properties.iter().find(|(p, _)| p == name).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_parameter",
                        format!("{set} has no property '{name}'"),
                    )
                    .with_field("$select")
                })?;
                chosen.push(property);
            }
            chosen
        }
    };
    let total = entities.len();
    let wanted = options.top.unwrap_or(usize::MAX);
    let take = wanted.min(PAGE_SIZE);
    let shown: Vec<_> = entities.into_iter().skip(options.skip).take(take).collect();
    let mut body = format!(
        "{{\"@odata.context\":\"{}/$metadata#{set}\"",
        base_url(call)
    );
    if options.count {
        body.push_str(&format!(",\"@odata.count\":{total}"));
    }
    body.push_str(",\"value\":[");
    for (i, entity) in shown.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let fields: Vec<String> = selected
            .iter()
            .map(|(name, kind)| {
                format!(
                    "\"{name}\":{}",
                    json_value(kind, entity.get(*name).unwrap_or(&Value::Null))
                )
            })
            .collect();
        body.push('{');
        body.push_str(&fields.join(","));
        body.push('}');
    }
    body.push(']');
    let next_skip = options.skip + shown.len();
    if wanted > take && next_skip < total {
        let mut query = with_param(&call.query, "$skip", &next_skip.to_string());
        if let Some(top) = options.top {
            query = with_param(&query, "$top", &(top - shown.len()).to_string());
        }
        let link = format!("{}/{set}?{query}", base_url(call));
        body.push_str(&format!(",\"@odata.nextLink\":{}", Value::String(link)));
    }
    body.push('}');
    Ok(respond::with_headers(200, body.into_bytes(), &headers()))
}

fn pairs(call: &Call<'_>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(call.query.as_bytes())
        .into_owned()
        .collect()
}

/// The day range a filter asks for, `[from, to)`.
fn day_range(call: &Call<'_>, clauses: &[Clause]) -> ApiResult<(NaiveDate, NaiveDate)> {
    let today = parse_date(&rfc3339(call.now)[..10]).unwrap_or_default();
    let (mut from, mut to) = (None, None);
    for clause in clauses.iter().filter(|c| c.property == "day") {
        let Literal::Date(date) = clause.value else {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                "day compares with a date YYYY-MM-DD",
            )
            .with_field("$filter"));
        };
        match clause.op {
            Op::Ge => from = Some(date),
            Op::Gt => from = Some(date + Duration::days(1)),
            Op::Lt => to = Some(date),
            Op::Le => to = Some(date + Duration::days(1)),
            Op::Eq => {
                from = Some(date);
                to = Some(date + Duration::days(1));
            }
        }
    }
    let to = to.unwrap_or(today + Duration::days(1));
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS));
    let days = (to - from).num_days();
    if days > MAX_DAYS {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            format!("DailyKpis serves at most {MAX_DAYS} days at once; narrow the day filter"),
        )
        .with_field("$filter"));
    }
    Ok((from, to.max(from)))
}

pub async fn daily_kpis(call: &Call<'_>) -> ApiResult<Response> {
    let options = parse_options(&pairs(call)).map_err(refused)?;
    let mut filters = Vec::new();
    for clause in &options.filter {
        match (clause.property.as_str(), clause.op, &clause.value) {
            ("day", _, _) => {}
            ("program_id", Op::Eq, Literal::Text(v)) => filters.push(Filter {
                dimension: Dimension::Program,
                value: v.clone(),
            }),
            ("partner_id", Op::Eq, Literal::Text(v)) => filters.push(Filter {
                dimension: Dimension::Partner,
                value: v.clone(),
            }),
            (property, _, _) => {
                return Err(refused(Refusal::NotImplemented(format!(
                    "$filter on {property} (use day, program_id or partner_id)"
                ))))
            }
        }
    }
    let (from, to) = day_range(call, &options.filter)?;
    let query = ReportQuery {
        from,
        to,
        group_by: vec![Dimension::Day, Dimension::Program, Dimension::Partner],
        metrics: DAILY_KPI_PROPERTIES
            .iter()
            .filter_map(|(name, _)| Metric::parse(name))
            .collect(),
        filters,
        timezone: chrono_tz::UTC,
    };
    let reuse = if options.skip > 0 {
        Reuse::Snapshot
    } else {
        Reuse::Never
    };
    let rows = reporting::rows(&call.store.db, call.now, &query, reuse).await?;
    let table = query.table(&rows);
    let entities = table
        .json_rows(&table.rows)
        .into_iter()
        .map(|mut entity| {
            let id = ["day", "program_id", "partner_id"]
                .map(|key| entity.get(key).and_then(Value::as_str).unwrap_or_default())
                .join("~");
            entity.insert("id".to_owned(), Value::String(id));
            entity
        })
        .collect();
    page(call, "DailyKpis", DAILY_KPI_PROPERTIES, entities, &options)
}

pub async fn partners(call: &Call<'_>) -> ApiResult<Response> {
    let options = parse_options(&pairs(call)).map_err(refused)?;
    if let Some(clause) = options
        .filter
        .iter()
        .find(|c| c.op != Op::Eq || !PARTNER_PROPERTIES.iter().any(|(p, _)| *p == c.property))
    {
        return Err(refused(Refusal::NotImplemented(format!(
            "$filter on Partners supports 'property eq text', not {}",
            clause.property
        ))));
    }
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = partners::list(&call.store.db, after.as_ref(), 500).await?;
        let more = page.has_more;
        after = page.rows.last().map(|p| crate::domain::cursor::Cursor {
            at: p.created_at,
            id: p.id.clone(),
        });
        all.extend(page.rows);
        if !more {
            break;
        }
    }
    let mut entities = Vec::new();
    for partner in all {
        let entity: serde_json::Map<String, Value> = [
            ("id", Value::String(partner.id)),
            ("name", Value::String(partner.name)),
            ("segment", Value::from(partner.segment.as_str())),
            ("tier", partner.tier.map_or(Value::Null, Value::String)),
            ("region", partner.region.map_or(Value::Null, Value::String)),
            ("status", Value::from(partner.status.as_str())),
            ("created_at", Value::String(rfc3339(partner.created_at))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let keep = options
            .filter
            .iter()
            .all(|clause| match (&clause.op, &clause.value) {
                (Op::Eq, Literal::Text(v)) => {
                    entity.get(&clause.property).and_then(Value::as_str) == Some(v.as_str())
                }
                _ => false,
            });
        if keep {
            entities.push(entity);
        }
    }
    page(call, "Partners", PARTNER_PROPERTIES, entities, &options)
}
