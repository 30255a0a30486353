//! Scheduled reports over storage, the report engine, R2 and the channels.
//!
//! The cron calls [`due`]: for every active schedule whose cadence was due at its local
//! hour (the latest such moment, however late the cron is), it creates the run of that
//! period, which the unique `(schedule, period)` key lets happen once, and queues it on
//! `REPORTS`. The consumer [`consume`] generates the run's file once (kept in R2), then
//! sends its message to each recipient it has not reached, recording every attempt; a
//! failed delivery is retried with backoff (doubling from `OUTBOUND_RETRY_BASE_SECONDS`)
//! up to `MAX_ATTEMPTS`, and the run ends `delivered`, `partly_delivered` or `failed`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use worker::QueueRetryOptionsBuilder;
use worker::{D1Database, Env, Message as QueueMessage, MessageBatch, MessageExt};

use crate::domain::goals::GoalSpec;
use crate::domain::ids::new_id;
use crate::domain::notify::message::Message;
use crate::domain::notify::recipient::Recipient;
use crate::domain::notify::summary::{
    self, Figure, FileInfo, FlagLine, GoalLine, PartnerLine, ReportSummary, FIGURES,
};
use crate::domain::notify::{backoff_seconds, file_signature, seal, FILE_LINK_SECONDS};
use crate::domain::reporting::{Cell, Dimension, Format, Metric, ReportQuery, Table};
use crate::domain::schedules::latest_due;
use crate::domain::schedules::spec::{ReportKind, ScheduleSpec, ScheduleStatus};
use crate::domain::time::{parse_date, rfc3339};
use crate::domain::Invalid;
use crate::notify;
use crate::reporting::{self, ReportError, Reuse};
use crate::storage::schedules::{self, Generated, NewRun, RunRow, ScheduleRow};
use crate::storage::{flags, goals, programs, StorageError, DB_BINDING};

pub const QUEUE_BINDING: &str = "REPORTS";
pub const BUCKET_BINDING: &str = "REPORT_FILES";
const RETRY_BASE_VAR: &str = "OUTBOUND_RETRY_BASE_SECONDS";
const DEFAULT_RETRY_BASE_SECONDS: u32 = 30;
const PUBLIC_BASE_URL_VAR: &str = "PUBLIC_BASE_URL";
/// Generating a run's file is tried this often before the run fails.
const GENERATE_ATTEMPTS: i64 = 5;
const TOP_PARTNERS: usize = 5;
const LISTED_FLAGS: u32 = 5;
const LISTED_GOALS: u32 = 10;

/// Why a run could not go on now.
#[derive(Debug)]
pub enum RunError {
    Storage(StorageError),
    /// The report cannot be made as defined (it will not get better by retrying).
    Invalid(Invalid),
    Other(String),
}

impl From<StorageError> for RunError {
    fn from(error: StorageError) -> Self {
        RunError::Storage(error)
    }
}

impl From<ReportError> for RunError {
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::Invalid(invalid) => RunError::Invalid(invalid),
            ReportError::Storage(storage) => RunError::Storage(storage),
        }
    }
}

impl From<Invalid> for RunError {
    fn from(invalid: Invalid) -> Self {
        RunError::Invalid(invalid)
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Storage(error) => error.fmt(f),
            RunError::Invalid(invalid) => invalid.fmt(f),
            RunError::Other(text) => f.write_str(text),
        }
    }
}

fn master_key(env: &Env) -> Result<String, RunError> {
    env.secret(crate::http::auth::POSTBACK_KEY_SECRET)
        .map(|s| s.to_string())
        .ok()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| RunError::Other("the POSTBACK_SECRET_KEY secret is not set".to_owned()))
}

/// The recipients a schedule's sealed column holds.
pub fn recipients(master: &str, row: &ScheduleRow) -> Result<Vec<Recipient>, RunError> {
    open_recipients(master, &row.id, &row.recipients_sealed)
}

/// The recipients sealed for the row `owner` (a schedule or an alert).
pub fn open_recipients(
    master: &str,
    owner: &str,
    sealed: &str,
) -> Result<Vec<Recipient>, RunError> {
    let plain = seal::open(master, owner, sealed)
        .map_err(|e| RunError::Other(format!("recipients of {owner}: {e}")))?;
    serde_json::from_slice(&plain)
        .map_err(|e| RunError::Other(format!("recipients of {owner}: {e}")))
}

