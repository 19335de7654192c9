//! Login form tokens (Apereo's `execution`, CAS 1's `lt`): single use, bound to the browser
//! that loaded the form, and stateless until spent.
//!
//! A token is the time it was issued and a random nonce, authenticated with the
//! installation's key and the browser's flow cookie. Issuing one stores nothing, so a flood
//! of anonymous `GET /login` costs no memory. Spending one records its nonce until the token
//! would have expired anyway; that record has a fixed capacity, and when it is full the
//! oldest records go and every token issued before them stops being accepted (`floor`), so
//! a forgotten record can never make a spent token good again. Under such a flood people at
//! worst reload the form; memory stays bounded. With several nodes on PostgreSQL the spent
//! nonces are recorded in the database they share instead (one `INSERT … ON CONFLICT DO
//! NOTHING`), so a token spent on one node is spent on all.
//!
//! The page's password-wrapping salt (see `unwrap_password`) is derived from the nonce, so
//! it needs no storage either.

use crate::secrets::Keys;
use crate::store::{Store, StoreError};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use base64::Engine;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const PREFIX: &str = "LT-";
const NONCE: usize = 16;
const TAG: usize = 16;
/// Characters of the per-page salt, which is also the AES-128 key of the wrapped password.
pub const SALT_CHARS: usize = 16;

/// A token found authentic and unexpired, not yet spent.
struct Authentic {
    nonce: [u8; NONCE],
    /// When the token expires anyway, and its record may go.
    expires_at: i64,
}

/// A form token as issued: the value for the hidden field and the page's salt.
pub struct FormToken {
    pub token: String,
    pub salt: String,
}

pub struct FormTokens {
    keys: Arc<Keys>,
    ttl: i64,
    spent: Mutex<Spent>,
    /// With several nodes, spent tokens are recorded in the database they share instead, so
    /// a token spent on one node is spent on all.
    shared: Option<Store>,
}

struct Spent {
    nonces: HashSet<[u8; NONCE]>,
    /// In the order spent: (nonce, issued at).
    order: VecDeque<([u8; NONCE], i64)>,
    /// Tokens issued at or before this time are refused.
    floor: i64,
    capacity: usize,
}

impl FormTokens {
    /// Tokens whose spending `store` records if it is shared, else this process.
    pub fn new(keys: Arc<Keys>, ttl: i64, capacity: usize, store: &Store) -> FormTokens {
        FormTokens {
            shared: store.is_shared().then(|| store.clone()),
            ..FormTokens::in_memory(keys, ttl, capacity)
        }
    }

    fn in_memory(keys: Arc<Keys>, ttl: i64, capacity: usize) -> FormTokens {
        FormTokens {
            keys,
            ttl,
            spent: Mutex::new(Spent {
                nonces: HashSet::new(),
                order: VecDeque::new(),
                floor: i64::MIN,
                capacity,
            }),
            shared: None,
        }
    }

    /// A fresh token for the browser holding `flow`.
    pub fn issue(&self, flow: &str, now: i64) -> FormToken {
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(&super::random_base62(NONCE).as_bytes()[..NONCE]);
        let mut raw = Vec::with_capacity(8 + NONCE + TAG);
        raw.extend_from_slice(&now.to_be_bytes());
        raw.extend_from_slice(&nonce);
        let tag = self.tag(flow, &raw);
        raw.extend_from_slice(&tag);
        FormToken {
            token: format!("{PREFIX}{}", B64.encode(raw)),
            salt: self.salt(&nonce),
        }
    }

    /// Spends `token` if it is authentic, was issued to `flow`, is neither expired nor spent;
    /// returns the page's salt. Every token is spent by its first presentation.
    pub async fn redeem(
        &self,
        token: &str,
        flow: Option<&str>,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let Some(good) = self.authentic(token, flow, now) else {
            return Ok(None);
        };
        let fresh = match &self.shared {
            None => self.spend(&good, now),
            Some(store) => {
                let nonce = String::from_utf8_lossy(&good.nonce).into_owned();
                store
                    .claim_ephemeral("form", &nonce, good.expires_at)
                    .await?
            }
        };
        Ok(fresh.then(|| self.salt(&good.nonce)))
    }

