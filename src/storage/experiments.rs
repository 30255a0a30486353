//! Experiments in D1, and what their results are computed from: the clicks of a split
//! test's link while it ran, by variant, and the clicks among them that converted; for a
//! commission experiment, its partners' arms and what each did while it ran.

use serde::Deserialize;
use worker::D1Database;

use super::rules::{self, RuleRow};
use super::{equal_filters, execute, first, page, statement, Arg, Page, Result};
use crate::domain::cursor::Cursor;
use crate::domain::experiments::commission::{Candidate, Member, Outcome};
use crate::domain::experiments::results::{ConvertedVisitor, Traffic};

const INSERT: &str = "INSERT INTO experiments (id, kind, name, program_id, link_id, variants, \
     alpha, minimum_detectable_effect, status, created_at, rule, treatment_share, ends_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)";
const BY_ID: &str = "SELECT * FROM experiments WHERE id = ?";
const STOP: &str = "UPDATE experiments SET status = 'stopped', winner = ?, stopped_at = ? \
     WHERE id = ? AND status = 'running'";

#[derive(Debug, Clone, Deserialize)]
pub struct ExperimentRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub program_id: String,
    pub link_id: Option<String>,
    /// JSON: the variants, the control first.
    pub variants: String,
    pub alpha: f64,
    pub minimum_detectable_effect: f64,
    pub status: String,
    pub winner: Option<String>,
    pub created_at: i64,
    pub stopped_at: Option<i64>,
    /// A commission experiment's rule (JSON), the share of partners it goes to, and the
    /// end of its period.
    pub rule: Option<String>,
    pub treatment_share: Option<f64>,
    pub ends_at: Option<i64>,
}

fn insert_args(row: &ExperimentRow) -> [Arg<'_>; 12] {
    [
        row.id.as_str().into(),
        row.kind.as_str().into(),
        row.name.as_str().into(),
        row.program_id.as_str().into(),
        (&row.link_id).into(),
        row.variants.as_str().into(),
        row.alpha.into(),
        row.minimum_detectable_effect.into(),
        row.created_at.into(),
        (&row.rule).into(),
        row.treatment_share.map_or(Arg::Null, Arg::Real),
        row.ends_at.map_or(Arg::Null, Arg::Int),
    ]
}

pub async fn insert(db: &D1Database, row: &ExperimentRow) -> Result<()> {
    execute(db, INSERT, &insert_args(row)).await.map(drop)
}

const INSERT_MEMBERS: &str = "INSERT INTO experiment_partners \
     (experiment_id, partner_id, arm, stratum, prior_revenue_cents) VALUES ";
/// Members per statement (five parameters each, under D1's 100).
const MEMBERS_PER_STATEMENT: usize = 19;

