//! Accounts: who may log in, what they are, and the rules for their identifiers. Nothing in
//! here knows about HTTP.

mod authenticate;
mod password;
mod policy;

pub use authenticate::{Authenticator, Outcome};
pub use password::{hash_password, PasswordError, PasswordHasher, MAX_PASSWORD_BYTES};
pub use policy::{check_new_password, PolicyError};

/// Student, staff (payroll number) or administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Student,
    Staff,
    Admin,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Student => "student",
            Kind::Staff => "staff",
            Kind::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "student" => Some(Kind::Student),
            "staff" => Some(Kind::Staff),
            "admin" => Some(Kind::Admin),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    /// Locked by an administrator (or, later, by policy); can be unlocked.
    Locked,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Locked => "locked",
            Status::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "active" => Some(Status::Active),
            "locked" => Some(Status::Locked),
            "disabled" => Some(Status::Disabled),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub department: String,
    pub email: String,
    pub phone: String,
    pub status: Status,
    pub password_hash: String,
    pub must_change: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Free-form attributes in insertion order; a name may repeat (multi-valued).
    pub attributes: Vec<(String, String)>,
}

impl Account {
    /// Every attribute this account could release, standard ones first. Empty values are
    /// left out; a service's release policy then picks from this list.
    pub fn attributes(&self) -> Vec<(String, String)> {
        let standard = [
            ("uid", self.id.as_str()),
            ("cn", self.name.as_str()),
            ("userType", self.kind.as_str()),
            ("department", self.department.as_str()),
            ("mail", self.email.as_str()),
            ("mobile", self.phone.as_str()),
        ];
        // Relying parties built for the campus product tell students from staff by
        // `containerId`; an imported value (e.g. `ou=bzks,ou=People`) wins over the default.
        let container = (!self.attributes.iter().any(|(k, _)| k == "containerId")).then(|| {
            (
                "containerId".to_string(),
                format!("ou={},ou=People", self.kind.as_str()),
            )
        });
        standard
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain(container)
            .chain(self.attributes.iter().cloned())
            .collect()
    }
}

/// The one canonical form of an account id, used for storage, lookup and throttling keys:
/// surrounding and zero-width space removed, full-width ASCII folded (what IMEs type), ASCII
/// letters lower-cased. `None` if the result falls outside `[a-z0-9._@-]{1,64}`: legacy
/// clients regex-match `<cas:user>`, so nothing else may ever become a user name.
pub fn canonical_id(input: &str) -> Option<String> {
    let id: String = input
        .chars()
        .filter(|c| !matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}'))
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect::<String>()
        .trim()
        .to_ascii_lowercase();
    let allowed = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '@' | '-')
    };
    (!id.is_empty() && id.len() <= 64 && id.chars().all(allowed)).then_some(id)
}

/// Attribute names become XML element names; only NCName-safe ASCII names are accepted.
pub fn valid_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name.len() <= 64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_id_folds_case_width_and_space() {
        for variant in [
            "alice",
            "ALICE",
            " alice ",
            "ａｌｉｃｅ",
            "alice\u{200b}",
            "\u{3000}Alice",
        ] {
            assert_eq!(
                canonical_id(variant).as_deref(),
                Some("alice"),
                "{variant:?}"
            );
        }
        assert_eq!(canonical_id("20231234").as_deref(), Some("20231234"));
    }

    #[test]
    fn canonical_id_refuses_markup_controls_and_length() {
        for bad in [
            "",
            "<x>&",
            "a b",
            "a\tb",
            "a\0b",
            "a/b",
            "张三",
            &"a".repeat(65),
        ] {
            assert_eq!(canonical_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn attribute_names_must_be_xml_safe() {
        assert!(valid_attribute_name("memberOf"));
        assert!(valid_attribute_name("user_name"));
        assert!(!valid_attribute_name("given\" value=\"pwned"));
        assert!(!valid_attribute_name("1abc"));
        assert!(!valid_attribute_name("cas:user"));
    }
}
