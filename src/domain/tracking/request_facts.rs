//! What a redirect or a pixel reads from its request, as the edge's JavaScript hands it
//! to Rust (`http::edge_io`'s `requestFacts`): one string, one line per field in
//! [`FIELDS`]' order, `=value` for a field the request has and an empty line for one it
//! has not (so an empty header is told from a missing one).
//!
//! A line break cannot occur inside a value: the Fetch standard forbids LF, CR and NUL in
//! a header value (the runtime refuses such a request before a Worker sees it), and the
//! JavaScript replaces any in `request.cf`'s strings. Each field is read where it lies in
//! the string, borrowed, with no escaping to undo: as JSON (`JSON.stringify`, then
//! `serde_json`) the same facts cost the redirect a string escaped and unescaped and an
//! allocation per field (docs/benchmarks.md, 2026-12-04, stop 26).

use super::location::Location;

/// The fields, in the order the JavaScript writes them.
pub const FIELDS: [&str; 13] = [
    "cf-connecting-ip",
    "user-agent",
    "referer",
    "cookie",
    "sec-purpose",
    "purpose",
    "x-moz",
    "cf-ipcountry",
    "cf-ray",
    "cf.country",
    "cf.region",
    "cf.city",
    "cf.colo",
];

/// What an event needs from its request (absent fields `None`), borrowed from the string
/// the JavaScript wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub referer: Option<&'a str>,
    /// Read only when asked for (a link running a split test).
    pub cookie: Option<&'a str>,
    pub sec_purpose: Option<&'a str>,
    pub purpose: Option<&'a str>,
    pub x_moz: Option<&'a str>,
    /// `cf-ipcountry`, and `cf-ray` with it; when present, `request.cf` was not read.
    ip_country: Option<&'a str>,
    ray: Option<&'a str>,
    /// From `request.cf`.
    country: Option<&'a str>,
    region: Option<&'a str>,
    city: Option<&'a str>,
    colo: Option<&'a str>,
}

/// The string does not hold [`FIELDS`]' lines: the JavaScript and this module disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedFacts {
    pub lines: usize,
}

impl std::fmt::Display for MalformedFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request's facts have {} lines, expected {} ({})",
            self.lines,
            FIELDS.len(),
            FIELDS.join(", ")
        )
    }
}

impl<'a> RequestFacts<'a> {
    /// Reads the facts `text` holds: [`FIELDS`]' lines, each ended by a line break.
    pub fn parse(text: &'a str) -> Result<Self, MalformedFacts> {
        let mut values = [None; FIELDS.len()];
        let mut lines = 0;
        for line in text.split_terminator('\n') {
            if let Some(slot) = values.get_mut(lines) {
                *slot = line.strip_prefix('=');
            }
            lines += 1;
        }
        if lines != FIELDS.len() {
            return Err(MalformedFacts { lines });
        }
        let [ip, user_agent, referer, cookie, sec_purpose, purpose, x_moz, ip_country, ray, country, region, city, colo] =
            values;
        Ok(Self {
            ip,
            user_agent,
            referer,
            cookie,
            sec_purpose,
            purpose,
            x_moz,
            ip_country,
            ray,
            country,
            region,
            city,
            colo,
        })
    }

    /// Where the client is: from Cloudflare's headers when they were read, else from
    /// `request.cf` (absent outside Cloudflare's network, in some tests).
    pub fn location(&self) -> Location {
        match self.ip_country {
            Some(ip_country) => Location::from_headers(ip_country, self.ray),
            None => Location {
                country: self.country.map(str::to_owned),
                region: self.region.map(str::to_owned),
                city: self.city.map(str::to_owned),
                colo: self.colo.map(str::to_owned),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text the JavaScript writes for `values` (in [`FIELDS`]' order).
    fn written(values: [Option<&str>; 13]) -> String {
        values
            .iter()
            .map(|value| value.map_or_else(|| "\n".to_owned(), |v| format!("={v}\n")))
            .collect()
    }

    const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) \"quoted\" \\ é";

    #[test]
    fn reads_every_field_in_order() {
        let text = written([
            Some("198.51.100.2"),
            Some(UA),
            Some("https://blog.example/post"),
            Some("pl_vid=abc"),
            Some("prefetch"),
            Some("prefetch"),
            Some("prefetch"),
            Some("DE"),
            Some("8f3b2a1c9d-FRA"),
            Some("FR"),
            Some("IDF"),
            Some("Paris"),
            Some("CDG"),
        ]);
        let facts = RequestFacts::parse(&text).unwrap();
        assert_eq!(facts.ip, Some("198.51.100.2"));
        assert_eq!(facts.user_agent, Some(UA));
        assert_eq!(facts.referer, Some("https://blog.example/post"));
        assert_eq!(facts.cookie, Some("pl_vid=abc"));
        assert_eq!(facts.sec_purpose, Some("prefetch"));
        assert_eq!(facts.purpose, Some("prefetch"));
        assert_eq!(facts.x_moz, Some("prefetch"));
        // With cf-ipcountry, the headers decide and request.cf's fields are ignored.
        let location = facts.location();
        assert_eq!(location.country.as_deref(), Some("DE"));
        assert_eq!(location.colo.as_deref(), Some("FRA"));
        assert_eq!((location.region, location.city), (None, None));
    }

    #[test]
    fn absent_and_empty_fields_differ() {
        let mut values = [None; 13];
        values[1] = Some("");
        values[2] = Some("=x");
        let text = written(values);
        let facts = RequestFacts::parse(&text).unwrap();
        assert_eq!(facts.ip, None);
        assert_eq!(facts.user_agent, Some(""));
        // Only the first `=` marks presence; the rest is the value.
        assert_eq!(facts.referer, Some("=x"));
        assert_eq!(facts.cookie, None);
    }

    #[test]
    fn without_cf_ipcountry_the_location_is_request_cf() {
        let mut values = [None; 13];
        values[9] = Some("PL");
        values[10] = Some("14");
        values[11] = Some("Warsaw");
        values[12] = Some("WAW");
        let location = RequestFacts::parse(&written(values)).unwrap().location();
        assert_eq!(location.country.as_deref(), Some("PL"));
        assert_eq!(location.region.as_deref(), Some("14"));
        assert_eq!(location.city.as_deref(), Some("Warsaw"));
        assert_eq!(location.colo.as_deref(), Some("WAW"));
        // Nothing at all (a local runtime with no cf object): no location.
        let empty = written([None; 13]);
        let nothing = RequestFacts::parse(&empty).unwrap();
        assert_eq!(nothing, RequestFacts::default());
        assert_eq!(nothing.location(), Location::default());
    }

    #[test]
    fn unknown_country_header_is_no_country() {
        let mut values = [None; 13];
        values[7] = Some("XX");
        values[8] = Some("8f3b2a1c9d-AMS");
        let location = RequestFacts::parse(&written(values)).unwrap().location();
        assert_eq!(location.country, None);
        assert_eq!(location.colo.as_deref(), Some("AMS"));
    }

    #[test]
    fn the_wrong_number_of_lines_is_an_error() {
        let short = written([Some("x"); 13]);
        let short = &short[..short.len() - 3];
        assert_eq!(
            RequestFacts::parse(short),
            Err(MalformedFacts { lines: 12 })
        );
        let long = format!("{}=extra\n", written([None; 13]));
        let error = RequestFacts::parse(&long).unwrap_err();
        assert_eq!(error.lines, 14);
        assert!(error.to_string().contains("expected 13"));
        assert!(RequestFacts::parse("").is_err());
    }
}
