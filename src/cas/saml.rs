//! SAML 1.1 ticket validation (`POST /samlValidate?TARGET=service`, protocol §4.2): the
//! SOAP-wrapped `samlp:Request` in, a `samlp:Response` out, in the shape Apache mod_auth_cas,
//! phpCAS and the Java client parse (they match namespaces and local names, and mod_auth_cas
//! walks direct children, so the nesting below is load-bearing).

use super::render::escape_xml;
use super::{Validation, ValidationError};
use crate::clock::iso8601;
use quick_xml::events::Event;
use quick_xml::Reader;

const PROTOCOL: &str = "urn:oasis:names:tc:SAML:1.0:protocol";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:1.0:assertion";
const ATTRIBUTE_NS: &str = "http://www.ja-sig.org/products/cas/";

/// What we need from a request: the artifact (the ticket) and the id to answer to.
#[derive(Debug, PartialEq, Eq)]
pub struct SamlRequest {
    pub ticket: String,
    pub request_id: Option<String>,
}

/// Finds `AssertionArtifact` by local name anywhere (clients differ in prefixes and
/// wrapping), trimmed and percent-decoded (phpCAS url-encodes it). `IssueInstant` and
/// `RequestID` are never checked: phpCAS sends constants from 2002, mod_auth_cas no instant.
pub fn parse_request(body: &[u8]) -> Result<SamlRequest, String> {
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut request_id = None;
    let mut in_artifact = false;
    let mut artifact = String::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err("the request nests too deeply".into());
                }
                request_id = request_id.or_else(|| request_id_of(&e));
                in_artifact |= e.local_name().as_ref() == b"AssertionArtifact";
            }
            // An empty element opens and closes at once: it never deepens the nesting.
            Ok(Event::Empty(e)) => request_id = request_id.or_else(|| request_id_of(&e)),
            Ok(Event::Text(t)) if in_artifact => {
                let decoded = t.decode().map_err(|e| e.to_string())?;
                artifact
                    .push_str(&quick_xml::escape::unescape(&decoded).map_err(|e| e.to_string())?);
            }
            Ok(Event::End(e)) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref() == b"AssertionArtifact" {
                    break;
                }
            }
            // No document type, so no entity can be declared, let alone expanded (XXE).
            Ok(Event::DocType(_)) => return Err("a DOCTYPE is not accepted".into()),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("malformed XML: {e}")),
        }
        buf.clear();
    }
    let ticket = percent_decode(artifact.trim());
    if ticket.is_empty() {
        return Err("no samlp:AssertionArtifact in the request".into());
    }
    Ok(SamlRequest { ticket, request_id })
}

/// Elements open at once, at most; real requests nest four deep.
const MAX_DEPTH: usize = 32;

