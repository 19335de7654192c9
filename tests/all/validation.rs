//! The validation endpoints as CAS clients use them.

use crate::support::*;

/// docs/security.md A01
#[tokio::test]
async fn cas1_validate_answers_yes_then_no() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    assert!(st.starts_with("ST-") && st.len() == 32, "{st}");
    let ok = c.get(&validate_path("validate", SERVICE, &st)).await;
    assert_eq!(ok.body, "yes\nalice\n");
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    assert!(ok
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; charset=UTF-8"));
    let again = c.get(&validate_path("validate", SERVICE, &st)).await;
    assert_eq!(again.body, "no\n\n");
}

/// docs/security.md A01, A15
#[tokio::test]
async fn service_validate_succeeds_once_with_attributes() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    let res = c.get(&validate_path("serviceValidate", SERVICE, &st)).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert!(
        res.body.contains("<cas:user>alice</cas:user>"),
        "{}",
        res.body
    );
    let (user, attrs) = parse_cas(&res.body).unwrap();
    assert_eq!(user, "alice");
    assert!(attrs.contains(&("cn".into(), "User alice".into())));
    let again = c.get(&validate_path("serviceValidate", SERVICE, &st)).await;
    assert_eq!(again.status, 200);
    assert_eq!(parse_cas(&again.body).unwrap_err().0, "INVALID_TICKET");
}

/// docs/security.md D13
#[tokio::test]
async fn p3_lists_protocol_attributes_first_and_repeats_multi_values() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    let res = c
        .get(&validate_path("p3/serviceValidate", SERVICE, &st))
        .await;
    let (_, attrs) = parse_cas(&res.body).unwrap();
    let names: Vec<&str> = attrs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        &names[..3],
        [
            "authenticationDate",
            "longTermAuthenticationRequestTokenUsed",
            "isFromNewLogin"
        ]
    );
    assert_eq!(attrs[1].1, "false");
    assert_eq!(attrs[2].1, "true");
    assert!(
        attrs[0].1.ends_with('Z') && attrs[0].1.len() == 20,
        "{}",
        attrs[0].1
    );
    let member: Vec<&str> = attrs
        .iter()
        .filter(|(k, _)| k == "memberOf")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(member, ["students", "library"]);
    for wanted in ["uid", "cn", "userType", "department", "mail", "mobile"] {
        assert!(names.contains(&wanted), "{wanted} missing");
    }
}

/// docs/security.md C09
#[tokio::test]
async fn json_format_and_unknown_format() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    let res = c
        .get(&format!(
            "{}&format=JSON",
            validate_path("p3/serviceValidate", SERVICE, &st)
        ))
        .await;
    assert!(res
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let ok = &v["serviceResponse"]["authenticationSuccess"];
    assert_eq!(ok["user"], "alice");
    assert_eq!(
        ok["attributes"]["memberOf"],
        serde_json::json!(["students", "library"])
    );
    let res = c
        .get(&format!(
            "{}&format=json",
            validate_path("serviceValidate", SERVICE, &st)
        ))
        .await;
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(
        v["serviceResponse"]["authenticationFailure"]["code"],
        "INVALID_TICKET"
    );
    let res = c
        .get(&format!(
            "{}&format=FOO",
            validate_path("serviceValidate", SERVICE, "ST-x")
        ))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_REQUEST");
}

/// docs/security.md A02, A03
#[tokio::test]
async fn wrong_service_is_invalid_service_and_burns_the_ticket() {
    let t = TestServer::start().await;
    t.add_service("https://app.test/portal/*", None);
    let mut c = t.client();
    let st = c.ticket("https://app.test/portal/a").await;
    for other in ["https://app.test/portal/b"] {
        let res = c.get(&validate_path("serviceValidate", other, &st)).await;
        assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_SERVICE");
    }
    let res = c
        .get(&validate_path(
            "serviceValidate",
            "https://app.test/portal/a",
            &st,
        ))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_TICKET");
    // The comparison is exact: a case or query variant is another service.
    for variant in [
        "https://APP.test/portal/a",
        "https://app.test/portal/a?x=1",
        "https://app.test/portal/a/",
    ] {
        let st = c.ticket("https://app.test/portal/a").await;
        let res = c.get(&validate_path("serviceValidate", variant, &st)).await;
        assert_eq!(
            parse_cas(&res.body).unwrap_err().0,
            "INVALID_SERVICE",
            "{variant}"
        );
    }
}

