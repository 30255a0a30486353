//! Links in D1, and the read-through cache the redirect resolves codes from.
//!
//! A code resolves from, in order: this isolate's memory (30 s), KV (`link:{code}`, read
//! with `cacheTtl`), and D1, which then fills KV off the response path. Every admin
//! change to a link rewrites its KV entry and drops it from this isolate's memory.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::Deserialize;
use worker::{Context, D1Database, Env, KvStore};

use super::{equal_filters, execute, first, page, statement, Page, Result, DB_BINDING, KV_BINDING};
use crate::domain::cursor::Cursor;
use crate::domain::experiments::split::{Split, Variant};
use crate::domain::tracking::link::{Destination, LinkCode, LinkTarget};

const TABLE: &str = "links";

const INSERT: &str = "INSERT INTO links (id, code, program_id, partner_id, destination, status, \
     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const SELECT_BY_ID: &str = "SELECT * FROM links WHERE id = ?";
const UPDATE: &str = "UPDATE links SET destination = ?, status = ?, updated_at = ? WHERE id = ?";
const ACTIVE_TARGET_BY_CODE: &str = "SELECT l.id, l.program_id, l.partner_id, l.destination, \
     p.click_id_param, e.id AS experiment_id, e.variants FROM links l \
     JOIN programs p ON p.id = l.program_id \
     LEFT JOIN experiments e ON e.link_id = l.id AND e.status = 'running' \
     WHERE l.code = ? AND l.status = 'active'";

/// How long this isolate trusts what it resolved.
const MEMORY_TTL_MS: f64 = 30_000.0;
const MEMORY_MAX_ENTRIES: usize = 10_000;
/// How long a KV read may be served from the edge cache of the location.
const KV_CACHE_TTL_S: u64 = 60;
/// How long a KV entry filled by a redirect (rather than by an admin change) lives.
const KV_FILL_TTL_S: u64 = 86_400;
/// KV's value for "no active link has this code".
const ABSENT: &str = "-";

#[derive(Debug, Clone, Deserialize)]
pub struct LinkRow {
    pub id: String,
    pub code: String,
    pub program_id: String,
    pub partner_id: String,
    pub destination: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn insert(db: &D1Database, row: &LinkRow) -> Result<()> {
    execute(
        db,
        INSERT,
        &[
            row.id.as_str().into(),
            row.code.as_str().into(),
            row.program_id.as_str().into(),
            row.partner_id.as_str().into(),
            row.destination.as_str().into(),
            row.status.as_str().into(),
            row.created_at.into(),
            row.updated_at.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<LinkRow>> {
    first(db, SELECT_BY_ID, &[id.into()]).await
}

pub struct LinkFilter<'a> {
    pub program_id: Option<&'a str>,
    pub partner_id: Option<&'a str>,
    pub status: Option<&'a str>,
}

/// The programs a partner has links in.
pub async fn programs_of_partner(db: &D1Database, partner_id: &str) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Program {
        program_id: String,
    }
    // The programs of its links, and of its live promo codes (a blogger may have only a code).
    const SQL: &str = "SELECT program_id FROM links WHERE partner_id = ?1 \
         UNION SELECT program_id FROM promo_codes WHERE partner_id = ?1 AND retired_at IS NULL \
         ORDER BY program_id";
    let rows: Vec<Program> = statement(db, SQL, &[partner_id.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.program_id).collect())
}

pub async fn list(
    db: &D1Database,
    filter: &LinkFilter<'_>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<LinkRow>> {
    let filters = equal_filters(&[
        ("program_id", filter.program_id),
        ("partner_id", filter.partner_id),
        ("status", filter.status),
    ]);
    page(db, TABLE, "created_at", &filters, after, limit).await
}

pub async fn update(db: &D1Database, row: &LinkRow) -> Result<()> {
    execute(
        db,
        UPDATE,
        &[
            row.destination.as_str().into(),
            row.status.as_str().into(),
            row.updated_at.into(),
            row.id.as_str().into(),
        ],
    )
    .await
    .map(drop)
}

#[derive(Deserialize)]
struct TargetRow {
    id: String,
    program_id: String,
    partner_id: String,
    destination: String,
    click_id_param: String,
    experiment_id: Option<String>,
    /// JSON: the running split test's variants.
    variants: Option<String>,
}

/// The active link with `code`, straight from D1.
async fn target_from_db(db: &D1Database, code: &LinkCode) -> Result<Option<LinkTarget>> {
    let row: Option<TargetRow> = first(db, ACTIVE_TARGET_BY_CODE, &[code.as_str().into()]).await?;
    Ok(row.and_then(|row| {
        let destination = Destination::parse(&row.destination).ok()?;
        let split = match (&row.experiment_id, &row.variants) {
            (Some(id), Some(json)) => serde_json::from_str::<Vec<Variant>>(json)
                .ok()
                .and_then(|variants| Split::new(id, &variants, &row.click_id_param)),
            _ => None,
        };
        Some(LinkTarget {
            link_id: row.id,
            program_id: row.program_id,
            partner_id: row.partner_id,
            location: destination.location_template(&row.click_id_param),
            split,
        })
    }))
}

struct Remembered {
    target: Option<Rc<LinkTarget>>,
    expires_at: f64,
}

thread_local! {
    static MEMORY: RefCell<HashMap<String, Remembered>> = RefCell::new(HashMap::new());
}

fn remember(code: &str, target: Option<Rc<LinkTarget>>, now: f64) {
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() >= MEMORY_MAX_ENTRIES {
            memory.clear();
        }
        memory.insert(
            code.to_owned(),
            Remembered {
                target,
                expires_at: now + MEMORY_TTL_MS,
            },
        );
    });
}

