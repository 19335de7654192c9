//! Security events for the audit log (等保 安全审计): one typed event per thing that
//! happened, so every writer records the same name and the same details. Details never
//! carry a secret: no password, code, whole ticket, full phone number or ID number.

/// How someone proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Password,
    /// The bound phone and an SMS code (动态码登录).
    SmsCode,
    /// A QR code confirmed on a phone that was logged in (扫码登录).
    QrCode,
    /// A WeCom identity bound to the account.
    WeCom,
    /// A WeChat identity bound to the account.
    WeChat,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::SmsCode => "sms code",
            Method::QrCode => "qr code",
            Method::WeCom => "wecom",
            Method::WeChat => "wechat",
        }
    }

    /// The method an audit row's detail names (`as_str`), for pages that say how a login
    /// happened.
    pub fn parse(detail: &str) -> Option<Method> {
        [
            Method::Password,
            Method::SmsCode,
            Method::QrCode,
            Method::WeCom,
            Method::WeChat,
        ]
        .into_iter()
        .find(|m| m.as_str() == detail)
    }
}

/// Why a login failed. Users all see one message; the log tells administrators the cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginFailure {
    /// The roster's initial password is past its days.
    InitialExpired,
    /// A login code that is wrong, expired, or for a number no account has.
    WrongCode,
    UnknownAccount,
    WrongPassword,
    AccountLocked,
    AccountDisabled,
    Throttled,
    Captcha,
}

impl LoginFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::InitialExpired => "initial password expired",
            LoginFailure::WrongCode => "wrong code",
            LoginFailure::UnknownAccount => "unknown account",
            LoginFailure::WrongPassword => "wrong password",
            LoginFailure::AccountLocked => "account locked",
            LoginFailure::AccountDisabled => "account disabled",
            LoginFailure::Throttled => "throttled",
            LoginFailure::Captcha => "wrong captcha",
        }
    }
}

/// Who changed a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The account holder, at the first-login step.
    FirstLogin,
    /// An administrator, from the command line.
    Administrator,
    /// The account holder, in the portal's account management.
    Portal,
    /// The account holder, through forgot-password recovery.
    Recovery,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::FirstLogin => "first login",
            Actor::Administrator => "administrator",
            Actor::Portal => "portal",
            Actor::Recovery => "recovery",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditEvent {
    LoginSucceeded {
        method: Method,
    },
    LoginFailed {
        reason: LoginFailure,
    },
    /// Failures from many addresses locked the account for everyone: an attack worth a look.
    AccountLockedByFailures {
        addresses: i64,
    },
    AccountLocked,
    AccountUnlocked,
    AccountDisabled {
        reason: &'static str,
    },
    /// An account on its initial password used up its daily budget of failures.
    InitialPasswordLocked,
    /// Many failures on initial passwords across accounts in an hour: someone is trying the
    /// ID-number passwords of many students.
    InitialPasswordSpray {
        failures: i64,
    },
    PhoneBound {
        /// Masked.
        phone: String,
    },
    EmailBound {
        /// Masked.
        email: String,
    },
    /// A WeCom or WeChat identity bound to the account.
    IdentityBound {
        kind: &'static str,
    },
    /// A WeCom or WeChat identity unbound by its holder.
    Unbound {
        kind: &'static str,
    },
    /// A WeCom or WeChat identity bound before a password change, ended by it (the holder
    /// did not ask to keep it).
    BindingEnded {
        kind: &'static str,
    },
    SecurityQuestionsSet {
        count: usize,
    },
    CodeSent {
        purpose: &'static str,
        /// Masked phone or e-mail address.
        to: String,
        provider: String,
        result: String,
    },
    /// A code the gateway or mail server did not take (its answer in `result`).
    CodeNotSent {
        purpose: &'static str,
        /// Masked phone or e-mail address.
        to: String,
        provider: String,
        result: String,
    },
    /// A security notice (password reset or changed, phone or e-mail changed).
    NoticeSent {
        notice: &'static str,
        /// Masked.
        to: String,
        result: String,
    },
    /// The account holder proved it is them again before a change in the portal.
    IdentityConfirmed {
        method: &'static str,
    },
    IdentityNotConfirmed {
        method: &'static str,
    },
    /// An administrator's action in the console (the row's account is the administrator's).
    AdminAction {
        action: String,
        target: String,
    },
    /// An administrator passed the console's second factor.
    AdminEntered {
        method: &'static str,
    },
    /// A session proved a second factor (`totp`, `webauthn`, `sms`, `recovery`) for an
    /// application that requires one.
    SecondFactorPassed {
        method: &'static str,
    },
    SecondFactorFailed {
        method: &'static str,
    },
    /// A second factor was added to the account (an authenticator, a passkey, recovery
    /// codes) or removed from it.
    FactorAdded {
        factor: &'static str,
    },
    FactorRemoved {
        factor: &'static str,
    },
    /// Wrong second factors locked an administrator's second factor for a while.
    SecondFactorLocked {
        failures: i64,
    },
    /// A phone confirmed a QR-code login for the computer at this address.
    QrConfirmed {
        computer: String,
    },
    QrCancelled,
    /// Forgot password: an account name (existing or not) and a solved captcha.
    RecoveryStarted,
    /// A recovery method proved: the account may set a new password.
    RecoveryVerified {
        method: &'static str,
    },
    /// Wrong security answers.
    RecoveryFailed {
        method: &'static str,
    },
    CodeFailed {
        purpose: &'static str,
    },
    /// The server's daily SMS budget is spent: sending stopped.
    SmsBudgetSpent,
    /// The server's daily e-mail budget is spent: sending stopped.
    MailBudgetSpent,
    PasswordChanged {
        by: Actor,
    },
    SessionsEnded {
        count: usize,
    },
    LogoutDelivered {
        service_id: i64,
        url: String,
        ticket: String,
        result: String,
        attempts: u32,
    },
    LogoutFailed {
        service_id: i64,
        url: String,
        ticket: String,
        result: String,
        attempts: u32,
    },
    /// Many invalid tickets presented from one address since the last report: one row for
    /// the burst, not one per ticket.
    InvalidTickets {
        count: u64,
    },
    /// The service's access rules refused the account a ticket (or its validation).
    AccessDenied {
        service_id: i64,
        service: String,
    },
    /// A passkey or security key registered by its holder, under this name.
    PasskeyAdded {
        name: String,
    },
    /// A passkey removed by its holder (an administrator's removal of them all is
    /// `Unbound { kind: "webauthn" }`).
    PasskeyRemoved {
        name: String,
    },
}

