//! The records the platform owns and the workstation mirrors: conversations,
//! messages, customers, knowledge-base articles, canned replies, call scripts,
//! practice scenarios, agent profiles and queues.
//!
//! Times are milliseconds since the Unix epoch (UTC), as `i64`. Every struct
//! refuses unknown fields, so a typo on either side is an error that names the
//! field rather than a value silently dropped.

use serde::{Deserialize, Serialize};

use crate::hours::BusinessHours;

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMillis = i64;

/// How a customer reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Channel.ts"))]
pub enum Channel {
    Chat,
    /// A phone call-back. Until the platform has telephony, the agent dials
    /// the customer from their own phone and logs the call (`call_log`).
    Phone,
    Ticket,
}

impl Channel {
    /// Chat is synchronous; phone call-backs and tickets can wait a little,
    /// so they may go to an agent whose link is degraded.
    pub fn is_asynchronous(self) -> bool {
        !matches!(self, Channel::Chat)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Phone => "phone",
            Channel::Ticket => "ticket",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "ConversationStatus.ts")
)]
pub enum ConversationStatus {
    /// Waiting in its queue for an agent (possibly being offered to one).
    Queued,
    /// Assigned to an agent who is working on it.
    Active,
    /// Assigned, waiting for the customer to answer.
    Pending,
    /// Wrapped up with a disposition code.
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Priority.ts"))]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Conversation.ts"))]
pub struct Conversation {
    pub id: String,
    pub channel: Channel,
    pub queue: String,
    pub customer_id: String,
    pub subject: String,
    /// Knowledge-base category this contact is about, when known (used to
    /// suggest scripts and articles).
    #[serde(default)]
    pub category: Option<String>,
    pub status: ConversationStatus,
    /// Agent code of the assignee, if any.
    #[serde(default)]
    pub assigned_to: Option<String>,
    pub priority: Priority,
    pub created_at: UnixMillis,
    /// SLA: first agent response due by this time.
    pub first_response_due: UnixMillis,
    /// SLA: resolution due by this time.
    pub resolve_due: UnixMillis,
    #[serde(default)]
    pub first_response_at: Option<UnixMillis>,
    pub last_message_at: UnixMillis,
    /// The last customer or agent message, shortened for the queue view.
    pub last_message_preview: String,
    #[serde(default)]
    pub disposition: Option<String>,
    /// Bumped by every change; lets a client drop stale copies.
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Author.ts"))]
pub enum Author {
    Customer,
    Agent,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "MessageKind.ts"))]
pub enum MessageKind {
    /// Seen by the customer.
    Text,
    /// Internal note: agents only, never sent to the customer.
    Note,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Message.ts"))]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub author: Author,
    /// Agent code when `author` is `agent`.
    #[serde(default)]
    pub agent: Option<String>,
    pub kind: MessageKind,
    /// Plain text. Clients render it as text, never as HTML. May be empty
    /// when the message carries attachments.
    pub body: String,
    pub sent_at: UnixMillis,
    /// Photos, in the order they were attached (at most
    /// [`crate::MAX_ATTACHMENTS_PER_MESSAGE`]).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// How far an agent's reply has got towards the customer. `None` for
    /// the customer's own messages, internal notes, and a reply the
    /// platform has not received yet.
    #[serde(default)]
    pub delivery: Option<Delivery>,
}

/// A photo carried by a message: JPEG, PNG or WebP, checked and re-encoded
/// by the platform (metadata such as an EXIF location stripped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Attachment.ts"))]
pub struct Attachment {
    /// Content address: the hex SHA-256 of the stored image, so the same
    /// photo sent twice is stored once. A photo an agent attached that the
    /// workstation has not uploaded yet has [`LOCAL_ATTACHMENT_PREFIX`] +
    /// the hex SHA-256 of the file as chosen; it never reaches the platform
    /// under that id.
    pub id: String,
    /// `image/jpeg`, `image/png` or `image/webp`: what the stored bytes are.
    pub media_type: String,
    /// Size of the stored image.
    pub bytes: u32,
    pub width: u32,
    pub height: u32,
}

/// Prefix of an [`Attachment::id`] that only exists on one workstation.
pub const LOCAL_ATTACHMENT_PREFIX: &str = "local-";

/// Where an agent's reply stands on its way to the customer:
/// `queued → sent → delivered`, or `failed` with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "DeliveryState.ts"))]
pub enum DeliveryState {
    /// The platform has it and will hand it to the channel.
    Queued,
    /// The channel took it (a 2xx from its adapter; on the web chat, the
    /// customer's page was sent it).
    Sent,
    /// The channel reports the customer has it.
    Delivered,
    /// Given up: `reason` says why. A supervisor can retry it.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Delivery.ts"))]
pub struct Delivery {
    pub state: DeliveryState,
    /// Why it failed (for people; not translated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub reason: Option<String>,
    /// When the state last changed (platform clock).
    pub updated_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "OrderSummary.ts"))]
