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

/// Inserts a click unless its id exists. It is unique when it is not a bot and no earlier
/// non-bot click (by `ts`, then id) of the same visitor on the same link that UTC day is
/// stored: an index range probe on `clicks_by_visitor`, whatever the visitor's volume.
const INSERT_CLICK: &str = "INSERT INTO clicks (id, ts, link_id, partner_id, program_id, country, \
     region, city, colo, device, os, browser, referrer_host, sub1, sub2, sub3, sub4, sub5, \
     utm_source, utm_medium, utm_campaign, utm_term, utm_content, visitor_hash, is_bot, \
     variant, material_id, is_unique) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
     ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?27, ?28, \
     CASE WHEN ?25 = 0 AND NOT EXISTS (SELECT 1 FROM clicks WHERE link_id = ?3 \
     AND visitor_hash = ?24 AND is_bot = 0 AND ts >= ?26 AND (ts < ?2 OR (ts = ?2 AND id < ?1))) \
     THEN 1 ELSE 0 END) \
     ON CONFLICT (id) DO NOTHING";

/// When a click arrives out of order and is now the visitor's first of the day, the click
/// that was unique until then (necessarily later) stops being unique. A no-op when the
/// click is not unique, so a redelivery changes nothing.
const DEMOTE_LATER_UNIQUE: &str = "UPDATE clicks SET is_unique = 0 \
     WHERE link_id = ?1 AND visitor_hash = ?2 AND ts >= ?3 AND ts < ?4 AND is_unique = 1 \
     AND id != ?5 AND EXISTS (SELECT 1 FROM clicks WHERE id = ?5 AND is_unique = 1)";

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
    let mut statements = Vec::with_capacity(events.len() * 2 + 2);
    let mut inserts = Vec::with_capacity(events.len());
    let mut days: Vec<i64> = Vec::new();
    for (event, agent) in events {
        let material = event.tracking.material.as_deref().filter(|id| {
            materials.iter().any(|m| {
                m.id == *id
                    && m.program_id == event.program_id
                    && m.link_id.as_ref().is_none_or(|link| *link == event.link_id)
            })
        });
        inserts.push(statements.len());
        statements.extend(statements_for(db, event, agent, material)?);
        let day = utc_day_bounds(event.ts).0;
        if !days.contains(&day) {
            days.push(day);
        }
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

fn statements_for(
    db: &D1Database,
    e: &CapturedEvent,
    agent: &UserAgentInfo,
    material: Option<&str>,
) -> Result<Vec<D1PreparedStatement>> {
    let common: [Arg<'_>; 13] = [
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
    ];
    match e.kind {
        EventKind::Impression => {
            let mut args = Vec::from(common);
            args.extend([
                e.visitor.as_str().into(),
                agent.is_bot.into(),
                material.into(),
            ]);
            Ok(vec![statement(db, INSERT_IMPRESSION, &args)?])
        }
        EventKind::Click => {
            let t = &e.tracking;
            let mut args = Vec::from(common);
            args.extend(t.sub.iter().map(Arg::from));
            args.extend([
                (&t.utm_source).into(),
                (&t.utm_medium).into(),
                (&t.utm_campaign).into(),
                (&t.utm_term).into(),
                (&t.utm_content).into(),
                e.visitor.as_str().into(),
                agent.is_bot.into(),
            ]);
            let (day_start, day_end) = utc_day_bounds(e.ts);
            args.push(day_start.into());
            args.push((&e.variant).into());
            args.push(material.into());
            let mut statements = vec![statement(db, INSERT_CLICK, &args)?];
            if !agent.is_bot {
                statements.push(statement(
                    db,
                    DEMOTE_LATER_UNIQUE,
                    &[
                        e.link_id.as_str().into(),
                        e.visitor.as_str().into(),
                        e.ts.into(),
                        day_end.into(),
                        e.id.as_str().into(),
                    ],
                )?);
            }
            Ok(statements)
        }
    }
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
