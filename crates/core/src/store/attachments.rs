//! Photos kept on this PC (table `media_blobs`): the thumbnails the sync
//! fetched for the agent's conversations, full images fetched when the agent
//! opened them, and photos the agent attached that are not uploaded yet;
//! the photos waiting in a composer (`drafts.attachments`); and the photos
//! the platform would not give (`media_refusals`).
//!
//! A conversation that leaves the PC takes its photos and draft with it
//! ([`forget_conversation`]).
//!
//! Invariants: a thumbnail of an open (not resolved) conversation or of a
//! canned reply is never evicted, nor a local photo that a draft, the outbox, a pending message or
//! an undismissed refusal still names ([`evict`]). What to fetch and when is
//! decided by the sync engine (`sync::media`); the budget by
//! [`crate::photos`].

use homedesk_protocol::{Attachment, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, from_json, to_json};

/// Which copy of a photo a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The platform's thumbnail (a JPEG of at most 30 KB).
    Thumb,
    /// The platform's full image.
    Full,
    /// A photo the agent attached, as chosen, not uploaded yet.
    Local,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Thumb => "thumb",
            Variant::Full => "full",
            Variant::Local => "local",
        }
    }
}

/// A photo's bytes and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub media_type: String,
    pub data: Vec<u8>,
}

/// One kept photo, or `None`.
pub fn get(conn: &Connection, id: &str, variant: Variant) -> Result<Option<Blob>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT media_type, data FROM media_blobs WHERE id = ?1 AND variant = ?2",
            params![id, variant.as_str()],
            |row| {
                Ok(Blob {
                    media_type: row.get(0)?,
                    data: row.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Keeps a photo (replacing an earlier copy of the same id and variant)
/// and forgets any refusal to give it.
pub fn put(
    tx: &Connection,
    id: &str,
    variant: Variant,
    blob: &Blob,
    now: UnixMillis,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO media_blobs (id, variant, media_type, size, data, fetched_at, last_used_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (id, variant) DO UPDATE SET media_type = excluded.media_type,
             size = excluded.size, data = excluded.data, fetched_at = excluded.fetched_at,
             last_used_at = excluded.last_used_at",
        params![
            id,
            variant.as_str(),
            blob.media_type,
            blob.data.len() as i64,
            blob.data,
            now
        ],
    )?;
    tx.execute(
        "DELETE FROM media_refusals WHERE id = ?1 AND variant = ?2",
        params![id, variant.as_str()],
    )?;
    Ok(())
}

/// The photo was shown: it goes to the back of the eviction line. Only
/// when it was last used more than `every` ms ago, so showing a thread
/// writes nothing each time.
pub fn touch(
    tx: &Connection,
    id: &str,
    variant: Variant,
    now: UnixMillis,
    every: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE media_blobs SET last_used_at = ?3
         WHERE id = ?1 AND variant = ?2 AND last_used_at <= ?3 - ?4",
        params![id, variant.as_str(), now, every],
    )?;
    Ok(())
}

/// Thumbnails the agent's open conversations and the canned replies show
/// and this PC does not have, newest message first (canned replies last),
/// at most `limit`; photos refused `max_refusals` times are not asked for
/// again. "The agent's" means assigned to `me`: the unassigned
/// conversations of a shared queue would cost every agent's link the same
/// thumbnails (they load when opened).
pub fn missing_thumbnails(
    conn: &Connection,
    me: &str,
    max_refusals: i64,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT photo FROM (
             SELECT photo, max(newest) AS newest FROM (
                 SELECT json_extract(a.value, '$.id') AS photo, m.sent_at AS newest
                 FROM conversations c
                 JOIN messages m ON m.conversation_id = c.id,
                      json_each(m.data, '$.attachments') a
                 WHERE c.status <> 'resolved' AND c.assigned_to = ?1 AND m.pending_key IS NULL
                 UNION ALL
                 SELECT json_extract(attachment, '$.id'), 0 FROM canned_replies
                 WHERE attachment IS NOT NULL)
             GROUP BY photo)
         WHERE photo NOT LIKE 'local-%'
           AND NOT EXISTS (SELECT 1 FROM media_blobs b WHERE b.id = photo AND b.variant = 'thumb')
           AND NOT EXISTS (SELECT 1 FROM media_refusals r
                           WHERE r.id = photo AND r.variant = 'thumb' AND r.refusals >= ?2)
         ORDER BY newest DESC, photo
         LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![me, max_refusals, limit as i64], |row| {
        row.get::<_, String>(0)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The platform would not give this photo (`error` says why).
pub fn note_refusal(
    tx: &Connection,
    id: &str,
    variant: Variant,
    error: &str,
    now: UnixMillis,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO media_refusals (id, variant, refusals, last_error, last_refused_at)
         VALUES (?1, ?2, 1, ?3, ?4)
         ON CONFLICT (id, variant) DO UPDATE SET refusals = refusals + 1,
             last_error = excluded.last_error, last_refused_at = excluded.last_refused_at",
        params![id, variant.as_str(), error, now],
    )?;
    Ok(())
}

/// What the photo cache holds, per variant: (count, bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub thumbs: (u64, u64),
    pub full: (u64, u64),
    pub local: (u64, u64),
}

impl Usage {
    pub fn total_bytes(&self) -> u64 {
        self.thumbs.1 + self.full.1 + self.local.1
    }
}

pub fn usage(conn: &Connection) -> Result<Usage, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT variant, count(*), coalesce(sum(size), 0) FROM media_blobs GROUP BY variant",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    let mut usage = Usage::default();
    for row in rows {
        let (variant, count, bytes) = row?;
        let slot = match variant.as_str() {
            "thumb" => &mut usage.thumbs,
            "full" => &mut usage.full,
            _ => &mut usage.local,
        };
        *slot = (count.max(0) as u64, bytes.max(0) as u64);
    }
    Ok(usage)
}

/// What [`evict`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evicted {
    pub photos: usize,
    pub bytes: u64,
}

