//! Renderings of one validation result: CAS 1.0 text, CAS 2.0/3.0 XML, JSON.
//!
//! XML follows what Apereo emits and clients parse: the literal `cas:` prefix bound to
//! `http://www.yale.edu/tp/cas` in single quotes, byte for byte Apereo's opening tag (phpCAS
//! strips the string `cas:`; old clients match the raw text), `<cas:user>` with nothing
//! around the name (campus clients regex-match it), the three protocol attributes first in
//! XSD order, a multi-valued attribute as repeated elements.

use super::{Validation, ValidationError};
use crate::clock::iso8601;
use serde_json::{json, Map, Value};

const NS: &str = "http://www.yale.edu/tp/cas";

/// `yes\n<user>\n` or `no\n\n` (what mod_auth_cas and phpCAS parse).
pub fn render_cas1(result: &Result<Validation, ValidationError>) -> String {
    match result {
        Ok(v) => format!("yes\n{}\n", v.user),
        Err(_) => "no\n\n".to_string(),
    }
}

/// CAS 2.0/3.0 XML. `with_attributes` is false only where a service asked for bare 2.0.
pub fn render_xml(result: &Result<Validation, ValidationError>, with_attributes: bool) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("<cas:serviceResponse xmlns:cas='");
    out.push_str(NS);
    out.push_str("'>\n");
    match result {
        Ok(v) => {
            out.push_str("  <cas:authenticationSuccess>\n    <cas:user>");
            out.push_str(&escape_xml(&v.user));
            out.push_str("</cas:user>\n");
            if with_attributes {
                out.push_str("    <cas:attributes>\n");
                for (name, value) in protocol_attributes(v).iter().chain(v.attributes.iter()) {
                    element(&mut out, name, value);
                }
                out.push_str("    </cas:attributes>\n");
            }
            if let Some(iou) = &v.pgt_iou {
                out.push_str("    <cas:proxyGrantingTicket>");
                out.push_str(iou);
                out.push_str("</cas:proxyGrantingTicket>\n");
            }
            if !v.proxies.is_empty() {
                out.push_str("    <cas:proxies>\n");
                for p in &v.proxies {
                    element(&mut out, "proxy", p);
                }
                out.push_str("    </cas:proxies>\n");
            }
            out.push_str("  </cas:authenticationSuccess>\n");
        }
        Err(e) => {
            out.push_str("  <cas:authenticationFailure code=\"");
            out.push_str(e.code.as_str());
            out.push_str("\">");
            out.push_str(&escape_xml(&e.message));
            out.push_str("</cas:authenticationFailure>\n");
        }
    }
    out.push_str("</cas:serviceResponse>\n");
    out
}

/// The JSON form of the same result (protocol §2.5.7): single values as scalars, repeated
/// names as arrays.
pub fn render_json(result: &Result<Validation, ValidationError>) -> String {
    let body = match result {
        Ok(v) => {
            let mut attributes = Map::new();
            for (name, value) in protocol_attributes(v)
                .into_iter()
                .chain(v.attributes.iter().cloned())
            {
                match attributes.get_mut(&name) {
                    None => {
                        attributes.insert(name, Value::String(value));
                    }
                    Some(Value::Array(values)) => values.push(Value::String(value)),
                    Some(first) => *first = Value::Array(vec![first.take(), Value::String(value)]),
                }
            }
            let mut success = json!({ "user": v.user, "attributes": attributes });
            if let Some(iou) = &v.pgt_iou {
                success["proxyGrantingTicket"] = json!(iou);
            }
            if !v.proxies.is_empty() {
                success["proxies"] = json!(v.proxies);
            }
            json!({ "serviceResponse": { "authenticationSuccess": success } })
        }
        Err(e) => json!({ "serviceResponse": { "authenticationFailure": {
            "code": e.code.as_str(), "description": e.message } } }),
    };
    body.to_string()
}

/// The `/proxy` answer, in XML or (`json`) the spec's JSON, whose failure example reuses the
/// `authenticationFailure` key.
pub fn render_proxy(result: &Result<String, ValidationError>, json: bool) -> String {
    match (result, json) {
        (Ok(pt), false) => format!(
            "<cas:serviceResponse xmlns:cas='{NS}'>\n  <cas:proxySuccess>\n    \
             <cas:proxyTicket>{pt}</cas:proxyTicket>\n  </cas:proxySuccess>\n</cas:serviceResponse>\n"
        ),
        (Err(e), false) => format!(
            "<cas:serviceResponse xmlns:cas='{NS}'>\n  <cas:proxyFailure code=\"{}\">{}\
             </cas:proxyFailure>\n</cas:serviceResponse>\n",
            e.code.as_str(),
            escape_xml(&e.message)
        ),
        (Ok(pt), true) => {
            json!({ "serviceResponse": { "proxySuccess": { "proxyTicket": pt } } }).to_string()
        }
        (Err(e), true) => json!({ "serviceResponse": { "authenticationFailure": {
            "code": e.code.as_str(), "description": e.message } } })
        .to_string(),
    }
}

