//! Reading credentials from a request's pieces: a bearer token, an HTTP Basic password,
//! or an `api_key` query parameter (what Power BI's Web connector can send).

/// Where a credential came from: the admin key is accepted only as a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Bearer(String),
    Basic(String),
    QueryKey(String),
}

impl Credential {
    pub fn secret(&self) -> &str {
        match self {
            Self::Bearer(s) | Self::Basic(s) | Self::QueryKey(s) => s,
        }
    }
}

/// The credential of a request, from its `Authorization` header or its `api_key`.
pub fn credential(authorization: Option<&str>, api_key: Option<String>) -> Option<Credential> {
    if let Some((scheme, value)) = authorization.and_then(|h| h.trim().split_once(' ')) {
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !value.is_empty() {
            return Some(Credential::Bearer(value.to_owned()));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64_decode(value)?;
            let text = String::from_utf8(decoded).ok()?;
            let (_, password) = text.split_once(':')?;
            return (!password.is_empty()).then(|| Credential::Basic(password.to_owned()));
        }
    }
    api_key.filter(|k| !k.is_empty()).map(Credential::QueryKey)
}

/// Standard base64 (with or without padding).
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = text.trim_end_matches('=').bytes().collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_basic_and_query_keys_are_read() {
        assert_eq!(
            credential(Some("Bearer abc"), None),
            Some(Credential::Bearer("abc".into()))
        );
        // "powerbi:s3cret"
        assert_eq!(
            credential(Some("Basic cG93ZXJiaTpzM2NyZXQ="), None),
            Some(Credential::Basic("s3cret".into()))
        );
        // ":s3cret" (no user name)
        assert_eq!(
            credential(Some("Basic OnMzY3JldA=="), None),
            Some(Credential::Basic("s3cret".into()))
        );
        assert_eq!(
            credential(None, Some("k".into())),
            Some(Credential::QueryKey("k".into()))
        );
        assert_eq!(credential(Some("Bearer "), None), None);
        assert_eq!(credential(Some("Basic !!!"), None), None);
        assert_eq!(credential(None, None), None);
    }

    #[test]
    fn base64_round_trips_with_the_encoder() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let encoded = crate::domain::ids::base64url(text.as_bytes());
            assert_eq!(base64_decode(&encoded).unwrap(), text.as_bytes());
        }
    }
}
