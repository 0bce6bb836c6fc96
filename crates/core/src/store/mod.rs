//! The workstation's local store: one SQLite file per signed-in agent (and a
//! separate one for the sandbox), so an agent reads, searches and acts with
//! the network gone.
//!
//! Every store is encrypted (SQLCipher, SQLCipher 4 default settings) with a
//! 256-bit key the caller gives ([`crate::vault`] keeps agents' keys).
//! Opening a store sets the key before anything else, proves it by reading
//! `sqlite_master`, then sets the pragmas that make it durable (WAL with
//! `synchronous=FULL`: village power is unreliable) and private
//! (`secure_delete`), registers the search tokenizer, checks the file
//! (`quick_check`) and runs the embedded migrations.
//!
//! Fail closed: a file that does not open with the key (a wrong key, or
//! damage we cannot tell from one) is left exactly as it is and the caller
//! gets [`StoreError::Locked`] naming it. Only a file whose key is proven but
//! which fails `quick_check` is moved aside (never overwritten), with
//! [`StoreError::Corrupt`] naming both paths. The store's files (`-wal` and
//! `-shm` too) are created owner-only (0600) in an owner-only folder (0700).
//!
//! Modules: [`records`] applies the platform's change log, [`outbox`] holds
//! agent actions until the platform acknowledges them, [`sync_state`] the
//! cursor, session and screen-lock state, [`views`] what the screens and the
//! CLI read, [`reference`] the customers, queues, colleagues, scripts and
//! canned replies the desk looks things up in, [`worklog`] the agent's own
//! day, [`practice_results`] the sandbox's history, [`attachments`] the
//! photos kept on this PC and those waiting in a composer. All SQL of the
//! workstation lives in these modules (and the search index's in
//! [`crate::search`]); the desk calls them by name.

pub mod attachments;
pub mod console_cache;
pub mod convert;
pub mod outbox;
pub mod practice_results;
pub mod records;
pub mod reference;
pub mod sync_state;
pub mod views;
pub mod worklog;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use crate::vault::StoreKey;

/// Migrations, in order; `user_version` is how many have run.
const MIGRATIONS: [(&str, &str); 11] = [
    ("0001_init", include_str!("migrations/0001_init.sql")),
    ("0002_search", crate::search::SCHEMA),
    ("0003_unlock", include_str!("migrations/0003_unlock.sql")),
    (
        "0004_work_log",
        include_str!("migrations/0004_work_log.sql"),
    ),
    (
        "0005_practice",
        include_str!("migrations/0005_practice.sql"),
    ),
    (
        "0006_refusals_and_lock",
        include_str!("migrations/0006_refusals_and_lock.sql"),
    ),
    (
        "0007_attachments",
        include_str!("migrations/0007_attachments.sql"),
    ),
    (
        "0008_encrypted",
        include_str!("migrations/0008_encrypted.sql"),
    ),
    ("0009_metered", include_str!("migrations/0009_metered.sql")),
    (
        "0010_search_contentless",
        crate::search::CONTENTLESS_ARTICLES_MIGRATION,
    ),
    ("0011_console", include_str!("migrations/0011_console.sql")),
];