/// What CAS 3 releases about the authentication itself, as Apereo names it: when, whether
/// "remember me" and a new login, how (`authenticationMethod` and
/// `successfulAuthenticationHandlers`: a handler per factor) and, once a second factor was
/// proved, `authnContextClass` naming it (`mfa-gauth`, `mfa-webauthn`, …), which an
/// application that requires one can check.
pub(super) fn protocol_attributes(v: &Validation) -> Vec<(String, String)> {
    let mut out = vec![
        ("authenticationDate".into(), iso8601(v.auth_time)),
        (
            "longTermAuthenticationRequestTokenUsed".into(),
            v.remember_me.to_string(),
        ),
        ("isFromNewLogin".into(), v.from_new_login.to_string()),
    ];
    for name in ["authenticationMethod", "successfulAuthenticationHandlers"] {
        out.extend(
            v.proof
                .handlers()
                .into_iter()
                .map(|h| (name.to_string(), h.to_string())),
        );
    }
    if let Some(class) = v.context_class {
        out.push(("authnContextClass".into(), class.to_string()));
    }
    out
}

fn element(out: &mut String, name: &str, value: &str) {
    // Names come from the registry and accounts, which admit only XML-safe names; anything
    // else is dropped rather than emitted as markup.
    if !crate::model::valid_attribute_name(name) {
        return;
    }
    out.push_str("      <cas:");
    out.push_str(name);
    out.push('>');
    out.push_str(&escape_xml(value));
    out.push_str("</cas:");
    out.push_str(name);
    out.push_str(">\n");
}

/// Escapes text for XML content and attribute values: characters XML 1.0 forbids are dropped (escaping cannot make them legal), the
/// five markup characters and CR escaped.
pub fn escape_xml(s: &str) -> String {
    let legal: String = s
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}'))
        .collect();
    quick_xml::escape::escape(legal.as_str()).replace('\r', "&#13;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cas::ErrorCode;

    fn success() -> Validation {
        Validation {
            user: "20231234".into(),
            attributes: vec![
                ("cn".into(), "张三 <&\"'> ]]> \u{1}\r".into()),
                ("memberOf".into(), "a".into()),
                ("memberOf".into(), "b".into()),
                ("bad name".into(), "x".into()),
            ],
            auth_time: 1_740_816_930,
            from_new_login: true,
            remember_me: false,
            proxies: vec![],
            pgt_iou: None,
            proof: crate::model::Proof::first(crate::model::Factor::Password)
                .with(crate::model::Factor::Totp),
            context_class: Some("mfa-gauth"),
        }
    }

    #[test]
    fn xml_is_well_formed_and_round_trips() {
        let xml = render_xml(&Ok(success()), true);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let user = doc
            .descendants()
            .find(|n| n.has_tag_name((NS, "user")))
            .unwrap();
        assert_eq!(user.text(), Some("20231234"));
        assert!(xml.contains("<cas:user>20231234</cas:user>"));
        assert!(xml.starts_with("<cas:serviceResponse xmlns:cas='http://www.yale.edu/tp/cas'>\n"));
        let attrs: Vec<_> = doc
            .descendants()
            .find(|n| n.has_tag_name((NS, "attributes")))
            .unwrap()
            .children()
            .filter(|n| n.is_element())
            .map(|n| {
                (
                    n.tag_name().name().to_string(),
                    n.text().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(
            attrs[0],
            ("authenticationDate".into(), "2025-03-01T08:15:30Z".into())
        );
        assert_eq!(attrs[1].0, "longTermAuthenticationRequestTokenUsed");
        assert_eq!(attrs[2], ("isFromNewLogin".into(), "true".into()));
        // How: a handler per factor, and the second factor's context class (Apereo's names).
        let named = |name: &str| -> Vec<&str> {
            attrs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let handlers = [
            "PasswordAuthenticationHandler",
            "GoogleAuthenticatorAuthenticationHandler",
        ];
        assert_eq!(named("authenticationMethod"), handlers);
        assert_eq!(named("successfulAuthenticationHandlers"), handlers);
        assert_eq!(named("authnContextClass"), ["mfa-gauth"]);
        assert_eq!(attrs[8], ("cn".into(), "张三 <&\"'> ]]> \r".into()));
        assert_eq!(attrs.iter().filter(|(k, _)| k == "memberOf").count(), 2);
        assert_eq!(attrs.len(), 11);
    }

    #[test]
    fn failure_and_cas1_and_json() {
        let err = Err(ValidationError::new(
            ErrorCode::InvalidTicket,
            "Ticket '<x>' not recognized",
        ));
        let xml = render_xml(&err, true);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name((NS, "authenticationFailure")))
            .unwrap();
        assert_eq!(failure.attribute("code"), Some("INVALID_TICKET"));
        assert_eq!(failure.text(), Some("Ticket '<x>' not recognized"));
        assert_eq!(render_cas1(&err), "no\n\n");
        assert_eq!(render_cas1(&Ok(success())), "yes\n20231234\n");
        let json: Value = serde_json::from_str(&render_json(&Ok(success()))).unwrap();
        let s = &json["serviceResponse"]["authenticationSuccess"];
        assert_eq!(s["user"], "20231234");
        assert_eq!(s["attributes"]["memberOf"], json!(["a", "b"]));
        assert_eq!(s["attributes"]["isFromNewLogin"], "true");
        assert_eq!(s["attributes"]["authnContextClass"], "mfa-gauth");
        assert_eq!(
            s["attributes"]["authenticationMethod"],
            json!([
                "PasswordAuthenticationHandler",
                "GoogleAuthenticatorAuthenticationHandler"
            ])
        );
    }
}
