//! Server-sent events on `GET /v1/events`.
//!
//! Each SSE message has `event:` set to the variant name and `data:` set to
//! the JSON of [`ServerEvent`]. Events are hints: a workstation that misses
//! one loses nothing, because the change log is the truth and is pulled on
//! every reconnect.

use serde::{Deserialize, Serialize};

use crate::changes::ChangesPage;
use crate::entities::{Channel, UnixMillis};

/// Seconds of silence after which the platform sends a heartbeat; a
/// client that hears nothing for three of these may treat the stream as
/// dead and reconnect.
pub const HEARTBEAT_SECS: u64 = 15;

/// The SSE comment a stream opened with `?heartbeat=comment` gets as its
/// heartbeat: a line no SSE reader dispatches, a few bytes on the wire
/// (protocol.md §7). Any bytes on the stream say the platform is there.
pub const COMMENT_HEARTBEAT: &str = ":\n";

/// A contact offered to one agent, who may accept it before `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub offer_id: String,
    pub conversation_id: String,
    pub channel: Channel,
    pub queue: String,
    pub subject: String,
    pub expires_at: UnixMillis,
}

/// The changes of a `changes` event, for a stream that asked for them
/// (`GET /v1/events?changes=inline`, protocol.md §7): the page a pull from
/// position `after` would have answered just now, so a workstation whose
/// cursor is at `after` or between `after` and the page's `next_cursor`
/// applies it (the entries above its own position) without a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineChanges {
    pub after: u64,
    pub page: ChangesPage,
}

impl ServerEvent {
    /// A `changes` poke without the changes.
    pub fn poke(latest_seq: u64) -> ServerEvent {
        ServerEvent::Changes {
            latest_seq,
            inline: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerEvent {
    /// The change log grew; pull from your cursor — or, on a stream opened
    /// with `?changes=inline`, apply `inline` when it follows your cursor.
    Changes {
        latest_seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inline: Option<InlineChanges>,
    },
    Offer(Offer),
    /// An offer ended without being accepted by you (expired or declined).
    OfferWithdrawn {
        offer_id: String,
    },
    /// The stream is alive. `server_time` is sent as an event only to
    /// streams that did not ask for comment heartbeats; a workstation's
    /// transport reports bytes that made no event (a comment heartbeat)
    /// as a heartbeat without a time.
    Heartbeat {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server_time: Option<UnixMillis>,
    },
    /// For supervisors: something the team view shows that the change log
    /// does not carry changed (an agent's link went up, down or degraded).
    /// A nudge to read `GET /v1/team` again, not the data itself.
    TeamChanged {
        server_time: UnixMillis,
    },
}

impl ServerEvent {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            ServerEvent::Changes { .. } => "changes",
            ServerEvent::Offer(_) => "offer",
            ServerEvent::OfferWithdrawn { .. } => "offer_withdrawn",
            ServerEvent::Heartbeat { .. } => "heartbeat",
            ServerEvent::TeamChanged { .. } => "team_changed",
        }
    }
}
