//! The school's password policy (等级保护 2.0 defaults): at least 8 characters, at least three
//! of lower case, upper case, digits and symbols, not containing the account id.

use super::password::MAX_PASSWORD_BYTES;

#[derive(Debug, PartialEq, Eq)]
pub enum PolicyError {
    Mismatch,
    Weak,
}

/// Checks a new password typed twice.
pub fn check_new_password(
    account_id: &str,
    password: &str,
    repeat: &str,
) -> Result<(), PolicyError> {
    if password != repeat {
        return Err(PolicyError::Mismatch);
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    let long_enough = password.chars().count() >= 8 && password.len() <= MAX_PASSWORD_BYTES;
    let contains_id = password.to_ascii_lowercase().contains(account_id);
    if !long_enough || classes.iter().filter(|&&c| c).count() < 3 || contains_id {
        return Err(PolicyError::Weak);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(
            check_new_password("s1", "Correct-Horse-9", "Correct-Horse-9"),
            Ok(())
        );
        assert_eq!(
            check_new_password("s1", "Correct-Horse-9", "Correct-Horse-8"),
            Err(PolicyError::Mismatch)
        );
        for weak in [
            "short1A",
            "alllowercase1",
            "123456",
            "Ab1S1xxxxx",
            &format!("Aa1{}", "x".repeat(70)),
        ] {
            assert_eq!(
                check_new_password("s1", weak, weak),
                Err(PolicyError::Weak),
                "{weak}"
            );
        }
    }
}
