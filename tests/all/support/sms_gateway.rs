//! A local stand-in for the SMS gateways schools use, speaking each one's documented wire
//! format and checking each one's signature the way the provider does (written here
//! independently of the server's signer): Aliyun Dysms SendSms (RPC signature v1, HMAC-SHA1,
//! nonce used once, timestamp within 15 minutes), Tencent Cloud SMS API 3.0
//! (TC3-HMAC-SHA256 over the Host actually received, timestamp within 5 minutes, credential
//! date in UTC), and a school's webhook (HMAC-SHA256 headers). It records what it accepted
//! and can answer with the providers' errors, or slowly.

use base64::Engine;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const ALIYUN_ID: &str = "LTAItestid";
pub const ALIYUN_SECRET: &str = "testAliyunSecret";
pub const TENCENT_ID: &str = "AKIDtestsecretid";
pub const TENCENT_KEY: &str = "testTencentSecretKey";
pub const WEBHOOK_SECRET: &str = "test-webhook-secret";

/// How the gateway answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// The provider's rate limit for the number.
    RateLimited,
    /// The provider refuses the template.
    BadTemplate,
    /// No answer for 10 s.
    Slow,
}

/// A message the gateway accepted.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub provider: &'static str,
    pub phone: String,
    pub code: String,
}

#[derive(Clone)]
pub struct Gateway {
    pub addr: SocketAddr,
    pub delivered: Arc<Mutex<Vec<Delivered>>>,
    /// Requests refused for a bad signature, a reused nonce or a stale timestamp.
    pub rejected: Arc<Mutex<Vec<String>>>,
    pub mode: Arc<Mutex<Mode>>,
    nonces: Arc<Mutex<HashSet<String>>>,
    /// Requests received, whatever became of them.
    attempts: Arc<std::sync::atomic::AtomicUsize>,
}

