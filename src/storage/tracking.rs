//! Clicks and impressions in D1: the queue consumer's writes.
//!
//! A queue batch becomes one D1 batch (one transaction). The event id is the primary
//! key and inserts do nothing on conflict, so a redelivered message never adds a row.
//! Uniqueness (`kpis.md`: a visitor's first non-bot click on a link in a UTC day) is
//! decided in SQL at insert time and corrected when an earlier click arrives late, so it
//! holds whatever order the queue delivers clicks in.

use worker::{D1Database, D1PreparedStatement};

use super::{equal_filters, page, statement, Arg, Page, Result};
use crate::domain::cursor::Cursor;
use crate::domain::time::utc_day_bounds;
use crate::domain::tracking::click::{CapturedEvent, EventKind};
use crate::domain::tracking::user_agent::UserAgentInfo;

/// Inserts the clicks of JSON array `?1` (one array of [`click_row`]'s 28 values per
/// click) in one statement, each unless its id exists. A click is unique when it is not a
/// bot and no earlier non-bot click (by `ts`, then id) of the same visitor on the same
/// link that UTC day was stored before this statement: an index range probe on
/// `clicks_by_visitor` per click. Clicks of the same batch do not see each other here;
/// [`DEMOTE_LATER_UNIQUE`] settles them.
const INSERT_CLICKS: &str = "INSERT INTO clicks (id, ts, link_id, partner_id, program_id, \
     country, region, city, colo, device, os, browser, referrer_host, sub1, sub2, sub3, sub4, \
     sub5, utm_source, utm_medium, utm_campaign, utm_term, utm_content, visitor_hash, is_bot, \
     variant, material_id, is_unique) \
     SELECT c.id, c.ts, c.link_id, c.partner_id, c.program_id, c.country, c.region, c.city, \
     c.colo, c.device, c.os, c.browser, c.referrer_host, c.sub1, c.sub2, c.sub3, c.sub4, \
     c.sub5, c.utm_source, c.utm_medium, c.utm_campaign, c.utm_term, c.utm_content, \
     c.visitor_hash, c.is_bot, c.variant, c.material_id, \
     CASE WHEN c.is_bot = 0 AND NOT EXISTS (SELECT 1 FROM clicks e \
     WHERE e.link_id = c.link_id AND e.visitor_hash = c.visitor_hash AND e.is_bot = 0 \
     AND e.ts >= c.day_start AND (e.ts < c.ts OR (e.ts = c.ts AND e.id < c.id))) \
     THEN 1 ELSE 0 END \
     FROM (SELECT value ->> 0 AS id, value ->> 1 AS ts, value ->> 2 AS link_id, \
     value ->> 3 AS partner_id, value ->> 4 AS program_id, value ->> 5 AS country, \
     value ->> 6 AS region, value ->> 7 AS city, value ->> 8 AS colo, value ->> 9 AS device, \
     value ->> 10 AS os, value ->> 11 AS browser, value ->> 12 AS referrer_host, \
     value ->> 13 AS sub1, value ->> 14 AS sub2, value ->> 15 AS sub3, value ->> 16 AS sub4, \
     value ->> 17 AS sub5, value ->> 18 AS utm_source, value ->> 19 AS utm_medium, \
     value ->> 20 AS utm_campaign, value ->> 21 AS utm_term, value ->> 22 AS utm_content, \
     value ->> 23 AS visitor_hash, value ->> 24 AS is_bot, value ->> 25 AS variant, \
     value ->> 26 AS material_id, value ->> 27 AS day_start FROM json_each(?1)) c \
     WHERE true ON CONFLICT (id) DO NOTHING";

