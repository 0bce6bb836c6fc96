//! Applying the platform's change log to the local store, and showing the
//! agent's own not-yet-acknowledged actions on top of it.
//!
//! A conversation row keeps the last copy the platform sent (`server`) and
//! the copy the agent sees (`data`) = `server` with every pending outbox
//! action for that conversation applied in order ([`rebuild_conversation`]).
//! So a pulled page never hides what the agent just did, and an action the
//! platform refused disappears from the view as soon as it leaves the outbox.

use homedesk_protocol::rules::{self, Actor};
use homedesk_protocol::{
    Action, Change, ChangeBody, Conversation, EntityKind, Record, Role, UnixMillis, preview,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, from_json, to_json};
use crate::search;

/// Applies one change of a pulled page. `me` is the signed-in agent.
pub fn apply_change(tx: &Connection, change: &Change, me: &str) -> Result<(), StoreError> {
    match &change.body {
        ChangeBody::Upsert(record) => upsert_record(tx, record, me),
        ChangeBody::Delete { entity, id } => delete(tx, *entity, id),
    }
}

/// The articles a page writes, in its order (to index them on two cores:
/// `search::with_prepared_articles`).
pub fn kb_articles(changes: &[Change]) -> Vec<&homedesk_protocol::KbArticle> {
    changes
        .iter()
        .filter_map(|change| match &change.body {
            ChangeBody::Upsert(Record::KbArticle(article)) => Some(article),
            _ => None,
        })
        .collect()
}

/// A customer message the workstation had not seen, in a conversation
/// assigned to this agent: worth a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomerMessage {
    pub conversation_id: String,
    pub subject: String,
    /// The message shortened to one line.
    pub preview: String,
}

/// Most notifications one pulled page may raise; a flood after a long
/// offline spell is summarised by the queue, not by 200 pop-ups.
const MAX_NEWS_PER_PAGE: usize = 5;

