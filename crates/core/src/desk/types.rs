//! What the desk hands the screens: a queue row, a conversation with its
//! thread, where a conversation can be transferred, a canned reply ready to
//! fill in, and [`DeskEvent`], the one event type the UI hears. All are
//! exported to TypeScript with ts-rs (`ui/src/lib/host/bindings/`); the
//! desk's use-cases that fill them are in [`super`].

use homedesk_protocol::{
    Attachment, Channel, Conversation, ConversationStatus, Customer, PlaceholderKind, Presence,
    Priority,
};
use serde::Serialize;
use ts_rs::TS;

use crate::store::views::ThreadMessage;
use crate::sync::SyncEvent;
use crate::{ConnectionStatus, Error};

/// One row of the queue view.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "QueueItem.ts")]
pub struct QueueItem {
    pub id: String,
    pub channel: Channel,
    pub queue: String,
    pub subject: String,
    pub customer_name: String,
    pub status: ConversationStatus,
    pub assigned_to: Option<String>,
    pub priority: Priority,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub last_message_at: i64,
    pub last_message_preview: String,
    #[ts(type = "number")]
    pub first_response_due: i64,
    #[ts(type = "number | null")]
    pub first_response_at: Option<i64>,
    #[ts(type = "number")]
    pub resolve_due: i64,
    /// This agent's actions on it not yet acknowledged by the platform.
    pub pending_actions: u32,
}

/// Which conversations the queue view lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "QueueScope.ts")]
pub enum QueueScope {
    /// Assigned to me and not resolved.
    Mine,
    /// Waiting in one of my queues, nobody assigned.
    Unassigned,
    /// Both of the above.
    All,
}

/// A queue a conversation can be transferred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TransferQueue.ts")]
pub struct TransferQueue {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A colleague a conversation can be transferred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TransferAgent.ts")]
pub struct TransferAgent {
    pub code: String,
    pub name: String,
    pub presence: Presence,
}

/// Everywhere a conversation can go; `agents` leaves out the agent
/// themself and trainees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TransferTargets.ts")]
pub struct TransferTargets {
    pub queues: Vec<TransferQueue>,
    pub agents: Vec<TransferAgent>,
}

/// A conversation with everything the conversation view shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export_to = "ConversationDetail.ts")]
pub struct ConversationDetail {
    pub conversation: Conversation,
    pub customer: Option<Customer>,
    pub messages: Vec<ThreadMessage>,
    pub draft: Option<String>,
    /// Photos attached in the composer and not sent yet, in order (shown
    /// through the media scheme: `local/{id}` for a `local-` id, else
    /// `thumb/{id}`).
    pub draft_attachments: Vec<Attachment>,
}

/// What the UI hears from the desk, on one event channel.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export_to = "DeskEvent.ts")]
pub enum DeskEvent {
    /// The status bar changed.
    Status {
        status: ConnectionStatus,
    },
    /// Local data changed: re-read what is on screen.
    Changed,
    /// The platform offers this agent a contact until `expires_at`.
    Offer {
        offer_id: String,
        conversation_id: String,
        channel: Channel,
        queue: String,
        subject: String,
        #[ts(type = "number")]
        expires_at: i64,
    },
    OfferWithdrawn {
        offer_id: String,
    },
    /// Actions the platform refused; their text is back in the drafts.
    Conflicts {
        count: usize,
    },
    /// A customer wrote in one of my conversations.
    CustomerMessage {
        conversation_id: String,
        subject: String,
        preview: String,
    },
    /// The platform changed my presence; `reason` (when the platform chose
    /// it) is for a short notice saying why.
    Presence {
        presence: Presence,
        reason: Option<homedesk_protocol::PresenceReason>,
    },
    /// A colleague's internal note mentions me.
    Mentioned {
        conversation_id: String,
        subject: String,
        /// Agent code of who wrote the note.
        by: String,
        preview: String,
    },
    /// For supervisors: read the team view again.
    TeamChanged,
}

impl From<SyncEvent> for DeskEvent {
    fn from(event: SyncEvent) -> Self {
        match event {
            SyncEvent::Status(status) => DeskEvent::Status { status },
            SyncEvent::Changed => DeskEvent::Changed,
            SyncEvent::Offer(o) => DeskEvent::Offer {
                offer_id: o.offer_id,
                conversation_id: o.conversation_id,
                channel: o.channel,
                queue: o.queue,
                subject: o.subject,
                expires_at: o.expires_at,
            },
            SyncEvent::OfferWithdrawn { offer_id } => DeskEvent::OfferWithdrawn { offer_id },
            SyncEvent::Conflicts { keys } => DeskEvent::Conflicts { count: keys.len() },
            SyncEvent::CustomerMessage(m) => DeskEvent::CustomerMessage {
                conversation_id: m.conversation_id,
                subject: m.subject,
                preview: m.preview,
            },
            SyncEvent::Presence { presence, reason } => DeskEvent::Presence { presence, reason },
            SyncEvent::Mentioned(m) => DeskEvent::Mentioned {
                conversation_id: m.conversation_id,
                subject: m.subject,
                by: m.by,
                preview: m.preview,
            },
            SyncEvent::TeamChanged => DeskEvent::TeamChanged,
        }
    }
}

/// One typed field of a canned reply, prefilled from the conversation when
/// the core knows the value (customer name, latest order, the agent's name),
/// else with the reply's fallback, else empty.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ReplyField.ts")]
pub struct ReplyField {
    /// Written `{name}` in the body.
    pub name: String,
    pub kind: PlaceholderKind,
    pub required: bool,
    pub value: String,
}

/// A canned reply ready to fill in: its body with `{name}` placeholders and
/// the fields for them.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ReplyTemplate.ts")]
pub struct ReplyTemplate {
    pub id: String,
    pub title: String,
    pub shortcut: String,
    pub body: String,
    pub fields: Vec<ReplyField>,
    /// The photo that goes with the reply (a size chart), if any: using the
    /// reply attaches it to the composer (`Desk::attach_canned_photo`).
    pub attachment: Option<Attachment>,
}

/// Fills `{name}` placeholders; refuses while a required field is empty.
pub fn render_reply(body: &str, fields: &[ReplyField]) -> Result<String, Error> {
    let mut text = body.to_owned();
    for field in fields {
        let value = field.value.trim();
        if value.is_empty() && field.required {
            return Err(Error::InvalidAction(format!(
                "fill in {:?} before sending",
                field.name
            )));
        }
        text = text.replace(&format!("{{{}}}", field.name), value);
    }
    Ok(text)
}