/// After the batch's inserts: in each (link, visitor, UTC day) of JSON array `?1`
/// (`[link_id, visitor_hash, day_start, day_end]`), a click marked unique that has an
/// earlier non-bot click that day stops being unique. That is `kpis.md`'s definition
/// itself, so it settles clicks of one batch among themselves and a click that arrives
/// late (earlier than the day's unique one); a redelivery changes nothing.
const DEMOTE_LATER_UNIQUE: &str = "UPDATE clicks SET is_unique = 0 WHERE id IN (\
     SELECT k.id FROM json_each(?1) g JOIN clicks k ON k.link_id = g.value ->> 0 \
     AND k.visitor_hash = g.value ->> 1 AND k.ts >= g.value ->> 2 AND k.ts < g.value ->> 3 \
     WHERE k.is_unique = 1 AND EXISTS (SELECT 1 FROM clicks e WHERE e.link_id = k.link_id \
     AND e.visitor_hash = k.visitor_hash AND e.is_bot = 0 AND e.ts >= g.value ->> 2 \
     AND (e.ts < k.ts OR (e.ts = k.ts AND e.id < k.id))))";

const INSERT_IMPRESSION: &str =
    "INSERT INTO impressions (id, ts, link_id, partner_id, program_id, \
     country, region, city, colo, device, os, browser, referrer_host, visitor_hash, is_bot, \
     material_id) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
     ON CONFLICT (id) DO NOTHING";

/// The materials (and their program and link) among the ids of JSON array `?1`.
const MATERIALS: &str = "SELECT id, program_id, link_id FROM materials \
     WHERE id IN (SELECT value FROM json_each(?1))";

/// Writes a batch of captured events, each with its user agent classified, in one
/// transaction of the event shard `db`; answers how many were new (a redelivered or
/// re-imported id is not). An event keeps its material (`m=`) only if the main database
/// `main` holds it for the event's program (and link, when the material names one).
pub async fn write(
    main: &D1Database,
    db: &D1Database,
    events: &[(CapturedEvent, UserAgentInfo)],
    now: i64,
) -> Result<usize> {
    let materials = materials_of(main, events).await?;
    let mut statements = Vec::with_capacity(events.len() + 4);
    let mut inserts = Vec::with_capacity(events.len());
    let mut clicks = Vec::new();
    let mut visitors = Vec::new();
    let mut days: Vec<i64> = Vec::new();
    for (event, agent) in events {
        let material = event.tracking.material.as_deref().filter(|id| {
            materials.iter().any(|m| {
                m.id == *id
                    && m.program_id == event.program_id
                    && m.link_id.as_ref().is_none_or(|link| *link == event.link_id)
            })
        });
        let (day_start, day_end) = utc_day_bounds(event.ts);
        match event.kind {
            EventKind::Impression => {
                inserts.push(statements.len());
                statements.push(impression_statement(db, event, agent, material)?);
            }
            EventKind::Click => {
                clicks.push(click_row(event, agent, material, day_start));
                let visitor = serde_json::json!([event.link_id, event.visitor, day_start, day_end]);
                if !agent.is_bot && !visitors.contains(&visitor) {
                    visitors.push(visitor);
                }
            }
        }
        if !days.contains(&day_start) {
            days.push(day_start);
        }
    }
    if !clicks.is_empty() {
        let rows = serde_json::Value::Array(clicks).to_string();
        inserts.push(statements.len());
        statements.push(statement(db, INSERT_CLICKS, &[rows.as_str().into()])?);
    }
    if !visitors.is_empty() {
        let groups = serde_json::Value::Array(visitors).to_string();
        statements.push(statement(
            db,
            DEMOTE_LATER_UNIQUE,
            &[groups.as_str().into()],
        )?);
    }
    for day in days {
        statements.push(super::rollups::mark_statement(db, day, now)?);
    }
    if statements.is_empty() {
        return Ok(0);
    }
    let results = db.batch(statements).await?;
    Ok(inserts
        .iter()
        .filter_map(|i| results.get(*i))
        .filter_map(|r| r.meta().ok().flatten().and_then(|m| m.changes))
        .sum())
}

#[derive(serde::Deserialize)]
struct Material {
    id: String,
    program_id: String,
    link_id: Option<String>,
}