pub fn spec_of(row: &ScheduleRow) -> Result<ScheduleSpec, RunError> {
    serde_json::from_str(&row.spec)
        .map_err(|e| RunError::Other(format!("schedule {}: {e}", row.id)))
}

/// Checks the alerts, creates the runs due at `now`, and queues both, with the unfinished
/// runs and events whose message seems lost. Failures are logged; the next cron tries
/// again.
pub async fn due(env: &Env, db: &D1Database, now: i64) {
    let active = match schedules::active(db).await {
        Ok(active) => active,
        Err(error) => {
            worker::console_error!("report schedules: listing failed: {error}");
            return;
        }
    };
    // Alerts first: a forecast-relative rule reads the forecast of the day that just
    // ended, which tonight's insights job (queued after this) replaces.
    let mut queued: Vec<String> = crate::alerts::check(env, db, now).await;
    for row in &active {
        match create_due_run(db, row, now).await {
            Ok(Some(run_id)) => queued.push(run_id),
            Ok(None) => {}
            Err(error) => worker::console_error!("report schedule {}: {error}", row.id),
        }
    }
    match schedules::stalled(db, now).await {
        Ok(stalled) => {
            for id in stalled {
                if !queued.contains(&id) {
                    queued.push(id);
                }
            }
        }
        Err(error) => worker::console_error!(
            "report runs and alerts: looking for stalled messages failed: {error}"
        ),
    }
    if queued.is_empty() {
        return;
    }
    let queue = match env.queue(QUEUE_BINDING) {
        Ok(queue) => queue,
        Err(error) => {
            worker::console_error!("report runs: no queue: {error}");
            return;
        }
    };
    for chunk in queued.chunks(100) {
        if let Err(error) = queue.send_batch(chunk.to_vec()).await {
            // The runs stay queued; the stalled-run check queues them again.
            worker::console_error!("report runs: queueing failed: {error}");
        }
    }
}

/// The run of the schedule's latest due period, if this call created it.
async fn create_due_run(
    db: &D1Database,
    row: &ScheduleRow,
    now: i64,
) -> Result<Option<String>, RunError> {
    let spec = spec_of(row)?;
    if spec.status != ScheduleStatus::Active {
        return Ok(None);
    }
    let Some(due) = latest_due(spec.cadence_value()?, spec.hour, spec.tz()?, now) else {
        return Ok(None);
    };
    // A schedule starts with its first due moment after it was made or last changed (a
    // new hour, or a resume, does not send a period that was due before).
    if due.at_ms < row.updated_at {
        return Ok(None);
    }
    let (from, to) = spec.range()?.of(due.local_day);
    let id = new_id("rrn");
    let period_key = due.local_day.to_string();
    let created = schedules::create_run(
        db,
        &NewRun {
            id: &id,
            schedule_id: &row.id,
            period_key: &period_key,
            due_at: due.at_ms,
            range_from: &from.to_string(),
            range_to: &to.to_string(),
            now,
        },
    )
    .await?;
    Ok(created.then_some(id))
}

fn retry_base(env: &Env) -> u32 {
    env.var(RETRY_BASE_VAR)
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(DEFAULT_RETRY_BASE_SECONDS)
}

/// What becomes of a run's queue message.
enum Next {
    Done,
    RetryIn(u32),
}

/// The run queue's consumer. Never fails the batch: a message whose run cannot go on
/// now is retried.
pub async fn consume(batch: MessageBatch<String>, env: &Env) {
    let db = match env.d1(DB_BINDING) {
        Ok(db) => db,
        Err(error) => {
            worker::console_error!("report runs: no database: {error}");
            batch.retry_all();
            return;
        }
    };
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(error) => {
            worker::console_error!("report runs: reading the batch failed: {error}");
            batch.retry_all();
            return;
        }
    };
    for message in &messages {
        let now = worker::Date::now().as_millis() as i64;
        handle(env, &db, message, now).await;
    }
}

async fn handle(env: &Env, db: &D1Database, message: &QueueMessage<String>, now: i64) {
    match advance(env, db, message.body(), now).await {
        Ok(Next::Done) => message.ack(),
        Ok(Next::RetryIn(seconds)) => message.retry_with_options(
            &QueueRetryOptionsBuilder::new()
                .with_delay_seconds(seconds.max(1))
                .build(),
        ),
        Err(error) => {
            worker::console_error!("report run {} failed for now: {error}", message.body());
            message.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(retry_base(env))
                    .build(),
            );
        }
    }
}

