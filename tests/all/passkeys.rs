//! Passkeys (通行密钥) in 账号管理 and the ceremonies the step-up page calls, with a
//! software authenticator: an ES256 key that answers `navigator.credentials.create` and
//! `.get` as a browser would hand them to the page (docs/security.md P20–P26).

use crate::support::*;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use sha2::{Digest, Sha256};

const ORIGIN: &str = "https://cas.test";
const RP_ID: &str = "cas.test";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A passkey on a software authenticator: user verification always given.
struct SoftKey {
    key: PKey<Private>,
    credential_id: Vec<u8>,
    counter: u32,
}

impl SoftKey {
    fn new(tag: u8) -> SoftKey {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let ec = EcKey::generate(&group).unwrap();
        let mut credential_id = vec![tag; 16];
        openssl::rand::rand_bytes(&mut credential_id[1..]).unwrap();
        SoftKey {
            key: PKey::from_ec_key(ec).unwrap(),
            credential_id,
            counter: 0,
        }
    }

    fn credential_id(&self) -> String {
        b64(&self.credential_id)
    }

    /// The public key as COSE (EC2, ES256, P-256), in CBOR.
    fn cose_key(&self) -> Vec<u8> {
        let ec = self.key.ec_key().unwrap();
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        let mut ctx = BigNumContext::new().unwrap();
        ec.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .unwrap();
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend(x.to_vec_padded(32).unwrap());
        cose.extend([0x22, 0x58, 0x20]);
        cose.extend(y.to_vec_padded(32).unwrap());
        cose
    }