impl AuditEvent {
    /// A failure someone outside can repeat at will (a wrong password, code or captcha):
    /// repeats from one source are counted on one row.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            AuditEvent::LoginFailed { .. }
                | AuditEvent::CodeFailed { .. }
                | AuditEvent::IdentityNotConfirmed { .. }
                | AuditEvent::SecondFactorFailed { .. }
                | AuditEvent::RecoveryFailed { .. }
        )
    }

    /// The event's name in the `event` column; stable, scripts filter on it.
    pub fn name(&self) -> &'static str {
        match self {
            AuditEvent::LoginSucceeded { .. } => "login_success",
            AuditEvent::LoginFailed { .. } => "login_failure",
            AuditEvent::AccountLockedByFailures { .. } => "account_locked_by_failures",
            AuditEvent::AccountLocked => "account_locked",
            AuditEvent::AccountUnlocked => "account_unlocked",
            AuditEvent::AccountDisabled { .. } => "account_disabled",
            AuditEvent::InitialPasswordLocked => "initial_password_locked",
            AuditEvent::InitialPasswordSpray { .. } => "initial_password_spray",
            AuditEvent::PhoneBound { .. } => "phone_bound",
            AuditEvent::EmailBound { .. } => "email_bound",
            AuditEvent::IdentityBound { .. } => "identity_bound",
            AuditEvent::Unbound { .. } => "unbound",
            AuditEvent::BindingEnded { .. } => "binding_ended",
            AuditEvent::SecurityQuestionsSet { .. } => "security_questions_set",
            AuditEvent::CodeSent { .. } => "code_sent",
            AuditEvent::CodeNotSent { .. } => "code_not_sent",
            AuditEvent::NoticeSent { .. } => "notice_sent",
            AuditEvent::IdentityConfirmed { .. } => "identity_confirmed",
            AuditEvent::IdentityNotConfirmed { .. } => "identity_not_confirmed",
            AuditEvent::AdminAction { .. } => "admin_action",
            AuditEvent::AdminEntered { .. } => "admin_entered",
            AuditEvent::SecondFactorLocked { .. } => "second_factor_locked",
            AuditEvent::SecondFactorPassed { .. } => "second_factor_passed",
            AuditEvent::SecondFactorFailed { .. } => "second_factor_failed",
            AuditEvent::FactorAdded { .. } => "factor_added",
            AuditEvent::FactorRemoved { .. } => "factor_removed",
            AuditEvent::QrConfirmed { .. } => "qr_confirmed",
            AuditEvent::QrCancelled => "qr_cancelled",
            AuditEvent::RecoveryStarted => "recovery_started",
            AuditEvent::RecoveryVerified { .. } => "recovery_verified",
            AuditEvent::RecoveryFailed { .. } => "recovery_failed",
            AuditEvent::CodeFailed { .. } => "code_failed",
            AuditEvent::SmsBudgetSpent => "sms_budget_spent",
            AuditEvent::MailBudgetSpent => "mail_budget_spent",
            AuditEvent::PasswordChanged { .. } => "password_changed",
            AuditEvent::SessionsEnded { .. } => "sessions_ended",
            AuditEvent::LogoutDelivered { .. } => "slo_sent",
            AuditEvent::LogoutFailed { .. } => "slo_failed",
            AuditEvent::InvalidTickets { .. } => "invalid_tickets",
            AuditEvent::AccessDenied { .. } => "access_denied",
            AuditEvent::PasskeyAdded { .. } => "passkey_added",
            AuditEvent::PasskeyRemoved { .. } => "passkey_removed",
        }
    }

    /// The details in words, for the `detail` column.
    pub fn detail(&self) -> String {
        match self {
            AuditEvent::LoginSucceeded { method } => method.as_str().into(),
            AuditEvent::LoginFailed { reason } => reason.as_str().into(),
            AuditEvent::AccountLockedByFailures { addresses } => {
                format!("failures from {addresses} addresses")
            }
            AuditEvent::AccountLocked | AuditEvent::AccountUnlocked => "administrator".into(),
            AuditEvent::AccountDisabled { reason } => (*reason).into(),
            AuditEvent::InitialPasswordLocked => {
                "daily budget of the initial password spent".into()
            }
            AuditEvent::InitialPasswordSpray { failures } => {
                format!("{failures} failures on initial passwords within an hour")
            }
            AuditEvent::PhoneBound { phone } => phone.clone(),
            AuditEvent::EmailBound { email } => email.clone(),
            AuditEvent::IdentityBound { kind } | AuditEvent::Unbound { kind } => (*kind).into(),
            AuditEvent::BindingEnded { kind } => {
                format!("{kind}, bound before the password change")
            }
            AuditEvent::SecurityQuestionsSet { count } => format!("{count} question(s)"),
            AuditEvent::CodeSent {
                purpose,
                to,
                provider,
                result,
            }
            | AuditEvent::CodeNotSent {
                purpose,
                to,
                provider,
                result,
            } => format!("{purpose} to {to} via {provider}: {result}"),
            AuditEvent::NoticeSent { notice, to, result } => format!("{notice} to {to}: {result}"),
            AuditEvent::IdentityConfirmed { method }
            | AuditEvent::IdentityNotConfirmed { method } => (*method).into(),
            AuditEvent::AdminAction { action, target } => format!("{action} {target}"),
            AuditEvent::AdminEntered { method }
            | AuditEvent::SecondFactorPassed { method }
            | AuditEvent::SecondFactorFailed { method } => (*method).into(),
            AuditEvent::FactorAdded { factor } | AuditEvent::FactorRemoved { factor } => {
                (*factor).into()
            }
            AuditEvent::SecondFactorLocked { failures } => {
                format!("{failures} wrong second factors in a row")
            }
            AuditEvent::QrConfirmed { computer } => format!("for the computer at {computer}"),
            AuditEvent::QrCancelled => "cancelled on the phone".into(),
            AuditEvent::RecoveryStarted => "captcha solved".into(),
            AuditEvent::RecoveryVerified { method } | AuditEvent::RecoveryFailed { method } => {
                (*method).into()
            }
            AuditEvent::CodeFailed { purpose } => format!("wrong {purpose} code"),
            AuditEvent::SmsBudgetSpent => "the daily SMS budget is spent".into(),
            AuditEvent::MailBudgetSpent => "the daily e-mail budget is spent".into(),
            AuditEvent::PasswordChanged { by } => by.as_str().into(),
            AuditEvent::SessionsEnded { count } => format!("{count} session(s)"),
            AuditEvent::LogoutDelivered {
                service_id,
                url,
                ticket,
                result,
                attempts,
            }
            | AuditEvent::LogoutFailed {
                service_id,
                url,
                ticket,
                result,
                attempts,
            } => format!(
                "service={service_id} url={url} ticket={ticket} result={result} attempts={attempts}"
            ),
            AuditEvent::InvalidTickets { count } => format!("{count} invalid tickets"),
            AuditEvent::AccessDenied {
                service_id,
                service,
            } => format!("service={service_id} {service}"),
            AuditEvent::PasskeyAdded { name } | AuditEvent::PasskeyRemoved { name } => name.clone(),
        }
    }
}

