//! The records the platform owns and the workstation mirrors: conversations,
//! messages, customers, knowledge-base articles, canned replies, call scripts,
//! practice scenarios, agent profiles and queues.
//!
//! Times are milliseconds since the Unix epoch (UTC), as `i64`. Every struct
//! refuses unknown fields, so a typo on either side is an error that names the
//! field rather than a value silently dropped.

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMillis = i64;

/// How a customer reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Channel.ts"))]
pub enum Channel {
    Chat,
    /// A phone call-back: the agent calls the customer through the platform's
    /// telephony.
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
    /// Plain text. Clients render it as text, never as HTML.
    pub body: String,
    pub sent_at: UnixMillis,
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
    /// Masked by the platform (e.g. `138****5678`); agents never see the
    /// full number, calls go through the platform's telephony.
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
}

/// Opening hours of a queue, in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    pub open_minute: u16,
    pub close_minute: u16,
    /// Offset of local time from UTC, in minutes (China: 480).
    pub utc_offset_minutes: i16,
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
}