/// `Some` when `change` brings a customer message not yet stored. Call
/// before applying the change.
pub fn new_customer_message(
    tx: &Connection,
    change: &Change,
) -> Result<Option<NewCustomerMessage>, StoreError> {
    let ChangeBody::Upsert(Record::Message(m)) = &change.body else {
        return Ok(None);
    };
    if m.author != homedesk_protocol::Author::Customer {
        return Ok(None);
    }
    let known = tx
        .query_row(
            "SELECT 1 FROM messages WHERE id = ?1",
            params![m.id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    Ok((!known).then(|| NewCustomerMessage {
        conversation_id: m.conversation_id.clone(),
        subject: String::new(),
        preview: preview(&m.body),
    }))
}

/// A colleague's internal note, not yet stored, that mentions this agent
/// (`@code`, [`homedesk_protocol::mentions`]): worth a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMention {
    pub conversation_id: String,
    pub subject: String,
    /// Agent code of who wrote it.
    pub by: String,
    pub preview: String,
}

/// `Some` when `change` brings a note by someone else that mentions `me`
/// and is not stored yet. Call before applying the change.
pub fn new_mention(
    tx: &Connection,
    change: &Change,
    me: &str,
) -> Result<Option<NewMention>, StoreError> {
    let ChangeBody::Upsert(Record::Message(m)) = &change.body else {
        return Ok(None);
    };
    let by = match (&m.kind, &m.agent) {
        (homedesk_protocol::MessageKind::Note, Some(by)) if by != me => by,
        _ => return Ok(None),
    };
    if !homedesk_protocol::mentions(&m.body).contains(&me) {
        return Ok(None);
    }
    let known = tx
        .query_row(
            "SELECT 1 FROM messages WHERE id = ?1",
            params![m.id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if known {
        return Ok(None);
    }
    let subject: Option<String> = tx
        .query_row(
            "SELECT json_extract(data, '$.subject') FROM conversations WHERE id = ?1",
            params![m.conversation_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(Some(NewMention {
        conversation_id: m.conversation_id.clone(),
        subject: subject.unwrap_or_default(),
        by: by.clone(),
        preview: preview(&m.body),
    }))
}

/// Keeps the messages whose conversation is (now) assigned to `me`, with
/// the conversation's subject filled in; at most [`MAX_NEWS_PER_PAGE`].
pub fn keep_mine(
    tx: &Connection,
    news: Vec<NewCustomerMessage>,
    me: &str,
) -> Result<Vec<NewCustomerMessage>, StoreError> {
    let mut kept = Vec::new();
    for mut message in news {
        let subject: Option<String> = tx
            .query_row(
                "SELECT json_extract(data, '$.subject') FROM conversations
                 WHERE id = ?1 AND assigned_to = ?2 AND status != 'resolved'",
                params![message.conversation_id, me],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(subject) = subject {
            message.subject = subject;
            kept.push(message);
        }
        if kept.len() == MAX_NEWS_PER_PAGE {
            break;
        }
    }
    Ok(kept)
}

/// Writes one record the platform (or an import) provides.
pub fn upsert_record(tx: &Connection, record: &Record, me: &str) -> Result<(), StoreError> {
    match record {
        Record::Conversation(c) => {
            tx.execute(
                "INSERT INTO conversations (id, queue, status, assigned_to, channel, priority,
                     customer_id, last_message_at, server, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                 ON CONFLICT (id) DO UPDATE SET server = excluded.server",
                params![
                    c.id,
                    c.queue,
                    enum_str(&c.status),
                    c.assigned_to,
                    enum_str(&c.channel),
                    enum_str(&c.priority),
                    c.customer_id,
                    c.last_message_at,
                    to_json(c),
                ],
            )?;
            rebuild_conversation(tx, &c.id, me)?;
        }
        Record::Message(m) => {
            // The platform's copy replaces the pending local one (same id).
            tx.execute(
                "INSERT INTO messages (id, conversation_id, sent_at, pending_key, data)
                 VALUES (?1, ?2, ?3, NULL, ?4)
                 ON CONFLICT (id) DO UPDATE SET conversation_id = excluded.conversation_id,
                     sent_at = excluded.sent_at, pending_key = NULL, data = excluded.data",
                params![m.id, m.conversation_id, m.sent_at, to_json(m)],
            )?;
        }
        Record::Customer(c) => {
            upsert_json(tx, "customers", &c.id, &to_json(c))?;
        }
        Record::KbArticle(a) => {
            tx.execute(
                "INSERT OR REPLACE INTO kb_articles (id, locale, title, body, tags, category, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    a.id,
                    a.locale,
                    a.title,
                    a.body,
                    to_json(&a.tags),
                    a.category,
                    a.updated_at
                ],
            )?;
            search::index_article(tx, a)?;
        }
        Record::CannedReply(r) => {
            tx.execute(
                "INSERT OR REPLACE INTO canned_replies
                     (id, locale, title, shortcut, category, body, placeholders, attachment)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    r.id,
                    r.locale,
                    r.title,
                    r.shortcut,
                    r.category,
                    r.body,
                    to_json(&r.placeholders),
                    r.attachment.as_ref().map(to_json)
                ],
            )?;
            search::index_canned_reply(tx, r)?;
        }
        Record::Script(s) => {
            tx.execute(
                "INSERT OR REPLACE INTO scripts (id, locale, data) VALUES (?1, ?2, ?3)",
                params![s.id, s.locale, to_json(s)],
            )?;
        }
        Record::Scenario(s) => {
            tx.execute(
                "INSERT OR REPLACE INTO scenarios (id, locale, data) VALUES (?1, ?2, ?3)",
                params![s.id, s.locale, to_json(s)],
            )?;
        }
        Record::AgentProfile(p) => upsert_json(tx, "agent_profiles", &p.code, &to_json(p))?,
        Record::Queue(q) => upsert_json(tx, "queues", &q.id, &to_json(q))?,
    }
    Ok(())
}

fn upsert_json(tx: &Connection, table: &str, id: &str, data: &str) -> Result<(), StoreError> {
    // `table` is one of our own constants, never input.
    tx.execute(
        &format!("INSERT OR REPLACE INTO {table} (id, data) VALUES (?1, ?2)"),
        params![id, data],
    )?;
    Ok(())
}

/// Ages this PC's resolved conversations out of the sync scope
/// (docs/decisions/0035-sync-scope.md): each resolved one whose last message
/// is before `cutoff` goes as a platform tombstone would take it (thread,
/// draft, photos, delivered replies), unless an action for it still waits in
/// the outbox; then each of their customers no conversation here names any
/// more. No bytes on the wire: the platform sends nothing when a
/// conversation merely grows old. Returns how many conversations went.
pub fn prune_aged(tx: &Connection, cutoff: UnixMillis) -> Result<usize, StoreError> {
    let due: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT id, customer_id FROM conversations c
             WHERE status = 'resolved' AND last_message_at < ?1
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.conversation_id = c.id)",
        )?;
        stmt.query_map(params![cutoff], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    for (id, _) in &due {
        delete(tx, EntityKind::Conversation, id)?;
    }
    for (_, customer) in &due {
        tx.execute(
            "DELETE FROM customers WHERE id = ?1
                 AND NOT EXISTS (SELECT 1 FROM conversations WHERE customer_id = ?1)",
            params![customer],
        )?;
    }
    Ok(due.len())
}

fn delete(tx: &Connection, entity: EntityKind, id: &str) -> Result<(), StoreError> {
    match entity {
        EntityKind::Conversation => {
            // Gone from this agent's sight, or resolved longer ago than the
            // platform's retention (PIPL): the conversation, its thread, its
            // draft and photos go, and the record of replies delivered for
            // it. Actions still in the outbox for it are delivered anyway;
            // the platform decides, and a refusal comes back as a conflict
            // (kept while undismissed, unless the conversation was over).
            let resolved = tx
                .query_row(
                    "SELECT status = 'resolved' FROM conversations WHERE id = ?1",
                    params![id],
                    |row| row.get::<_, bool>(0),
                )
                .optional()?
                .unwrap_or(false);
            // A refusal still shown keeps the text it gave back to the
            // composer (a colleague took the conversation, so it left this
            // PC's sync scope): the agent opens it on demand and finds the
            // words there. Its photos go with the conversation.
            let kept_text: Option<(String, UnixMillis)> = if resolved {
                None
            } else {
                tx.query_row(
                    "SELECT d.body, d.updated_at FROM drafts d
                     WHERE d.conversation_id = ?1 AND d.body != ''
                       AND EXISTS (SELECT 1 FROM conflicts c
                                   WHERE c.conversation_id = ?1 AND c.dismissed_at IS NULL)",
                    params![id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?
            };
            super::attachments::forget_conversation(tx, id)?;
            if let Some((body, at)) = kept_text {
                super::views::save_draft(tx, id, &body, at)?;
            }
            tx.execute(
                "DELETE FROM delivered WHERE json_extract(action, '$.conversation_id') = ?1",
                params![id],
            )?;
            tx.execute(
                "DELETE FROM conflicts WHERE conversation_id = ?1
                     AND (dismissed_at IS NOT NULL OR ?2)",
                params![id, resolved],
            )?;
            tx.execute("DELETE FROM conversations WHERE id = ?1", params![id])?;
            tx.execute(
                "DELETE FROM messages WHERE conversation_id = ?1",
                params![id],
            )?;
        }
        EntityKind::Message => {
            super::attachments::forget_message(tx, id)?;
            tx.execute("DELETE FROM messages WHERE id = ?1", params![id])?;
        }
        EntityKind::Customer => {
            tx.execute("DELETE FROM customers WHERE id = ?1", params![id])?;
        }
        EntityKind::KbArticle => {
            tx.execute("DELETE FROM kb_articles WHERE id = ?1", params![id])?;
            search::remove_article(tx, id)?;
        }
        EntityKind::CannedReply => {
            tx.execute("DELETE FROM canned_replies WHERE id = ?1", params![id])?;
            search::remove_canned_reply(tx, id)?;
        }
        EntityKind::Script => {
            tx.execute("DELETE FROM scripts WHERE id = ?1", params![id])?;
        }
        EntityKind::Scenario => {
            tx.execute("DELETE FROM scenarios WHERE id = ?1", params![id])?;
        }
        EntityKind::AgentProfile => {
            tx.execute("DELETE FROM agent_profiles WHERE id = ?1", params![id])?;
        }
        EntityKind::Queue => {
            tx.execute("DELETE FROM queues WHERE id = ?1", params![id])?;
        }
    }
    Ok(())
}

/// Recomputes what the agent sees of one conversation: the platform's last
/// copy with every pending outbox action for it applied in order. A
/// conversation the platform never sent (or took away) and that has no
/// pending action is removed from the view.
pub fn rebuild_conversation(tx: &Connection, id: &str, me: &str) -> Result<(), StoreError> {
    let server: Option<Option<String>> = tx
        .query_row(
            "SELECT server FROM conversations WHERE id = ?1",
            params![id],
            |row| row.get(0),
        )
        .optional()?;
    let Some(Some(server)) = server else {
        tx.execute("DELETE FROM conversations WHERE id = ?1", params![id])?;
        return Ok(());
    };
    let mut view: Conversation = from_json("conversations", &server)?;
    let mut pending = tx.prepare_cached(
        "SELECT created_at, action FROM outbox WHERE conversation_id = ?1 ORDER BY seq",
    )?;
    let rows = pending.query_map(params![id], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (created_at, action) = row?;
        let action: Action = from_json("outbox", &action)?;
        apply_action(&mut view, &action, created_at, me);
    }
    tx.execute(
        "UPDATE conversations SET queue = ?2, status = ?3, assigned_to = ?4, channel = ?5,
             priority = ?6, customer_id = ?7, last_message_at = ?8, data = ?9
         WHERE id = ?1",
        params![
            view.id,
            view.queue,
            enum_str(&view.status),
            view.assigned_to,
            enum_str(&view.channel),
            enum_str(&view.priority),
            view.customer_id,
            view.last_message_at,
            to_json(&view),
        ],
    )?;
    Ok(())
}

/// What an agent action does to a conversation as the agent sees it before
/// the platform confirms: the platform's own rule ([`rules::apply`]), so the
/// view shows what the platform will make of it. An action the rule refuses
/// here leaves the view as it is; it is delivered anyway, and the
/// platform's verdict comes back as a conflict. If the platform disagrees,
/// the action leaves the outbox and [`rebuild_conversation`] shows the
/// platform's copy again.
pub fn apply_action(c: &mut Conversation, action: &Action, at: UnixMillis, me: &str) {
    // Whatever is in the local store, the platform showed this agent: they
    // may see it, as far as their own view goes.
    let queues = [c.queue.clone()];
    let actor = Actor {
        code: me,
        role: Role::Agent,
        queues: &queues,
    };
    if let Ok(effects) = rules::apply(c, &actor, action, at)
        && let Some(after) = effects.conversation
    {
        *c = after;
    }
}

/// The snake_case wire name of a unit enum value (`"active"`, `"chat"`).
pub(crate) fn enum_str<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use homedesk_protocol::{
        ActionCode, ActionResult, ActionStatus, Author, Channel, ConversationStatus, Message,
        MessageKind, Priority,
    };

    use super::*;
    use crate::store::{Store, outbox, views};

    fn conversation(id: &str, version: u64) -> Conversation {
        Conversation {
            id: id.into(),
            channel: Channel::Chat,
            queue: "aftersales".into(),
            customer_id: "cust-1".into(),
            subject: "退款".into(),
            category: None,
            status: ConversationStatus::Queued,
            assigned_to: None,
            priority: Priority::Normal,
            created_at: 1,
            first_response_due: 10,
            resolve_due: 100,
            first_response_at: None,
            last_message_at: 1,
            last_message_preview: "在吗".into(),
            disposition: None,
            version,
        }
    }

    fn upsert(seq: u64, record: Record) -> Change {
        Change {
            seq,
            body: ChangeBody::Upsert(record),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(
            dir.path().join("s.sqlite"),
            &crate::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store");
        (dir, store)
    }

    #[test]
    fn a_stale_pulled_copy_does_not_hide_what_the_agent_just_did() {
        let (_dir, store) = store();
        store
            .write(|tx| {
                apply_change(
                    tx,
                    &upsert(1, Record::Conversation(conversation("c1", 1))),
                    "a1",
                )
            })
            .expect("pull");
        store
            .write(|tx| {
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::Claim {
                        conversation_id: "c1".into(),
                    },
                    5,
                )
            })
            .expect("claim");
        // The platform has not seen the claim yet and sends a newer copy.
        let mut newer = conversation("c1", 2);
        newer.last_message_preview = "还在吗".into();
        store
            .write(|tx| apply_change(tx, &upsert(2, Record::Conversation(newer)), "a1"))
            .expect("pull");
        let view = store
            .read(|c| views::conversation(c, "c1"))
            .expect("read")
            .expect("there");
        assert_eq!(
            view.assigned_to.as_deref(),
            Some("a1"),
            "still shown as mine"
        );
        assert_eq!(
            view.last_message_preview, "还在吗",
            "and the platform's news is there"
        );
    }

    /// The local view follows the platform's rule (`protocol::rules`): a
    /// reply wakes a conversation waiting on the customer, and a claim of a
    /// conversation a colleague holds shows nothing it will not do.
    #[test]
    fn the_local_view_shows_what_the_platform_will_make_of_an_action() {
        let (_dir, store) = store();
        let mut waiting = conversation("c1", 3);
        waiting.status = ConversationStatus::Pending;
        waiting.assigned_to = Some("a1".into());
        let mut taken = conversation("c2", 3);
        taken.status = ConversationStatus::Active;
        taken.assigned_to = Some("a2".into());
        store
            .write(|tx| {
                apply_change(tx, &upsert(1, Record::Conversation(waiting)), "a1")?;
                apply_change(tx, &upsert(2, Record::Conversation(taken)), "a1")?;
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::Reply {
                        conversation_id: "c1".into(),
                        message_id: "m-1".into(),
                        body: "您好，已为您查到".into(),
                        attachments: Vec::new(),
                    },
                    5,
                )?;
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::Claim {
                        conversation_id: "c2".into(),
                    },
                    6,
                )
            })
            .expect("act");
        let view = |id: &str| {
            store
                .read(|c| views::conversation(c, id))
                .expect("read")
                .expect("there")
        };
        let replied = view("c1");
        assert_eq!(
            replied.status,
            ConversationStatus::Active,
            "a reply wakes a pending conversation"
        );
        assert_eq!(replied.version, 4, "one pending change, one version");
        assert_eq!(
            view("c2").assigned_to.as_deref(),
            Some("a2"),
            "a claim the platform will refuse does not show as done"
        );
        assert_eq!(
            store.read(outbox::count).expect("count"),
            2,
            "both still go to the platform, which decides"
        );
    }

    #[test]
    fn a_refused_reply_returns_to_the_composer_ahead_of_what_was_typed_since() {
        let (_dir, store) = store();
        store
            .write(|tx| {
                apply_change(
                    tx,
                    &upsert(1, Record::Conversation(conversation("c1", 1))),
                    "a1",
                )
            })
            .expect("pull");
        let sent = store
            .write(|tx| {
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::Reply {
                        conversation_id: "c1".into(),
                        message_id: "m1".into(),
                        body: "亲，已为您登记退款".into(),
                        attachments: Vec::new(),
                    },
                    5,
                )
            })
            .expect("reply");
        let shown = store.read(|c| views::messages(c, "c1")).expect("thread");
        assert_eq!(shown.len(), 1);
        assert!(shown[0].pending);
        store
            .write(|tx| views::save_draft(tx, "c1", "还有别的问题吗", 6))
            .expect("draft");
        let refused = ActionResult::refused(
            &sent.key,
            ActionStatus::Conflict,
            ActionCode::NotAssigned,
            "conversation c1 is held by a1002",
        );
        let recorded = store
            .write(|tx| outbox::record_results(tx, std::slice::from_ref(&refused), "a1", 7))
            .expect("record");
        assert_eq!(recorded.conflicts, vec![sent.key.clone()]);
        assert_eq!(
            store
                .read(|c| views::draft(c, "c1"))
                .expect("draft")
                .as_deref(),
            Some("亲，已为您登记退款\n\n还有别的问题吗")
        );
        assert!(
            store
                .read(|c| views::messages(c, "c1"))
                .expect("thread")
                .is_empty()
        );
        let conflicts = store.read(views::conflicts).expect("conflicts");
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].code.as_deref(), Some("not_assigned"));
        // Recording the same answer again changes nothing.
        let again = store
            .write(|tx| outbox::record_results(tx, &[refused], "a1", 8))
            .expect("record");
        assert_eq!(again, outbox::Recorded::default());
        assert!(
            store
                .write(|tx| views::dismiss_conflict(tx, conflicts[0].id, 9))
                .expect("dismiss")
        );
        assert!(store.read(views::conflicts).expect("conflicts").is_empty());
    }

    #[test]
    fn the_platforms_copy_of_a_message_replaces_the_pending_one() {
        let (_dir, store) = store();
        let sent = store
            .write(|tx| {
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::Reply {
                        conversation_id: "c1".into(),
                        message_id: "m1".into(),
                        body: "好的".into(),
                        attachments: Vec::new(),
                    },
                    5,
                )
            })
            .expect("reply");
        store
            .write(|tx| outbox::record_results(tx, &[ActionResult::applied(&sent.key)], "a1", 6))
            .expect("ack");
        let confirmed = Message {
            id: "m1".into(),
            conversation_id: "c1".into(),
            author: Author::Agent,
            agent: Some("a1".into()),
            kind: MessageKind::Text,
            body: "好的".into(),
            sent_at: 7,
            attachments: Vec::new(),
            delivery: None,
        };
        store
            .write(|tx| apply_change(tx, &upsert(3, Record::Message(confirmed)), "a1"))
            .expect("pull");
        let thread = store.read(|c| views::messages(c, "c1")).expect("thread");
        assert_eq!(thread.len(), 1, "one message, not two");
        assert!(!thread[0].pending);
        assert_eq!(store.read(outbox::count).expect("count"), 0);
    }

    #[test]
    fn a_conversation_that_leaves_sight_takes_its_thread_with_it() {
        let (_dir, store) = store();
        store
            .write(|tx| {
                apply_change(
                    tx,
                    &upsert(1, Record::Conversation(conversation("c1", 1))),
                    "a1",
                )?;
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::InternalNote {
                        conversation_id: "c1".into(),
                        message_id: "n1".into(),
                        body: "客户情绪激动".into(),
                    },
                    2,
                )?;
                apply_change(
                    tx,
                    &Change {
                        seq: 2,
                        body: ChangeBody::Delete {
                            entity: EntityKind::Conversation,
                            id: "c1".into(),
                        },
                    },
                    "a1",
                )
            })
            .expect("apply");
        assert!(
            store
                .read(|c| views::conversation(c, "c1"))
                .expect("read")
                .is_none()
        );
        assert!(
            store
                .read(|c| views::messages(c, "c1"))
                .expect("read")
                .is_empty()
        );
        assert_eq!(
            store.read(outbox::count).expect("count"),
            1,
            "the note is still delivered"
        );
    }

    #[test]
    fn an_applied_claim_stays_shown_until_the_platform_sends_the_conversation_back() {
        let (_dir, store) = store();
        store
            .write(|tx| {
                apply_change(
                    tx,
                    &upsert(1, Record::Conversation(conversation("c1", 1))),
                    "a1",
                )
            })
            .expect("pull");
        let sent = store
            .write(|tx| {
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::Claim {
                        conversation_id: "c1".into(),
                    },
                    5,
                )
            })
            .expect("claim");
        store
            .write(|tx| outbox::record_results(tx, &[ActionResult::applied(&sent.key)], "a1", 6))
            .expect("verdict");
        let view = store
            .read(|c| views::conversation(c, "c1"))
            .expect("read")
            .expect("there");
        assert_eq!(
            view.assigned_to.as_deref(),
            Some("a1"),
            "acknowledged but not yet pulled, the conversation is still shown as mine \
             (the queue row must not flip back to 领取)"
        );
        let mut claimed = conversation("c1", 2);
        claimed.assigned_to = Some("a1".into());
        claimed.status = ConversationStatus::Active;
        store
            .write(|tx| apply_change(tx, &upsert(2, Record::Conversation(claimed)), "a1"))
            .expect("pull");
        let view = store
            .read(|c| views::conversation(c, "c1"))
            .expect("read")
            .expect("there");
        assert_eq!(
            view.version, 2,
            "the platform's copy takes over once pulled"
        );
    }

    #[test]
    fn an_applied_presence_shows_before_the_platform_sends_the_profile_back() {
        let (_dir, store) = store();
        let me = homedesk_protocol::AgentProfile {
            code: "a1".into(),
            name: "王丽".into(),
            role: homedesk_protocol::Role::Agent,
            queues: vec!["aftersales".into()],
            skills: vec![],
            max_chats: 3,
            presence: homedesk_protocol::Presence::Offline,
            presence_reason: None,
        };
        store
            .write(|tx| apply_change(tx, &upsert(1, Record::AgentProfile(me)), "a1"))
            .expect("pull");
        let sent = store
            .write(|tx| {
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::Presence {
                        presence: homedesk_protocol::Presence::Busy,
                    },
                    5,
                )
            })
            .expect("presence");
        store
            .write(|tx| outbox::record_results(tx, &[ActionResult::applied(&sent.key)], "a1", 6))
            .expect("verdict");
        let json: String = store
            .read(|c| {
                c.query_row(
                    "SELECT json_extract(data, '$.presence') FROM agent_profiles WHERE id = 'a1'",
                    [],
                    |row| row.get(0),
                )
            })
            .expect("read");
        assert_eq!(
            json, "busy",
            "out of the outbox and not yet pulled, the presence is still the agent's choice \
             (the screen lock remembers it)"
        );
    }

    /// The sync scope's ageing (docs/decisions/0035-sync-scope.md): a
    /// resolved conversation whose last message is before the cutoff leaves
    /// the PC with its thread and (when it was their last) its customer; a
    /// recent one, an open one and one with an action still in the outbox
    /// stay.
    #[test]
    fn resolved_conversations_past_the_window_are_pruned_here() {
        let (_dir, store) = store();
        let resolved = |id: &str, customer: &str, last: i64| {
            let mut c = conversation(id, 2);
            c.status = ConversationStatus::Resolved;
            c.assigned_to = Some("a1".into());
            c.customer_id = customer.into();
            c.last_message_at = last;
            c
        };
        let mut open = conversation("open", 1);
        open.customer_id = "k-shared".into();
        let records = [
            Record::Conversation(resolved("old", "k-old", 10)),
            Record::Conversation(resolved("old-shared", "k-shared", 10)),
            Record::Conversation(resolved("old-pending", "k-pending", 10)),
            Record::Conversation(resolved("recent", "k-recent", 1_000)),
            Record::Conversation(open),
            Record::Message(Message {
                id: "m-old".into(),
                conversation_id: "old".into(),
                author: Author::Customer,
                agent: None,
                kind: MessageKind::Text,
                body: "上个月的".into(),
                sent_at: 10,
                attachments: Vec::new(),
                delivery: None,
            }),
        ];
        let customers = ["k-old", "k-shared", "k-pending", "k-recent"].map(|id| {
            Record::Customer(homedesk_protocol::Customer {
                id: id.into(),
                name: "顾客".into(),
                phone_masked: "138****0000".into(),
                city: None,
                orders: Vec::new(),
            })
        });
        store
            .write(|tx| {
                for (seq, record) in records.iter().chain(customers.iter()).enumerate() {
                    apply_change(tx, &upsert(seq as u64 + 1, record.clone()), "a1")?;
                }
                outbox::enqueue(
                    tx,
                    "a1",
                    Action::InternalNote {
                        conversation_id: "old-pending".into(),
                        message_id: "note-1".into(),
                        body: "补一句".into(),
                    },
                    5,
                )?;
                Ok::<_, StoreError>(())
            })
            .expect("pulled");
        let pruned = store.write(|tx| prune_aged(tx, 500)).expect("pruned");
        assert_eq!(
            pruned, 2,
            "old and old-shared; old-pending waits for its note"
        );
        let here = |sql: &str, id: &str| {
            store
                .read(|c| Ok::<_, StoreError>(c.query_row(sql, [id], |r| r.get::<_, i64>(0))?))
                .expect("count")
        };
        let conversation_here = |id| here("SELECT count(*) FROM conversations WHERE id = ?1", id);
        let customer_here = |id| here("SELECT count(*) FROM customers WHERE id = ?1", id);
        assert_eq!(conversation_here("old"), 0, "aged out");
        assert_eq!(
            here(
                "SELECT count(*) FROM messages WHERE conversation_id = ?1",
                "old"
            ),
            0,
            "with its thread"
        );
        assert_eq!(customer_here("k-old"), 0, "and its customer");
        assert_eq!(
            customer_here("k-shared"),
            1,
            "a customer with an open conversation here stays"
        );
        for id in ["old-pending", "recent", "open"] {
            assert_eq!(conversation_here(id), 1, "{id} stays");
        }
    }
}
