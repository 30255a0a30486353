//! What a user agent says about the visitor: device type, OS and browser (from
//! `woothee`'s maintained dataset) and whether it is a bot (the npm package `isbot`'s
//! pattern list, generated into `bot_patterns.rs`, joined with woothee's crawler
//! category). It runs in the click queue consumer and the history import, never on the
//! redirect itself.

mod bot_patterns;
pub mod bots;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAgentInfo {
    /// `desktop`, `mobile`, `tablet`, `bot` or `other`.
    pub device: &'static str,
    pub os: String,
    pub browser: String,
    pub is_bot: bool,
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
    let is_bot = user_agent.trim().is_empty() || category == "crawler" || bots::matches(user_agent);
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

/// [`classify`] with a memory of the user agents it has seen: traffic repeats a few
/// thousand browsers' strings, and a repeated one costs a lookup instead of woothee's
/// parse and the bot patterns. Forgets everything when it holds `capacity` strings.
#[derive(Debug)]
pub struct Classifier {
    seen: HashMap<String, UserAgentInfo>,
    capacity: usize,
}

impl Classifier {
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashMap::new(),
            capacity,
        }
    }

    pub fn classify(&mut self, user_agent: &str) -> UserAgentInfo {
        if let Some(info) = self.seen.get(user_agent) {
            return info.clone();
        }
        let info = classify(user_agent);
        if self.seen.len() >= self.capacity {
            self.seen.clear();
        }
        self.seen.insert(user_agent.to_owned(), info.clone());
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classifier_answers_as_classify_does_and_stays_bounded() {
        let mut classifier = Classifier::new(2);
        let agents = [
            CHROME_WINDOWS,
            SAFARI_IPHONE,
            CHROME_WINDOWS,
            SAFARI_IPAD,
            "",
            "curl/8.5.0",
            SAFARI_IPAD,
        ];
        for agent in agents {
            assert_eq!(classifier.classify(agent), classify(agent), "{agent}");
            assert!(classifier.seen.len() <= 2);
        }
    }

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

    fn assert_bot(ua: &str) {
        let info = classify(ua);
        assert!(info.is_bot, "{ua:?} should be a bot");
        assert_eq!(info.device, "bot");
    }

    #[test]
    fn messenger_link_previews_are_bots() {
        assert_bot("WhatsApp/2.16.2/i");
        assert_bot("WhatsApp/2.23.20.0");
    }

    #[test]
    fn google_other_is_a_bot() {
        assert_bot("GoogleOther");
        assert_bot("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.69 Mobile Safari/537.36 (compatible; GoogleOther)");
    }

    #[test]
    fn meta_fetchers_are_bots() {
        assert_bot("meta-externalagent/1.1");
        assert_bot("meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)");
        assert_bot("facebookcatalog/1.0");
    }

    #[test]
    fn synthetic_monitors_are_bots() {
        assert_bot("RuxitSynthetic");
        assert_bot("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 RuxitSynthetic/1.0 v6870249674 t6703941201591042144 athfa3c3975 altpub cvcv=2 smf=0");
    }

    /// People tapping a referral link inside Instagram or Facebook are visitors, although
    /// crawler-user-agents lists such in-app browsers (two of its few misses here).
    #[test]
    fn in_app_browsers_are_people() {
        for ua in [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00; 1170x2532; 606558546)",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.38.108;FBBV/620000000;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]",
        ] {
            let info = classify(ua);
            assert!(!info.is_bot, "{ua:?} is a person");
            assert_eq!(info.device, "mobile");
        }
    }
}
