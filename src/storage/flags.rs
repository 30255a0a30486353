//! Flags in D1, and the per-partner facts the nightly job judges: sums over a window of
//! one program's raw clicks (in its event shard) and conversions (timing, visitors, repeat buyers), which the
//! hourly rollups do not keep.

use serde::Deserialize;
use worker::D1Database;

use super::{execute, first, statement, Page, Result};
use crate::domain::cursor::Cursor;

/// Clicks per partner: non-bot and bot clicks, distinct visitors (a visitor hash is one
/// visitor on one UTC day, so over a window this counts visitor-days).
const CLICKS: &str = "SELECT partner_id, SUM(is_bot = 0) AS clicks, SUM(is_bot) AS bot_clicks, \
     COUNT(DISTINCT CASE WHEN is_bot = 0 THEN visitor_hash END) AS unique_visitors \
     FROM clicks WHERE program_id = ?1 AND ts >= ?2 AND ts < ?3 GROUP BY partner_id";
/// The busiest visitor's non-bot clicks per partner.
const TOP_VISITOR: &str = "SELECT partner_id, MAX(n) AS top_visitor_clicks FROM \
     (SELECT partner_id, COUNT(*) AS n FROM clicks WHERE program_id = ?1 AND ts >= ?2 \
     AND ts < ?3 AND is_bot = 0 GROUP BY partner_id, visitor_hash) GROUP BY partner_id";
/// Counted leads and sales per partner: those with a click (and how many came within
/// ?4 ms of it), and sales.
const CONVERSIONS: &str = "SELECT partner_id, SUM(click_ts IS NOT NULL) AS conversions, \
     SUM(click_ts IS NOT NULL AND ts - click_ts < ?4) AS fast_conversions, \
     SUM(event = 'sale') AS sales FROM conversions WHERE program_id = ?1 AND ts >= ?2 \
     AND ts < ?3 AND status != 'rejected' AND event IN ('lead', 'sale') GROUP BY partner_id";
/// Counted sales whose customer had bought in the program within ?4 ms before, under
/// another order id (ties in time: the later id is the repeat).
const REPEATS: &str = "SELECT c.partner_id, COUNT(*) AS repeat_orders FROM conversions c \
     WHERE c.program_id = ?1 AND c.ts >= ?2 AND c.ts < ?3 AND c.event = 'sale' \
     AND c.status != 'rejected' AND c.customer_id IS NOT NULL AND EXISTS (SELECT 1 FROM \
     conversions p WHERE p.program_id = c.program_id AND p.customer_id = c.customer_id \
     AND p.event = 'sale' AND p.status != 'rejected' AND p.ts >= c.ts - ?4 \
     AND (p.ts < c.ts OR (p.ts = c.ts AND p.id < c.id)) AND p.order_id IS NOT c.order_id) \
     GROUP BY c.partner_id";

/// Writes the flags of a JSON array (one bound parameter for many rows); a flag raised
/// again keeps its id, acknowledgement and creation time.
const UPSERT: &str = "INSERT INTO flags (id, program_id, partner_id, day, kind, severity, \
     p_value, q_value, evidence, acknowledged_at, created_at) SELECT \
     json_extract(value, '$.id'), ?1, json_extract(value, '$.partner_id'), ?2, \
     json_extract(value, '$.kind'), json_extract(value, '$.severity'), \
     json_extract(value, '$.p_value'), json_extract(value, '$.q_value'), \
     json_extract(value, '$.evidence'), NULL, ?3 FROM json_each(?4) WHERE true \
     ON CONFLICT (program_id, partner_id, day, kind) DO UPDATE SET severity = excluded.severity, \
     p_value = excluded.p_value, q_value = excluded.q_value, evidence = excluded.evidence";
/// Unacknowledged flags of the program-day that a new evaluation no longer raises.
const CLEAR_STALE: &str = "DELETE FROM flags WHERE program_id = ?1 AND day = ?2 \
     AND acknowledged_at IS NULL AND partner_id || ' ' || kind NOT IN \
     (SELECT json_extract(value, '$.partner_id') || ' ' || json_extract(value, '$.kind') \
     FROM json_each(?3))";
