//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second
//! steps, six digits, the step before and after accepted for clocks a little apart. The
//! administrators' second factor, enrolled by scanning an `otpauth://` QR code.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP: i64 = 30;
const DIGITS: u32 = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new secret: 20 bytes from the OS random source, in base32 (what authenticator apps
/// take).
pub fn new_secret() -> String {
    let raw = crate::tickets::random_base62(32);
    // 32 base62 characters carry about 190 bits; hash them down to the 160 RFC 4226 asks.
    let digest = <Sha1 as sha1::Digest>::digest(raw.as_bytes());
    base32(&digest)
}

/// The `otpauth://` URI an authenticator app reads from a QR code.
pub fn uri(issuer: &str, account: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The step `code` is right for at `now` (the current one or a neighbour), if any; the
/// caller refuses a step already used.
pub fn verify(secret: &str, code: &str, now: i64) -> Option<i64> {
    let key = decode_base32(secret)?;
    // Apps show codes as "108 256": spaces typed or pasted with it do not count.
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let code = code.as_str();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP);
    (current - 1..=current + 1).find(|&step| {
        crate::secrets::constant_time_eq(
            hotp(&key, step as u64, DIGITS).as_bytes(),
            code.as_bytes(),
        )
    })
}

/// RFC 4226: HMAC-SHA1 of the counter, dynamically truncated, `digits` decimal digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!(
        "{:0width$}",
        binary % 10u32.pow(digits),
        width = digits as usize
    )
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(BASE32[((n >> (35 - i * 5)) & 31) as usize] as char);
        }
    }
    out
}

fn decode_base32(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let value = BASE32.iter().position(|&b| b == c.to_ascii_uppercase())? as u64;
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B (SHA-1, 8 digits) and RFC 4226 appendix D (6 digits).
    #[test]
    fn the_rfcs_test_vectors() {
        let key = b"12345678901234567890";
        for (time, expected) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(key, time / 30, 8), expected, "{time}");
        }
        for (counter, expected) in [(0, "755224"), (1, "287082"), (9, "520489")] {
            assert_eq!(hotp(key, counter, 6), expected);
        }
        let secret = base32(key);
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(decode_base32(&secret).unwrap(), key);
        assert_eq!(verify(&secret, "287082", 59), Some(1));
        assert_eq!(verify(&secret, "287082", 61), Some(1), "the step before");
        assert_eq!(verify(&secret, "287082", 120), None, "two steps later");
        assert_eq!(verify(&secret, "28708", 59), None);
        assert_eq!(new_secret().len(), 32);
    }
}