/// Takes a run as far as it can go now.
async fn advance(env: &Env, db: &D1Database, run_id: &str, now: i64) -> Result<Next, RunError> {
    if run_id.starts_with(crate::alerts::EVENT_PREFIX) {
        let master = master_key(env)?;
        return Ok(
            match crate::alerts::advance(env, db, &master, run_id, now, retry_base(env)).await? {
                Some(seconds) => Next::RetryIn(seconds),
                None => Next::Done,
            },
        );
    }
    let Some(run) = schedules::run(db, run_id).await? else {
        return Ok(Next::Done);
    };
    if !matches!(run.status.as_str(), "queued" | "sending") {
        return Ok(Next::Done);
    }
    let Some(schedule) = schedules::get(db, &run.schedule_id).await? else {
        schedules::finish(db, &run.id, "failed", now, Some("the schedule was deleted")).await?;
        return Ok(Next::Done);
    };
    let master = master_key(env)?;
    let to = recipients(&master, &schedule)?;
    let run = if run.status == "queued" {
        match generate(env, db, &master, &schedule, &run, &to, now).await {
            Ok(()) => schedules::run(db, run_id).await?.unwrap_or(run),
            Err(RunError::Storage(error)) if run.attempts + 1 < GENERATE_ATTEMPTS => {
                schedules::attempted(db, &run.id, &error.to_string()).await?;
                let attempts = u32::try_from(run.attempts + 1).unwrap_or(u32::MAX);
                return Ok(Next::RetryIn(backoff_seconds(retry_base(env), attempts)));
            }
            Err(error) => {
                schedules::attempted(db, &run.id, &error.to_string()).await?;
                schedules::finish(db, &run.id, "failed", now, Some(&error.to_string())).await?;
                return Ok(Next::Done);
            }
        }
    } else {
        run
    };
    deliver(env, db, &run, &to, now).await
}

/// `Daily KPIs` → `daily-kpis-2026-12-02.csv`.
fn file_name(name: &str, from: NaiveDate, to: NaiveDate, format: Format) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "report" } else { slug };
    let last = to.pred_opt().unwrap_or(to);
    let period = if last <= from {
        from.to_string()
    } else {
        format!("{from}-to-{last}")
    };
    format!("{slug}-{period}.{}", format.file_type().0)
}

/// The report table of a run.
async fn table(
    db: &D1Database,
    now: i64,
    spec: &ScheduleSpec,
    q: &ReportQuery,
) -> Result<Table, RunError> {
    Ok(match spec.report {
        ReportKind::Kpis => {
            let rows = reporting::rows(db, now, q, Reuse::Never).await?;
            q.table(&rows)
        }
        ReportKind::Partners => {
            reporting::partners(db, now, q, spec.stage()?, Reuse::Never).await?
        }
    })
}

