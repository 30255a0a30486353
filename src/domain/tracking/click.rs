//! A click or impression as the edge captures it, and the pure helpers that build it:
//! sub-ids and UTM values from the query, the referrer's host, the visitor hash and the
//! prefetch test.

use serde::{Deserialize, Serialize};

use crate::domain::ids::sha256_hex;

/// Longest sub-id or UTM value kept; longer values are cut at a character boundary.
pub const MAX_TRACKING_VALUE: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Click,
    Impression,
}

/// The partner's own tracking values carried on a click.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub sub: [Option<String>; 5],
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    /// The partner material the click or impression came from (`m=`), if well formed;
    /// the consumer keeps it only if it is one of the link's program's materials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
}

impl Tracking {
    /// Reads `sub1`…`sub5` and `utm_*` from a raw (still percent-encoded) query string.
    /// The first occurrence of a name wins; empty values are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut tracking = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "sub1" => &mut tracking.sub[0],
                "sub2" => &mut tracking.sub[1],
                "sub3" => &mut tracking.sub[2],
                "sub4" => &mut tracking.sub[3],
                "sub5" => &mut tracking.sub[4],
                "utm_source" => &mut tracking.utm_source,
                "utm_medium" => &mut tracking.utm_medium,
                "utm_campaign" => &mut tracking.utm_campaign,
                "utm_term" => &mut tracking.utm_term,
                "utm_content" => &mut tracking.utm_content,
                super::material::MATERIAL_PARAM => {
                    if tracking.material.is_none() && super::material::is_material_id(&value) {
                        tracking.material = Some(value.into_owned());
                    }
                    continue;
                }
                _ => continue,
            };
            if slot.is_none() && !value.trim().is_empty() {
                *slot = Some(truncate(value.trim(), MAX_TRACKING_VALUE).to_owned());
            }
        }
        tracking
    }
}

fn truncate(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// The event the redirect or pixel hands to the queue; the consumer enriches it (user
/// agent, uniqueness) and writes it. The raw IP never gets this far: only the visitor hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapturedEvent {
    pub kind: EventKind,
    pub id: String,
    pub ts: i64,
    pub link_id: String,
    pub program_id: String,
    pub partner_id: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub colo: Option<String>,
    pub user_agent: String,
    pub referrer_host: Option<String>,
    pub visitor: String,
    #[serde(default)]
    pub tracking: Tracking,
    /// The split-test variant the visitor was sent to, if the link runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// `sha256(daily_salt ‖ ip ‖ user_agent)` as hex: a visitor for one UTC day, from which
/// neither the IP nor the user agent can be recovered once the day's salt is deleted.
pub fn visitor_hash(daily_salt: &str, ip: &str, user_agent: &str) -> String {
    sha256_hex(&[daily_salt.as_bytes(), ip.as_bytes(), user_agent.as_bytes()])
}

/// The host of a `Referer` header, lowercased; `None` when absent or not an http(s) URL.
/// Only the host is kept: paths and queries of referring pages may carry personal data.
pub fn referrer_host(referer: Option<&str>) -> Option<String> {
    let url = url::Url::parse(referer?).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.host_str()
        .map(|host| truncate(host, 253).to_ascii_lowercase())
}

/// Whether a request is a browser prefetch or prerender (`Sec-Purpose: prefetch`,
/// `Purpose: prefetch`, `X-Moz: prefetch`): those are not clicks.
pub fn is_prefetch(sec_purpose: Option<&str>, purpose: Option<&str>, x_moz: Option<&str>) -> bool {
    [sec_purpose, purpose, x_moz]
        .into_iter()
        .flatten()
        .any(|value| value.to_ascii_lowercase().contains("prefetch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_ids_and_utm_are_read_and_decoded() {
        let tracking = Tracking::from_query(
            "sub1=post%2042&sub5=x&utm_source=newsletter&utm_campaign=black+friday&other=1",
        );
        assert_eq!(tracking.sub[0].as_deref(), Some("post 42"));
        assert_eq!(tracking.sub[4].as_deref(), Some("x"));
        assert_eq!(tracking.sub[1], None);
        assert_eq!(tracking.utm_source.as_deref(), Some("newsletter"));
        assert_eq!(tracking.utm_campaign.as_deref(), Some("black friday"));
        assert_eq!(tracking.utm_medium, None);
    }

    #[test]
    fn first_value_wins_and_empty_values_are_ignored() {
        let tracking = Tracking::from_query("sub1=&sub1=a&sub1=b");
        assert_eq!(tracking.sub[0].as_deref(), Some("a"));
    }

    #[test]
    fn long_values_are_cut_on_a_char_boundary() {
        let long = "é".repeat(200);
        let tracking = Tracking::from_query(&format!("sub2={long}"));
        let kept = tracking.sub[1].clone().unwrap();
        assert!(kept.len() <= MAX_TRACKING_VALUE);
        assert!(long.starts_with(&kept));
    }

    #[test]
    fn visitor_hash_depends_on_salt_ip_and_agent() {
        let base = visitor_hash("salt", "203.0.113.7", "UA");
        assert_eq!(base.len(), 64);
        assert_eq!(base, visitor_hash("salt", "203.0.113.7", "UA"));
        assert_ne!(base, visitor_hash("salt2", "203.0.113.7", "UA"));
        assert_ne!(base, visitor_hash("salt", "203.0.113.8", "UA"));
        assert_ne!(base, visitor_hash("salt", "203.0.113.7", "UA2"));
        assert!(!base.contains("203.0.113.7"));
    }

    #[test]
    fn referrer_keeps_only_the_host() {
        assert_eq!(
            referrer_host(Some("https://Blog.Example/post?email=a@b.c")).as_deref(),
            Some("blog.example")
        );
        assert_eq!(referrer_host(Some("android-app://com.x")), None);
        assert_eq!(referrer_host(Some("not a url")), None);
        assert_eq!(referrer_host(None), None);
    }

    #[test]
    fn prefetches_are_recognised() {
        assert!(is_prefetch(Some("prefetch;prerender"), None, None));
        assert!(is_prefetch(None, Some("prefetch"), None));
        assert!(is_prefetch(None, None, Some("prefetch")));
        assert!(!is_prefetch(None, None, None));
    }
}
