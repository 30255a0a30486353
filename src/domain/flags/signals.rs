//! The five share-based signals: what counts as a "suspicious event" and as an
//! opportunity for one, the floor each must clear, and the numbers shown as evidence.
//! All five share one test (`rates`), so they differ only in these definitions.

use serde_json::{json, Value};

use super::rates::{Counts, RateTest};
use super::settings::{Settings, ShareFloor, FAST_SECONDS, REPEAT_MINUTES};
use super::{FlagKind, PartnerWindow};

pub(crate) struct ShareSignal {
    pub kind: FlagKind,
    /// The partner's hits and trials; `None` when the row cannot say (no visitor data).
    pub counts: fn(&PartnerWindow) -> Option<Counts>,
    pub floor: fn(&Settings) -> ShareFloor,
    pub evidence: fn(&PartnerWindow, Counts, &RateTest) -> Value,
}

pub(crate) const SHARE_SIGNALS: [ShareSignal; 5] = [
    ShareSignal {
        kind: FlagKind::FastConversions,
        counts: |p| Some(Counts::new(p.fast_conversions, p.conversions)),
        floor: |s| s.fast_conversions,
        evidence: |_, c, t| {
            json!({
                "conversions": c.trials,
                "fast_conversions": c.hits,
                "share": c.share(),
                "program_share": t.baseline,
                "ratio": c.share() / t.baseline,
                "threshold_seconds": FAST_SECONDS,
            })
        },
    },
    ShareSignal {
        kind: FlagKind::ClickFlooding,
        // Duplicate clicks: every non-bot click beyond the first of its visitor.
        counts: |p| {
            if p.clicks > 0 && p.unique_visitors == 0 {
                None
            } else {
                Some(Counts::new(
                    p.clicks - p.unique_visitors.min(p.clicks),
                    p.clicks,
                ))
            }
        },
        floor: |s| s.click_flooding,
        evidence: |p, c, t| {
            let top = p.top_visitor_clicks.min(p.clicks);
            json!({
                "clicks": c.trials,
                "unique_visitors": c.trials - c.hits,
                "duplicate_clicks": c.hits,
                "duplicate_share": c.share(),
                "program_duplicate_share": t.baseline,
                "ratio": c.share() / t.baseline,
                "clicks_per_visitor": c.trials as f64 / (c.trials - c.hits).max(1) as f64,
                "top_visitor_clicks": top,
                "top_visitor_share": Counts::new(top, c.trials).share(),
            })
        },
    },
    ShareSignal {
        kind: FlagKind::BotShare,
        counts: |p| {
            Some(Counts::new(
                p.bot_clicks,
                p.clicks.saturating_add(p.bot_clicks),
            ))
        },
        floor: |s| s.bot_share,
        evidence: |_, c, t| {
            json!({
                "all_clicks": c.trials,
                "bot_clicks": c.hits,
                "share": c.share(),
                "program_share": t.baseline,
                "ratio": c.share() / t.baseline,
            })
        },
    },
    ShareSignal {
        kind: FlagKind::ConversionRateOutlier,
        // Sales above clicks (several sales on one click) are capped at the clicks.
        counts: |p| Some(Counts::new(p.sales, p.clicks)),
        floor: |s| s.conversion_rate,
        evidence: |p, c, t| {
            json!({
                "clicks": c.trials,
                "sales": p.sales,
                "conversion_rate": c.share(),
                "shrunk_rate": t.shrunk,
                "program_rate": t.baseline,
                "ratio": c.share() / t.baseline,
                "prior_alpha": t.alpha,
                "prior_beta": t.beta,
            })
        },
    },
    ShareSignal {
        kind: FlagKind::RepeatOrders,
        counts: |p| Some(Counts::new(p.repeat_orders, p.sales)),
        floor: |s| s.repeat_orders,
        evidence: |_, c, t| {
            json!({
                "sales": c.trials,
                "repeat_orders": c.hits,
                "share": c.share(),
                "program_share": t.baseline,
                "ratio": c.share() / t.baseline,
                "window_minutes": REPEAT_MINUTES,
            })
        },
    },
];
