//! One message, four channels. A scheduled report's summary or an alert becomes a
//! [`Message`] (a title, a line of context, key figures, sections of lines, a link), and
//! each channel renders it its own way: an e-mail (subject, plain text, HTML that reads
//! well on a phone), a Slack incoming-webhook body (`text` + `blocks`), a Teams workflow
//! body (an Adaptive Card in `{"type": "message", "attachments": [...]}`), and a signed
//! generic webhook (the structured data, with an HMAC over the timestamp and body).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::auth::signature::hmac_sha256;
use crate::domain::ids::hex;

/// A link the message carries (the report file, the dashboard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `report.delivered` or `alert.triggered`: the webhook's event type.
    pub event: String,
    pub title: String,
    pub context: String,
    /// Key figures: label and value (with its change), in order.
    pub facts: Vec<(String, String)>,
    pub sections: Vec<Section>,
    pub links: Vec<Link>,
    /// The same content as data, for the generic webhook.
    pub data: Value,
}

/// The plain-text one-liner Slack shows in notifications and Teams in previews.
pub fn headline(m: &Message) -> String {
    let figures: Vec<String> = m
        .facts
        .iter()
        .take(3)
        .map(|(label, value)| format!("{label} {value}"))
        .collect();
    if figures.is_empty() {
        m.title.clone()
    } else {
        format!("{}: {}", m.title, figures.join(" · "))
    }
}

pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn escape_html(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn email(m: &Message) -> Email {
    let mut text = format!("{}\n{}\n\n", m.title, m.context);
    for (label, value) in &m.facts {
        text.push_str(&format!("{label}: {value}\n"));
    }
    for section in &m.sections {
        text.push_str(&format!("\n{}\n", section.heading));
        for line in &section.lines {
            text.push_str(&format!("- {line}\n"));
        }
    }
    for link in &m.links {
        text.push_str(&format!("\n{}: {}\n", link.label, link.url));
    }
    let cell = "padding:6px 8px;border-bottom:1px solid #e5e7eb";
    let facts: String = m
        .facts
        .iter()
        .map(|(label, value)| {
            format!(
                "<tr><td style=\"{cell};color:#4b5563\">{}</td>\
                 <td style=\"{cell};text-align:right;font-weight:600\">{}</td></tr>",
                escape_html(label),
                escape_html(value)
            )
        })
        .collect();
    let sections: String = m
        .sections
        .iter()
        .map(|s| {
            let lines: String = s
                .lines
                .iter()
                .map(|l| format!("<li style=\"margin:2px 0\">{}</li>", escape_html(l)))
                .collect();
            format!(
                "<h3 style=\"font-size:15px;margin:18px 0 6px\">{}</h3>\
                 <ul style=\"padding-left:18px;margin:0\">{lines}</ul>",
                escape_html(&s.heading)
            )
        })
        .collect();
    let links: String = m
        .links
        .iter()
        .map(|l| {
            format!(
                "<p style=\"margin:16px 0 0\"><a href=\"{}\" style=\"color:#2563eb\">{}</a></p>",
                escape_html(&l.url),
                escape_html(&l.label)
            )
        })
        .collect();
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"></head>\
         <body style=\"margin:0;padding:16px;font-family:-apple-system,Segoe UI,Roboto,sans-serif;\
         font-size:14px;color:#111827;max-width:560px\">\
         <h2 style=\"font-size:18px;margin:0 0 4px\">{}</h2>\
         <p style=\"margin:0 0 12px;color:#6b7280\">{}</p>\
         <table style=\"border-collapse:collapse;width:100%\">{facts}</table>{sections}{links}\
         </body></html>",
        escape_html(&m.title),
        escape_html(&m.context)
    );
    Email {
        subject: headline(m),
        text,
        html,
    }
}

/// Slack's mrkdwn reserves `&`, `<` and `>`.
fn escape_slack(raw: &str) -> String {
    raw.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook body: the notification text and Block Kit blocks (a section
/// holds at most 10 fields and 3,000 characters, so long lists are cut).
pub fn slack(m: &Message) -> Value {
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&m.title, 150)}}),
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": escape_slack(&m.context)}]}),
    ];
    if !m.facts.is_empty() {
        let fields: Vec<Value> = m
            .facts
            .iter()
            .take(10)
            .map(|(label, value)| {
                json!({"type": "mrkdwn", "text": format!("*{}*\n{}", escape_slack(label), escape_slack(value))})
            })
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    for section in &m.sections {
        let body: Vec<String> = section
            .lines
            .iter()
            .map(|l| format!("• {}", escape_slack(l)))
            .collect();
        let text = format!("*{}*\n{}", escape_slack(&section.heading), body.join("\n"));
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 2900)}}),
        );
    }
    if !m.links.is_empty() {
        let buttons: Vec<Value> = m
            .links
            .iter()
            .take(5)
            .map(|l| json!({"type": "button", "text": {"type": "plain_text", "text": truncate(&l.label, 75)}, "url": l.url}))
            .collect();
        blocks.push(json!({"type": "actions", "elements": buttons}));
    }
    json!({"text": headline(m), "blocks": blocks})
}

