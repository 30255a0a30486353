//! `POST /api/v1/import/clicks`, `/import/impressions` and `/import/conversions`: NDJSON history
//! from another tracker, through the same bot, uniqueness, attribution and commission code
//! as live traffic, idempotent on click ids and order ids. Good lines are kept whatever
//! the bad ones say; the answer lists the bad ones by line number.

use std::collections::HashMap;

use serde::Serialize;
use worker::Response;

use super::Call;
use crate::domain::archive::{archive_id, Kind as ArchiveKind};
use crate::domain::import::{click_line, conversion_line, ImportedClick, LinkRef, MAX_LINES};
use crate::domain::time::utc_day;
use crate::domain::tracking::click::{visitor_hash, CapturedEvent, EventKind};
use crate::domain::tracking::user_agent::{classify, UserAgentInfo};
use crate::http::body;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond;
use crate::recording::{self, RecordError};
use crate::storage::archive as store;
use crate::storage::links::{self, LinkRow};
use crate::storage::shards::{self, Shards};
use crate::storage::{programs, salts, tracking, DB_BINDING};

const DAY_MS: i64 = 86_400_000;

const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Clicks per D1 batch (each is two statements).
const CLICKS_PER_BATCH: usize = 40;

#[derive(Serialize)]
struct Rejected {
    line: usize,
    error: String,
}

#[derive(Serialize, Default)]
struct Answer {
    accepted: usize,
    duplicates: usize,
    rejected: Vec<Rejected>,
}

/// The non-empty lines of the body, numbered from 1.
async fn lines(call: &mut Call<'_>) -> ApiResult<Vec<(usize, String)>> {
    let body = body::bytes(call.req, MAX_BODY_BYTES).await?;
    let text = String::from_utf8(body)
        .map_err(|_| ApiError::bad_request("invalid_body", "the body is not UTF-8 text"))?;
    let lines: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, line.to_owned()))
        .collect();
    if lines.len() > MAX_LINES {
        return Err(ApiError::new(
            413,
            "too_many_lines",
            format!("an import request carries at most {MAX_LINES} lines; split the file"),
        ));
    }
    Ok(lines)
}

async fn link(
    call: &Call<'_>,
    cache: &mut HashMap<LinkRef, Option<LinkRow>>,
    reference: &LinkRef,
) -> ApiResult<Option<LinkRow>> {
    if let Some(found) = cache.get(reference) {
        return Ok(found.clone());
    }
    let found = match reference {
        LinkRef::Code(code) => links::by_code(&call.store.db, code).await?,
        LinkRef::Id(id) => links::get(&call.store.db, id).await?,
    };
    cache.insert(reference.clone(), found.clone());
    Ok(found)
}

async fn captured(
    call: &Call<'_>,
    kind: EventKind,
    click: ImportedClick,
    link: &LinkRow,
    salts_by_day: &mut HashMap<String, String>,
) -> ApiResult<(CapturedEvent, UserAgentInfo)> {
    let day = utc_day(click.ts);
    let salt = match salts_by_day.get(&day) {
        Some(salt) => salt.clone(),
        None => {
            let salt = salts::for_import(&call.store.db, &day).await?;
            salts_by_day.insert(day, salt.clone());
            salt
        }
    };
    let agent = classify(&click.user_agent);
    let event = CapturedEvent {
        variant: None,
        kind,
        id: click.id,
        ts: click.ts,
        link_id: link.id.clone(),
        program_id: link.program_id.clone(),
        partner_id: link.partner_id.clone(),
        country: click.country,
        region: click.region,
        city: click.city,
        colo: None,
        visitor: visitor_hash(&salt, &click.ip, &click.user_agent),
        referrer_host: click.referrer_host,
        user_agent: click.user_agent,
        tracking: click.tracking,
    };
    Ok((event, agent))
}

/// `POST /api/v1/import/clicks`.
pub async fn clicks(call: &mut Call<'_>) -> ApiResult<Response> {
    events(call, EventKind::Click).await
}

/// `POST /api/v1/import/impressions`: the same lines (sub and UTM fields are ignored).
pub async fn impressions(call: &mut Call<'_>) -> ApiResult<Response> {
    events(call, EventKind::Impression).await
}