/// Brings the cache under `budget` bytes by removing the least recently
/// used photos that may go: full images, local photos nothing names any
/// more, thumbnails no open conversation or canned reply shows. Never
/// `keep` (the photo being served), never a thumbnail of an open
/// conversation or a canned reply, never a local
/// photo a draft, the outbox, a pending message or an undismissed refusal
/// names. The cache may stay over budget when only such photos are left.
pub fn evict(tx: &Connection, budget: u64, keep: (&str, Variant)) -> Result<Evicted, StoreError> {
    let mut total = usage(tx)?.total_bytes();
    let mut evicted = Evicted::default();
    if total <= budget {
        return Ok(evicted);
    }
    let candidates: Vec<(String, String, i64)> = {
        let mut stmt = tx.prepare_cached(
            "WITH shown AS (
                 SELECT json_extract(a.value, '$.id') AS photo
                 FROM conversations c
                 JOIN messages m ON m.conversation_id = c.id,
                      json_each(m.data, '$.attachments') a
                 WHERE c.status <> 'resolved'
                 UNION SELECT json_extract(attachment, '$.id') FROM canned_replies
                 WHERE attachment IS NOT NULL),
             held AS (
                 SELECT json_extract(a.value, '$.id') AS photo
                 FROM outbox o, json_each(o.action, '$.attachments') a
                 UNION SELECT json_extract(a.value, '$.id')
                 FROM drafts d, json_each(d.attachments) a
                 UNION SELECT json_extract(a.value, '$.id')
                 FROM messages m, json_each(m.data, '$.attachments') a
                 WHERE m.pending_key IS NOT NULL
                 UNION SELECT json_extract(a.value, '$.id')
                 FROM conflicts c, json_each(c.action, '$.attachments') a
                 WHERE c.dismissed_at IS NULL)
             SELECT b.id, b.variant, b.size FROM media_blobs b
             WHERE NOT (b.id = ?1 AND b.variant = ?2)
               AND (b.variant = 'full'
                    OR (b.variant = 'local' AND b.id NOT IN (SELECT photo FROM held))
                    OR (b.variant = 'thumb' AND b.id NOT IN (SELECT photo FROM shown)))
             ORDER BY b.last_used_at, b.fetched_at, b.id",
        )?;
        let rows = stmt.query_map(params![keep.0, keep.1.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, variant, size) in candidates {
        if total <= budget {
            break;
        }
        tx.execute(
            "DELETE FROM media_blobs WHERE id = ?1 AND variant = ?2",
            params![id, variant],
        )?;
        let size = size.max(0) as u64;
        total = total.saturating_sub(size);
        evicted.photos += 1;
        evicted.bytes += size;
    }
    Ok(evicted)
}

/// A conversation leaves this PC (out of the agent's sight, or past the
/// platform's retention): its draft, and every photo its messages or draft
/// name that nothing else on this PC names (another conversation's
/// message, a canned reply, the outbox, another draft, a refusal still
/// shown). Call before its messages are deleted.
pub fn forget_conversation(tx: &Connection, conversation_id: &str) -> Result<(), StoreError> {
    let photos: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "SELECT json_extract(a.value, '$.id')
             FROM messages m, json_each(m.data, '$.attachments') a
             WHERE m.conversation_id = ?1
             UNION SELECT json_extract(a.value, '$.id')
             FROM drafts d, json_each(d.attachments) a
             WHERE d.conversation_id = ?1",
        )?;
        let rows = stmt.query_map(params![conversation_id], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    tx.execute(
        "DELETE FROM drafts WHERE conversation_id = ?1",
        params![conversation_id],
    )?;
    forget_unnamed(tx, &photos, conversation_id, "")
}

/// A message leaves this PC: the photos it names that nothing else names.
/// Call before it is deleted.
pub fn forget_message(tx: &Connection, message_id: &str) -> Result<(), StoreError> {
    let photos: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "SELECT json_extract(a.value, '$.id')
             FROM messages m, json_each(m.data, '$.attachments') a WHERE m.id = ?1",
        )?;
        let rows = stmt.query_map(params![message_id], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    forget_unnamed(tx, &photos, "", message_id)
}

/// Deletes each of `photos` (every variant) unless something other than
/// the conversation or message going names it.
fn forget_unnamed(
    tx: &Connection,
    photos: &[String],
    conversation_id: &str,
    message_id: &str,
) -> Result<(), StoreError> {
    let mut named_elsewhere = tx.prepare_cached(
        "SELECT 1 FROM messages m, json_each(m.data, '$.attachments') a
         WHERE m.conversation_id <> ?2 AND m.id <> ?3 AND json_extract(a.value, '$.id') = ?1
         UNION ALL SELECT 1 FROM canned_replies
         WHERE json_extract(attachment, '$.id') = ?1
         UNION ALL SELECT 1 FROM outbox o, json_each(o.action, '$.attachments') a
         WHERE json_extract(a.value, '$.id') = ?1
         UNION ALL SELECT 1 FROM drafts d, json_each(d.attachments) a
         WHERE json_extract(a.value, '$.id') = ?1
         UNION ALL SELECT 1 FROM conflicts c, json_each(c.action, '$.attachments') a
         WHERE c.dismissed_at IS NULL AND json_extract(a.value, '$.id') = ?1
         LIMIT 1",
    )?;
    for photo in photos {
        let kept = named_elsewhere
            .query_row(params![photo, conversation_id, message_id], |_| Ok(()))
            .optional()?
            .is_some();
        if !kept {
            tx.execute("DELETE FROM media_blobs WHERE id = ?1", params![photo])?;
            tx.execute("DELETE FROM media_refusals WHERE id = ?1", params![photo])?;
        }
    }
    Ok(())
}

/// The photos attached in a conversation's composer, in order.
pub fn draft_attachments(
    conn: &Connection,
    conversation_id: &str,
) -> Result<Vec<Attachment>, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT attachments FROM drafts WHERE conversation_id = ?1",
            params![conversation_id],
            |row| row.get(0),
        )
        .optional()?;
    json.map_or(Ok(Vec::new()), |json| from_json("drafts", &json))
}

