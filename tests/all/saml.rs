//! SAML 1.1 validation with the requests mod_auth_cas, phpCAS and the Java client send, and
//! the answers read the way each of them reads it.

use crate::support::*;
use roxmltree::{Document, Node};

const PROTOCOL: &str = "urn:oasis:names:tc:SAML:1.0:protocol";
const ASSERTION: &str = "urn:oasis:names:tc:SAML:1.0:assertion";

/// phpCAS `_buildSAMLPayload`: no declaration, constant ids from 2002, url-encoded ticket.
fn phpcas_body(ticket: &str) -> String {
    format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Header/><SOAP-ENV:Body><samlp:Request xmlns:samlp=\"urn:oasis:names:tc:SAML:1.0:protocol\"  MajorVersion=\"1\" MinorVersion=\"1\" RequestID=\"_192.168.16.51.1024506224022\" IssueInstant=\"2002-06-19T17:03:44.022Z\"><samlp:AssertionArtifact>{}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>",
        enc(ticket)
    )
}

/// mod_auth_cas: an XML declaration, an md5 RequestID and no IssueInstant at all.
fn mod_auth_cas_body(ticket: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Header/><SOAP-ENV:Body><samlp:Request xmlns:samlp=\"urn:oasis:names:tc:SAML:1.0:protocol\" MajorVersion=\"1\" MinorVersion=\"1\" RequestID=\"5b9a3f3e0d1c4e7f8a9b0c1d2e3f4a5b\"><samlp:AssertionArtifact>{ticket}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

/// java-cas-client `Saml11TicketValidator`: a generated id and the current instant.
fn java_body(ticket: &str) -> String {
    format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Header/><SOAP-ENV:Body><samlp:Request xmlns:samlp=\"urn:oasis:names:tc:SAML:1.0:protocol\" MajorVersion=\"1\" MinorVersion=\"1\" RequestID=\"_a1b2c3\" IssueInstant=\"2026-11-25T10:00:00.000Z\"><samlp:AssertionArtifact>{ticket}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
}

async fn saml_validate(c: &mut Client, target: &str, body: &str) -> Resp {
    c.send(
        "POST",
        &format!("/cas/samlValidate?TARGET={}", enc(target)),
        &[
            ("content-type", "text/xml"),
            (
                "soapaction",
                "http://www.oasis-open.org/committees/security",
            ),
        ],
        body,
    )
    .await
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// Attribute names with their values, in document order.
type Attributes = Vec<(String, Vec<String>)>;

/// mod_auth_cas: direct children by local name, StatusCode value after the colon, the user
/// from the first Subject/NameIdentifier, attributes from AttributeStatement.
fn read_like_mod_auth_cas(xml: &str) -> Option<(String, Attributes)> {
    let doc = Document::parse(xml).unwrap();
    let envelope = doc.root_element();
    let response = child(child(envelope, "Body")?, "Response")?;
    let code = child(child(response, "Status")?, "StatusCode")?.attribute("Value")?;
    if code.rsplit(':').next() != Some("Success") {
        return None;
    }
    let statement = child(child(response, "Assertion")?, "AttributeStatement")?;
    let user = child(child(statement, "Subject")?, "NameIdentifier")?.text()?;
    let attributes = statement
        .children()
        .filter(|n| n.tag_name().name() == "Attribute")
        .map(|a| {
            (
                a.attribute("AttributeName").unwrap().to_string(),
                a.children()
                    .filter(|v| v.tag_name().name() == "AttributeValue")
                    .map(|v| v.text().unwrap_or("").to_string())
                    .collect(),
            )
        })
        .collect();
    Some((user.to_string(), attributes))
}

/// phpCAS: root `Envelope`; success means a NameIdentifier exists; attributes by namespace.
fn read_like_phpcas(xml: &str) -> Option<(String, Vec<String>)> {
    let doc = Document::parse(xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "Envelope");
    let user = doc
        .descendants()
        .find(|n| n.has_tag_name((ASSERTION, "NameIdentifier")))?;
    let names = doc
        .descendants()
        .filter(|n| n.has_tag_name((ASSERTION, "Attribute")))
        .map(|a| a.attribute("AttributeName").unwrap().to_string())
        .collect();
    Some((user.text()?.to_string(), names))
}

/// The Java client: Conditions with both instants, the user inside AuthenticationStatement.
fn read_like_java(xml: &str) -> Option<String> {
    let doc = Document::parse(xml).unwrap();
    let conditions = doc
        .descendants()
        .find(|n| n.has_tag_name((ASSERTION, "Conditions")))?;
    let before = conditions.attribute("NotBefore")?;
    let after = conditions.attribute("NotOnOrAfter")?;
    assert!(before < after, "{before} < {after}");
    let statement = doc
        .descendants()
        .find(|n| n.has_tag_name((ASSERTION, "AuthenticationStatement")))?;
    let subject = child(statement, "Subject")?;
    Some(child(subject, "NameIdentifier")?.text()?.to_string())
}

/// docs/security.md K06
#[tokio::test]
async fn each_clients_request_gets_an_answer_that_client_accepts() {
    let t = TestServer::start().await;
    let mut c = t.client();

    let body = mod_auth_cas_body(&c.ticket(SERVICE).await);
    let res = saml_validate(&mut c, SERVICE, &body).await;
    assert_eq!(res.status, 200);
    assert!(res.header("content-type").unwrap().starts_with("text/xml"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let (user, attributes) = read_like_mod_auth_cas(&res.body).expect(&res.body);
    assert_eq!(user, "alice");
    let member_of = attributes.iter().find(|(n, _)| n == "memberOf").unwrap();
    assert_eq!(member_of.1, ["students", "library"]);
    assert!(attributes
        .iter()
        .any(|(n, v)| n == "longTermAuthenticationRequestTokenUsed" && v == &["false"]));

    let body = phpcas_body(&c.ticket(SERVICE).await);
    let res = saml_validate(&mut c, SERVICE, &body).await;
    let (user, names) = read_like_phpcas(&res.body).expect(&res.body);
    assert_eq!(user, "alice");
    assert!(names.contains(&"cn".to_string()));
    let doc = Document::parse(&res.body).unwrap();
    let response = doc
        .descendants()
        .find(|n| n.has_tag_name((PROTOCOL, "Response")))
        .unwrap();
    assert_eq!(
        response.attribute("InResponseTo"),
        Some("_192.168.16.51.1024506224022")
    );
    assert_eq!(response.attribute("Recipient"), Some(SERVICE));

    let body = java_body(&c.ticket(SERVICE).await);
    let res = saml_validate(&mut c, SERVICE, &body).await;
    assert_eq!(read_like_java(&res.body).expect(&res.body), "alice");
}

/// docs/security.md A01, A14
#[tokio::test]
async fn failures_are_request_denied_and_the_ticket_is_spent() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let ticket = c.ticket(SERVICE).await;
    // Wrong TARGET: denied, and the ticket is burnt.
    let res = saml_validate(&mut c, "https://other.test/", &java_body(&ticket)).await;
    assert_eq!(res.status, 200);
    assert!(read_like_mod_auth_cas(&res.body).is_none());
    assert!(read_like_phpcas(&res.body).is_none());
    assert!(res.body.contains("samlp:RequestDenied"), "{}", res.body);
    assert!(res.body.contains("INVALID_SERVICE"));
    let again = saml_validate(&mut c, SERVICE, &java_body(&ticket)).await;
    assert!(again.body.contains("INVALID_TICKET"), "{}", again.body);

    // Hostile input is escaped, never reflected as markup.
    let res = saml_validate(&mut c, "https://x.test/\"><evil/>", &java_body("ST-<x>")).await;
    Document::parse(&res.body).unwrap();
    assert!(!res.body.contains("<evil/>"));

    let res = saml_validate(&mut c, SERVICE, "<not-saml/>").await;
    assert!(res.body.contains("INVALID_REQUEST"));
    let res = c
        .send(
            "POST",
            "/cas/samlValidate",
            &[("content-type", "text/xml")],
            &java_body(&ticket),
        )
        .await;
    assert!(res.body.contains("INVALID_REQUEST"));
    assert_eq!(c.get("/cas/samlValidate?TARGET=x").await.status, 405);
}

#[tokio::test]
async fn renew_on_the_query_refuses_a_ticket_from_sso() {
    let t = TestServer::start().await;
    let mut browser = t.client();
    let first = browser.ticket(SERVICE).await;
    let sso = browser
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await
        .ticket();
    let mut app = t.client();
    let res = app
        .send(
            "POST",
            &format!("/cas/samlValidate?TARGET={}&renew=true", enc(SERVICE)),
            &[("content-type", "text/xml")],
            &phpcas_body(&sso),
        )
        .await;
    assert!(res.body.contains("RequestDenied"), "{}", res.body);
    let res = app
        .send(
            "POST",
            &format!("/cas/samlValidate?TARGET={}&renew=true", enc(SERVICE)),
            &[("content-type", "text/xml")],
            &phpcas_body(&first),
        )
        .await;
    assert_eq!(read_like_phpcas(&res.body).unwrap().0, "alice");
}

/// docs/security.md A15
#[tokio::test]
async fn no_attributes_go_to_a_target_without_tls_unless_configured() {
    let plain = "http://intranet.test/app";
    for allowed in [false, true] {
        let t = TestServer::start_with(|c| c.saml.attributes_over_http = allowed).await;
        t.add_service(plain, None);
        let mut c = t.client();
        let body = java_body(&c.ticket(plain).await);
        let res = saml_validate(&mut c, plain, &body).await;
        // Every client still finds the user.
        assert_eq!(read_like_java(&res.body).as_deref(), Some("alice"));
        assert_eq!(read_like_phpcas(&res.body).unwrap().0, "alice");
        let names = read_like_phpcas(&res.body).unwrap().1;
        assert_eq!(names.contains(&"cn".to_string()), allowed, "{}", res.body);
    }
}

/// Issue "Defects found from outside" #8: empty elements are not nesting; a request with
/// many of them is read, one nested too deeply is refused.
#[tokio::test]
async fn many_empty_elements_are_not_deep_nesting() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let ticket = c.ticket(SERVICE).await;
    let body = format!(
        "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>\
         <samlp:Request xmlns:samlp=\"urn:oasis:names:tc:SAML:1.0:protocol\" RequestID=\"_1\">{}\
         <samlp:AssertionArtifact>{ticket}</samlp:AssertionArtifact></samlp:Request></SOAP-ENV:Body></SOAP-ENV:Envelope>",
        "<a/>".repeat(33)
    );
    let res = c
        .send(
            "POST",
            &format!("/cas/samlValidate?TARGET={}", enc(SERVICE)),
            &[("content-type", "text/xml")],
            &body,
        )
        .await;
    assert!(res.body.contains("samlp:Success"), "{}", res.body);
    let deep = format!(
        "{}<AssertionArtifact>ST-x</AssertionArtifact>",
        "<a>".repeat(40)
    );
    let res = c
        .send(
            "POST",
            &format!("/cas/samlValidate?TARGET={}", enc(SERVICE)),
            &[("content-type", "text/xml")],
            &deep,
        )
        .await;
    assert!(
        res.body.contains("RequestDenied") && res.body.contains("nests too deeply"),
        "{}",
        res.body
    );
}
