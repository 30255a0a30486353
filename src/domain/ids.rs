//! Random identifiers: entity ids, click ids, link codes and secrets, all from
//! `getrandom` (the platform CSPRNG; `crypto.getRandomValues` on Workers).

use std::cell::RefCell;

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Length of a generated link code: 62^8 ≈ 2.2e14 codes.
pub const GENERATED_CODE_LEN: usize = 8;

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The platform RNG failing is not a condition any caller can handle.
    getrandom::fill(&mut bytes).expect("the platform random number generator is unavailable");
    bytes
}

/// How many bytes of the platform CSPRNG's output click ids are drawn from at a time.
const POOL_BYTES: usize = 4096;

thread_local! {
    /// Platform randomness not yet handed out, and how much of it has been.
    static POOL: RefCell<([u8; POOL_BYTES], usize)> =
        const { RefCell::new(([0; POOL_BYTES], POOL_BYTES)) };
}

/// `N` bytes of the platform CSPRNG's output, drawn [`POOL_BYTES`] at a time: the click
/// id is the redirect's one draw, and a call out of wasm for each cost it more than the
/// draw itself (`bench/profile`). Every byte is handed out once and wiped from the pool
/// as it is.
fn pooled<const N: usize>() -> [u8; N] {
    POOL.with_borrow_mut(|(pool, used)| {
        if *used + N > POOL_BYTES {
            getrandom::fill(pool).expect("the platform random number generator is unavailable");
            *used = 0;
        }
        let taken = &mut pool[*used..*used + N];
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(taken);
        taken.fill(0);
        *used += N;
        bytes
    })
}

/// Unpadded base64url of `bytes`.
pub fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A 128-bit random value as 22 URL-safe characters.
pub fn random_token_128() -> String {
    base64url(&random::<16>())
}

/// A click id: 128 random bits, URL-safe and unguessable.
pub fn new_click_id() -> String {
    base64url(&pooled::<16>())
}

/// An entity id such as `prg_…`, `ptn_…`, `lnk_…`: a short type prefix and 128 random bits.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_token_128())
}

/// A secret shown once to its owner (postback secret, API key): 256 random bits.
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}_{}", base64url(&random::<32>()))
}

/// A link code of [`GENERATED_CODE_LEN`] alphanumeric characters, uniformly drawn
/// (rejection sampling keeps every character equally likely).
pub fn new_link_code() -> String {
    let mut code = String::with_capacity(GENERATED_CODE_LEN);
    while code.len() < GENERATED_CODE_LEN {
        for b in random::<16>() {
            // 248 = 4 × 62: bytes at or above it would bias the first characters.
            if b < 248 && code.len() < GENERATED_CODE_LEN {
                code.push(ALPHANUMERIC[usize::from(b % 62)] as char);
            }
        }
    }
    code
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// SHA-256 of `parts` concatenated, as lowercase hex.
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

/// Compares two secrets in time independent of where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors_without_padding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn click_ids_are_22_url_safe_chars_and_distinct() {
        let a = new_click_id();
        let b = new_click_id();
        assert_eq!(a.len(), 22);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn the_pool_hands_each_byte_out_once_and_refills_when_drawn_dry() {
        // Across several refills: every click id distinct, and the pool keeps no byte it
        // has handed out.
        let ids: std::collections::HashSet<String> = (0..3 * POOL_BYTES / 16 + 7)
            .map(|_| new_click_id())
            .collect();
        assert_eq!(ids.len(), 3 * POOL_BYTES / 16 + 7);
        POOL.with_borrow(|(pool, used)| {
            assert!(*used > 0 && *used <= POOL_BYTES);
            assert!(pool[..*used].iter().all(|b| *b == 0));
            // What is left is the CSPRNG's output, not zeros.
            assert!(*used == POOL_BYTES || pool[*used..].iter().any(|b| *b != 0));
        });
        // A draw that does not fit what is left refills the pool first.
        POOL.with_borrow_mut(|(_, used)| *used = POOL_BYTES - 8);
        let bytes = pooled::<16>();
        assert_ne!(bytes, [0; 16]);
        POOL.with_borrow(|(_, used)| assert_eq!(*used, 16));
    }

    #[test]
    fn generated_codes_are_alphanumeric_of_fixed_length() {
        for _ in 0..200 {
            let code = new_link_code();
            assert_eq!(code.len(), GENERATED_CODE_LEN);
            assert!(code.bytes().all(|c| c.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn ids_carry_their_prefix() {
        assert!(new_id("prg").starts_with("prg_"));
        assert_eq!(new_secret("pls").len(), 4 + 43);
    }

    #[test]
    fn sha256_hex_of_abc_is_the_standard_vector() {
        assert_eq!(
            sha256_hex(&[b"a", b"bc"]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
