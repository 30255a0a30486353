//! Sends a message to its recipients through their channels: e-mail through the
//! `send_email` binding (locally, `wrangler dev` writes each message and attachment to
//! files), Slack and Teams webhooks, and signed generic webhooks, recording every attempt
//! in `notification_deliveries` and retrying failures with backoff. Used by scheduled
//! reports and alerts; what to send is `domain::notify`'s.

use worker::wasm_bindgen::JsValue;
use worker::{
    js_sys, EmailAttachment, Env, Fetch, Headers, Method, Request, RequestInit, SendEmailBuilder,
};

use worker::D1Database;

use crate::domain::notify::message::{self, Message, WEBHOOK_SIGNATURE_HEADER};
use crate::domain::notify::recipient::Recipient;
use crate::domain::notify::{backoff_seconds, MAX_ATTEMPTS};
use crate::storage::schedules::{self as deliveries, Outcome};
use crate::storage::StorageError;

/// A claimed delivery is not claimed again for this long (one attempt's time at most).
const LEASE_MS: i64 = 120_000;
/// Files up to this size travel as e-mail attachments; bigger ones only as a link.
const MAX_ATTACHMENT: usize = 5 * 1024 * 1024;

pub const EMAIL_BINDING: &str = "EMAIL";
const FROM_VAR: &str = "REPORTS_FROM";
const DEFAULT_FROM: &str = "reports@partnerlens.example";

/// A file a message carries (e-mail attaches it; the others link to it).
pub struct Attachment<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Why an attempt failed: the HTTP status when there was one, and a sentence.
pub struct Failure {
    pub status: Option<u16>,
    pub error: String,
}

fn failure(status: Option<u16>, error: impl Into<String>) -> Failure {
    Failure {
        status,
        error: error.into(),
    }
}

/// Sends `m` to `to`; answers the HTTP status of a webhook (200 for an e-mail).
pub async fn send(
    env: &Env,
    to: &Recipient,
    m: &Message,
    delivery_id: &str,
    file: Option<&Attachment<'_>>,
    now: i64,
) -> Result<u16, Failure> {
    match to {
        Recipient::Email { address } => email(env, address, m, file).await.map(|()| 200),
        Recipient::Slack { url } => post(url, &message::slack(m).to_string(), &[]).await,
        Recipient::Teams { url } => post(url, &message::teams(m).to_string(), &[]).await,
        Recipient::Webhook { url, secret } => {
            let (body, signature) = message::webhook(m, delivery_id, secret, now);
            let headers = [
                (WEBHOOK_SIGNATURE_HEADER, signature.as_str()),
                ("x-partnerlens-event", m.event.as_str()),
                ("x-partnerlens-delivery", delivery_id),
            ];
            post(url, &body, &headers).await
        }
    }
}

async fn email(
    env: &Env,
    address: &str,
    m: &Message,
    file: Option<&Attachment<'_>>,
) -> Result<(), Failure> {
    let from = env
        .var(FROM_VAR)
        .map(|v| v.to_string())
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_FROM.to_owned());
    let rendered = message::email(m);
    let attachments: Vec<EmailAttachment> = file
        .map(|f| {
            let content = js_sys::Uint8Array::from(f.bytes);
            vec![EmailAttachment::new_attachment_with_typed_array(
                f.name,
                f.content_type,
                &content,
            )]
        })
        .unwrap_or_default();
    let builder = SendEmailBuilder::builder(&from, address, &rendered.subject)
        .text(&rendered.text)
        .html(&rendered.html)
        .attachments(&attachments)
        .build();
    let binding = env
        .send_email(EMAIL_BINDING)
        .map_err(|e| failure(None, format!("no send_email binding: {e}")))?;
    binding
        .send_with_builder(&builder)
        .await
        .map(drop)
        .map_err(|e| {
            let text = e
                .as_string()
                .or_else(|| e.message().as_string())
                .unwrap_or_else(|| format!("{e:?}"));
            failure(None, format!("e-mail not sent: {text}"))
        })
}

async fn post(url: &str, body: &str, extra: &[(&str, &str)]) -> Result<u16, Failure> {
    let headers = Headers::new();
    let set = |name: &str, value: &str| {
        headers
            .set(name, value)
            .map_err(|e| failure(None, format!("header {name}: {e}")))
    };
    set("content-type", "application/json")?;
    set("user-agent", "partnerlens-notifications/1")?;
    for (name, value) in extra {
        set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(JsValue::from_str(body)));
    let request = Request::new_with_init(url, &init).map_err(|e| failure(None, e.to_string()))?;
    let response = Fetch::Request(request)
        .send()
        .await
        .map_err(|e| failure(None, e.to_string()))?;
    let status = response.status_code();
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(failure(Some(status), format!("HTTP {status}")))
    }
}

