//! Customer contacts arriving from channel adapters (and demo traffic).
//!
//! A message joins the customer's unresolved conversation in the same queue,
//! channel and adapter, or opens a new queued one with the queue's SLA
//! deadlines. The platform remembers which adapter each conversation came
//! through, so replies go back the same way (`egress`). `external_id`
//! makes delivery idempotent: a resend gets the first answer.
//! Photos are uploaded first (`POST /v1/attachments`) and named by id; the
//! message carries the platform's record of each.

use homedesk_protocol::rules;
use homedesk_protocol::{
    Author, Channel, Conversation, ConversationStatus, Customer, EntityKind, IngressAccepted,
    IngressMessage, Message, MessageKind, Priority, Record, UnixMillis,
};

use crate::error::ApiError;
use crate::storage::Tx;
use crate::visibility::{conversation_audience, save_conversation};

/// `138****5678`: agents never see a full phone number.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() < 7 {
        return "****".to_owned();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Longest `customer.phone`, `customer.city` and `category`, in characters.
pub const MAX_PHONE_CHARS: usize = 64;
pub const MAX_CITY_CHARS: usize = 100;
pub const MAX_CATEGORY_CHARS: usize = 64;

/// The limits `docs/openapi.yaml` states for `IngressMessage`: the required
/// texts must not be blank (only whitespace), and no text may be longer than
/// its limit in characters (Unicode scalar values, as JSON Schema counts).
fn check(msg: &IngressMessage) -> Result<(), ApiError> {
    let required = [
        ("external_id", msg.external_id.as_str(), 128),
        ("customer.id", msg.customer.id.as_str(), 128),
        ("customer.name", msg.customer.name.as_str(), 100),
        ("queue", msg.queue.as_str(), 64),
        ("subject", msg.subject.as_str(), 200),
    ];
    for (name, value, max) in required {
        if value.trim().is_empty() {
            return Err(ApiError::invalid(format!("{name}: must not be empty")));
        }
        if value.chars().count() > max {
            return Err(ApiError::invalid(format!(
                "{name}: longer than {max} characters"
            )));
        }
    }
    let optional = [
        (
            "customer.phone",
            Some(msg.customer.phone.as_str()),
            MAX_PHONE_CHARS,
        ),
        (
            "customer.city",
            msg.customer.city.as_deref(),
            MAX_CITY_CHARS,
        ),
        ("category", msg.category.as_deref(), MAX_CATEGORY_CHARS),
    ];
    for (name, value, max) in optional {
        if value.is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::invalid(format!(
                "{name}: longer than {max} characters"
            )));
        }
    }
    // The same rule as an agent's reply: text, photos or both.
    let ids: Vec<&str> = msg.attachments.iter().map(String::as_str).collect();
    rules::check_content(&msg.body, &ids).map_err(|refusal| ApiError::invalid(refusal.message))
}

/// Accepts one customer message that `adapter` brought. The outer
/// `Result` is a storage failure; the inner one a bad request (nothing
/// written).
pub fn accept(
    tx: &mut dyn Tx,
    adapter: &str,
    channel: Channel,
    msg: &IngressMessage,
    now: UnixMillis,
) -> anyhow::Result<Result<IngressAccepted, ApiError>> {
    if let Err(e) = check(msg) {
        return Ok(Err(e));
    }
    if let Some(stored) = tx.ingress_key(&msg.external_id)? {
        let mut first: IngressAccepted = serde_json::from_str(&stored)?;
        first.duplicate = true;
        return Ok(Ok(first));
    }
    let Some(Record::Queue(queue)) = tx.get(EntityKind::Queue, &msg.queue)? else {
        // Well formed, but naming nothing: 404, like an unknown conversation.
        return Ok(Err(ApiError::not_found(format!(
            "queue: {:?} is not a queue of this platform",
            msg.queue
        ))));
    };
    let ids: Vec<&str> = msg.attachments.iter().map(String::as_str).collect();
    let attachments = match crate::attachments::resolve(tx, &ids)? {
        Ok(stored) => stored,
        Err(unknown) => {
            // Well formed, but naming nothing: 404, like an unknown queue.
            return Ok(Err(ApiError::not_found(format!(
                "attachments: photo {unknown} is not stored on this platform; \
                 upload it first (POST /v1/attachments)"
            ))));
        }
    };

    let existing_orders = match tx.get(EntityKind::Customer, &msg.customer.id)? {
        Some(Record::Customer(c)) => c.orders,
        _ => Vec::new(),
    };
    let customer = Customer {
        id: msg.customer.id.clone(),
        name: msg.customer.name.clone(),
        phone_masked: mask_phone(&msg.customer.phone),
        city: msg.customer.city.clone(),
        orders: existing_orders,
    };

    let mut open = None;
    for status in [
        ConversationStatus::Queued,
        ConversationStatus::Active,
        ConversationStatus::Pending,
    ] {
        if open.is_some() {
            break;
        }
        for c in tx.conversations_with_status(status)? {
            // A conversation from before adapters were recorded joins any.
            if c.customer_id == customer.id
                && c.queue == queue.id
                && c.channel == channel
                && tx
                    .conversation_adapter(&c.id)?
                    .is_none_or(|their| their == adapter)
            {
                open = Some(c);
                break;
            }
        }
    }

    let message_id = format!("msg-{}", crate::auth::random_token(9));
    let conversation = match open {
        Some(before) => {
            let mut after = before.clone();
            after.version += 1;
            after.last_message_at = now;
            after.last_message_preview = crate::actions::preview(&msg.body);
            if after.status == ConversationStatus::Pending {
                after.status = ConversationStatus::Active;
            }
            save_conversation(tx, Some(&before), &after, now)?;
            after
        }
        None => {
            let c = Conversation {
                id: format!("conv-{}", crate::auth::random_token(9)),
                channel,
                queue: queue.id.clone(),
                customer_id: customer.id.clone(),
                subject: msg.subject.clone(),
                category: msg.category.clone(),
                status: ConversationStatus::Queued,
                assigned_to: None,
                priority: msg.priority.unwrap_or(Priority::Normal),
                created_at: now,
                // SLA clocks run only while the queue is open.
                first_response_due: queue
                    .business_hours
                    .add_open_time(now, queue.first_response_secs),
                resolve_due: queue.business_hours.add_open_time(now, queue.resolve_secs),
                first_response_at: None,
                last_message_at: now,
                last_message_preview: crate::actions::preview(&msg.body),
                disposition: None,
                version: 1,
            };
            save_conversation(tx, None, &c, now)?;
            c
        }
    };
    tx.set_conversation_adapter(&conversation.id, adapter)?;
    let audience = conversation_audience(&conversation);
    tx.put(&Record::Customer(customer), &audience, now)?;
    tx.put(
        &Record::Message(Message {
            id: message_id.clone(),
            conversation_id: conversation.id.clone(),
            author: Author::Customer,
            agent: None,
            kind: MessageKind::Text,
            body: msg.body.clone(),
            sent_at: now,
            attachments,
            delivery: None,
        }),
        &audience,
        now,
    )?;
    let accepted = IngressAccepted {
        conversation_id: conversation.id,
        message_id,
        duplicate: false,
    };
    tx.put_ingress_key(&msg.external_id, &serde_json::to_string(&accepted)?, now)?;
    Ok(Ok(accepted))
}