/// The stored materials the events name (none read when no event names one).
async fn materials_of(
    main: &D1Database,
    events: &[(CapturedEvent, UserAgentInfo)],
) -> Result<Vec<Material>> {
    let mut ids: Vec<&str> = events
        .iter()
        .filter_map(|(e, _)| e.tracking.material.as_deref())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    ids.sort_unstable();
    ids.dedup();
    let list = serde_json::to_string(&ids).unwrap_or_default();
    Ok(statement(main, MATERIALS, &[list.as_str().into()])?
        .all()
        .await?
        .results()?)
}

fn impression_statement(
    db: &D1Database,
    e: &CapturedEvent,
    agent: &UserAgentInfo,
    material: Option<&str>,
) -> Result<D1PreparedStatement> {
    let args: [Arg<'_>; 16] = [
        e.id.as_str().into(),
        e.ts.into(),
        e.link_id.as_str().into(),
        e.partner_id.as_str().into(),
        e.program_id.as_str().into(),
        (&e.country).into(),
        (&e.region).into(),
        (&e.city).into(),
        (&e.colo).into(),
        agent.device.into(),
        agent.os.as_str().into(),
        agent.browser.as_str().into(),
        (&e.referrer_host).into(),
        e.visitor.as_str().into(),
        agent.is_bot.into(),
        material.into(),
    ];
    statement(db, INSERT_IMPRESSION, &args)
}

/// A click as [`INSERT_CLICKS`] reads it: its columns in order, then its UTC day's start.
fn click_row(
    e: &CapturedEvent,
    agent: &UserAgentInfo,
    material: Option<&str>,
    day_start: i64,
) -> serde_json::Value {
    let t = &e.tracking;
    serde_json::json!([
        e.id,
        e.ts,
        e.link_id,
        e.partner_id,
        e.program_id,
        e.country,
        e.region,
        e.city,
        e.colo,
        agent.device,
        agent.os,
        agent.browser,
        e.referrer_host,
        t.sub[0],
        t.sub[1],
        t.sub[2],
        t.sub[3],
        t.sub[4],
        t.utm_source,
        t.utm_medium,
        t.utm_campaign,
        t.utm_term,
        t.utm_content,
        e.visitor,
        i64::from(agent.is_bot),
        e.variant,
        material,
        day_start,
    ])
}

/// A stored click, as the audit log shows it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ClickRow {
    pub id: String,
    pub ts: i64,
    pub link_id: String,
    pub partner_id: String,
    pub program_id: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub colo: Option<String>,
    pub device: String,
    pub os: String,
    pub browser: String,
    pub referrer_host: Option<String>,
    pub sub1: Option<String>,
    pub sub2: Option<String>,
    pub sub3: Option<String>,
    pub sub4: Option<String>,
    pub sub5: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub visitor_hash: String,
    pub is_bot: i64,
    /// Absent on impressions.
    #[serde(default)]
    pub is_unique: Option<i64>,
    /// The split-test variant of a click (absent on impressions).
    #[serde(default)]
    pub variant: Option<String>,
    /// The partner material it came from.
    #[serde(default)]
    pub material_id: Option<String>,
}

/// Which program, partner or link's events to list.
pub struct EventFilter<'a> {
    pub program_id: Option<&'a str>,
    pub partner_id: Option<&'a str>,
    pub link_id: Option<&'a str>,
}

/// Clicks or impressions in event-time order.
pub async fn list(
    db: &D1Database,
    kind: EventKind,
    filter: &EventFilter<'_>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<ClickRow>> {
    let table = match kind {
        EventKind::Click => "clicks",
        EventKind::Impression => "impressions",
    };
    let filters = equal_filters(&[
        ("program_id", filter.program_id),
        ("partner_id", filter.partner_id),
        ("link_id", filter.link_id),
    ]);
    page(db, table, "ts", &filters, after, limit).await
}

const CLICK_BY_ID: &str = "SELECT * FROM clicks WHERE id = ?";

/// The stored click with this id.
pub async fn click(db: &D1Database, id: &str) -> Result<Option<ClickRow>> {
    super::first(db, CLICK_BY_ID, &[id.into()]).await
}
