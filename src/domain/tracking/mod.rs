//! Tracking: referral links and their destinations, the click or impression an edge
//! request captures, and what its user agent says (device, bot).

pub mod click;
pub mod link;
pub mod location;
pub mod material;
pub mod packing;
pub mod user_agent;