/// docs/security.md A08, A13
#[tokio::test]
async fn missing_and_repeated_parameters_are_invalid_request() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for path in [
        "/cas/serviceValidate?service=x".to_string(),
        "/cas/serviceValidate?ticket=ST-abc".to_string(),
        "/cas/serviceValidate?ticket=&service=x".to_string(),
        format!(
            "/cas/serviceValidate?ticket=ST-a&ticket=ST-b&service={}",
            enc(SERVICE)
        ),
        format!(
            "/cas/p3/serviceValidate?ticket=ST-a&service={}&service=x",
            enc(SERVICE)
        ),
    ] {
        let res = c.get(&path).await;
        assert_eq!(res.status, 200);
        assert_eq!(
            parse_cas(&res.body).unwrap_err().0,
            "INVALID_REQUEST",
            "{path}"
        );
    }
    assert_eq!(c.get("/cas/validate?service=x").await.body, "no\n\n");
}

/// docs/security.md A07, A08, A09, I01
#[tokio::test]
async fn malformed_and_foreign_tickets_are_refused_without_spending_the_real_one() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    let flipped: String = st
        .chars()
        .map(|ch| {
            if ch.is_ascii_lowercase() {
                ch.to_ascii_uppercase()
            } else {
                ch.to_ascii_lowercase()
            }
        })
        .collect();
    let tgc = c.jar.get("CASTGC").unwrap().clone();
    for bad in [
        format!("st-{}", &st[3..]),
        format!(" {st}"),
        format!("{st} "),
        format!("{st}\t"),
        format!("{st}\n"),
        format!("{st}\0"),
        format!("\u{ff33}\u{ff34}-{}", &st[3..]),
        format!("\u{405}T-{}", &st[3..]),
        flipped,
        tgc,
        "<script>".into(),
        "x".repeat(300),
    ] {
        let res = c
            .get(&validate_path("serviceValidate", SERVICE, &bad))
            .await;
        let (code, message) = parse_cas(&res.body).unwrap_err();
        assert_eq!(code, "INVALID_TICKET", "{bad:?}");
        assert!(message.chars().count() < 100);
    }
    // `+` and `%20` in the query are spaces: the same refusal.
    for raw in [format!("{st}+"), format!("%20{st}")] {
        let path = format!("/cas/serviceValidate?service={}&ticket={raw}", enc(SERVICE));
        assert_eq!(
            parse_cas(&c.get(&path).await.body).unwrap_err().0,
            "INVALID_TICKET"
        );
    }
    let pt = c
        .get(&validate_path("serviceValidate", SERVICE, "PT-abcdef"))
        .await;
    assert_eq!(parse_cas(&pt.body).unwrap_err().0, "INVALID_TICKET_SPEC");
    assert_eq!(
        c.get(&validate_path("validate", SERVICE, "PT-abcdef"))
            .await
            .body,
        "no\n\n"
    );
    let res = c.get(&validate_path("serviceValidate", SERVICE, &st)).await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    // The SSO session was not spent by being presented as a ticket.
    let sso = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    assert_eq!(sso.status, 302);
}

/// docs/security.md A04, K06: a ticket works at TTL−1 s and not at TTL+1 s, and a wall clock set
/// back afterwards does not bring it back.
#[tokio::test]
async fn tickets_expire_after_their_lifetime() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    t.clock().advance(9);
    assert_eq!(
        c.get(&validate_path("validate", SERVICE, &st)).await.body,
        "yes\nalice\n"
    );
    let st = c.ticket(SERVICE).await;
    t.clock().advance(11);
    let res = c.get(&validate_path("serviceValidate", SERVICE, &st)).await;
    let (code, message) = parse_cas(&res.body).unwrap_err();
    assert_eq!(code, "INVALID_TICKET");
    assert!(message.contains("expired"), "{message}");
    // Expired, never presented, then the system clock is corrected back an hour.
    let st = c.ticket(SERVICE).await;
    t.clock().advance(11);
    t.clock().advance(-3600);
    let res = c.get(&validate_path("serviceValidate", SERVICE, &st)).await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_TICKET");
}