const LIST: &str = "SELECT f.*, p.name AS partner_name FROM flags f \
     LEFT JOIN partners p ON p.id = f.partner_id WHERE (?1 IS NULL OR f.program_id = ?1) \
     AND (?2 IS NULL OR f.partner_id = ?2) AND (?3 IS NULL OR f.kind = ?3) \
     AND (?4 IS NULL OR f.day >= ?4) AND (?5 IS NULL OR f.day < ?5) \
     AND (?6 IS NULL OR (f.acknowledged_at IS NOT NULL) = ?6) \
     AND (?7 IS NULL OR f.created_at < ?7 OR (f.created_at = ?7 AND f.id < ?8)) \
     ORDER BY f.created_at DESC, f.id DESC LIMIT ?9";
/// Partner and kind of every flag of the program on `[?2, ?3)`.
const RECENT: &str = "SELECT partner_id, kind FROM flags WHERE program_id = ?1 AND day >= ?2 \
     AND day < ?3";
const BY_ID: &str = "SELECT f.*, p.name AS partner_name FROM flags f \
     LEFT JOIN partners p ON p.id = f.partner_id WHERE f.id = ?";
const NEW_SINCE: &str = "SELECT f.*, p.name AS partner_name FROM flags f \
     LEFT JOIN partners p ON p.id = f.partner_id WHERE f.program_id = ?1 \
     AND f.created_at > ?2 AND f.acknowledged_at IS NULL ORDER BY f.created_at, f.id LIMIT 200";
const OPEN_COUNT: &str = "SELECT count(*) AS n FROM flags WHERE acknowledged_at IS NULL \
     AND (?1 IS NULL OR program_id = ?1)";
const ACKNOWLEDGE: &str = "UPDATE flags SET acknowledged_at = ?1 WHERE id = ?2";
/// Whether the partner has an unacknowledged flag in the program since the day.
const OPEN_SINCE: &str = "SELECT COUNT(*) AS n FROM flags WHERE program_id = ?1 \
     AND partner_id = ?2 AND day >= ?3 AND acknowledged_at IS NULL";

/// One partner's raw facts over a window, as the queries above sum them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PartnerFacts {
    pub partner_id: String,
    #[serde(default)]
    pub clicks: i64,
    #[serde(default)]
    pub bot_clicks: i64,
    #[serde(default)]
    pub unique_visitors: i64,
    #[serde(default)]
    pub top_visitor_clicks: i64,
    #[serde(default)]
    pub conversions: i64,
    #[serde(default)]
    pub fast_conversions: i64,
    #[serde(default)]
    pub sales: i64,
    #[serde(default)]
    pub repeat_orders: i64,
}

/// Every partner with a click or a counted conversion in `[from, to)` (UTC ms) of the
/// program, with its facts; `fast_ms` and `repeat_ms` are the timing thresholds.
pub async fn facts(
    db: &D1Database,
    events: &D1Database,
    program_id: &str,
    from: i64,
    to: i64,
    fast_ms: i64,
    repeat_ms: i64,
) -> Result<Vec<PartnerFacts>> {
    let window = |extra: Option<i64>| {
        let mut args = vec![program_id.into(), from.into(), to.into()];
        if let Some(ms) = extra {
            args.push(ms.into());
        }
        args
    };
    // Clicks from the program's event shard, conversions from the main database.
    let mut results = events
        .batch(vec![
            statement(events, CLICKS, &window(None))?,
            statement(events, TOP_VISITOR, &window(None))?,
        ])
        .await?;
    results.extend(
        db.batch(vec![
            statement(db, CONVERSIONS, &window(Some(fast_ms)))?,
            statement(db, REPEATS, &window(Some(repeat_ms)))?,
        ])
        .await?,
    );
    let mut by_partner: std::collections::BTreeMap<String, PartnerFacts> = Default::default();
    for result in results {
        for row in result.results::<serde_json::Value>()? {
            let Some(partner_id) = row.get("partner_id").and_then(|v| v.as_str()) else {
                continue;
            };
            let entry = by_partner
                .entry(partner_id.to_owned())
                .or_insert_with(|| PartnerFacts {
                    partner_id: partner_id.to_owned(),
                    ..PartnerFacts::default()
                });
            let int = |name: &str| row.get(name).and_then(serde_json::Value::as_i64);
            let fields: [(&str, &mut i64); 8] = [
                ("clicks", &mut entry.clicks),
                ("bot_clicks", &mut entry.bot_clicks),
                ("unique_visitors", &mut entry.unique_visitors),
                ("top_visitor_clicks", &mut entry.top_visitor_clicks),
                ("conversions", &mut entry.conversions),
                ("fast_conversions", &mut entry.fast_conversions),
                ("sales", &mut entry.sales),
                ("repeat_orders", &mut entry.repeat_orders),
            ];
            for (name, slot) in fields {
                if let Some(value) = int(name) {
                    *slot = value;
                }
            }
        }
    }
    Ok(by_partner.into_values().collect())
}

