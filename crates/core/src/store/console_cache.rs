//! The team console's last answers from the platform, one per screen
//! (`team`, `trainees`), so the console shows them with their age when the
//! link is down (`desk::console`).

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// Keeps `json` as the latest answer of screen `name`, fetched at `at`.
pub fn keep(tx: &Connection, name: &str, json: &str, at: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO console_cache (name, json, fetched_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at",
        params![name, json, at],
    )?;
    Ok(())
}

/// The kept answer of screen `name` and when it was fetched.
pub fn kept(c: &Connection, name: &str) -> Result<Option<(String, i64)>, StoreError> {
    Ok(c.query_row(
        "SELECT json, fetched_at FROM console_cache WHERE name = ?1",
        params![name],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()?)
}
