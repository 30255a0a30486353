//! Recipients of scheduled reports and alerts: an e-mail address, a Slack incoming
//! webhook, a Microsoft Teams workflow webhook, or a generic webhook whose deliveries are
//! signed. A webhook URL is itself a credential (whoever has it can post), so the API
//! shows only a hint of it once stored; a generic webhook's signing secret is shown in
//! full once, when it is made.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::domain::ids::new_secret;
use crate::domain::Invalid;

pub const MAX_RECIPIENTS: usize = 10;
const MAX_URL: usize = 2000;
const MAX_ADDRESS: usize = 254;

/// A recipient as the API takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: Option<String>,
    pub url: Option<String>,
}

/// A recipient as the Worker keeps it (sealed: it holds credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Recipient {
    Email { address: String },
    Slack { url: String },
    Teams { url: String },
    Webhook { url: String, secret: String },
}

/// A recipient as the API shows it: addresses in full, credentials as hints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientView {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url_hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secret_hint: Option<String>,
}

impl Recipient {
    pub fn channel(&self) -> &'static str {
        match self {
            Recipient::Email { .. } => "email",
            Recipient::Slack { .. } => "slack",
            Recipient::Teams { .. } => "teams",
            Recipient::Webhook { .. } => "webhook",
        }
    }

    /// Who it is, as deliveries and the API show it (no credential in full).
    pub fn target(&self) -> String {
        match self {
            Recipient::Email { address } => address.clone(),
            Recipient::Slack { url }
            | Recipient::Teams { url }
            | Recipient::Webhook { url, .. } => url_hint(url),
        }
    }

    pub fn view(&self) -> RecipientView {
        let (address, url_hint, secret_hint) = match self {
            Recipient::Email { address } => (Some(address.clone()), None, None),
            Recipient::Slack { url } | Recipient::Teams { url } => {
                (None, Some(url_hint(url)), None)
            }
            Recipient::Webhook { url, secret } => {
                (None, Some(url_hint(url)), Some(secret_hint(secret)))
            }
        };
        RecipientView {
            kind: self.channel().to_owned(),
            address,
            url_hint,
            secret_hint,
        }
    }
}

/// `https://host[:port]/…` and the URL's last four characters: enough to tell two hooks
/// apart.
pub fn url_hint(url: &str) -> String {
    let origin = Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .unwrap_or_default();
    let tail: String = {
        let chars: Vec<char> = url.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    format!("{origin}/…{tail}")
}

/// A signing secret's prefix and its last four characters.
pub fn secret_hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("whsec_…{tail}")
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid::new("recipients", "invalid_recipient", message)
}

fn address(raw: Option<&str>) -> Result<String, Invalid> {
    let raw = raw
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid("an email recipient needs address"))?;
    let (local, domain) = raw
        .rsplit_once('@')
        .ok_or_else(|| invalid(format!("'{raw}' is not an e-mail address")))?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"@".contains(c))
    };
    let domain_ok = plain(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if raw.len() > MAX_ADDRESS || !plain(local) || !domain_ok {
        return Err(invalid(format!("'{raw}' is not an e-mail address")));
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// A webhook URL: https, or plain http to this machine (a local receiver).
fn hook_url(kind: &str, raw: Option<&str>) -> Result<String, Invalid> {
    let raw = raw
        .filter(|u| !u.is_empty())
        .ok_or_else(|| invalid(format!("a {kind} recipient needs url")))?;
    // Printable ASCII only (percent-encode the rest): what is stored is what is called.
    let parsed = Url::parse(raw)
        .ok()
        .filter(|_| raw.len() <= MAX_URL && raw.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| invalid(format!("the {kind} url is not a URL")))?;
    let local = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(raw.to_owned()),
        "http" if local => Ok(raw.to_owned()),
        _ => Err(invalid(format!(
            "the {kind} url must be https (plain http only to localhost)"
        ))),
    }
}

/// Parses the recipients of a schedule or alert. `previous` are the recipients stored
/// before (on an update): a generic webhook whose URL is unchanged keeps its signing
/// secret; a new one gets a new secret.
pub fn parse(inputs: &[RecipientInput], previous: &[Recipient]) -> Result<Vec<Recipient>, Invalid> {
    if inputs.is_empty() || inputs.len() > MAX_RECIPIENTS {
        return Err(invalid(format!("give 1 to {MAX_RECIPIENTS} recipients")));
    }
    let mut out: Vec<Recipient> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let unexpected = |field: &str| {
            invalid(format!(
                "{field} does not apply to a {} recipient",
                input.kind
            ))
        };
        let recipient = match input.kind.as_str() {
            "email" => {
                if input.url.is_some() {
                    return Err(unexpected("url"));
                }
                Recipient::Email {
                    address: address(input.address.as_deref())?,
                }
            }
            kind @ ("slack" | "teams" | "webhook") => {
                if input.address.is_some() {
                    return Err(unexpected("address"));
                }
                let url = hook_url(kind, input.url.as_deref())?;
                match kind {
                    "slack" => Recipient::Slack { url },
                    "teams" => Recipient::Teams { url },
                    _ => {
                        let kept = previous.iter().find_map(|p| match p {
                            Recipient::Webhook { url: old, secret } if *old == url => {
                                Some(secret.clone())
                            }
                            _ => None,
                        });
                        Recipient::Webhook {
                            url,
                            secret: kept.unwrap_or_else(|| new_secret("whsec")),
                        }
                    }
                }
            }
            other => {
                return Err(invalid(format!(
                    "recipient type '{other}' is not one of: email, slack, teams, webhook"
                )))
            }
        };
        if out.iter().any(|r| same_target(r, &recipient)) {
            return Err(Invalid::new(
                "recipients",
                "duplicate_recipient",
                format!("{} is listed twice", recipient.target()),
            ));
        }
        out.push(recipient);
    }
    Ok(out)
}