#[derive(Debug, Clone, Deserialize)]
pub struct FlagRow {
    pub id: String,
    pub program_id: String,
    pub partner_id: String,
    pub day: String,
    pub kind: String,
    pub severity: String,
    pub p_value: f64,
    pub q_value: f64,
    /// JSON, as the job wrote it.
    pub evidence: String,
    pub acknowledged_at: Option<i64>,
    pub created_at: i64,
    #[serde(default)]
    pub partner_name: Option<String>,
}

/// Replaces the flags of one program-day: `rows` is a JSON array of objects with `id`,
/// `partner_id`, `kind`, `severity`, `p_value`, `q_value` and `evidence` (a JSON
/// string). Acknowledged flags stay even when no longer raised.
pub async fn replace_day(
    db: &D1Database,
    program_id: &str,
    day: &str,
    rows: &str,
    now: i64,
) -> Result<()> {
    db.batch(vec![
        statement(
            db,
            UPSERT,
            &[program_id.into(), day.into(), now.into(), rows.into()],
        )?,
        statement(
            db,
            CLEAR_STALE,
            &[program_id.into(), day.into(), rows.into()],
        )?,
    ])
    .await?;
    Ok(())
}

/// What a flag list asks for.
#[derive(Debug, Default)]
pub struct FlagFilter<'a> {
    pub program_id: Option<&'a str>,
    pub partner_id: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// `[from, to)` days.
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub acknowledged: Option<bool>,
}

/// Flags, newest first.
pub async fn list(
    db: &D1Database,
    f: &FlagFilter<'_>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<FlagRow>> {
    let rows = statement(
        db,
        LIST,
        &[
            f.program_id.into(),
            f.partner_id.into(),
            f.kind.into(),
            f.from.into(),
            f.to.into(),
            f.acknowledged
                .map_or(super::Arg::Null, |a| super::Arg::Int(i64::from(a))),
            after.map_or(super::Arg::Null, |c| super::Arg::Int(c.at)),
            after.map(|c| c.id.as_str()).into(),
            (limit + 1).into(),
        ],
    )?
    .all()
    .await?
    .results::<FlagRow>()?;
    Ok(Page::from_overfetch(rows, limit))
}

/// `(partner_id, kind)` of the program's flags on the days `[from, to)`.
pub async fn recent(
    db: &D1Database,
    program_id: &str,
    from: &str,
    to: &str,
) -> Result<std::collections::HashSet<(String, String)>> {
    #[derive(Deserialize)]
    struct Raised {
        partner_id: String,
        kind: String,
    }
    let rows: Vec<Raised> = statement(db, RECENT, &[program_id.into(), from.into(), to.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| (r.partner_id, r.kind)).collect())
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<FlagRow>> {
    first(db, BY_ID, &[id.into()]).await
}

/// Marks the flag acknowledged at `at`, or open again with `None`.
pub async fn acknowledge(db: &D1Database, id: &str, at: Option<i64>) -> Result<()> {
    let at = at.map_or(super::Arg::Null, super::Arg::Int);
    execute(db, ACKNOWLEDGE, &[at, id.into()]).await.map(drop)
}

/// Whether the partner has an open (unacknowledged) flag in the program on `since` or
/// later.
pub async fn open_since(
    db: &D1Database,
    program_id: &str,
    partner_id: &str,
    since: &str,
) -> Result<bool> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let count: Option<Count> = first(
        db,
        OPEN_SINCE,
        &[program_id.into(), partner_id.into(), since.into()],
    )
    .await?;
    Ok(count.is_some_and(|c| c.n > 0))
}

/// How many flags are open (unacknowledged), in a program or everywhere.
pub async fn open_count(db: &D1Database, program_id: Option<&str>) -> Result<i64> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    let count: Option<Count> = first(db, OPEN_COUNT, &[program_id.into()]).await?;
    Ok(count.map_or(0, |c| c.n))
}

/// The program's open flags created after `since` (ms), oldest first.
pub async fn new_since(db: &D1Database, program_id: &str, since: i64) -> Result<Vec<FlagRow>> {
    Ok(
        statement(db, NEW_SINCE, &[program_id.into(), since.into()])?
            .all()
            .await?
            .results::<FlagRow>()?,
    )
}
