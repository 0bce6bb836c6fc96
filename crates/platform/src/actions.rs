//! Applying a batch of agent actions, exactly once each.
//!
//! For every action, in one transaction with the rest of its batch: look up
//! its idempotency key; a known key with the same action answers
//! `duplicate` with the first verdict, a known key with another action is
//! `key_reused`; otherwise the action is checked against the current state,
//! applied (or refused) and its verdict stored under the key. A refused
//! action changes nothing but its key record, so a resend is answered the
//! same way. A refusal carries its code and [`RefusalParams`] (who holds the
//! conversation now, the limit exceeded) so the workstation can say it in
//! the agent's language.
//!
//! Wrap-ups and call logs also leave a contact record (note, after-contact
//! work, call times) that supervisors read with `GET /v1/conversations/{id}`.

use homedesk_protocol::{
    Action, ActionCode, ActionEnvelope, ActionResult, ActionStatus, AgentProfile, Author,
    CallRecord, Conversation, ConversationStatus, DISPOSITIONS, EntityKind, InvalidRecord, Message,
    MessageKind, Presence, Record, RefusalParams, TransferTarget, UnixMillis, WrapUpRecord,
    check_call, check_wrap_up, is_valid_idempotency_key,
};
use sha2::{Digest, Sha256};

use crate::storage::{OfferState, StoredActionKey, Tx, everyone};
use crate::visibility::{can_see, conversation_audience, save_conversation};

/// Longest reply or note, in characters.
pub use homedesk_protocol::{MAX_MESSAGE_CHARS, preview};

/// What a batch did besides its verdicts, for the caller to announce.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Effects {
    /// The change log grew.
    pub changed: bool,
    /// Offers that ended without being accepted by their agent: (agent, offer).
    pub withdrawn: Vec<(String, String)>,
    /// Routing should run again (capacity freed, contact back in a queue).
    pub reroute: bool,
}

/// A verdict that stops an action: conflict or rejection.
struct Refusal {
    status: ActionStatus,
    code: ActionCode,
    message: String,
    params: RefusalParams,
}

impl Refusal {
    fn with(mut self, params: RefusalParams) -> Refusal {
        self.params = params;
        self
    }
}

fn conflict(code: ActionCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status: ActionStatus::Conflict,
        code,
        message: message.into(),
        params: RefusalParams::default(),
    }
}

fn rejected(code: ActionCode, message: impl Into<String>) -> Refusal {
    Refusal {
        status: ActionStatus::Rejected,
        code,
        message: message.into(),
        params: RefusalParams::default(),
    }
}

impl From<InvalidRecord> for Refusal {
    fn from(invalid: InvalidRecord) -> Refusal {
        rejected(invalid.code, invalid.message).with(invalid.params)
    }
}

fn holder(agent: Option<&String>) -> RefusalParams {
    RefusalParams {
        holder: agent.cloned(),
        ..RefusalParams::default()
    }
}

type Step<T> = anyhow::Result<Result<T, Refusal>>;