/// Sets the photos of a conversation's composer, keeping its text; a draft
/// left with neither is removed.
pub fn set_draft_attachments(
    tx: &Connection,
    conversation_id: &str,
    attachments: &[Attachment],
    now: UnixMillis,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO drafts (conversation_id, body, updated_at, attachments) VALUES (?1, '', ?2, ?3)
         ON CONFLICT (conversation_id) DO UPDATE SET attachments = excluded.attachments,
             updated_at = excluded.updated_at",
        params![conversation_id, now, to_json(&attachments)],
    )?;
    super::views::drop_empty_draft(tx, conversation_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn blob(n: usize) -> Blob {
        Blob {
            media_type: "image/jpeg".into(),
            data: vec![7; n],
        }
    }

    fn photo(n: u8) -> String {
        format!("{n:02x}").repeat(32)
    }

    fn message_with(tx: &Connection, conversation: &str, status: &str, photo_id: &str) {
        let conversation_json = serde_json::json!({"id": conversation});
        tx.execute(
            "INSERT OR IGNORE INTO conversations (id, queue, status, assigned_to, channel, priority,
                 customer_id, last_message_at, server, data)
             VALUES (?1, 'q', ?2, 'a1', 'web', 'normal', 'cu', 1, NULL, ?3)",
            params![conversation, status, conversation_json.to_string()],
        )
        .expect("conversation");
        let message = serde_json::json!({
            "id": format!("m-{photo_id}"), "conversation_id": conversation,
            "attachments": [{"id": photo_id}],
        });
        tx.execute(
            "INSERT INTO messages (id, conversation_id, sent_at, pending_key, data)
             VALUES (?1, ?2, 1, NULL, ?3)",
            params![format!("m-{photo_id}"), conversation, message.to_string()],
        )
        .expect("message");
    }

    #[test]
    fn eviction_takes_the_least_recently_used_full_images_and_spares_open_thumbnails() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(
            dir.path().join("a.sqlite"),
            &crate::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store");
        store
            .write(|tx| {
                message_with(tx, "open", "active", &photo(1));
                message_with(tx, "done", "resolved", &photo(2));
                // An open conversation's thumbnail, used longest ago.
                put(tx, &photo(1), Variant::Thumb, &blob(100), 1)?;
                // A resolved conversation's thumbnail.
                put(tx, &photo(2), Variant::Thumb, &blob(100), 5)?;
                put(tx, &photo(3), Variant::Full, &blob(1000), 2)?;
                put(tx, &photo(4), Variant::Full, &blob(1000), 3)?;
                // Opened again later: the older full image goes first.
                touch(tx, &photo(3), Variant::Full, 9, 0)?;
                put(tx, &photo(5), Variant::Full, &blob(1000), 10)?;
                Ok::<_, StoreError>(())
            })
            .expect("fill");
        let evicted = store
            .write(|tx| evict(tx, 2300, (&photo(5), Variant::Full)))
            .expect("evict");
        assert_eq!(evicted.photos, 1, "one full image is enough: {evicted:?}");
        let kept = |id: &str, variant| store.read(|c| get(c, id, variant)).expect("read");
        assert!(
            kept(&photo(4), Variant::Full).is_none(),
            "least recently used"
        );
        assert!(
            kept(&photo(3), Variant::Full).is_some(),
            "opened again later"
        );
        let evicted = store
            .write(|tx| evict(tx, 0, (&photo(5), Variant::Full)))
            .expect("evict all");
        assert_eq!(evicted.photos, 2, "{evicted:?}");
        assert!(
            kept(&photo(1), Variant::Thumb).is_some(),
            "an open conversation's thumbnail is never evicted"
        );
        assert!(
            kept(&photo(2), Variant::Thumb).is_none(),
            "a resolved one is"
        );
        assert!(
            kept(&photo(5), Variant::Full).is_some(),
            "the one being served"
        );
    }

    #[test]
    fn a_local_photo_stays_while_a_draft_names_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(
            dir.path().join("a.sqlite"),
            &crate::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store");
        let local = format!("local-{}", photo(9));
        let attachment = Attachment {
            id: local.clone(),
            media_type: "image/png".into(),
            bytes: 10,
            width: 1,
            height: 1,
        };
        store
            .write(|tx| {
                put(tx, &local, Variant::Local, &blob(10), 1)?;
                set_draft_attachments(tx, "c1", std::slice::from_ref(&attachment), 1)
            })
            .expect("attach");
        store
            .write(|tx| evict(tx, 0, (&photo(1), Variant::Full)))
            .expect("evict");
        assert!(
            store
                .read(|c| get(c, &local, Variant::Local))
                .expect("read")
                .is_some(),
            "the composer still shows it"
        );
        store
            .write(|tx| set_draft_attachments(tx, "c1", &[], 2))
            .expect("remove");
        assert_eq!(
            store.read(|c| draft_attachments(c, "c1")).expect("read"),
            Vec::new()
        );
        store
            .write(|tx| evict(tx, 0, (&photo(1), Variant::Full)))
            .expect("evict");
        assert!(
            store
                .read(|c| get(c, &local, Variant::Local))
                .expect("read")
                .is_none(),
            "nothing names it any more"
        );
    }

    #[test]
    fn a_refused_photo_reply_gives_its_text_and_photos_back_to_the_composer() {
        use homedesk_protocol::{Action, ActionCode, ActionResult, ActionStatus};
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(
            dir.path().join("a.sqlite"),
            &crate::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store");
        let photo = Attachment {
            id: format!("local-{}", photo(7)),
            media_type: "image/jpeg".into(),
            bytes: 10,
            width: 2,
            height: 2,
        };
        let reply = Action::Reply {
            conversation_id: "c1".into(),
            message_id: "m1".into(),
            body: "尺码表请看图".into(),
            attachments: vec![photo.clone()],
        };
        let key = store
            .write(|tx| {
                set_draft_attachments(tx, "c1", std::slice::from_ref(&photo), 1)?;
                super::super::outbox::enqueue(tx, "a1", reply, 2)
            })
            .expect("queued")
            .key;
        assert_eq!(
            store.read(|c| draft_attachments(c, "c1")).expect("read"),
            Vec::new(),
            "sent: the composer is empty"
        );
        let refused = ActionResult::refused(
            &key,
            ActionStatus::Rejected,
            ActionCode::Invalid,
            "not an image",
        );
        store
            .write(|tx| super::super::outbox::record_results(tx, &[refused], "a1", 3))
            .expect("recorded");
        assert_eq!(
            store.read(|c| draft_attachments(c, "c1")).expect("read"),
            vec![photo],
            "the photo is back in the composer"
        );
        assert_eq!(
            store
                .read(|c| super::super::views::draft(c, "c1"))
                .expect("read")
                .as_deref(),
            Some("尺码表请看图")
        );
    }
}
