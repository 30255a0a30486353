//! Where scheduled reports and alerts go and what they say: recipients (e-mail, Slack,
//! Teams, a signed webhook) as the API takes and shows them, the sealed form their
//! credentials are kept in, a report's summary, and each channel's rendering of a
//! message. Retries wait as outbound postbacks do (doubling, at most an hour).

pub mod message;
pub mod recipient;
pub mod seal;
pub mod summary;

pub use crate::domain::conversions::outbound::backoff_seconds;

/// Attempts per recipient before a delivery is given up as failed.
pub const MAX_ATTEMPTS: u32 = 6;

use crate::domain::auth::signature::hmac_sha256;
use crate::domain::ids::{constant_time_eq, hex};

/// How long a report's download link works, in seconds.
pub const FILE_LINK_SECONDS: i64 = 7 * 86_400;

/// The signature of a run's download link valid until `expires` (unix seconds): HMAC
/// under the Worker's master key, so no stored secret and no login are needed.
pub fn file_signature(master_key: &str, run_id: &str, expires: i64) -> String {
    hex(&hmac_sha256(
        master_key.as_bytes(),
        format!("report-file:{run_id}:{expires}").as_bytes(),
    ))
}

/// Whether a download link's `expires` and `signature` are genuine and not yet expired.
pub fn file_link_valid(
    master_key: &str,
    run_id: &str,
    expires: i64,
    signature: &str,
    now_ms: i64,
) -> bool {
    expires.saturating_mul(1000) > now_ms
        && constant_time_eq(
            signature.as_bytes(),
            file_signature(master_key, run_id, expires).as_bytes(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_link_works_until_it_expires_and_only_for_its_run() {
        let signature = file_signature("master", "rrn_1", 2_000_000_000);
        assert!(file_link_valid(
            "master",
            "rrn_1",
            2_000_000_000,
            &signature,
            1_999_999_999_000
        ));
        assert!(!file_link_valid(
            "master",
            "rrn_1",
            2_000_000_000,
            &signature,
            2_000_000_000_000
        ));
        assert!(!file_link_valid(
            "master",
            "rrn_2",
            2_000_000_000,
            &signature,
            0
        ));
        assert!(!file_link_valid(
            "master",
            "rrn_1",
            2_000_000_001,
            &signature,
            0
        ));
        assert!(!file_link_valid(
            "other",
            "rrn_1",
            2_000_000_000,
            &signature,
            0
        ));
    }
}
