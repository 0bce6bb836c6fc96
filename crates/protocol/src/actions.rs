//! Agent actions pushed from the workstation's outbox, and the platform's
//! per-action verdicts.
//!
//! Every action travels in an [`ActionEnvelope`] with an idempotency key the
//! workstation chose when the agent acted. The platform remembers each key
//! (and the verdict it gave) for [`IDEMPOTENCY_RETENTION_DAYS`], so a batch
//! resent after a dropped link is answered `duplicate` with the first
//! verdict, never applied twice. The same key with a different action is
//! refused (`key_reused`).

use serde::{Deserialize, Serialize};

use crate::entities::{Attachment, ConversationStatus, Presence, UnixMillis};

/// How long the platform keeps idempotency keys: longer than a PC may sit
/// offline.
pub const IDEMPOTENCY_RETENTION_DAYS: u32 = 30;

/// Most actions in one `POST /v1/actions`.
pub const MAX_ACTIONS_PER_BATCH: usize = 100;

/// Idempotency keys are 8 to 128 characters of `[A-Za-z0-9._:-]`.
pub fn is_valid_idempotency_key(key: &str) -> bool {
    (8..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Where a transfer sends a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// (No `deny_unknown_fields`: it only affects struct variants, and ts-rs
// cannot read it on an enum.)
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "TransferTarget.ts"))]
pub enum TransferTarget {
    /// Back into a queue, unassigned.
    Queue(String),
    /// Straight to a colleague.
    Agent(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Take an unassigned conversation.
    Claim {
        conversation_id: String,
    },
    /// Give a conversation back to its queue.
    Release {
        conversation_id: String,
    },
    /// A message to the customer. `message_id` is chosen by the workstation
    /// so the local copy and the platform's agree. `body` may be empty when
    /// the reply carries photos; each attachment must have been uploaded
    /// first (`POST /v1/attachments`): the platform keeps only its own
    /// record of each id and refuses an id it does not hold
    /// (`unknown_attachment`).
    Reply {
        conversation_id: String,
        message_id: String,
        body: String,
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// A note for colleagues, never shown to the customer.
    InternalNote {
        conversation_id: String,
        message_id: String,
        body: String,
    },
    /// `active` or `pending`; resolving goes through `wrap_up`.
    SetStatus {
        conversation_id: String,
        status: ConversationStatus,
    },
    Transfer {
        conversation_id: String,
        target: TransferTarget,
    },
    /// Resolve with a disposition code after the contact. The platform
    /// keeps the note and the after-contact work for supervisors
    /// (`GET /v1/conversations/{id}`).
    WrapUp {
        conversation_id: String,
        disposition: String,
        #[serde(default)]
        note: Option<String>,
        /// After-contact work, in seconds: 0 to [`MAX_AFTER_CONTACT_SECS`].
        /// Signed so that a negative value is refused as an action
        /// (`invalid_duration`) rather than failing the whole batch.
        #[serde(default)]
        after_contact_secs: i64,
    },
    /// A phone call the agent made from the call screen, logged when it
    /// ends. Times are the workstation's clock; the platform keeps them for
    /// supervisors with the duration it derives (`ended_at - started_at`).
    CallLog {
        conversation_id: String,
        started_at: UnixMillis,
        ended_at: UnixMillis,
    },
    Presence {
        presence: Presence,
    },
    /// A supervisor sets another agent's presence (for example away, when
    /// they left without saying). Only for agents of the queues the
    /// supervisor supervises; the agent's desk says who did it.
    SetAgentPresence {
        agent: String,
        presence: Presence,
    },
    AcceptOffer {
        offer_id: String,
    },
    DeclineOffer {
        offer_id: String,
    },
}

impl Action {
    /// The conversation this action is about, if any (presence and offers
    /// are about the agent).
    pub fn conversation_id(&self) -> Option<&str> {
        match self {
            Action::Claim { conversation_id }
            | Action::Release { conversation_id }
            | Action::Reply {
                conversation_id, ..
            }
            | Action::InternalNote {
                conversation_id, ..
            }
            | Action::SetStatus {
                conversation_id, ..
            }
            | Action::Transfer {
                conversation_id, ..
            }
            | Action::WrapUp {
                conversation_id, ..
            }
            | Action::CallLog {
                conversation_id, ..
            } => Some(conversation_id),
            Action::Presence { .. }
            | Action::SetAgentPresence { .. }
            | Action::AcceptOffer { .. }
            | Action::DeclineOffer { .. } => None,
        }
    }
}

/// Longest message body or wrap-up note, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// Most after-contact work one wrap-up may claim: a day (the wrap-up form
/// stops its timer there). More is a broken clock, not work.
pub const MAX_AFTER_CONTACT_SECS: i64 = 24 * 60 * 60;

/// Longest call the call screen may log: 4 hours.
pub const MAX_CALL_SECS: i64 = 4 * 60 * 60;

/// Most photos one message may carry.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 4;

/// Largest photo accepted, in bytes (5 MB).
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// Largest photo accepted, in pixels (40 megapixels): a bigger one is
/// refused before it is decoded, so a small file cannot unpack into
/// gigabytes.
pub const MAX_ATTACHMENT_PIXELS: u64 = 40_000_000;

/// Largest thumbnail the platform makes, in bytes: what a workstation
/// downloads for a photo nobody opened.
pub const MAX_THUMBNAIL_BYTES: usize = 30 * 1024;

/// The image types a message may carry, by the stored bytes' real type.
pub const ATTACHMENT_MEDIA_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// A message shortened to one line for the queue view
/// (`Conversation::last_message_preview`): whitespace folded, at most 80
/// characters, cut with `…`.
pub fn preview(body: &str) -> String {
    const MAX: usize = 80;
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX {
        flat
    } else {
        let mut cut: String = flat.chars().take(MAX - 1).collect();
        cut.push('…');
        cut
    }
}

/// Disposition codes a wrap-up may carry.
pub const DISPOSITIONS: [&str; 8] = [
    "resolved",
    "refund_issued",
    "exchange_arranged",
    "info_given",
    "escalated",
    "callback_scheduled",
    "no_response",
    "spam",
];

/// The codes and limits the desk's forms follow, defined once in this module and
/// handed to the UI as they are: `crates/core/tests/ipc_bindings.rs` writes
/// [`ActionLimits::current`] to `ui/src/lib/host/bindings/action-limits.ts`
/// (typed by the ts-rs export of this struct) and fails when it is stale,
/// so the interface never keeps its own copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ActionLimits.ts"))]
pub struct ActionLimits {
    /// [`DISPOSITIONS`], in the order the wrap-up form lists them.
    pub dispositions: Vec<String>,
    /// [`MAX_MESSAGE_CHARS`]: a reply, a note, a wrap-up note.
    pub max_message_chars: i64,
    /// [`MAX_AFTER_CONTACT_SECS`].
    pub max_after_contact_secs: i64,
    /// [`MAX_CALL_SECS`].
    pub max_call_secs: i64,
    /// [`MAX_ATTACHMENTS_PER_MESSAGE`].
    pub max_attachments_per_message: i64,
    /// [`MAX_ATTACHMENT_BYTES`].
    pub max_attachment_bytes: i64,
    /// [`MAX_ATTACHMENT_PIXELS`].
    pub max_attachment_pixels: i64,
    /// [`ATTACHMENT_MEDIA_TYPES`].
    pub attachment_media_types: Vec<String>,
}

impl ActionLimits {
    pub fn current() -> ActionLimits {
        ActionLimits {
            dispositions: DISPOSITIONS.iter().map(|d| (*d).to_owned()).collect(),
            max_message_chars: MAX_MESSAGE_CHARS as i64,
            max_after_contact_secs: MAX_AFTER_CONTACT_SECS,
            max_call_secs: MAX_CALL_SECS,
            max_attachments_per_message: MAX_ATTACHMENTS_PER_MESSAGE as i64,
            max_attachment_bytes: MAX_ATTACHMENT_BYTES as i64,
            max_attachment_pixels: MAX_ATTACHMENT_PIXELS as i64,
            attachment_media_types: ATTACHMENT_MEDIA_TYPES
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionEnvelope {
    /// Chosen once by the workstation when the agent acted; resent unchanged.
    pub key: String,
    /// When the agent acted (workstation clock).
    pub created_at: UnixMillis,
    pub action: Action,
}

/// `POST /v1/actions` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBatch {
    pub actions: Vec<ActionEnvelope>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Done now.
    Applied,
    /// This key was seen before; `original` holds the first verdict.
    Duplicate,
    /// Valid, but the world moved on (e.g. the conversation was reassigned
    /// while the agent was offline). The workstation keeps the agent's text
    /// and tells them.
    Conflict,
    /// Invalid; resending will not help.
    Rejected,
}

/// Why an action was not applied: a closed set the workstation turns into
/// a message in the agent's language (with [`RefusalParams`]); the
/// platform's `message` is for logs and people reading the wire, never
/// shown in the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ActionCode.ts"))]
pub enum ActionCode {
    NotFound,
    /// Someone else holds the conversation (`holder`), or it is back in its
    /// queue (no `holder`).
    NotAssigned,
    /// Someone else (`holder`) took it first.
    AlreadyClaimed,
    AlreadyResolved,
    OfferExpired,
    /// Not in one of the agent's queues.
    Forbidden,
    Invalid,
    UnknownDisposition,
    /// The key was used before for a different action.
    KeyReused,
    /// A text is longer than `limit` characters.
    TooLong,
    /// A duration is negative, longer than `limit` seconds, or ends before
    /// it starts.
    InvalidDuration,
    /// A reply names a photo the platform does not hold (it was never
    /// uploaded, or not by this platform).
    UnknownAttachment,
}

impl ActionCode {
    /// Every code, for tests that check each one is explained.
    pub const ALL: [ActionCode; 12] = [
        ActionCode::NotFound,
        ActionCode::NotAssigned,
        ActionCode::AlreadyClaimed,
        ActionCode::AlreadyResolved,
        ActionCode::OfferExpired,
        ActionCode::Forbidden,
        ActionCode::Invalid,
        ActionCode::UnknownDisposition,
        ActionCode::KeyReused,
        ActionCode::TooLong,
        ActionCode::InvalidDuration,
        ActionCode::UnknownAttachment,
    ];
}

/// What a refusal is about, so the workstation can say it in the agent's
/// language: only the fields that apply are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RefusalParams.ts"))]
pub struct RefusalParams {
    /// The agent code of the colleague who holds the conversation now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub holder: Option<String>,
    /// The limit that was exceeded (characters for `too_long`, seconds for
    /// `invalid_duration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub limit: Option<i64>,
    /// The field at fault (`note`, `body`, `after_contact_secs`, `ended_at`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub field: Option<String>,
    /// The queue the conversation is in (`forbidden`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub queue: Option<String>,
}

impl RefusalParams {
    pub fn is_empty(&self) -> bool {
        *self == RefusalParams::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionResult {
    pub key: String,
    pub status: ActionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ActionCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the refusal is about (who holds the conversation, the limit
    /// exceeded), for a message in the agent's language.
    #[serde(default, skip_serializing_if = "RefusalParams::is_empty")]
    pub params: RefusalParams,
    /// For `duplicate`: the verdict the first delivery got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Box<ActionResult>>,
}

impl ActionResult {
    pub fn applied(key: &str) -> ActionResult {
        ActionResult {
            key: key.to_owned(),
            status: ActionStatus::Applied,
            code: None,
            message: None,
            params: RefusalParams::default(),
            original: None,
        }
    }

    pub fn refused(
        key: &str,
        status: ActionStatus,
        code: ActionCode,
        message: impl Into<String>,
    ) -> ActionResult {
        ActionResult {
            key: key.to_owned(),
            status,
            code: Some(code),
            message: Some(message.into()),
            params: RefusalParams::default(),
            original: None,
        }
    }

    /// The same verdict with what it is about.
    pub fn with_params(mut self, params: RefusalParams) -> ActionResult {
        self.params = params;
        self
    }
}

/// `POST /v1/actions` answer: one result per action, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionResults {
    pub results: Vec<ActionResult>,
    /// Asked for with `POST /v1/actions?cursor=…` (protocol.md §6): the
    /// first page of changes after that cursor once the batch is applied,
    /// the pull that would follow the push, answered in the same round
    /// trip. Absent without the parameter or when the cursor is not
    /// usable (the workstation then pulls as usual).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<crate::changes::ChangesPage>,
}