/// docs/security.md A11
#[tokio::test]
async fn renew_rejects_tickets_from_sso() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let fresh = c.ticket(SERVICE).await;
    let sso = c
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await
        .ticket();
    let res = c
        .get(&format!(
            "{}&renew=true",
            validate_path("serviceValidate", SERVICE, &sso)
        ))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_TICKET");
    let res = c
        .get(&format!(
            "{}&renew=true",
            validate_path("p3/serviceValidate", SERVICE, &fresh)
        ))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    let sso = c
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await
        .ticket();
    assert_eq!(
        c.get(&format!(
            "{}&renew=true",
            validate_path("validate", SERVICE, &sso)
        ))
        .await
        .body,
        "no\n\n"
    );
    let sso = c
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await
        .ticket();
    let res = c
        .get(&validate_path("p3/serviceValidate", SERVICE, &sso))
        .await;
    let (_, attrs) = parse_cas(&res.body).unwrap();
    assert_eq!(attrs[2], ("isFromNewLogin".into(), "false".into()));
}

/// docs/security.md K01, A14
#[tokio::test]
async fn concurrent_validations_of_one_ticket_have_exactly_one_winner() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for _ in 0..20 {
        let st = c.ticket(SERVICE).await;
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let addr = t.server.addr;
                let endpoint = [
                    "serviceValidate",
                    "p3/serviceValidate",
                    "validate",
                    "proxyValidate",
                    "samlValidate",
                ][i % 5];
                let st = st.clone();
                tokio::spawn(async move {
                    let mut client = Client::new(addr, None);
                    if endpoint == "samlValidate" {
                        let body = format!(
                            "<Envelope><Body><Request><AssertionArtifact>{st}</AssertionArtifact></Request></Body></Envelope>"
                        );
                        let path = format!("/cas/samlValidate?TARGET={}", enc(SERVICE));
                        let res = client.send("POST", &path, &[("content-type", "text/xml")], &body).await;
                        return res.body.contains("samlp:Success")
                            && res.body.contains("<saml:NameIdentifier>alice</saml:NameIdentifier>");
                    }
                    let body = client.get(&validate_path(endpoint, SERVICE, &st)).await.body;
                    // The winner names the right user.
                    body == "yes\nalice\n"
                        || (body.starts_with('<')
                            && parse_cas(&body).is_ok_and(|(user, _)| user == "alice"))
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            wins += task.await.unwrap() as usize;
        }
        assert_eq!(wins, 1);
    }
}

/// docs/security.md A15
#[tokio::test]
async fn release_policy_limits_attributes_on_every_format() {
    let t = TestServer::start().await;
    t.add_service("https://lib.test/", Some(&["uid", "memberOf"]));
    let mut c = t.client();
    let st = c.ticket("https://lib.test/").await;
    let (_, attrs) = parse_cas(
        &c.get(&validate_path(
            "p3/serviceValidate",
            "https://lib.test/",
            &st,
        ))
        .await
        .body,
    )
    .unwrap();
    // After the protocol's own: when, remember-me, new login, and how (a handler each).
    let names: Vec<&str> = attrs.iter().map(|(k, _)| k.as_str()).skip(5).collect();
    assert_eq!(names, ["uid", "memberOf", "memberOf"]);
    let st = c.ticket("https://lib.test/").await;
    let json = c
        .get(&format!(
            "{}&format=JSON",
            validate_path("serviceValidate", "https://lib.test/", &st)
        ))
        .await
        .body;
    assert!(
        !json.contains("mobile") && !json.contains("13800000000") && json.contains("memberOf"),
        "{json}"
    );
}

/// docs/security.md C06, C07
#[tokio::test]
async fn hostile_attribute_values_are_escaped_in_xml_and_json() {
    let t = TestServer::start().await;
    let evil = "</cas:user><cas:user>admin & \"x\" 'y' ]]> \u{1}\r";
    t.add_user("mallory", PASSWORD, false, &[("note", evil)]);
    let mut c = t.client();
    let res = c.login("mallory", PASSWORD, Some(SERVICE)).await;
    let st = res.ticket();
    let xml = c
        .get(&validate_path("p3/serviceValidate", SERVICE, &st))
        .await
        .body;
    let (user, attrs) = parse_cas(&xml).unwrap();
    assert_eq!(user, "mallory");
    let note = attrs.iter().find(|(k, _)| k == "note").unwrap();
    assert_eq!(note.1, "</cas:user><cas:user>admin & \"x\" 'y' ]]> \r");
    let st = c
        .get(&format!("/cas/login?service={}", enc(SERVICE)))
        .await
        .ticket();
    let json = c
        .get(&format!(
            "{}&format=JSON",
            validate_path("serviceValidate", SERVICE, &st)
        ))
        .await
        .body;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["serviceResponse"]["authenticationSuccess"]["attributes"]["note"],
        evil
    );
}

