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

/// The values of a route pattern's `{name}` segments, in order (at most two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'p> {
    values: [&'p str; 2],
    len: usize,
}

impl<'p> Params<'p> {
    /// The first parameter (`{id}`, `{code}`), or `""` for a pattern without one.
    pub fn first(&self) -> &'p str {
        self.values[0]
    }

    pub fn as_slice(&self) -> &[&'p str] {
        &self.values[..self.len]
    }
}

/// Matches `path` against a route pattern such as `/api/v1/links/{id}`: literal segments
/// must be equal, `{name}` takes any one segment. Empty segments are skipped. No
/// allocation: the redirect goes through here.
pub fn match_path<'p>(pattern: &str, path: &'p str) -> Option<Params<'p>> {
    let mut wanted = pattern.split('/').filter(|s| !s.is_empty());
    let mut given = path.split('/').filter(|s| !s.is_empty());
    let mut params = Params::default();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                *params.values.get_mut(params.len)? = g;
                params.len += 1;
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod match_path_tests {
    use super::*;

    #[test]
    fn literal_segments_match_exactly_and_parameters_take_one_segment() {
        let p = match_path("/api/v1/links/{id}", "/api/v1/links/lnk_1").unwrap();
        assert_eq!(p.as_slice(), ["lnk_1"]);
        assert_eq!(p.first(), "lnk_1");
        assert!(match_path("/api/v1/links/{id}", "/api/v1/links").is_none());
        assert!(match_path("/api/v1/links/{id}", "/api/v1/links/a/b").is_none());
        assert!(match_path("/api/v1/links", "/api/v1/links/").is_some());
        assert!(match_path("/odata", "/odata/").is_some());
        assert_eq!(
            match_path(
                "/payouts/{id}/statement.csv",
                "/payouts/pay_1/statement.csv"
            )
            .unwrap()
            .as_slice(),
            ["pay_1"]
        );
        assert_eq!(
            match_path("/r/{code}", "/r//evil.example").unwrap().first(),
            "evil.example"
        );
        assert_eq!(match_path("/healthz", "/healthz").unwrap().first(), "");
        assert!(
            match_path("/{a}/{b}/{c}", "/x/y/z").is_none(),
            "at most two parameters"
        );
    }
}
