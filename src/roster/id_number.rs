//! Mainland resident ID numbers (GB 11643-1999): the check character, the birth date, the
//! legacy 15-digit form, and masking for messages.

use super::Said;
use crate::model::InputError;

/// A mainland resident ID number (居民身份证号码): 18 characters with the GB 11643-1999 check
/// character, or a legacy 15-digit number (no check character, born 19xx), each with a
/// real birth date. `x` counts as `X`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber(String);

/// Why an ID number was refused, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadIdNumber {
    pub said: Said,
}

impl std::fmt::Display for BadIdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.said.en)
    }
}

impl From<BadIdNumber> for InputError {
    fn from(e: BadIdNumber) -> InputError {
        InputError(e.said.en)
    }
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<IdNumber, BadIdNumber> {
        // Full-width digits and X (typed with a Chinese input method) are the same number.
        let id: String = input
            .trim()
            .chars()
            .map(|c| match c {
                '\u{FF10}'..='\u{FF19}' | 'Ｘ' | 'ｘ' => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                c => c,
            })
            .collect::<String>()
            .to_ascii_uppercase();
        let masked = mask(&id);
        let bad = |zh: &str, en: &str| {
            Err(BadIdNumber {
                said: Said::new(
                    format!("身份证号 {masked}：{zh}"),
                    format!("ID number {masked}: {en}"),
                ),
            })
        };
        if !id.is_ascii() {
            return bad("只能是数字和 X", "must be digits and X only");
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        match id.len() {
            18 => {
                if !digits(&id[..17]) || !(id.as_bytes()[17].is_ascii_digit() || id.ends_with('X'))
                {
                    return bad(
                        "应为 17 位数字加一位数字或 X",
                        "must be 17 digits and a digit or X",
                    );
                }
                if check_character(&id[..17]) != id.as_bytes()[17] as char {
                    return bad(
                        "校验位不符（GB 11643），请核对",
                        "the check character does not match (GB 11643)",
                    );
                }
                if !valid_date(&id[6..14]) {
                    return bad(
                        "其中的出生日期不存在",
                        "the birth date in it is not a real date",
                    );
                }
            }
            15 => {
                if !digits(&id) {
                    return bad(
                        "15 位的旧号码应全部为数字",
                        "a 15-character number must be all digits",
                    );
                }
                if !valid_date(&format!("19{}", &id[6..12])) {
                    return bad(
                        "其中的出生日期不存在",
                        "the birth date in it is not a real date",
                    );
                }
            }
            _ => {
                return bad(
                    "应为 18 位（旧证 15 位）",
                    "must have 18 characters (or 15 for an old card)",
                )
            }
        }
        Ok(IdNumber(id))
    }

    /// The initial password: the last six characters.
    pub fn initial_password(&self) -> String {
        self.last(6)
    }

    pub fn last(&self, n: usize) -> String {
        self.0[self.0.len() - n..].to_string()
    }
}

/// GB 11643-1999: weights 2^(17-i) mod 11 over the first 17 digits; the sum mod 11 picks
/// the check character from "10X98765432".
fn check_character(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// `YYYYMMDD` is a date between 1900 and 2100.
fn valid_date(s: &str) -> bool {
    let n = |a: usize, b: usize| s.get(a..b).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (n(0, 4), n(4, 6), n(6, 8)) else {
        return false;
    };
    let Ok(month) = time::Month::try_from(m as u8) else {
        return false;
    };
    (1900..=2100).contains(&y) && d >= 1 && d <= u32::from(month.length(y as i32))
}

/// Messages never show a whole ID number.
fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    match chars.len() {
        n if n > 4 => {
            let (head, tail): (String, String) =
                (chars[..2].iter().collect(), chars[n - 2..].iter().collect());
            format!("{head}…{tail}")
        }
        _ => "(short)".into(),
    }
}