/// A Teams workflow body: one Adaptive Card (version 1.4) as a message attachment.
pub fn teams(m: &Message) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "text": m.title, "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "TextBlock", "text": m.context, "isSubtle": true, "spacing": "None", "wrap": true}),
    ];
    if !m.facts.is_empty() {
        let facts: Vec<Value> = m
            .facts
            .iter()
            .map(|(label, value)| json!({"title": label, "value": value}))
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    for section in &m.sections {
        body.push(json!({"type": "TextBlock", "text": section.heading, "weight": "Bolder", "spacing": "Medium", "wrap": true}));
        let lines: Vec<String> = section.lines.iter().map(|l| format!("- {l}")).collect();
        body.push(json!({"type": "TextBlock", "text": lines.join("\r"), "spacing": "Small", "wrap": true}));
    }
    let actions: Vec<Value> = m
        .links
        .iter()
        .map(|l| json!({"type": "Action.OpenUrl", "title": l.label, "url": l.url}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
                "actions": actions,
            }
        }]
    })
}

/// The header a signed webhook delivery carries.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "x-partnerlens-signature";

/// A generic webhook delivery: the body (the message's data under its event type) and
/// the signature header value `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>`.
/// The receiver recomputes the HMAC and rejects old timestamps (replays).
pub fn webhook(m: &Message, id: &str, secret: &str, now_ms: i64) -> (String, String) {
    let body = json!({"id": id, "type": m.event, "data": m.data}).to_string();
    let t = now_ms.div_euclid(1000);
    (body.clone(), signature(secret, t, &body))
}

pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex(&mac))
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            event: "report.delivered".into(),
            title: "Daily KPIs — Wed 2 Dec 2026".into(),
            context: "Shop <EU> · Europe/Berlin · against Tue 1 Dec 2026".into(),
            facts: vec![
                ("Sales".into(), "12 (▲ 20.0 %)".into()),
                ("Revenue".into(), "1,234.50 EUR (▼ 5.0 %)".into()),
            ],
            sections: vec![Section {
                heading: "Top partners".into(),
                lines: vec!["Ann & Co — 900.00 EUR, 8 sales".into()],
            }],
            links: vec![Link {
                label: "Download the report (CSV)".into(),
                url: "https://pl.example/f?a=1&b=2".into(),
            }],
            data: json!({"kpis": []}),
        }
    }

    #[test]
    fn email_has_a_headline_subject_and_escaped_html() {
        let e = email(&message());
        assert_eq!(
            e.subject,
            "Daily KPIs — Wed 2 Dec 2026: Sales 12 (▲ 20.0 %) · Revenue 1,234.50 EUR (▼ 5.0 %)"
        );
        assert!(e.text.contains("Revenue: 1,234.50 EUR (▼ 5.0 %)\n"));
        assert!(e.text.contains("- Ann & Co — 900.00 EUR, 8 sales"));
        assert!(e.html.contains("Shop &lt;EU&gt;"));
        assert!(e.html.contains("Ann &amp; Co"));
        assert!(e.html.contains("href=\"https://pl.example/f?a=1&amp;b=2\""));
    }

    #[test]
    fn slack_gets_text_and_blocks_with_escaped_mrkdwn() {
        let s = slack(&message());
        assert!(s["text"].as_str().unwrap().starts_with("Daily KPIs"));
        let blocks = s["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[1]["elements"][0]["text"],
            "Shop &lt;EU&gt; · Europe/Berlin · against Tue 1 Dec 2026"
        );
        assert_eq!(blocks[2]["fields"][0]["text"], "*Sales*\n12 (▲ 20.0 %)");
        assert!(blocks[3]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("• Ann &amp; Co"));
        assert_eq!(
            blocks[4]["elements"][0]["url"],
            "https://pl.example/f?a=1&b=2"
        );
    }

    #[test]
    fn teams_gets_an_adaptive_card_in_a_message() {
        let t = teams(&message());
        assert_eq!(t["type"], "message");
        let card = &t["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["body"][2]["facts"][1]["title"], "Revenue");
        assert_eq!(card["content"]["actions"][0]["type"], "Action.OpenUrl");
    }

    #[test]
    fn webhook_signature_covers_timestamp_and_body() {
        let (body, header) = webhook(&message(), "run_1:2", "whsec_k", 1_764_000_000_123);
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["type"], "report.delivered");
        assert_eq!(value["id"], "run_1:2");
        assert!(header.starts_with("t=1764000000,v1="));
        assert_eq!(header, signature("whsec_k", 1_764_000_000, &body));
        assert_ne!(header, signature("whsec_k", 1_764_000_001, &body));
        assert_ne!(header, signature("other", 1_764_000_000, &body));
    }

    #[test]
    fn long_texts_are_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
