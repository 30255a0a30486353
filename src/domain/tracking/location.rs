//! Where a click or an impression came from, as Cloudflare tells the Worker that serves
//! it, and how much of that partnerlens records (the variable `CLICK_LOCATION`).
//!
//! Cloudflare gives a Worker the visitor's location two ways. Its `cf-ipcountry` header
//! carries the country (with IP geolocation on, a zone's default) and `cf-ray` ends with
//! the data centre's code; both are plain headers. The `request.cf` object carries the
//! country, region, city and data centre too, but the runtime parses and freezes the
//! whole object (about 1.2 KB of JSON: TLS, bot and network fields as well) the first
//! time any field of it is read, which costs the redirect 5–7 % of its throughput
//! (`bench/request-facts`, docs/benchmarks.md). No report reads region or city, so by
//! default partnerlens records the country and the data centre from the headers, and
//! reads `request.cf` only where the header is missing (IP geolocation off, or a local
//! runtime that sends none); `CLICK_LOCATION = "city"` records region and city as well,
//! from `request.cf`, on every click.

/// How much of a visitor's location each event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocationDetail {
    /// Country (`cf-ipcountry`) and data centre (`cf-ray`); region and city not recorded.
    #[default]
    Country,
    /// Country, region, city and data centre, from `request.cf`.
    City,
}

impl LocationDetail {
    /// The variable (`wrangler.toml`, `wrangler.links.toml`) that chooses it.
    pub const VARIABLE: &'static str = "CLICK_LOCATION";

    /// `CLICK_LOCATION`'s value: `country` (or unset) or `city`, in any case. Anything else
    /// is an error that says what is accepted; the caller records the most it can then
    /// ([`LocationDetail::City`]), so a typo loses no data.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        let value = value.map(str::trim).unwrap_or_default();
        if value.is_empty() || value.eq_ignore_ascii_case("country") {
            Ok(Self::Country)
        } else if value.eq_ignore_ascii_case("city") {
            Ok(Self::City)
        } else {
            Err(format!(
                "{} must be \"country\" or \"city\", got \"{value}\"; recording the city",
                Self::VARIABLE
            ))
        }
    }

    /// Whether every event reads `request.cf` (otherwise only those without `cf-ipcountry`).
    pub fn reads_cf(self) -> bool {
        self == Self::City
    }
}

/// A visitor's location as one event records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub colo: Option<String>,
}

impl Location {
    /// From Cloudflare's headers: `cf-ipcountry`'s value and `cf-ray`'s, if any.
    pub fn from_headers(ip_country: &str, ray: Option<&str>) -> Self {
        Self {
            country: country_of_header(ip_country),
            region: None,
            city: None,
            colo: ray.and_then(colo_of_ray),
        }
    }
}

/// The country in `cf-ipcountry`: an ISO 3166-1 alpha-2 code, or `T1` (Tor), uppercased;
/// `XX` (Cloudflare could not tell) and anything that is not two letters or digits is none.
pub fn country_of_header(value: &str) -> Option<String> {
    let value = value.trim();
    let well_formed = value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphanumeric());
    (well_formed && !value.eq_ignore_ascii_case("XX")).then(|| value.to_ascii_uppercase())
}

/// The data centre that served the request: the code after the last `-` of its `cf-ray`
/// (`8a1b2c3d4e5f6a7b-FRA` → `FRA`), three or four letters; none if the ray has no such
/// suffix.
pub fn colo_of_ray(ray: &str) -> Option<String> {
    let (_, colo) = ray.trim().rsplit_once('-')?;
    let well_formed =
        (3..=4).contains(&colo.len()) && colo.bytes().all(|b| b.is_ascii_alphabetic());
    well_formed.then(|| colo.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_is_the_default_and_city_is_asked_for() {
        assert_eq!(LocationDetail::parse(None), Ok(LocationDetail::Country));
        assert_eq!(LocationDetail::parse(Some("")), Ok(LocationDetail::Country));
        assert_eq!(
            LocationDetail::parse(Some(" Country ")),
            Ok(LocationDetail::Country)
        );
        assert_eq!(
            LocationDetail::parse(Some("city")),
            Ok(LocationDetail::City)
        );
        assert_eq!(
            LocationDetail::parse(Some("CITY")),
            Ok(LocationDetail::City)
        );
        assert!(!LocationDetail::Country.reads_cf());
        assert!(LocationDetail::City.reads_cf());
    }

    #[test]
    fn an_unknown_detail_is_an_error_naming_the_choices() {
        let error = LocationDetail::parse(Some("full")).unwrap_err();
        assert!(error.contains("CLICK_LOCATION"), "{error}");
        assert!(error.contains("\"country\" or \"city\""), "{error}");
        assert!(error.contains("\"full\""), "{error}");
    }

    #[test]
    fn the_country_header_gives_a_code_or_none() {
        assert_eq!(country_of_header("DE").as_deref(), Some("DE"));
        assert_eq!(country_of_header(" de ").as_deref(), Some("DE"));
        assert_eq!(country_of_header("T1").as_deref(), Some("T1"));
        assert_eq!(country_of_header("XX"), None);
        assert_eq!(country_of_header("xx"), None);
        assert_eq!(country_of_header(""), None);
        assert_eq!(country_of_header("DEU"), None);
        assert_eq!(country_of_header("D-"), None);
    }

    #[test]
    fn the_colo_is_the_suffix_of_the_ray() {
        assert_eq!(colo_of_ray("8a1b2c3d4e5f6a7b-FRA").as_deref(), Some("FRA"));
        assert_eq!(colo_of_ray("8a1b2c3d4e5f6a7b-ewr").as_deref(), Some("EWR"));
        assert_eq!(
            colo_of_ray("8a1b2c3d4e5f6a7b-SJCA").as_deref(),
            Some("SJCA")
        );
        assert_eq!(colo_of_ray("8a1b2c3d4e5f6a7b"), None);
        assert_eq!(colo_of_ray("8a1b2c3d4e5f6a7b-"), None);
        assert_eq!(colo_of_ray("8a1b2c3d4e5f6a7b-F1A"), None);
        assert_eq!(colo_of_ray("8a1b-LONGER"), None);
    }

    #[test]
    fn headers_give_country_and_colo_but_no_region_or_city() {
        let location = Location::from_headers("FR", Some("8a1b2c3d4e5f6a7b-CDG"));
        assert_eq!(
            location,
            Location {
                country: Some("FR".into()),
                region: None,
                city: None,
                colo: Some("CDG".into()),
            }
        );
        assert_eq!(Location::from_headers("XX", None), Location::default());
    }
}
