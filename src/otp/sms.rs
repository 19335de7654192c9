//! SMS gateways: one `Sender` with the providers a school can choose in the configuration.
//! `log` (the default, for trying unicas out) writes the message to the log with the code
//! masked, and keeps it, sealed, for `unicas sms outbox`; `webhook` POSTs signed JSON to the
//! school's own message platform; `aliyun` and `tencent` call those clouds' SendSms with
//! their signatures. Every call is bounded by a short timeout.

use super::sign;
use crate::config::SmsConfig;
use crate::model::Phone;
use serde_json::{json, Value};
use std::time::Duration;

/// Why a gateway did not send; people see a sentence for each kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmsError {
    /// The gateway's own rate limit for this number or account.
    RateLimited(String),
    /// The gateway refuses the configuration (signature, template, credentials, balance).
    Misconfigured(String),
    /// No answer in time, no connection, or an answer that makes no sense.
    Unavailable(String),
}

impl SmsError {
    /// For the SMS log: what went wrong, in a word or two and the gateway's code.
    pub fn describe(&self) -> String {
        match self {
            SmsError::RateLimited(c) => format!("rate limited: {c}"),
            SmsError::Misconfigured(c) => format!("refused: {c}"),
            SmsError::Unavailable(c) => format!("unavailable: {c}"),
        }
    }
}

/// One message: the code, and the text of the configured template.
pub struct Message<'a> {
    pub phone: &'a Phone,
    pub code: &'a str,
    pub minutes: i64,
    pub purpose: &'a str,
    pub text: String,
}

#[derive(Clone)]
pub struct Sender {
    config: SmsConfig,
    http: reqwest::Client,
}

impl Sender {
    pub fn new(config: SmsConfig, http: reqwest::Client) -> Sender {
        Sender { config, http }
    }

    pub fn provider(&self) -> &str {
        &self.config.provider
    }

    /// Sends `m`; `Ok` only when the gateway says it accepted the message.
    pub async fn send(&self, m: &Message<'_>) -> Result<(), SmsError> {
        let timeout = Duration::from_secs(self.config.timeout);
        let call = async {
            match self.config.provider.as_str() {
                "webhook" => self.webhook(m).await,
                "aliyun" => self.aliyun(m).await,
                "tencent" => self.tencent(m).await,
                _ => {
                    let shown = match self.config.log_show_code {
                        true => m.text.clone(),
                        false => m.text.replace(m.code, "******"),
                    };
                    tracing::info!(phone = %m.phone.masked(), purpose = m.purpose, text = %shown, "SMS (log provider)");
                    Ok(())
                }
            }
        };
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| Err(SmsError::Unavailable("timeout".into())))
    }

    async fn webhook(&self, m: &Message<'_>) -> Result<(), SmsError> {
        let w = &self.config.webhook;
        let body = json!({
            "phone": m.phone.national(),
            "template": "verify_code",
            "params": { "code": m.code, "minutes": m.minutes.to_string() },
            "text": m.text,
            "purpose": m.purpose,
            "request_id": crate::tickets::random_base62(24),
        })
        .to_string();
        let timestamp = now();
        let nonce = crate::tickets::random_base62(24);
        let signature = sign::webhook_signature(&w.secret, timestamp, &nonce, body.as_bytes());
        let res = self
            .http
            .post(&w.url)
            .header("content-type", "application/json")
            .header("x-sso-timestamp", timestamp.to_string())
            .header("x-sso-nonce", nonce)
            .header("x-sso-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| SmsError::Unavailable(super::transport(&e)))?;
        let status = res.status();
        let answer: Value = res
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        match (status.as_u16(), answer["ok"].as_bool()) {
            (200..=299, Some(true)) => Ok(()),
            (429, _) => Err(SmsError::RateLimited("HTTP 429".into())),
            (s, _) => Err(SmsError::Misconfigured(format!(
                "HTTP {s} {}",
                answer["error"].as_str().unwrap_or("")
            ))),
        }
    }

    async fn aliyun(&self, m: &Message<'_>) -> Result<(), SmsError> {
        let a = &self.config.aliyun;
        let mut params: Vec<(String, String)> = [
            ("AccessKeyId", a.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", m.phone.national()),
            ("RegionId", a.region.as_str()),
            ("SignName", self.config.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", a.template_code.as_str()),
            ("Version", "2017-05-25"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        params.push(("SignatureNonce".into(), crate::tickets::random_base62(32)));
        params.push(("Timestamp".into(), crate::clock::iso8601(now())));
        params.push((
            "TemplateParam".into(),
            json!({ "code": m.code }).to_string(),
        ));
        let signature = sign::aliyun_signature("POST", &params, &a.access_key_secret);
        params.push(("Signature".into(), signature));
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", sign::aliyun_encode(k), sign::aliyun_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let res = self
            .http
            .post(&a.endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| SmsError::Unavailable(super::transport(&e)))?;
        let answer: Value = res
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        // The HTTP status alone says nothing: `Code` does ("OK" in upper case).
        match answer["Code"].as_str().unwrap_or("") {
            "OK" => Ok(()),
            c if c.contains("LIMIT_CONTROL") => Err(SmsError::RateLimited(c.into())),
            "" => Err(SmsError::Unavailable("no Code in the answer".into())),
            c => Err(SmsError::Misconfigured(c.into())),
        }
    }

    async fn tencent(&self, m: &Message<'_>) -> Result<(), SmsError> {
        let t = &self.config.tencent;
        let payload = json!({
            "PhoneNumberSet": [m.phone.e164()],
            "SmsSdkAppId": t.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": t.template_id,
            "TemplateParamSet": [m.code, m.minutes.to_string()],
        })
        .to_string();
        let host = url::Url::parse(&t.endpoint)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_default();
        let timestamp = now();
        let content_type = "application/json";
        let authorization = sign::tencent_authorization(&sign::Tc3 {
            secret_id: &t.secret_id,
            secret_key: &t.secret_key,
            host: &host,
            content_type,
            timestamp,
            service: "sms",
            payload: payload.as_bytes(),
        });
        let res = self
            .http
            .post(&t.endpoint)
            .header("content-type", content_type)
            .header("host", &host)
            .header("x-tc-action", "SendSms")
            .header("x-tc-version", "2021-01-11")
            .header("x-tc-region", &t.region)
            .header("x-tc-timestamp", timestamp.to_string())
            .header("authorization", authorization)
            .body(payload)
            .send()
            .await
            .map_err(|e| SmsError::Unavailable(super::transport(&e)))?;
        let answer: Value = res
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let response = &answer["Response"];
        if let Some(code) = response["Error"]["Code"].as_str() {
            return Err(match code {
                c if c.contains("LimitExceeded") => SmsError::RateLimited(c.into()),
                c => SmsError::Misconfigured(c.into()),
            });
        }
        // A request-level success may still hold a failed number: every entry counts.
        let statuses = response["SendStatusSet"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        match statuses.first().and_then(|s| s["Code"].as_str()) {
            Some("Ok") => Ok(()),
            Some(c) if c.starts_with("LimitExceeded") => Err(SmsError::RateLimited(c.into())),
            Some(c) => Err(SmsError::Misconfigured(c.into())),
            None => Err(SmsError::Unavailable(
                "no SendStatusSet in the answer".into(),
            )),
        }
    }
}

fn now() -> i64 {
    crate::clock::Clock::system().now()
}
