//! Where each agent reply stands on its way to the customer: `queued` when
//! the platform stores it, then `sent`, `delivered` or `failed` as the
//! channel reports. The state lives on the message record itself, so it
//! reaches workstations through the change feed like any other change.
//!
//! Who moves it: the egress worker for channels with an outbound webhook,
//! the web chat for its own customers. Both go through [`set`].

use homedesk_protocol::{
    Author, Delivery, DeliveryState, EntityKind, Message, MessageKind, Record, UnixMillis,
};

use crate::storage::Tx;
use crate::visibility::conversation_audience;

/// The state a newly stored message starts in: `queued` for an agent's
/// reply, nothing for notes and the customer's own messages.
pub fn initial(message: &Message, now: UnixMillis) -> Option<Delivery> {
    (message.author == Author::Agent && message.kind == MessageKind::Text).then_some(Delivery {
        state: DeliveryState::Queued,
        reason: None,
        updated_at: now,
    })
}

/// Moves `message_id` to `state` and logs the change for the conversation's
/// audience. Returns the updated message, or `None` when there is no such
/// message or it is not an agent's reply (nothing is written then).
pub fn set(
    tx: &mut dyn Tx,
    message_id: &str,
    state: DeliveryState,
    reason: Option<String>,
    now: UnixMillis,
) -> anyhow::Result<Option<Message>> {
    let Some(Record::Message(mut message)) = tx.get(EntityKind::Message, message_id)? else {
        return Ok(None);
    };
    if initial(&message, now).is_none() {
        return Ok(None);
    }
    let Some(Record::Conversation(conversation)) =
        tx.get(EntityKind::Conversation, &message.conversation_id)?
    else {
        return Ok(None);
    };
    message.delivery = Some(Delivery {
        state,
        reason,
        updated_at: now,
    });
    tx.put(
        &Record::Message(message.clone()),
        &conversation_audience(&conversation),
        now,
    )?;
    Ok(Some(message))
}
