//! A SQLite database's files: a connection with the pragmas every one runs, files created
//! private to the service's user, the `<db>-lock` file, and a consistent copy with SQLite's
//! online backup API (for `backup` and the copy before an upgrade).

use super::*;

pub(super) fn connect(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted rows (spent codes, ended sessions, old contact details) are overwritten, not
    // left in free pages for a copy of the file to reveal.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// SQLite would create the file 0644 and give `-wal`/`-shm` the same mode; the database
/// holds password hashes and session hashes, so it is created 0600 first, and an existing
/// file that others may read is tightened.
pub(super) fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(StoreError::Io)?;
    make_private(path)
}

pub(super) fn make_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Io(e)),
    };
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(StoreError::Io)?;
    }
    Ok(())
}

/// A consistent copy of the open database `conn` at `to` (created 0600): SQLite's online
/// backup in one step, a single read transaction, so writers carry on and the copy holds
/// exactly what was committed when it began.
pub(super) fn copy_database(conn: &Connection, to: &Path) -> Result<()> {
    create_private(to)?;
    let mut target = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(conn, &mut target)?;
        backup.step(-1)?;
    }
    target
        .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
        .map_err(StoreError::from)
        .and_then(|verdict| match verdict.as_str() {
            "ok" => Ok(()),
            other => Err(StoreError::Refused(format!(
                "the copy failed its integrity check: {other}"
            ))),
        })
}

/// Takes `operation` (`LOCK_SH` or `LOCK_EX`) on `<db>-lock` without waiting; the lock
/// lasts as long as the returned file.
pub(super) fn lock_file(db: &Path, operation: libc::c_int) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let mut path = db.as_os_str().to_owned();
    path.push("-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)?;
    // SAFETY: flock on a descriptor this function owns; no memory is involved.
    match unsafe { libc::flock(file.as_raw_fd(), operation | libc::LOCK_NB) } {
        0 => Ok(file),
        _ => Err(std::io::Error::last_os_error()),
    }
}
