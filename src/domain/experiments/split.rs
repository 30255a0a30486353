//! Destination split tests on a link: the variants as a manager sets them up, and the
//! variant a visitor gets, the same on every visit.

use serde::{Deserialize, Serialize};

use crate::domain::tracking::link::{Destination, LocationTemplate};
use crate::domain::Invalid;

pub const MAX_VARIANTS: usize = 10;
pub const MAX_WEIGHT: u32 = 1000;
const NAME_MAX_LEN: usize = 32;

/// A variant as stored: its name, where it sends visitors, and its share of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub destination: String,
    pub weight: u32,
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid::new("variants", "invalid_variants", message)
}

/// Checks a split test's variants: 2 to [`MAX_VARIANTS`], names of 1–32 characters from
/// `a-z 0-9 _ -` and all different (the first is the control), weights 1 to
/// [`MAX_WEIGHT`], destinations absolute http(s) URLs. Answers them normalised.
pub fn parse_variants(raw: Vec<Variant>) -> Result<Vec<Variant>, Invalid> {
    if !(2..=MAX_VARIANTS).contains(&raw.len()) {
        return Err(invalid(format!(
            "a split test has 2 to {MAX_VARIANTS} variants, the control first"
        )));
    }
    let mut variants: Vec<Variant> = Vec::with_capacity(raw.len());
    for v in raw {
        let name_ok = (1..=NAME_MAX_LEN).contains(&v.name.len())
            && v.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !name_ok {
            return Err(invalid(format!(
                "variant names are 1 to {NAME_MAX_LEN} characters from a-z, 0-9, '_' and '-', not {:?}",
                v.name
            )));
        }
        if variants.iter().any(|seen| seen.name == v.name) {
            return Err(invalid(format!("two variants are named {:?}", v.name)));
        }
        if !(1..=MAX_WEIGHT).contains(&v.weight) {
            return Err(invalid(format!(
                "variant {:?}: weight must be 1 to {MAX_WEIGHT}",
                v.name
            )));
        }
        let destination = Destination::parse(&v.destination)
            .map_err(|e| invalid(format!("variant {:?}: {}", v.name, e.message)))?;
        variants.push(Variant {
            destination: destination.as_str().to_owned(),
            ..v
        });
    }
    Ok(variants)
}

/// What the redirect needs of a running split test on its link (cached with the link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub experiment_id: String,
    pub arms: Vec<Arm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arm {
    pub name: String,
    pub weight: u32,
    pub location: LocationTemplate,
}

impl Split {
    /// The split of `variants` (already valid), each redirecting with `click_id_param`.
    pub fn new(experiment_id: &str, variants: &[Variant], click_id_param: &str) -> Option<Self> {
        let arms = variants
            .iter()
            .map(|v| {
                Some(Arm {
                    name: v.name.clone(),
                    weight: v.weight,
                    location: Destination::parse(&v.destination)
                        .ok()?
                        .location_template(click_id_param),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            experiment_id: experiment_id.to_owned(),
            arms,
        })
    }

    /// The arm of the visitor known by `visitor_key`: a hash of the experiment and the
    /// key, spread over the weights. The same visitor gets the same arm on every visit;
    /// across visitors the arms get their weights' shares.
    pub fn arm_for(&self, visitor_key: &str) -> &Arm {
        let total: u64 = self.arms.iter().map(|a| u64::from(a.weight)).sum();
        let mut point =
            fnv1a(&[self.experiment_id.as_bytes(), b":", visitor_key.as_bytes()]) % total.max(1);
        for arm in &self.arms {
            let weight = u64::from(arm.weight);
            if point < weight {
                return arm;
            }
            point -= weight;
        }
        &self.arms[self.arms.len() - 1]
    }
}

/// FNV-1a (64 bits) of the concatenated parts, finished with a 64-bit mixer so that
/// nearby keys spread evenly over any modulus.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in *part {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    // splitmix64's finaliser.
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^ (hash >> 31)
}

/// The key a visitor is known by in split tests: the `pl_vid` cookie when it holds one
/// (16 hex digits), else a hash of the address and the browser, which the redirect then
/// sets as the cookie. The address is only hashed, in memory, never stored.
pub fn visitor_key(cookie: Option<&str>, ip: &str, user_agent: &str) -> (String, bool) {
    if let Some(found) = cookie.and_then(cookie_value) {
        return (found.to_owned(), false);
    }
    (
        format!(
            "{:016x}",
            fnv1a(&[ip.as_bytes(), b"\n", user_agent.as_bytes()])
        ),
        true,
    )
}

/// The name of the cookie that keeps a visitor in its variants.
pub const VISITOR_COOKIE: &str = "pl_vid";

/// `pl_vid`'s value in a `Cookie` header, when it is 16 hex digits.
fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == VISITOR_COOKIE
            && value.len() == 16
            && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(name: &str, weight: u32) -> Variant {
        Variant {
            name: name.into(),
            destination: format!("https://shop.example/{name}"),
            weight,
        }
    }

