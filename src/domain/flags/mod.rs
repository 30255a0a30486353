//! Fraud and anomaly flags: the statistics of the nightly job that marks partners (and
//! days) worth a second look. Pure: the job loads per-partner aggregates for one program
//! and one UTC day from D1, calls [`evaluate`], and stores the flags it returns (adding
//! the row's id, program, day and `acknowledged`).
//!
//! # How partnerlens decides to flag a partner
//!
//! Every night, for each program, each partner's last week is put through seven checks.
//! Each check is a statistical test: it asks how likely the partner's numbers would be
//! if nothing were wrong, and answers with a *p-value* (small = unlikely by chance). A
//! flag is raised only when two things hold at once:
//!
//! 1. **It is unlikely to be chance, across all the checks of the night.** Running
//!    hundreds of tests a night, some would come out "unlikely" by luck alone. The
//!    p-values of all partners × checks of the program are adjusted together
//!    (Benjamini–Hochberg) into *q-values*; a flag needs q ≤ 0.05, which keeps the
//!    expected share of false alarms among the flags at 5 % or less.
//! 2. **The effect is big enough to matter.** In a big program tiny differences are
//!    "significant"; each check also has a floor (a minimum number of events, a share at
//!    least twice the program's, ...; see [`Settings`]), so a flag always means
//!    something a partner manager would act on.
//!
//! Partners are compared with *the other partners of the same program* (the partner
//! itself is left out, so a large fraudster does not become its own yardstick), and with
//! the honest variety partners show: partners naturally differ, and the tests allow for
//! that spread, estimated robustly from the program's partners (a few fraudsters do not
//! widen it) and, while the program has few partners, assumed to be about ±50 %.
//! Partners with too few events for a check are not tested on it at all.
//!
//! **Fast conversions** (`fast_conversions`). Of the partner's conversions, the share
//! that came less than 10 seconds after their click, against the other partners' share.
//! Genuine customers need time to read a page; conversions that follow the click almost
//! at once point to click injection or scripted sign-ups. Needs at least 10 fast
//! conversions, at least twice the program's share and 10 percentage points above it.
//! Evidence: conversions, fast conversions, share, program share, ratio, threshold.
//!
//! **Click flooding** (`click_flooding`). Of the partner's (non-bot) clicks, the share
//! that were repeats by a visitor who had already clicked, against the other partners'
//! share. Floods of clicks from the same browsers inflate traffic and steal attribution.
//! Needs at least 50 duplicate clicks, twice the program's share and 10 points above.
//! Evidence also shows clicks per visitor and the busiest visitor's share of the clicks.
//!
//! **Bot share** (`bot_share`). Of all the partner's clicks, the share our bot detection
//! marked, against the other partners' share. Needs at least 50 bot clicks, twice the
//! program's share and 5 points above it.
//!
//! **Conversion-rate outlier** (`conversion_rate_outlier`). Sales per click far above
//! what the program's partners achieve, a sign of incentivised or fabricated sales. The
//! program's partners' conversion rates are summarised as a distribution (a Beta fitted
//! robustly, empirical Bayes), and the partner's sales are judged against what that
//! distribution predicts for its number of clicks. This is what keeps small partners
//! from being flagged on noise: one sale from three clicks is 33 %, but a typical rate
//! of 2 % makes at least one sale in three clicks a 6 % chance, nowhere near enough
//! evidence. Evidence includes the raw rate and the *shrunk* rate, the partner's rate
//! pulled towards the program's in proportion to how little data it rests on. Needs at
//! least 5 sales and twice the program's rate.
//!
//! **Spike and drop** (`spike`, `drop`). The day's volume against a forecast interval
//! when the forecasting job has one (a flag needs the day outside the 95 % interval), or
//! else against the partner's own recent days: the median of the trailing days, adjusted
//! for weekdays when there are three weeks of history, with a spread measured by the
//! median absolute deviation, so one past spike does not distort the baseline, and with
//! allowance for how little a few weeks of history can tell. The last three days are
//! also tested together, which catches a new level (a change point) that one day alone
//! would not show. A spike needs at least 1.5× the expected value, a
//! drop at most half of it, and both a difference of at least 20.
//!
//! **Repeat orders** (`repeat_orders`). Of the partner's sales, the share by a customer
//! who had already bought within 10 minutes under another order id, against the other
//! partners' share: splitting or re-submitting orders to multiply commissions. Needs at
//! least 3 repeat orders, three times the program's share and 2 points above it.
//!
//! **Severity.** *High* when the evidence is overwhelming (q ≤ 0.001) and the effect is
//! at least twice its floor (for example a share four times the program's where the
//! floor is two); *medium* when q ≤ 0.01 and the effect is at least 1.5× its floor;
//! *low* otherwise.
//!
//! The methods in detail: `rates` (the shared share test), `volume` (spike and drop),
//! `bh` (q-values), `tails` (the distributions, from `statrs`).

