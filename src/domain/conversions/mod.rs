//! Conversions: what advertisers report (postback parameters, AmoCRM payloads), how a
//! conversion is attributed, what it earns (the commission engine), and how partners'
//! own trackers hear of it (outbound postbacks).

pub mod amocrm;
pub mod attribution;
pub mod commission;
pub mod outbound;
mod postback;
pub mod promo_code;

pub use postback::{
    parse_timestamp, ConversionEvent, ConversionStatus, Postback, AMOUNT_MAX_SCALE,
};
