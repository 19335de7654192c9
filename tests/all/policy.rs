//! The password policy as people meet it: the rules beside the field in both languages, each
//! refusal with its reason and nothing changed, the history, and the command line.

use crate::support::*;

const NEW: &str = "New-Pass-2026";

async fn try_change(c: &mut Client, steps: &Resp, current: &str, new: &str, repeat: &str) -> Resp {
    let token = steps.input("execution").expect("the steps page's token");
    c.post(
        "/cas/login/first/password",
        &[
            ("execution", token.as_str()),
            ("password", current),
            ("newPassword", new),
            ("confirmPassword", repeat),
        ],
    )
    .await
}

/// Issue "First login", password policy: shown beside the field in both languages and
/// checked on the server, rule by rule.
#[tokio::test]
async fn each_rule_is_shown_and_checked_on_the_server() {
    let t = TestServer::start().await;
    t.add_user("s2024001", "Temp-Pass-1", true, &[]);
    let mut c = t.client();
    let steps = c.login("s2024001", "Temp-Pass-1", Some(SERVICE)).await;
    assert_eq!(steps.status, 200);
    assert!(steps.body.contains("密码规则：至少8位"), "{}", steps.body);
    assert!(steps.body.contains("最近5次"));
    let mut english = t.client();
    english.get("/cas/login?locale=en").await;
    let en = english
        .login("s2024001", "Temp-Pass-1", Some(SERVICE))
        .await;
    assert!(
        en.body.contains("Rules: at least 8 characters"),
        "{}",
        en.body
    );
    assert!(en.body.contains("none of your last 5 passwords"));
    let refused = try_change(&mut english, &en, "Temp-Pass-1", "Woaini1314", "Woaini1314").await;
    assert!(
        refused.body.contains("too common or easy to guess"),
        "{}",
        refused.body
    );

    for (new, repeat, zh) in [
        ("Sh0rt-1", "Sh0rt-1", "新密码不符合"),
        ("alllowercase", "alllowercase", "新密码不符合"),
        ("S2024001-ok", "S2024001-ok", "密码不能包含账号"),
        ("Woaini1314", "Woaini1314", "该密码过于常见"),
        ("Temp-Pass-1", "Temp-Pass-1", "新密码不能与当前密码"),
        (NEW, "New-Pass-2025", "两次"),
    ] {
        let refused = try_change(&mut c, &steps, "Temp-Pass-1", new, repeat).await;
        assert_eq!(refused.status, 400, "{new}: {}", refused.body);
        assert!(refused.body.contains(zh), "{new}: {zh} in {}", refused.body);
        assert!(refused.set_cookie("CASTGC").is_none());
    }
    let wrong_current = try_change(&mut c, &steps, "Temp-Pass-2", NEW, NEW).await;
    assert!(
        wrong_current.body.contains("当前密码不正确"),
        "{}",
        wrong_current.body
    );

    // Nothing was changed: the old password still opens the steps, and a good one passes.
    let mut again = t.client();
    let steps = again.login("s2024001", "Temp-Pass-1", Some(SERVICE)).await;
    assert!(steps.body.contains("name=\"newPassword\""));
    let done = again
        .change_initial_password(&steps, "Temp-Pass-1", NEW)
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done.location().starts_with(SERVICE));
}

/// Issue "First login": not one of the last five passwords (`password_history` is read),
/// while the sixth before is free again.
#[tokio::test]
async fn the_last_five_passwords_cannot_come_back() {
    let t = TestServer::start().await;
    t.add_user("s2024002", "Old-Pass-0", false, &[]);
    for n in 1..=6 {
        let (ok, out, err) = unicas(
            &t.config.db,
            &[
                "user",
                "passwd",
                "s2024002",
                "--password",
                &format!("Old-Pass-{n}"),
            ],
        );
        assert!(ok, "{out}{err}");
    }
    // An administrator's temporary password (it need not meet the policy) leaves Old-Pass-6
    // and four before it in the history.
    assert!(
        unicas(
            &t.config.db,
            &[
                "user",
                "passwd",
                "s2024002",
                "--password",
                "temp",
                "--must-change"
            ],
        )
        .0
    );
    let mut c = t.client();
    let steps = c.login("s2024002", "temp", Some(SERVICE)).await;
    assert!(
        steps.body.contains("name=\"newPassword\""),
        "{}",
        steps.body
    );
    for reused in ["Old-Pass-6", "Old-Pass-3", "Old-Pass-2"] {
        let refused = try_change(&mut c, &steps, "temp", reused, reused).await;
        assert!(
            refused
                .body
                .contains("新密码不能与当前密码或最近使用过的密码相同"),
            "{reused}: {}",
            refused.body
        );
    }
    let done = c
        .change_initial_password(&steps, "temp", "Old-Pass-1")
        .await;
    assert_eq!(
        done.status, 302,
        "six changes ago is allowed: {}",
        done.body
    );
}

/// Issue "First login": `user add` and `user passwd` refuse a password that fails the policy
/// unless `--must-change` makes it temporary.
#[test]
fn the_command_line_keeps_to_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let add = |id: &str, pw: &str, extra: &[&str]| {
        let mut args = vec!["user", "add", id, "--name", "n", "--password", pw];
        args.extend_from_slice(extra);
        unicas(&db, &args)
    };
    let (ok, _, err) = add("u1", "abc", &[]);
    assert!(!ok && err.contains("does not meet the policy"), "{err}");
    let (ok, _, err) = add("u1", "u1-Password", &[]);
    assert!(!ok && err.contains("account"), "{err}");
    assert!(add("u1", "abc", &["--must-change"]).0);
    assert!(add("u2", "Good-Pass-42", &[]).0);
    let (ok, _, err) = unicas(&db, &["user", "passwd", "u2", "--password", "123456"]);
    assert!(!ok && err.contains("does not meet the policy"), "{err}");
    assert!(
        unicas(
            &db,
            &[
                "user",
                "passwd",
                "u2",
                "--password",
                "123456",
                "--must-change"
            ]
        )
        .0
    );
    assert!(unicas(&db, &["user", "show", "u2"])
        .1
        .contains("must_change: true"));
}
