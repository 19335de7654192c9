//! Durability: once a page says a change succeeded, `kill -9` of the real binary right after
//! cannot undo it.

use crate::support::*;

fn cli(db: &std::path::Path, args: &[&str]) {
    let (ok, _, err) = unicas(db, args);
    assert!(ok, "{err}");
}

fn serve(db: &std::path::Path) -> (Binary, std::net::SocketAddr) {
    let running = serve_binary(db, &[], None);
    let addr = running.addr;
    (running, addr)
}

/// security.md K03
#[tokio::test]
async fn a_password_change_and_its_session_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    cli(
        &db,
        &["service", "add", "--name", "app", "--pattern", SERVICE],
    );
    for round in 0..5 {
        let account = format!("2023000{round}");
        cli(
            &db,
            &[
                "user",
                "add",
                &account,
                "--name",
                "x",
                "--password",
                "123456",
                "--must-change",
            ],
        );
        let (mut server, addr) = serve(&db);
        let mut browser = Client::new(addr, None);
        let step = browser.login(&account, "123456", Some(SERVICE)).await;
        assert!(step.body.contains("修改密码"), "{}", step.body);
        let done = browser
            .change_initial_password(&step, "123456", "New-Pass-2026")
            .await;
        assert_eq!(done.status, 302, "{}", done.body);
        // The user has been told it worked: the power goes now.
        server.child.kill().unwrap();
        server.child.wait().unwrap();

        let (mut server, addr) = serve(&db);
        // The session the success page started is still there...
        let mut same_browser = Client::new(addr, None);
        same_browser.jar = browser.jar.clone();
        let sso = same_browser
            .get(&format!("/cas/login?service={}", enc(SERVICE)))
            .await;
        assert_eq!(sso.status, 302, "round {round}: session lost");
        // ...the new password works and the old one does not.
        let mut c = Client::new(addr, None);
        assert_eq!(c.login(&account, "123456", None).await.status, 401);
        let mut c = Client::new(addr, None);
        assert_eq!(
            c.login(&account, "New-Pass-2026", Some(SERVICE))
                .await
                .status,
            302,
            "round {round}: password change lost"
        );
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        // Killed twice now: the file is whole and consistent.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        let dangling: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(dangling, 0, "round {round}");
    }
}
