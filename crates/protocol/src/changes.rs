//! The change log: an ordered stream of upserts and tombstones that a
//! workstation replays into its local store.
//!
//! On the wire a change is flat — `{"seq", "op", "entity", "id", "data"}` —
//! so any client can read it; in Rust it is the typed [`ChangeBody`]. A
//! tombstone (`op = "delete"`) has no `data`.

use serde::{Deserialize, Serialize};

use crate::entities::*;

/// Which kind of record a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Conversation,
    Message,
    Customer,
    KbArticle,
    CannedReply,
    Script,
    Scenario,
    AgentProfile,
    Queue,
}

impl EntityKind {
    pub const ALL: [EntityKind; 9] = [
        EntityKind::Conversation,
        EntityKind::Message,
        EntityKind::Customer,
        EntityKind::KbArticle,
        EntityKind::CannedReply,
        EntityKind::Script,
        EntityKind::Scenario,
        EntityKind::AgentProfile,
        EntityKind::Queue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Conversation => "conversation",
            EntityKind::Message => "message",
            EntityKind::Customer => "customer",
            EntityKind::KbArticle => "kb_article",
            EntityKind::CannedReply => "canned_reply",
            EntityKind::Script => "script",
            EntityKind::Scenario => "scenario",
            EntityKind::AgentProfile => "agent_profile",
            EntityKind::Queue => "queue",
        }
    }

    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A full record of one kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Conversation(Conversation),
    Message(Message),
    Customer(Customer),
    KbArticle(KbArticle),
    CannedReply(CannedReply),
    Script(Script),
    Scenario(Scenario),
    AgentProfile(AgentProfile),
    Queue(Queue),
}

impl Record {
    pub fn kind(&self) -> EntityKind {
        match self {
            Record::Conversation(_) => EntityKind::Conversation,
            Record::Message(_) => EntityKind::Message,
            Record::Customer(_) => EntityKind::Customer,
            Record::KbArticle(_) => EntityKind::KbArticle,
            Record::CannedReply(_) => EntityKind::CannedReply,
            Record::Script(_) => EntityKind::Script,
            Record::Scenario(_) => EntityKind::Scenario,
            Record::AgentProfile(_) => EntityKind::AgentProfile,
            Record::Queue(_) => EntityKind::Queue,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Record::Conversation(r) => &r.id,
            Record::Message(r) => &r.id,
            Record::Customer(r) => &r.id,
            Record::KbArticle(r) => &r.id,
            Record::CannedReply(r) => &r.id,
            Record::Script(r) => &r.id,
            Record::Scenario(r) => &r.id,
            Record::AgentProfile(r) => &r.code,
            Record::Queue(r) => &r.id,
        }
    }

    /// The record as a JSON value (its `data` on the wire).
    pub fn to_json(&self) -> serde_json::Value {
        fn v<T: Serialize>(t: &T) -> serde_json::Value {
            // Serializing these plain structs cannot fail: no maps with
            // non-string keys, no custom serializers.
            serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
        }
        match self {
            Record::Conversation(r) => v(r),
            Record::Message(r) => v(r),
            Record::Customer(r) => v(r),
            Record::KbArticle(r) => v(r),
            Record::CannedReply(r) => v(r),
            Record::Script(r) => v(r),
            Record::Scenario(r) => v(r),
            Record::AgentProfile(r) => v(r),
            Record::Queue(r) => v(r),
        }
    }

    /// Reads `data` of the given kind; the error names the offending field.
    pub fn from_json(kind: EntityKind, data: serde_json::Value) -> Result<Record, String> {
        fn r<T: serde::de::DeserializeOwned>(data: serde_json::Value) -> Result<T, String> {
            serde_path_to_error::deserialize(data).map_err(|e| {
                let path = e.path().to_string();
                if path == "." {
                    e.inner().to_string()
                } else {
                    format!("{path}: {}", e.inner())
                }
            })
        }
        Ok(match kind {
            EntityKind::Conversation => Record::Conversation(r(data)?),
            EntityKind::Message => Record::Message(r(data)?),
            EntityKind::Customer => Record::Customer(r(data)?),
            EntityKind::KbArticle => Record::KbArticle(r(data)?),
            EntityKind::CannedReply => Record::CannedReply(r(data)?),
            EntityKind::Script => Record::Script(r(data)?),
            EntityKind::Scenario => Record::Scenario(r(data)?),
            EntityKind::AgentProfile => Record::AgentProfile(r(data)?),
            EntityKind::Queue => Record::Queue(r(data)?),
        })
    }
}

