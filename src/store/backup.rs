//! Backup and restore of a SQLite database with SQLite's online backup API, and the
//! `<db>-lock` file every open store holds shared and a restore takes alone, so a restore
//! never replaces a database a server or command is using.

use super::*;

/// `unicas backup`: a consistent copy of the database at `db` while it serves.
pub fn backup(db: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        return Err(StoreError::Refused(format!(
            "{} exists already",
            to.display()
        )));
    }
    let source = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(std::time::Duration::from_secs(5))?;
    copy_database(&source, to)
}

/// `unicas restore`: replaces the database at `db` with the backup `from`, once the backup
/// checks out (integrity, and sealed with `keys`) and no process has `db` open for writing.
pub fn restore(db: &Path, from: &Path, keys: &Keys) -> Result<()> {
    let backup = Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let verdict: String = backup.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::Refused(format!(
            "the backup failed its integrity check: {verdict}"
        )));
    }
    check_keys(&db::Db::sqlite(&backup), keys)?;
    // Every open store holds a shared lock: a server (or a command) using the database
    // makes this refuse rather than pull the floor from under it.
    let _exclusive = lock_file(db, libc::LOCK_EX)
        .map_err(|_| StoreError::Refused("the database is in use: stop unicas first".into()))?;
    create_private(db)?;
    let mut target = connect(db)?;
    let backup_step = rusqlite::backup::Backup::new(&backup, &mut target)?;
    backup_step.step(-1)?;
    Ok(())
}
