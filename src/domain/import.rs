//! History import for teams moving from another tracker: NDJSON lines, one event each,
//! with explicit timestamps. Clicks become the same `CapturedEvent` the redirect makes;
//! conversions become the same `Postback` the postback endpoint reads.

use serde::Deserialize;

use super::conversions::{parse_timestamp, Postback};
use super::tracking::click::{referrer_host, Tracking, MAX_TRACKING_VALUE};
use super::Invalid;

/// Lines one import request may carry.
pub const MAX_LINES: usize = 5_000;

/// One imported click, as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickLine {
    pub id: String,
    pub ts: String,
    pub link_code: Option<String>,
    pub link_id: Option<String>,
    #[serde(default)]
    pub ua: String,
    #[serde(default)]
    pub ip: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub referrer: Option<String>,
    pub sub1: Option<String>,
    pub sub2: Option<String>,
    pub sub3: Option<String>,
    pub sub4: Option<String>,
    pub sub5: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
}

/// An imported click, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedClick {
    pub id: String,
    pub ts: i64,
    pub link: LinkRef,
    pub user_agent: String,
    pub ip: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub referrer_host: Option<String>,
    pub tracking: Tracking,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkRef {
    Code(String),
    Id(String),
}

fn short(value: Option<String>) -> Option<String> {
    value
        .map(|v| {
            v.trim()
                .chars()
                .take(MAX_TRACKING_VALUE)
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
}

/// Parses one click line.
pub fn click_line(line: &str) -> Result<ImportedClick, Invalid> {
    let raw: ClickLine = serde_json::from_str(line)
        .map_err(|e| Invalid::new("line", "invalid_line", format!("not a click object: {e}")))?;
    let id_ok = (1..=64).contains(&raw.id.len())
        && raw
            .id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !id_ok {
        return Err(Invalid::new(
            "id",
            "invalid_value",
            "id is 1 to 64 characters from A-Z, a-z, 0-9, '-' and '_'",
        ));
    }
    let ts = parse_timestamp(&raw.ts)?;
    let link = match (raw.link_code, raw.link_id) {
        (Some(code), None) => LinkRef::Code(code),
        (None, Some(id)) => LinkRef::Id(id),
        _ => {
            return Err(Invalid::new(
                "link_code",
                "missing_field",
                "give exactly one of link_code and link_id",
            ))
        }
    };
    let tracking = Tracking {
        sub: [
            short(raw.sub1),
            short(raw.sub2),
            short(raw.sub3),
            short(raw.sub4),
            short(raw.sub5),
        ],
        utm_source: short(raw.utm_source),
        utm_medium: short(raw.utm_medium),
        utm_campaign: short(raw.utm_campaign),
        utm_term: short(raw.utm_term),
        utm_content: short(raw.utm_content),
        material: None,
    };
    Ok(ImportedClick {
        id: raw.id,
        ts,
        link,
        user_agent: raw.ua,
        ip: raw.ip,
        country: short(raw.country).map(|c| c.to_ascii_uppercase()),
        region: short(raw.region),
        city: short(raw.city),
        referrer_host: referrer_host(raw.referrer.as_deref()),
        tracking,
    })
}

/// An imported conversion: the postback it stands for, and the program it names (needed
/// when it has no click id).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedConversion {
    pub postback: Postback,
    pub program_id: Option<String>,
}

/// Parses one conversion line: a JSON object of the postback's parameters, `ts` required.
pub fn conversion_line(line: &str) -> Result<ImportedConversion, Invalid> {
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).map_err(|e| {
            Invalid::new(
                "line",
                "invalid_line",
                format!("not a conversion object: {e}"),
            )
        })?;
    let mut pairs = Vec::new();
    let mut program_id = None;
    for (key, value) in object {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Null => continue,
            _ => {
                return Err(Invalid::new(
                    "line",
                    "invalid_value",
                    format!("{key} must be a string or a number"),
                ))
            }
        };
        match key.as_str() {
            "program_id" => program_id = Some(text),
            "token" => {
                return Err(Invalid::new(
                    "token",
                    "invalid_value",
                    "imports are authorised by the admin key, not a token",
                ))
            }
            _ => pairs.push((key, text)),
        }
    }
    let postback = Postback::parse(&pairs)?;
    if postback.ts.is_none() {
        return Err(Invalid::new(
            "ts",
            "missing_field",
            "an imported conversion needs its ts",
        ));
    }
    Ok(ImportedConversion {
        postback,
        program_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversions::ConversionEvent;

    #[test]
    fn click_lines_are_read_and_checked() {
        let click = click_line(r#"{"id":"old-1","ts":"2026-03-08T06:30:00Z","link_code":"spring","ua":"UA","ip":"203.0.113.9","country":"de","referrer":"https://blog.example/x","sub1":"a"}"#).unwrap();
        assert_eq!(click.ts, 1_772_951_400_000);
        assert_eq!(click.link, LinkRef::Code("spring".into()));
        assert_eq!(click.country.as_deref(), Some("DE"));
        assert_eq!(click.referrer_host.as_deref(), Some("blog.example"));
        assert_eq!(click.tracking.sub[0].as_deref(), Some("a"));
        for (line, field) in [
            (r#"{"id":"x","ts":"2026-03-08T06:30:00Z"}"#, "link_code"),
            (
                r#"{"id":"x y","ts":"2026-03-08T06:30:00Z","link_code":"c"}"#,
                "id",
            ),
            (r#"{"id":"x","ts":"yesterday","link_code":"c"}"#, "ts"),
            (
                r#"{"id":"x","ts":"2026-03-08T06:30:00Z","link_code":"c","colour":"red"}"#,
                "line",
            ),
            ("not json", "line"),
        ] {
            assert_eq!(click_line(line).unwrap_err().field, field, "{line}");
        }
    }

    #[test]
    fn conversion_lines_become_postbacks() {
        let c = conversion_line(r#"{"click_id":"old-1","event":"sale","order_id":"O1","amount":"10.5","ts":"2026-03-09T10:00:00Z","customer_id":"k"}"#).unwrap();
        assert_eq!(c.postback.event, ConversionEvent::Sale);
        assert_eq!(c.postback.ts, Some(1_773_050_400_000));
        assert_eq!(c.program_id, None);
        assert_eq!(
            conversion_line(r#"{"click_id":"c","event":"lead"}"#)
                .unwrap_err()
                .field,
            "ts"
        );
        assert_eq!(
            conversion_line(
                r#"{"click_id":"c","event":"lead","ts":"2026-03-09T10:00:00Z","token":"t"}"#
            )
            .unwrap_err()
            .field,
            "token"
        );
    }
}