/// What happened to one record.
// Most changes are upserts, so boxing the record would only add an
// allocation per change.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeBody {
    Upsert(Record),
    /// The record is gone (or no longer visible to this agent): drop it.
    Delete {
        entity: EntityKind,
        id: String,
    },
}

impl ChangeBody {
    /// The kind of record the entry is about.
    pub fn kind(&self) -> EntityKind {
        match self {
            ChangeBody::Upsert(record) => record.kind(),
            ChangeBody::Delete { entity, .. } => *entity,
        }
    }
}

/// One entry of the change log. `seq` grows strictly along the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireChange", into = "WireChange")]
pub struct Change {
    pub seq: u64,
    pub body: ChangeBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Upsert,
    Delete,
}

/// The flat wire form of a [`Change`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireChange {
    seq: u64,
    op: ChangeOp,
    entity: EntityKind,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<serde_json::Value>,
}

impl TryFrom<WireChange> for Change {
    type Error = String;

    fn try_from(w: WireChange) -> Result<Self, Self::Error> {
        let body = match (w.op, w.data) {
            (ChangeOp::Delete, None) => ChangeBody::Delete {
                entity: w.entity,
                id: w.id,
            },
            (ChangeOp::Delete, Some(_)) => return Err("data: a delete carries no data".into()),
            (ChangeOp::Upsert, None) => return Err("data: an upsert needs data".into()),
            (ChangeOp::Upsert, Some(data)) => {
                let record = Record::from_json(w.entity, data).map_err(|e| format!("data.{e}"))?;
                if record.id() != w.id {
                    return Err(format!(
                        "id: {:?} does not match the record's own id {:?}",
                        w.id,
                        record.id()
                    ));
                }
                ChangeBody::Upsert(record)
            }
        };
        Ok(Change { seq: w.seq, body })
    }
}

impl From<Change> for WireChange {
    fn from(c: Change) -> Self {
        match c.body {
            ChangeBody::Upsert(record) => WireChange {
                seq: c.seq,
                op: ChangeOp::Upsert,
                entity: record.kind(),
                id: record.id().to_owned(),
                data: Some(record.to_json()),
            },
            ChangeBody::Delete { entity, id } => WireChange {
                seq: c.seq,
                op: ChangeOp::Delete,
                entity,
                id,
                data: None,
            },
        }
    }
}

/// The position of a cursor past the first sync, `INSTANCE.SEQ`: (the
/// platform database it belongs to, the log position). `None` for a cursor
/// of a first sync still under way (three parts) or any other form. The
/// cursor is otherwise opaque; a workstation reads it only to tell whether
/// the changes carried by an event follow it (protocol.md §7).
pub fn cursor_position(cursor: &str) -> Option<(&str, u64)> {
    let (instance, seq) = cursor.split_once('.')?;
    if instance.is_empty() || seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((instance, seq.parse().ok()?))
}

/// `GET /v1/changes` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// Pass this as `cursor` for the next page (or the next sync). Opaque.
    pub next_cursor: String,
    /// More changes are waiting: ask again at once.
    pub has_more: bool,
    pub server_time: UnixMillis,
    /// With `except`: the entries of the excepted kinds this page's range
    /// held and left out (a workstation on a metered link fetches them
    /// later with `only`). Absent without `except`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<Deferred>,
    /// The sync scope's window (docs/decisions/0035-sync-scope.md): an
    /// agent's PC keeps its own resolved conversations whose last message
    /// is at most this many days before `server_time`, and deletes older
    /// ones itself. Absent for supervisors (their PCs keep everything of
    /// their queues, as long as retention allows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_days: Option<u32>,
}

/// What a page of changes left out at the workstation's request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deferred {
    /// Entries left out.
    pub changes: u64,
    /// Their size as stored (uncompressed JSON), roughly what they would
    /// cost before compression.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::cursor_position;

    #[test]
    fn only_a_cursor_past_the_first_sync_has_a_position() {
        assert_eq!(cursor_position("f3a9.120"), Some(("f3a9", 120)));
        assert_eq!(cursor_position("f3a9.120.400"), None);
        assert_eq!(cursor_position("f3a9"), None);
        assert_eq!(cursor_position(".12"), None);
        assert_eq!(cursor_position("f3a9."), None);
        assert_eq!(cursor_position("f3a9.+1"), None);
        assert_eq!(cursor_position("f3a9.99999999999999999999999"), None);
    }
}
