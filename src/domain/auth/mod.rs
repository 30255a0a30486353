//! Credentials: API keys as they arrive (bearer, Basic, `api_key`), and postback secrets
//! with their HMAC signatures.

pub mod credentials;
pub mod session;
pub mod signature;