/// Every name `AuditEvent::name` gives, for whoever must say each in words (the console).
pub const EVENT_NAMES: [&str; 42] = [
    "login_success",
    "login_failure",
    "account_locked_by_failures",
    "account_locked",
    "account_unlocked",
    "account_disabled",
    "initial_password_locked",
    "initial_password_spray",
    "phone_bound",
    "email_bound",
    "identity_bound",
    "unbound",
    "binding_ended",
    "security_questions_set",
    "code_sent",
    "code_not_sent",
    "notice_sent",
    "identity_confirmed",
    "identity_not_confirmed",
    "admin_action",
    "admin_entered",
    "second_factor_locked",
    "qr_confirmed",
    "qr_cancelled",
    "recovery_started",
    "recovery_verified",
    "recovery_failed",
    "code_failed",
    "sms_budget_spent",
    "mail_budget_spent",
    "password_changed",
    "sessions_ended",
    "slo_sent",
    "slo_failed",
    "invalid_tickets",
    "access_denied",
    "second_factor_passed",
    "second_factor_failed",
    "factor_added",
    "factor_removed",
    "passkey_added",
    "passkey_removed",
];

/// Where a request came from, as the audit log records it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

impl Client {
    /// The audit record of `event` concerning `account_id`, made by this client.
    pub fn record<'a>(&'a self, event: AuditEvent, account_id: Option<&'a str>) -> AuditRecord<'a> {
        AuditRecord {
            event,
            account_id,
            client_ip: &self.ip,
            user_agent: &self.user_agent,
        }
    }
}