/// The `RequestID` of a `Request` element.
fn request_id_of(e: &quick_xml::events::BytesStart) -> Option<String> {
    if e.local_name().as_ref() != b"Request" {
        return None;
    }
    e.try_get_attribute("RequestID")
        .ok()
        .flatten()
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("t={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The clock skew window of an assertion.
pub struct Window {
    pub not_before: i64,
    pub not_on_or_after: i64,
}

/// The SOAP-wrapped `samlp:Response`: Success with the assertion, or RequestDenied with the
/// reason (HTTP 200 either way, as Apereo). Without `with_attributes` the assertion has no
/// AttributeStatement; every client still finds the user in the AuthenticationStatement.
pub fn render_response(
    result: &Result<Validation, ValidationError>,
    target: &str,
    request_id: Option<&str>,
    issuer: &str,
    now: i64,
    window: &Window,
    with_attributes: bool,
) -> String {
    let id = |prefix: &str| format!("_{prefix}{}", crate::tickets::random_base62(32));
    let mut out = String::with_capacity(2048);
    out.push_str(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">\
         <SOAP-ENV:Header/><SOAP-ENV:Body>",
    );
    out.push_str(&format!(
        "<samlp:Response xmlns:samlp=\"{PROTOCOL}\" xmlns:saml=\"{ASSERTION}\" ResponseID=\"{}\" \
         IssueInstant=\"{}\" MajorVersion=\"1\" MinorVersion=\"1\" Recipient=\"{}\"",
        id("r"),
        iso8601(now),
        escape_xml(target)
    ));
    if let Some(rid) = request_id {
        out.push_str(&format!(" InResponseTo=\"{}\"", escape_xml(rid)));
    }
    out.push('>');
    match result {
        Err(e) => {
            out.push_str(&format!(
                "<samlp:Status><samlp:StatusCode Value=\"samlp:RequestDenied\"/>\
                 <samlp:StatusMessage>{}</samlp:StatusMessage></samlp:Status>",
                escape_xml(&format!("{}: {}", e.code.as_str(), e.message))
            ));
        }
        Ok(v) => {
            let subject = format!(
                "<saml:Subject><saml:NameIdentifier>{}</saml:NameIdentifier>\
                 <saml:SubjectConfirmation><saml:ConfirmationMethod>\
                 urn:oasis:names:tc:SAML:1.0:cm:artifact</saml:ConfirmationMethod>\
                 </saml:SubjectConfirmation></saml:Subject>",
                escape_xml(&v.user)
            );
            out.push_str(
                "<samlp:Status><samlp:StatusCode Value=\"samlp:Success\"/></samlp:Status>",
            );
            out.push_str(&format!(
                "<saml:Assertion AssertionID=\"{}\" IssueInstant=\"{}\" Issuer=\"{}\" \
                 MajorVersion=\"1\" MinorVersion=\"1\">\
                 <saml:Conditions NotBefore=\"{}\" NotOnOrAfter=\"{}\">\
                 <saml:AudienceRestrictionCondition><saml:Audience>{}</saml:Audience>\
                 </saml:AudienceRestrictionCondition></saml:Conditions>",
                id("a"),
                iso8601(now),
                escape_xml(issuer),
                iso8601(window.not_before),
                iso8601(window.not_on_or_after),
                escape_xml(target)
            ));
            out.push_str(&format!(
                "<saml:AuthenticationStatement AuthenticationInstant=\"{}\" \
                 AuthenticationMethod=\"urn:oasis:names:tc:SAML:1.0:am:password\">{subject}\
                 </saml:AuthenticationStatement>",
                iso8601(v.auth_time)
            ));
            if with_attributes {
                out.push_str("<saml:AttributeStatement>");
                out.push_str(&subject);
                for (name, values) in grouped(v) {
                    out.push_str(&format!(
                        "<saml:Attribute AttributeName=\"{}\" AttributeNamespace=\"{ATTRIBUTE_NS}\">",
                        escape_xml(&name)
                    ));
                    for value in values {
                        out.push_str(&format!(
                            "<saml:AttributeValue>{}</saml:AttributeValue>",
                            escape_xml(&value)
                        ));
                    }
                    out.push_str("</saml:Attribute>");
                }
                out.push_str("</saml:AttributeStatement>");
            }
            out.push_str("</saml:Assertion>");
        }
    }
    out.push_str("</samlp:Response></SOAP-ENV:Body></SOAP-ENV:Envelope>");
    out
}

/// Attributes by name in first-seen order, the protocol's three included; a repeated name
/// becomes one `saml:Attribute` with several values.
fn grouped(v: &Validation) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in super::render::protocol_attributes(v)
        .into_iter()
        .chain(v.attributes.iter().cloned())
    {
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name, vec![value])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_artifact_in_each_clients_request() {
        // phpCAS: no declaration, constant ids, url-encoded ticket.
        let php = r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body><samlp:Request xmlns:samlp="urn:oasis:names:tc:SAML:1.0:protocol"  MajorVersion="1" MinorVersion="1" RequestID="_192.168.16.51.1024506224022" IssueInstant="2002-06-19T17:03:44.022Z"><samlp:AssertionArtifact>ST-abc%2Ddef</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        let r = parse_request(php.as_bytes()).unwrap();
        assert_eq!(r.ticket, "ST-abc-def");
        assert_eq!(
            r.request_id.as_deref(),
            Some("_192.168.16.51.1024506224022")
        );
        // Apereo's documented sample: the ticket on its own indented line.
        let doc = "<?xml version=\"1.0\"?><Envelope><Body><Request RequestID=\"x\">\n  <AssertionArtifact>\n    ST-1\n  </AssertionArtifact></Request></Body></Envelope>";
        assert_eq!(parse_request(doc.as_bytes()).unwrap().ticket, "ST-1");
        assert!(parse_request(b"<a><b/></a>").is_err());
        assert!(parse_request(b"<a><AssertionArtifact>").is_err());
        assert!(parse_request(b"not xml <").is_err());
    }

    #[test]
    fn nesting_is_bounded_but_siblings_are_not_nesting() {
        let siblings = format!(
            "<Envelope><Body><Request>{}<AssertionArtifact>ST-1</AssertionArtifact></Request></Body></Envelope>",
            "<a/>".repeat(1000)
        );
        assert_eq!(parse_request(siblings.as_bytes()).unwrap().ticket, "ST-1");
        let deep = format!(
            "{}<AssertionArtifact>ST-1</AssertionArtifact>",
            "<a>".repeat(33)
        );
        assert!(parse_request(deep.as_bytes()).is_err());
    }
}