    #[test]
    fn variants_are_checked_with_a_reason() {
        assert!(parse_variants(vec![variant("control", 1), variant("b", 3)]).is_ok());
        for bad in [
            vec![variant("control", 1)],
            vec![variant("control", 1), variant("control", 1)],
            vec![variant("control", 1), variant("B", 1)],
            vec![variant("control", 1), variant("b", 0)],
            vec![variant("control", 1), variant("b", 1001)],
            vec![
                variant("control", 1),
                Variant {
                    destination: "javascript:alert(1)".into(),
                    ..variant("b", 1)
                },
            ],
            (0..11).map(|i| variant(&format!("v{i}"), 1)).collect(),
        ] {
            let error = parse_variants(bad.clone()).unwrap_err();
            assert_eq!(
                (error.field, error.code),
                ("variants", "invalid_variants"),
                "{bad:?}"
            );
        }
    }

    fn split(weights: &[u32]) -> Split {
        let variants: Vec<Variant> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| variant(&format!("v{i}"), *w))
            .collect();
        Split::new("exp_1", &variants, "click_id").unwrap()
    }

    #[test]
    fn a_visitor_always_gets_the_same_arm() {
        let s = split(&[1, 1]);
        for key in ["a", "b", "0123456789abcdef"] {
            let first = s.arm_for(key).name.clone();
            for _ in 0..5 {
                assert_eq!(s.arm_for(key).name, first);
            }
        }
    }

    #[test]
    fn arms_get_their_weights_shares() {
        let s = split(&[1, 3]);
        let n = 40_000;
        let treated = (0..n)
            .filter(|i| s.arm_for(&format!("{i:016x}")).name == "v1")
            .count();
        let share = treated as f64 / n as f64;
        // 0.75 ± 4 standard errors (0.0022 each).
        assert!((share - 0.75).abs() < 0.009, "{share}");
    }

    #[test]
    fn different_experiments_split_visitors_independently() {
        let a = split(&[1, 1]);
        let mut b = split(&[1, 1]);
        b.experiment_id = "exp_2".into();
        let n = 10_000;
        let same = (0..n)
            .filter(|i| {
                let key = format!("{i:016x}");
                a.arm_for(&key).name == b.arm_for(&key).name
            })
            .count();
        let share = same as f64 / n as f64;
        assert!((share - 0.5).abs() < 0.02, "{share}");
    }

    #[test]
    fn the_cookie_keeps_a_visitor_and_an_address_makes_a_key_otherwise() {
        let (key, set) = visitor_key(
            Some("a=1; pl_vid=0123456789abcdef; b=2"),
            "203.0.113.7",
            "UA",
        );
        assert_eq!((key.as_str(), set), ("0123456789abcdef", false));
        let (derived, set) = visitor_key(Some("pl_vid=<script>"), "203.0.113.7", "UA");
        assert!(set);
        assert_eq!(derived.len(), 16);
        assert_eq!(visitor_key(None, "203.0.113.7", "UA").0, derived);
        assert_ne!(visitor_key(None, "203.0.113.8", "UA").0, derived);
    }
}
