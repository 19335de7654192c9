//! The installation's own keys, generated from the OS RNG at first start and kept in a file
//! beside the database (mode 0600), never in it: a copy of the database alone reveals no
//! phone number, e-mail address or ticket, and forges no form token. No key is compiled in
//! (Apereo's 2016 advisory: shared default keys). Every server of one installation reads the
//! same file.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, TryRngCore};
use sha2::Sha256;
use std::path::Path;

const SEALED_PREFIX: &str = "v1:";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

pub struct Keys {
    /// Authenticates what we hand out and take back (form tokens) and keys lookups.
    mac: [u8; 32],
    /// Encrypts personal data and tickets at rest.
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// Reads the key file, creating it (0600, 64 random bytes) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Keys, KeyError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let failed = |doing: &'static str| {
            move |source| KeyError::File {
                doing,
                path: path.to_path_buf(),
                source,
            }
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                tighten(path).map_err(failed("make private (0600)"))?;
                Keys::from_file_bytes(&bytes).ok_or_else(|| KeyError::NotAKeyFile(path.into()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 64];
                OsRng.try_fill_bytes(&mut bytes)?;
                let text = format!("unicas-keys-v1 {}\n", B64.encode(bytes));
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(failed("create"))?;
                file.write_all(text.as_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(failed("write"))?;
                Ok(Keys::from_bytes(&bytes))
            }
            Err(e) => Err(failed("read")(e)),
        }
    }

    fn from_file_bytes(bytes: &[u8]) -> Option<Keys> {
        let text = std::str::from_utf8(bytes).ok()?;
        let b64 = text.trim().strip_prefix("unicas-keys-v1 ")?;
        let raw = B64.decode(b64).ok()?;
        let raw: [u8; 64] = raw.try_into().ok()?;
        Some(Keys::from_bytes(&raw))
    }

    fn from_bytes(raw: &[u8; 64]) -> Keys {
        let mut mac = [0u8; 32];
        mac.copy_from_slice(&raw[..32]);
        Keys {
            mac,
            cipher: Aes256Gcm::new_from_slice(&raw[32..]).expect("32-byte key"),
        }
    }

    /// Keys for unit tests and throwaway tools.
    pub fn random() -> Keys {
        let mut raw = [0u8; 64];
        OsRng.try_fill_bytes(&mut raw).expect("OS random source");
        Keys::from_bytes(&raw)
    }

    /// HMAC-SHA256 of `data` under a key derived for `purpose`, so one purpose's values
    /// never stand for another's.
    pub fn mac(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac).expect("any key length");
        m.update(purpose.as_bytes());
        m.update(&[0]);
        m.update(data);
        m.finalize().into_bytes().into()
    }

    /// A keyed hash for finding rows by a secret or personal value without storing it.
    pub fn lookup(&self, purpose: &str, value: &str) -> String {
        hex(&self.mac(purpose, value.as_bytes()))
    }

    /// Encrypts with AES-256-GCM under a fresh random 96-bit nonce: the same value sealed
    /// twice gives two different texts. Empty stays empty.
    pub fn seal(&self, plain: &str) -> String {
        if plain.is_empty() {
            return String::new();
        }
        let mut nonce = [0u8; 12];
        OsRng.try_fill_bytes(&mut nonce).expect("OS random source");
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM encryption of a short value");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", B64.encode(out))
    }

    /// Decrypts what `seal` produced; `None` if it was not sealed with these keys.
    pub fn open(&self, sealed: &str) -> Option<String> {
        if sealed.is_empty() {
            return Some(String::new());
        }
        let raw = B64.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        if raw.len() < 12 {
            return None;
        }
        let (nonce, body) = raw.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), body).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// Compares secrets without an early exit, so timing tells nothing about where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Restricts a secret file to its owner.
fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Why the installation's key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot {doing} key file {}: {source}", path.display())]
    File {
        doing: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("key file {} is not a unicas key file", .0.display())]
    NotAKeyFile(std::path::PathBuf),
    #[error("OS random source: {0}")]
    Random(#[from] rand::rand_core::OsError),
}

#[cfg(test)]
mod tests {
    use super::*;

    // docs/security.md L03
    #[test]
    fn each_installation_has_its_own_keys_and_seals_with_fresh_nonces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.key"), dir.path().join("b.key"));
        let (ka, kb) = (
            Keys::load_or_create(&a).unwrap(),
            Keys::load_or_create(&b).unwrap(),
        );
        assert_ne!(
            ka.lookup("phone", "+8613800138000"),
            kb.lookup("phone", "+8613800138000")
        );
        let once = ka.seal("+8613800138000");
        let twice = ka.seal("+8613800138000");
        assert_ne!(once, twice, "a random nonce each time");
        assert!(!once.contains("13800138000"));
        assert_eq!(ka.open(&once).as_deref(), Some("+8613800138000"));
        assert_eq!(kb.open(&once), None, "another installation cannot read it");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&a).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // Read back, the same keys.
        let again = Keys::load_or_create(&a).unwrap();
        assert_eq!(again.open(&once).as_deref(), Some("+8613800138000"));
        assert_ne!(ka.mac("form", b"x"), ka.mac("captcha", b"x"));
    }
}
