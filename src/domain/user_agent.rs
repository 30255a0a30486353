//! What a user agent says about the visitor: device type, OS and browser (from
//! `woothee`'s maintained dataset) and whether it is a bot (from `isbot`'s maintained
//! pattern list, joined with woothee's crawler category).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAgentInfo {
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device: &'static str,
    pub os: String,
    pub browser: String,
    pub is_bot: bool,
}

fn bots() -> &'static isbot::Bots {
    static BOTS: OnceLock<isbot::Bots> = OnceLock::new();
    BOTS.get_or_init(isbot::Bots::default)
}

fn known(value: &str) -> String {
    if value.is_empty() || value == woothee::woothee::VALUE_UNKNOWN {
        "unknown".to_owned()
    } else {
        value.to_owned()
    }
}

/// Classifies a user agent. An empty user agent is a bot: browsers always send one.
pub fn classify(user_agent: &str) -> UserAgentInfo {
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    let category = parsed.as_ref().map_or("", |p| p.category);
    let is_bot = user_agent.trim().is_empty() || category == "crawler" || bots().is_bot(user_agent);
    let os = parsed
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), |p| known(p.os));
    let device = if is_bot {
        "bot"
    } else {
        match category {
            "pc" => "desktop",
            "smartphone" if os == "iPad" || user_agent.contains("Tablet") => "tablet",
            "smartphone" | "mobilephone" => "mobile",
            _ => "other",
        }
    };
    UserAgentInfo {
        device,
        browser: parsed
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |p| known(p.name)),
        os,
        is_bot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    const SAFARI_IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";

    #[test]
    fn desktop_browsers_are_desktop() {
        let info = classify(CHROME_WINDOWS);
        assert_eq!(info.device, "desktop");
        assert_eq!(info.browser, "Chrome");
        assert_eq!(info.os, "Windows 10");
        assert!(!info.is_bot);
    }

    #[test]
    fn phones_and_tablets_are_told_apart() {
        assert_eq!(classify(SAFARI_IPHONE).device, "mobile");
        assert_eq!(classify(SAFARI_IPHONE).os, "iPhone");
        assert_eq!(classify(SAFARI_IPAD).device, "tablet");
    }

    #[test]
    fn crawlers_and_tools_are_bots() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "",
        ] {
            let info = classify(ua);
            assert!(info.is_bot, "{ua:?} should be a bot");
            assert_eq!(info.device, "bot");
        }
    }
}