fn action_hash(action: &Action) -> anyhow::Result<String> {
    let json = serde_json::to_vec(action)?;
    Ok(Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Applies `batch` for `agent`. Returns one verdict per action, in order.
pub fn apply_batch(
    tx: &mut dyn Tx,
    agent: &str,
    batch: &[ActionEnvelope],
    now: UnixMillis,
) -> anyhow::Result<(Vec<ActionResult>, Effects)> {
    let mut effects = Effects::default();
    let mut results = Vec::with_capacity(batch.len());
    for envelope in batch {
        results.push(apply_one(tx, agent, envelope, now, &mut effects)?);
    }
    Ok((results, effects))
}

fn apply_one(
    tx: &mut dyn Tx,
    agent: &str,
    envelope: &ActionEnvelope,
    now: UnixMillis,
    effects: &mut Effects,
) -> anyhow::Result<ActionResult> {
    let key = envelope.key.as_str();
    if !is_valid_idempotency_key(key) {
        // Not stored: there is no valid key to store it under.
        return Ok(ActionResult::refused(
            key,
            ActionStatus::Rejected,
            ActionCode::Invalid,
            "key: an idempotency key is 8 to 128 characters of A-Z a-z 0-9 . _ : -",
        ));
    }
    let hash = action_hash(&envelope.action)?;
    if let Some(stored) = tx.action_key(agent, key)? {
        if stored.action_hash == hash {
            return Ok(ActionResult {
                key: key.to_owned(),
                status: ActionStatus::Duplicate,
                code: stored.result.code,
                message: stored.result.message.clone(),
                params: stored.result.params.clone(),
                original: Some(Box::new(stored.result)),
            });
        }
        return Ok(ActionResult::refused(
            key,
            ActionStatus::Rejected,
            ActionCode::KeyReused,
            "this idempotency key was already used for a different action; \
             every action needs its own key",
        ));
    }
    let result = match apply_action(tx, agent, &envelope.action, now, effects)? {
        Ok(()) => ActionResult::applied(key),
        Err(refusal) => ActionResult::refused(key, refusal.status, refusal.code, refusal.message)
            .with_params(refusal.params),
    };
    tx.put_action_key(
        agent,
        key,
        &StoredActionKey {
            action_hash: hash,
            result: result.clone(),
        },
        now,
    )?;
    Ok(result)
}

fn load_profile(tx: &mut dyn Tx, agent: &str) -> Step<AgentProfile> {
    Ok(match tx.get(EntityKind::AgentProfile, agent)? {
        Some(Record::AgentProfile(p)) => Ok(p),
        _ => Err(rejected(
            ActionCode::NotFound,
            format!("agent {agent} does not exist"),
        )),
    })
}

fn load_conversation(tx: &mut dyn Tx, id: &str) -> Step<Conversation> {
    Ok(match tx.get(EntityKind::Conversation, id)? {
        Some(Record::Conversation(c)) => Ok(c),
        _ => Err(rejected(
            ActionCode::NotFound,
            format!("conversation {id} does not exist"),
        )),
    })
}

/// The conversation, if it is assigned to `agent` and not resolved.
fn held_by(tx: &mut dyn Tx, id: &str, agent: &str) -> Step<Conversation> {
    let c = match load_conversation(tx, id)? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if c.status == ConversationStatus::Resolved {
        return Ok(Err(conflict(
            ActionCode::AlreadyResolved,
            format!("conversation {id} was already resolved"),
        )));
    }
    if c.assigned_to.as_deref() != Some(agent) {
        let holder = match &c.assigned_to {
            Some(other) => format!("it is now assigned to {other}"),
            None => "it is back in its queue".to_owned(),
        };
        return Ok(Err(conflict(
            ActionCode::NotAssigned,
            format!("conversation {id} is not assigned to you: {holder}"),
        )
        .with(self::holder(c.assigned_to.as_ref()))));
    }
    Ok(Ok(c))
}

macro_rules! check {
    ($step:expr) => {
        match $step? {
            Ok(value) => value,
            Err(refusal) => return Ok(Err(refusal)),
        }
    };
}

fn bumped(mut c: Conversation) -> Conversation {
    c.version += 1;
    c
}

fn check_message(message_id: &str, body: &str) -> Result<(), Refusal> {
    if message_id.is_empty() || message_id.len() > 128 {
        return Err(rejected(
            ActionCode::Invalid,
            "message_id: 1 to 128 characters",
        ));
    }
    if body.trim().is_empty() {
        return Err(rejected(ActionCode::Invalid, "body: the message is empty"));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(rejected(
            ActionCode::TooLong,
            format!("body: longer than {MAX_MESSAGE_CHARS} characters"),
        )
        .with(RefusalParams {
            field: Some("body".into()),
            limit: Some(MAX_MESSAGE_CHARS as i64),
            ..RefusalParams::default()
        }));
    }
    Ok(())
}

/// Ends every open offer of a conversation (someone took it another way).
fn withdraw_offers(
    tx: &mut dyn Tx,
    conversation_id: &str,
    except_agent: Option<&str>,
    effects: &mut Effects,
) -> anyhow::Result<()> {
    for offer in tx.offers_for_conversation(conversation_id)? {
        if offer.state == OfferState::Open {
            tx.set_offer_state(&offer.offer_id, OfferState::Withdrawn)?;
            if except_agent != Some(offer.agent.as_str()) {
                effects.withdrawn.push((offer.agent, offer.offer_id));
            }
        }
    }
    Ok(())
}

fn assign(
    tx: &mut dyn Tx,
    before: &Conversation,
    agent: &str,
    now: UnixMillis,
) -> anyhow::Result<()> {
    let mut after = bumped(before.clone());
    after.assigned_to = Some(agent.to_owned());
    after.status = ConversationStatus::Active;
    save_conversation(tx, Some(before), &after, now)?;
    Ok(())
}

fn apply_action(
    tx: &mut dyn Tx,
    agent: &str,
    action: &Action,
    now: UnixMillis,
    effects: &mut Effects,
) -> Step<()> {
    let me = check!(load_profile(tx, agent));
    match action {
        Action::Claim { conversation_id } => {
            let c = check!(load_conversation(tx, conversation_id));
            if !can_see(&me, &c) {
                return Ok(Err(rejected(
                    ActionCode::Forbidden,
                    format!(
                        "conversation {conversation_id} is in queue {}, which is not yours",
                        c.queue
                    ),
                )
                .with(RefusalParams {
                    queue: Some(c.queue.clone()),
                    ..RefusalParams::default()
                })));
            }
            match c.status {
                ConversationStatus::Queued => {}
                ConversationStatus::Resolved => {
                    return Ok(Err(conflict(
                        ActionCode::AlreadyResolved,
                        format!("conversation {conversation_id} was already resolved"),
                    )));
                }
                _ => {
                    let holder = c.assigned_to.clone().unwrap_or_default();
                    return Ok(Err(conflict(
                        ActionCode::AlreadyClaimed,
                        format!("conversation {conversation_id} was already taken by {holder}"),
                    )
                    .with(self::holder(c.assigned_to.as_ref()))));
                }
            }
            withdraw_offers(tx, conversation_id, None, effects)?;
            assign(tx, &c, agent, now)?;
        }
        Action::Release { conversation_id } => {
            let c = check!(held_by(tx, conversation_id, agent));
            let mut after = bumped(c.clone());
            after.assigned_to = None;
            after.status = ConversationStatus::Queued;
            save_conversation(tx, Some(&c), &after, now)?;
            effects.reroute = true;
        }
        Action::Reply {
            conversation_id,
            message_id,
            body,
        }
        | Action::InternalNote {
            conversation_id,
            message_id,
            body,
        } => {
            let is_note = matches!(action, Action::InternalNote { .. });
            if let Err(r) = check_message(message_id, body) {
                return Ok(Err(r));
            }
            let c = if is_note {
                let c = check!(load_conversation(tx, conversation_id));
                if !can_see(&me, &c) {
                    return Ok(Err(rejected(
                        ActionCode::Forbidden,
                        format!("conversation {conversation_id} is not visible to you"),
                    )
                    .with(RefusalParams {
                        queue: Some(c.queue.clone()),
                        ..RefusalParams::default()
                    })));
                }
                c
            } else {
                check!(held_by(tx, conversation_id, agent))
            };
            if tx.get(EntityKind::Message, message_id)?.is_some() {
                return Ok(Err(rejected(
                    ActionCode::Invalid,
                    format!("message_id: {message_id} already exists; choose a new id"),
                )));
            }
            let message = Message {
                id: message_id.clone(),
                conversation_id: conversation_id.clone(),
                author: Author::Agent,
                agent: Some(agent.to_owned()),
                kind: if is_note {
                    MessageKind::Note
                } else {
                    MessageKind::Text
                },
                body: body.clone(),
                sent_at: now,
            };
            tx.put(&Record::Message(message), &conversation_audience(&c), now)?;
            if !is_note {
                let mut after = bumped(c.clone());
                after.first_response_at.get_or_insert(now);
                after.last_message_at = now;
                after.last_message_preview = preview(body);
                if after.status == ConversationStatus::Pending {
                    after.status = ConversationStatus::Active;
                }
                save_conversation(tx, Some(&c), &after, now)?;
            }
        }
        Action::SetStatus {
            conversation_id,
            status,
        } => {
            if !matches!(
                status,
                ConversationStatus::Active | ConversationStatus::Pending
            ) {
                return Ok(Err(rejected(
                    ActionCode::Invalid,
                    "status: only active or pending can be set; resolve with wrap_up, \
                     put back with release",
                )));
            }
            let c = check!(held_by(tx, conversation_id, agent));
            if c.status != *status {
                let mut after = bumped(c.clone());
                after.status = *status;
                save_conversation(tx, Some(&c), &after, now)?;
            }
        }
        Action::Transfer {
            conversation_id,
            target,
        } => {
            let c = check!(held_by(tx, conversation_id, agent));
            let mut after = bumped(c.clone());
            match target {
                TransferTarget::Queue(queue) => {
                    if tx.get(EntityKind::Queue, queue)?.is_none() {
                        return Ok(Err(rejected(
                            ActionCode::NotFound,
                            format!("target: queue {queue} does not exist"),
                        )));
                    }
                    after.queue = queue.clone();
                    after.assigned_to = None;
                    after.status = ConversationStatus::Queued;
                    effects.reroute = true;
                }
                TransferTarget::Agent(other) => {
                    if tx.get(EntityKind::AgentProfile, other)?.is_none() {
                        return Ok(Err(rejected(
                            ActionCode::NotFound,
                            format!("target: agent {other} does not exist"),
                        )));
                    }
                    if other == agent {
                        return Ok(Err(rejected(
                            ActionCode::Invalid,
                            "target: the conversation is already yours",
                        )));
                    }
                    after.assigned_to = Some(other.clone());
                    after.status = ConversationStatus::Active;
                }
            }
            save_conversation(tx, Some(&c), &after, now)?;
        }
        Action::WrapUp {
            conversation_id,
            disposition,
            note,
            after_contact_secs,
        } => {
            if !DISPOSITIONS.contains(&disposition.as_str()) {
                return Ok(Err(rejected(
                    ActionCode::UnknownDisposition,
                    format!(
                        "disposition: {disposition:?} is not one of {}",
                        DISPOSITIONS.join(", ")
                    ),
                )));
            }
            if let Err(invalid) = check_wrap_up(note.as_deref(), *after_contact_secs) {
                return Ok(Err(invalid.into()));
            }
            let c = check!(held_by(tx, conversation_id, agent));
            let mut after = bumped(c.clone());
            after.status = ConversationStatus::Resolved;
            after.disposition = Some(disposition.clone());
            save_conversation(tx, Some(&c), &after, now)?;
            tx.insert_wrap_up(
                conversation_id,
                &WrapUpRecord {
                    agent: agent.to_owned(),
                    disposition: disposition.clone(),
                    note: note.clone(),
                    after_contact_secs: *after_contact_secs,
                    wrapped_at: now,
                },
            )?;
            effects.reroute = true;
        }
        Action::CallLog {
            conversation_id,
            started_at,
            ended_at,
        } => {
            let duration_secs = match check_call(*started_at, *ended_at) {
                Ok(secs) => secs,
                Err(invalid) => return Ok(Err(invalid.into())),
            };
            // A call that happened is kept even if the conversation moved
            // on meanwhile; it only has to be one the agent may see.
            let c = check!(load_conversation(tx, conversation_id));
            if !can_see(&me, &c) {
                return Ok(Err(rejected(
                    ActionCode::Forbidden,
                    format!("conversation {conversation_id} is not visible to you"),
                )
                .with(RefusalParams {
                    queue: Some(c.queue.clone()),
                    ..RefusalParams::default()
                })));
            }
            tx.insert_call(
                conversation_id,
                &CallRecord {
                    agent: agent.to_owned(),
                    started_at: *started_at,
                    ended_at: *ended_at,
                    duration_secs,
                    logged_at: now,
                },
            )?;
            // Nothing in the change log moved.
            return Ok(Ok(()));
        }
        Action::Presence { presence } => {
            if me.presence != *presence || me.presence_reason.is_some() {
                let mut after = me.clone();
                after.presence = *presence;
                // The agent's own choice: the platform's reason no longer applies.
                after.presence_reason = None;
                tx.put(&Record::AgentProfile(after), &everyone(), now)?;
                if *presence == Presence::Available {
                    effects.reroute = true;
                } else {
                    for offer in tx.open_offers()? {
                        if offer.agent == agent {
                            tx.set_offer_state(&offer.offer_id, OfferState::Withdrawn)?;
                            effects.withdrawn.push((offer.agent, offer.offer_id));
                            effects.reroute = true;
                        }
                    }
                }
            }
        }
        Action::AcceptOffer { offer_id } | Action::DeclineOffer { offer_id } => {
            let accept = matches!(action, Action::AcceptOffer { .. });
            let offer = match tx.offer(offer_id)? {
                Some(offer) if offer.agent == agent => offer,
                _ => {
                    return Ok(Err(rejected(
                        ActionCode::NotFound,
                        format!("offer {offer_id} was not made to you"),
                    )));
                }
            };
            if offer.state != OfferState::Open || offer.expires_at <= now {
                return Ok(Err(conflict(
                    ActionCode::OfferExpired,
                    format!("offer {offer_id} has ended ({})", offer.state.as_str()),
                )));
            }
            if !accept {
                tx.set_offer_state(offer_id, OfferState::Declined)?;
                effects.reroute = true;
            } else {
                let c = check!(load_conversation(tx, &offer.conversation_id));
                if c.status != ConversationStatus::Queued {
                    tx.set_offer_state(offer_id, OfferState::Withdrawn)?;
                    return Ok(Err(conflict(
                        ActionCode::AlreadyClaimed,
                        format!("conversation {} was already taken", c.id),
                    )
                    .with(holder(c.assigned_to.as_ref()))));
                }
                tx.set_offer_state(offer_id, OfferState::Accepted)?;
                withdraw_offers(tx, &c.id, Some(agent), effects)?;
                assign(tx, &c, agent, now)?;
            }
        }
    }
    effects.changed = true;
    Ok(Ok(()))
}
