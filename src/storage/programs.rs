//! Programs in D1.

use rust_decimal::Decimal;
use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, page, Arg, Page, Result};
use crate::domain::conversions::promo_code::AttributionPriority;
use crate::domain::cursor::Cursor;
use crate::domain::money::format_money;
use crate::domain::program::{Model, NewProgram, ProgramSettings};

const TABLE: &str = "programs";

fn lifetime_default() -> i64 {
    1
}

fn click_first() -> AttributionPriority {
    AttributionPriority::Click
}

const INSERT: &str = "INSERT INTO programs (id, name, currency, model, attribution_window_days, \
     click_id_param, hold_days, min_payout, timezone, postback_secret_hash, created_at, updated_at, \
     lifetime_attribution, partner_link_domains, hold_flagged, attribution_priority, events_shard) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const SELECT_BY_ID: &str = "SELECT * FROM programs WHERE id = ?";
const UPDATE_SETTINGS: &str =
    "UPDATE programs SET name = ?, model = ?, attribution_window_days = ?, \
     hold_days = ?, min_payout = ?, timezone = ?, lifetime_attribution = ?, \
     partner_link_domains = ?, hold_flagged = ?, attribution_priority = ?, updated_at = ? \
     WHERE id = ?";

#[derive(Debug, Clone, Deserialize)]
pub struct ProgramRow {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub model: Model,
    pub attribution_window_days: i64,
    pub click_id_param: String,
    pub hold_days: i64,
    /// Stored as a decimal string.
    pub min_payout: Decimal,
    pub timezone: String,
    #[serde(default = "lifetime_default")]
    pub lifetime_attribution: i64,
    #[serde(default = "lifetime_default")]
    pub postback_secret_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Stored as a JSON array of host names.
    #[serde(default, deserialize_with = "json_text")]
    pub partner_link_domains: Vec<String>,
    #[serde(default)]
    pub hold_flagged: i64,
    #[serde(default = "click_first")]
    pub attribution_priority: AttributionPriority,
    /// The last local day the nightly insights job evaluated.
    #[serde(default)]
    pub insights_through: Option<String>,
    /// The D1 binding of the event shard holding its raw clicks and impressions.
    #[serde(default = "main_shard")]
    pub events_shard: String,
}

fn main_shard() -> String {
    super::DB_BINDING.to_owned()
}

/// A column holding JSON text, read into its type (a bad one fails the row: corrupt).
fn json_text<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let text = String::deserialize(deserializer)?;
    serde_json::from_str(&text).map_err(serde::de::Error::custom)
}

fn domains_json(domains: &[String]) -> String {
    serde_json::Value::from(domains).to_string()
}

pub async fn insert(
    db: &D1Database,
    id: &str,
    program: &NewProgram,
    postback_secret_hash: &str,
    events_shard: &str,
    now: i64,
) -> Result<()> {
    let s = &program.settings;
    let min_payout = format_money(s.min_payout);
    let domains = domains_json(&s.partner_link_domains);
    execute(
        db,
        INSERT,
        &[
            id.into(),
            s.name.as_str().into(),
            program.currency.as_str().into(),
            s.model.as_str().into(),
            s.attribution_window_days.into(),
            program.click_id_param.as_str().into(),
            s.hold_days.into(),
            min_payout.as_str().into(),
            s.timezone.as_str().into(),
            postback_secret_hash.into(),
            now.into(),
            now.into(),
            s.lifetime_attribution.into(),
            domains.as_str().into(),
            s.hold_flagged.into(),
            s.attribution_priority.as_str().into(),
            events_shard.into(),
        ],
    )
    .await
    .map(drop)
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<ProgramRow>> {
    first(db, SELECT_BY_ID, &[id.into()]).await
}

pub async fn list(db: &D1Database, after: Option<&Cursor>, limit: u32) -> Result<Page<ProgramRow>> {
    page(db, TABLE, "created_at", &[], after, limit).await
}

pub async fn update(db: &D1Database, id: &str, s: &ProgramSettings, now: i64) -> Result<()> {
    let min_payout = format_money(s.min_payout);
    let domains = domains_json(&s.partner_link_domains);
    let args: [Arg<'_>; 12] = [
        s.name.as_str().into(),
        s.model.as_str().into(),
        s.attribution_window_days.into(),
        s.hold_days.into(),
        min_payout.as_str().into(),
        s.timezone.as_str().into(),
        s.lifetime_attribution.into(),
        domains.as_str().into(),
        s.hold_flagged.into(),
        s.attribution_priority.as_str().into(),
        now.into(),
        id.into(),
    ];
    execute(db, UPDATE_SETTINGS, &args).await.map(drop)
}

const BY_SECRET_HASH: &str = "SELECT * FROM programs WHERE postback_secret_hash = ?";

/// The program whose postback secret hashes to `hash`.
pub async fn by_secret_hash(db: &D1Database, hash: &str) -> Result<Option<ProgramRow>> {
    first(db, BY_SECRET_HASH, &[hash.into()]).await
}

const ROTATE_SECRET: &str = "UPDATE programs SET postback_secret_version = ?, \
     postback_secret_hash = ?, updated_at = ? WHERE id = ? AND postback_secret_version = ?";

/// Moves a program to secret version `from + 1` with its hash; false when another
/// rotation got there first.
pub async fn rotate_secret(
    db: &D1Database,
    id: &str,
    from: i64,
    hash: &str,
    now: i64,
) -> Result<bool> {
    let args: [Arg<'_>; 5] = [
        (from + 1).into(),
        hash.into(),
        now.into(),
        id.into(),
        from.into(),
    ];
    Ok(execute(db, ROTATE_SECRET, &args).await? == 1)
}

const INSIGHTS_DONE: &str = "UPDATE programs SET insights_through = ?2 WHERE id = ?1 \
     AND (insights_through IS NULL OR insights_through < ?2)";
const INSIGHTS_QUEUED: &str = "UPDATE programs SET insights_queued_at = ?2 WHERE id = ?1";
/// Programs whose insights job was not queued since `?1` (ms), oldest first.
const INSIGHTS_CANDIDATES: &str = "SELECT * FROM programs WHERE insights_queued_at IS NULL \
     OR insights_queued_at < ?1 ORDER BY created_at, id";

/// Records that the insights job has judged the program through `day`.
pub async fn insights_done(db: &D1Database, id: &str, day: &str) -> Result<()> {
    execute(db, INSIGHTS_DONE, &[id.into(), day.into()])
        .await
        .map(drop)
}

/// Records that the program's insights job was queued at `now`.
pub async fn insights_queued(db: &D1Database, id: &str, now: i64) -> Result<()> {
    execute(db, INSIGHTS_QUEUED, &[id.into(), now.into()])
        .await
        .map(drop)
}

/// Every program whose insights job was not queued since `since` (ms).
pub async fn insights_candidates(db: &D1Database, since: i64) -> Result<Vec<ProgramRow>> {
    Ok(super::statement(db, INSIGHTS_CANDIDATES, &[since.into()])?
        .all()
        .await?
        .results()?)
}

const IDS_NAMED: &str = "SELECT id FROM programs WHERE substr(name, 1, length(?1)) = ?1";

/// The ids of the programs whose names start with `prefix` (the test faults).
pub async fn ids_named(db: &D1Database, prefix: &str) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let rows = super::statement(db, IDS_NAMED, &[prefix.into()])?
        .all()
        .await?
        .results::<Id>()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
