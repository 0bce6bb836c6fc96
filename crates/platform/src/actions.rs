//! Applying a batch of agent actions, exactly once each.
//!
//! For every action, in one transaction with the rest of its batch: look up
//! its idempotency key; a known key with the same action answers
//! `duplicate` with the first verdict, a known key with another action is
//! `key_reused`; otherwise the action is checked against the current state,
//! applied (or refused) and its verdict stored under the key. A refused
//! action changes nothing but its key record, so a resend is answered the
//! same way. A refusal carries its code and `RefusalParams` (who holds the
//! conversation now, the limit exceeded) so the workstation can say it in
//! the agent's language.
//!
//! What an action does to a conversation is decided by
//! [`homedesk_protocol::rules`], the one rule the workstation and the
//! practice simulator follow too; this module looks up what the rule needs
//! (the agent, the conversation, whether a target or message id exists,
//! the platform's record of each photo a reply names) and stores what it
//! decided. Wrap-ups and call logs also leave a contact
//! record (note, after-contact work, call times) that supervisors read with
//! `GET /v1/conversations/{id}`; each wrap-up also leaves the team
//! console's snapshot of the contact (`handled_contacts`) for the reports.

use homedesk_protocol::rules::{self, Actor, Refusal};
use homedesk_protocol::{
    Action, ActionCode, ActionEnvelope, ActionResult, ActionStatus, AgentProfile, Conversation,
    EntityKind, Message, Presence, PresenceReason, Record, Role, TransferTarget, UnixMillis,
    WrapUpRecord, is_valid_idempotency_key,
};
use sha2::{Digest, Sha256};

use crate::storage::{HandledContact, OfferState, StoredActionKey, Tx, everyone};
use crate::visibility::{conversation_audience, save_conversation};

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
        Err(refusal) => refusal.into_result(key),
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
        _ => Err(Refusal::rejected(
            ActionCode::NotFound,
            format!("agent {agent} does not exist"),
        )),
    })
}

fn load_conversation(tx: &mut dyn Tx, id: &str) -> Step<Conversation> {
    Ok(match tx.get(EntityKind::Conversation, id)? {
        Some(Record::Conversation(c)) => Ok(c),
        _ => Err(rules::not_found(id)),
    })
}