/// Starts a commission experiment: the experiment and every partner's arm in one
/// transaction, so there is never an experiment without its arms.
pub async fn insert_commission(
    db: &D1Database,
    row: &ExperimentRow,
    members: &[Member],
) -> Result<()> {
    let mut batch = vec![statement(db, INSERT, &insert_args(row))?];
    for chunk in members.chunks(MEMBERS_PER_STATEMENT) {
        let sql = format!(
            "{INSERT_MEMBERS}{}",
            vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let args: Vec<Arg<'_>> = chunk
            .iter()
            .flat_map(|m| {
                [
                    row.id.as_str().into(),
                    m.partner_id.as_str().into(),
                    m.arm.as_str().into(),
                    i64::from(m.stratum).into(),
                    m.prior_revenue_cents.into(),
                ]
            })
            .collect();
        batch.push(statement(db, &sql, &args)?);
    }
    db.batch(batch).await?;
    Ok(())
}

/// The partners a commission experiment on `event` may take in: approved, in the program
/// (a live link or promo code), without a partner rule of their own for `event` (a
/// negotiated rate is not the manager's to test); with their revenue in `[from, to)`.
const CANDIDATES: &str = "SELECT p.id AS partner_id, coalesce((\
       SELECT sum(CASE c.event WHEN 'sale' THEN c.amount_cents ELSE -c.amount_cents END) \
       FROM conversions c WHERE c.partner_id = p.id AND c.program_id = ?1 \
         AND c.event IN ('sale', 'refund') AND c.status != 'rejected' \
         AND c.ts >= ?2 AND c.ts < ?3), 0) AS prior_revenue_cents \
     FROM partners p WHERE p.status = 'approved' \
       AND (p.id IN (SELECT partner_id FROM links WHERE program_id = ?1 AND status = 'active') \
         OR p.id IN (SELECT partner_id FROM promo_codes WHERE program_id = ?1 AND retired_at IS NULL)) \
       AND p.id NOT IN (SELECT partner_id FROM commission_rules WHERE program_id = ?1 \
         AND status = 'active' AND event = ?4 AND partner_id IS NOT NULL)";

#[derive(Deserialize)]
struct CandidateRow {
    partner_id: String,
    prior_revenue_cents: i64,
}

pub async fn candidates(
    db: &D1Database,
    program_id: &str,
    event: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Candidate>> {
    let args: [Arg<'_>; 4] = [program_id.into(), from.into(), to.into(), event.into()];
    Ok(statement(db, CANDIDATES, &args)?
        .all()
        .await?
        .results::<CandidateRow>()?
        .into_iter()
        .map(|r| Candidate {
            partner_id: r.partner_id,
            prior_revenue_cents: r.prior_revenue_cents,
        })
        .collect())
}

const MEMBERS: &str = "SELECT partner_id, arm, stratum, prior_revenue_cents \
     FROM experiment_partners WHERE experiment_id = ? ORDER BY stratum, partner_id";

#[derive(Deserialize)]
struct MemberRow {
    partner_id: String,
    arm: String,
    stratum: i64,
    prior_revenue_cents: i64,
}

pub async fn members(db: &D1Database, experiment_id: &str) -> Result<Vec<Member>> {
    Ok(statement(db, MEMBERS, &[experiment_id.into()])?
        .all()
        .await?
        .results::<MemberRow>()?
        .into_iter()
        .map(|r| Member {
            partner_id: r.partner_id,
            arm: r.arm,
            stratum: u32::try_from(r.stratum).unwrap_or(0),
            prior_revenue_cents: r.prior_revenue_cents,
        })
        .collect())
}

/// What each partner of a commission experiment did in `[from, to)`: counted
/// conversions (sales less refunds, every commission); their human clicks come from the
/// program's event shard ([`PARTNER_CLICKS`]).
const PARTNER_OUTCOMES: &str = "SELECT m.partner_id, \
       coalesce(sum(c.event = 'sale'), 0) AS sales, \
       coalesce(sum(CASE c.event WHEN 'sale' THEN c.amount_cents \
         WHEN 'refund' THEN -c.amount_cents ELSE 0 END), 0) AS revenue_cents, \
       coalesce(sum(c.commission_cents), 0) AS commission_cents \
     FROM experiment_partners m LEFT JOIN conversions c ON c.partner_id = m.partner_id \
       AND c.program_id = ?2 AND c.status != 'rejected' AND c.ts >= ?3 AND c.ts < ?4 \
     WHERE m.experiment_id = ?1 GROUP BY m.partner_id";
/// Human clicks per partner of the program in `[?2, ?3)`, for the partners of JSON `?4`.
const PARTNER_CLICKS: &str = "SELECT partner_id, count(*) AS clicks FROM clicks \
     WHERE program_id = ?1 AND is_bot = 0 AND ts >= ?2 AND ts < ?3 \
       AND partner_id IN (SELECT value FROM json_each(?4)) GROUP BY partner_id";

#[derive(Deserialize)]
struct OutcomeRow {
    partner_id: String,
    sales: i64,
    revenue_cents: i64,
    commission_cents: i64,
}

pub async fn partner_outcomes(
    db: &D1Database,
    events: &D1Database,
    experiment: &ExperimentRow,
    to: i64,
) -> Result<Vec<Outcome>> {
    let args: [Arg<'_>; 4] = [
        experiment.id.as_str().into(),
        experiment.program_id.as_str().into(),
        experiment.created_at.into(),
        to.into(),
    ];
    let rows = statement(db, PARTNER_OUTCOMES, &args)?
        .all()
        .await?
        .results::<OutcomeRow>()?;
    #[derive(Deserialize)]
    struct Clicks {
        partner_id: String,
        clicks: i64,
    }
    let partners: Vec<&str> = rows.iter().map(|r| r.partner_id.as_str()).collect();
    let partners = serde_json::Value::from(partners).to_string();
    let clicks: std::collections::HashMap<String, i64> = statement(
        events,
        PARTNER_CLICKS,
        &[
            experiment.program_id.as_str().into(),
            experiment.created_at.into(),
            to.into(),
            partners.as_str().into(),
        ],
    )?
    .all()
    .await?
    .results::<Clicks>()?
    .into_iter()
    .map(|c| (c.partner_id, c.clicks))
    .collect();
    Ok(rows
        .into_iter()
        .map(|r| Outcome {
            clicks: clicks.get(&r.partner_id).copied().unwrap_or(0).max(0) as u64,
            partner_id: r.partner_id,
            sales: r.sales.max(0) as u64,
            revenue_cents: r.revenue_cents,
            commission_cents: r.commission_cents,
        })
        .collect())
}

/// The commission experiment a conversion of `partner_id` in `program_id` at `ts` falls
/// in: running, its period holding `ts`.
const ARM_OF: &str = "SELECT e.id AS experiment_id, m.arm, e.rule, e.created_at \
     FROM experiment_partners m JOIN experiments e ON e.id = m.experiment_id \
     WHERE m.partner_id = ?1 AND e.program_id = ?2 AND e.kind = 'commission' \
       AND e.status = 'running' AND e.created_at <= ?3 AND ?3 < e.ends_at";

#[derive(Debug, Clone, Deserialize)]
pub struct ArmOf {
    pub experiment_id: String,
    pub arm: String,
    /// JSON: the experiment's rule.
    pub rule: Option<String>,
    pub created_at: i64,
}

pub async fn arm_of(
    db: &D1Database,
    program_id: &str,
    partner_id: &str,
    ts: i64,
) -> Result<Option<ArmOf>> {
    first(
        db,
        ARM_OF,
        &[partner_id.into(), program_id.into(), ts.into()],
    )
    .await
}

pub async fn get(db: &D1Database, id: &str) -> Result<Option<ExperimentRow>> {
    first(db, BY_ID, &[id.into()]).await
}

/// Stops a running experiment; answers whether it was running.
pub async fn stop(db: &D1Database, id: &str, winner: Option<&str>, now: i64) -> Result<bool> {
    Ok(execute(db, STOP, &[winner.into(), now.into(), id.into()]).await? == 1)
}

/// Stops a running commission experiment and, in the same transaction, adds the rule its
/// winning treatment makes the program's; answers whether it was running.
pub async fn stop_with_rule(
    db: &D1Database,
    id: &str,
    winner: Option<&str>,
    now: i64,
    rule: Option<&RuleRow>,
) -> Result<bool> {
    let mut batch = vec![statement(
        db,
        STOP,
        &[winner.into(), now.into(), id.into()],
    )?];
    if let Some(rule) = rule {
        batch.push(rules::insert_statement(db, rule)?);
    }
    let results = db.batch(batch).await?;
    let stopped = results
        .first()
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0);
    Ok(stopped == 1)
}

pub async fn list(
    db: &D1Database,
    program_id: Option<&str>,
    link_id: Option<&str>,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<Page<ExperimentRow>> {
    let filters = equal_filters(&[("program_id", program_id), ("link_id", link_id)]);
    page(db, "experiments", "created_at", &filters, after, limit).await
}

/// Human clicks of a link in `[from, to)`, by variant, and its visitors: one per visitor
/// hash and UTC day (the unit `is_unique` counts).
const CLICKS: &str = "SELECT variant, count(*) AS clicks, \
     count(DISTINCT visitor_hash || ':' || (ts / 86400000)) AS visitors FROM clicks \
     WHERE link_id = ?1 AND variant IS NOT NULL AND is_bot = 0 AND ts >= ?2 AND ts < ?3 \
     GROUP BY variant";
/// The counted sales and refunds of a link's clicks made in `[?2, ?3)`, per click (a
/// refund carries its sale's click, link and click time).
const CONVERTED: &str = "SELECT click_id, \
     sum(event = 'sale') AS sales, \
     sum(CASE event WHEN 'sale' THEN amount_cents WHEN 'refund' THEN -amount_cents ELSE 0 END) \
       AS revenue_cents, \
     sum(commission_cents) AS commission_cents \
     FROM conversions WHERE link_id = ?1 AND click_id IS NOT NULL AND click_ts >= ?2 \
       AND click_ts < ?3 AND status != 'rejected' AND event IN ('sale', 'refund') \
     GROUP BY click_id";
/// Those of the clicks of JSON `?4` that count in a split test: the link's human clicks of
/// `[?2, ?3)` with a variant, with their visitor and UTC day.
const CONVERTED_CLICKS: &str = "SELECT id, variant, visitor_hash, ts / 86400000 AS day \
     FROM clicks WHERE id IN (SELECT value FROM json_each(?4)) AND link_id = ?1 \
       AND variant IS NOT NULL AND is_bot = 0 AND ts >= ?2 AND ts < ?3";

#[derive(Deserialize)]
struct ClicksRow {
    variant: String,
    clicks: i64,
    visitors: i64,
}

#[derive(Deserialize)]
struct ConvertedRow {
    click_id: String,
    sales: i64,
    revenue_cents: i64,
    commission_cents: i64,
}

#[derive(Deserialize)]
struct ConvertedClick {
    id: String,
    variant: String,
    visitor_hash: String,
    day: i64,
}

/// The traffic by variant and the converted visitors of `link_id` in `[from, to)`.
pub async fn outcomes(
    db: &D1Database,
    events: &D1Database,
    link_id: &str,
    from: i64,
    to: i64,
) -> Result<(Vec<Traffic>, Vec<ConvertedVisitor>)> {
    let args: [Arg<'_>; 3] = [link_id.into(), from.into(), to.into()];
    let clicks = statement(events, CLICKS, &args)?
        .all()
        .await?
        .results::<ClicksRow>()?
        .into_iter()
        .map(|r| Traffic {
            variant: r.variant,
            clicks: r.clicks.max(0) as u64,
            visitors: r.visitors.max(0) as u64,
        })
        .collect();
    // Conversions are in the main database and clicks in the event shard: the money per
    // click from one, the click's variant, visitor and day from the other, joined here.
    let money: std::collections::HashMap<String, ConvertedRow> = statement(db, CONVERTED, &args)?
        .all()
        .await?
        .results::<ConvertedRow>()?
        .into_iter()
        .map(|r| (r.click_id.clone(), r))
        .collect();
    let ids: Vec<&str> = money.keys().map(String::as_str).collect();
    let ids = serde_json::Value::from(ids).to_string();
    let converted_clicks = statement(
        events,
        CONVERTED_CLICKS,
        &[link_id.into(), from.into(), to.into(), ids.as_str().into()],
    )?
    .all()
    .await?
    .results::<ConvertedClick>()?;
    let mut visitors: std::collections::BTreeMap<(String, String, i64), ConvertedVisitor> =
        std::collections::BTreeMap::new();
    for click in converted_clicks {
        let Some(row) = money.get(&click.id) else {
            continue;
        };
        let visitor = visitors
            .entry((click.variant.clone(), click.visitor_hash, click.day))
            .or_insert_with(|| ConvertedVisitor {
                variant: click.variant,
                sales: 0,
                revenue_cents: 0,
                commission_cents: 0,
            });
        visitor.sales += row.sales.max(0) as u64;
        visitor.revenue_cents += row.revenue_cents;
        visitor.commission_cents += row.commission_cents;
    }
    let converted = visitors.into_values().filter(|v| v.sales > 0).collect();
    Ok((clicks, converted))
}
