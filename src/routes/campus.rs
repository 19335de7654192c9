//! Compatibility with the login page of the campus CAS product most schools migrate from
//! (served under `/authserver`): the browser-side password wrapping its page does, and the
//! helper endpoints that timetable apps, library apps and departments' scripts call before
//! they log in. The wrapping adds nothing over TLS; it is undone so such clients keep working.

use super::App;
use crate::http::{Request, Response};
use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use base64::Engine;
use hyper::StatusCode;

impl App {
    /// `needCaptcha.html?username=` (`true`/`false`, older builds) and
    /// `checkNeedCaptcha.htl?username=` (`{"isNeed":false}`, newer builds): whether the next
    /// login for that name must carry a captcha. Same answer for real and invented names.
    pub(super) async fn need_captcha(&self, req: &Request, json: bool) -> Response {
        let username = req.query.get("username").unwrap_or("");
        let needed = !username.is_empty()
            && self
                .accounts
                .needs_captcha(username, &self.client(req))
                .await;
        match json {
            true => Response::new(
                StatusCode::OK,
                "application/json; charset=UTF-8",
                format!("{{\"isNeed\":{needed}}}"),
            ),
            false => Response::new(
                StatusCode::OK,
                "text/plain; charset=UTF-8",
                needed.to_string(),
            ),
        }
        .header(hyper::header::CACHE_CONTROL, "no-store")
    }
}

/// The random prefix the page's script puts before the password.
const RANDOM_PREFIX: usize = 64;

/// Undoes the page script's wrapping: base64 of AES-128-CBC (key = the page's salt, a random
/// IV that is never sent, PKCS#7) over 64 random characters followed by the password. Any IV
/// decrypts all but the first block, which lies inside the random prefix that is dropped.
/// `None` if `wrapped` is not such a value for this salt.
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