mod bh;
mod rates;
mod settings;
mod signals;
#[cfg(test)]
mod simulation;
mod tails;
#[cfg(test)]
mod tests;
mod volume;

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::text::string_enum;

pub use bh::benjamini_hochberg;
pub use settings::{Settings, ShareFloor, VolumeFloor, FAST_SECONDS, REPEAT_MINUTES};

string_enum!(
    /// What a flag is about (the names are part of the API).
    FlagKind, "kind" {
        FastConversions = "fast_conversions",
        ClickFlooding = "click_flooding",
        BotShare = "bot_share",
        ConversionRateOutlier = "conversion_rate_outlier",
        Spike = "spike",
        Drop = "drop",
        RepeatOrders = "repeat_orders",
    }
);

string_enum!(
    /// How strongly a flag asks for attention (the rule is in the module doc).
    Severity, "severity" { Low = "low", Medium = "medium", High = "high" }
);

/// One partner of one program over the evaluated window (for example the 7 days ending
/// on the day), as sums a single `GROUP BY partner_id` can produce.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartnerWindow {
    pub partner_id: String,
    /// Non-bot clicks.
    pub clicks: u64,
    pub bot_clicks: u64,
    /// Distinct visitor hashes among the non-bot clicks (0 with clicks: unknown, and the
    /// click-flooding check is skipped).
    pub unique_visitors: u64,
    /// Non-bot clicks of the partner's busiest visitor.
    pub top_visitor_clicks: u64,
    /// Counted conversions attributed to clicks (for their timing).
    pub conversions: u64,
    /// Of those, how many came less than [`FAST_SECONDS`] after their click.
    pub fast_conversions: u64,
    /// Counted sales (the conversion rate is sales / clicks).
    pub sales: u64,
    /// Sales by a customer who already bought within [`REPEAT_MINUTES`] under another
    /// order id.
    pub repeat_orders: u64,
    /// The partner's daily clicks (or sales) for the trailing days, oldest first, ending
    /// on the evaluated day. Without a forecast interval spike and drop need ten days or
    /// more (the last three are tested, the rest are the baseline); with 24 or more (three
    /// weeks of baseline) the baseline is adjusted for weekdays.
    #[serde(default)]
    pub daily: Vec<f64>,
}

/// A forecast's 95 % interval for the evaluated day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower_95: f64,
    pub upper_95: f64,
}

/// Everything the flags need for one program and one day.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramDay {
    pub program_id: String,
    pub day: NaiveDate,
    pub partners: Vec<PartnerWindow>,
    /// Optional forecast intervals for the day's value of `daily`, by partner id; a
    /// partner without one is compared with its own trailing days.
    pub intervals: HashMap<String, Interval>,
}

/// A raised flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub partner_id: String,
    pub kind: FlagKind,
    pub severity: Severity,
    /// The test's own p-value.
    pub p_value: f64,
    /// Its Benjamini–Hochberg q-value over all tests of the program-day.
    pub q_value: f64,
    /// The numbers behind the flag, named per kind; always finite.
    pub evidence: Value,
}

