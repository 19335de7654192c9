//! How a person proved who they are: the factors of an SSO session (the first, from the
//! login; the second, asked when an application needs it), what an application asks for
//! (`Mfa`), and how a validation answer names them (Apereo's handler names and
//! `authnContextClass` values, so a client written for Apereo reads them unchanged).

/// One proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Factor {
    /// The password (login form, first login, WeCom's secondary verification).
    Password,
    /// A code sent to the bound phone: 动态码登录 as a first factor, a second factor otherwise.
    Sms,
    /// The QR code scanned by the phone that holds the session (扫码登录).
    Qr,
    WeCom,
    WeChat,
    /// An authenticator app's code (RFC 6238).
    Totp,
    /// A passkey or security key.
    WebAuthn,
    /// One of the account's single-use recovery codes.
    Recovery,
}

const ALL: [Factor; 8] = [
    Factor::Password,
    Factor::Sms,
    Factor::Qr,
    Factor::WeCom,
    Factor::WeChat,
    Factor::Totp,
    Factor::WebAuthn,
    Factor::Recovery,
];

impl Factor {
    /// As stored with the session and in audit rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Password => "password",
            Factor::Sms => "sms",
            Factor::Qr => "qr",
            Factor::WeCom => "wecom",
            Factor::WeChat => "wechat",
            Factor::Totp => "totp",
            Factor::WebAuthn => "webauthn",
            Factor::Recovery => "recovery",
        }
    }

    pub fn parse(s: &str) -> Option<Factor> {
        ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// A login by scanning with a phone the account is bound to.
    pub fn is_scan(self) -> bool {
        matches!(self, Factor::Qr | Factor::WeCom | Factor::WeChat)
    }

    /// The authentication handler, as Apereo CAS names its own in `authenticationMethod`
    /// and `successfulAuthenticationHandlers` (its names where it has the same factor).
    pub fn handler(self, second: bool) -> &'static str {
        match (self, second) {
            (Factor::Password, _) => "PasswordAuthenticationHandler",
            (Factor::Sms, true) => "CasSimpleMultifactorAuthenticationHandler",
            (Factor::Sms, false) => "SmsCodeAuthenticationHandler",
            (Factor::Qr, _) => "QrCodeAuthenticationHandler",
            (Factor::WeCom, _) => "WeComAuthenticationHandler",
            (Factor::WeChat, _) => "WeChatAuthenticationHandler",
            (Factor::Totp, _) => "GoogleAuthenticatorAuthenticationHandler",
            (Factor::WebAuthn, _) => "WebAuthnAuthenticationHandler",
            (Factor::Recovery, _) => "RecoveryCodeAuthenticationHandler",
        }
    }

    /// `authnContextClass` when this factor made the session multi-factor: Apereo's provider
    /// ids (`mfa-gauth`, `mfa-webauthn`, `mfa-simple` for codes by SMS), and names of the
    /// same form for what Apereo does not have.
    pub fn context_class(self) -> &'static str {
        match self {
            Factor::Totp => "mfa-gauth",
            Factor::WebAuthn => "mfa-webauthn",
            Factor::Sms => "mfa-simple",
            Factor::Recovery => "mfa-recovery",
            Factor::Qr => "mfa-qr",
            Factor::WeCom => "mfa-wecom",
            Factor::WeChat => "mfa-wechat",
            Factor::Password => "mfa-password",
        }
    }
}

/// The factors a session holds: its first, and a second once asked for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proof {
    pub first: Factor,
    pub second: Option<Factor>,
}

impl Proof {
    pub fn first(first: Factor) -> Proof {
        Proof {
            first,
            second: None,
        }
    }

    /// With `second` proved as well.
    pub fn with(self, second: Factor) -> Proof {
        Proof {
            second: Some(second),
            ..self
        }
    }

    /// Whether it satisfies an application that requires a second factor. A login by
    /// scanning counts as the phone's possession factor only when the school says so
    /// (`[mfa] scan_is_second_factor`).
    pub fn is_multi_factor(&self, scan_counts: bool) -> bool {
        self.second.is_some() || (scan_counts && self.first.is_scan())
    }

    /// The factor an application is told made it multi-factor.
    pub fn context_class(&self, scan_counts: bool) -> Option<&'static str> {
        match self.second {
            Some(f) => Some(f.context_class()),
            None if scan_counts && self.first.is_scan() => Some(self.first.context_class()),
            None => None,
        }
    }

    /// The handler names, first factor first.
    pub fn handlers(&self) -> Vec<&'static str> {
        let mut names = vec![self.first.handler(false)];
        names.extend(self.second.map(|f| f.handler(true)));
        names
    }

    /// As the session row stores them: `password`, or `password+totp`.
    pub fn encode(&self) -> String {
        match self.second {
            Some(s) => format!("{}+{}", self.first.as_str(), s.as_str()),
            None => self.first.as_str().to_string(),
        }
    }

    /// A stored value; an unknown first factor reads as a password, an unknown second as
    /// none (it is asked again, never assumed).
    pub fn decode(s: &str) -> Proof {
        let (first, second) = match s.split_once('+') {
            Some((f, s)) => (f, Factor::parse(s)),
            None => (s, None),
        };
        Proof {
            first: Factor::parse(first).unwrap_or(Factor::Password),
            second,
        }
    }
}

/// What an application asks for beyond the login.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mfa {
    #[default]
    None,
    /// A second factor, asked of a session that has none before a ticket is issued.
    Required,
}

impl Mfa {
    pub fn as_str(self) -> &'static str {
        match self {
            Mfa::None => "none",
            Mfa::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<Mfa> {
        match s {
            "none" => Some(Mfa::None),
            "required" => Some(Mfa::Required),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_stored_and_read_back() {
        for first in ALL {
            let p = Proof::first(first);
            assert_eq!(Proof::decode(&p.encode()), p);
            for second in ALL {
                assert_eq!(Proof::decode(&p.with(second).encode()), p.with(second));
            }
        }
        assert_eq!(
            Proof::decode("nonsense+forged"),
            Proof::first(Factor::Password),
            "nothing unknown counts as a second factor"
        );
    }

    #[test]
    fn scanning_counts_only_when_the_school_says_so() {
        let scanned = Proof::first(Factor::WeCom);
        assert!(!scanned.is_multi_factor(false));
        assert!(scanned.is_multi_factor(true));
        assert_eq!(scanned.context_class(true), Some("mfa-wecom"));
        let password = Proof::first(Factor::Password);
        assert!(!password.is_multi_factor(true));
        let both = password.with(Factor::Totp);
        assert!(both.is_multi_factor(false));
        assert_eq!(both.context_class(false), Some("mfa-gauth"));
        assert_eq!(
            both.handlers(),
            [
                "PasswordAuthenticationHandler",
                "GoogleAuthenticatorAuthenticationHandler"
            ]
        );
    }
}
