//! Secrets the Worker must read back (a Slack or Teams webhook URL, a webhook's signing
//! secret) are kept sealed: ChaCha20-Poly1305 under a key derived from the Worker's
//! `POSTBACK_SECRET_KEY`, with the owning row's id as associated data, so a sealed value
//! is unreadable without the Worker's secret and fails to open if it is altered or
//! copied to another row. Sealed text is `v1.` and the hex of nonce ‖ ciphertext.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

use crate::domain::auth::signature::hmac_sha256;
use crate::domain::ids::hex;

const VERSION: &str = "v1.";
const NONCE_LEN: usize = 12;

/// A sealed value that cannot be opened: another key, another row, or altered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable;

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sealed value could not be opened (wrong key, row or altered)")
    }
}

fn cipher(master_key: &str) -> ChaCha20Poly1305 {
    let key = hmac_sha256(master_key.as_bytes(), b"partnerlens-seal:v1");
    ChaCha20Poly1305::new(Key::from_slice(&key))
}

/// Seals `plain` for the row `owner` with a fresh random nonce.
pub fn seal(master_key: &str, owner: &str, plain: &[u8]) -> String {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).expect("the platform random number generator is unavailable");
    seal_with_nonce(master_key, owner, plain, nonce)
}

fn seal_with_nonce(master_key: &str, owner: &str, plain: &[u8], nonce: [u8; NONCE_LEN]) -> String {
    let sealed = cipher(master_key)
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: owner.as_bytes(),
            },
        )
        .expect("ChaCha20-Poly1305 seals any message that fits in memory");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    format!("{VERSION}{}", hex(&out))
}

fn unhex(raw: &str) -> Option<Vec<u8>> {
    if !raw.len().is_multiple_of(2) {
        return None;
    }
    (0..raw.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(raw.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Opens what [`seal`] sealed for the same `owner` under the same key.
pub fn open(master_key: &str, owner: &str, sealed: &str) -> Result<Vec<u8>, Unreadable> {
    let bytes = sealed
        .strip_prefix(VERSION)
        .and_then(unhex)
        .filter(|b| b.len() > NONCE_LEN)
        .ok_or(Unreadable)?;
    let (nonce, body) = bytes.split_at(NONCE_LEN);
    cipher(master_key)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: owner.as_bytes(),
            },
        )
        .map_err(|_| Unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_what_it_sealed_and_hides_the_text() {
        let url = b"https://hooks.slack.com/services/T1/B2/secretpart";
        let sealed = seal("master", "rsc_1", url);
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("hooks.slack.com"));
        assert_eq!(open("master", "rsc_1", &sealed).unwrap(), url);
    }

    #[test]
    fn two_seals_of_one_value_differ() {
        assert_ne!(seal("k", "o", b"same"), seal("k", "o", b"same"));
    }

    #[test]
    fn another_key_row_or_a_flipped_bit_cannot_open_it() {
        let sealed = seal_with_nonce("master", "rsc_1", b"secret", [7; NONCE_LEN]);
        assert_eq!(open("other", "rsc_1", &sealed), Err(Unreadable));
        assert_eq!(open("master", "rsc_2", &sealed), Err(Unreadable));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(open("master", "rsc_1", &tampered), Err(Unreadable));
        assert_eq!(open("master", "rsc_1", "v1.zz"), Err(Unreadable));
        assert_eq!(open("master", "rsc_1", "plain"), Err(Unreadable));
    }
}