pub struct OrderSummary {
    pub order_no: String,
    pub item: String,
    /// Amount in fen (1/100 yuan), to avoid floating point money.
    pub amount_fen: i64,
    pub status: String,
    pub placed_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Customer.ts"))]
pub struct Customer {
    pub id: String,
    pub name: String,
    /// Masked by the platform (e.g. `138****5678`) wherever it is shown to
    /// agents.
    pub phone_masked: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub orders: Vec<OrderSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "KbArticle.ts"))]
pub struct KbArticle {
    pub id: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    pub title: String,
    /// Markdown. The workstation renders and sanitizes it.
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub category: String,
    pub updated_at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "PlaceholderKind.ts")
)]
pub enum PlaceholderKind {
    Text,
    OrderNo,
    Date,
    Amount,
    Phone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Placeholder.ts"))]
pub struct Placeholder {
    /// Written `{name}` in the body.
    pub name: String,
    pub kind: PlaceholderKind,
    #[serde(default)]
    pub required: bool,
    /// Used when the value is unknown.
    #[serde(default)]
    pub fallback: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "CannedReply.ts"))]
pub struct CannedReply {
    pub id: String,
    pub locale: String,
    pub title: String,
    /// Typed after `/` in the composer.
    pub shortcut: String,
    pub category: String,
    pub body: String,
    #[serde(default)]
    pub placeholders: Vec<Placeholder>,
    /// A photo that goes with the reply (a size chart): the platform's
    /// record of the image file named in the content, stored when the
    /// platform imports the reply. `None` for a text-only reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ScriptBranch.ts"))]
pub struct ScriptBranch {
    pub label: String,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ScriptStep.ts"))]
pub struct ScriptStep {
    pub id: String,
    pub text: String,
    /// The agent must confirm this step before moving on.
    #[serde(default)]
    pub checkpoint: bool,
    /// No branches: the script ends here.
    #[serde(default)]
    pub branches: Vec<ScriptBranch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Script.ts"))]
pub struct Script {
    pub id: String,
    pub locale: String,
    pub title: String,
    pub category: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub start: String,
    pub steps: Vec<ScriptStep>,
}

/// A practice scenario for the sandbox. Its body is the scenario document
/// (TOML) whose format belongs to the practice mode; the protocol only
/// carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub locale: String,
    pub title: String,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Role.ts"))]
pub enum Role {
    Agent,
    Trainee,
    Supervisor,
    /// Decides when a trainee goes live: reads practice results and
    /// promotes; works no live contacts and sees no live conversation.
    Trainer,
}

impl Role {
    /// Whether this role works live contacts (is offered them, may claim,
    /// sees live conversations): agents and supervisors.
    pub fn works_live(self) -> bool {
        matches!(self, Role::Agent | Role::Supervisor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Presence.ts"))]
pub enum Presence {
    Available,
    Busy,
    OnBreak,
    Offline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AgentProfile.ts"))]
pub struct AgentProfile {
    /// Sign-in code, e.g. `a1001`.
    pub code: String,
    pub name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub skills: Vec<String>,
    /// Most chats this agent handles at once.
    pub max_chats: u32,
    pub presence: Presence,
    /// Why the platform set `presence` on its own (the desk tells the
    /// agent); `null` when the agent chose it. Cleared by the agent's next
    /// choice of presence.
    #[serde(default)]
    pub presence_reason: Option<PresenceReason>,
}

/// Why the platform, not the agent, changed an agent's presence. On the
/// wire: `{"code": "missed_offers", "count": 2}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "PresenceReason.ts"))]
pub enum PresenceReason {
    /// Offers in a row ran out unanswered, so the agent was set `on_break`
    /// (the queue's `away_after_missed_offers`).
    MissedOffers(MissedOffers),
    /// A supervisor set the agent's presence from the team console.
    SetBySupervisor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "MissedOffers.ts"))]
pub struct MissedOffers {
    /// How many offers in a row ran out.
    pub count: u32,
}

/// Default of [`Queue::vanished_grace_secs`].
pub const DEFAULT_VANISHED_GRACE_SECS: u32 = 120;
/// Default of [`Queue::away_after_missed_offers`].
pub const DEFAULT_AWAY_AFTER_MISSED_OFFERS: u32 = 2;

fn default_vanished_grace_secs() -> u32 {
    DEFAULT_VANISHED_GRACE_SECS
}

fn default_away_after_missed_offers() -> u32 {
    DEFAULT_AWAY_AFTER_MISSED_OFFERS
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub first_response_secs: u32,
    pub resolve_secs: u32,
    /// Skills an agent needs to be offered work from this queue.
    #[serde(default)]
    pub skills: Vec<String>,
    pub business_hours: BusinessHours,
    /// Seconds an agent's event stream may stay gone before their unanswered
    /// live chats from this queue go back to it for others (tickets and
    /// call-backs stay with the agent). Default 120.
    #[serde(default = "default_vanished_grace_secs")]
    pub vanished_grace_secs: u32,
    /// Offers from this queue that may run out unanswered in a row before
    /// the platform sets the agent `on_break`; 0 never does. Default 2.
    #[serde(default = "default_away_after_missed_offers")]
    pub away_after_missed_offers: u32,
    /// Seconds an agent has to accept an offer from this queue; absent, the
    /// platform's own setting (`offer_timeout` in its config, default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_timeout_secs: Option<u32>,
}
