//! Alerts over the report engine, the stored forecasts and flags, and the channels.
//!
//! The cron calls [`check`] after each rollup: a KPI alert judges its program's last
//! finished local day (against a number, or a share of the day's forecast or of an earlier
//! day), once per day (`kpi:<day>`); a flag alert reports the program's new open flags,
//! once each (`flags:<newest flag's creation>`); an at-risk alert names the program's
//! partners whose journey entered `at_risk` on the last whole UTC day (`at_risk:<day>`). During an alert's quiet period a broken
//! KPI rule is recorded as `suppressed` and new flags wait for the period to end. An event
//! that is sent is queued on `REPORTS` (the queue of scheduled reports) and delivered
//! by [`advance`] through `notify`, with the same retries.

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use worker::{D1Database, Env};

use crate::domain::alerts::{
    self, admits, AlertKind, AlertSpec, AlertStatus, Finding, FlagFinding, Raised, Reference,
};
use crate::domain::ids::new_id;
use crate::domain::notify::message::Message;
use crate::domain::notify::recipient::Recipient;
use crate::domain::reporting::{
    day_of_index, local_day, Cell, Dimension, Filter, Metric, ReportQuery,
};
use crate::notify;
use crate::reporting::{self, ReportError, Reuse};
use crate::schedules::RunError;
use crate::storage::alerts::{self as store, AlertRow, NewEvent};
use crate::storage::forecasts::{self, Series};
use crate::storage::programs::{self, ProgramRow};
use crate::storage::schedules as deliveries;
use crate::storage::{flags, journey};

/// An alert event's id starts with this (the reports queue carries runs and events).
pub const EVENT_PREFIX: &str = "alv_";
const DAY_MS: i64 = 86_400_000;

pub fn spec_of(row: &AlertRow) -> Result<AlertSpec, RunError> {
    serde_json::from_str(&row.spec).map_err(|e| RunError::Other(format!("alert {}: {e}", row.id)))
}

pub fn recipients(master: &str, row: &AlertRow) -> Result<Vec<Recipient>, RunError> {
    crate::schedules::open_recipients(master, &row.id, &row.recipients_sealed)
}

/// Checks every active alert; answers the events to queue (the cron queues them with
/// the report runs, and with the events a lost message left unsent). Failures are logged
/// and the next cron checks again.
pub async fn check(env: &Env, db: &D1Database, now: i64) -> Vec<String> {
    let active = match store::active(db).await {
        Ok(active) => active,
        Err(error) => {
            worker::console_error!("alerts: listing failed: {error}");
            return Vec::new();
        }
    };
    let mut queued = Vec::new();
    for row in &active {
        match check_one(env, db, row, now).await {
            Ok(Some(event)) => queued.push(event),
            Ok(None) => {}
            Err(error) => worker::console_error!("alert {}: {error}", row.id),
        }
    }
    queued
}

fn base_url(env: &Env, row: &AlertRow) -> String {
    env.var("PUBLIC_BASE_URL")
        .map(|v| v.to_string())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| row.base_url.clone())
        .trim_end_matches('/')
        .to_owned()
}

async fn check_one(
    env: &Env,
    db: &D1Database,
    row: &AlertRow,
    now: i64,
) -> Result<Option<String>, RunError> {
    let spec = spec_of(row)?;
    if spec.status != AlertStatus::Active {
        return Ok(None);
    }
    let Some(program) = programs::get(db, &spec.program_id).await? else {
        return Ok(None);
    };
    let tz: Tz = program.timezone.parse().unwrap_or(chrono_tz::UTC);
    let quiet = alerts::quiet(row.last_sent_at, spec.quiet_hours, now);
    let (key, finding, flags_through) = match spec.kind {
        AlertKind::Kpi => {
            let Some(day) = local_day(tz, now).and_then(|d| d.checked_sub_days(Days::new(1)))
            else {
                return Ok(None);
            };
            let key = format!("kpi:{day}");
            if store::has_event(db, &row.id, &key).await? {
                return Ok(None);
            }
            let Some(finding) = judge(db, now, &spec, &program, tz, day).await? else {
                return Ok(None);
            };
            (key, finding, None)
        }
        AlertKind::PartnerAtRisk => {
            // The journey's last whole UTC day.
            let index = now.div_euclid(DAY_MS) - 1;
            let day = day_of_index(index);
            let key = format!("at_risk:{day}");
            if store::has_event(db, &row.id, &key).await? {
                return Ok(None);
            }
            let partners = journey::entered_at_risk(db, &program.id, index).await?;
            if partners.is_empty() {
                return Ok(None);
            }
            (key, Finding::AtRisk { day, partners }, None)
        }
        AlertKind::NewFlag => {
            if quiet {
                // New flags wait for the quiet period to end, and go out together then.
                return Ok(None);
            }
            let since = row.flags_through.unwrap_or(row.created_at);
            let new = flags::new_since(db, &program.id, since).await?;
            let Some(newest) = new.iter().map(|f| f.created_at).max() else {
                return Ok(None);
            };
            let shown: Vec<FlagFinding> = new
                .into_iter()
                .filter(|f| spec.min_severity.is_none_or(|min| admits(min, &f.severity)))
                .map(|f| FlagFinding {
                    partner: f.partner_name.unwrap_or(f.partner_id),
                    kind: f.kind,
                    severity: f.severity,
                    day: f.day,
                })
                .collect();
            if shown.is_empty() {
                // Nothing severe enough: move past them.
                store::sent(db, &row.id, row.last_sent_at.unwrap_or(0), Some(newest)).await?;
                return Ok(None);
            }
            (
                format!("flags:{newest}"),
                Finding::Flags(shown),
                Some(newest),
            )
        }
    };
    let id = new_id("alv");
    let raised = Raised {
        alert_id: &row.id,
        event_id: &id,
        program: &program.name,
        currency: &program.currency,
        timezone: &program.timezone,
        dashboard_url: format!(
            "{}/?program={}&view=reports",
            base_url(env, row),
            program.id
        ),
    };
    let message = alerts::message(&spec, &raised, &finding);
    let message_json =
        serde_json::to_string(&message).map_err(|e| RunError::Other(e.to_string()))?;
    let status = if quiet { "suppressed" } else { "sending" };
    let created = store::create_event(
        db,
        &NewEvent {
            id: &id,
            alert_id: &row.id,
            key: &key,
            status,
            message: &message_json,
            now,
        },
    )
    .await?;
    if !created || quiet {
        return Ok(None);
    }
    store::sent(db, &row.id, now, flags_through).await?;
    Ok(Some(id))
}