    /// `token` if it is authentic, issued to `flow` and unexpired, spent or not.
    fn authentic(&self, token: &str, flow: Option<&str>, now: i64) -> Option<Authentic> {
        let flow = flow?;
        let raw = B64.decode(token.strip_prefix(PREFIX)?).ok()?;
        if raw.len() != 8 + NONCE + TAG {
            return None;
        }
        let (body, tag) = raw.split_at(8 + NONCE);
        if !crate::secrets::constant_time_eq(&self.tag(flow, body), tag) {
            return None;
        }
        let issued = i64::from_be_bytes(body[..8].try_into().ok()?);
        let nonce: [u8; NONCE] = body[8..].try_into().ok()?;
        if issued > now || now > issued + self.ttl {
            return None;
        }
        Some(Authentic {
            nonce,
            expires_at: issued + self.ttl,
        })
    }

    /// Records the token as spent here; false if it was already.
    fn spend(&self, good: &Authentic, now: i64) -> bool {
        let (nonce, issued) = (good.nonce, good.expires_at - self.ttl);
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        if issued <= spent.floor || !spent.nonces.insert(nonce) {
            return false;
        }
        spent.order.push_back((nonce, issued));
        // Records of tokens that have expired anyway can go without raising the floor.
        while let Some(&(old, at)) = spent.order.front() {
            if at + self.ttl < now {
                spent.order.pop_front();
                spent.nonces.remove(&old);
            } else {
                break;
            }
        }
        while spent.order.len() > spent.capacity {
            if let Some((old, at)) = spent.order.pop_front() {
                spent.nonces.remove(&old);
                spent.floor = spent.floor.max(at);
            }
        }
        true
    }

    fn tag(&self, flow: &str, body: &[u8]) -> [u8; TAG] {
        let mut data = Vec::with_capacity(flow.len() + 1 + body.len());
        data.extend_from_slice(flow.as_bytes());
        data.push(0);
        data.extend_from_slice(body);
        let mac = self.keys.mac("login-form", &data);
        let mut tag = [0u8; TAG];
        tag.copy_from_slice(&mac[..TAG]);
        tag
    }

    fn salt(&self, nonce: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTWXYZabcdefhijkmnprstwxyz2345678";
        self.keys.mac("login-salt", nonce)[..SALT_CHARS]
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect()
    }

    #[cfg(test)]
    fn records(&self) -> usize {
        self.spent.lock().unwrap().nonces.len()
    }
}

/// The random prefix the page's script puts before the password.
const RANDOM_PREFIX: usize = 64;

