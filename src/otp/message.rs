//! What a message is for (`Purpose`, `Notice`), where it goes (`Recipient`), how the
//! sender waits for it (`Delivery`), and what came of sending it (`Sent`, `SendError`).

use super::*;

/// What a code is for; a code for one purpose never serves another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Binding a phone or an e-mail address to the account (first login, the portal).
    Bind,
    /// Logging in with the bound phone (动态码登录).
    Login,
    /// Recovering a forgotten password.
    Recovery,
    /// Proving it is still the account holder before a change in the portal.
    Verify,
    /// An administrator's second factor for the console.
    Admin,
    /// A second factor for an application that requires one.
    SecondFactor,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Bind => "bind",
            Purpose::Login => "login",
            Purpose::Recovery => "recovery",
            Purpose::Verify => "verify",
            Purpose::Admin => "admin",
            Purpose::SecondFactor => "second factor",
        }
    }

    pub(super) fn words(self) -> (&'static str, &'static str) {
        match self {
            Purpose::Bind => ("绑定", "binding"),
            Purpose::Login => ("登录", "logging in"),
            Purpose::Recovery => ("找回密码", "password recovery"),
            Purpose::Verify => ("身份验证", "identity check"),
            Purpose::Admin => ("登录管理控制台", "the admin console"),
            Purpose::SecondFactor => ("二次认证", "a second factor"),
        }
    }
}

/// Where a code or notice goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    Phone(Phone),
    Email(Email),
}

impl Recipient {
    /// The message channel: `sms` or `email`.
    pub fn channel(&self) -> &'static str {
        match self {
            Recipient::Phone(_) => "sms",
            Recipient::Email(_) => "email",
        }
    }

    /// The binding kind this target is: `phone` or `email`.
    pub fn kind(&self) -> &'static str {
        match self {
            Recipient::Phone(_) => "phone",
            Recipient::Email(_) => "email",
        }
    }

    /// `+8613800138000` or the address, as bindings store it.
    pub fn value(&self) -> String {
        match self {
            Recipient::Phone(p) => p.e164(),
            Recipient::Email(e) => e.as_str().to_string(),
        }
    }

    pub fn masked(&self) -> String {
        match self {
            Recipient::Phone(p) => p.masked(),
            Recipient::Email(e) => e.masked(),
        }
    }

    /// The phone number, if this is one.
    pub fn into_phone(self) -> Option<Phone> {
        match self {
            Recipient::Phone(p) => Some(p),
            Recipient::Email(_) => None,
        }
    }

    /// A stored binding (`kind`, `value`) as a target.
    pub fn parse(kind: &str, value: &str) -> Option<Recipient> {
        match kind {
            "phone" => Phone::parse(value).map(Recipient::Phone),
            "email" => Email::parse(value).map(Recipient::Email),
            _ => None,
        }
    }
}

/// How a send is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Wait for the gateway, so the page can say if it refused (the person typed the
    /// target themselves: binding).
    Wait,
    /// Answer at once and deliver afterwards: a flow that must not tell, by its timing,
    /// whether the target belongs to the account (recovery, code login).
    Background,
    /// Count it and answer like a real send, but send nothing: the target is not the
    /// account's, in a flow that must not say so.
    Pretend,
}

/// What a message carries: a code, or the words of a security notice.
#[derive(Clone, Copy, Debug)]
pub enum Content<'a> {
    Code { code: &'a str, minutes: i64 },
    Notice { event: &'a str },
}

/// A security notice to the account's bound phone or e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    PasswordReset,
    PasswordChanged,
    PhoneChanged,
    EmailChanged,
    /// A WeCom member, or a WeChat identity, was bound to the account.
    WeComBound,
    WeChatBound,
    /// Wrong second factors locked the administrator's console for a while.
    SecondFactorLocked,
    /// A second factor (an authenticator app, a passkey, recovery codes) was added, or
    /// removed by its owner or an administrator.
    FactorAdded,
    FactorRemoved,
}

impl Notice {
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::PasswordReset => "password reset",
            Notice::PasswordChanged => "password changed",
            Notice::PhoneChanged => "phone changed",
            Notice::EmailChanged => "e-mail changed",
            Notice::WeComBound => "wecom bound",
            Notice::WeChatBound => "wechat bound",
            Notice::SecondFactorLocked => "second factor locked",
            Notice::FactorAdded => "second factor added",
            Notice::FactorRemoved => "second factor removed",
        }
    }

    /// What happened, as the message says it: (Chinese, English).
    pub(super) fn words(self) -> (&'static str, &'static str) {
        match self {
            Notice::PasswordReset => (
                "密码已通过找回密码重置",
                "password was reset through password recovery",
            ),
            Notice::PasswordChanged => ("密码已修改", "password was changed"),
            Notice::PhoneChanged => ("绑定手机已更换", "bound mobile phone was changed"),
            Notice::EmailChanged => ("绑定邮箱已更换", "bound e-mail address was changed"),
            Notice::WeComBound => ("已绑定企业微信", "WeCom was bound"),
            Notice::WeChatBound => ("已绑定微信", "WeChat was bound"),
            Notice::SecondFactorLocked => (
                "管理控制台第二重验证连续错误，已暂时锁定",
                "admin console's second factor was locked after wrong codes",
            ),
            Notice::FactorAdded => (
                "已添加二次认证方式（身份验证器、通行密钥或恢复码）",
                "a second factor (authenticator, passkey or recovery codes) was added",
            ),
            Notice::FactorRemoved => (
                "已移除二次认证方式（身份验证器、通行密钥或恢复码）",
                "a second factor (authenticator, passkey or recovery codes) was removed",
            ),
        }
    }
}

/// Why a gateway or mail server did not send; people see a sentence for each kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The gateway's own rate limit for this target or account.
    RateLimited(String),
    /// The gateway refuses the configuration (signature, template, credentials, balance).
    Misconfigured(String),
    /// No answer in time, no connection, or an answer that makes no sense.
    Unavailable(String),
}

impl SendError {
    /// For the message log: what went wrong, in a word or two and the gateway's code. It
    /// starts with "failed" (the resend wait and the audit log tell failures by it).
    pub fn describe(&self) -> String {
        match self {
            SendError::RateLimited(c) => format!("failed, rate limited: {c}"),
            SendError::Misconfigured(c) => format!("failed, refused: {c}"),
            SendError::Unavailable(c) => format!("failed, unavailable: {c}"),
        }
    }
}

/// What a send request gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// On its way (or, for a send that must only pretend, accounted as if), and the seconds
    /// before another may be asked for.
    Sent { wait: i64 },
    /// Too soon after the last one: wait this many seconds.
    TooSoon(i64),
    /// A cap is reached; try again later (tomorrow, for a daily one).
    Limited,
    /// The gateway did not take it.
    Failed(SendError),
}
