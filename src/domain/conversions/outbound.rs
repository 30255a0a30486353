//! Outbound postbacks: a partner's URL template, filled in for each approved conversion,
//! and the backoff between delivery attempts.

use crate::domain::conversions::ConversionEvent;
use crate::domain::tracking::link::Destination;
use crate::domain::Invalid;

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "click_id",
    "conversion_id",
    "event",
    "order_id",
    "amount",
    "commission",
    "currency",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
];

/// Attempts before a delivery is given up as failed.
pub const MAX_ATTEMPTS: u32 = 8;

/// Fills `{name}` placeholders with URL-encoded values; unknown names stay as they are.
pub fn render(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if PLACEHOLDERS.contains(&&after[..close]) => {
                let filled = value(&after[..close]).unwrap_or_default();
                out.extend(url::form_urlencoded::byte_serialize(filled.as_bytes()));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Seconds to wait before attempt `attempt + 1`: `base × 2^(attempt − 1)`, at most an hour.
pub fn backoff_seconds(base: u32, attempt: u32) -> u32 {
    let factor = 1u32 << attempt.saturating_sub(1).min(12);
    base.saturating_mul(factor).min(3600)
}

/// A validated endpoint: the template renders to an absolute http(s) URL, and the events
/// are conversion events.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEndpoint {
    pub url_template: String,
    pub events: Vec<ConversionEvent>,
}

impl NewEndpoint {
    /// An endpoint from its URL template and the events it hears of (by default every
    /// event but refunds).
    pub fn parse(url_template: &str, events: Option<&[String]>) -> Result<Self, Invalid> {
        let sample = render(url_template, |_| Some("x".to_owned()));
        Destination::parse(&sample).map_err(|invalid| {
            Invalid::new(
                "url_template",
                invalid.code,
                invalid.message.replace("destination", "url_template"),
            )
        })?;
        let events = match events {
            None => vec![
                ConversionEvent::Lead,
                ConversionEvent::Qualified,
                ConversionEvent::Sale,
            ],
            Some([]) => return Err(Invalid::new("events", "empty", "name at least one event")),
            Some(names) => names
                .iter()
                .map(|name| {
                    ConversionEvent::parse(name).map_err(|e| Invalid {
                        field: "events",
                        ..e
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            url_template: url_template.to_owned(),
            events,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_and_values_encoded() {
        let url = render(
            "https://partner.example/pb?cid={click_id}&e={event}&sum={commission}&s={sub1}&keep={other}",
            |name| match name {
                "click_id" => Some("abc".into()),
                "event" => Some("sale".into()),
                "commission" => Some("12.50".into()),
                "sub1" => Some("a b&c".into()),
                _ => None,
            },
        );
        assert_eq!(
            url,
            "https://partner.example/pb?cid=abc&e=sale&sum=12.50&s=a+b%26c&keep={other}"
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff_seconds(30, 1), 30);
        assert_eq!(backoff_seconds(30, 2), 60);
        assert_eq!(backoff_seconds(30, 4), 240);
        assert_eq!(backoff_seconds(30, 20), 3600);
    }

    #[test]
    fn endpoints_need_an_http_url_and_known_events() {
        let ok = NewEndpoint::parse("https://p.example/?c={click_id}", None).unwrap();
        assert_eq!(ok.events.len(), 3);
        let field = |template, events: Option<&[String]>| {
            NewEndpoint::parse(template, events).unwrap_err().field
        };
        assert_eq!(field("ftp://p.example/{click_id}", None), "url_template");
        assert_eq!(field("{click_id}", None), "url_template");
        assert_eq!(
            field("https://p.example/", Some(&["install".to_owned()])),
            "events"
        );
        assert_eq!(field("https://p.example/", Some(&[])), "events");
    }
}