/// Who `to` are, as deliveries record them.
pub fn addressees(to: &[Recipient]) -> Vec<deliveries::Addressee> {
    to.iter()
        .map(|r| deliveries::Addressee {
            channel: r.channel().to_owned(),
            target: r.target(),
        })
        .collect()
}

/// A file kept in R2 that a message carries.
pub struct StoredFile<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub name: &'a str,
    pub content_type: &'a str,
}

/// Where the deliveries of a message stand after [`deliver_all`].
pub enum Progress {
    /// Some are waiting for their next attempt, due in this many seconds.
    Waiting(u32),
    /// None is waiting: `delivered`, `partly_delivered` or `failed`.
    Finished(&'static str),
}

async fn load(env: &Env, file: &StoredFile<'_>) -> Option<Vec<u8>> {
    let object = env
        .bucket(file.bucket)
        .ok()?
        .get(file.key)
        .execute()
        .await
        .ok()??;
    object.body()?.bytes().await.ok()
}

/// Sends `m` to every recipient of `subject_id` still waiting whose attempt is due
/// (claiming each first, so no two consumers send it twice), records each attempt, and
/// schedules the failed ones `retry_base` seconds later, doubling, up to
/// [`MAX_ATTEMPTS`]. Recipients are the deliveries' positions in `to`.
#[allow(clippy::too_many_arguments)]
pub async fn deliver_all(
    env: &Env,
    db: &D1Database,
    subject_id: &str,
    m: &Message,
    to: &[Recipient],
    file: Option<&StoredFile<'_>>,
    retry_base: u32,
    now: i64,
) -> Result<Progress, StorageError> {
    let mut bytes: Option<Vec<u8>> = None;
    let mut waiting: Option<i64> = None;
    let mut wait_until = |at: i64| waiting = Some(waiting.map_or(at, |w: i64| w.min(at)));
    for delivery in deliveries::deliveries(db, subject_id).await? {
        if delivery.status != "pending" {
            continue;
        }
        if let Some(at) = delivery.next_attempt_at.filter(|at| *at > now) {
            wait_until(at);
            continue;
        }
        let recipient = usize::try_from(delivery.recipient)
            .ok()
            .and_then(|i| to.get(i))
            .filter(|r| r.channel() == delivery.channel);
        let Some(recipient) = recipient else {
            let outcome = Outcome {
                status: "failed",
                http_status: None,
                error: Some("the recipient was removed"),
                next_attempt_at: None,
            };
            deliveries::record(db, subject_id, delivery.recipient, &outcome, now).await?;
            continue;
        };
        if !deliveries::claim(db, subject_id, delivery.recipient, now, LEASE_MS).await? {
            wait_until(now + LEASE_MS);
            continue;
        }
        if let (Recipient::Email { .. }, Some(file), None) = (recipient, file, &bytes) {
            bytes = load(env, file).await;
        }
        let attachment = match (&bytes, file) {
            (Some(bytes), Some(file)) if bytes.len() <= MAX_ATTACHMENT => Some(Attachment {
                name: file.name,
                content_type: file.content_type,
                bytes,
            }),
            _ => None,
        };
        let delivery_id = format!("{subject_id}:{}", delivery.recipient);
        let result = send(env, recipient, m, &delivery_id, attachment.as_ref(), now).await;
        let attempts = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
        let outcome = match &result {
            Ok(status) => Outcome {
                status: "delivered",
                http_status: Some(*status),
                error: None,
                next_attempt_at: None,
            },
            Err(failure) if attempts >= MAX_ATTEMPTS => Outcome {
                status: "failed",
                http_status: failure.status,
                error: Some(&failure.error),
                next_attempt_at: None,
            },
            Err(failure) => {
                let at = now + i64::from(backoff_seconds(retry_base, attempts)) * 1000;
                wait_until(at);
                Outcome {
                    status: "pending",
                    http_status: failure.status,
                    error: Some(&failure.error),
                    next_attempt_at: Some(at),
                }
            }
        };
        deliveries::record(db, subject_id, delivery.recipient, &outcome, now).await?;
    }
    if let Some(at) = waiting {
        let seconds = ((at - now).max(1000) + 999) / 1000;
        return Ok(Progress::Waiting(u32::try_from(seconds).unwrap_or(3600)));
    }
    let all = deliveries::deliveries(db, subject_id).await?;
    let delivered = all.iter().filter(|d| d.status == "delivered").count();
    Ok(Progress::Finished(if delivered == all.len() {
        "delivered"
    } else if delivered == 0 {
        "failed"
    } else {
        "partly_delivered"
    }))
}
