//! The request signatures of the SMS gateways schools use, unit-tested against what the
//! providers' official SDKs produce (`tests/vectors/sms-signatures.json`) and the
//! providers' published examples.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Aliyun's percent-encoding (its "签名机制"): everything but `A-Z a-z 0-9 - _ . ~` as `%XY`
/// in upper-case hex over UTF-8; a space is `%20`, never `+`.
pub fn aliyun_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Aliyun RPC signature v1 (HMAC-SHA1) over `params` (every parameter but `Signature`):
/// sorted by name, encoded, joined, encoded again behind `METHOD&%2F&`, keyed with the
/// secret followed by `&`; Base64.
pub fn aliyun_signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let canonical = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", aliyun_encode(k), aliyun_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!(
        "{method}&{}&{}",
        aliyun_encode("/"),
        aliyun_encode(&canonical)
    );
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("any key length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What a TC3-HMAC-SHA256 signature covers.
pub struct Tc3<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub host: &'a str,
    pub content_type: &'a str,
    /// Unix seconds; the credential scope takes its UTC date.
    pub timestamp: i64,
    /// `sms`.
    pub service: &'a str,
    pub payload: &'a [u8],
}

/// Tencent Cloud API 3.0 signature (TC3-HMAC-SHA256), signing `content-type;host` as the
/// official SDK does; the whole `Authorization` header value.
pub fn tencent_authorization(r: &Tc3) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(r.timestamp)
        .map(|t| {
            let d = t.date();
            format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
        })
        .unwrap_or_default();
    let signed_headers = "content-type;host";
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\n{signed_headers}\n{}",
        r.content_type,
        r.host,
        crate::secrets::hex(&Sha256::digest(r.payload))
    );
    let scope = format!("{date}/{}/tc3_request", r.service);
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{scope}\n{}",
        r.timestamp,
        crate::secrets::hex(&Sha256::digest(canonical.as_bytes()))
    );
    let hmac = |key: &[u8], data: &str| {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
        m.update(data.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    let k_date = hmac(format!("TC3{}", r.secret_key).as_bytes(), &date);
    let k_service = hmac(&k_date, r.service);
    let k_signing = hmac(&k_service, "tc3_request");
    let signature = crate::secrets::hex(&hmac(&k_signing, &to_sign));
    format!(
        "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        r.secret_id
    )
}

/// The webhook's signature: hex HMAC-SHA256 of `timestamp \n nonce \n body`.
pub fn webhook_signature(secret: &str, timestamp: i64, nonce: &str, body: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(format!("{timestamp}\n{nonce}\n").as_bytes());
    m.update(body);
    crate::secrets::hex(&m.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/vectors/sms-signatures.json")).unwrap()
    }

    #[test]
    fn aliyun_matches_the_official_sdk() {
        let v = &vectors()["aliyun_dysms_send_sms_rpc_v1"];
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        let mut params: Vec<(String, String)> = v["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        for (k, val) in [
            ("AccessKeyId", s("access_key_id")),
            ("Format", "JSON".into()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureNonce", s("signature_nonce")),
            ("SignatureType", String::new()),
            ("SignatureVersion", "1.0".into()),
            ("Timestamp", s("timestamp")),
        ] {
            params.push((k.into(), val));
        }
        assert_eq!(
            aliyun_signature("GET", &params, &s("access_key_secret")),
            s("signature")
        );
    }

    #[test]
    fn aliyun_matches_the_published_examples() {
        // The SMS document's example (GET), and the same request signed for POST.
        let params: Vec<(String, String)> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            aliyun_signature("GET", &params, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
        for (raw, encoded) in [
            ("a b", "a%20b"),
            ("*", "%2A"),
            ("~", "~"),
            ("+", "%2B"),
            ("派", "%E6%B4%BE"),
            ("'", "%27"),
        ] {
            assert_eq!(aliyun_encode(raw), encoded);
        }
        let post: Vec<(String, String)> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", "13800000000"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "测试学院"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "9f1c1b7e-0000-4000-8000-000000000001"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_000000001"),
            ("TemplateParam", "{\"code\":\"123456\"}"),
            ("Timestamp", "2023-11-14T22:13:20Z"),
            ("Version", "2017-05-25"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            aliyun_signature("POST", &post, "testSecret"),
            "ehtnlc3moofQLn6OePn6PvfbIYs="
        );
    }

    #[test]
    fn tencent_matches_the_official_sdk() {
        let v = &vectors()["tencent_sms_send_sms_tc3"];
        let s = |k: &str| v[k].as_str().unwrap();
        let authorization = tencent_authorization(&Tc3 {
            secret_id: s("secret_id"),
            secret_key: s("secret_key"),
            host: v["headers"]["Host"].as_str().unwrap(),
            content_type: v["headers"]["Content-Type"].as_str().unwrap(),
            timestamp: v["timestamp"].as_i64().unwrap(),
            service: s("service"),
            payload: s("request_body_exact").as_bytes(),
        });
        assert_eq!(authorization, s("authorization"));
    }

    #[test]
    fn webhook_signs_time_nonce_and_body() {
        let a = webhook_signature("k", 1, "n", b"{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, webhook_signature("k", 2, "n", b"{}"));
        assert_ne!(a, webhook_signature("k", 1, "n", b"{ }"));
    }
}
