//! Accounts: who may log in, what they are, and the rules for their identifiers, names,
//! contact details and attributes.

use super::{input_error, InputError};

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

    /// The stored names, and the words a roster uses (学生, 教职工).
    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim() {
            "student" | "学生" | "本科生" | "研究生" => Some(Kind::Student),
            "staff" | "教职工" | "教师" | "职工" => Some(Kind::Staff),
            "admin" => Some(Kind::Admin),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    /// Locked by an administrator; can be unlocked.
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

/// Where an account came from: demo rows never outlive demo mode, and roster imports are
/// the accounts that must bind a phone at first login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Admin,
    Import,
    Demo,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Admin => "admin",
            Source::Import => "import",
            Source::Demo => "demo",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "admin" => Some(Source::Admin),
            "import" => Some(Source::Import),
            "demo" => Some(Source::Demo),
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
    /// A contact number (E.164), as the roster or an administrator gave it.
    pub phone: String,
    pub status: Status,
    pub source: Source,
    pub password_hash: String,
    pub must_change: bool,
    /// Still the roster's initial password (guessable: a small budget, and it expires).
    pub initial_password: bool,
    /// Must bind a phone at the next login.
    pub must_bind_phone: bool,
    /// The verified phone binding (E.164), if any.
    pub bound_phone: Option<String>,
    /// The verified e-mail binding, if any.
    pub bound_email: Option<String>,
    pub password_changed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Moves on whenever what proves the account is revoked (a password set, a status
    /// changed, its sessions ended): a paused flow that remembers another one is over.
    pub generation: i64,
    /// Asks for its second factor at every login, whatever the application.
    pub mfa_always: bool,
    /// Free-form attributes in insertion order; a name may repeat (multi-valued).
    pub attributes: Vec<(String, String)>,
}

impl Account {
    /// Whether the account must have a bound phone: flagged so, or imported from the roster
    /// where the school requires it of imports (`[first_login] require_phone`).
    pub fn phone_required(&self, of_imports: bool) -> bool {
        self.must_bind_phone || (self.source == Source::Import && of_imports)
    }

    /// Every attribute this account could release, standard ones first. Empty values are
    /// left out; a service's release policy then picks from this list.
    pub fn attributes(&self) -> Vec<(String, String)> {
        // The verified number if there is one, else the roster's contact number.
        let mobile = Phone::parse(self.bound_phone.as_deref().unwrap_or(&self.phone))
            .map(|p| p.national().to_string())
            .unwrap_or_default();
        let standard = [
            ("uid", self.id.as_str()),
            ("cn", self.name.as_str()),
            ("userType", self.kind.as_str()),
            ("department", self.department.as_str()),
            // Likewise the verified address, else the roster's.
            ("mail", self.bound_email.as_deref().unwrap_or(&self.email)),
            ("mobile", mobile.as_str()),
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

/// What `user add` and the roster import insert. Build it with `NewAccount::new`, which
/// applies the rules every entry point shares.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub department: String,
    pub email: String,
    pub phone: String,
    pub source: Source,
    pub password_hash: String,
    pub must_change: bool,
    /// The password is the roster's initial one.
    pub initial_password: bool,
    pub must_bind_phone: bool,
    /// The last four characters of the ID number (roster imports), for an administrator.
    pub id_last4: String,
    pub attributes: Vec<(String, String)>,
}

impl NewAccount {
    /// Checks and canonicalises an account's details: the id (see `canonical_id`), a
    /// non-empty name without control characters, the contact e-mail and phone, and
    /// `KEY=VALUE` attributes with XML-safe names. The password hash is added by the caller.
    pub fn new(
        id: &str,
        name: &str,
        kind: Kind,
        department: &str,
        email: &str,
        phone: &str,
        attributes: &[String],
    ) -> Result<NewAccount, InputError> {
        let Some(canonical) = canonical_id(id) else {
            return input_error(format!(
                "invalid account {id:?}: use 1-64 of a-z 0-9 . _ @ -"
            ));
        };
        let name = plain_text("name", name, 128)?;
        if name.is_empty() {
            return input_error("the name must not be empty");
        }
        let attributes = attributes
            .iter()
            .map(|a| parse_attribute(a))
            .collect::<Result<_, _>>()?;
        Ok(NewAccount {
            id: canonical,
            name,
            kind,
            department: plain_text("department", department, 128)?,
            email: normalize_email(email)?,
            phone: match phone.trim() {
                "" => String::new(),
                p => Phone::parse(p)
                    .ok_or_else(|| {
                        InputError(format!(
                            "invalid phone {p:?}: use a mainland mobile number such as 13800138000"
                        ))
                    })?
                    .e164(),
            },
            source: Source::Admin,
            password_hash: String::new(),
            must_change: false,
            initial_password: false,
            must_bind_phone: false,
            id_last4: String::new(),
            attributes,
        })
    }
}

/// `KEY=VALUE`, the key an XML-safe attribute name.
pub fn parse_attribute(kv: &str) -> Result<(String, String), InputError> {
    let Some((k, v)) = kv.split_once('=') else {
        return input_error(format!("invalid attribute {kv:?}: use KEY=VALUE"));
    };
    if !valid_attribute_name(k) {
        return input_error(format!(
            "invalid attribute name {k:?}: use letters, digits, '_', '-', '.'"
        ));
    }
    Ok((k.to_string(), plain_text("attribute value", v, 1024)?))
}

/// Trimmed text without control characters (they would forge log lines and break XML).
fn plain_text(what: &str, s: &str, max_chars: usize) -> Result<String, InputError> {
    let s = s.trim();
    if s.chars().any(char::is_control) {
        return input_error(format!("the {what} must not contain control characters"));
    }
    if s.chars().count() > max_chars {
        return input_error(format!("the {what} is longer than {max_chars} characters"));
    }
    Ok(s.to_string())
}

/// An e-mail address, trimmed with its domain lower-cased; empty stays empty.
pub fn normalize_email(email: &str) -> Result<String, InputError> {
    let email = email.trim();
    if email.is_empty() {
        return Ok(String::new());
    }
    let bad = || InputError(format!("invalid e-mail address {email:?}"));
    let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email
            .chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c) || c == '@')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !ok {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// An e-mail address codes and notices may be sent to: checked like every address we keep,
/// and lower-cased whole, so one mailbox is one binding whatever case it is typed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Option<Email> {
        let normal = normalize_email(input).ok()?;
        (!normal.is_empty()).then(|| Email(normal.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `z***@example.edu`, for every page and log except right after the user typed it.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", &self.0));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

/// A mainland China mobile number: what SMS codes may be sent to. Accepts what people type
/// (`+86 138 0013 8000`, `0086…`, dashes, full-width digits) and nothing else: no landlines,
/// no foreign or premium numbers (toll fraud), no letters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Option<Phone> {
        let mut digits = String::new();
        let mut international = false;
        for (i, c) in input.trim().chars().enumerate() {
            let c = match c {
                '０'..='９' => char::from_u32(c as u32 - 0xFEE0)?,
                '＋' => '+',
                c => c,
            };
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => international = true,
                ' ' | '-' | '(' | ')' | '\u{3000}' => {}
                _ => return None,
            }
        }
        // `+` or `00` start an international number, which must be China's (+86).
        let national = match digits.strip_prefix("0086") {
            Some(d) => d,
            None if international => digits.strip_prefix("86")?,
            None => digits
                .strip_prefix("86")
                .filter(|d| d.len() == 11)
                .unwrap_or(&digits),
        };
        let b = national.as_bytes();
        (b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]))
            .then(|| Phone(national.to_string()))
    }

    /// `13800138000`: what domestic gateways and campus applications use.
    pub fn national(&self) -> &str {
        &self.0
    }

    /// `+8613800138000`.
    pub fn e164(&self) -> String {
        format!("+86{}", self.0)
    }

    /// `138****8000`, for every page and log except right after the user typed it.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
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

    // docs/security.md G11
    #[test]
    fn phones_are_mainland_mobiles_in_one_form() {
        for typed in [
            "13800138000",
            "+86 138 0013 8000",
            "0086-138-0013-8000",
            "８６１３８００１３８０００",
            "+8613800138000",
        ] {
            assert_eq!(
                Phone::parse(typed).map(|p| p.e164()).as_deref(),
                Some("+8613800138000"),
                "{typed}"
            );
        }
        for bad in [
            "1380013800",
            "138001380001",
            "+1 415 555 0100",
            "12800138000",
            "010-12345678",
            "'; DROP TABLE accounts;--",
            "<script>",
            "13800138000x",
            "",
        ] {
            assert_eq!(Phone::parse(bad), None, "{bad}");
        }
        assert_eq!(Phone::parse("13800138000").unwrap().masked(), "138****8000");
    }

    #[test]
    fn account_details_follow_the_shared_rules() {
        let a = NewAccount::new(
            " ＡＢＣ ",
            " 张三 ",
            Kind::Staff,
            "物理",
            "Z@Example.EDU",
            "+86 13800138000",
            &["memberOf=a".into()],
        )
        .unwrap();
        assert_eq!(
            (a.id.as_str(), a.name.as_str(), a.email.as_str()),
            ("abc", "张三", "Z@example.edu")
        );
        assert_eq!(a.phone, "+8613800138000");
        for bad in [
            ("<x>", "n", "", "", vec![]),
            ("ok", " ", "", "", vec![]),
            ("ok", "a\nb", "", "", vec![]),
            ("ok", "n", "not-an-address", "", vec![]),
            ("ok", "n", "", "12345", vec![]),
            ("ok", "n", "", "", vec!["bad name=1".to_string()]),
            ("ok", "n", "", "", vec!["novalue".to_string()]),
        ] {
            assert!(
                NewAccount::new(bad.0, bad.1, Kind::Student, "", bad.2, bad.3, &bad.4).is_err(),
                "{bad:?}"
            );
        }
        assert_eq!(Kind::parse("教职工"), Some(Kind::Staff));
        assert_eq!(Kind::parse("学生"), Some(Kind::Student));
    }
}
