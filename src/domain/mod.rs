//! The pure domain of partnerlens, one folder or file per concept:
//!
//! - `tracking`: links, captured clicks and impressions, user agents and bots;
//! - `conversions`: postback parameters, AmoCRM payloads, attribution, the commission
//!   engine, outbound postbacks;
//! - `money`: amounts, currencies, rounding, cents, formatting; program costs;
//! - `partners`: partners and the partner journey; `program`: programs;
//! - `reporting`: the report engine (dimensions, metrics, queries, facts → rows);
//! - `odata`: the OData feed's query language;
//! - insights: `insights` (forecasts and their backtest), `flags` (fraud and anomaly
//!   tests), `goals` (SMART goals' pace and odds), `nightly` (what the nightly job fits
//!   and judges);
//! - `experiments`: split tests and commission experiments, and the statistics they are
//!   judged by (rate and mean tests, rank test, sample-ratio check, sample sizes);
//! - `schedules`: when a scheduled report is due, the period it covers, and what a
//!   schedule asks for; `notify`: recipients, sealed credentials and each channel's
//!   message; `alerts`: alert rules, their judgement and quiet periods;
//! - `archive`: when a day of raw events may leave D1 for R2, and its ids and keys;
//!   `shards`: which event database a new program's raw events go to;
//! - `import`: NDJSON history lines; `auth`: credentials and postback signatures;
//! - shared: ids, text, time, pagination cursors, request targets, `Invalid`.
//!
//! Nothing in here knows about Workers: every type is built from plain strings and
//! numbers at the edge and unit-tested natively with `cargo test`.

pub mod alerts;
pub mod archive;
pub mod auth;
pub mod conversions;
pub mod cursor;
pub mod error;
pub mod experiments;
pub mod flags;
pub mod goals;
pub mod ids;
pub mod import;
pub mod insights;
pub mod money;
pub mod nightly;
pub mod notify;
pub mod odata;
pub mod partners;
pub mod program;
#[cfg(test)]
mod properties;
pub mod reporting;
pub mod request_target;
pub mod schedules;
pub mod shards;
pub mod text;
pub mod time;
pub mod tracking;

pub use error::Invalid;