/// Makes the run's file, keeps it in R2, summarises the period and creates the
/// deliveries, all at most once (the file's key is the run's; `generated` only moves a
/// queued run on).
async fn generate(
    env: &Env,
    db: &D1Database,
    master: &str,
    schedule: &ScheduleRow,
    run: &RunRow,
    to: &[Recipient],
    now: i64,
) -> Result<(), RunError> {
    let spec = spec_of(schedule)?;
    let run_day = parse_date(&run.period_key)
        .ok_or_else(|| RunError::Other(format!("run {} has period {}", run.id, run.period_key)))?;
    let q = spec.query(run_day)?;
    let format = spec.file_format()?;
    let program = match q.filter(Dimension::Program) {
        Some(id) => programs::get(db, id).await?,
        None => None,
    };
    let currency = program.as_ref().map(|p| p.currency.clone());
    let table = table(db, now, &spec, &q).await?;
    let meta = serde_json::json!({
        "from": q.from.to_string(),
        "to": q.to.to_string(),
        "timezone": q.timezone.name(),
        "generated_at": rfc3339(now),
        "columns": table.columns,
        "schedule_id": schedule.id,
        "run_id": run.id,
    });
    let sheet = match spec.report {
        ReportKind::Kpis => "KPIs",
        ReportKind::Partners => "Partners",
    };
    let bytes = format
        .render(&table, sheet, currency.as_deref(), None, meta)
        .map_err(RunError::Other)?;
    let name = file_name(&spec.name, q.from, q.to, format);
    let key = format!("reports/{}/{}/{name}", schedule.id, run.period_key);
    let content_type = format.file_type().1;
    let bucket = env
        .bucket(BUCKET_BINDING)
        .map_err(|e| RunError::Other(format!("no R2 bucket: {e}")))?;
    let metadata = worker::HttpMetadata {
        content_type: Some(content_type.to_owned()),
        content_disposition: Some(format!("attachment; filename=\"{name}\"")),
        ..Default::default()
    };
    bucket
        .put(key.clone(), bytes.clone())
        .http_metadata(metadata)
        .execute()
        .await
        .map_err(|e| RunError::Other(format!("storing the file in R2 failed: {e}")))?;
    let expires = now.div_euclid(1000) + FILE_LINK_SECONDS;
    let base = env
        .var(PUBLIC_BASE_URL_VAR)
        .map(|v| v.to_string())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| schedule.base_url.clone());
    let file = FileInfo {
        name: name.clone(),
        content_type: content_type.to_owned(),
        bytes: bytes.len(),
        url: format!(
            "{}/api/v1/report-files/{}?expires={expires}&signature={}",
            base.trim_end_matches('/'),
            run.id,
            file_signature(master, &run.id, expires)
        ),
        expires_at: rfc3339(expires * 1000),
    };
    let summary = summarise(db, now, &spec, schedule, run, &q, program.as_ref(), file).await?;
    let message = summary::message(&summary);
    let message_json =
        serde_json::to_string(&message).map_err(|e| RunError::Other(e.to_string()))?;
    let addressees = notify::addressees(to);
    schedules::generated(
        db,
        &run.id,
        &Generated {
            file_key: &key,
            file_name: &name,
            content_type,
            file_bytes: bytes.len() as i64,
            row_count: table.rows.len() as i64,
            summary: &message_json,
        },
        &addressees,
        now,
    )
    .await?;
    Ok(())
}

fn figure_query(
    q: &ReportQuery,
    (from, to): (NaiveDate, NaiveDate),
    group_by: Vec<Dimension>,
    metrics: Vec<Metric>,
) -> ReportQuery {
    ReportQuery {
        from,
        to,
        group_by,
        metrics,
        ..q.clone()
    }
}