async fn kpi(
    db: &D1Database,
    now: i64,
    program: &ProgramRow,
    tz: Tz,
    metric: Metric,
    day: NaiveDate,
) -> Result<Cell, ReportError> {
    let q = ReportQuery {
        from: day,
        to: day + Days::new(1),
        group_by: Vec::new(),
        metrics: vec![metric],
        filters: vec![Filter {
            dimension: Dimension::Program,
            value: program.id.clone(),
        }],
        timezone: tz,
    };
    let rows = reporting::rows(db, now, &q, Reuse::Never).await?;
    let table = q.table(&rows);
    Ok(table
        .rows
        .first()
        .and_then(|row| table.cell(row, metric.name()).cloned())
        .unwrap_or(Cell::Null))
}

fn number(cell: &Cell) -> Option<Decimal> {
    match cell {
        Cell::Count(n) => Some(Decimal::from(*n)),
        Cell::Money(v) | Cell::Ratio(v) | Cell::Number(v) => Some(*v),
        _ => None,
    }
}

/// The KPI of `day` against the rule: the finding when it breaks it.
async fn judge(
    db: &D1Database,
    now: i64,
    spec: &AlertSpec,
    program: &ProgramRow,
    tz: Tz,
    day: NaiveDate,
) -> Result<Option<Finding>, RunError> {
    let Some(metric) = spec.metric.as_deref().and_then(Metric::parse) else {
        return Ok(None);
    };
    let value = kpi(db, now, program, tz, metric, day).await?;
    let reference = match spec.relative_to {
        None => None,
        Some(Reference::PreviousDay) => {
            number(&kpi(db, now, program, tz, metric, day - Days::new(1)).await?)
        }
        Some(Reference::SameDayLastWeek) => {
            number(&kpi(db, now, program, tz, metric, day - Days::new(7)).await?)
        }
        Some(r) => {
            let series = Series {
                program_id: &program.id,
                partner_id: "",
                metric: metric.name(),
            };
            let day_text = day.to_string();
            let forecast = forecasts::days(db, series, &day_text, &day_text).await?;
            forecast.first().and_then(|f| {
                Decimal::from_f64(match r {
                    Reference::ForecastLower => f.lower_80,
                    Reference::ForecastUpper => f.upper_80,
                    _ => f.value,
                })
                // As the forecast API shows it: to hundredths.
                .map(|d| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
            })
        }
    };
    Ok(spec
        .breached(number(&value), reference)
        .filter(|(broken, _)| *broken)
        .map(|(_, limit)| Finding::Kpi {
            day,
            value,
            limit,
            reference,
        }))
}

/// Delivers an event's message to the alert's recipients; `None` once finished, else
/// the seconds until the next attempt is due.
pub async fn advance(
    env: &Env,
    db: &D1Database,
    master: &str,
    id: &str,
    now: i64,
    retry_base: u32,
) -> Result<Option<u32>, RunError> {
    let Some(event) = store::event(db, id).await? else {
        return Ok(None);
    };
    if event.status != "sending" {
        return Ok(None);
    }
    let Some(alert) = store::get(db, &event.alert_id).await? else {
        store::finish_event(db, id, "failed", now).await?;
        return Ok(None);
    };
    let to = recipients(master, &alert)?;
    let addressees = notify::addressees(&to);
    deliveries::add_deliveries(db, id, &addressees, now).await?;
    let message: Message = serde_json::from_str(&event.message)
        .map_err(|e| RunError::Other(format!("event {id}: {e}")))?;
    match notify::deliver_all(env, db, id, &message, &to, None, retry_base, now).await? {
        notify::Progress::Waiting(seconds) => Ok(Some(seconds)),
        notify::Progress::Finished(status) => {
            store::finish_event(db, id, status, now).await?;
            Ok(None)
        }
    }
}
