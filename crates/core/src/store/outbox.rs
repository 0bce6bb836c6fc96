//! The outbox: agent actions saved locally until the platform acknowledges
//! them, each with the idempotency key it is sent with on every attempt.
//!
//! [`enqueue`] is the only way an agent action enters the store, and it does
//! everything in the caller's transaction: the outbox entry, the pending
//! message (for a reply or note) and the conversation as the agent now sees
//! it. [`record_results`] takes the platform's verdicts: acknowledged entries
//! leave the outbox; a refused reply is folded back into the composer draft
//! and a conflict the UI shows, never dropped.

use homedesk_protocol::rules;
use homedesk_protocol::{Action, ActionEnvelope, ActionResult, ActionStatus, UnixMillis};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::records::{enum_str, rebuild_conversation};
use super::{StoreError, from_json, to_json};

/// A new idempotency key: 128 random bits, hex, with a readable prefix.
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("act-{hex}")
}

/// Saves an agent action and shows its effect at once. Runs inside the
/// caller's transaction, so both happen or neither does.
pub fn enqueue(
    tx: &Connection,
    me: &str,
    action: Action,
    now: UnixMillis,
) -> Result<ActionEnvelope, StoreError> {
    let envelope = ActionEnvelope {
        key: new_key(),
        created_at: now,
        action,
    };
    let conversation = envelope.action.conversation_id().map(str::to_owned);
    super::worklog::note_action(tx, &envelope.action, now)?;
    tx.execute(
        "INSERT INTO outbox (key, conversation_id, created_at, action) VALUES (?1, ?2, ?3, ?4)",
        params![
            envelope.key,
            conversation,
            envelope.created_at,
            to_json(&envelope.action)
        ],
    )?;
    if let Some(message) = rules::agent_message(&envelope.action, me, now) {
        tx.execute(
            "INSERT INTO messages (id, conversation_id, sent_at, pending_key, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                message.id,
                message.conversation_id,
                message.sent_at,
                envelope.key,
                to_json(&message)
            ],
        )?;
        // What the agent sent is no longer a draft.
        tx.execute(
            "DELETE FROM drafts WHERE conversation_id = ?1",
            params![message.conversation_id],
        )?;
    }
    if let Some(conversation) = &conversation {
        rebuild_conversation(tx, conversation, me)?;
    }
    Ok(envelope)
}

/// The oldest pending actions, in the order the agent took them.
pub fn pending(conn: &Connection, limit: usize) -> Result<Vec<ActionEnvelope>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT key, created_at, action FROM outbox ORDER BY seq LIMIT ?1")?;
    let rows = stmt.query_map(params![limit as i64], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key, created_at, action) = row?;
        out.push(ActionEnvelope {
            key,
            created_at,
            action: from_json("outbox", &action)?,
        });
    }
    Ok(out)
}

pub fn count(conn: &Connection) -> Result<u32, StoreError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Replies to customers still waiting in the outbox (the app does not
/// restart for an update while there is one).
pub fn pending_replies(conn: &Connection) -> Result<u32, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE json_extract(action, '$.type') = 'reply'",
        [],
        |row| row.get(0),
    )?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// This agent's actions on one conversation not yet acknowledged (the
/// queue view's "pending" badge).
pub fn pending_for_conversation(
    conn: &Connection,
    conversation_id: &str,
) -> Result<u32, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE conversation_id = ?1",
        params![conversation_id],
        |row| row.get(0),
    )?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The latest presence the agent chose that still waits in the outbox: it
/// counts over what the platform last said.
pub fn pending_presence(
    conn: &Connection,
) -> Result<Option<homedesk_protocol::Presence>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT action FROM outbox WHERE json_extract(action, '$.type') = 'presence'
             ORDER BY seq DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    match json
        .map(|json| from_json::<Action>("outbox", &json))
        .transpose()?
    {
        Some(Action::Presence { presence }) => Ok(Some(presence)),
        _ => Ok(None),
    }
}