/// docs/security.md A12, D11
#[tokio::test]
async fn tickets_die_with_their_session_and_with_a_locked_account() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    c.get("/cas/logout").await;
    assert_eq!(
        c.get(&validate_path("validate", SERVICE, &st)).await.body,
        "no\n\n"
    );

    let st = c.ticket(SERVICE).await;
    t.server
        .store
        .set_status("alice", unicas::model::Status::Locked, t.clock().now())
        .unwrap();
    // A change made outside this process is seen within the 2 s memory of sessions.
    t.clock().advance(3);
    let res = c.get(&validate_path("serviceValidate", SERVICE, &st)).await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_TICKET");
    let again = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    assert_eq!(again.status, 200, "a locked account's session is gone");
}

/// docs/security.md J10
#[tokio::test]
async fn post_is_accepted_and_other_methods_are_not() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    let res = c
        .post(
            "/cas/serviceValidate",
            &[("service", SERVICE), ("ticket", &st)],
        )
        .await;
    assert_eq!(parse_cas(&res.body).unwrap().0, "alice");
    let res = c.send("DELETE", "/cas/serviceValidate", &[], "").await;
    assert_eq!(res.status, 405);
    assert!(res.header("allow").is_some());
}

/// docs/security.md D11
#[tokio::test]
async fn a_lock_made_by_another_process_takes_effect_within_two_seconds() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let st = c.ticket(SERVICE).await;
    // Warm the memory of this session and account: an SSO hit and a validation.
    c.get(&validate_path("serviceValidate", SERVICE, &st)).await;
    let sso = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    // The command line locks the account (another process: no in-memory invalidation).
    t.server
        .store
        .set_status("alice", unicas::model::Status::Locked, t.clock().now())
        .unwrap();
    t.clock().advance(3);
    let res = c
        .get(&validate_path("serviceValidate", SERVICE, &sso.ticket()))
        .await;
    assert_eq!(parse_cas(&res.body).unwrap_err().0, "INVALID_TICKET");
    let again = c.get(&format!("/cas/login?service={}", enc(SERVICE))).await;
    assert_eq!(again.status, 200, "the session is gone");
}

/// docs/security.md L08: every validation answer, in every format, success or failure, is never
/// cached and names its type and charset.
#[tokio::test]
async fn every_validation_answer_is_uncached_and_typed() {
    let t = TestServer::start().await;
    let mut c = t.client();
    for (endpoint, extra, kind) in [
        ("validate", "", "text/plain; charset=UTF-8"),
        ("serviceValidate", "", "application/xml; charset=UTF-8"),
        ("p3/serviceValidate", "", "application/xml; charset=UTF-8"),
        (
            "p3/serviceValidate",
            "&format=JSON",
            "application/json; charset=UTF-8",
        ),
        ("proxyValidate", "", "application/xml; charset=UTF-8"),
        (
            "p3/proxyValidate",
            "&format=JSON",
            "application/json; charset=UTF-8",
        ),
    ] {
        for ticket in [c.ticket(SERVICE).await, "ST-unknown".to_string()] {
            let path = format!("{}{extra}", validate_path(endpoint, SERVICE, &ticket));
            let res = c.get(&path).await;
            assert_eq!(res.header("cache-control"), Some("no-store"), "{path}");
            assert_eq!(res.header("content-type"), Some(kind), "{path}");
        }
    }
    let res = c
        .send(
            "POST",
            &format!("/cas/samlValidate?TARGET={}", enc(SERVICE)),
            &[("content-type", "text/xml")],
            "<not-saml/>",
        )
        .await;
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("content-type"), Some("text/xml; charset=UTF-8"));
}
