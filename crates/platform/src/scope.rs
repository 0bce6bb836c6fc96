//! The sync scope on the platform: what `GET /v1/changes` gives an agent's
//! PC (docs/decisions/0035-sync-scope.md). The rule itself is shared with
//! the workstation ([`homedesk_protocol::scope::SyncScope`]); this module
//! applies it to log entries as they are read.
//!
//! Entries are judged by the *current* state of their conversation, not by
//! the snapshot they carry: the log holds the latest entry of every
//! conversation for its whole audience, so whatever a PC is sent now, the
//! entry that says where the conversation stands is still ahead of (or
//! behind) its cursor. A conversation out of scope is sent as a tombstone
//! (the PC may hold it: a colleague claimed it, it aged out while the PC was
//! away); its messages and customer are left out (the tombstone deletes the
//! thread). A conversation that comes back (released to the queue,
//! transferred to me) has its thread and customer logged again
//! (`visibility::save_conversation`).
//!
//! During a first sync the PC holds nothing it was not sent in this pass,
//! and every entry up to the log's end when the pass began (`first_until`,
//! carried in the cursor) is judged by a state that later entries can only
//! change with an entry after `first_until`. So those entries out of scope
//! are left out entirely: 10,000 old resolved conversations cost nothing.

use std::collections::HashMap;

use homedesk_protocol::scope::SyncScope;
use homedesk_protocol::{Change, ChangeBody, Conversation, EntityKind, Record};

use crate::storage::Tx;

/// Where the current state of conversations comes from: the database in a
/// request, the instance's shared read of the log's tail for an event
/// stream (`crate::tail`).
pub trait CurrentState {
    fn conversation(&mut self, id: &str) -> anyhow::Result<Option<Conversation>>;
    /// Every conversation of one customer, resolved ones too.
    fn conversations_of_customer(&mut self, id: &str) -> anyhow::Result<Vec<Conversation>>;
}

/// The current state as the database holds it, in a request's transaction.
pub struct InDatabase<'t, 'a>(pub &'t mut (dyn Tx + 'a));

impl CurrentState for InDatabase<'_, '_> {
    fn conversation(&mut self, id: &str) -> anyhow::Result<Option<Conversation>> {
        Ok(match self.0.get(EntityKind::Conversation, id)? {
            Some(Record::Conversation(c)) => Some(c),
            _ => None,
        })
    }

    fn conversations_of_customer(&mut self, id: &str) -> anyhow::Result<Vec<Conversation>> {
        self.0.conversations_of_customer(id)
    }
}

/// Judges log entries for one agent during one request.
pub struct ScopeFilter<'a> {
    scope: SyncScope<'a>,
    /// Entries up to here belong to the PC's first sync.
    first_until: u64,
    conversations: HashMap<String, bool>,
    customers: HashMap<String, bool>,
}

impl<'a> ScopeFilter<'a> {
    pub fn new(scope: SyncScope<'a>, first_until: u64) -> Self {
        ScopeFilter {
            scope,
            first_until,
            conversations: HashMap::new(),
            customers: HashMap::new(),
        }
    }

    /// The entry as this PC gets it: as is, as a tombstone, or not at all.
    pub fn admit(
        &mut self,
        tx: &mut dyn CurrentState,
        change: Change,
    ) -> anyhow::Result<Option<Change>> {
        let first_sync = change.seq <= self.first_until;
        let kept = match &change.body {
            ChangeBody::Delete { .. } => true,
            ChangeBody::Upsert(Record::Conversation(c)) => {
                if self.conversation_kept(tx, &c.id)? {
                    true
                } else if first_sync {
                    false
                } else {
                    return Ok(Some(Change {
                        seq: change.seq,
                        body: ChangeBody::Delete {
                            entity: EntityKind::Conversation,
                            id: c.id.clone(),
                        },
                    }));
                }
            }
            ChangeBody::Upsert(Record::Message(m)) => {
                self.conversation_kept(tx, &m.conversation_id)?
            }
            ChangeBody::Upsert(Record::Customer(k)) => self.customer_kept(tx, &k.id)?,
            ChangeBody::Upsert(_) => true,
        };
        Ok(kept.then_some(change))
    }

    fn conversation_kept(&mut self, tx: &mut dyn CurrentState, id: &str) -> anyhow::Result<bool> {
        if let Some(kept) = self.conversations.get(id) {
            return Ok(*kept);
        }
        let kept = tx.conversation(id)?.is_some_and(|c| self.scope.keeps(&c));
        self.conversations.insert(id.to_owned(), kept);
        Ok(kept)
    }

    fn customer_kept(&mut self, tx: &mut dyn CurrentState, id: &str) -> anyhow::Result<bool> {
        if let Some(kept) = self.customers.get(id) {
            return Ok(*kept);
        }
        let kept = tx
            .conversations_of_customer(id)?
            .iter()
            .any(|c| self.scope.keeps(c));
        self.customers.insert(id.to_owned(), kept);
        Ok(kept)
    }
}
