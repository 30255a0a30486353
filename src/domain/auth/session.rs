//! Browser sessions: the cookie the Worker issues after a sign-in with a key, and the
//! checks around it. The cookie holds a random token; only its SHA-256 is stored.

/// The session cookie's name.
pub const COOKIE: &str = "pl_session";
/// How long a manager's session lasts (ms): a working day.
pub const ADMIN_SESSION_MS: i64 = 12 * 3_600_000;
/// How long a partner's session lasts (ms): a week.
pub const PARTNER_SESSION_MS: i64 = 7 * 86_400_000;

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name)
            .then_some(value.trim_matches('"'))
            .filter(|v| !v.is_empty())
    })
}

/// Whether `origin` (`scheme://host[:port]`) is this machine, where a cookie may go
/// without `Secure` (browsers treat `http://localhost` as secure anyway, but a local
/// `wrangler dev` serves plain HTTP to any local address).
pub fn is_local(origin: &str) -> bool {
    let host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The `Set-Cookie` value that starts a session for `max_age_ms`, for a site at `origin`.
pub fn set_cookie(token: &str, max_age_ms: i64, origin: &str) -> String {
    let secure = if is_local(origin) { "" } else { "; Secure" };
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age_ms / 1000
    )
}

/// The `Set-Cookie` value that ends the session in the browser.
pub fn clear_cookie(origin: &str) -> String {
    set_cookie("", 0, origin)
}

/// Whether a write authenticated by the cookie comes from a page of this site: its
/// `Origin` header must be this site's origin (a cross-site form or script cannot
/// forge it, and `SameSite=Strict` already keeps the cookie off cross-site requests).
pub fn same_origin(origin_header: Option<&str>, site: &str) -> bool {
    origin_header.is_some_and(|origin| origin.eq_ignore_ascii_case(site))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let header = "theme=dark; pl_session=abc123; other=x";
        assert_eq!(cookie_value(header, COOKIE), Some("abc123"));
        assert_eq!(cookie_value("pl_session=", COOKIE), None);
        assert_eq!(cookie_value("xpl_session=abc", COOKIE), None);
        assert_eq!(cookie_value("", COOKIE), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_except_locally() {
        let remote = set_cookie("t", ADMIN_SESSION_MS, "https://go.example.com");
        assert_eq!(
            remote,
            "pl_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure"
        );
        let local = set_cookie("t", ADMIN_SESSION_MS, "http://127.0.0.1:8787");
        assert!(local.contains("HttpOnly; SameSite=Strict") && !local.contains("Secure"));
        assert!(clear_cookie("https://go.example.com").contains("Max-Age=0"));
    }

    #[test]
    fn local_origins_are_told_apart() {
        for local in [
            "http://localhost:8787",
            "http://127.0.0.1",
            "http://[::1]:9000",
        ] {
            assert!(is_local(local), "{local}");
        }
        for remote in [
            "https://go.example.com",
            "http://localhost.evil.example",
            "http://127.0.0.2",
        ] {
            assert!(!is_local(remote), "{remote}");
        }
    }

    #[test]
    fn writes_need_this_sites_origin() {
        let site = "https://go.example.com";
        assert!(same_origin(Some("https://go.example.com"), site));
        assert!(!same_origin(Some("https://evil.example"), site));
        assert!(!same_origin(Some("null"), site));
        assert!(!same_origin(None, site));
    }
}