/// Undoes the campus login page script's wrapping of the password (kept so clients of the
/// product most schools migrate from work unchanged; it adds nothing over TLS): base64 of
/// AES-128-CBC (key = the page's salt, a random IV that is never sent, PKCS#7) over 64 random
/// characters followed by the password. Any IV decrypts all but the first block, which lies
/// inside the random prefix that is dropped. `None` if `wrapped` is not such a value for this
/// salt.
pub fn unwrap_password(wrapped: &str, salt: &str) -> Option<String> {
    let key: [u8; 16] = salt.as_bytes().try_into().ok()?;
    let mut data = base64::engine::general_purpose::STANDARD
        .decode(wrapped.trim())
        .ok()?;
    let plain = cbc::Decryptor::<aes::Aes128>::new(&key.into(), &[0u8; 16].into())
        .decrypt_padded_mut::<Pkcs7>(&mut data)
        .ok()?;
    let password = plain.get(RANDOM_PREFIX..)?;
    String::from_utf8(password.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockEncryptMut;

    fn tokens(capacity: usize) -> FormTokens {
        FormTokens::in_memory(Arc::new(Keys::random()), 1800, capacity)
    }

    fn redeem(t: &FormTokens, token: &str, flow: Option<&str>, now: i64) -> Option<String> {
        futures_executor::block_on(t.redeem(token, flow, now)).unwrap()
    }

    // docs/security.md D01, D02
    #[test]
    fn a_token_is_single_use_bound_to_its_browser_and_expires() {
        let t = tokens(1000);
        let issued = t.issue("FLOW-a", 100);
        assert_eq!(issued.salt.len(), SALT_CHARS);
        assert_eq!(
            redeem(&t, &issued.token, Some("FLOW-b"), 101),
            None,
            "another browser"
        );
        assert_eq!(redeem(&t, &issued.token, None, 101), None, "no flow cookie");
        assert_eq!(
            redeem(&t, &issued.token, Some("FLOW-a"), 101),
            Some(issued.salt.clone())
        );
        assert_eq!(
            redeem(&t, &issued.token, Some("FLOW-a"), 102),
            None,
            "spent"
        );
        let late = t.issue("FLOW-a", 100);
        assert_eq!(
            redeem(&t, &late.token, Some("FLOW-a"), 100 + 1801),
            None,
            "expired"
        );
        let genuine = t.issue("FLOW-a", 100).token;
        // Another issue time, the tag unchanged.
        let flipped = if genuine.as_bytes()[12] == b'A' {
            "B"
        } else {
            "A"
        };
        let forged = format!("{}{flipped}{}", &genuine[..12], &genuine[13..]);
        assert_eq!(redeem(&t, &forged, Some("FLOW-a"), 101), None);
        assert_eq!(redeem(&t, "LT-garbage", Some("FLOW-a"), 101), None);
    }

    #[test]
    fn issuing_stores_nothing_and_spent_records_stay_bounded_without_reviving_tokens() {
        let t = tokens(100);
        for i in 0..100_000 {
            t.issue(&format!("FLOW-{i}"), 100);
        }
        assert_eq!(t.records(), 0);
        let early = t.issue("FLOW-x", 99);
        let spent_early = t.issue("FLOW-x", 99);
        assert!(redeem(&t, &spent_early.token, Some("FLOW-x"), 200).is_some());
        for i in 0..1_000 {
            let tok = t.issue("FLOW-y", 100 + i);
            assert!(redeem(&t, &tok.token, Some("FLOW-y"), 200 + i).is_some());
        }
        assert!(t.records() <= 100);
        // Its record is gone, yet the spent token stays spent; so does an older unspent one.
        assert_eq!(redeem(&t, &spent_early.token, Some("FLOW-x"), 1_300), None);
        assert_eq!(redeem(&t, &early.token, Some("FLOW-x"), 1_300), None);
        let fresh = t.issue("FLOW-x", 1_300);
        assert!(redeem(&t, &fresh.token, Some("FLOW-x"), 1_301).is_some());
    }

    fn wrap(password: &str, salt: &str, iv: [u8; 16]) -> String {
        let mut plain = "ABCDEFGHJKMNPQRSTWXYZabcdefhijkmnprstwxyz2345678ABCDEFGHJKMNPQRS"
            .as_bytes()
            .to_vec();
        plain.extend_from_slice(password.as_bytes());
        let key: [u8; 16] = salt.as_bytes().try_into().unwrap();
        let len = plain.len();
        plain.resize(len + 16, 0);
        let out = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
            .encrypt_padded_mut::<Pkcs7>(&mut plain, len)
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(out)
    }

    #[test]
    fn any_iv_unwraps_and_a_wrong_salt_does_not() {
        let salt = "rjBFAaHsNkKAhpoi";
        let wrapped = wrap("密码Pass-1", salt, *b"0123456789abcdef");
        assert_eq!(wrapped.len(), 108);
        assert_eq!(
            unwrap_password(&wrapped, salt).as_deref(),
            Some("密码Pass-1")
        );
        let other_iv = wrap("x", salt, [7; 16]);
        assert_eq!(unwrap_password(&other_iv, salt).as_deref(), Some("x"));
        assert_eq!(unwrap_password(&wrapped, "AAAAAAAAAAAAAAAA"), None);
        assert_eq!(unwrap_password("not base64!", salt), None);
        assert_eq!(unwrap_password(&wrapped, "short"), None);
    }
}
