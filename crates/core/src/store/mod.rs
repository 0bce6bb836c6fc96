//! The workstation's local store: one SQLite file per signed-in agent (and a
//! separate one for the sandbox), so an agent reads, searches and acts with
//! the network gone.
//!
//! Opening a store sets the pragmas that make it durable (WAL with
//! `synchronous=FULL`: village power is unreliable), registers the search
//! tokenizer, checks the file (`quick_check`) and runs the embedded
//! migrations. A file that fails the check is moved aside, never overwritten,
//! and the caller gets [`StoreError::Corrupt`] naming both paths.
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

/// Migrations, in order; `user_version` is how many have run.
const MIGRATIONS: [(&str, &str); 7] = [
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
];

/// How long a statement waits for a lock held by another connection (the
/// CLI reading while the app writes) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
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
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let path = path.into();
        if let Some(parent) = path.parent() {
            // A missing parent folder shows up as an open error below, with the path.
            let _ = std::fs::create_dir_all(parent);
        }
        let existed = path.exists();
        let conn = match open_connection(&path) {
            Ok(conn) => conn,
            Err(source) if existed && is_not_a_database(&source) => {
                return Err(move_aside(&path, source.to_string()));
            }
            Err(source) => return Err(StoreError::Open { path, source }),
        };
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

fn open_connection(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // journal_mode answers with a row; the others do not.
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;",
    )?;
    crate::search::register(&conn)?;
    Ok(conn)
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

/// The store holds messages and a session token: readable by this OS user only.
fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
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

    #[test]
    fn a_fresh_store_is_migrated_and_durable() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path().join("agent.sqlite")).expect("opens");
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
                Ok::<_, rusqlite::Error>(())
            })
            .expect("pragmas");
    }

    #[test]
    fn reopening_runs_no_migration_twice() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        drop(Store::open(&path).expect("first open"));
        let store = Store::open(&path).expect("second open");
        let cursor: Option<String> = store
            .read(|c| c.query_row("SELECT cursor FROM sync_state", [], |r| r.get(0)))
            .expect("one sync_state row");
        assert_eq!(cursor, None);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_moved_aside_not_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        let garbage = b"this is not sqlite, but it might be an agent's only copy".repeat(100);
        std::fs::write(&path, &garbage).expect("write");
        let err = Store::open(&path).expect_err("refused");
        let StoreError::Corrupt { moved_to, .. } = &err else {
            panic!("expected Corrupt, got {err:?}");
        };
        assert_eq!(std::fs::read(moved_to).expect("kept"), garbage);
        assert!(!path.exists(), "the damaged file is no longer in the way");
        assert!(err.to_string().contains("moved to"), "{err}");
        // The next start makes a fresh store.
        Store::open(&path).expect("fresh store opens");
    }

    #[test]
    fn a_database_with_damaged_pages_is_moved_aside() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("agent.sqlite");
        {
            let store = Store::open(&path).expect("opens");
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
        // Scribble over the middle of the file, past the header.
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        for b in &mut bytes[middle..middle + 8192] {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).expect("write");
        match Store::open(&path) {
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
        drop(Store::open(&path).expect("opens"));
        {
            let conn = Connection::open(&path).expect("raw");
            conn.pragma_update(None, "user_version", 99).expect("bump");
        }
        let err = Store::open(&path).expect_err("refused");
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err:?}"
        );
        assert!(path.exists(), "left where it is");
    }
}
