//! Sends a message to one recipient through its channel: e-mail through the
//! `send_email` binding (locally, `wrangler dev` writes each message and attachment to
//! files), Slack and Teams webhooks, and signed generic webhooks. Used by scheduled
//! reports (and every later notification); what to send is `domain::notify`'s.

use worker::wasm_bindgen::JsValue;
use worker::{
    js_sys, EmailAttachment, Env, Fetch, Headers, Method, Request, RequestInit, SendEmailBuilder,
};

use crate::domain::notify::message::{self, Message, WEBHOOK_SIGNATURE_HEADER};
use crate::domain::notify::recipient::Recipient;

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
