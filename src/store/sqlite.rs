//! One SQLite file, the default backend and the peer of `postgres.rs`: one writer connection
//! (SQLite admits one writer at a time) and a few readers in WAL mode, every connection with
//! `synchronous=FULL`, the files private to the service's user.

use super::*;

/// One SQLite file.
pub(super) struct Sqlite {
    pub(super) path: std::path::PathBuf,
    /// A shared lock on `<db>-lock` for as long as the store is open: `restore` takes it
    /// exclusively, so it never replaces a database a server or command is using.
    pub(super) _in_use: std::fs::File,
    pub(super) writer: Mutex<Connection>,
    pub(super) readers: Vec<Mutex<Connection>>,
    pub(super) next_reader: AtomicUsize,
}

/// Opens (creating if needed) the SQLite file, makes its files private, brings its schema
/// up to date, and checks the keys.
pub(super) fn open_sqlite(path: &Path, keys: &Keys) -> Result<Sqlite> {
    let in_use = lock_file(path, libc::LOCK_SH).map_err(|e| match e.kind() {
        // Held exclusively: `unicas restore` is replacing the file.
        std::io::ErrorKind::WouldBlock => {
            StoreError::Refused("a restore of this database is under way".into())
        }
        _ => StoreError::Refused(format!(
            "cannot open {}-lock beside the database: {e} (the directory must be writable by unicas)",
            path.display()
        )),
    })?;
    create_private(path)?;
    let mut writer = connect(path)?;
    writer.pragma_update(None, "journal_mode", "WAL")?;
    migrate(&mut writer, keys, path)?;
    check_keys(&db::Db::sqlite(&writer), keys)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        make_private(Path::new(&side))?;
    }
    let readers = (0..READERS)
        .map(|_| connect(path).map(Mutex::new))
        .collect::<Result<Vec<_>>>()?;
    Ok(Sqlite {
        path: path.to_owned(),
        _in_use: in_use,
        writer: Mutex::new(writer),
        readers,
        next_reader: AtomicUsize::new(0),
    })
}

pub(super) const READERS: usize = 4;
