//! The one place that talks to D1 and KV. Every SQL statement and KV key of partnerlens
//! lives under this module; handlers call named operations and never see SQL.

pub mod alerts;
pub mod archive;
pub mod auth_failures;
pub mod bi_keys;
pub mod conversions;
pub mod costs;
pub mod crm;
mod d1;
mod error;
pub mod experiments;
pub mod flags;
pub mod forecasts;
pub mod goals;
pub mod journey;
pub mod links;
pub mod materials;
pub mod outbound;
pub mod partners;
pub mod payouts;
pub mod programs;
pub mod promo_codes;
pub mod reports;
pub mod rollups;
pub mod rules;
pub mod salts;
pub mod schedules;
pub mod sessions;
pub mod shards;
pub mod tracking;

pub(crate) use d1::{equal_filters, execute, first, injected_failure, page, statement};
pub use d1::{is_unique_violation, Arg};
pub use error::{Context, Result, StorageError};

use worker::{D1Database, Env, KvStore};

/// The `source` a conversion counts under in reports, as SQL over a `conversions` row
/// (unqualified names: use it where they are unambiguous): its click's `utm_source`, else
/// its referrer's host, else `direct`; `promo_code` when it came through a code, with no
/// link. A macro so that `concat!` can build query constants with it.
macro_rules! conversion_source_sql {
    () => {
        "CASE WHEN link_id = '' THEN 'promo_code' \
         ELSE coalesce(utm_source, referrer_host, 'direct') END"
    };
}
pub(crate) use conversion_source_sql;

pub const DB_BINDING: &str = "DB";
pub const KV_BINDING: &str = "LINKS";

/// The bindings a request needs, opened once.
pub struct Store {
    pub db: D1Database,
    pub kv: KvStore,
}

impl Store {
    pub fn open(env: &Env) -> Result<Self> {
        Ok(Self {
            db: env.d1(DB_BINDING)?,
            kv: env.kv(KV_BINDING)?,
        })
    }
}

/// A page of rows and whether more follow.
pub struct Page<T> {
    pub rows: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows.
    fn from_overfetch(mut rows: Vec<T>, limit: u32) -> Self {
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Self { rows, has_more }
    }
}