/// The period's summary: KPIs against the period before, top partners, open flags and
/// goals, in the report's filters' scope.
#[allow(clippy::too_many_arguments)]
async fn summarise(
    db: &D1Database,
    now: i64,
    spec: &ScheduleSpec,
    schedule: &ScheduleRow,
    run: &RunRow,
    q: &ReportQuery,
    program: Option<&programs::ProgramRow>,
    file: FileInfo,
) -> Result<ReportSummary, RunError> {
    let period = (q.from, q.to);
    let previous = spec.range()?.previous(period);
    let metrics: Vec<Metric> = FIGURES
        .iter()
        .filter_map(|(m, _)| Metric::parse(m))
        .collect();
    let totals = |range| figure_query(q, range, Vec::new(), metrics.clone());
    let now_q = totals(period);
    let before_q = totals(previous);
    let now_rows = reporting::rows(db, now, &now_q, Reuse::Never).await?;
    let before_rows = reporting::rows(db, now, &before_q, Reuse::Never).await?;
    let now_table = now_q.table(&now_rows);
    let before_table = before_q.table(&before_rows);
    let cell = |table: &Table, metric: &str| {
        table
            .rows
            .first()
            .and_then(|row| table.cell(row, metric).cloned())
            .unwrap_or(Cell::Null)
    };
    let figures = FIGURES
        .iter()
        .map(|(metric, label)| Figure {
            metric,
            label,
            now: cell(&now_table, metric),
            before: cell(&before_table, metric),
        })
        .collect();
    let partners_q = figure_query(
        q,
        period,
        vec![Dimension::Partner],
        vec![Metric::Sales, Metric::Revenue],
    );
    let partner_rows = reporting::rows(db, now, &partners_q, Reuse::Never).await?;
    let partner_table = partners_q.table(&partner_rows);
    let money = |c: Option<&Cell>| match c {
        Some(Cell::Money(v)) => *v,
        _ => Decimal::ZERO,
    };
    let mut ranked: Vec<&Vec<Cell>> = partner_table
        .rows
        .iter()
        .filter(|row| money(partner_table.cell(row, "revenue")) > Decimal::ZERO)
        .collect();
    ranked.sort_by(|a, b| {
        money(partner_table.cell(b, "revenue")).cmp(&money(partner_table.cell(a, "revenue")))
    });
    let top_partners = ranked
        .into_iter()
        .take(TOP_PARTNERS)
        .map(|row| PartnerLine {
            name: partner_table
                .cell(row, "partner_name")
                .and_then(Cell::as_str)
                .or_else(|| partner_table.cell(row, "partner_id").and_then(Cell::as_str))
                .unwrap_or("(no partner)")
                .to_owned(),
            sales: partner_table
                .cell(row, "sales")
                .cloned()
                .unwrap_or(Cell::Null),
            revenue: partner_table
                .cell(row, "revenue")
                .cloned()
                .unwrap_or(Cell::Null),
        })
        .collect();
    let program_id = program.map(|p| p.id.as_str());
    let open_flags = flags::open_count(db, program_id).await?;
    let listed = flags::list(
        db,
        &flags::FlagFilter {
            program_id,
            acknowledged: Some(false),
            ..flags::FlagFilter::default()
        },
        None,
        LISTED_FLAGS,
    )
    .await?;
    let flag_lines = listed
        .rows
        .into_iter()
        .map(|f| FlagLine {
            partner: f.partner_name.unwrap_or(f.partner_id),
            kind: f.kind,
            since: parse_date(&f.day).unwrap_or(q.from),
        })
        .collect();
    let mut goal_lines = Vec::new();
    let goal_rows = goals::list(db, program_id, None, LISTED_GOALS).await?;
    for row in goal_rows.rows {
        let Ok(goal) = GoalSpec::parse(&row.fields()) else {
            continue;
        };
        let owner = match program {
            Some(p) if p.id == row.program_id => p.clone(),
            _ => match programs::get(db, &row.program_id).await? {
                Some(p) => p,
                None => continue,
            },
        };
        let outcome = crate::insights::goals::standing(db, now, &owner, &goal).await?;
        goal_lines.push(GoalLine {
            name: goal_name(&row),
            status: outcome
                .progress
                .map_or("no_data", |p| p.status.as_str())
                .to_owned(),
        });
    }
    Ok(ReportSummary {
        schedule_id: schedule.id.clone(),
        schedule_name: spec.name.clone(),
        run_id: run.id.clone(),
        period_key: run.period_key.clone(),
        report: spec.report.as_str().to_owned(),
        scope: program.map_or_else(|| "All programs".to_owned(), |p| p.name.clone()),
        timezone: spec.timezone.clone(),
        currency: program.map(|p| p.currency.clone()),
        period,
        previous,
        figures,
        top_partners,
        open_flags: usize::try_from(open_flags).unwrap_or(0),
        flags: flag_lines,
        goals: goal_lines,
        file: Some(file),
    })
}

fn goal_name(row: &goals::GoalRow) -> String {
    let target = row
        .target
        .clone()
        .or_else(|| {
            row.target_change_percent
                .as_ref()
                .map(|p| format!("{p} % change"))
        })
        .unwrap_or_default();
    format!(
        "{} {target} by {}",
        row.metric.replace('_', " "),
        row.deadline
    )
}

/// Sends the run's message (with its file) to every recipient still waiting, and ends
/// the run once none is.
async fn deliver(
    env: &Env,
    db: &D1Database,
    run: &RunRow,
    to: &[Recipient],
    now: i64,
) -> Result<Next, RunError> {
    let message: Message = run
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| RunError::Other(format!("run {} has no summary", run.id)))?;
    let file = match (&run.file_key, &run.file_name, &run.content_type) {
        (Some(key), Some(name), Some(content_type)) => Some(notify::StoredFile {
            bucket: BUCKET_BINDING,
            key,
            name,
            content_type,
        }),
        _ => None,
    };
    match notify::deliver_all(
        env,
        db,
        &run.id,
        &message,
        to,
        file.as_ref(),
        retry_base(env),
        now,
    )
    .await?
    {
        notify::Progress::Waiting(seconds) => Ok(Next::RetryIn(seconds)),
        notify::Progress::Finished(status) => {
            let error = (status != "delivered").then_some("some recipients could not be reached");
            schedules::finish(db, &run.id, status, now, error).await?;
            Ok(Next::Done)
        }
    }
}
