//! Storage of the failed sign-in counters (`crate::sign_in_limits`, migration
//! 0011): kept in the database so every platform instance on it counts the
//! same failures (issue 19). Kept beside [`super::Tx`] as its own trait so
//! the SQL for this concern lives in one file (`sqlite/limits.rs`,
//! `postgres/limits.rs`). The rules (how a failure changes a counter, when
//! one is forgotten) are `sign_in_limits`'; this only keeps the rows.

use homedesk_protocol::UnixMillis;

/// One counter: of an agent code (`kind` "agent") or a client address
/// ("address"), named by `subject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInCounter {
    pub failures: u32,
    pub last_failure: UnixMillis,
    /// Sign-ins wait until then; 0 (or any past time): no wait.
    pub wait_until: UnixMillis,
}

pub trait LimitTx {
    fn sign_in_counter(
        &mut self,
        kind: &str,
        subject: &str,
    ) -> anyhow::Result<Option<SignInCounter>>;
    /// Writes the counter, new or replacing the one kept.
    fn put_sign_in_counter(
        &mut self,
        kind: &str,
        subject: &str,
        counter: &SignInCounter,
    ) -> anyhow::Result<()>;
    /// `false` when there was none.
    fn delete_sign_in_counter(&mut self, kind: &str, subject: &str) -> anyhow::Result<bool>;
    /// How many counters are kept.
    fn sign_in_counters(&mut self) -> anyhow::Result<u64>;
    /// Deletes the counters whose last failure was at or before
    /// `quiet_since` and that make no one wait at `now`; how many.
    fn forget_sign_in_counters(
        &mut self,
        quiet_since: UnixMillis,
        now: UnixMillis,
    ) -> anyhow::Result<u64>;
    /// Deletes the `count` counters whose last failure is oldest; how many.
    fn drop_oldest_sign_in_counters(&mut self, count: u64) -> anyhow::Result<u64>;
}
