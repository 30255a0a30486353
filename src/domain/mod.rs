//! The pure domain of partnerlens: ids, link codes and destinations, programs and
//! partners, click parsing and classification, pagination cursors.
//!
//! Nothing in here knows about Workers: every type is built from plain strings and
//! numbers at the edge and unit-tested natively with `cargo test`.

pub mod amocrm;
pub mod attribution;
pub mod click;
pub mod commission;
pub mod conversion;
pub mod cost;
pub mod credentials;
pub mod cursor;
pub mod error;
pub mod ids;
pub mod import;
pub mod journey;
pub mod link;
pub mod money;
pub mod odata;
pub mod outbound;
pub mod partner;
pub mod program;
#[cfg(test)]
mod properties;
pub mod reporting;
pub mod request_target;
pub mod signature;
pub mod text;
pub mod time;
pub mod user_agent;

pub use error::Invalid;