/// Notes a failed delivery attempt of these entries (shown by
/// `homedesk-cli outbox list`).
pub fn note_attempt(tx: &Connection, keys: &[String], error: &str) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE key = ?1",
    )?;
    for key in keys {
        stmt.execute(params![key, error])?;
    }
    Ok(())
}

/// What [`record_results`] did, for the engine's events.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub acknowledged: usize,
    /// Conflicts raised (keys), to tell the agent.
    pub conflicts: Vec<String>,
}

/// Takes the platform's verdicts for delivered entries. Unknown keys (an
/// answer recorded already) are ignored, so recording twice is harmless.
pub fn record_results(
    tx: &Connection,
    results: &[ActionResult],
    me: &str,
    now: UnixMillis,
) -> Result<Recorded, StoreError> {
    let mut recorded = Recorded::default();
    for result in results {
        let entry: Option<(Option<String>, i64, String)> = tx
            .query_row(
                "SELECT conversation_id, created_at, action FROM outbox WHERE key = ?1",
                params![result.key],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((conversation, created_at, action_json)) = entry else {
            continue;
        };
        // A duplicate carries the first verdict; that is the one that counts.
        let verdict = match (&result.status, &result.original) {
            (ActionStatus::Duplicate, Some(original)) => original.as_ref(),
            _ => result,
        };
        tx.execute(
            "INSERT OR REPLACE INTO delivered (key, action, status, code, message, created_at, delivered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                result.key,
                action_json,
                enum_str(&verdict.status),
                verdict.code.as_ref().map(enum_str),
                verdict.message,
                created_at,
                now
            ],
        )?;
        tx.execute("DELETE FROM outbox WHERE key = ?1", params![result.key])?;
        recorded.acknowledged += 1;
        if verdict.status == ActionStatus::Applied {
            keep_own_presence(tx, &action_json, me)?;
        }
        if matches!(
            verdict.status,
            ActionStatus::Conflict | ActionStatus::Rejected
        ) {
            let action: Action = from_json("outbox", &action_json)?;
            if !already_as_wanted(&action, verdict) {
                fold_back(tx, &result.key, &action, verdict, now)?;
                recorded.conflicts.push(result.key.clone());
            }
        }
        // An applied action's effect is already in the view, and the
        // platform's copy that includes it comes with the next pull:
        // rebuilding now from the older copy would show the conversation as
        // it was before (a claimed row flips back to 领取 for a moment).
        // A refused action is taken out of the view here.
        if let Some(conversation) = conversation
            && verdict.status != ActionStatus::Applied
        {
            rebuild_conversation(tx, &conversation, me)?;
        }
    }
    // Keep the delivery history bounded: the newest 5 000 answers.
    tx.execute(
        "DELETE FROM delivered WHERE key IN (
             SELECT key FROM delivered ORDER BY delivered_at DESC, rowid DESC LIMIT -1 OFFSET 5000)",
        [],
    )?;
    Ok(recorded)
}

/// An applied presence change leaves the outbox now, but the platform's
/// copy of the profile arrives only with the next pull: the local profile
/// takes it at once, so the desk never shows (or remembers, for the screen
/// lock) the presence from before.
fn keep_own_presence(tx: &Connection, action_json: &str, me: &str) -> Result<(), StoreError> {
    if let Action::Presence { presence } = from_json("outbox", action_json)? {
        tx.execute(
            "UPDATE agent_profiles SET data = json_set(data, '$.presence', ?2) WHERE id = ?1",
            params![me, enum_str(&presence)],
        )?;
    }
    Ok(())
}

/// A refusal that leaves things as the agent wanted them: declining an
/// offer that had already ended (e.g. withdrawn when a locked desk went
/// away). Nothing to tell the agent.
fn already_as_wanted(action: &Action, verdict: &ActionResult) -> bool {
    matches!(action, Action::DeclineOffer { .. })
        && verdict.code == Some(homedesk_protocol::ActionCode::OfferExpired)
}

