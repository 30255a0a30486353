//! Referral links: their public code, their destination, and the `Location` a
//! redirect answers with.

use serde::{Deserialize, Serialize};

use crate::domain::text::string_enum;
use crate::domain::Invalid;

pub const CODE_MIN_LEN: usize = 3;
pub const CODE_MAX_LEN: usize = 64;
pub const DESTINATION_MAX_LEN: usize = 2048;

/// A link's public code: `[A-Za-z0-9_-]{3,64}`. Anything else (a URL, an encoded
/// slash, a dot) can never name a link, so the redirect rejects it before storage.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkCode(String);

impl LinkCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let len_ok = (CODE_MIN_LEN..=CODE_MAX_LEN).contains(&raw.len());
        let chars_ok = raw
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if len_ok && chars_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid::new(
                "code",
                "invalid_code",
                format!(
                    "a link code is {CODE_MIN_LEN} to {CODE_MAX_LEN} characters from A-Z, a-z, 0-9, '_' and '-'"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a link sends visitors: an absolute `http`/`https` URL with a host and no
/// credentials, kept in its normalised form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination(String);

impl Destination {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = |why: &str| {
            Invalid::new(
                "destination",
                "invalid_destination",
                format!("destination must be an absolute http or https URL: {why}"),
            )
        };
        if raw.len() > DESTINATION_MAX_LEN {
            return Err(invalid(&format!(
                "longer than {DESTINATION_MAX_LEN} characters"
            )));
        }
        let url = url::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(&format!(
                "scheme '{}' is not allowed",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it must not carry a user name or password"));
        }
        Ok(Self(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The destination's host name.
    pub fn host(&self) -> &str {
        let after_scheme = self
            .0
            .split_once("://")
            .map_or(self.0.as_str(), |(_, rest)| rest);
        let authority = after_scheme
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        if let Some(v6) = authority.strip_prefix('[') {
            return v6.split(']').next().unwrap_or_default();
        }
        authority.split(':').next().unwrap_or_default()
    }

    /// Splits the redirect target around the click id so the hot path only concatenates:
    /// `Location = prefix + click_id + suffix`. The destination's own query is kept, the
    /// click id parameter is appended to it, and a fragment stays last.
    pub fn location_template(&self, click_id_param: &str) -> LocationTemplate {
        let (base, fragment) = match self.0.split_once('#') {
            Some((base, fragment)) => (base, format!("#{fragment}")),
            None => (self.0.as_str(), String::new()),
        };
        let separator = match base.find('?') {
            None => "?",
            Some(_) if base.ends_with('?') || base.ends_with('&') => "",
            Some(_) => "&",
        };
        LocationTemplate {
            prefix: format!("{base}{separator}{click_id_param}="),
            suffix: fragment,
        }
    }
}

/// The two halves of a redirect's `Location` around the click id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationTemplate {
    pub prefix: String,
    pub suffix: String,
}

impl LocationTemplate {
    pub fn location(&self, click_id: &str) -> String {
        let mut out = String::with_capacity(self.prefix.len() + click_id.len() + self.suffix.len());
        out.push_str(&self.prefix);
        out.push_str(click_id);
        out.push_str(&self.suffix);
        out
    }
}

string_enum!(
    /// Whether a link redirects (`active`) or answers `404` (`disabled`).
    LinkStatus, "status" { Active = "active", Disabled = "disabled" }
);

/// What the redirect needs to know about a link, as cached in KV and in the isolate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkTarget {
    pub link_id: String,
    pub program_id: String,
    pub partner_id: String,
    pub location: LocationTemplate,
    /// The running split test on this link, if any: its arms replace `location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<crate::domain::experiments::split::Split>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_destination_names_its_host() {
        let host = |raw: &str| Destination::parse(raw).unwrap().host().to_owned();
        assert_eq!(host("https://Shop.Example:8443/a?b#c"), "shop.example");
        assert_eq!(host("http://shop.example"), "shop.example");
        assert_eq!(host("http://[2001:db8::1]/x"), "2001:db8::1");
    }

    use super::*;

    #[test]
    fn codes_accept_the_documented_alphabet_and_lengths() {
        assert!(LinkCode::parse("abc").is_ok());
        assert!(LinkCode::parse("Summer_Sale-2026").is_ok());
        assert!(LinkCode::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn codes_reject_short_long_and_url_like_values() {
        for bad in [
            "ab",
            &"a".repeat(65),
            "https://evil.example",
            "//evil.example",
            "a%2Fb",
            "a/b",
            "a.b",
            "ünï",
            "",
        ] {
            assert!(LinkCode::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn destinations_must_be_absolute_http_urls_with_a_host() {
        assert!(Destination::parse("https://shop.example/p?x=1").is_ok());
        assert!(Destination::parse("http://shop.example").is_ok());
        for bad in [
            "shop.example/path",
            "/relative",
            "//evil.example",
            "javascript:alert(1)",
            "ftp://files.example/x",
            "data:text/html,hi",
            "https://user:pw@shop.example/",
            "not a url",
        ] {
            assert!(Destination::parse(bad).is_err(), "{bad} should be rejected");
        }
        let too_long = format!("https://shop.example/{}", "a".repeat(DESTINATION_MAX_LEN));
        assert!(Destination::parse(&too_long).is_err());
    }

    #[test]
    fn location_appends_the_click_id_and_keeps_query_and_fragment() {
        let cases = [
            (
                "https://shop.example/p",
                "https://shop.example/p?click_id=CID",
            ),
            ("https://shop.example", "https://shop.example/?click_id=CID"),
            (
                "https://shop.example/p?a=1&b=2",
                "https://shop.example/p?a=1&b=2&click_id=CID",
            ),
            (
                "https://shop.example/p?",
                "https://shop.example/p?click_id=CID",
            ),
            (
                "https://shop.example/p?a=1#top",
                "https://shop.example/p?a=1&click_id=CID#top",
            ),
        ];
        for (destination, expected) in cases {
            let template = Destination::parse(destination)
                .unwrap()
                .location_template("click_id");
            assert_eq!(template.location("CID"), expected);
        }
    }

    #[test]
    fn location_uses_the_program_parameter_name() {
        let template = Destination::parse("https://shop.example/")
            .unwrap()
            .location_template("aff_click");
        assert_eq!(template.location("X"), "https://shop.example/?aff_click=X");
    }
}
