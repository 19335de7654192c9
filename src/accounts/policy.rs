//! The school's password policy, with defaults a Chinese university passes a 等级保护 2.0
//! audit with: at least 8 characters, three of four character classes (lower, upper,
//! digits, symbols), not containing the account, not a common password (a list shipped in
//! the binary, the campus favourites included), not a keyboard run or repetition, none of the
//! school's own words, not the current password or one of the last five. Checked on the
//! server; the pages show the same rules beside the field.

use super::password::MAX_PASSWORD_BYTES;
use crate::config::PasswordConfig;

const COMMON: &str = include_str!("../../assets/common-passwords.txt");

/// Why a new password was refused; each has its sentence on the page, in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyError {
    /// The two entries differ.
    Mismatch,
    TooShort,
    TooLong,
    TooFewClasses,
    ContainsAccount,
    /// A common password, a run like `12345678`, a repetition, or one of the school's words.
    Common,
    /// The same as the current password, or one of the recent ones.
    Reused,
    /// The current password given to authorise the change is wrong.
    WrongCurrent,
    /// Too many wrong current passwords lately: this one was not checked.
    Throttled,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyError::Mismatch => "the two entries differ",
            PolicyError::Throttled => "too many wrong current passwords; try again later",
            PolicyError::TooShort => "too short",
            PolicyError::TooLong => "too long for bcrypt (at most 71 bytes)",
            PolicyError::TooFewClasses => "too few kinds of character",
            PolicyError::ContainsAccount => "contains the account",
            PolicyError::Common => "a common or easily guessed password",
            PolicyError::Reused => "used recently",
            PolicyError::WrongCurrent => "the current password is wrong",
        })
    }
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub min_length: usize,
    pub min_classes: usize,
    pub history: usize,
    /// Days a password may be used before a change is forced at login (0: no limit).
    pub max_age_days: i64,
    /// Words of this installation (the school's abbreviation, the system's name), lower case.
    context: Vec<String>,
    common: Vec<&'static str>,
}

impl Policy {
    pub fn new(config: &PasswordConfig) -> Policy {
        let common: Vec<&'static str> = COMMON
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        debug_assert!(common.windows(2).all(|w| w[0] < w[1]), "sorted");
        Policy {
            min_length: config.min_length,
            min_classes: config.min_classes,
            history: config.history,
            max_age_days: config.max_age_days,
            context: config
                .context_words
                .iter()
                .map(|w| w.to_lowercase())
                .filter(|w| w.chars().count() >= 3)
                .collect(),
            common,
        }
    }

    /// The rules a password must meet by itself (history aside): for a new password, and
    /// for the one just typed at a login, which forces a change when it fails them.
    pub fn check(&self, account_id: &str, password: &str) -> Result<(), PolicyError> {
        let chars = password.chars().count();
        if chars < self.min_length {
            return Err(PolicyError::TooShort);
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PolicyError::TooLong);
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|&&c| c).count() < self.min_classes {
            return Err(PolicyError::TooFewClasses);
        }
        let lower = password.to_lowercase();
        if !account_id.is_empty() && lower.contains(account_id) {
            return Err(PolicyError::ContainsAccount);
        }
        if self.is_common(&lower) || self.context.iter().any(|w| lower.contains(w.as_str())) {
            return Err(PolicyError::Common);
        }
        Ok(())
    }

    /// A new password typed twice: the rules, and the entries agree.
    pub fn check_new(
        &self,
        account_id: &str,
        password: &str,
        repeat: &str,
    ) -> Result<(), PolicyError> {
        if password != repeat {
            return Err(PolicyError::Mismatch);
        }
        self.check(account_id, password)
    }

    /// Common passwords as people vary them: any case, symbols added at the end, the usual
    /// letter-for-digit swaps (`P@ssw0rd`), and runs or repetitions of one character.
    fn is_common(&self, lower: &str) -> bool {
        let trimmed = lower.trim_end_matches(|c: char| !c.is_alphanumeric());
        let plain: String = lower
            .chars()
            .map(|c| match c {
                '@' | '4' => 'a',
                '0' => 'o',
                '1' | '!' => 'i',
                '3' => 'e',
                '$' | '5' => 's',
                '7' => 't',
                c => c,
            })
            .collect();
        [lower, trimmed, plain.as_str()]
            .iter()
            .any(|p| self.common.binary_search(p).is_ok())
            || is_run_or_repetition(trimmed)
    }
}

/// `aaaaaaaa`, `abababab`, `12345678`, `87654321`, `qwertyui`: no entropy to speak of.
fn is_run_or_repetition(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 4 {
        return false;
    }
    let distinct = b.iter().collect::<std::collections::HashSet<_>>().len();
    let step = |d: i16| b.windows(2).all(|w| w[1] as i16 - w[0] as i16 == d);
    const ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    distinct <= 2 || step(1) || step(-1) || ROWS.iter().any(|r| r.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let config = PasswordConfig {
            context_words: vec!["sxcmu".into(), "authserver".into()],
            ..PasswordConfig::default()
        };
        Policy::new(&config)
    }

    // docs/security.md H07
    #[test]
    fn each_rule_refuses_with_its_reason() {
        let p = policy();
        assert_eq!(
            p.check_new("s1", "Correct-Horse-9", "Correct-Horse-9"),
            Ok(())
        );
        assert_eq!(
            p.check_new("s1", "Correct-Horse-9", "Correct-Horse-8"),
            Err(PolicyError::Mismatch)
        );
        for (pw, why) in [
            ("Short1!", PolicyError::TooShort),
            ("alllowercase1", PolicyError::TooFewClasses),
            ("12345678", PolicyError::TooFewClasses),
            ("Ab1S1xxxxx!", PolicyError::ContainsAccount),
            ("Passw0rd", PolicyError::Common),
            ("P@ssw0rd!", PolicyError::Common),
            ("Woaini1314", PolicyError::Common),
            ("Qq123456.", PolicyError::Common),
            ("Sxcmu-2024!", PolicyError::Common),
        ] {
            assert_eq!(p.check("s1", pw), Err(why), "{pw}");
        }
        assert_eq!(
            p.check("s1", &format!("Aa1{}", "x".repeat(70))),
            Err(PolicyError::TooLong)
        );
        // A long passphrase and a 64-character password are fine.
        assert_eq!(p.check("s1", "Tea-kettle spring 42"), Ok(()));
        assert_eq!(p.check("s1", &format!("Aa1-{}", "k".repeat(60))), Ok(()));
    }

    #[test]
    fn runs_and_repetitions_are_common() {
        for s in [
            "aaaaaaaa", "abababab", "12345678", "87654321", "qwertyui", "abcdefgh",
        ] {
            assert!(is_run_or_repetition(s), "{s}");
        }
        for s in ["tea-kettle", "correct-horse-9"] {
            assert!(!is_run_or_repetition(s), "{s}");
        }
    }
}
