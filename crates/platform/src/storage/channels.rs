//! Storage of channel adapters and of the egress deliveries to them: the
//! rows the `channels` and `egress` modules read and write inside a
//! transaction. Kept beside [`super::Tx`] as its own trait so the SQL for
//! this concern lives in one file (`sqlite/channels.rs`).

use homedesk_protocol::UnixMillis;

/// A channel adapter as stored: never its secret, only the secret's hash
/// and the webhook signing key derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterRow {
    pub id: String,
    pub token_hash: String,
    /// Hex of the key that signs webhooks (see `channels::signing_key`).
    pub signing_key: String,
    pub webhook_url: Option<String>,
    pub created_at: UnixMillis,
    pub rotated_at: Option<UnixMillis>,
}

/// Where one delivery stands on the platform's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EgressState {
    /// Waiting for its turn or for the next attempt.
    Pending,
    /// The adapter answered 2xx.
    Sent,
    /// The adapter reported the customer has it.
    Delivered,
    /// Given up (or the adapter reported a failure); a supervisor may retry.
    Failed,
}

impl EgressState {
    pub fn as_str(self) -> &'static str {
        match self {
            EgressState::Pending => "pending",
            EgressState::Sent => "sent",
            EgressState::Delivered => "delivered",
            EgressState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<EgressState> {
        [
            EgressState::Pending,
            EgressState::Sent,
            EgressState::Delivered,
            EgressState::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    /// Order of creation; within a conversation, the order of sending.
    pub id: i64,
    pub message_id: String,
    pub conversation_id: String,
    pub adapter: String,
    pub state: EgressState,
    pub attempts: u32,
    pub next_attempt_at: UnixMillis,
    /// When this round of attempts began (creation, or the last retry
    /// a supervisor asked for); the worker gives up a fixed time later.
    pub round_started_at: UnixMillis,
    pub last_error: Option<String>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

/// A change to one delivery row, applied only while the row is in the
/// state `from` (so a late answer never overwrites what a callback or a
/// supervisor did meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    pub state: EgressState,
    pub attempts: u32,
    pub next_attempt_at: UnixMillis,
    pub round_started_at: UnixMillis,
    pub last_error: Option<String>,
    pub now: UnixMillis,
}

pub trait ChannelTx {
    fn insert_adapter(&mut self, row: &AdapterRow) -> anyhow::Result<()>;
    fn adapter(&mut self, id: &str) -> anyhow::Result<Option<AdapterRow>>;
    fn adapter_by_token_hash(&mut self, hash: &str) -> anyhow::Result<Option<AdapterRow>>;
    fn adapters(&mut self) -> anyhow::Result<Vec<AdapterRow>>;
    /// A new secret: the old hash and signing key stop working at once.
    fn rotate_adapter(
        &mut self,
        id: &str,
        token_hash: &str,
        signing_key: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()>;
    fn set_adapter_webhook(&mut self, id: &str, url: Option<&str>) -> anyhow::Result<()>;

    /// Records the adapter a conversation came through (first one wins).
    fn set_conversation_adapter(
        &mut self,
        conversation_id: &str,
        adapter: &str,
    ) -> anyhow::Result<()>;
    fn conversation_adapter(&mut self, conversation_id: &str) -> anyhow::Result<Option<String>>;

    fn insert_delivery(
        &mut self,
        message_id: &str,
        conversation_id: &str,
        adapter: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()>;
    fn delivery(&mut self, message_id: &str) -> anyhow::Result<Option<DeliveryRow>>;
    /// Pending rows that are first in their conversation (no earlier
    /// pending row), earliest attempt first, at most `limit`.
    fn pending_heads(&mut self, limit: usize) -> anyhow::Result<Vec<DeliveryRow>>;
    /// Rows in `state` (all states when `None`), newest first, at most `limit`.
    fn deliveries(
        &mut self,
        state: Option<EgressState>,
        limit: usize,
    ) -> anyhow::Result<Vec<DeliveryRow>>;
    /// Applies `update` if the row is in state `from`; `false` when it was not.
    fn update_delivery(
        &mut self,
        message_id: &str,
        from: EgressState,
        update: &DeliveryUpdate,
    ) -> anyhow::Result<bool>;
    /// Moves a pending row's next attempt from `from` to `to` (the egress
    /// worker's claim on it, or giving the claim back); `false` when the row
    /// is no longer pending with its next attempt at `from`. Nothing else
    /// changes, not `updated_at`: a claim is no news of the reply.
    fn move_next_attempt(
        &mut self,
        message_id: &str,
        from: UnixMillis,
        to: UnixMillis,
    ) -> anyhow::Result<bool>;
}