macro_rules! check {
    ($step:expr) => {
        match $step? {
            Ok(value) => value,
            Err(refusal) => return Ok(Err(refusal)),
        }
    };
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

/// Writes what the rules decided: the conversation (logged for its old
/// and new audience) and the message, wrap-up or call it made.
fn write_effects(
    tx: &mut dyn Tx,
    before: &Conversation,
    effects: &rules::Effects,
    now: UnixMillis,
) -> anyhow::Result<()> {
    if let Some(message) = &effects.message {
        let message = Message {
            delivery: crate::delivery::initial(message, now),
            ..message.clone()
        };
        tx.put(
            &Record::Message(message.clone()),
            &conversation_audience(before),
            now,
        )?;
        crate::egress::enqueue(tx, &message, now)?;
    }
    if let Some(after) = &effects.conversation {
        save_conversation(tx, Some(before), after, now)?;
    }
    if let Some(wrap_up) = &effects.wrap_up {
        tx.insert_wrap_up(&before.id, wrap_up)?;
        record_handled(tx, before, effects.conversation.as_ref(), wrap_up)?;
    }
    if let Some(call) = &effects.call {
        tx.insert_call(&before.id, call)?;
    }
    Ok(())
}

/// The reports' snapshot of a wrap-up (`handled_contacts`), as the
/// conversation stood when it was wrapped up.
fn record_handled(
    tx: &mut dyn Tx,
    before: &Conversation,
    after: Option<&Conversation>,
    wrap_up: &WrapUpRecord,
) -> anyhow::Result<()> {
    let c = after.unwrap_or(before);
    let assigned_at = tx
        .assignment(&c.id)?
        .filter(|(agent, _)| *agent == wrap_up.agent)
        .map(|(_, at)| at);
    tx.insert_handled_contact(&HandledContact {
        conversation_id: c.id.clone(),
        agent: wrap_up.agent.clone(),
        queue: c.queue.clone(),
        channel: c.channel,
        created_at: c.created_at,
        assigned_at,
        first_response_at: c.first_response_at,
        first_response_due: c.first_response_due,
        resolve_due: c.resolve_due,
        resolved_at: wrap_up.wrapped_at,
        after_contact_secs: wrap_up.after_contact_secs,
    })
}

fn apply_action(
    tx: &mut dyn Tx,
    agent: &str,
    action: &Action,
    now: UnixMillis,
    effects: &mut Effects,
) -> Step<()> {
    let me = check!(load_profile(tx, agent));
    if let Some(conversation_id) = action.conversation_id() {
        // What needs only the action is refused before anything is looked up.
        if let Err(refusal) = rules::check(action) {
            return Ok(Err(refusal));
        }
        if !me.role.works_live() {
            return Ok(Err(crate::visibility::not_live_refusal(me.role)));
        }
        let c = check!(load_conversation(tx, conversation_id));
        let mut done = match rules::apply(&c, &Actor::of(&me), action, now) {
            Ok(done) => done,
            Err(refusal) => return Ok(Err(refusal)),
        };
        // What the rules cannot see: the records the action names.
        if let Some(message) = &mut done.message {
            if tx.get(EntityKind::Message, &message.id)?.is_some() {
                return Ok(Err(rules::message_id_taken(&message.id)));
            }
            // The message keeps the platform's record of each photo, not
            // what the workstation said about it.
            let ids: Vec<&str> = message.attachments.iter().map(|a| a.id.as_str()).collect();
            match crate::attachments::resolve(tx, &ids)? {
                Ok(stored) => message.attachments = stored,
                Err(unknown) => return Ok(Err(rules::unknown_attachment(&unknown))),
            }
        }
        if let Action::Transfer { target, .. } = action {
            let exists = match target {
                TransferTarget::Queue(queue) => tx.get(EntityKind::Queue, queue)?.is_some(),
                TransferTarget::Agent(other) => match tx.get(EntityKind::AgentProfile, other)? {
                    Some(Record::AgentProfile(profile)) if !profile.role.works_live() => {
                        return Ok(Err(Refusal::rejected(
                            ActionCode::Forbidden,
                            format!(
                                "target: {other} is a {}; live conversations go to agents",
                                role_name(profile.role)
                            ),
                        )));
                    }
                    found => found.is_some(),
                },
            };
            if !exists {
                return Ok(Err(rules::unknown_target(target)));
            }
        }
        if let Action::InternalNote { body, .. } = action
            && let Err(refusal) = check_mentions(tx, body, &c)?
        {
            return Ok(Err(refusal));
        }
        if matches!(action, Action::Claim { .. }) {
            withdraw_offers(tx, conversation_id, None, effects)?;
        }
        write_effects(tx, &c, &done, now)?;
        effects.reroute |= done.reroute;
        // A call log moves nothing in the change log.
        effects.changed |= !matches!(action, Action::CallLog { .. });
        return Ok(Ok(()));
    }
    match action {
        Action::Presence { presence } => {
            // The agent's own choice: the platform's reason no longer applies.
            set_presence(tx, &me, *presence, None, now, effects)?;
        }
        Action::SetAgentPresence {
            agent: other,
            presence,
        } => {
            let target = match supervised_agent(tx, &me, other)? {
                Ok(target) => target,
                Err(refusal) => return Ok(Err(refusal)),
            };
            set_presence(
                tx,
                &target,
                *presence,
                Some(PresenceReason::SetBySupervisor),
                now,
                effects,
            )?;
        }
        Action::AcceptOffer { offer_id } | Action::DeclineOffer { offer_id } => {
            let accept = matches!(action, Action::AcceptOffer { .. });
            let offer = match tx.offer(offer_id)? {
                Some(offer) if offer.agent == agent => offer,
                _ => {
                    return Ok(Err(Refusal::rejected(
                        ActionCode::NotFound,
                        format!("offer {offer_id} was not made to you"),
                    )));
                }
            };
            if offer.state != OfferState::Open || offer.expires_at <= now {
                return Ok(Err(Refusal::conflict(
                    ActionCode::OfferExpired,
                    format!("offer {offer_id} has ended ({})", offer.state.as_str()),
                )));
            }
            if !accept {
                tx.set_offer_state(offer_id, OfferState::Declined)?;
                effects.reroute = true;
            } else if !me.role.works_live() {
                // Routing never offers to a trainee or trainer; an offer made
                // before their role changed is not taken either.
                tx.set_offer_state(offer_id, OfferState::Withdrawn)?;
                return Ok(Err(crate::visibility::not_live_refusal(me.role)));
            } else {
                let c = check!(load_conversation(tx, &offer.conversation_id));
                let done = match rules::accept_offer(&c, &Actor::of(&me)) {
                    Ok(done) => done,
                    Err(refusal) => {
                        tx.set_offer_state(offer_id, OfferState::Withdrawn)?;
                        return Ok(Err(refusal));
                    }
                };
                tx.set_offer_state(offer_id, OfferState::Accepted)?;
                withdraw_offers(tx, &c.id, Some(agent), effects)?;
                write_effects(tx, &c, &done, now)?;
            }
        }
        // Every action about a conversation was applied above.
        _ => {
            return Ok(Err(Refusal::rejected(
                ActionCode::Invalid,
                "this action names no conversation",
            )));
        }
    }
    effects.changed = true;
    Ok(Ok(()))
}

/// Sets `profile`'s presence with `reason` (`None`: their own choice). An
/// agent who is no longer available loses their open offers; one who is
/// gets routed to.
fn set_presence(
    tx: &mut dyn Tx,
    profile: &AgentProfile,
    presence: Presence,
    reason: Option<PresenceReason>,
    now: UnixMillis,
    effects: &mut Effects,
) -> anyhow::Result<()> {
    if profile.presence == presence && profile.presence_reason == reason {
        return Ok(());
    }
    let mut after = profile.clone();
    after.presence = presence;
    after.presence_reason = reason;
    tx.put(&Record::AgentProfile(after), &everyone(), now)?;
    if presence == Presence::Available {
        effects.reroute = true;
    } else {
        for offer in tx.open_offers()? {
            if offer.agent == profile.code {
                tx.set_offer_state(&offer.offer_id, OfferState::Withdrawn)?;
                effects.withdrawn.push((offer.agent, offer.offer_id));
                effects.reroute = true;
            }
        }
    }
    Ok(())
}

/// The profile of `other`, if `me` supervises one of their queues.
fn supervised_agent(tx: &mut dyn Tx, me: &AgentProfile, other: &str) -> Step<AgentProfile> {
    if me.role != Role::Supervisor {
        return Ok(Err(Refusal::rejected(
            ActionCode::Forbidden,
            "only a supervisor sets another agent's presence",
        )));
    }
    let target = match tx.get(EntityKind::AgentProfile, other)? {
        Some(Record::AgentProfile(profile)) => profile,
        _ => {
            return Ok(Err(Refusal::rejected(
                ActionCode::NotFound,
                format!("agent {other} does not exist"),
            )));
        }
    };
    let shared = target.queues.iter().any(|q| me.queues.contains(q));
    if !target.role.works_live() || !shared {
        return Ok(Err(Refusal::rejected(
            ActionCode::Forbidden,
            format!("agent {other} works none of the queues you supervise"),
        )));
    }
    Ok(Ok(target))
}

/// Every agent an internal note mentions (`@code`) must exist and see the
/// conversation, so the note reaches each of them.
fn check_mentions(tx: &mut dyn Tx, body: &str, c: &Conversation) -> Step<()> {
    for code in homedesk_protocol::mentions(body) {
        let seen = match tx.get(EntityKind::AgentProfile, code)? {
            Some(Record::AgentProfile(profile)) => crate::visibility::can_see(&profile, c),
            _ => {
                return Ok(Err(Refusal::rejected(
                    ActionCode::NotFound,
                    format!("@{code}: no agent has this code"),
                )));
            }
        };
        if !seen {
            return Ok(Err(Refusal::rejected(
                ActionCode::Forbidden,
                format!(
                    "@{code} cannot see conversation {} (queue {}); transfer it or mention someone of its queue",
                    c.id, c.queue
                ),
            )));
        }
    }
    Ok(Ok(()))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Agent => "agent",
        Role::Trainee => "trainee",
        Role::Supervisor => "supervisor",
        Role::Trainer => "trainer",
    }
}
