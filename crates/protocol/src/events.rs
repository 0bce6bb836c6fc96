//! Server-sent events on `GET /v1/events`.
//!
//! Each SSE message has `event:` set to the variant name and `data:` set to
//! the JSON of [`ServerEvent`]. Events are hints: a workstation that misses
//! one loses nothing, because the change log is the truth and is pulled on
//! every reconnect.

use serde::{Deserialize, Serialize};

use crate::entities::{Channel, UnixMillis};

/// Seconds between heartbeats; a client that hears nothing for three of
/// these may treat the stream as dead and reconnect.
pub const HEARTBEAT_SECS: u64 = 15;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerEvent {
    /// The change log grew; pull from your cursor.
    Changes {
        latest_seq: u64,
    },
    Offer(Offer),
    /// An offer ended without being accepted by you (expired or declined).
    OfferWithdrawn {
        offer_id: String,
    },
    Heartbeat {
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
        }
    }
}
