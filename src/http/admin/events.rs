//! `/api/v1/clicks` and `/api/v1/impressions`: the raw event log, for audits and
//! for checking what the redirect recorded.

use serde::Serialize;
use worker::Response;

use super::{list as list_response, Call};
use crate::domain::cursor::Cursor;
use crate::domain::time::rfc3339;
use crate::domain::tracking::click::EventKind;
use crate::http::error::ApiResult;
use crate::storage::links;
use crate::storage::shards::{self, Shards};
use crate::storage::tracking::{self, ClickRow, EventFilter};
use crate::storage::{Page, DB_BINDING};

#[derive(Serialize)]
struct EventView {
    id: String,
    ts: String,
    ts_ms: i64,
    link_id: String,
    partner_id: String,
    program_id: String,
    country: Option<String>,
    region: Option<String>,
    city: Option<String>,
    colo: Option<String>,
    device: String,
    os: String,
    browser: String,
    referrer_host: Option<String>,
    #[serde(flatten)]
    tracking: Option<TrackingView>,
    visitor_hash: String,
    is_bot: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_unique: Option<bool>,
    /// The partner material it came from (`m=` on the link or pixel).
    material_id: Option<String>,
}

#[derive(Serialize)]
struct TrackingView {
    sub1: Option<String>,
    sub2: Option<String>,
    sub3: Option<String>,
    sub4: Option<String>,
    sub5: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_term: Option<String>,
    utm_content: Option<String>,
    /// The split-test variant the click was sent to.
    variant: Option<String>,
}

fn view(kind: EventKind, row: ClickRow) -> EventView {
    let tracking = (kind == EventKind::Click).then_some(TrackingView {
        sub1: row.sub1,
        sub2: row.sub2,
        sub3: row.sub3,
        sub4: row.sub4,
        sub5: row.sub5,
        utm_source: row.utm_source,
        utm_medium: row.utm_medium,
        utm_campaign: row.utm_campaign,
        utm_term: row.utm_term,
        utm_content: row.utm_content,
        variant: row.variant,
    });
    EventView {
        id: row.id,
        ts: rfc3339(row.ts),
        ts_ms: row.ts,
        link_id: row.link_id,
        partner_id: row.partner_id,
        program_id: row.program_id,
        country: row.country,
        region: row.region,
        city: row.city,
        colo: row.colo,
        device: row.device,
        os: row.os,
        browser: row.browser,
        referrer_host: row.referrer_host,
        tracking,
        visitor_hash: row.visitor_hash,
        is_bot: row.is_bot == 1,
        is_unique: row.is_unique.map(|unique| unique == 1),
        material_id: row.material_id,
    }
}

pub async fn list(call: &Call<'_>, kind: EventKind) -> ApiResult<Response> {
    let (after, limit) = call.paging()?;
    let program_id = call.param("program_id");
    let partner_id = call.param("partner_id");
    let link_id = call.param("link_id");
    let filter = EventFilter {
        program_id: program_id.as_deref(),
        partner_id: partner_id.as_deref(),
        link_id: link_id.as_deref(),
    };
    // The shards that can hold them: the program's (or the link's program's), else all,
    // merged in event-time order.
    let program = match (&filter.program_id, &filter.link_id) {
        (Some(id), _) => Some((*id).to_owned()),
        (None, Some(link)) => links::get(&call.store.db, link)
            .await?
            .map(|l| l.program_id),
        (None, None) => None,
    };
    let databases = match program {
        Some(id) => {
            let shard = shards::shards_of(&call.store.db, &[id.as_str()])
                .await?
                .remove(&id)
                .unwrap_or_else(|| DB_BINDING.to_owned());
            vec![shards::events_db(call.env, &shard)?]
        }
        None => Shards::open(call.env)?.into_databases(),
    };
    let mut rows = Vec::new();
    let mut has_more = false;
    for db in &databases {
        let page = tracking::list(db, kind, &filter, after.as_ref(), limit).await?;
        has_more |= page.has_more;
        rows.extend(page.rows);
    }
    rows.sort_by(|a: &ClickRow, b: &ClickRow| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
    has_more |= rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let page = Page { rows, has_more };
    let key = |row: &ClickRow| Cursor {
        at: row.ts,
        id: row.id.clone(),
    };
    Ok(list_response(call, page, key, |row| view(kind, row)))
}
