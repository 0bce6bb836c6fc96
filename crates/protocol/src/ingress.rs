//! `POST /v1/ingress/{channel}`: a customer message or call request arriving
//! from a channel adapter (or the demo traffic generator).
//!
//! `external_id` is the adapter's own id for the message; a resend with the
//! same id is answered with the first result and `duplicate = true`, so an
//! adapter can retry freely.

use serde::{Deserialize, Serialize};

use crate::entities::Priority;

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
