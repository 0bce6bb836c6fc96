//! The agent's own record of work: "My day" and recently viewed articles.
//!
//! Written in the same transaction as the action it records (see
//! `outbox::enqueue`), so the figures never disagree with what the agent
//! did. Times are the workstation's clock: "today" is the agent's day.
//! A wrap-up the platform refuses is taken out again, so it does not count
//! as handled.

use homedesk_protocol::{Action, UnixMillis};
use rusqlite::{Connection, params};
use serde::Serialize;
use ts_rs::TS;

use super::StoreError;

/// Today's figures for the signed-in agent.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "MyDay.ts")]
pub struct MyDay {
    /// Conversations this agent wrapped up today.
    pub handled: u32,
    /// From the agent's first action on a conversation (claim, reply,
    /// note) to its wrap-up, after-contact work included; `null` when
    /// nothing was handled.
    pub average_handle_secs: Option<f64>,
    /// From the contact's arrival to its first agent reply, for those
    /// handled today that have one.
    pub average_first_response_secs: Option<f64>,
    /// Of those with a first reply, how many came before the SLA deadline.
    pub sla_kept: u32,
    pub sla_total: u32,
}

/// Records that the agent acted on a conversation; a wrap-up stamps it
/// handled.
pub fn note_action(tx: &Connection, action: &Action, now: UnixMillis) -> Result<(), StoreError> {
    let Some(conversation) = action.conversation_id() else {
        return Ok(());
    };
    tx.execute(
        "INSERT OR IGNORE INTO work_log (conversation_id, started_at) VALUES (?1, ?2)",
        params![conversation, now],
    )?;
    if let Action::WrapUp {
        after_contact_secs, ..
    } = action
    {
        tx.execute(
            "UPDATE work_log SET wrapped_up_at = ?2, after_contact_secs = ?3
             WHERE conversation_id = ?1",
            params![conversation, now, after_contact_secs],
        )?;
    }
    Ok(())
}

/// The platform refused `action`: a refused wrap-up is not work handled.
pub fn action_refused(tx: &Connection, action: &Action) -> Result<(), StoreError> {
    if let Action::WrapUp {
        conversation_id, ..
    } = action
    {
        tx.execute(
            "UPDATE work_log SET wrapped_up_at = NULL, after_contact_secs = NULL
             WHERE conversation_id = ?1",
            params![conversation_id],
        )?;
    }
    Ok(())
}

/// The figures for wrap-ups in `[day_start, day_end)`.
pub fn my_day(
    conn: &Connection,
    day_start: UnixMillis,
    day_end: UnixMillis,
) -> Result<MyDay, StoreError> {
    let mut statement = conn.prepare(
        "SELECT w.started_at, w.wrapped_up_at,
                json_extract(c.data, '$.created_at'),
                json_extract(c.data, '$.first_response_at'),
                json_extract(c.data, '$.first_response_due')
         FROM work_log w LEFT JOIN conversations c ON c.id = w.conversation_id
         WHERE w.wrapped_up_at >= ?1 AND w.wrapped_up_at < ?2",
    )?;
    let rows = statement.query_map(params![day_start, day_end], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, Option<i64>>(2)?,
            row.get::<_, Option<i64>>(3)?,
            row.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut handled = 0u32;
    let mut handle_ms = 0i64;
    let mut first_response_ms = 0i64;
    let (mut sla_kept, mut sla_total) = (0u32, 0u32);
    for row in rows {
        let (started, wrapped, created, first_response, due) = row?;
        handled += 1;
        handle_ms += (wrapped - started).max(0);
        if let (Some(created), Some(first)) = (created, first_response) {
            sla_total += 1;
            first_response_ms += (first - created).max(0);
            if due.is_none_or(|due| first <= due) {
                sla_kept += 1;
            }
        }
    }
    let average = |total_ms: i64, n: u32| (n > 0).then(|| total_ms as f64 / 1000.0 / f64::from(n));
    Ok(MyDay {
        handled,
        average_handle_secs: average(handle_ms, handled),
        average_first_response_secs: average(first_response_ms, sla_total),
        sla_kept,
        sla_total,
    })
}

/// One article in "recently viewed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "RecentArticle.ts")]
pub struct RecentArticle {
    pub id: String,
    pub title: String,
    #[ts(type = "number")]
    pub opened_at: UnixMillis,
}

/// How many opened articles are remembered.
const RECENT_ARTICLES_KEPT: i64 = 50;

pub fn note_article_opened(
    tx: &Connection,
    article_id: &str,
    now: UnixMillis,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO recent_articles (article_id, opened_at) VALUES (?1, ?2)
         ON CONFLICT (article_id) DO UPDATE SET opened_at = excluded.opened_at",
        params![article_id, now],
    )?;
    tx.execute(
        "DELETE FROM recent_articles WHERE article_id IN (
             SELECT article_id FROM recent_articles ORDER BY opened_at DESC LIMIT -1 OFFSET ?1)",
        params![RECENT_ARTICLES_KEPT],
    )?;
    Ok(())
}

/// Articles opened most recently first (those since deleted are left out).
pub fn recent_articles(conn: &Connection, limit: usize) -> Result<Vec<RecentArticle>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT r.article_id, a.title, r.opened_at
         FROM recent_articles r JOIN kb_articles a ON a.id = r.article_id
         ORDER BY r.opened_at DESC LIMIT ?1",
    )?;
    let rows = statement.query_map(params![limit as i64], |row| {
        Ok(RecentArticle {
            id: row.get(0)?,
            title: row.get(1)?,
            opened_at: row.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
