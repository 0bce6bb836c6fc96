//! What passes between the platform and a channel adapter.
//!
//! In: `POST /v1/ingress/{channel}`, a customer message or call request
//! arriving from an adapter (or the demo traffic generator).
//! `external_id` is the adapter's own id for the message; a resend with the
//! same id is answered with the first result and `duplicate = true`, so an
//! adapter can retry freely.
//!
//! Out: [`EgressMessage`], an agent's reply the platform POSTs to the
//! adapter's webhook (signed, retried; `docs/protocol.md` §9b), and the
//! adapter's later report that it reached the customer or could not.

use serde::{Deserialize, Serialize};

use crate::entities::{Attachment, Channel, Priority, UnixMillis};

/// Header of a webhook request: the message id, the same on every retry.
pub const EGRESS_IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Header of a webhook request: Unix seconds when this attempt was signed.
pub const EGRESS_TIMESTAMP_HEADER: &str = "X-Homedesk-Timestamp";
/// Header of a webhook request: `sha256=<hex HMAC-SHA256 over
/// "{timestamp}.{body}">` with the adapter's signing key.
pub const EGRESS_SIGNATURE_HEADER: &str = "X-Homedesk-Signature";
/// Header of a webhook request: 1 for the first attempt, then 2, 3, …
pub const EGRESS_ATTEMPT_HEADER: &str = "X-Homedesk-Attempt";
/// Longest reason an adapter may give for a failed delivery, in characters.
pub const MAX_EGRESS_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressCustomer {
    pub id: String,
    pub name: String,
    /// Full number; the platform masks it before any agent sees it.
    pub phone: String,
    #[serde(default)]
    pub city: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressMessage {
    pub external_id: String,
    pub customer: IngressCustomer,
    pub queue: String,
    pub subject: String,
    /// May be empty when the message carries photos.
    pub body: String,
    /// Photos the adapter uploaded first (`POST /v1/attachments`), by id.
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngressAccepted {
    pub conversation_id: String,
    pub message_id: String,
    pub duplicate: bool,
}

/// An agent's reply on its way to the customer: the JSON body the platform
/// POSTs to the webhook of the adapter the conversation came through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressMessage {
    /// The platform's id of the reply; also the `Idempotency-Key` header.
    pub message_id: String,
    pub conversation_id: String,
    /// The customer id the adapter gave on ingress.
    pub customer_id: String,
    pub channel: Channel,
    /// The adapter's own id (`homedesk-platform channel add ID`).
    pub adapter: String,
    /// Plain text; may be empty when the reply carries photos.
    pub body: String,
    /// Photos' metadata, in order.
    pub attachments: Vec<Attachment>,
    /// When the platform stored the reply.
    pub sent_at: UnixMillis,
}

/// `POST /v1/egress/{message_id}/failed`: the adapter could not get the
/// reply to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressFailure {
    /// For people (supervisors); 1 to [`MAX_EGRESS_REASON_CHARS`] characters.
    pub reason: String,
}
