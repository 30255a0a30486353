//! The OData v4 feed at `/odata/` for Power BI's OData connector: a service document,
//! `$metadata` (CSDL), the entity sets `DailyKpis` (one row per UTC day, program and
//! partner, from the rollups) and `Partners`, with `$filter` (see `domain::odata`: it is
//! evaluated on every entity, after its day range and `program_id`/`partner_id`
//! equalities narrow the report query), `$orderby`, `$select`, `$top`, `$skip`, `$count`
//! and server paging through `@odata.nextLink`. Other options answer `501`.

use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value};
use worker::Response;

use super::Call;
use crate::domain::odata::{
    compare, day_bounds, entity_row, parse_options, required_equalities, EdmType, Expr, Options,
    Refusal, Schema, PAGE_SIZE,
};
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
const DAILY_KPI_PROPERTIES: &Schema = &[
    ("id", EdmType::String),
    ("day", EdmType::Date),
    ("program_id", EdmType::String),
    ("program_name", EdmType::String),
    ("partner_id", EdmType::String),
    ("partner_name", EdmType::String),
    ("clicks", EdmType::Int64),
    ("unique_clicks", EdmType::Int64),
    ("bot_clicks", EdmType::Int64),
    ("impressions", EdmType::Int64),
    ("leads", EdmType::Int64),
    ("qualified_leads", EdmType::Int64),
    ("sales", EdmType::Int64),
    ("refunds", EdmType::Int64),
    ("revenue", EdmType::Decimal),
    ("commission", EdmType::Decimal),
    ("new_customers", EdmType::Int64),
];

const PARTNER_PROPERTIES: &Schema = &[
    ("id", EdmType::String),
    ("name", EdmType::String),
    ("segment", EdmType::String),
    ("tier", EdmType::String),
    ("region", EdmType::String),
    ("status", EdmType::String),
    ("created_at", EdmType::DateTimeOffset),
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

fn entity_type(name: &str, properties: &Schema) -> String {
    let mut xml = format!("<EntityType Name=\"{name}\"><Key><PropertyRef Name=\"id\"/></Key>");
    for (property, kind) in properties {
        let facets = match kind {
            EdmType::Decimal => " Precision=\"38\" Scale=\"2\"",
            _ => "",
        };
        let nullable = if *property == "id" {
            " Nullable=\"false\""
        } else {
            ""
        };
        xml.push_str(&format!(
            "<Property Name=\"{property}\" Type=\"{}\"{facets}{nullable}/>",
            kind.name()
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
fn json_value(kind: EdmType, value: &Value) -> String {
    match (kind, value) {
        (EdmType::Decimal, Value::String(text)) => text.clone(),
        _ => value.to_string(),
    }
}

/// Writes a page of entities with `$select`, `$count` and the next link.
fn page(
    call: &Call<'_>,
    set: &str,
    properties: &Schema,
    entities: Vec<Map<String, Value>>,
    options: &Options,
) -> ApiResult<Response> {
    let selected: Vec<&(&str, EdmType)> = match &options.select {
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
                    json_value(*kind, entity.get(*name).unwrap_or(&Value::Null))
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

/// The day range a filter asks for, `[from, to)`: the filter's day bounds, by default
/// the `DEFAULT_DAYS` up to today.
fn day_range(call: &Call<'_>, filter: Option<&Expr>) -> ApiResult<(NaiveDate, NaiveDate)> {
    let today = parse_date(&rfc3339(call.now)[..10]).unwrap_or_default();
    let (from, to) = filter.map_or((None, None), |filter| day_bounds(filter, "day"));
    let to = to.unwrap_or(today + Duration::days(1));
    let from = from.unwrap_or_else(|| {
        to.checked_sub_signed(Duration::days(DEFAULT_DAYS))
            .unwrap_or(NaiveDate::MIN)
    });
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

/// The filter's `program_id`/`partner_id` equalities, which narrow the report query.
fn pushed_down(filter: Option<&Expr>) -> Vec<Filter> {
    let equalities = filter.map(required_equalities).unwrap_or_default();
    equalities
        .into_iter()
        .filter_map(|(property, value)| {
            let dimension = match property.as_str() {
                "program_id" => Dimension::Program,
                "partner_id" => Dimension::Partner,
                _ => return None,
            };
            Some(Filter { dimension, value })
        })
        .collect()
}

/// The entities `$filter` keeps, in `$orderby` order (stable: ties keep their order).
fn refine(
    mut entities: Vec<Map<String, Value>>,
    properties: &Schema,
    options: &Options,
) -> Vec<Map<String, Value>> {
    if let Some(filter) = &options.filter {
        entities.retain(|entity| filter.matches(&entity_row(properties, entity)));
    }
    if !options.orderby.is_empty() {
        entities.sort_by(|a, b| {
            compare(
                &options.orderby,
                &entity_row(properties, a),
                &entity_row(properties, b),
            )
        });
    }
    entities
}

pub async fn daily_kpis(call: &Call<'_>) -> ApiResult<Response> {
    let options = parse_options(&pairs(call), DAILY_KPI_PROPERTIES).map_err(refused)?;
    let (from, to) = day_range(call, options.filter.as_ref())?;
    let query = ReportQuery {
        from,
        to,
        group_by: vec![Dimension::Day, Dimension::Program, Dimension::Partner],
        metrics: DAILY_KPI_PROPERTIES
            .iter()
            .filter_map(|(name, _)| Metric::parse(name))
            .collect(),
        filters: pushed_down(options.filter.as_ref()),
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
    let entities = refine(entities, DAILY_KPI_PROPERTIES, &options);
    page(call, "DailyKpis", DAILY_KPI_PROPERTIES, entities, &options)
}

pub async fn partners(call: &Call<'_>) -> ApiResult<Response> {
    let options = parse_options(&pairs(call), PARTNER_PROPERTIES).map_err(refused)?;
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
        let entity: Map<String, Value> = [
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
        entities.push(entity);
    }
    let entities = refine(entities, PARTNER_PROPERTIES, &options);
    page(call, "Partners", PARTNER_PROPERTIES, entities, &options)
}
