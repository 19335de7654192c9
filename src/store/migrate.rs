//! The schema's versions (`schema.sql`, `schema-postgres.sql`: numbered sections) and bringing
//! a database up to date: a `<db>.vN.bak` copy first, each section in its own transaction,
//! the data an upgrade must rewrite, and the check that the key file is the one the data was
//! sealed with.

use super::*;

pub(super) const SCHEMA: &str = include_str!("../../schema.sql");

pub(super) const POSTGRES_SCHEMA: &str = include_str!("../../schema-postgres.sql");

pub(super) fn migrate(conn: &mut Connection, keys: &Keys, path: &Path) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew(version));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    // An upgrade first copies the database as it is, beside it: the way back.
    if version > 0 {
        let mut copy = path.as_os_str().to_owned();
        copy.push(format!(".v{version}.bak"));
        copy_database(conn, Path::new(&copy))?;
    }
    // One transaction: a crash mid-migration leaves the old schema, never a mix.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (v, sql) in sections().filter(|(v, _)| *v > version) {
        tx.execute_batch(sql)?;
        if v == 3 {
            // A fresh database has nothing to convert; an upgraded one does.
            if version > 0 {
                upgrade_data_to_v3(&tx, keys)?;
            }
        }
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    // Old page images (contact details before sealing) leave the main file now.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Version 3 seals contact details and single-logout tickets, and flags existing patterns
/// that match any host so they keep working and are listed as such.
pub(super) fn upgrade_data_to_v3(tx: &Transaction, keys: &Keys) -> rusqlite::Result<()> {
    let rows: Vec<(String, String, String)> = tx
        .prepare("SELECT id, email, phone FROM accounts")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, email, phone) in rows {
        tx.execute(
            "UPDATE accounts SET email = ?2, phone = ?3 WHERE id = ?1",
            rusqlite::params![id, keys.seal(&email), keys.seal(&phone)],
        )?;
    }
    let rows: Vec<(String, String, String)> = tx
        .prepare("SELECT session_hash, service_key, ticket FROM logout_participants")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (session, key, ticket) in rows {
        tx.execute(
            "UPDATE logout_participants SET ticket = ?3 WHERE session_hash = ?1 AND service_key = ?2",
            rusqlite::params![session, key, keys.seal(&ticket)],
        )?;
    }
    let patterns: Vec<(i64, String)> = tx
        .prepare("SELECT id, pattern FROM services")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, pattern) in patterns {
        if crate::model::Pattern::parse(&pattern).is_ok_and(|p| p.matches_any_host()) {
            tx.execute("UPDATE services SET allow_any_host = 1 WHERE id = ?1", [id])?;
        }
    }
    Ok(())
}

/// The first start writes a check value derived from the keys; later starts refuse keys
/// that do not reproduce it, rather than fail to read every phone number later.
pub(super) fn check_keys(db: &db::Db, keys: &Keys) -> Result<()> {
    let expected = keys.lookup("key-check", "unicas");
    let stored: Option<String> = db.query_opt(
        "SELECT value FROM settings WHERE name = 'key_check'",
        db::args![],
        |r| r.get(0),
    )?;
    match stored {
        Some(v) if v == expected => Ok(()),
        Some(_) => Err(StoreError::WrongKeys),
        None => {
            db.execute(
                "INSERT INTO settings (name, value) VALUES ('key_check', ?1)",
                db::args![&expected],
            )?;
            Ok(())
        }
    }
}

/// `schema.sql` split at its `-- @version N` markers (each section keeps its marker line).
pub(super) fn sections() -> impl Iterator<Item = (i64, &'static str)> {
    sections_of(SCHEMA)
}