/// How long a statement waits for a lock held by another connection (the
/// CLI reading while the app writes) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("this agent's data on this PC ({}) does not open with this key; nothing was changed", path.display())]
    Locked { path: PathBuf },
    #[error("the local database {} could not be converted to an encrypted one: {detail}", path.display())]
    Convert { path: PathBuf, detail: String },
    #[error("the local database {} is damaged ({detail}); it was moved to {} and a fresh one will be made on the next start. Keep the moved file: actions in it that were not yet sent can be recovered from it", path.display(), moved_to.display())]
    Corrupt {
        path: PathBuf,
        moved_to: PathBuf,
        detail: String,
    },
    #[error("the local database {} was made by a newer Homedesk (schema {found}, this one knows {known}); update Homedesk", path.display())]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot open the local database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("local database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("local database holds a record it cannot read ({0})")]
    BadRecord(String),
    #[error("cannot move the damaged database {} aside: {source}", path.display())]
    MoveAside {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// An open local store. `Send + Sync`; one connection behind a mutex, held
/// only for the length of one transaction or query.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the store at `path` with `key`; see the
    /// module comment for what is checked and what a failure leaves.
    pub fn open(path: impl Into<PathBuf>, key: &StoreKey) -> Result<Store, StoreError> {
        let path = path.into();
        if let Some(parent) = path.parent() {
            // A missing parent folder shows up as an open error below, with the path.
            let _ = owner_only_dir(parent);
        }
        let existed = path.exists();
        if !existed {
            // Created here, owner-only, so SQLite gives its -wal and -shm
            // the same mode.
            create_owner_only(&path, false).map_err(|e| StoreError::Open {
                path: path.clone(),
                source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
            })?;
        }
        let conn = match open_keyed(&path, key) {
            Ok(conn) => conn,
            Err(StoreError::Sql(source) | StoreError::Open { source, .. })
                if existed && is_not_a_database(&source) =>
            {
                return Err(StoreError::Locked { path });
            }
            Err(other) => return Err(other),
        };
        if let Err(source) = set_pragmas(&conn) {
            return Err(StoreError::Open { path, source });
        }
        if existed {
            let verdict: Result<String, rusqlite::Error> =
                conn.query_row("PRAGMA quick_check", [], |row| row.get(0));
            match verdict {
                Ok(ok) if ok == "ok" => {}
                Ok(problem) => {
                    drop(conn);
                    return Err(move_aside(&path, problem));
                }
                Err(err) if is_not_a_database(&err) => {
                    drop(conn);
                    return Err(move_aside(&path, err.to_string()));
                }
                Err(source) => return Err(StoreError::Open { path, source }),
            }
        }
        restrict_to_owner(&path);
        migrate(&path, &conn)?;
        // An index built by an older tokenizer is rebuilt from its content.
        let tx = conn.unchecked_transaction()?;
        if crate::search::rebuild_if_stale(&tx)? {
            tracing::info!("knowledge-base search index rebuilt for the current tokenizer");
        }
        tx.commit()?;
        Ok(Store {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// A store in memory only, gone when dropped (practice history of a
    /// trainee who has not signed in). Nothing touches the disk: `open` with
    /// the name `:memory:` would make an empty file of that name in the
    /// working folder.
    pub fn in_memory(key: &StoreKey) -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = open_keyed(&path, key)?;
        set_pragmas(&conn).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        migrate(&path, &conn)?;
        Ok(Store {
            path,
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one immediate (write) transaction: all of it is durable
    /// when this returns `Ok`, none of it otherwise.
    pub fn write<T, E>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` with the connection for reading.
    pub fn read<T, E>(&self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
        let conn = self.lock();
        f(&conn)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic inside a transaction rolls it back when the Transaction is
        // dropped, so the connection behind a poisoned lock is consistent.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Starts OpenSSL, which SQLCipher encrypts with, without the cleanup it
/// would otherwise register for process exit. That cleanup frees OpenSSL's
/// locks while the desk's background tasks may still be writing a page (the
/// app closing, a test ending), and the write then crashes (a segfault in
/// `RAND_bytes` under `sqlcipher_page_cipher`). `openssl_sys::init` asks for
/// `OPENSSL_INIT_NO_ATEXIT`; the operating system frees the memory anyway.
/// Call before any SQLite connection is opened; later calls do nothing.
pub(crate) fn init_crypto() {
    openssl_sys::init();
}

/// A connection to `path` with `key` set first and proven (a read of
/// `sqlite_master`); nothing else is done to the file.
pub(crate) fn open_keyed(path: &Path, key: &StoreKey) -> Result<Connection, StoreError> {
    init_crypto();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    // A wrong key is answered by `StoreError::Locked`; SQLCipher's own
    // lines about it on stderr would only alarm (the setting is global).
    let _ = conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()));
    // Before anything else, WAL included (SQLCipher reads nothing unkeyed).
    conn.execute_batch(&format!(
        "PRAGMA key = \"{}\";",
        key.pragma_value().as_str()
    ))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    })?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    crate::search::register(&conn)?;
    Ok(conn)
}

fn set_pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    // journal_mode answers with a row; the others do not.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA cache_size = -{PAGE_CACHE_KIB};"
    ))
}

/// SQLite's page cache of a store, in KiB (SQLite's default is 2 MiB).
/// Search reads the index's pages over and over; with 2 MiB a large
/// knowledge base's pages were read from the file again on every search
/// (a tenth of its time). The cache grows only as pages are read.
pub const PAGE_CACHE_KIB: u32 = 16 * 1024;

/// Makes `dir` (and missing parents) and restricts it to its owner.
pub(crate) fn owner_only_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates `path` readable and writable by its owner only (`truncate`: empty
/// it if it is there; else an existing file is kept as it is).
pub(crate) fn create_owner_only(path: &Path, truncate: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn is_not_a_database(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Moves `path` (and its WAL and shared-memory files) to
/// `path.corrupt-<unix seconds>` so nothing in it is overwritten.
fn move_aside(path: &Path, detail: String) -> StoreError {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let moved_to = PathBuf::from(format!("{}.corrupt-{stamp}", path.display()));
    if let Err(source) = std::fs::rename(path, &moved_to) {
        return StoreError::MoveAside {
            path: path.to_owned(),
            source,
        };
    }
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, format!("{}{suffix}", moved_to.display()));
        }
    }
    tracing::error!(path = %path.display(), moved_to = %moved_to.display(), "damaged local database moved aside: {detail}");
    StoreError::Corrupt {
        path: path.to_owned(),
        moved_to,
        detail,
    }
}

/// The store holds messages and a session token: readable by this OS user
/// only, its side files too (a file made by an older version may be 0644).
fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn migrate(path: &Path, conn: &Connection) -> Result<(), StoreError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > known {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            known,
        });
    }
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)
            .map_err(|err| StoreError::BadRecord(format!("migration {name} failed: {err}")))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(migration = name, "local database migrated");
    }
    Ok(())
}

/// Reads a JSON column into a type, naming the table on failure.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    table: &str,
    json: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|err| StoreError::BadRecord(format!("{table}: {err}")))
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Our own types always serialize (no maps with non-string keys).
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StoreKey {
        StoreKey::from_bytes([7; 32])
    }

    /// Every file of the store at `path` (main, -wal, -shm), as bytes.
    fn files_of(path: &Path) -> Vec<(String, Vec<u8>)> {
        let dir = path.parent().expect("folder");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .expect("list")
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect();
        files.sort();
        files
    }

    /// An agent's store from before migration 0010: the article index kept
    /// the text (tokenizer version 2). Opening it drops that index and fills
    /// the contentless one from `kb_articles`: the articles are found again.
    #[test]
    fn a_store_with_the_old_article_index_finds_its_articles_after_the_upgrade() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        {
            let conn = open_keyed(&path, &key()).expect("opens");
            set_pragmas(&conn).expect("pragmas");
            for (_, sql) in &MIGRATIONS[..9] {
                conn.execute_batch(sql).expect("migration");
            }
            conn.execute_batch(
                "DROP TABLE search_kb; DROP TABLE search_kb_titles; DROP TABLE search_kb_rows;
                 CREATE TABLE search_kb_rows (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
                 CREATE VIRTUAL TABLE search_kb USING fts5(
                     title, tags, body, pinyin, locale, tokenize = 'homedesk');
                 CREATE VIRTUAL TABLE search_kb_titles USING fts5(
                     title, tags, pinyin, locale, tokenize = 'homedesk');
                 INSERT INTO kb_articles (id, locale, title, body, tags, category, updated_at)
                 VALUES ('kb-old', 'zh-CN', '发货时间', '申请退款后三天到账。', '[\"物流\"]', '售后', 0);
                 INSERT INTO search_kb_rows (rowid, id) VALUES (1, 'kb-old');
                 INSERT INTO search_kb (rowid, title, tags, body, pinyin, locale)
                 VALUES (1, '发货时间', '物流', '申请退款后三天到账。', char(57344) || '发货时间', 'zh-CN');
                 INSERT INTO search_meta (key, value) VALUES ('tokenizer_version', '2');
                 PRAGMA user_version = 9;",
            )
            .expect("an old store");
        }
        let store = Store::open(&path, &key()).expect("upgrades");
        let found = |query: &str| {
            store
                .read(|c| {
                    crate::search::search_articles(
                        c,
                        query,
                        &crate::search::SearchOptions::default(),
                    )
                })
                .expect("search")
                .into_iter()
                .map(|hit| hit.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(found("退款"), vec!["kb-old"], "by its body");
        assert_eq!(found("fhsj"), vec!["kb-old"], "by its title's pinyin");
        assert_eq!(found("物流"), vec!["kb-old"], "by its tag");
        let version: i64 = store
            .read(|c| c.query_row("PRAGMA user_version", [], |row| row.get(0)))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_fresh_store_is_encrypted_migrated_durable_and_private() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path().join("agent.sqlite"), &key()).expect("opens");
        store
            .read(|conn| {
                let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                assert_eq!(version, MIGRATIONS.len() as i64);
                let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                assert_eq!(mode, "wal");
                let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
                assert_eq!(sync, 2, "synchronous=FULL");
                let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
                assert_eq!(fk, 1);
                let secure: i64 = conn.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
                assert_eq!(
                    secure, 1,
                    "deleted rows are overwritten, not left in free pages"
                );
                let cipher: String = conn.query_row("PRAGMA cipher_version", [], |r| r.get(0))?;
                assert!(cipher.starts_with("4."), "SQLCipher 4: {cipher}");
                Ok::<_, rusqlite::Error>(())
            })
            .expect("pragmas");
    }

    #[test]
    fn nothing_written_is_readable_in_the_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        let store = Store::open(&path, &key()).expect("opens");
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO customers (id, data) VALUES ('c1', ?1)",
                    ["王秀英 13812341234 secret-marker-xyz"],
                )
            })
            .expect("write");
        // Once while the WAL holds it, once after a checkpoint.
        for round in 0..2 {
            for (name, bytes) in files_of(&path) {
                let text = String::from_utf8_lossy(&bytes);
                assert!(
                    !text.contains("secret-marker-xyz") && !text.contains("13812341234"),
                    "round {round}: {name} holds customer data in the clear"
                );
                assert!(
                    !text.contains("SQLite format 3"),
                    "{name} is a plain SQLite file"
                );
            }
            store
                .read(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)"))
                .expect("checkpoint");
        }
    }

    #[cfg(unix)]
    #[test]
    fn every_file_of_a_store_and_its_folder_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let folder = dir.path().join("agents");
        let path = folder.join("agent.sqlite");
        let store = Store::open(&path, &key()).expect("opens");
        store
            .write(|tx| tx.execute("INSERT INTO customers (id, data) VALUES ('c1', '{}')", []))
            .expect("write");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&folder).expect("list").flatten() {
            let mode = entry.metadata().expect("stat").permissions().mode() & 0o777;
            let name = entry.file_name().to_string_lossy().into_owned();
            assert_eq!(mode, 0o600, "{name} must be readable by its owner only");
            seen.push(name);
        }
        seen.sort();
        assert_eq!(
            seen,
            ["agent.sqlite", "agent.sqlite-shm", "agent.sqlite-wal"],
            "all three files checked"
        );
        let mode = std::fs::metadata(&folder)
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "the folder is owner-only");
    }

    #[test]
    fn reopening_with_the_key_runs_no_migration_twice() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        drop(Store::open(&path, &key()).expect("first open"));
        let store = Store::open(&path, &key()).expect("second open");
        let cursor: Option<String> = store
            .read(|c| c.query_row("SELECT cursor FROM sync_state", [], |r| r.get(0)))
            .expect("one sync_state row");
        assert_eq!(cursor, None);
    }

    #[test]
    fn a_wrong_key_leaves_the_store_byte_identical_and_makes_no_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        {
            let store = Store::open(&path, &key()).expect("opens");
            store
                .write(|tx| tx.execute("INSERT INTO customers (id, data) VALUES ('c1', '{}')", []))
                .expect("write");
        }
        let before = files_of(&path);
        let err = Store::open(&path, &StoreKey::from_bytes([8; 32])).expect_err("refused");
        let StoreError::Locked { path: named } = &err else {
            panic!("expected Locked, got {err:?}");
        };
        assert_eq!(named, &path);
        assert!(err.to_string().contains("agent.sqlite"), "{err}");
        assert_eq!(
            files_of(&path),
            before,
            "a wrong key must not move, change or add any file"
        );
        Store::open(&path, &key()).expect("the right key still opens it");
    }

    #[test]
    fn a_file_that_does_not_open_with_the_key_is_left_where_it_is() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        let garbage = b"this is not sqlite, but it might be an agent's only copy".repeat(100);
        std::fs::write(&path, &garbage).expect("write");
        let err = Store::open(&path, &key()).expect_err("refused");
        assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
        assert_eq!(
            files_of(&path),
            vec![("agent.sqlite".to_owned(), garbage)],
            "untouched, nothing beside it"
        );
    }

    #[test]
    fn a_database_with_damaged_pages_under_the_right_key_is_moved_aside() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        {
            let store = Store::open(&path, &key()).expect("opens");
            store
                .write(|tx| {
                    for i in 0..2000 {
                        tx.execute(
                            "INSERT INTO customers (id, data) VALUES (?1, ?2)",
                            (format!("c{i}"), "x".repeat(200)),
                        )?;
                    }
                    Ok::<_, rusqlite::Error>(())
                })
                .expect("fill");
            store
                .read(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)"))
                .expect("checkpoint");
        }
        // Scribble over the middle of the file, past the first page.
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        for b in &mut bytes[middle..middle + 8192] {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).expect("write");
        match Store::open(&path, &key()) {
            Err(StoreError::Corrupt { moved_to, .. }) => {
                assert_eq!(std::fs::read(moved_to).expect("kept"), bytes);
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn a_newer_schema_is_refused_untouched() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        drop(Store::open(&path, &key()).expect("opens"));
        {
            let conn = open_keyed(&path, &key()).expect("raw");
            conn.pragma_update(None, "user_version", 99).expect("bump");
        }
        let err = Store::open(&path, &key()).expect_err("refused");
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err:?}"
        );
        assert!(path.exists(), "left where it is");
    }

    #[test]
    fn an_in_memory_store_is_migrated_and_makes_no_file() {
        let store = Store::in_memory(&key()).expect("opens");
        let version: i64 = store
            .read(|conn| conn.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .expect("reads");
        assert_eq!(version, MIGRATIONS.len() as i64);
        assert!(
            !Path::new(":memory:").exists(),
            "no file named :memory: in the working folder"
        );
    }

    #[test]
    fn knowledge_search_works_on_an_encrypted_store_after_a_reopen() {
        use homedesk_protocol::{KbArticle, Record};
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        {
            let store = Store::open(&path, &key()).expect("opens");
            store
                .write(|tx| {
                    records::upsert_record(
                        tx,
                        &Record::KbArticle(KbArticle {
                            id: "kb-refund".into(),
                            locale: "zh-CN".into(),
                            title: "退款多久到账".into(),
                            body: "原路退回，一般三到五个工作日到账。".into(),
                            tags: vec!["退款".into()],
                            category: "aftersales".into(),
                            updated_at: 1,
                        }),
                        "",
                    )
                })
                .expect("article");
        }
        let store = Store::open(&path, &key()).expect("reopens");
        let options = crate::search::SearchOptions {
            limit: 5,
            locale: None,
        };
        for query in ["退款", "到账", "tuikuan"] {
            let hits = store
                .read(|c| crate::search::search_articles(c, query, &options))
                .expect("search");
            assert_eq!(
                hits.first().map(|h| h.id.as_str()),
                Some("kb-refund"),
                "{query} finds the article in the encrypted store"
            );
        }
    }
}
