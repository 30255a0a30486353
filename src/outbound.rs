//! Outbound postbacks: approved conversions told to the partner's own tracker.
//!
//! Whenever conversions may have been approved (a postback, a CRM webhook, an admin
//! change, the cron), `dispatch` creates the deliveries due and queues the ones it claims
//! on `DELIVERIES`. The consumer `deliver` fetches each rendered URL; a failure is
//! retried with exponential backoff up to `MAX_ATTEMPTS`, and every attempt is logged in
//! `postback_deliveries`, readable at `/api/v1/postback-deliveries`.

use worker::{
    D1Database, Env, Fetch, Message, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Url,
};

use crate::domain::conversions::outbound::{backoff_seconds, render, MAX_ATTEMPTS};
use crate::domain::money::{format_money, from_cents};
use crate::storage::conversions::{self, ConversionRow};
use crate::storage::outbound::{self, Attempt};
use crate::storage::{StorageError, DB_BINDING};

pub const DELIVERIES_QUEUE: &str = "DELIVERIES";
/// Conversions changed this long ago or later are looked at by a dispatch.
const LOOKBACK_MS: i64 = 2 * 86_400_000;
const RETRY_BASE_VAR: &str = "OUTBOUND_RETRY_BASE_SECONDS";
const DEFAULT_RETRY_BASE_SECONDS: u32 = 30;

/// Why a delivery could not be handled now (it is retried).
#[derive(Debug)]
pub enum OutboundError {
    Storage(StorageError),
    Queue(worker::Error),
}

impl From<StorageError> for OutboundError {
    fn from(error: StorageError) -> Self {
        OutboundError::Storage(error)
    }
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboundError::Storage(error) => error.fmt(f),
            OutboundError::Queue(error) => write!(f, "the deliveries queue failed: {error}"),
        }
    }
}

/// Creates and queues the deliveries due. Failures are logged: the next dispatch (at the
/// latest the cron's) picks up what this one could not queue.
pub async fn dispatch(env: &Env, db: &D1Database, now: i64) {
    if let Err(error) = queue_due(env, db, now).await {
        worker::console_error!("dispatching outbound deliveries failed: {error}");
    }
}

async fn queue_due(env: &Env, db: &D1Database, now: i64) -> Result<(), OutboundError> {
    let ids = outbound::claim_due(db, now - LOOKBACK_MS, now).await?;
    if ids.is_empty() {
        return Ok(());
    }
    let queue = env.queue(DELIVERIES_QUEUE).map_err(OutboundError::Queue)?;
    for chunk in ids.chunks(100) {
        queue
            .send_batch(chunk.to_vec())
            .await
            .map_err(OutboundError::Queue)?;
    }
    Ok(())
}

fn retry_base(env: &Env) -> u32 {
    env.var(RETRY_BASE_VAR)
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(DEFAULT_RETRY_BASE_SECONDS)
}

fn url_for(template: &str, c: &ConversionRow) -> String {
    render(template, |name| match name {
        "click_id" => c.click_id.clone(),
        "conversion_id" => Some(c.id.clone()),
        "event" => Some(c.event.clone()),
        "order_id" => c.order_id.clone(),
        "amount" => Some(format_money(from_cents(c.amount_cents))),
        "commission" => Some(format_money(from_cents(c.commission_cents))),
        "currency" => Some(c.currency.clone()),
        "sub1" => c.sub1.clone(),
        "sub2" => c.sub2.clone(),
        "sub3" => c.sub3.clone(),
        "sub4" => c.sub4.clone(),
        "sub5" => c.sub5.clone(),
        _ => None,
    })
}

/// Sends one delivery; answers the HTTP status, or the error.
async fn attempt(url: &str) -> Result<u16, String> {
    let parsed = Url::parse(url).map_err(|e| e.to_string())?;
    match Fetch::Url(parsed).send().await {
        Ok(response) => Ok(response.status_code()),
        Err(error) => Err(error.to_string()),
    }
}

async fn deliver_one(
    env: &Env,
    db: &D1Database,
    message: &Message<String>,
    now: i64,
) -> Result<(), OutboundError> {
    let Some(delivery) = outbound::delivery(db, message.body()).await? else {
        message.ack();
        return Ok(());
    };
    if delivery.state != "queued" {
        message.ack();
        return Ok(());
    }
    let (Some(conversion), Some(endpoint)) = (
        conversions::get(db, &delivery.conversion_id).await?,
        outbound::endpoint(db, &delivery.endpoint_id).await?,
    ) else {
        message.ack();
        return Ok(());
    };
    let url = url_for(&endpoint.url_template, &conversion);
    let result = attempt(&url).await;
    let attempts = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
    let (state, status, error) = match &result {
        Ok(status) if (200..300).contains(status) => ("delivered", Some(*status), None),
        Ok(status) => ("queued", Some(*status), Some(format!("HTTP {status}"))),
        Err(error) => ("queued", None, Some(error.clone())),
    };
    let state = if state == "queued" && attempts >= MAX_ATTEMPTS {
        "failed"
    } else {
        state
    };
    let logged = Attempt {
        state,
        url: &url,
        status,
        error: error.as_deref(),
    };
    outbound::record_attempt(db, &delivery.id, &logged, now).await?;
    if state == "queued" {
        let delay = backoff_seconds(retry_base(env), attempts);
        message.retry_with_options(
            &QueueRetryOptionsBuilder::new()
                .with_delay_seconds(delay)
                .build(),
        );
    } else {
        message.ack();
    }
    Ok(())
}

/// The deliveries queue consumer. Never returns an error (that would abort the instance):
/// a storage failure retries the message.
pub async fn deliver(batch: MessageBatch<String>, env: &Env) {
    let db = match env.d1(DB_BINDING) {
        Ok(db) => db,
        Err(error) => {
            worker::console_error!("deliveries: no database: {error}");
            batch.retry_all();
            return;
        }
    };
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(error) => {
            worker::console_error!("reading the deliveries batch failed: {error}");
            batch.retry_all();
            return;
        }
    };
    for message in &messages {
        let now = worker::Date::now().as_millis() as i64;
        if let Err(error) = deliver_one(env, &db, message, now).await {
            worker::console_error!("delivery {} failed: {error}", message.body());
            message.retry();
        }
    }
}
