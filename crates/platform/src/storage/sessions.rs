//! Storage of what makes a sign-in endable: each family's absolute expiry,
//! the pair a refresh token was exchanged for, disabled agents and the
//! per-device secrets. Kept beside [`super::Tx`] as its own trait so the SQL
//! for this concern lives in one file (`sqlite/sessions.rs`).

use homedesk_protocol::UnixMillis;

/// One sign-in (a token family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRow {
    pub family: String,
    pub agent: String,
    pub device_id: String,
    pub created_at: UnixMillis,
    /// No token of the family works from then on, however it was refreshed.
    pub expires_at: UnixMillis,
}

pub trait SessionTx {
    fn insert_family(&mut self, row: &FamilyRow) -> anyhow::Result<()>;
    fn family(&mut self, family: &str) -> anyhow::Result<Option<FamilyRow>>;
    /// Of `families`, those that ended: revoked, expired at `now`, or forgotten.
    fn ended_families(
        &mut self,
        families: &[String],
        now: UnixMillis,
    ) -> anyhow::Result<Vec<String>>;
    /// Revokes every family of `agent`; returns them.
    fn revoke_agent_families(
        &mut self,
        agent: &str,
        now: UnixMillis,
    ) -> anyhow::Result<Vec<String>>;

    /// The (refresh, access) token hashes `refresh_hash` was exchanged for.
    fn refresh_child(&mut self, refresh_hash: &str) -> anyhow::Result<Option<(String, String)>>;
    fn set_refresh_child(
        &mut self,
        refresh_hash: &str,
        child_refresh: &str,
        child_access: &str,
    ) -> anyhow::Result<()>;
    /// Forgets one pair (an answer the workstation never received).
    fn delete_pair(&mut self, refresh_hash: &str, access_hash: &str) -> anyhow::Result<()>;

    /// Sets or clears `disabled_at`; `false` when there is no such agent.
    fn set_agent_disabled(
        &mut self,
        agent: &str,
        disabled_at: Option<UnixMillis>,
    ) -> anyhow::Result<bool>;
    fn agent_disabled(&mut self, agent: &str) -> anyhow::Result<bool>;

    /// The secret of `agent` on `device_id`, storing `new_secret` if it has none.
    fn device_secret(
        &mut self,
        agent: &str,
        device_id: &str,
        new_secret: &str,
        now: UnixMillis,
    ) -> anyhow::Result<String>;
}
