//! Storage for the team console (`crate::console`): who holds each
//! conversation since when, a snapshot of every wrap-up for the reports,
//! and the audit of role changes. Kept beside [`super::Tx`] as its own
//! trait, like [`super::RetentionTx`], so its SQL lives in one file
//! (`sqlite/console.rs`).

use homedesk_protocol::{Channel, RoleChange, UnixMillis};

/// What the reports count of one wrap-up, as it was when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledContact {
    pub conversation_id: String,
    /// Who wrapped it up (its assignee then).
    pub agent: String,
    pub queue: String,
    pub channel: Channel,
    pub created_at: UnixMillis,
    /// When `agent` was given it; `None` when the platform does not know
    /// (assigned before it kept assignments).
    pub assigned_at: Option<UnixMillis>,
    pub first_response_at: Option<UnixMillis>,
    pub first_response_due: UnixMillis,
    pub resolve_due: UnixMillis,
    pub resolved_at: UnixMillis,
    pub after_contact_secs: i64,
}

pub trait ConsoleTx {
    /// Notes that `agent` was given the conversation at `assigned_at`
    /// (replacing whoever held it before).
    fn set_assignment(
        &mut self,
        conversation_id: &str,
        agent: &str,
        assigned_at: UnixMillis,
    ) -> anyhow::Result<()>;
    /// Who was last given the conversation, and when.
    fn assignment(&mut self, conversation_id: &str)
    -> anyhow::Result<Option<(String, UnixMillis)>>;
    fn insert_handled_contact(&mut self, contact: &HandledContact) -> anyhow::Result<()>;
    /// Contacts resolved in `[from, until)`, oldest first.
    fn handled_contacts(
        &mut self,
        from: UnixMillis,
        until: UnixMillis,
    ) -> anyhow::Result<Vec<HandledContact>>;
    /// Per agent, how many contacts they resolved at or after `since`.
    fn handled_counts_since(&mut self, since: UnixMillis) -> anyhow::Result<Vec<(String, u32)>>;
    /// Keeps a role change in the audit.
    fn insert_role_change(&mut self, change: &RoleChange) -> anyhow::Result<()>;
}
