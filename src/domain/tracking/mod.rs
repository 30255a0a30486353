//! Tracking: referral links and their destinations, the click or impression an edge
//! request captures (what it reads from the request, where the visitor is), and what its
//! user agent says (device, bot).

pub mod click;
pub mod link;
pub mod location;
pub mod material;
pub mod request_facts;
pub mod user_agent;
