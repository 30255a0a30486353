//! Splitting a request URL into path and query without a full URL parse: the redirect
//! needs only these two slices, and needs them fast.

/// The path (always starting with `/`) and the raw query (without `?`, possibly empty) of
/// an absolute request URL such as `https://host/r/abc?sub1=x`. A fragment is dropped.
pub fn path_and_query(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let target = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    let target = target.split_once('#').map_or(target, |(before, _)| before);
    match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    }
}

/// `scheme://host[:port]` of an absolute URL.
pub fn origin(url: &str) -> &str {
    let host_start = url.find("://").map_or(0, |i| i + 3);
    let end = url[host_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| host_start + i);
    &url[..end]
}

/// The non-empty segments of a path: `/api/v1/links/x` → `["api", "v1", "links", "x"]`.
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// The first value of query parameter `name`, percent-decoded.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query() {
        assert_eq!(
            path_and_query("https://h.example/r/abc?sub1=x&y"),
            ("/r/abc", "sub1=x&y")
        );
        assert_eq!(
            path_and_query("http://h.example:8787/r/abc"),
            ("/r/abc", "")
        );
        assert_eq!(path_and_query("http://h.example"), ("/", ""));
        assert_eq!(path_and_query("http://h.example/a?b#c"), ("/a", "b"));
        assert_eq!(
            path_and_query("http://h.example/r//evil.example"),
            ("/r//evil.example", "")
        );
    }

    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("http://127.0.0.1:8787/api/v1/links?x"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(origin("https://go.example"), "https://go.example");
    }

    #[test]
    fn segments_skip_empty_parts() {
        assert_eq!(segments("/api/v1/links/"), vec!["api", "v1", "links"]);
        assert_eq!(segments("/r//evil.example"), vec!["r", "evil.example"]);
    }

    #[test]
    fn query_params_are_decoded() {
        assert_eq!(
            query_param("a=1&cursor=x%2By", "cursor").as_deref(),
            Some("x+y")
        );
        assert_eq!(query_param("a=1", "cursor"), None);
    }
}

/// `query` with `name` set to `value` (replacing any earlier values), re-encoded.
pub fn with_param(query: &str, name: &str, value: &str) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (key, existing) in url::form_urlencoded::parse(query.as_bytes()) {
        if key != name {
            out.append_pair(&key, &existing);
        }
    }
    out.append_pair(name, value);
    out.finish()
}

#[cfg(test)]
mod with_param_tests {
    use super::*;

    #[test]
    fn replaces_or_appends_the_parameter() {
        assert_eq!(
            with_param("limit=2&cursor=a", "cursor", "b.c"),
            "limit=2&cursor=b.c"
        );
        assert_eq!(with_param("", "cursor", "x"), "cursor=x");
        assert_eq!(with_param("q=a+b", "cursor", "x"), "q=a+b&cursor=x");
    }
}