    fn client_data(kind: &str, options: &serde_json::Value) -> Vec<u8> {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        serde_json::json!({
            "type": kind,
            "challenge": challenge,
            "origin": ORIGIN,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// Flags: user present, user verified (and attested credential data).
    fn auth_data(&self, flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(RP_ID.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    /// `navigator.credentials.create` with these options: the answer as JSON.
    fn create(&self, options_json: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options_json).unwrap();
        assert_eq!(options["publicKey"]["rp"]["id"], RP_ID);
        let client_data = Self::client_data("webauthn.create", &options);
        let mut auth_data = self.auth_data(0x45);
        auth_data.extend([0u8; 16]);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        // {"fmt": "none", "attStmt": {}, "authData": bytes}
        let mut attestation = vec![0xa3, 0x63];
        attestation.extend(b"fmt");
        attestation.push(0x64);
        attestation.extend(b"none");
        attestation.push(0x67);
        attestation.extend(b"attStmt");
        attestation.push(0xa0);
        attestation.push(0x68);
        attestation.extend(b"authData");
        attestation.extend([0x58, auth_data.len() as u8]);
        attestation.extend(&auth_data);
        serde_json::json!({
            "id": self.credential_id(),
            "rawId": self.credential_id(),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// `navigator.credentials.get` with these options, signed by this key whether or not
    /// the options allow it: the answer as JSON.
    fn get(&mut self, options_json: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options_json).unwrap();
        self.counter += 1;
        let client_data = Self::client_data("webauthn.get", &options);
        let auth_data = self.auth_data(0x05);
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).unwrap();
        signer.update(&auth_data).unwrap();
        signer.update(&Sha256::digest(&client_data)).unwrap();
        let signature = signer.sign_to_vec().unwrap();
        serde_json::json!({
            "id": self.credential_id(),
            "rawId": self.credential_id(),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": null,
            },
            "extensions": {},
        })
        .to_string()
    }
}

/// The options JSON of the page's add form (`data-options`).
fn creation_options(page: &Resp) -> String {
    let marker = "data-options=\"";
    let start = page
        .body
        .find(marker)
        .unwrap_or_else(|| panic!("no passkey form in {}", page.body))
        + marker.len();
    let end = page.body[start..].find('"').unwrap() + start;
    page.body[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// `user` logged in, their identity proved, on the passkeys page.
async fn on_passkeys_page(t: &TestServer, user: &str) -> (Client, Resp) {
    let mut c = t.client();
    assert_eq!(c.login(user, PASSWORD, None).await.status, 303);
    let page = c.get("/cas/account/verify?next=passkeys").await;
    let res = c
        .post(
            "/cas/account/verify",
            &[
                ("execution", page.tokens()[0].as_str()),
                ("next", "passkeys"),
                ("action", "password"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!((res.status, res.location()), (303, "/cas/account/passkeys"));
    let mut page = c.get("/cas/account/passkeys").await;
    if page.status == 303 {
        // The account holds a factor: 账号管理 asks this session to pass one first.
        assert_eq!(page.location(), "/cas/mfa?next=passkeys");
        pass_step_up(t, &mut c, user, "passkeys").await;
        page = c.get("/cas/account/passkeys").await;
    }
    assert_eq!(page.status, 200);
    (c, page)
}

/// Passes the step-up 账号管理 asks of a session once the account holds a second factor,
/// with a recovery code made for the test (replacing the account's).
pub(crate) async fn pass_step_up(t: &TestServer, c: &mut Client, user: &str, next: &str) {
    let hash = t
        .server
        .store
        .keys()
        .lookup("recovery code", "testcode0001");
    let record =
        unicas::model::AuditRecord::system(unicas::model::AuditEvent::AccountUnlocked, None);
    t.server
        .store
        .replace_recovery_codes(user, &[hash], &record, t.clock().now())
        .unwrap();
    let page = c.get(&format!("/cas/mfa?next={next}")).await;
    let token = crate::mfa::form_token(&page, "recovery");
    let passed = c
        .post(
            "/cas/mfa",
            &[
                ("execution", token.as_str()),
                ("action", "recovery"),
                ("code", "test-code-0001"),
                ("next", next),
            ],
        )
        .await;
    assert_eq!(
        (passed.status, passed.location()),
        (303, format!("/cas/account/{next}").as_str()),
        "{}",
        passed.body
    );
}

/// Posts the add form of `page` with `key`'s answer and `name`.
async fn add(c: &mut Client, page: &Resp, key: &SoftKey, name: &str) -> Resp {
    let answer = key.create(&creation_options(page));
    let token = add_token(page);
    c.post(
        "/cas/account/passkeys",
        &[
            ("execution", token.as_str()),
            ("action", "add"),
            ("name", name),
            ("credential", answer.as_str()),
        ],
    )
    .await
}

/// The add form's token: the last on the page.
fn add_token(page: &Resp) -> String {
    page.tokens().last().cloned().expect("the add form's token")
}

async fn registered(t: &TestServer, user: &str, key: &SoftKey, name: &str) -> Client {
    let (mut c, page) = on_passkeys_page(t, user).await;
    let res = add(&mut c, &page, key, name).await;
    assert!(added(&res), "{}", res.body);
    c
}

/// Whether `res` answers a passkey added: back to the list, or, for the account's first
/// factor beyond the phone, its ten recovery codes (shown once) with the way back.
fn added(res: &Resp) -> bool {
    let back = "/cas/account/passkeys?done=added";
    match res.status {
        303 => res.location() == back,
        200 => {
            res.body.matches("<li><code>").count() == 10
                && res.body.contains(&format!("href=\"{back}\""))
        }
        _ => false,
    }
}

/// the passkeys page and its posts need the SSO session and then the portal's proof
/// of identity; before it, the page is the proof's form and no ceremony is offered.
/// docs/security.md P20.
#[tokio::test]
async fn passkey_pages_need_the_proof_of_identity() {
    let t = TestServer::start().await;
    let mut c = t.client();
    let res = c.get("/cas/account/passkeys").await;
    assert_eq!((res.status, res.location()), (302, "/cas/login"));
    assert_eq!(c.login("alice", PASSWORD, None).await.status, 303);
    let page = c.get("/cas/account/passkeys").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"next\" value=\"passkeys\""));
    assert!(
        !page.body.contains("data-passkey"),
        "no ceremony before the proof"
    );
    // A post with a good token but no proof is refused and changes nothing.
    let key = SoftKey::new(1);
    let res = c
        .post(
            "/cas/account/passkeys",
            &[
                ("execution", page.tokens()[0].as_str()),
                ("action", "add"),
                ("name", "x"),
                (
                    "credential",
                    key.create(r#"{"publicKey":{"rp":{"id":"cas.test"},"challenge":"AAAA"}}"#)
                        .as_str(),
                ),
            ],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(t.server.store.passkeys_of("alice").unwrap().is_empty());
    // The account page links to it.
    let account = c.get("/cas/account").await;
    assert!(account.body.contains("/cas/account/passkeys") && account.body.contains("通行密钥"));
}

/// a passkey registers over HTTP (listed with its name, audited, the bound phone told)
/// and then asserts through the step-up API; a registration answer and an assertion each
/// count once: replayed, they find no ceremony.
/// docs/security.md P21, P22.
#[tokio::test]
async fn a_passkey_registers_and_each_answer_counts_once() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    let mut key = SoftKey::new(1);
    let (mut c, page) = on_passkeys_page(&t, "alice").await;
    assert!(
        page.body.contains("data-passkey=\"create\"") && page.body.contains("/assets/passkey.js")
    );
    let answer = key.create(&creation_options(&page));
    let token = add_token(&page);
    let form = [
        ("execution", token.as_str()),
        ("action", "add"),
        ("name", "我的电脑"),
        ("credential", answer.as_str()),
    ];
    let res = c.post("/cas/account/passkeys", &form).await;
    assert!(added(&res), "{}", res.body);
    let listed = c.get("/cas/account/passkeys?done=added").await;
    assert!(listed.body.contains("我的电脑") && listed.body.contains("已添加通行密钥"));
    assert!(listed.body.contains("从未使用"));
    // The same answer again, with a fresh token (and so a fresh ceremony): refused.
    let again = [
        ("execution", add_token(&listed)),
        ("action", "add".into()),
        ("name", "again".into()),
        ("credential", answer.clone()),
    ];
    let res = c.post_owned("/cas/account/passkeys", &again).await;
    assert_eq!(res.status, 409);
    // A registration answer counts once: the second finds its ceremony taken.
    let passkeys = t.server.app.passkeys();
    let alice = t.server.store.account("alice").unwrap().unwrap();
    let other = SoftKey::new(9);
    let options = passkeys.begin_registration("r", &alice).await.unwrap();
    let answer = other.create(&options);
    let by = unicas::model::Client::default();
    let first = passkeys.finish_registration("r", "alice", "phone", &answer, &by);
    assert_eq!(first.await.unwrap(), Ok(()));
    let second = passkeys.finish_registration("r", "alice", "phone", &answer, &by);
    assert_eq!(
        second.await.unwrap(),
        Err(unicas::passkeys::Refusal::NoCeremony)
    );
    // A ceremony begun for alice does not register for bob.
    let options = passkeys.begin_registration("r", &alice).await.unwrap();
    let answer = SoftKey::new(10).create(&options);
    let for_bob = passkeys.finish_registration("r", "bob", "x", &answer, &by);
    assert_eq!(
        for_bob.await.unwrap(),
        Err(unicas::passkeys::Refusal::NoCeremony)
    );
    assert!(passkeys
        .remove("alice", &other.credential_id(), &by)
        .await
        .unwrap());
    let stored = t.server.store.passkeys_of("alice").unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].credential_id, key.credential_id());
    assert!(!stored[0].passkey.is_empty());
    let notices = crate::portal::notices(&t, "+8613800138000").await;
    assert!(
        notices.iter().any(|n| n.contains("通行密钥")),
        "{notices:?}"
    );

    assert_eq!(
        passkeys.begin_authentication("k", "bob").await.unwrap(),
        None
    );
    let options = passkeys
        .begin_authentication("k", "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(options.contains(&key.credential_id()), "allowed: {options}");
    let assertion = key.get(&options);
    assert!(passkeys
        .finish_authentication("k", "alice", &assertion)
        .await
        .unwrap());
    assert!(
        !passkeys
            .finish_authentication("k", "alice", &assertion)
            .await
            .unwrap(),
        "a replayed assertion"
    );
    // Replayed into a new ceremony, it answers the wrong challenge.
    passkeys.begin_authentication("k", "alice").await.unwrap();
    assert!(!passkeys
        .finish_authentication("k", "alice", &assertion)
        .await
        .unwrap());
    // A ceremony begun for alice does not serve bob's name.
    let options = passkeys
        .begin_authentication("k2", "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(!passkeys
        .finish_authentication("k2", "bob", &key.get(&options))
        .await
        .unwrap());
    let used = &passkeys.list("alice").await.unwrap()[0];
    assert!(used.last_used_at.is_some());
    let page = c.get("/cas/account/passkeys").await;
    assert!(!page.body.contains("从未使用"), "last used shown");
}

/// a credential registered to another account does not answer for this one, even
/// when it signs this account's challenge.
/// docs/security.md P23.
#[tokio::test]
async fn another_accounts_passkey_is_refused() {
    let t = TestServer::start().await;
    t.add_user("bob", PASSWORD, false, &[]);
    let alices = SoftKey::new(1);
    let mut bobs = SoftKey::new(2);
    registered(&t, "alice", &alices, "alice's").await;
    registered(&t, "bob", &bobs, "bob's").await;
    let passkeys = t.server.app.passkeys();
    let options = passkeys
        .begin_authentication("k", "alice")
        .await
        .unwrap()
        .unwrap();
    assert!(!options.contains(&bobs.credential_id()));
    let answer = bobs.get(&options);
    assert!(!passkeys
        .finish_authentication("k", "alice", &answer)
        .await
        .unwrap());
    // bob's own works, so the refusal was about whose it is.
    let options = passkeys
        .begin_authentication("k", "bob")
        .await
        .unwrap()
        .unwrap();
    assert!(passkeys
        .finish_authentication("k", "bob", &bobs.get(&options))
        .await
        .unwrap());
}

/// a credential cannot be registered twice (the authenticator is told to exclude it,
/// and the server refuses it if it comes anyway), and a name is required and bounded.
/// docs/security.md P24.
#[tokio::test]
async fn a_passkey_is_registered_once_and_needs_a_name() {
    let t = TestServer::start().await;
    t.add_user("bob", PASSWORD, false, &[]);
    let key = SoftKey::new(1);
    let mut c = registered(&t, "alice", &key, "laptop").await;
    let page = c.get("/cas/account/passkeys").await;
    let options = creation_options(&page);
    assert!(
        options.contains(&key.credential_id()),
        "excluded: {options}"
    );
    let res = add(&mut c, &page, &key, "again").await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("该通行密钥已经添加过了"));
    // The same credential for another account.
    let (mut b, page) = on_passkeys_page(&t, "bob").await;
    assert_eq!(add(&mut b, &page, &key, "stolen").await.status, 409);
    assert!(t.server.store.passkeys_of("bob").unwrap().is_empty());
    for name in ["", "   ", &"长".repeat(65)] {
        let page = c.get("/cas/account/passkeys").await;
        let res = add(&mut c, &page, &SoftKey::new(3), name).await;
        assert_eq!(res.status, 400, "{name:?}");
    }
    // Posted without the ceremony (no JavaScript): the page says what is needed.
    let page = c.get("/cas/account/passkeys").await;
    let res = c
        .post_owned(
            "/cas/account/passkeys",
            &[
                ("execution", add_token(&page)),
                ("action", "add".into()),
                ("name", "x".into()),
                ("credential", String::new()),
            ],
        )
        .await;
    assert_eq!(res.status, 400);
    assert!(res.body.contains("JavaScript"));
    assert_eq!(t.server.store.passkeys_of("alice").unwrap().len(), 1);
}

/// removing is a form post with its single-use token (CSRF); another account's
/// credential id changes nothing; one's own goes, audited, and the phone is told.
/// docs/security.md P25.
#[tokio::test]
async fn removal_needs_the_token_and_touches_only_ones_own() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    t.add_user("bob", PASSWORD, false, &[]);
    let bobs = SoftKey::new(2);
    registered(&t, "bob", &bobs, "bob's").await;
    let alices = SoftKey::new(1);
    let mut c = registered(&t, "alice", &alices, "alice's").await;
    let remove = |token: String, id: String| {
        [
            ("execution", token),
            ("action", "remove".to_string()),
            ("credential_id", id),
        ]
    };
    // No token, a made-up one: refused.
    for token in ["", "forged"] {
        let res = c
            .post_owned(
                "/cas/account/passkeys",
                &remove(token.into(), alices.credential_id()),
            )
            .await;
        assert_eq!(res.status, 403);
    }
    let page = c.get("/cas/account/passkeys").await;
    let res = c
        .post_owned(
            "/cas/account/passkeys",
            &remove(page.tokens()[0].clone(), bobs.credential_id()),
        )
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(t.server.store.passkeys_of("bob").unwrap().len(), 1);
    assert_eq!(t.server.store.passkeys_of("alice").unwrap().len(), 1);
    let page = c.get("/cas/account/passkeys").await;
    let token = page.tokens()[0].clone();
    let res = c
        .post_owned(
            "/cas/account/passkeys",
            &remove(token.clone(), alices.credential_id()),
        )
        .await;
    assert_eq!(
        (res.status, res.location()),
        (303, "/cas/account/passkeys?done=removed")
    );
    assert!(t.server.store.passkeys_of("alice").unwrap().is_empty());
    // The token was spent.
    let res = c
        .post_owned(
            "/cas/account/passkeys",
            &remove(token, bobs.credential_id()),
        )
        .await;
    assert_eq!(res.status, 403);
    let notices = crate::portal::notices(&t, "+8613800138000").await;
    assert!(notices.iter().any(|n| n.contains("已移除")), "{notices:?}");
    let events: Vec<String> = t
        .server
        .store
        .recent_audit(Some("alice"), 50)
        .unwrap()
        .into_iter()
        .map(|r| format!("{} {}", r.event, r.detail))
        .collect();
    assert!(
        events.contains(&"passkey_added alice's".to_string()),
        "{events:?}"
    );
    assert!(
        events.contains(&"passkey_removed alice's".to_string()),
        "{events:?}"
    );
}

/// `unicas user unbind ACCOUNT webauthn` removes every passkey of the account
/// (audited), and says so when there is none.
/// docs/security.md P26.
#[tokio::test]
async fn user_unbind_webauthn_removes_every_passkey() {
    let t = TestServer::start().await;
    registered(&t, "alice", &SoftKey::new(1), "one").await;
    let (mut c, page) = on_passkeys_page(&t, "alice").await;
    assert_eq!(
        add(&mut c, &page, &SoftKey::new(2), "two").await.status,
        303
    );
    assert_eq!(t.server.store.passkeys_of("alice").unwrap().len(), 2);
    let (ok, out, err) = unicas(&t.config.db, &["user", "unbind", "alice", "webauthn"]);
    assert!(ok && out.contains("alice: webauthn unbound"), "{out}{err}");
    assert!(t.server.store.passkeys_of("alice").unwrap().is_empty());
    let audited = t.server.store.recent_audit(Some("alice"), 10).unwrap();
    assert!(audited
        .iter()
        .any(|r| r.event == "factor_removed" && r.detail == "webauthn"));
    let (ok, _, err) = unicas(&t.config.db, &["user", "unbind", "alice", "webauthn"]);
    assert!(!ok && err.contains("no webauthn"), "{err}");
    // The passkey is gone for the step-up too.
    let passkeys = t.server.app.passkeys();
    assert_eq!(
        passkeys.begin_authentication("k", "alice").await.unwrap(),
        None
    );
}

/// docs/security.md P26: the console shows an account's passkeys as a binding and removes
/// them all after its confirmation page, audited, telling the holder's phone.
#[tokio::test]
async fn the_console_removes_an_accounts_passkeys_after_asking() {
    let t = TestServer::start().await;
    t.bind("alice", "phone", "+8613800138000");
    registered(&t, "alice", &SoftKey::new(1), "laptop").await;
    let mut admin = crate::admin::admin_console(&t).await;
    let page = admin.get("/cas/admin/account?id=alice").await;
    assert!(page.body.contains("通行密钥") && page.body.contains("已添加 1 个"));
    assert!(
        page.body.contains("value=\"unbind-webauthn\""),
        "{}",
        page.body
    );
    let csrf = page.input("csrf").expect("the console token");
    let ask = [
        ("csrf", csrf.as_str()),
        ("id", "alice"),
        ("action", "unbind-webauthn"),
    ];
    let asked = admin.post("/cas/admin/account", &ask).await;
    assert_eq!(asked.status, 200);
    assert!(
        asked.body.contains("确认解除绑定 通行密钥？"),
        "{}",
        asked.body
    );
    assert_eq!(t.server.store.passkeys_of("alice").unwrap().len(), 1);
    let confirm = [
        ("csrf", csrf.as_str()),
        ("id", "alice"),
        ("action", "unbind-webauthn"),
        ("confirm", "yes"),
    ];
    let done = admin.post("/cas/admin/account", &confirm).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(t.server.store.passkeys_of("alice").unwrap().is_empty());
    let audited = t.server.store.recent_audit(Some("alice"), 20).unwrap();
    assert!(audited
        .iter()
        .any(|r| r.event == "factor_removed" && r.detail == "webauthn"));
    let notices = crate::portal::notices(&t, "+8613800138000").await;
    assert!(notices.iter().any(|n| n.contains("已移除")), "{notices:?}");
    // Nothing left: the same post again is a 404.
    assert_eq!(admin.post("/cas/admin/account", &confirm).await.status, 404);
}

/// docs/security.md P21 across nodes: a ceremony begun on one node (its state sealed in the
/// shared table) is finished on another, once.
#[tokio::test]
#[ignore = "needs PostgreSQL (UNICAS_TEST_POSTGRES); .ci/run runs it"]
async fn a_ceremony_begun_on_one_node_finishes_on_another_once() {
    assert!(
        on_postgres(),
        "set UNICAS_TEST_POSTGRES (tests/postgres/cluster.sh)"
    );
    let a = TestServer::start().await;
    let b = a.another_node().await;
    let mut key = SoftKey::new(1);
    let alice = a.server.store.account("alice").unwrap().unwrap();
    let by = unicas::model::Client::default();
    let options = a
        .server
        .app
        .passkeys()
        .begin_registration("r", &alice)
        .await;
    let answer = key.create(&options.unwrap());
    let finished = b
        .server
        .app
        .passkeys()
        .finish_registration("r", "alice", "laptop", &answer, &by);
    assert_eq!(finished.await.unwrap(), Ok(()));
    let again = a
        .server
        .app
        .passkeys()
        .finish_registration("r", "alice", "laptop", &answer, &by);
    assert_eq!(
        again.await.unwrap(),
        Err(unicas::passkeys::Refusal::NoCeremony)
    );
    let options = b
        .server
        .app
        .passkeys()
        .begin_authentication("s", "alice")
        .await;
    let assertion = key.get(&options.unwrap().unwrap());
    let a_keys = a.server.app.passkeys();
    assert!(a_keys
        .finish_authentication("s", "alice", &assertion)
        .await
        .unwrap());
    let b_keys = b.server.app.passkeys();
    assert!(!b_keys
        .finish_authentication("s", "alice", &assertion)
        .await
        .unwrap());
}

/// docs/security.md P16: at the step-up, an account with no second factor registers a
/// passkey, which then passes the step-up (the ticket says `mfa-webauthn`) and brings the
/// recovery codes; a first authenticator enrolled at the same moment in another browser
/// makes the two one factor, never two.
#[tokio::test]
async fn a_first_passkey_at_the_step_up_is_the_accounts_one_first_factor() {
    let t = TestServer::start().await;
    let hr = "https://hr.test/";
    t.register(unicas::model::NewService {
        name: "hr".into(),
        pattern: hr.into(),
        mfa: unicas::model::Mfa::Required,
        ..Default::default()
    });
    let path = format!("/cas/mfa?service={}", enc(hr));
    let (mut by_key, mut by_app) = (t.client(), t.client());
    by_key.login("alice", PASSWORD, Some(hr)).await;
    by_app.login("alice", PASSWORD, Some(hr)).await;
    let (key_page, app_page) = (by_key.get(&path).await, by_app.get(&path).await);
    let answer = SoftKey::new(5).create(&creation_options(&key_page));
    let secret = crate::mfa::enrolment_secret(&app_page);
    let code = authenticator_code(&secret, t.clock().now());
    let (key_token, app_token) = (
        crate::mfa::form_token(&key_page, "passkey-enrol"),
        crate::mfa::form_token(&app_page, "enrol"),
    );
    let key_form = [
        ("execution", key_token.as_str()),
        ("action", "passkey-enrol"),
        ("name", "我的电脑"),
        ("credential", answer.as_str()),
        ("service", hr),
    ];
    let app_form = [
        ("execution", app_token.as_str()),
        ("action", "enrol"),
        ("code", code.as_str()),
        ("service", hr),
    ];
    let (with_key, with_app) = tokio::join!(
        by_key.post("/cas/mfa", &key_form),
        by_app.post("/cas/mfa", &app_form)
    );
    let enrolled = [&with_key, &with_app]
        .iter()
        .filter(|r| r.status == 200 && r.body.matches("<li><code>").count() == 10)
        .count();
    assert_eq!(enrolled, 1, "{}\n{}", with_key.body, with_app.body);
    let passkeys = t.server.store.passkeys_of("alice").unwrap().len();
    let totp = t.server.store.binding("alice", "totp").unwrap().is_some();
    assert_eq!(
        (passkeys, totp),
        match with_key.status {
            200 => (1, false),
            _ => (0, true),
        }
    );
    if with_key.status == 200 {
        let next = by_key.get(&path).await;
        assert_eq!(next.status, 302, "the passkey passed the step-up");
        let valid = by_key
            .get(&validate_path("p3/serviceValidate", hr, &next.ticket()))
            .await;
        assert!(valid.body.contains("mfa-webauthn"), "{}", valid.body);
    }
}
