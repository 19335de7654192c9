//! Ticket and token identifiers: random, URL-safe, and never stored in the clear when they
//! grant a session. `form` makes the login form's tokens.

pub mod form;

use rand::{rngs::OsRng, TryRngCore};
use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Characters after the prefix: 29 base62 characters carry 172 bits, and `ST-` + 29 is the
/// 32 characters every CAS client must accept (some keep tickets in 32-character columns).
pub const RANDOM_CHARS: usize = 29;

/// Kinds of identifier we mint, with their protocol prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ServiceTicket,
    ProxyTicket,
    ProxyGrantingTicket,
    ProxyGrantingTicketIou,
    TicketGrantingTicket,
    /// The cookie that ties a browser's login form, captcha and pending steps together.
    Flow,
    /// The cookie of a login paused for its first-login steps.
    PendingLogin,
    /// The cookie of a forgot-password recovery, and its form token.
    Recovery,
    /// A QR-code login request (the campus product's `uuid`).
    QrLogin,
    /// The `state` of a round trip through WeCom or WeChat, and a kept WeCom code.
    OAuthState,
}

impl Kind {
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::ServiceTicket => "ST-",
            Kind::ProxyTicket => "PT-",
            Kind::ProxyGrantingTicket => "PGT-",
            Kind::ProxyGrantingTicketIou => "PGTIOU-",
            Kind::TicketGrantingTicket => "TGT-",
            Kind::Flow => "FLOW-",
            Kind::PendingLogin => "PL-",
            Kind::Recovery => "RC-",
            Kind::QrLogin => "QR-",
            Kind::OAuthState => "OA-",
        }
    }
}

/// A fresh identifier: prefix + base62 from the OS random source (rejection sampling keeps
/// every character uniform).
pub fn new_id(kind: Kind) -> String {
    let mut id = String::with_capacity(kind.prefix().len() + RANDOM_CHARS);
    id.push_str(kind.prefix());
    id.push_str(&random_base62(RANDOM_CHARS));
    id
}

/// `n` uniformly random base62 characters from the operating system's RNG.
/// `n` characters drawn uniformly from `alphabet` (at most 256 bytes) with the OS RNG.
pub fn random_from(alphabet: &[u8], n: usize) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 32];
    while out.len() < n {
        OsRng
            .try_fill_bytes(&mut buf)
            .expect("operating system RNG unavailable");
        for &b in &buf {
            // Bytes at or above the last whole multiple would bias the first characters.
            if usize::from(b) < limit && out.len() < n {
                out.push(alphabet[usize::from(b) % alphabet.len()] as char);
            }
        }
    }
    out
}

pub fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        // The OS RNG failing means the machine cannot mint secrets at all; stop loudly.
        OsRng
            .try_fill_bytes(&mut buf)
            .expect("operating system RNG unavailable");
        for &b in &buf {
            // 248 = 4 * 62: bytes at or above it would bias the first characters.
            if b < 248 && out.len() < n {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// Hex SHA-256, the form in which session ids are stored and looked up.
pub fn hash_id(id: &str) -> String {
    crate::secrets::hex(&Sha256::digest(id.as_bytes()))
}

/// True if `s` could be an identifier we minted: the prefix, then only the ticket alphabet,
/// at most 256 characters. Used to reject junk before any lookup.
pub fn well_formed(s: &str, kind: Kind) -> bool {
    s.len() <= 256
        && s.strip_prefix(kind.prefix()).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A short, non-secret label for logs: the prefix and four characters.
pub fn log_label(id: &str) -> String {
    let end = id.char_indices().nth(7).map(|(i, _)| i).unwrap_or(id.len());
    format!("{}…", &id[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn service_tickets_are_32_url_safe_characters_and_unique() {
        let mut seen = HashSet::new();
        for _ in 0..20_000 {
            let id = new_id(Kind::ServiceTicket);
            assert_eq!(id.len(), 32);
            assert!(well_formed(&id, Kind::ServiceTicket));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn characters_are_spread_over_the_whole_alphabet() {
        let sample = random_base62(62 * 2000);
        let mut counts = [0usize; 128];
        sample.bytes().for_each(|b| counts[b as usize] += 1);
        for &c in ALPHABET {
            // Expected 2000 each; 6 sigma is about 270.
            let n = counts[c as usize];
            assert!(
                (1700..2300).contains(&n),
                "{} appeared {n} times",
                c as char
            );
        }
    }

    #[test]
    fn wrong_prefix_and_foreign_characters_are_not_well_formed() {
        assert!(!well_formed("PT-abc", Kind::ServiceTicket));
        assert!(!well_formed("ST-", Kind::ServiceTicket));
        assert!(!well_formed("ST-ab c", Kind::ServiceTicket));
        assert!(!well_formed("ST-ab&service=x", Kind::ServiceTicket));
        assert!(!well_formed(
            &format!("ST-{}", "a".repeat(300)),
            Kind::ServiceTicket
        ));
    }

    #[test]
    fn log_label_does_not_reveal_the_ticket() {
        let id = new_id(Kind::TicketGrantingTicket);
        assert!(log_label(&id).len() < 12);
        assert_eq!(
            hash_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