impl Gateway {
    pub async fn start() -> Gateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let g = Gateway {
            addr: listener.local_addr().unwrap(),
            delivered: Arc::default(),
            rejected: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Accept)),
            nonces: Arc::default(),
            attempts: Arc::default(),
        };
        let state = g.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, hyper::Error>(state.answer(req).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        g
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().unwrap().clone()
    }

    /// Requests received so far.
    pub fn attempts(&self) -> usize {
        self.attempts.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn answer(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> hyper::Response<Full<Bytes>> {
        self.attempts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = req.uri().path().to_string();
        let headers = req.headers().clone();
        let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
        let mode = *self.mode.lock().unwrap();
        if mode == Mode::Slow {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        }
        let (status, json) = match path.as_str() {
            "/aliyun/" => self.aliyun(&body, mode),
            "/tencent/" => self.tencent(&headers, &body, mode),
            "/webhook" => self.webhook(&headers, &body, mode),
            _ => (404, serde_json::json!({})),
        };
        let mut res = hyper::Response::new(Full::new(Bytes::from(json.to_string())));
        *res.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        res.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        res
    }

    fn reject(&self, why: &str) {
        self.rejected.lock().unwrap().push(why.to_string());
    }

    /// Dysms SendSms, POST form. https://help.aliyun.com/document_detail/101414.html
    fn aliyun(&self, body: &[u8], mode: Mode) -> (u16, serde_json::Value) {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut signed: Vec<&(String, String)> =
            params.iter().filter(|(k, _)| k != "Signature").collect();
        signed.sort_by(|a, b| a.0.cmp(&b.0));
        let enc = |s: &str| {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        };
        let canonical: Vec<String> = signed
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        let to_sign = format!("POST&%2F&{}", enc(&canonical.join("&")));
        let mut mac =
            <Hmac<sha1::Sha1> as Mac>::new_from_slice(format!("{ALIYUN_SECRET}&").as_bytes())
                .unwrap();
        mac.update(to_sign.as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if get("AccessKeyId") != ALIYUN_ID || get("Signature") != expected {
            self.reject("aliyun: SignatureDoesNotMatch");
            return (
                400,
                serde_json::json!({"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"}),
            );
        }
        if !self.nonces.lock().unwrap().insert(get("SignatureNonce")) {
            self.reject("aliyun: SignatureNonceUsed");
            return (400, serde_json::json!({"Code": "SignatureNonceUsed"}));
        }
        let fresh = time::OffsetDateTime::parse(
            &get("Timestamp"),
            &time::format_description::well_known::Rfc3339,
        )
        .is_ok_and(|t| (t - time::OffsetDateTime::now_utc()).whole_seconds().abs() < 900);
        if !fresh {
            self.reject("aliyun: InvalidTimeStamp.Expired");
            return (400, serde_json::json!({"Code": "InvalidTimeStamp.Expired"}));
        }
        match mode {
            Mode::RateLimited => (
                200,
                serde_json::json!({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1", "RequestId": "r"}),
            ),
            Mode::BadTemplate => (
                200,
                serde_json::json!({"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法", "RequestId": "r"}),
            ),
            _ => {
                let param: serde_json::Value =
                    serde_json::from_str(&get("TemplateParam")).unwrap_or_default();
                self.delivered.lock().unwrap().push(Delivered {
                    provider: "aliyun",
                    phone: get("PhoneNumbers"),
                    code: param["code"].as_str().unwrap_or("").to_string(),
                });
                (
                    200,
                    serde_json::json!({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r"}),
                )
            }
        }
    }

    /// SMS API 3.0 SendSms. https://cloud.tencent.com/document/api/382/55981
    fn tencent(
        &self,
        headers: &hyper::HeaderMap,
        body: &[u8],
        mode: Mode,
    ) -> (u16, serde_json::Value) {
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let timestamp: i64 = h("x-tc-timestamp").parse().unwrap_or(0);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let error = |code: &str| {
            (
                200,
                serde_json::json!({"Response": {"Error": {"Code": code, "Message": code}, "RequestId": "r"}}),
            )
        };
        if (timestamp - now).abs() > 300 {
            self.reject("tencent: AuthFailure.SignatureExpire");
            return error("AuthFailure.SignatureExpire");
        }
        let date = time::OffsetDateTime::from_unix_timestamp(timestamp)
            .unwrap()
            .date();
        let date = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let canonical = format!(
            "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
            h("content-type"),
            h("host"),
            hex(&Sha256::digest(body))
        );
        let scope = format!("{date}/sms/tc3_request");
        let to_sign = format!(
            "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let hmac = |key: &[u8], data: &str| {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
            m.update(data.as_bytes());
            m.finalize().into_bytes().to_vec()
        };
        let k = hmac(
            &hmac(&hmac(format!("TC3{TENCENT_KEY}").as_bytes(), &date), "sms"),
            "tc3_request",
        );
        let expected = format!(
            "TC3-HMAC-SHA256 Credential={TENCENT_ID}/{scope}, SignedHeaders=content-type;host, Signature={}",
            hex(&hmac(&k, &to_sign))
        );
        if h("authorization") != expected || h("x-tc-action") != "SendSms" {
            self.reject("tencent: AuthFailure.SignatureFailure");
            return error("AuthFailure.SignatureFailure");
        }
        let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let phone = request["PhoneNumberSet"][0]
            .as_str()
            .unwrap_or("")
            .to_string();
        let status = |code: &str, message: &str| {
            (
                200,
                serde_json::json!({"Response": {"SendStatusSet": [{
                "SerialNo": "5000:1", "PhoneNumber": phone, "Fee": 1, "SessionContext": "",
                "Code": code, "Message": message, "IsoCode": "CN"}], "RequestId": "r"}}),
            )
        };
        match mode {
            Mode::RateLimited => status("LimitExceeded.PhoneNumberThirtySecondLimit", "30s limit"),
            Mode::BadTemplate => {
                status("FailedOperation.TemplateIncorrectOrUnapproved", "template")
            }
            _ => {
                self.delivered.lock().unwrap().push(Delivered {
                    provider: "tencent",
                    phone: phone.clone(),
                    code: request["TemplateParamSet"][0]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                });
                status("Ok", "send success")
            }
        }
    }

    /// The school's message platform: HMAC-SHA256 over timestamp, nonce and body.
    fn webhook(
        &self,
        headers: &hyper::HeaderMap,
        body: &[u8],
        mode: Mode,
    ) -> (u16, serde_json::Value) {
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(WEBHOOK_SECRET.as_bytes()).unwrap();
        m.update(format!("{}\n{}\n", h("x-sso-timestamp"), h("x-sso-nonce")).as_bytes());
        m.update(body);
        let expected: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        if h("x-sso-signature") != expected {
            self.reject("webhook: bad signature");
            return (
                401,
                serde_json::json!({"ok": false, "error": "bad signature"}),
            );
        }
        let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        match mode {
            Mode::RateLimited => (
                429,
                serde_json::json!({"ok": false, "error": "rate limited"}),
            ),
            Mode::BadTemplate => (
                400,
                serde_json::json!({"ok": false, "error": "unknown template"}),
            ),
            _ => {
                self.delivered.lock().unwrap().push(Delivered {
                    provider: "webhook",
                    phone: request["phone"].as_str().unwrap_or("").to_string(),
                    code: request["params"]["code"].as_str().unwrap_or("").to_string(),
                });
                (200, serde_json::json!({"ok": true, "id": "m1"}))
            }
        }
    }
}
