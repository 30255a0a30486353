//! Postback secrets and signatures.
//!
//! A program's postback secret is derived, never stored: `pbs_` + base64url of
//! HMAC-SHA256(`POSTBACK_SECRET_KEY`, "postback-secret:{program_id}:{version}"). D1 keeps
//! only its SHA-256 (to find the program a `token` belongs to) and the version (bumped to
//! rotate it). A signed postback carries `X-Partnerlens-Signature: sha256=<hex>`, the
//! HMAC-SHA256 of the raw query string (GET) or raw body (POST) keyed by that secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::ids::{base64url, constant_time_eq, hex};

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_HEADER: &str = "x-partnerlens-signature";

/// HMAC-SHA256 of `message` keyed by `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The postback secret of a program at a secret version.
pub fn postback_secret(master_key: &str, program_id: &str, version: i64) -> String {
    let label = format!("postback-secret:{program_id}:{version}");
    format!(
        "pbs_{}",
        base64url(&hmac_sha256(master_key.as_bytes(), label.as_bytes()))
    )
}

/// Whether `header` (`sha256=<hex>`) is the signature of `message` under `secret`.
pub fn verify(secret: &str, message: &[u8], header: &str) -> bool {
    let Some(given) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let expected = hex(&hmac_sha256(secret.as_bytes(), message));
    constant_time_eq(given.to_ascii_lowercase().as_bytes(), expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn secrets_depend_on_key_program_and_version() {
        let a = postback_secret("master", "prg_1", 1);
        assert!(a.starts_with("pbs_"));
        assert_eq!(a, postback_secret("master", "prg_1", 1));
        assert_ne!(a, postback_secret("master", "prg_1", 2));
        assert_ne!(a, postback_secret("master", "prg_2", 1));
        assert_ne!(a, postback_secret("other", "prg_1", 1));
    }

    #[test]
    fn signatures_verify_only_for_the_same_secret_and_message() {
        let secret = postback_secret("master", "prg_1", 1);
        let message = b"click_id=C&order_id=1&amount=5";
        let header = format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), message)));
        assert!(verify(&secret, message, &header));
        assert!(verify(
            &secret,
            message,
            &header.to_ascii_uppercase().replace("SHA256=", "sha256=")
        ));
        assert!(!verify(&secret, b"click_id=C&order_id=1&amount=6", &header));
        assert!(!verify(
            &postback_secret("master", "prg_1", 2),
            message,
            &header
        ));
        assert!(!verify(&secret, message, "md5=abc"));
    }
}
