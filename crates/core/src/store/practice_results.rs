//! The practice history (`practice_results`, in the trainee's own store, or
//! an in-memory store for practice without signing in): finished practice
//! contacts with their score reports, and which of them the platform has taken as training records.
//! A result is written once (the same contact again is ignored) and only
//! `uploaded_at` changes afterwards.

use homedesk_protocol::{TrainingRecord, UnixMillis};
use rusqlite::{Connection, params};

use super::StoreError;
use crate::practice::session::PracticeResult;

/// Saves a finished contact and its report (JSON); a second save of the
/// same id changes nothing.
pub fn save(tx: &Connection, result: &PracticeResult, report: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR IGNORE INTO practice_results
             (id, scenario_id, title, pack_id, exam, percent, passed, finished_at, report)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            result.id,
            result.scenario_id,
            result.title,
            result.pack_id,
            result.exam,
            result.percent,
            result.passed,
            result.finished_at,
            report
        ],
    )?;
    Ok(())
}

/// The newest `limit` results, newest first.
pub fn newest(conn: &Connection, limit: usize) -> Result<Vec<PracticeResult>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT id, scenario_id, title, pack_id, exam, percent, passed, finished_at
         FROM practice_results ORDER BY finished_at DESC, id LIMIT ?1",
    )?;
    let rows = statement.query_map(params![limit as i64], |r| {
        Ok(PracticeResult {
            id: r.get(0)?,
            scenario_id: r.get(1)?,
            title: r.get(2)?,
            pack_id: r.get(3)?,
            exam: r.get(4)?,
            percent: r.get(5)?,
            passed: r.get(6)?,
            finished_at: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Results the platform has not taken yet, as training records (at most
/// `limit`, oldest first).
pub fn not_uploaded(conn: &Connection, limit: usize) -> Result<Vec<TrainingRecord>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT id, scenario_id, title, pack_id, exam, percent, passed, finished_at, report
         FROM practice_results WHERE uploaded_at IS NULL
         ORDER BY finished_at, id LIMIT ?1",
    )?;
    let rows = statement.query_map(params![limit as i64], |r| {
        let report: String = r.get(8)?;
        let report: serde_json::Value =
            serde_json::from_str(&report).unwrap_or(serde_json::Value::Null);
        let finished_at: i64 = r.get(7)?;
        let duration_ms = report["durationSecs"].as_i64().unwrap_or(0) * 1000;
        Ok(TrainingRecord {
            id: r.get(0)?,
            scenario_id: r.get(1)?,
            scenario_title: r.get(2)?,
            pack_id: r.get(3)?,
            exam: r.get(4)?,
            percent: r.get::<_, u32>(5)?.min(100) as u8,
            passed: r.get(6)?,
            started_at: finished_at - duration_ms,
            finished_at,
            report,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Notes that the platform took these records at `now`.
pub fn mark_uploaded(tx: &Connection, ids: &[String], now: UnixMillis) -> Result<(), StoreError> {
    for id in ids {
        tx.execute(
            "UPDATE practice_results SET uploaded_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
    }
    Ok(())
}

/// Every row as stored (moving an older version's history file).
pub fn all_rows(conn: &Connection) -> Result<Vec<Vec<rusqlite::types::Value>>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT id, scenario_id, title, pack_id, exam, percent, passed, finished_at, report,
                uploaded_at
         FROM practice_results ORDER BY finished_at, id",
    )?;
    let rows = statement.query_map([], |r| (0..10).map(|i| r.get(i)).collect())?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Inserts rows read by [`all_rows`]; ids already there are kept as they are.
pub fn insert_rows(
    tx: &Connection,
    rows: &[Vec<rusqlite::types::Value>],
) -> Result<(), StoreError> {
    for row in rows {
        tx.execute(
            "INSERT OR IGNORE INTO practice_results
                 (id, scenario_id, title, pack_id, exam, percent, passed, finished_at, report,
                  uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params_from_iter(row.iter()),
        )?;
    }
    Ok(())
}
