//! Storage for the retention sweep (`crate::retention`): which resolved
//! conversations are due, and tombstones that take a record off the
//! workstations while the platform keeps its row. Kept beside
//! [`super::Tx`] as its own trait, like [`super::ReleaseTx`], so its SQL
//! lives in one file (`sqlite/retention.rs`).

use homedesk_protocol::{Conversation, EntityKind, UnixMillis};

pub trait RetentionTx {
    /// Resolved conversations whose newest change-log entry (the one that
    /// resolved them: nothing changes a resolved conversation afterwards)
    /// was written before `cutoff`, and that are not tombstoned yet.
    fn resolved_before(&mut self, cutoff: UnixMillis) -> anyhow::Result<Vec<Conversation>>;
    /// Logs a tombstone for the record, seen by everyone any of its earlier
    /// entries reached, and keeps its row. `None` (nothing written) when its
    /// newest entry is a tombstone already, or it was never in the log.
    fn tombstone(
        &mut self,
        kind: EntityKind,
        id: &str,
        now: UnixMillis,
    ) -> anyhow::Result<Option<u64>>;
    /// Whether the record's newest change-log entry is a tombstone.
    fn tombstoned(&mut self, kind: EntityKind, id: &str) -> anyhow::Result<bool>;
}
