//! WeCom (企业微信) and WeChat (微信): their server APIs, for logging in with an identity
//! bound to an account, and for binding one. Both answer errors as `errcode` in JSON; a code
//! from their OAuth pages is single use and short-lived. What is bound is the identity, never
//! a phone number match.

pub mod wechat;
pub mod wecom;

pub use wechat::WeChat;
pub use wecom::{WeCom, WeComUser};

/// What went wrong calling WeCom or WeChat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WxError {
    /// The API answered this `errcode` (40029: the code is invalid or used, …).
    Code(i64),
    /// No answer in time, no connection, or an answer that makes no sense.
    Unavailable(&'static str),
    /// Not an identity to log in with (a WeChat "snapshot" visitor, a WeCom non-member).
    NotAnIdentity,
}

impl std::fmt::Display for WxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WxError::Code(c) => write!(f, "errcode {c}"),
            WxError::Unavailable(why) => f.write_str(why),
            WxError::NotAnIdentity => f.write_str("not an identity"),
        }
    }
}

/// A GET or POST's JSON, with the transport's failure in a word (the URL carries secrets and
/// is never logged).
async fn json(request: reqwest::RequestBuilder) -> Result<serde_json::Value, WxError> {
    let res = request.send().await.map_err(|e| {
        WxError::Unavailable(if e.is_timeout() {
            "timeout"
        } else {
            "connection failed"
        })
    })?;
    let body = res
        .bytes()
        .await
        .map_err(|_| WxError::Unavailable("no answer"))?;
    serde_json::from_slice(&body).map_err(|_| WxError::Unavailable("not JSON"))
}

/// `errcode` as both APIs send it: absent or 0 is success.
fn errcode(answer: &serde_json::Value) -> i64 {
    answer["errcode"].as_i64().unwrap_or(0)
}

/// A query-string value.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