/// One row of the audit log: the event, whom it concerns, and where the request came from
/// (empty for the command line and background work).
#[derive(Clone, Debug)]
pub struct AuditRecord<'a> {
    pub event: AuditEvent,
    pub account_id: Option<&'a str>,
    pub client_ip: &'a str,
    pub user_agent: &'a str,
}

impl<'a> AuditRecord<'a> {
    /// An event without a client (the command line, background work).
    pub fn system(event: AuditEvent, account_id: Option<&'a str>) -> Self {
        AuditRecord {
            event,
            account_id,
            client_ip: "",
            user_agent: "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One event of each kind: `EVENT_NAMES` lists every name they give.
    #[test]
    fn event_names_lists_every_event() {
        let s = || String::new();
        let every = [
            AuditEvent::LoginSucceeded {
                method: Method::Password,
            },
            AuditEvent::LoginFailed {
                reason: LoginFailure::Captcha,
            },
            AuditEvent::AccountLockedByFailures { addresses: 1 },
            AuditEvent::AccountLocked,
            AuditEvent::AccountUnlocked,
            AuditEvent::AccountDisabled { reason: "" },
            AuditEvent::InitialPasswordLocked,
            AuditEvent::InitialPasswordSpray { failures: 1 },
            AuditEvent::PhoneBound { phone: s() },
            AuditEvent::EmailBound { email: s() },
            AuditEvent::IdentityBound { kind: "" },
            AuditEvent::Unbound { kind: "" },
            AuditEvent::BindingEnded { kind: "" },
            AuditEvent::SecurityQuestionsSet { count: 1 },
            AuditEvent::CodeSent {
                purpose: "",
                to: s(),
                provider: s(),
                result: s(),
            },
            AuditEvent::CodeNotSent {
                purpose: "",
                to: s(),
                provider: s(),
                result: s(),
            },
            AuditEvent::NoticeSent {
                notice: "",
                to: s(),
                result: s(),
            },
            AuditEvent::IdentityConfirmed { method: "" },
            AuditEvent::IdentityNotConfirmed { method: "" },
            AuditEvent::AdminAction {
                action: s(),
                target: s(),
            },
            AuditEvent::AdminEntered { method: "" },
            AuditEvent::SecondFactorLocked { failures: 1 },
            AuditEvent::QrConfirmed { computer: s() },
            AuditEvent::QrCancelled,
            AuditEvent::RecoveryStarted,
            AuditEvent::RecoveryVerified { method: "" },
            AuditEvent::RecoveryFailed { method: "" },
            AuditEvent::CodeFailed { purpose: "" },
            AuditEvent::SmsBudgetSpent,
            AuditEvent::MailBudgetSpent,
            AuditEvent::PasswordChanged { by: Actor::Portal },
            AuditEvent::SessionsEnded { count: 1 },
            AuditEvent::LogoutDelivered {
                service_id: 1,
                url: s(),
                ticket: s(),
                result: s(),
                attempts: 1,
            },
            AuditEvent::LogoutFailed {
                service_id: 1,
                url: s(),
                ticket: s(),
                result: s(),
                attempts: 1,
            },
            AuditEvent::InvalidTickets { count: 1 },
            AuditEvent::AccessDenied {
                service_id: 1,
                service: s(),
            },
            AuditEvent::SecondFactorPassed { method: "" },
            AuditEvent::SecondFactorFailed { method: "" },
            AuditEvent::FactorAdded { factor: "" },
            AuditEvent::FactorRemoved { factor: "" },
            AuditEvent::PasskeyAdded { name: s() },
            AuditEvent::PasskeyRemoved { name: s() },
        ];
        let names: Vec<&str> = every.iter().map(AuditEvent::name).collect();
        assert_eq!(names, EVENT_NAMES);
    }
}
