//! Where this workstation stands in the platform's change log, and the
//! session that lets it continue after a restart without the password.
//!
//! The cursor is only ever written in the same transaction as the page it
//! belongs to ([`crate::sync`] does that), so a crash between the two cannot
//! skip or repeat changes.

use homedesk_protocol::{Presence, Session, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, from_json, to_json};

/// The one `sync_state` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    pub cursor: Option<String>,
    /// Workstation clock, end of the last complete push and pull.
    pub last_sync_at: Option<UnixMillis>,
    /// Platform clock minus workstation clock, from the last answer.
    pub server_offset_ms: i64,
    /// Change-log entries the workstation could not read and skipped.
    pub skipped_changes: i64,
}

pub fn get(conn: &Connection) -> Result<SyncState, StoreError> {
    Ok(conn.query_row(
        "SELECT cursor, last_sync_at, server_offset_ms, skipped_changes FROM sync_state WHERE id = 1",
        [],
        |row| {
            Ok(SyncState {
                cursor: row.get(0)?,
                last_sync_at: row.get(1)?,
                server_offset_ms: row.get(2)?,
                skipped_changes: row.get(3)?,
            })
        },
    )?)
}

/// Knowledge-base articles left out of the pulls on a metered link: the
/// cursor to fetch them from (`only=kb_article`), and how many wait.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KbWaiting {
    pub cursor: String,
    pub changes: u64,
    pub bytes: u64,
}

/// What waits, if articles are being left out.
pub fn kb_waiting(conn: &Connection) -> Result<Option<KbWaiting>, StoreError> {
    Ok(conn.query_row(
        "SELECT kb_cursor, kb_waiting_changes, kb_waiting_bytes FROM sync_state WHERE id = 1",
        [],
        |row| {
            Ok(row.get::<_, Option<String>>(0)?.map(|cursor| KbWaiting {
                cursor,
                changes: row.get::<_, i64>(1).map(|n| n.max(0) as u64).unwrap_or(0),
                bytes: row.get::<_, i64>(2).map(|n| n.max(0) as u64).unwrap_or(0),
            }))
        },
    )?)
}

/// Records (in the page's transaction) that a page left articles out:
/// the first such page sets where to fetch them from, every one adds its count.
pub fn note_kb_left_out(
    tx: &Connection,
    from_cursor: &str,
    changes: u64,
    bytes: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE sync_state SET kb_cursor = COALESCE(kb_cursor, ?1), \
         kb_waiting_changes = kb_waiting_changes + ?2, \
         kb_waiting_bytes = kb_waiting_bytes + ?3 WHERE id = 1",
        params![
            from_cursor,
            i64::try_from(changes).unwrap_or(i64::MAX),
            i64::try_from(bytes).unwrap_or(i64::MAX)
        ],
    )?;
    Ok(())
}

/// Moves the fetch position of the waiting articles on (in the page's
/// transaction), or, with `None`, ends the wait: everything was fetched.
pub fn set_kb_cursor(tx: &Connection, cursor: Option<&str>) -> Result<(), StoreError> {
    match cursor {
        Some(cursor) => tx.execute(
            "UPDATE sync_state SET kb_cursor = ?1 WHERE id = 1 AND kb_cursor IS NOT NULL",
            params![cursor],
        )?,
        None => tx.execute(
            "UPDATE sync_state SET kb_cursor = NULL, kb_waiting_changes = 0, \
             kb_waiting_bytes = 0 WHERE id = 1",
            [],
        )?,
    };
    Ok(())
}

/// Stores the cursor of a page just applied, in the page's transaction.
pub fn set_cursor(tx: &Connection, cursor: Option<&str>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE sync_state SET cursor = ?1 WHERE id = 1",
        params![cursor],
    )?;
    Ok(())
}

pub fn note_skipped(tx: &Connection, n: usize) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE sync_state SET skipped_changes = skipped_changes + ?1 WHERE id = 1",
        params![n as i64],
    )?;
    Ok(())
}

pub fn set_synced(
    tx: &Connection,
    at: UnixMillis,
    server_offset_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE sync_state SET last_sync_at = ?1, server_offset_ms = ?2 WHERE id = 1",
        params![at, server_offset_ms],
    )?;
    Ok(())
}

pub fn session(conn: &Connection) -> Result<Option<Session>, StoreError> {
    let json: Option<String> =
        conn.query_row("SELECT session FROM sync_state WHERE id = 1", [], |row| {
            row.get(0)
        })?;
    json.map(|j| from_json("sync_state.session", &j))
        .transpose()
}

pub fn set_session(tx: &Connection, session: Option<&Session>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE sync_state SET session = ?1 WHERE id = 1",
        params![session.map(to_json)],
    )?;
    Ok(())
}

/// The Argon2 verifier of the agent's password (PHC string), kept so the
/// screen lock opens offline; `None` after sign-out.
pub fn unlock_verifier(conn: &Connection) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT unlock_verifier FROM sync_state WHERE id = 1",
            [],
            |row| row.get(0),
        )
        .optional()?
        .flatten())
}

pub fn set_unlock_verifier(tx: &Connection, verifier: Option<&str>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE sync_state SET unlock_verifier = ?1 WHERE id = 1",
        params![verifier],
    )?;
    Ok(())
}

/// Keeps the presence the agent had when the screen locked, unless one is
/// kept already (locking twice keeps the first). `true` when it was kept
/// now.
pub fn remember_presence_before_lock(
    tx: &Connection,
    presence: Presence,
) -> Result<bool, StoreError> {
    let changed = tx.execute(
        "UPDATE sync_state SET presence_before_lock = ?1
         WHERE id = 1 AND presence_before_lock IS NULL",
        params![to_json(&presence)],
    )?;
    Ok(changed == 1)
}

/// Takes (reads and clears) the presence kept when the screen locked.
pub fn take_presence_before_lock(tx: &Connection) -> Result<Option<Presence>, StoreError> {
    let before = tx
        .query_row(
            "SELECT presence_before_lock FROM sync_state WHERE id = 1",
            [],
            |row| row.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten();
    tx.execute(
        "UPDATE sync_state SET presence_before_lock = NULL WHERE id = 1",
        [],
    )?;
    before
        .map(|json| from_json("sync_state", &json))
        .transpose()
}

/// Keeps the refresh token of a session the agent ended while the platform
/// could not be told; it is told at the agent's next online sign-in.
pub fn note_ended_session(
    tx: &Connection,
    refresh_token: &str,
    at: UnixMillis,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR IGNORE INTO ended_sessions (refresh_token, ended_at) VALUES (?1, ?2)",
        params![refresh_token, at],
    )?;
    Ok(())
}

/// Refresh tokens of sessions ended offline, oldest first.
pub fn ended_sessions(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement =
        conn.prepare("SELECT refresh_token FROM ended_sessions ORDER BY ended_at, refresh_token")?;
    let tokens = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(tokens)
}

/// The platform was told that this session ended.
pub fn forget_ended_session(tx: &Connection, refresh_token: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM ended_sessions WHERE refresh_token = ?1",
        params![refresh_token],
    )?;
    Ok(())
}
