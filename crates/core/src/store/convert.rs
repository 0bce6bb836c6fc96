//! Converting a plain store (made before stores were encrypted) into an
//! encrypted one, in place, on the first unlock or sign-in after the update.
//!
//! Order, so that a power cut at any step loses nothing: checkpoint the plain
//! file; export it (`sqlcipher_export`) into `<file>.converting`; open that
//! copy with the key and check it (`quick_check`, the row count of every
//! table equal to the plain file's); only then replace the plain file with it
//! (rename, atomic) and remove the plain file's `-wal`/`-shm`. A failed check
//! removes the copy and leaves the plain file as it was. The key file is
//! written before this starts, so a conversion cut short is simply done again
//! at the next open.

use std::path::{Path, PathBuf};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use homedesk_protocol::AgentProfile;
use rusqlite::{Connection, OpenFlags};

use crate::store::{self, StoreError, sync_state};
use crate::vault::StoreKey;

/// The first 16 bytes of every plain SQLite file; an encrypted file starts
/// with its random salt instead.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// `path` is a plain (unencrypted) SQLite file.
pub fn is_plain(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .is_ok()
        && &header == PLAIN_HEADER
}

fn open_plain(path: &Path) -> Result<Connection, StoreError> {
    store::init_crypto();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    crate::search::register(&conn)?;
    Ok(conn)
}

/// The agent of the session saved in a plain store, if any.
pub fn plain_profile(path: &Path) -> Result<Option<AgentProfile>, StoreError> {
    let conn = open_plain(path)?;
    Ok(sync_state::session(&conn)?.map(|s| s.agent))
}

/// `password` matches the verifier a plain store keeps for its screen lock.
pub fn plain_password_ok(path: &Path, password: &str) -> Result<bool, StoreError> {
    let conn = open_plain(path)?;
    let verifier = sync_state::unlock_verifier(&conn)?;
    Ok(verifier.is_some_and(|v| {
        PasswordHash::new(&v).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    }))
}

fn side(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

fn remove_if_there(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Convert {
            path: path.to_owned(),
            detail: e.to_string(),
        }),
    }
}

/// Converts the plain store at `path` to one encrypted with `key`; see the
/// module comment.
pub fn to_encrypted(path: &Path, key: &StoreKey) -> Result<(), StoreError> {
    let copy = side(path, ".converting");
    for stale in [copy.clone(), side(&copy, "-wal"), side(&copy, "-shm")] {
        remove_if_there(&stale)?;
    }
    let failed = |detail: String| StoreError::Convert {
        path: path.to_owned(),
        detail,
    };
    let counts = {
        let plain = open_plain(path)?;
        plain.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let counts = row_counts(&plain)?;
        drop(store::create_owner_only(&copy, false).map_err(|e| failed(e.to_string()))?);
        plain.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            [copy.to_string_lossy().as_ref(), key.pragma_value().as_str()],
        )?;
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        plain.execute_batch(&format!(
            "PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"
        ))?;
        counts
    };
    if let Err(err) = check_copy(&copy, key, &counts) {
        let _ = std::fs::remove_file(&copy);
        return Err(failed(format!(
            "the encrypted copy did not check out ({err}); the plain file was left as it was"
        )));
    }
    // The plain file's connection is closed and its WAL checkpointed: its
    // side files hold nothing, and must not be taken for the new file's.
    remove_if_there(&side(path, "-wal"))?;
    remove_if_there(&side(path, "-shm"))?;
    std::fs::rename(&copy, path).map_err(|e| failed(e.to_string()))?;
    if let Some(folder) = path.parent()
        && let Ok(dir) = std::fs::File::open(folder)
    {
        let _ = dir.sync_all();
    }
    tracing::info!(path = %path.display(), "plain local store converted to an encrypted one");
    Ok(())
}

fn check_copy(copy: &Path, key: &StoreKey, counts: &[(String, i64)]) -> Result<(), StoreError> {
    let conn = store::open_keyed(copy, key)?;
    let verdict: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StoreError::BadRecord(format!("quick_check: {verdict}")));
    }
    let copied = row_counts(&conn)?;
    if copied != counts {
        return Err(StoreError::BadRecord(format!(
            "row counts differ: {counts:?} before, {copied:?} after"
        )));
    }
    Ok(())
}

/// Every table with storage (virtual tables are counted through their
/// shadow tables), by name, with its row count.
fn row_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT name FROM sqlite_master
         WHERE type = 'table' AND rootpage > 0 AND name NOT LIKE 'sqlite_%'
         ORDER BY name",
    )?;
    let names: Vec<String> = statement
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    names
        .into_iter()
        .map(|name| {
            let quoted = name.replace('"', "\"\"");
            let n: i64 =
                conn.query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |r| {
                    r.get(0)
                })?;
            Ok((name, n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::{KdfParams, Vault};

    #[test]
    fn a_plain_store_is_converted_only_with_the_right_password_and_keeps_its_rows() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("agents").join("a1001.sqlite");
        std::fs::create_dir_all(db.parent().expect("dir")).expect("dir");
        {
            // A plain store as older versions made it (no key).
            let conn = rusqlite::Connection::open(&db).expect("plain");
            conn.execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE sync_state (id INTEGER PRIMARY KEY, session TEXT, unlock_verifier TEXT);
                 CREATE TABLE customers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
                 INSERT INTO customers VALUES ('c1', '王秀英'), ('c2', '李娜');",
            )
            .expect("schema");
            let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
            let verifier = argon2::Argon2::default()
                .hash_password(b"right", &salt)
                .expect("hash")
                .to_string();
            conn.execute(
                "INSERT INTO sync_state (id, session, unlock_verifier) VALUES (1, NULL, ?1)",
                [verifier],
            )
            .expect("verifier");
        }
        let before = std::fs::read(&db).expect("plain bytes");
        let vault = Vault::new(KdfParams::cheap_for_tests());
        assert!(
            vault
                .try_unlock(&db, "wrong", 0)
                .expect("checks")
                .opened()
                .is_none()
        );
        assert!(
            !Vault::key_path(&db).exists(),
            "no key made for a wrong password"
        );
        assert_eq!(std::fs::read(&db).expect("plain"), before, "untouched");
        let key = vault
            .try_unlock(&db, "right", 0)
            .expect("checks")
            .opened()
            .expect("the old verifier opens it");
        to_encrypted(&db, &key).expect("converts");
        assert!(!is_plain(&db), "the plain file is gone");
        for side in ["-wal", "-shm", ".converting"] {
            assert!(
                !std::path::PathBuf::from(format!("{}{side}", db.display())).exists(),
                "{side} removed"
            );
        }
        let conn = crate::store::open_keyed(&db, &key).expect("opens with the key");
        let names: Vec<String> = conn
            .prepare("SELECT data FROM customers ORDER BY id")
            .expect("query")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("read");
        assert_eq!(names, ["王秀英", "李娜"]);
        let bytes = std::fs::read(&db).expect("encrypted");
        assert!(
            !String::from_utf8_lossy(&bytes).contains("王秀英"),
            "no customer name in the clear"
        );
    }
}
