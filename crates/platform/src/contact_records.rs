//! `GET /v1/conversations/{id}`: a conversation with what the agents did on
//! it that the conversation itself does not hold — each wrap-up's note and
//! after-contact work, and each call logged from the call screen — and its
//! thread and customer, which a workstation shows when it opens a
//! conversation outside its sync scope (docs/decisions/0035-sync-scope.md).
//!
//! An agent reads a conversation they may see (their queue or their own),
//! a supervisor any of the queues they supervise, else `403 forbidden`. The records are written
//! by `actions` in the transaction of the wrap-up or call log that made them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use homedesk_protocol::{ConversationRecord, EntityKind, Record};

use crate::Platform;
use crate::error::ApiError;
use crate::http::Agent;
use crate::storage::Tx;
use crate::visibility::can_see;

/// The conversation `id` with its contact records, if `caller` may read it.
pub fn read(
    tx: &mut dyn Tx,
    caller: &str,
    id: &str,
) -> anyhow::Result<Result<ConversationRecord, ApiError>> {
    let Some(Record::AgentProfile(me)) = tx.get(EntityKind::AgentProfile, caller)? else {
        return Ok(Err(ApiError::forbidden("your agent profile is gone")));
    };
    let Some(Record::Conversation(conversation)) = tx.get(EntityKind::Conversation, id)? else {
        return Ok(Err(ApiError::not_found(format!(
            "conversation {id} does not exist"
        ))));
    };
    if !can_see(&me, &conversation) {
        return Ok(Err(ApiError::forbidden(format!(
            "conversation {id} is in queue {}, which is not yours; a supervisor of that queue can read it",
            conversation.queue
        ))));
    }
    let customer = match tx.get(EntityKind::Customer, &conversation.customer_id)? {
        Some(Record::Customer(customer)) => Some(customer),
        _ => None,
    };
    Ok(Ok(ConversationRecord {
        wrap_ups: tx.wrap_ups_of(id)?,
        calls: tx.calls_of(id)?,
        messages: tx.messages_of(id)?,
        customer,
        conversation,
    }))
}

pub async fn get_conversation(
    State(platform): State<Arc<Platform>>,
    Agent(caller): Agent,
    Path(id): Path<String>,
) -> Result<Json<ConversationRecord>, ApiError> {
    if id.is_empty() || id.chars().count() > 128 {
        return Err(ApiError::invalid("id: 1 to 128 characters"));
    }
    let record = platform
        .blocking(move |p| p.storage.read_with(|tx| read(tx, &caller.agent, &id)))
        .await??;
    Ok(Json(record))
}
