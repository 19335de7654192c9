//! The campus login page's password wrapping (`unicas::tickets::form::unwrap_password`).
//!
//! Input: the page's salt, a newline, the rest; no newline: all of it is the rest, with the
//! salt `rjBFAaHsNkKAhpoi`. Read as sent (salt, wrapped value): unwrapping never panics,
//! whatever the two are. Read as typed (salt, password): the password wrapped the way the
//! page's script does it (base64 of AES-128-CBC with PKCS#7, the salt as key, a random IV
//! that is never sent, over 64 random characters and the password) unwraps to the password,
//! and a salt one character different does not unwrap it. A salt that is not 16 characters
//! of the page's alphabet is made into one, and the IV and random characters come from
//! the input.

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use unicas::tickets::form::{unwrap_password, SALT_CHARS};

/// The alphabet of the page's salt and of its script's random characters.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTWXYZabcdefhijkmnprstwxyz2345678";

pub fn check(data: &[u8]) {
    let (salt, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"rjBFAaHsNkKAhpoi"[..], data),
    };
    let (salt_text, rest_text) = (String::from_utf8_lossy(salt), String::from_utf8_lossy(rest));
    let _ = unwrap_password(&rest_text, &salt_text);

    let salt = page_salt(salt);
    let wrapped = wrap(&rest_text, &salt, data);
    assert_eq!(
        unwrap_password(&wrapped, &salt).as_deref(),
        Some(&*rest_text),
        "wrapped with salt {salt}: {wrapped}"
    );
    let mut other = salt.clone().into_bytes();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    let other = String::from_utf8(other).expect("ASCII");
    assert_ne!(
        unwrap_password(&wrapped, &other).as_deref(),
        Some(&*rest_text),
        "unwrapped with another salt, {other}"
    );
}

/// `salt` as a salt the page could have: 16 characters of its alphabet (the salt itself if
/// it is one).
fn page_salt(salt: &[u8]) -> String {
    (0..SALT_CHARS)
        .map(|i| match salt.get(i) {
            Some(b) if ALPHABET.contains(b) => *b as char,
            Some(b) => ALPHABET[*b as usize % ALPHABET.len()] as char,
            None => ALPHABET[i % ALPHABET.len()] as char,
        })
        .collect()
}

/// What the page's script sends for `password`: base64 of AES-128-CBC (PKCS#7, key = the
/// salt) over 64 random characters and the password; the IV and the characters are drawn
/// from `seed` here.
fn wrap(password: &str, salt: &str, seed: &[u8]) -> String {
    let mut state = seed.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u8
    };
    let mut iv = [0u8; 16];
    iv.iter_mut().for_each(|b| *b = next());
    let mut plain: Vec<u8> = (0..64)
        .map(|_| ALPHABET[next() as usize % ALPHABET.len()])
        .collect();
    plain.extend_from_slice(password.as_bytes());
    let len = plain.len();
    plain.resize(len + 16, 0);
    let key: [u8; 16] = salt.as_bytes().try_into().expect("16 ASCII characters");
    let sealed = cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into())
        .encrypt_padded_mut::<Pkcs7>(&mut plain, len)
        .expect("room for the padding");
    base64::engine::general_purpose::STANDARD.encode(sealed)
}
