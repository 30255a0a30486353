//! The npm package `isbot`'s pattern list, matched in Rust: the same answer as its
//! `isbot(userAgent)` (tests/bot_patterns.rs checks that against the JavaScript package
//! itself on both corpora). The list is generated into `bot_patterns.rs` from the version
//! pinned in package.json, so it follows upstream instead of lagging behind a crate.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

pub use super::bot_patterns::ISBOT_VERSION;
use super::bot_patterns::PATTERNS;

/// isbot's own fallback when its full pattern does not compile in an engine. The full
/// pattern is tested to compile (`the_full_pattern_compiles`), so this never runs unless
/// a regex-crate upgrade breaks the list, and then clicks still get a rough answer.
const NAIVE: &str = "(?i)bot|crawl|http|lighthouse|scan|search|spider";

fn full_source() -> String {
    let alternatives: Vec<&str> = PATTERNS.iter().map(|(_, rust)| *rust).collect();
    alternatives.join("|")
}

/// The cap on the lazy DFA's state cache, which grows only as inputs need. With regex's
/// default (2 MiB) this alternation of ~200 patterns keeps overflowing it and falls back
/// to a slower engine: ~30 µs per user agent instead of ~0.2 µs (natively; see
/// `print_classification_cost` in tests/bot_patterns.rs). The corpora's 3,000 distinct
/// user agents fill ~5 MiB of it.
const DFA_CACHE_BYTES: usize = 8 << 20;

/// All patterns as one alternation, compiled once per isolate (2–7 ms natively) and then
/// matched in linear time: user agents are attacker-controlled, and the rewritten
/// lookarounds need no backtracking.
fn pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        RegexBuilder::new(&full_source())
            .dfa_size_limit(DFA_CACHE_BYTES)
            .build()
            .or_else(|_| Regex::new(NAIVE))
            .expect("the naive pattern is a plain alternation of literals")
    })
}

/// Whether isbot's list matches the user agent. Like isbot, an empty one does not match
/// (`classify` treats it as a bot on its own).
pub fn matches(user_agent: &str) -> bool {
    !user_agent.is_empty() && pattern().is_match(user_agent)
}

/// The upstream sources of the patterns that match, for explaining a verdict (tests,
/// investigations); compiles each pattern, so not for the per-click path.
pub fn matching_patterns(user_agent: &str) -> Vec<&'static str> {
    PATTERNS
        .iter()
        .filter(|(_, rust)| Regex::new(rust).is_ok_and(|re| re.is_match(user_agent)))
        .map(|(source, _)| *source)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_pattern_compiles() {
        for (source, rust) in PATTERNS {
            assert!(
                Regex::new(rust).is_ok(),
                "{source:?} translated to {rust:?}"
            );
        }
        assert_ne!(pattern().as_str(), NAIVE, "the full pattern must compile");
    }

    /// Whether the translation of the upstream pattern `source` matches.
    fn hits(source: &str, user_agent: &str) -> bool {
        let (_, rust) = PATTERNS.iter().find(|(s, _)| *s == source).expect(source);
        Regex::new(rust).expect(rust).is_match(user_agent)
    }

    // The rewritten lookarounds, case by case; each answer is JavaScript's
    // `new RegExp(source, "i").test(userAgent)`.
    #[test]
    fn negative_lookbehinds_hold() {
        let bot = r"(?<! cu)bots?(?:\b|_)";
        assert!(hits(bot, "Cubot"), "nothing before cu");
        assert!(!hits(bot, "Phone Cubot"), "a phone brand");
        assert!(hits(bot, "Phone Robot"));
        assert!(!hits("(?<!cam)scan", "camscanner"));
        assert!(hits("(?<!cam)scan", "x scanner"));
        assert!(!hits("(?<!lib)http", "libhttp"));
        assert!(hits("(?<!lib)http", "xhttp"));
        let google = "(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))";
        assert!(!hits(google, "Android; Channel/googleplay"));
        assert!(!hits(google, "Android google/google"));
        assert!(hits(google, "Android Googleplay"));
    }

    #[test]
    fn negative_lookaheads_hold() {
        let google = "(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))";
        assert!(!hits(google, "Android GoogleWV"));
        assert!(!hits(google, "Android Google Pixel 8"));
        assert!(hits(google, "Android Google Pix"));
        assert!(hits(google, "Android Google"));
        let news = "(?:^|[^g])news(?!sapphire)";
        assert!(!hits(news, "Android newssapphire"));
        assert!(hits(news, "Android newssapphir"));
        assert!(!hits(news, "Android gnews"));
        assert!(!hits("java(?!;)", "Android java;"));
        assert!(hits("java(?!;)", "Android java"));
    }

    #[test]
    fn case_folding_is_ascii_only_as_in_javascript() {
        // U+017F and U+212A fold to s and k in Unicode, not in JavaScript without `u`.
        assert!(hits("(?<!cam)scan", "Android SCAN"));
        assert!(!matches("Android \u{17f}can"));
        assert!(matches("Android Mon\u{212a}ey; java"));
        assert!(!matches(""));
    }

    #[test]
    fn matching_patterns_names_the_upstream_sources() {
        assert_eq!(matching_patterns("Android MonKey; java"), vec!["java(?!;)"]);
        assert!(matching_patterns("Android java;").is_empty());
    }
}
