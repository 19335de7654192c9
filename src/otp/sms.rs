//! SMS gateways: one `Sender` with the providers a school can choose in the configuration.
//! `log` (the default, for trying unicas out) writes the message to the log with the code
//! masked, and keeps it, sealed, for `unicas sms outbox`; `webhook` POSTs signed JSON to the
//! school's own message platform; `aliyun` and `tencent` call those clouds' SendSms with
//! their signatures. Every call is bounded by a short timeout.

use super::{sign, Content, SendError};
use crate::config::{SmsConfig, SmsProvider};
use crate::model::Phone;
use serde_json::{json, Value};
use std::time::Duration;

/// One message: what it carries, and the text of the configured template (for `log` and
/// `webhook`; the clouds fill in their approved templates themselves).
pub struct Message<'a> {
    pub phone: &'a Phone,
    pub content: Content<'a>,
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

    pub fn provider(&self) -> &'static str {
        self.config.provider.name()
    }

    /// Sends `m`; `Ok` only when the gateway says it accepted the message.
    pub async fn send(&self, m: &Message<'_>) -> Result<(), SendError> {
        let timeout = Duration::from_secs(self.config.timeout);
        let call = async {
            match self.config.provider {
                SmsProvider::Webhook => self.webhook(m).await,
                SmsProvider::Aliyun => self.aliyun(m).await,
                SmsProvider::Tencent => self.tencent(m).await,
                SmsProvider::Log => {
                    let shown = match (m.content, self.config.log_show_code) {
                        (Content::Code { code, .. }, false) => m.text.replace(code, "******"),
                        _ => m.text.clone(),
                    };
                    tracing::info!(phone = %m.phone.masked(), purpose = m.purpose, text = %shown, "SMS (log provider)");
                    Ok(())
                }
            }
        };
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| Err(SendError::Unavailable("timeout".into())))
    }

    async fn webhook(&self, m: &Message<'_>) -> Result<(), SendError> {
        let w = &self.config.webhook;
        let (template, params) = match m.content {
            Content::Code { code, minutes } => (
                "verify_code",
                json!({ "code": code, "minutes": minutes.to_string() }),
            ),
            Content::Notice { event } => ("notice", json!({ "event": event })),
        };
        let body = json!({
            "phone": m.phone.national(),
            "template": template,
            "params": params,
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
            .map_err(|e| SendError::Unavailable(super::transport(&e)))?;
        let status = res.status();
        let answer: Value = res
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        match (status.as_u16(), answer["ok"].as_bool()) {
            (200..=299, Some(true)) => Ok(()),
            (429, _) => Err(SendError::RateLimited("HTTP 429".into())),
            (s, _) => Err(SendError::Misconfigured(format!(
                "HTTP {s} {}",
                answer["error"].as_str().unwrap_or("")
            ))),
        }
    }

    async fn aliyun(&self, m: &Message<'_>) -> Result<(), SendError> {
        let a = &self.config.aliyun;
        let (template, param) = match m.content {
            Content::Code { code, .. } => (&a.template_code, json!({ "code": code })),
            Content::Notice { event } => (&a.notice_template_code, json!({ "event": event })),
        };
        if template.is_empty() {
            return Err(SendError::Misconfigured("no notice template".into()));
        }
        let mut params: Vec<(String, String)> = [
            ("AccessKeyId", a.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", m.phone.national()),
            ("RegionId", a.region.as_str()),
            ("SignName", self.config.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", template.as_str()),
            ("Version", "2017-05-25"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        params.push(("SignatureNonce".into(), crate::tickets::random_base62(32)));
        params.push(("Timestamp".into(), crate::clock::iso8601(now())));
        params.push(("TemplateParam".into(), param.to_string()));
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
            .map_err(|e| SendError::Unavailable(super::transport(&e)))?;
        let answer: Value = res
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        // The HTTP status alone says nothing: `Code` does ("OK" in upper case).
        match answer["Code"].as_str().unwrap_or("") {
            "OK" => Ok(()),
            c if c.contains("LIMIT_CONTROL") => Err(SendError::RateLimited(c.into())),
            "" => Err(SendError::Unavailable("no Code in the answer".into())),
            c => Err(SendError::Misconfigured(c.into())),
        }
    }

    async fn tencent(&self, m: &Message<'_>) -> Result<(), SendError> {
        let t = &self.config.tencent;
        let (template, params) = match m.content {
            Content::Code { code, minutes } => {
                (&t.template_id, vec![code.to_string(), minutes.to_string()])
            }
            Content::Notice { event } => (&t.notice_template_id, vec![event.to_string()]),
        };
        if template.is_empty() {
            return Err(SendError::Misconfigured("no notice template".into()));
        }
        let payload = json!({
            "PhoneNumberSet": [m.phone.e164()],
            "SmsSdkAppId": t.sdk_app_id,
            "SignName": self.config.sign_name,
            "TemplateId": template,
            "TemplateParamSet": params,
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
            .map_err(|e| SendError::Unavailable(super::transport(&e)))?;
        let answer: Value = res
            .bytes()
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let response = &answer["Response"];
        if let Some(code) = response["Error"]["Code"].as_str() {
            return Err(match code {
                c if c.contains("LimitExceeded") => SendError::RateLimited(c.into()),
                c => SendError::Misconfigured(c.into()),
            });
        }
        // A request-level success may still hold a failed number: every entry counts.
        let statuses = response["SendStatusSet"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        match statuses.first().and_then(|s| s["Code"].as_str()) {
            Some("Ok") => Ok(()),
            Some(c) if c.starts_with("LimitExceeded") => Err(SendError::RateLimited(c.into())),
            Some(c) => Err(SendError::Misconfigured(c.into())),
            None => Err(SendError::Unavailable(
                "no SendStatusSet in the answer".into(),
            )),
        }
    }
}

fn now() -> i64 {
    crate::clock::Clock::system().now()
}