fn kv_key(code: &str) -> String {
    format!("link:{code}")
}

fn encode(target: Option<&LinkTarget>) -> String {
    target
        .and_then(|t| serde_json::to_string(t).ok())
        .unwrap_or_else(|| ABSENT.to_owned())
}

/// Resolves `code` to the active link it names, if any. Only a miss in both memory and
/// KV reaches D1; the KV fill then runs after the response.
/// What this isolate remembers of `code` (an active link, or that none is), if it still
/// trusts it: the redirect's answer without any storage round trip.
pub fn remembered(code: &LinkCode, now: f64) -> Option<Option<Rc<LinkTarget>>> {
    MEMORY.with_borrow(|memory| {
        memory
            .get(code.as_str())
            .filter(|entry| entry.expires_at > now)
            .map(|entry| entry.target.clone())
    })
}

pub async fn resolve(
    env: &Env,
    ctx: &Context,
    code: &LinkCode,
    now: f64,
) -> Result<Option<Rc<LinkTarget>>> {
    if let Some(target) = remembered(code, now) {
        return Ok(target);
    }
    let kv = env.kv(KV_BINDING)?;
    let key = kv_key(code.as_str());
    let cached = kv.get(&key).cache_ttl(KV_CACHE_TTL_S).text().await?;
    let target = match cached.as_deref() {
        Some(ABSENT) => None,
        Some(json) => serde_json::from_str::<LinkTarget>(json).ok(),
        None => {
            let target = target_from_db(&env.d1(DB_BINDING)?, code).await?;
            let value = encode(target.as_ref());
            ctx.wait_until(async move {
                if let Ok(put) = kv.put(&key, value) {
                    if let Err(error) = put.expiration_ttl(KV_FILL_TTL_S).execute().await {
                        worker::console_error!("link cache fill failed: {error}");
                    }
                }
            });
            target
        }
    };
    let target = target.map(Rc::new);
    remember(code.as_str(), target.clone(), now);
    Ok(target)
}

/// Publishes the current state of the link with `code` to KV and drops this isolate's
/// copy, so the next redirect sees an update or a disabling.
pub async fn publish(kv: &KvStore, db: &D1Database, code: &LinkCode) -> Result<()> {
    let target = target_from_db(db, code).await?;
    kv.put(&kv_key(code.as_str()), encode(target.as_ref()))?
        .execute()
        .await?;
    MEMORY.with_borrow_mut(|memory| memory.remove(code.as_str()));
    Ok(())
}

const BY_CODE: &str = "SELECT * FROM links WHERE code = ?";

/// The link with `code`, whatever its status.
pub async fn by_code(db: &D1Database, code: &str) -> Result<Option<LinkRow>> {
    first(db, BY_CODE, &[code.into()]).await
}