/// A schema file split at its `-- @version N` markers.
pub(super) fn sections_of(schema: &'static str) -> impl Iterator<Item = (i64, &'static str)> {
    const MARKER: &str = "-- @version ";
    schema.match_indices(MARKER).map(move |(start, _)| {
        let rest = &schema[start + MARKER.len()..];
        let end = rest
            .find(MARKER)
            .map_or(schema.len(), |e| start + MARKER.len() + e);
        let version = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("schema.sql: a section marker without a version");
        (version, &schema[start..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    // docs/security.md L01, K08 (a database newer than the binary is refused)
    #[test]
    fn database_is_private_durable_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let keys = Arc::new(Keys::random());
        let store = Store::open(&path, Arc::clone(&keys)).unwrap();
        assert!(store.synchronous_levels().unwrap().iter().all(|&l| l == 2));
        for file in ["t.db", "t.db-wal", "t.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        drop(store);
        // A file someone made readable is tightened at the next start.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        Store::open(&path, Arc::clone(&keys)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            Store::open(&path, Arc::new(Keys::random())),
            Err(StoreError::WrongKeys)
        ));
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(&path, keys),
            Err(StoreError::TooNew(_))
        ));
    }

    /// docs/security.md K08: a migration that fails half way (as one killed would) leaves the old
    /// schema whole: every section of an upgrade runs in one transaction.
    #[test]
    fn a_failed_migration_leaves_the_old_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        for (v, sql) in sections().filter(|(v, _)| *v < SCHEMA_VERSION) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", v).unwrap();
        }
        // Something the last section creates is there already: it fails after its first
        // statements have run.
        conn.execute_batch("CREATE TABLE passkeys (x)").unwrap();
        drop(conn);
        assert!(Store::open(&path, Arc::new(Keys::random())).is_err());
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION - 1);
        let index: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'recovery_codes'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(index, 0, "no half of it");
    }

    #[test]
    fn sections_are_numbered_in_order_up_to_the_current_version() {
        let versions: Vec<i64> = sections().map(|(v, _)| v).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }

    #[test]
    fn a_version_2_database_is_upgraded_in_place_keeping_what_it_released() {
        // Upgraded to the current version through 3 (and whatever follows).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        let old: String = sections()
            .filter(|(v, _)| *v <= 2)
            .map(|(_, s)| s)
            .collect();
        conn.execute_batch(&format!("{old}\nPRAGMA user_version = 2;"))
            .unwrap();
        conn.execute_batch(
            "INSERT INTO services (name, pattern, created_at) VALUES ('all', 'https://a.test/', 0);
             INSERT INTO services (name, pattern, attributes, created_at) VALUES ('some', 'https://b.test/', 'cn', 0);
             INSERT INTO services (name, pattern, created_at) VALUES ('open', '^https?://.*$', 0);
             INSERT INTO accounts (id, name, kind, email, phone, password_hash, password_changed_at, created_at, updated_at)
                 VALUES ('alice', 'A', 'student', 'a@x.edu', '13800138000', 'h', 0, 0, 0);
             INSERT INTO logout_participants VALUES ('s', 1, 'https://a.test/', 'ST-secret', 'alice', 0);",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path, Arc::new(Keys::random())).unwrap();
        let services = store.services().unwrap();
        use crate::model::Release;
        assert_eq!(services[0].settings.release, Release::All);
        assert_eq!(
            services[1].settings.release,
            Release::Only(vec!["cn".into()])
        );
        assert!(
            services[2].settings.allow_any_host,
            "kept working, and flagged"
        );
        let alice = store.account("alice").unwrap().unwrap();
        assert_eq!(
            (alice.email.as_str(), alice.phone.as_str()),
            ("a@x.edu", "13800138000")
        );
        // The database as it was before the upgrade waits beside it.
        let before = Connection::open(dir.path().join("t.db.v2.bak")).unwrap();
        let version: i64 = before
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
        let raw = std::fs::read(&path).unwrap();
        let wal = std::fs::read(dir.path().join("t.db-wal")).unwrap_or_default();
        for secret in [&b"13800138000"[..], b"a@x.edu", b"ST-secret"] {
            let found = |hay: &[u8]| hay.windows(secret.len()).any(|w| w == secret);
            assert!(
                !found(&raw) && !found(&wal),
                "{:?} in clear",
                std::str::from_utf8(secret)
            );
        }
    }
}
