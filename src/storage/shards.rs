//! The event shards: the D1 databases that hold programs' raw clicks and impressions,
//! with the archive's counts of them and their rollup marks, one shard per program
//! (`programs.events_shard`, the directory). Everything else lives in the main database,
//! `DB`, which may itself be one of the shards.
//!
//! `EVENT_SHARDS` (wrangler.toml) lists the shard bindings: a new program is placed on
//! one of them by a stable hash of its id (`domain::shards`), and the rollups read them
//! all. Never drop a binding that holds programs from the list.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Deserialize;
use worker::{D1Database, Env};

use super::{statement, Result, DB_BINDING};
use crate::domain::shards::{assign, parse_list};

pub const SHARDS_VAR: &str = "EVENT_SHARDS";

/// The configured event shards, opened.
pub struct Shards {
    list: Vec<(String, D1Database)>,
}

impl Shards {
    pub fn open(env: &Env) -> Result<Self> {
        let raw = env
            .var(SHARDS_VAR)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let mut list = Vec::new();
        for name in parse_list(&raw, DB_BINDING) {
            let db = env.d1(&name)?;
            list.push((name, db));
        }
        Ok(Self { list })
    }

    /// Every shard's database, in the configured order.
    pub fn all(&self) -> impl Iterator<Item = &D1Database> {
        self.list.iter().map(|(_, db)| db)
    }

    pub fn into_databases(self) -> Vec<D1Database> {
        self.list.into_iter().map(|(_, db)| db).collect()
    }

    /// The shard a new program's events go to.
    pub fn assign(&self, program_id: &str) -> &str {
        &self.list[assign(program_id, self.list.len())].0
    }
}

/// The event database of a program whose shard is `shard` (`ProgramRow::events_shard`).
pub fn events_db(env: &Env, shard: &str) -> Result<D1Database> {
    Ok(env.d1(shard)?)
}

thread_local! {
    /// The isolate's bindings, for code without an `Env` at hand (the rollups under every
    /// report); set at every entry point, like the faults.
    static ENV: RefCell<Option<Env>> = const { RefCell::new(None) };
}

/// Remembers the isolate's bindings (once).
pub fn configure(env: &Env) {
    ENV.with_borrow_mut(|known| {
        if known.is_none() {
            *known = Some(env.clone());
        }
    });
}

/// The event shards other than the main database, by binding name (none before
/// [`configure`]).
pub fn others() -> Result<Vec<(String, D1Database)>> {
    let Some(env) = ENV.with_borrow(Clone::clone) else {
        return Ok(Vec::new());
    };
    let shards = Shards::open(&env)?;
    Ok(shards
        .list
        .into_iter()
        .filter(|(name, _)| name != DB_BINDING)
        .collect())
}

thread_local! {
    /// Program id → shard binding: a program's shard never changes, so an isolate reads
    /// each once.
    static SHARD_OF: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// The shard of each of `program_ids` that exists, from the isolate's memory or the
/// directory (one query for all the unknown ones).
pub async fn shards_of(main: &D1Database, program_ids: &[&str]) -> Result<HashMap<String, String>> {
    let mut found = HashMap::new();
    let mut unknown = Vec::new();
    SHARD_OF.with_borrow(|known| {
        for id in program_ids {
            match known.get(*id) {
                Some(shard) => {
                    found.insert((*id).to_owned(), shard.clone());
                }
                None if !unknown.contains(id) => unknown.push(*id),
                None => {}
            }
        }
    });
    if unknown.is_empty() {
        return Ok(found);
    }
    #[derive(Deserialize)]
    struct Row {
        id: String,
        events_shard: String,
    }
    let ids = serde_json::Value::from(unknown).to_string();
    let rows = statement(
        main,
        "SELECT id, events_shard FROM programs WHERE id IN (SELECT value FROM json_each(?1))",
        &[ids.as_str().into()],
    )?
    .all()
    .await?
    .results::<Row>()?;
    SHARD_OF.with_borrow_mut(|known| {
        for row in rows {
            known.insert(row.id.clone(), row.events_shard.clone());
            found.insert(row.id, row.events_shard);
        }
    });
    Ok(found)
}
