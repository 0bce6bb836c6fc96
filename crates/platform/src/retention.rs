//! Retention of personal data on agents' PCs (PIPL): a conversation
//! resolved longer ago than `retention.conversation_days` (default 90)
//! leaves every workstation. The sweep logs a tombstone for the
//! conversation, each of its messages, and its customer once none of that
//! customer's conversations is still on the PCs; the workstation deletes
//! them with their drafts and photos. The platform keeps every row, so
//! supervisors still read the conversation (`GET /v1/conversations/{id}`).
//!
//! Invariants: the sweep is idempotent (a record whose newest change-log
//! entry is already a tombstone gets no second one), so it runs at start
//! and daily without flooding the log; a tombstone reaches everyone any
//! earlier entry of the record reached, so no PC keeps a copy.

use homedesk_protocol::{ConversationStatus, EntityKind, UnixMillis};

use crate::storage::Tx;

/// Tombstones every conversation resolved before `cutoff` and not swept
/// yet, with its messages and (when it was their last one on the PCs) its
/// customer. Returns how many conversations it took off the PCs.
pub fn sweep(tx: &mut dyn Tx, cutoff: UnixMillis, now: UnixMillis) -> anyhow::Result<usize> {
    let due = tx.resolved_before(cutoff)?;
    let mut swept = 0;
    for conversation in &due {
        // The conversation first: the workstation drops its thread, draft
        // and photos with it; the messages' own tombstones then reach a PC
        // that somehow kept one.
        if tx
            .tombstone(EntityKind::Conversation, &conversation.id, now)?
            .is_some()
        {
            swept += 1;
        }
        for message in tx.messages_of(&conversation.id)? {
            tx.tombstone(EntityKind::Message, &message.id, now)?;
        }
        let mut customer_gone = true;
        for other in tx.conversations_of_customer(&conversation.customer_id)? {
            if other.status != ConversationStatus::Resolved
                || !tx.tombstoned(EntityKind::Conversation, &other.id)?
            {
                customer_gone = false;
                break;
            }
        }
        if customer_gone {
            tx.tombstone(EntityKind::Customer, &conversation.customer_id, now)?;
        }
    }
    Ok(swept)
}