async fn events(call: &mut Call<'_>, kind: EventKind) -> ApiResult<Response> {
    let lines = lines(call).await?;
    let mut answer = Answer::default();
    let mut links_by_ref = HashMap::new();
    let mut salts_by_day = HashMap::new();
    let mut closed_days: HashMap<String, bool> = HashMap::new();
    let archive_kind = match kind {
        EventKind::Click => ArchiveKind::Clicks,
        EventKind::Impression => ArchiveKind::Impressions,
    };
    let mut events = Vec::new();
    for (number, line) in lines {
        let click = match click_line(&line) {
            Ok(click) => click,
            Err(invalid) => {
                answer.rejected.push(Rejected {
                    line: number,
                    error: format!("{}: {}", invalid.field, invalid.message),
                });
                continue;
            }
        };
        let Some(link) = link(call, &mut links_by_ref, &click.link).await? else {
            answer.rejected.push(Rejected {
                line: number,
                error: "no link has this link_code or link_id".to_owned(),
            });
            continue;
        };
        // An archived day's uniqueness was settled without this event: restore it first.
        let archive = archive_id(&link.program_id, archive_kind, click.ts.div_euclid(DAY_MS));
        let closed = match closed_days.get(&archive) {
            Some(closed) => *closed,
            None => {
                let closed = store::is_closed(&call.store.db, &archive).await?;
                closed_days.insert(archive.clone(), closed);
                closed
            }
        };
        if closed {
            answer.rejected.push(Rejected {
                line: number,
                error: format!(
                    "ts: the day is in the event archive ({archive}); restore it with POST \
                     /api/v1/archives/{archive}/restore before importing into it"
                ),
            });
            continue;
        }
        events.push(captured(call, kind, click, &link, &mut salts_by_day).await?);
    }
    // The same order as live traffic would have come in.
    events.sort_by(|(a, _), (b, _)| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
    // Each program's events into its event shard.
    let ids: Vec<&str> = events.iter().map(|(e, _)| e.program_id.as_str()).collect();
    let shard_of = shards::shards_of(&call.store.db, &ids).await?;
    let mut by_shard: Vec<(String, Vec<(CapturedEvent, UserAgentInfo)>)> = Vec::new();
    for (event, agent) in events {
        let shard = shard_of
            .get(&event.program_id)
            .cloned()
            .unwrap_or_else(|| DB_BINDING.to_owned());
        match by_shard.iter_mut().find(|(s, _)| *s == shard) {
            Some((_, group)) => group.push((event, agent)),
            None => by_shard.push((shard, vec![(event, agent)])),
        }
    }
    for (shard, group) in by_shard {
        let db = shards::events_db(call.env, &shard)?;
        for chunk in group.chunks(CLICKS_PER_BATCH) {
            let inserted = tracking::write(&call.store.db, &db, chunk, call.now).await?;
            answer.accepted += inserted;
            answer.duplicates += chunk.len() - inserted;
        }
    }
    Ok(respond::json(200, &answer))
}

/// The program of a click, from whichever shard holds it.
async fn program_of_click(call: &Call<'_>, click_id: &str) -> ApiResult<Option<String>> {
    for db in Shards::open(call.env)?.all() {
        if let Some(click) = tracking::click(db, click_id).await? {
            return Ok(Some(click.program_id));
        }
    }
    Ok(None)
}

pub async fn conversions(call: &mut Call<'_>) -> ApiResult<Response> {
    let lines = lines(call).await?;
    let mut answer = Answer::default();
    let mut parsed = Vec::new();
    for (number, line) in lines {
        match conversion_line(&line) {
            Ok(conversion) => parsed.push((number, conversion)),
            Err(invalid) => answer.rejected.push(Rejected {
                line: number,
                error: format!("{}: {}", invalid.field, invalid.message),
            }),
        }
    }
    // In event-time order, so volume tiers count sales as they happened.
    parsed.sort_by_key(|(number, c)| (c.postback.ts, *number));
    let mut programs_by_id = HashMap::new();
    for (number, conversion) in parsed {
        let program_id = match (&conversion.program_id, &conversion.postback.click_id) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(click_id)) => program_of_click(call, click_id).await?,
            (None, None) => None,
        };
        let Some(program_id) = program_id else {
            answer.rejected.push(Rejected {
                line: number,
                error: "unknown click, or program_id missing".to_owned(),
            });
            continue;
        };
        if !programs_by_id.contains_key(&program_id) {
            let program = programs::get(&call.store.db, &program_id).await?;
            programs_by_id.insert(program_id.clone(), program);
        }
        let Some(Some(program)) = programs_by_id.get(&program_id) else {
            answer.rejected.push(Rejected {
                line: number,
                error: "no program has this program_id".to_owned(),
            });
            continue;
        };
        let events = shards::events_db(call.env, &program.events_shard)?;
        match recording::record(
            &call.store.db,
            &events,
            program,
            &conversion.postback,
            call.now,
        )
        .await
        {
            Ok(outcome) if outcome.status == "duplicate" => answer.duplicates += 1,
            Ok(_) => answer.accepted += 1,
            Err(RecordError::Invalid(invalid)) => answer.rejected.push(Rejected {
                line: number,
                error: invalid.message,
            }),
            // The lines before are kept; the sender retries the file and they come back
            // as duplicates.
            Err(RecordError::Storage(error)) => return Err(error.into()),
        }
    }
    Ok(respond::json(200, &answer))
}