fn same_target(a: &Recipient, b: &Recipient) -> bool {
    match (a, b) {
        (Recipient::Email { address: x }, Recipient::Email { address: y }) => {
            x.eq_ignore_ascii_case(y)
        }
        (Recipient::Slack { url: x }, Recipient::Slack { url: y })
        | (Recipient::Teams { url: x }, Recipient::Teams { url: y })
        | (Recipient::Webhook { url: x, .. }, Recipient::Webhook { url: y, .. }) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str, address: Option<&str>, url: Option<&str>) -> RecipientInput {
        RecipientInput {
            kind: kind.to_owned(),
            address: address.map(str::to_owned),
            url: url.map(str::to_owned),
        }
    }

    #[test]
    fn parses_every_channel_and_hides_credentials_in_views() {
        let parsed = parse(
            &[
                input("email", Some("Anna@Shop.Example"), None),
                input(
                    "slack",
                    None,
                    Some("https://hooks.slack.com/services/T1/B2/abcdWXYZ"),
                ),
                input(
                    "teams",
                    None,
                    Some("https://prod.logic.azure.com/workflows/1/x?sig=s3cr"),
                ),
                input("webhook", None, Some("http://127.0.0.1:9000/hook")),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            parsed[0],
            Recipient::Email {
                address: "Anna@shop.example".into()
            }
        );
        let views: Vec<RecipientView> = parsed.iter().map(Recipient::view).collect();
        assert_eq!(
            views[1].url_hint.as_deref(),
            Some("https://hooks.slack.com/…WXYZ")
        );
        assert_eq!(
            views[2].url_hint.as_deref(),
            Some("https://prod.logic.azure.com/…s3cr")
        );
        let Recipient::Webhook { secret, .. } = &parsed[3] else {
            panic!("a webhook")
        };
        assert!(secret.starts_with("whsec_") && secret.len() > 40);
        let json = serde_json::to_string(&views).unwrap();
        assert!(!json.contains("B2/abcd") && !json.contains(secret.as_str()));
        assert!(views[3]
            .secret_hint
            .as_deref()
            .unwrap()
            .starts_with("whsec_…"));
    }

    #[test]
    fn a_webhook_keeps_its_secret_while_its_url_stays() {
        let first = parse(
            &[input("webhook", None, Some("https://crm.example/h"))],
            &[],
        )
        .unwrap();
        let again = parse(
            &[
                input("email", Some("a@b.example"), None),
                input("webhook", None, Some("https://crm.example/h")),
            ],
            &first,
        )
        .unwrap();
        assert_eq!(again[1], first[0]);
        let moved = parse(
            &[input("webhook", None, Some("https://crm.example/h2"))],
            &first,
        )
        .unwrap();
        assert_ne!(moved[0], first[0]);
    }

    #[test]
    fn refuses_what_cannot_be_delivered() {
        let code = |inputs: &[RecipientInput]| parse(inputs, &[]).unwrap_err().code;
        assert_eq!(code(&[]), "invalid_recipient");
        assert_eq!(
            code(&[input("email", Some("not-an-address"), None)]),
            "invalid_recipient"
        );
        assert_eq!(
            code(&[input("email", Some("a@b"), None)]),
            "invalid_recipient"
        );
        assert_eq!(
            code(&[input("email", Some("a b@c.example"), None)]),
            "invalid_recipient"
        );
        assert_eq!(
            code(&[input("email", None, Some("https://x.example"))]),
            "invalid_recipient"
        );
        assert_eq!(
            code(&[input("slack", None, Some("http://hooks.slack.com/x"))]),
            "invalid_recipient"
        );
        assert_eq!(
            code(&[input("slack", None, Some("ftp://x.example/"))]),
            "invalid_recipient"
        );
        assert_eq!(code(&[input("teams", None, None)]), "invalid_recipient");
        assert_eq!(
            code(&[input("sms", Some("+100"), None)]),
            "invalid_recipient"
        );
        assert_eq!(
            code(&[
                input("email", Some("a@b.example"), None),
                input("email", Some("A@B.example"), None)
            ]),
            "duplicate_recipient"
        );
        let eleven: Vec<RecipientInput> = (0..11)
            .map(|i| input("email", Some(&format!("u{i}@b.example")), None))
            .collect();
        assert_eq!(code(&eleven), "invalid_recipient");
    }
}
