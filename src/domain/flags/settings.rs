//! The thresholds a flag must clear besides its q-value, in one place so a program
//! owner's tolerance can be tuned without touching the statistics.
//!
//! Significance alone is not enough: in a program with millions of clicks a bot share of
//! 5.2 % against 5.0 % is "significant" and worthless. Each signal therefore also needs
//! an effect worth a partner manager's time: a minimum number of events, a share at
//! least some multiple of the program's, and (for shares) a minimum excess in
//! percentage points. The defaults were chosen so that clean simulated programs raise
//! well under one flag per hundred partners while the injected frauds of the tests are
//! all caught.

use serde::{Deserialize, Serialize};

/// A conversion this soon after its click is "fast": too quick for a person to have
/// read the page (click injection, cookie stuffing, scripted leads). The caller counts
/// `fast_conversions` with the same number.
pub const FAST_SECONDS: u64 = 10;

/// A sale is a "repeat order" when the same customer already bought within this many
/// minutes under another order id. The caller counts `repeat_orders` with it.
pub const REPEAT_MINUTES: u64 = 10;

/// The effect floor of a share-based signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShareFloor {
    /// At least this many suspicious events (fast conversions, duplicate clicks, ...).
    pub min_events: u64,
    /// The partner's share at least this multiple of the other partners' share.
    pub min_ratio: f64,
    /// ... and at least this much above it, as a fraction (0.05 = 5 percentage points).
    pub min_excess: f64,
}

/// The effect floor of a spike or drop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VolumeFloor {
    /// The value differs from the expected one by at least this many events.
    pub min_delta: f64,
    /// A spike is at least this multiple of the expected value.
    pub spike_ratio: f64,
    /// A drop is at most this fraction of the expected value.
    pub drop_ratio: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// A flag needs a Benjamini–Hochberg q-value at most this.
    pub q_level: f64,
    /// The other partners together need at least this many trials (conversions,
    /// clicks, sales) to be a baseline for a share-based signal.
    pub min_baseline_trials: u64,
    /// The trailing days (before the last three) a spike or drop needs without a forecast.
    pub min_baseline_days: usize,
    pub fast_conversions: ShareFloor,
    pub click_flooding: ShareFloor,
    pub bot_share: ShareFloor,
    /// `min_excess` is unused: conversion rates are small, the ratio says it all.
    pub conversion_rate: ShareFloor,
    pub repeat_orders: ShareFloor,
    pub volume: VolumeFloor,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            q_level: 0.05,
            min_baseline_trials: 30,
            min_baseline_days: 7,
            fast_conversions: ShareFloor {
                min_events: 10,
                min_ratio: 2.0,
                min_excess: 0.10,
            },
            click_flooding: ShareFloor {
                min_events: 50,
                min_ratio: 2.0,
                min_excess: 0.10,
            },
            bot_share: ShareFloor {
                min_events: 50,
                min_ratio: 2.0,
                min_excess: 0.05,
            },
            conversion_rate: ShareFloor {
                min_events: 5,
                min_ratio: 2.0,
                min_excess: 0.0,
            },
            repeat_orders: ShareFloor {
                min_events: 3,
                min_ratio: 3.0,
                min_excess: 0.02,
            },
            volume: VolumeFloor {
                min_delta: 20.0,
                spike_ratio: 1.5,
                drop_ratio: 0.5,
            },
        }
    }
}
