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

use crate::entities::{ConversationStatus, Presence, UnixMillis};

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
    /// so the local copy and the platform's agree.
    Reply {
        conversation_id: String,
        message_id: String,
        body: String,
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
    /// Resolve with a disposition code after the contact.
    WrapUp {
        conversation_id: String,
        disposition: String,
        #[serde(default)]
        note: Option<String>,
        /// After-contact work, in seconds.
        #[serde(default)]
        after_contact_secs: u32,
    },
    Presence {
        presence: Presence,
    },
    AcceptOffer {
        offer_id: String,
    },
    DeclineOffer {
        offer_id: String,
    },
}

/// Longest message body or wrap-up note, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

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

/// Why an action was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionCode {
    NotFound,
    /// Someone else holds the conversation.
    NotAssigned,
    AlreadyClaimed,
    AlreadyResolved,
    OfferExpired,
    Forbidden,
    Invalid,
    UnknownDisposition,
    /// The key was used before for a different action.
    KeyReused,
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
            original: None,
        }
    }
}

/// `POST /v1/actions` answer: one result per action, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionResults {
    pub results: Vec<ActionResult>,
}
