//! What the screens and the CLI read from the local store. Everything here
//! works offline: it reads only the local file.

use homedesk_protocol::{ActionCode, Conversation, Message, RefusalParams, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use ts_rs::TS;

use super::{StoreError, from_json};

/// A message as the thread shows it: `pending` until the platform confirms.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "ThreadMessage.ts")]
pub struct ThreadMessage {
    #[serde(flatten)]
    pub message: Message,
    pub pending: bool,
}

/// Conversations: open and waiting ones first (however old), then resolved
/// ones; each group by most recent activity. `limit` can only cut resolved
/// ones unless there are more open ones than that.
pub fn conversations(conn: &Connection, limit: usize) -> Result<Vec<Conversation>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM conversations
         ORDER BY status = 'resolved', last_message_at DESC, id LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit as i64], |row| row.get::<_, String>(0))?;
    rows.map(|json| from_json("conversations", &json?))
        .collect()
}

/// Every conversation that is not resolved, the longest-waiting first: the
/// work a queue must never hide, however old it is or however many resolved
/// conversations are newer.
pub fn open_conversations(conn: &Connection) -> Result<Vec<Conversation>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM conversations WHERE status <> 'resolved'
         ORDER BY last_message_at, id",
    )?;
    let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|json| from_json("conversations", &json?))
        .collect()
}

pub fn conversation(conn: &Connection, id: &str) -> Result<Option<Conversation>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT data FROM conversations WHERE id = ?1",
            params![id],
            |row| row.get(0),
        )
        .optional()?;
    json.map(|j| from_json("conversations", &j)).transpose()
}

/// The thread of one conversation, oldest first.
pub fn messages(
    conn: &Connection,
    conversation_id: &str,
) -> Result<Vec<ThreadMessage>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT data, pending_key IS NOT NULL FROM messages
         WHERE conversation_id = ?1 ORDER BY sent_at, rowid",
    )?;
    let rows = stmt.query_map(params![conversation_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (json, pending) = row?;
        out.push(ThreadMessage {
            message: from_json("messages", &json)?,
            pending,
        });
    }
    Ok(out)
}

/// A refused action the agent has not dismissed yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub id: i64,
    pub key: String,
    pub conversation_id: Option<String>,
    pub action: serde_json::Value,
    /// The platform's code (`not_assigned`, `already_resolved`, …), if any.
    pub code: Option<String>,
    pub message: String,
    /// What the refusal is about (who holds the conversation, the limit).
    pub params: RefusalParams,
    pub created_at: UnixMillis,
}

/// A refused action as the status bar lists it. The interface explains it
/// from `code` and `params` in its own language; the platform's English
/// `message` is kept for troubleshooting (`homedesk-cli`), never shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConflictView.ts")]
pub struct ConflictView {
    pub id: i64,
    pub conversation_id: Option<String>,
    /// What was refused: the action's type (`reply`, `claim`, `wrap_up`, …).
    pub action: String,
    /// Why, as the platform's closed set of codes; `None` when there was no
    /// code or one this build does not know (the interface then says so in
    /// general words).
    pub code: Option<ActionCode>,
    pub params: RefusalParams,
    /// The name of the colleague in `params.holder`, when this desk knows them.
    pub holder_name: Option<String>,
    pub message: String,
    #[ts(type = "number")]
    pub created_at: UnixMillis,
}

impl From<Conflict> for ConflictView {
    fn from(c: Conflict) -> Self {
        ConflictView {
            id: c.id,
            conversation_id: c.conversation_id,
            action: c.action["type"].as_str().unwrap_or("action").to_owned(),
            code: c
                .code
                .and_then(|code| serde_json::from_value(serde_json::Value::String(code)).ok()),
            params: c.params,
            holder_name: None,
            message: c.message,
            created_at: c.created_at,
        }
    }
}

/// A conflict for the interface, with the holder's name from the local
/// agent profiles.
pub fn conflict_view(conn: &Connection, conflict: Conflict) -> Result<ConflictView, StoreError> {
    let mut view = ConflictView::from(conflict);
    if let Some(holder) = &view.params.holder {
        view.holder_name = conn
            .query_row(
                "SELECT json_extract(data, '$.name') FROM agent_profiles WHERE id = ?1",
                params![holder],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten();
    }
    Ok(view)
}

pub fn conflicts(conn: &Connection) -> Result<Vec<Conflict>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key, conversation_id, action, code, message, created_at, params FROM conflicts
         WHERE dismissed_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, Option<String>>(4)?,
            row.get::<_, String>(5)?,
            row.get::<_, i64>(6)?,
            row.get::<_, Option<String>>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, key, conversation_id, action, code, message, created_at, params) = row?;
        out.push(Conflict {
            id,
            key,
            conversation_id,
            action: from_json("conflicts", &action)?,
            code,
            message,
            params: params
                .map(|json| from_json("conflicts", &json))
                .transpose()?
                .unwrap_or_default(),
            created_at,
        });
    }
    Ok(out)
}

pub fn dismiss_conflict(tx: &Connection, id: i64, now: UnixMillis) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE conflicts SET dismissed_at = ?2 WHERE id = ?1 AND dismissed_at IS NULL",
        params![id, now],
    )?;
    Ok(n == 1)
}

pub fn draft(conn: &Connection, conversation_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT body FROM drafts WHERE conversation_id = ?1",
            params![conversation_id],
            |row| row.get(0),
        )
        .optional()?)
}

/// Saves the composer text of a conversation (its attached photos stay);
/// a draft left with neither text nor photos is removed.
pub fn save_draft(
    tx: &Connection,
    conversation_id: &str,
    body: &str,
    now: UnixMillis,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO drafts (conversation_id, body, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (conversation_id) DO UPDATE SET body = excluded.body,
             updated_at = excluded.updated_at",
        params![conversation_id, body, now],
    )?;
    drop_empty_draft(tx, conversation_id)
}

/// Removes a conversation's draft if it holds neither text nor photos.
pub(crate) fn drop_empty_draft(tx: &Connection, conversation_id: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM drafts WHERE conversation_id = ?1 AND body = '' AND attachments = '[]'",
        params![conversation_id],
    )?;
    Ok(())
}

/// A knowledge-base article ready for the webview: the body is sanitized HTML.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "ArticleView.ts")]
pub struct ArticleView {
    pub id: String,
    pub locale: String,
    pub title: String,
    pub html: String,
    pub tags: Vec<String>,
    pub category: String,
    #[ts(type = "number")]
    pub updated_at: UnixMillis,
}

pub fn article(conn: &Connection, id: &str) -> Result<Option<ArticleView>, StoreError> {
    let row: Option<(String, String, String, String, String, i64)> = conn
        .query_row(
            "SELECT locale, title, body, tags, category, updated_at FROM kb_articles WHERE id = ?1",
            params![id],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                ))
            },
        )
        .optional()?;
    row.map(|(locale, title, body, tags, category, updated_at)| {
        Ok(ArticleView {
            id: id.to_owned(),
            locale,
            title,
            html: crate::markdown::render_article(&body),
            tags: from_json("kb_articles", &tags)?,
            category,
            updated_at,
        })
    })
    .transpose()
}

/// How many rows each kind of local data has (for `sync status`).
pub fn counts(conn: &Connection) -> Result<Vec<(&'static str, i64)>, StoreError> {
    let tables = [
        "conversations",
        "messages",
        "customers",
        "kb_articles",
        "canned_replies",
        "scripts",
        "scenarios",
        "queues",
        "agent_profiles",
    ];
    let mut out = Vec::new();
    for table in tables {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })?;
        out.push((table, n));
    }
    Ok(out)
}