/// A refused action comes back to the agent: a reply's text returns to the
/// composer (before anything already typed there) and a conflict explains why.
fn fold_back(
    tx: &Connection,
    key: &str,
    action: &Action,
    verdict: &ActionResult,
    now: UnixMillis,
) -> Result<(), StoreError> {
    super::worklog::action_refused(tx, action)?;
    let (returned_photos, reply) = match action {
        Action::Reply {
            conversation_id,
            body,
            attachments,
            ..
        } => (attachments.as_slice(), Some((conversation_id, body))),
        Action::InternalNote {
            conversation_id,
            body,
            ..
        } => (&[][..], Some((conversation_id, body))),
        _ => (&[][..], None),
    };
    if let Some((conversation_id, body)) = reply {
        tx.execute("DELETE FROM messages WHERE pending_key = ?1", params![key])?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT body FROM drafts WHERE conversation_id = ?1",
                params![conversation_id],
                |row| row.get(0),
            )
            .optional()?;
        let draft = match existing {
            // A reply of photos alone gives back no text.
            Some(typed) if body.trim().is_empty() => typed,
            Some(typed) if !typed.trim().is_empty() => format!("{body}\n\n{typed}"),
            _ => body.clone(),
        };
        super::views::save_draft(tx, conversation_id, &draft, now)?;
        // Its photos come back to the composer too, ahead of any attached since.
        if !returned_photos.is_empty() {
            let mut photos = returned_photos.to_vec();
            for photo in super::attachments::draft_attachments(tx, conversation_id)? {
                if !photos.iter().any(|p| p.id == photo.id) {
                    photos.push(photo);
                }
            }
            super::attachments::set_draft_attachments(tx, conversation_id, &photos, now)?;
        }
    }
    let message = verdict
        .message
        .clone()
        .unwrap_or_else(|| "the platform did not accept this action".to_owned());
    tx.execute(
        "INSERT OR IGNORE INTO conflicts (key, conversation_id, action, code, message, created_at, params)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            key,
            action.conversation_id(),
            to_json(action),
            verdict.code.as_ref().map(enum_str),
            message,
            now,
            (!verdict.params.is_empty()).then(|| to_json(&verdict.params))
        ],
    )?;
    Ok(())
}

/// Puts the platform's records of a reply's photos in place of the local
/// ones once they are uploaded; the key, and so the exactly-once delivery,
/// is unchanged. `false` when the entry is gone or is not a reply.
pub fn replace_attachments(
    tx: &Connection,
    key: &str,
    uploaded: &[homedesk_protocol::Attachment],
) -> Result<bool, StoreError> {
    let json: Option<String> = tx
        .query_row(
            "SELECT action FROM outbox WHERE key = ?1",
            params![key],
            |row| row.get(0),
        )
        .optional()?;
    let Some(json) = json else {
        return Ok(false);
    };
    let mut action: Action = from_json("outbox", &json)?;
    let Action::Reply { attachments, .. } = &mut action else {
        return Ok(false);
    };
    *attachments = uploaded.to_vec();
    tx.execute(
        "UPDATE outbox SET action = ?2 WHERE key = ?1",
        params![key, to_json(&action)],
    )?;
    Ok(true)
}

/// One outbox entry as troubleshooting shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub key: String,
    pub conversation_id: Option<String>,
    pub created_at: UnixMillis,
    pub action: serde_json::Value,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub fn list(conn: &Connection, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, key, conversation_id, created_at, action, attempts, last_error
         FROM outbox ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit as i64], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, i64>(5)?,
            row.get::<_, Option<String>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, key, conversation_id, created_at, action, attempts, last_error) = row?;
        out.push(OutboxEntry {
            seq,
            key,
            conversation_id,
            created_at,
            action: from_json("outbox", &action)?,
            attempts,
            last_error,
        });
    }
    Ok(out)
}