/// One performed test, before the q-values decide.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub partner: usize,
    pub kind: FlagKind,
    pub p_value: f64,
    pub floor_met: bool,
    /// The effect over its floor (≥ 1 when the floor is met).
    pub strength: f64,
    pub evidence: Value,
}

/// The flags of one program-day with the default [`Settings`].
pub fn evaluate(day: &ProgramDay) -> Vec<Flag> {
    evaluate_with(day, &Settings::default())
}

/// The flags of one program-day, in partner order then check order.
pub fn evaluate_with(day: &ProgramDay, settings: &Settings) -> Vec<Flag> {
    let candidates = candidates(day, settings);
    let p_values: Vec<f64> = candidates.iter().map(|c| c.p_value).collect();
    let q_values = benjamini_hochberg(&p_values);
    let mut flags: Vec<(usize, Flag)> = candidates
        .into_iter()
        .zip(q_values)
        .filter(|(c, q)| c.floor_met && *q <= settings.q_level)
        .map(|(c, q)| {
            let flag = Flag {
                partner_id: day.partners[c.partner].partner_id.clone(),
                kind: c.kind,
                severity: severity(q, c.strength),
                p_value: c.p_value,
                q_value: q,
                evidence: c.evidence,
            };
            (c.partner, flag)
        })
        .collect();
    flags.sort_by_key(|(partner, flag)| (*partner, kind_order(flag.kind)));
    flags.into_iter().map(|(_, flag)| flag).collect()
}

/// Every test that can be performed on the program-day.
pub(crate) fn candidates(day: &ProgramDay, settings: &Settings) -> Vec<Candidate> {
    let mut out = Vec::new();
    for signal in &signals::SHARE_SIGNALS {
        let floor = (signal.floor)(settings);
        let counts: Vec<Option<rates::Counts>> = day.partners.iter().map(signal.counts).collect();
        let model = rates::RateModel::fit(&counts.iter().flatten().copied().collect::<Vec<_>>());
        for (index, partner) in day.partners.iter().enumerate() {
            let Some(counts) = counts[index] else {
                continue;
            };
            // A partner that could not reach the floor whatever it did is no hypothesis.
            if counts.trials == 0 || counts.trials < floor.min_events {
                continue;
            }
            let Some(test) = model.test(counts, settings.min_baseline_trials) else {
                continue;
            };
            let share = counts.share();
            let ratio = share / test.baseline;
            out.push(Candidate {
                partner: index,
                kind: signal.kind,
                p_value: test.p_value,
                floor_met: counts.hits >= floor.min_events
                    && ratio >= floor.min_ratio
                    && share - test.baseline >= floor.min_excess,
                strength: ratio / floor.min_ratio,
                evidence: (signal.evidence)(partner, counts, &test),
            });
        }
    }
    for (index, partner) in day.partners.iter().enumerate() {
        let interval = day.intervals.get(&partner.partner_id).copied();
        if let Some(test) = volume::test(&partner.daily, interval, settings) {
            out.push(Candidate {
                partner: index,
                kind: test.kind,
                p_value: test.p_value,
                floor_met: test.floor_met,
                strength: test.strength,
                evidence: test.evidence,
            });
        }
    }
    out
}

/// High: q ≤ 0.001 and the effect at least twice its floor; medium: q ≤ 0.01 and at
/// least 1.5× its floor; low otherwise.
fn severity(q: f64, strength: f64) -> Severity {
    if q <= 0.001 && strength >= 2.0 {
        Severity::High
    } else if q <= 0.01 && strength >= 1.5 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

fn kind_order(kind: FlagKind) -> usize {
    match kind {
        FlagKind::FastConversions => 0,
        FlagKind::ClickFlooding => 1,
        FlagKind::BotShare => 2,
        FlagKind::ConversionRateOutlier => 3,
        FlagKind::Spike => 4,
        FlagKind::Drop => 5,
        FlagKind::RepeatOrders => 6,
    }
}
