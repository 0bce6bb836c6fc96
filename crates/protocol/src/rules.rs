//! What an agent action does to a conversation, written once.
//!
//! The platform applies actions for real, the workstation shows their effect
//! before the platform confirms (its optimistic view) and the practice
//! simulator plays the platform in the sandbox. All three call [`apply`]:
//! a pure function from the conversation as it stands, who acts and what
//! they do, to either the [`Effects`] to write or the [`Refusal`] the
//! platform answers (an [`ActionCode`] with its [`RefusalParams`]). The
//! callers only store what it says.
//!
//! Invariants: a refused action changes nothing; an applied action that
//! changes the conversation returns it with `version` one higher, and one
//! that does not (a note, a call log, a status set to what it already is)
//! returns no conversation. What `apply` cannot see — whether a transfer's
//! target or a message id exists — the caller checks after it, with the
//! refusals made here ([`unknown_target`], [`message_id_taken`]), so every
//! caller answers in the same order and the same words.

use crate::actions::{
    Action, ActionCode, ActionResult, ActionStatus, DISPOSITIONS, MAX_ATTACHMENTS_PER_MESSAGE,
    MAX_MESSAGE_CHARS, RefusalParams, TransferTarget, preview,
};
use crate::contact_records::{CallRecord, InvalidRecord, WrapUpRecord, check_call, check_wrap_up};
use crate::entities::{
    AgentProfile, Attachment, Author, Conversation, ConversationStatus, LOCAL_ATTACHMENT_PREFIX,
    Message, MessageKind, Role, UnixMillis,
};

/// Longest message id a workstation may choose, in bytes.
pub const MAX_MESSAGE_ID_LEN: usize = 128;

/// Who acts, as far as the rules care: their code and which conversations
/// they may see (their queues' and their own; a supervisor's queues are the
/// queues they supervise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor<'a> {
    pub code: &'a str,
    pub role: Role,
    pub queues: &'a [String],
}

impl<'a> Actor<'a> {
    pub fn of(profile: &'a AgentProfile) -> Actor<'a> {
        Actor {
            code: &profile.code,
            role: profile.role,
            queues: &profile.queues,
        }
    }

    /// Whether this actor may see (and so act on) `c`.
    pub fn can_see(&self, c: &Conversation) -> bool {
        c.assigned_to.as_deref() == Some(self.code) || self.queues.contains(&c.queue)
    }

    /// Whether this actor supervises `c`'s queue: a supervisor may reassign
    /// any unresolved conversation of the queues their profile names.
    pub fn supervises(&self, c: &Conversation) -> bool {
        self.role == Role::Supervisor && self.queues.contains(&c.queue)
    }
}

/// Why an action was not applied: a conflict (the world moved on) or a
/// rejection (it can never apply), with the code and params the workstation
/// words in the agent's language; `message` is for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: ActionStatus,
    pub code: ActionCode,
    pub params: RefusalParams,
    pub message: String,
}

impl Refusal {
    pub fn conflict(code: ActionCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status: ActionStatus::Conflict,
            code,
            params: RefusalParams::default(),
            message: message.into(),
        }
    }

    pub fn rejected(code: ActionCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status: ActionStatus::Rejected,
            code,
            params: RefusalParams::default(),
            message: message.into(),
        }
    }

    /// The same refusal with what it is about.
    pub fn with(mut self, params: RefusalParams) -> Refusal {
        self.params = params;
        self
    }

    /// The verdict for the action sent under `key`.
    pub fn into_result(self, key: &str) -> ActionResult {
        ActionResult::refused(key, self.status, self.code, self.message).with_params(self.params)
    }
}

impl From<InvalidRecord> for Refusal {
    fn from(invalid: InvalidRecord) -> Refusal {
        Refusal::rejected(invalid.code, invalid.message).with(invalid.params)
    }
}

/// What an applied action changes. Empty fields change nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// The conversation as it is now, `version` one higher; `None` when the
    /// action leaves it as it was.
    pub conversation: Option<Conversation>,
    /// A reply or note to add to the thread.
    pub message: Option<Message>,
    /// The wrap-up record supervisors read.
    pub wrap_up: Option<WrapUpRecord>,
    /// The call record supervisors read.
    pub call: Option<CallRecord>,
    /// The conversation went back to a queue or the agent's capacity was
    /// freed: routing should run again.
    pub reroute: bool,
}

/// The refusal for a conversation that does not exist (the caller's lookup
/// found nothing).
pub fn not_found(conversation_id: &str) -> Refusal {
    Refusal::rejected(
        ActionCode::NotFound,
        format!("conversation {conversation_id} does not exist"),
    )
}

/// The refusal for a transfer whose target queue or agent does not exist.
pub fn unknown_target(target: &TransferTarget) -> Refusal {
    let what = match target {
        TransferTarget::Queue(queue) => format!("queue {queue}"),
        TransferTarget::Agent(agent) => format!("agent {agent}"),
    };
    Refusal::rejected(
        ActionCode::NotFound,
        format!("target: {what} does not exist"),
    )
}

/// The refusal for a reply or note whose message id is already used.
pub fn message_id_taken(message_id: &str) -> Refusal {
    Refusal::rejected(
        ActionCode::Invalid,
        format!("message_id: {message_id} already exists; choose a new id"),
    )
}

/// The refusal for a reply naming a photo the platform does not hold (never
/// uploaded, or a workstation's `local-` id that was not replaced).
pub fn unknown_attachment(id: &str) -> Refusal {
    Refusal::rejected(
        ActionCode::UnknownAttachment,
        format!(
            "attachments: photo {id} is not stored on the platform; upload it first (POST /v1/attachments)"
        ),
    )
}

fn holder(agent: Option<&String>) -> RefusalParams {
    RefusalParams {
        holder: agent.cloned(),
        ..RefusalParams::default()
    }
}

fn forbidden(message: String, queue: &str) -> Refusal {
    Refusal::rejected(ActionCode::Forbidden, message).with(RefusalParams {
        queue: Some(queue.to_owned()),
        ..RefusalParams::default()
    })
}

fn check_message(message_id: &str, body: &str, attachments: &[Attachment]) -> Result<(), Refusal> {
    if message_id.is_empty() || message_id.len() > MAX_MESSAGE_ID_LEN {
        return Err(Refusal::rejected(
            ActionCode::Invalid,
            "message_id: 1 to 128 characters",
        ));
    }
    let ids: Vec<&str> = attachments.iter().map(|a| a.id.as_str()).collect();
    check_content(body, &ids)
}

/// What a message says, whoever sends it (an agent's reply, a customer's
/// message from a channel): at most [`MAX_ATTACHMENTS_PER_MESSAGE`]
/// photos, each named by an attachment id, text or photos or both, and
/// text of at most [`MAX_MESSAGE_CHARS`]. Whether each photo exists is the
/// platform's check, not this one.
pub fn check_content(body: &str, attachment_ids: &[&str]) -> Result<(), Refusal> {
    if attachment_ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(Refusal::rejected(
            ActionCode::Invalid,
            format!("attachments: at most {MAX_ATTACHMENTS_PER_MESSAGE} photos per message"),
        ));
    }
    if let Some(bad) = attachment_ids.iter().find(|id| !is_attachment_id(id)) {
        return Err(Refusal::rejected(
            ActionCode::UnknownAttachment,
            format!("attachments: {bad:?} is not an attachment id"),
        ));
    }
    if body.trim().is_empty() && attachment_ids.is_empty() {
        return Err(Refusal::rejected(
            ActionCode::Invalid,
            "body: the message is empty",
        ));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Refusal::rejected(
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

/// The checks that need nothing but the action itself: message length,
/// disposition, after-contact work, call times, which statuses may be set.
/// [`apply`] makes them first; the workstation makes them before an action
/// enters its outbox, and the platform before it looks anything up.
pub fn check(action: &Action) -> Result<(), Refusal> {
    match action {
        Action::Reply {
            message_id,
            body,
            attachments,
            ..
        } => check_message(message_id, body, attachments),
        Action::InternalNote {
            message_id, body, ..
        } => check_message(message_id, body, &[]),
        Action::SetStatus { status, .. } => {
            if matches!(
                status,
                ConversationStatus::Active | ConversationStatus::Pending
            ) {
                Ok(())
            } else {
                Err(Refusal::rejected(
                    ActionCode::Invalid,
                    "status: only active or pending can be set; resolve with wrap_up, \
                     put back with release",
                ))
            }
        }
        Action::WrapUp {
            disposition,
            note,
            after_contact_secs,
            ..
        } => {
            if !DISPOSITIONS.contains(&disposition.as_str()) {
                return Err(Refusal::rejected(
                    ActionCode::UnknownDisposition,
                    format!(
                        "disposition: {disposition:?} is not one of {}",
                        DISPOSITIONS.join(", ")
                    ),
                ));
            }
            Ok(check_wrap_up(note.as_deref(), *after_contact_secs)?)
        }
        Action::CallLog {
            started_at,
            ended_at,
            ..
        } => check_call(*started_at, *ended_at)
            .map(|_| ())
            .map_err(Into::into),
        Action::Claim { .. }
        | Action::Release { .. }
        | Action::Transfer { .. }
        | Action::Presence { .. }
        | Action::SetAgentPresence { .. }
        | Action::AcceptOffer { .. }
        | Action::DeclineOffer { .. } => Ok(()),
    }
}

/// Refused once the conversation is resolved.
fn not_resolved(c: &Conversation) -> Result<(), Refusal> {
    if c.status == ConversationStatus::Resolved {
        return Err(Refusal::conflict(
            ActionCode::AlreadyResolved,
            format!("conversation {} was already resolved", c.id),
        ));
    }
    Ok(())
}

/// The conversation, if `actor` holds it and it is not resolved.
fn held_by(c: &Conversation, actor: &Actor<'_>) -> Result<(), Refusal> {
    let id = &c.id;
    not_resolved(c)?;
    if c.assigned_to.as_deref() != Some(actor.code) {
        let now_where = match &c.assigned_to {
            Some(other) => format!("it is now assigned to {other}"),
            None => "it is back in its queue".to_owned(),
        };
        return Err(Refusal::conflict(
            ActionCode::NotAssigned,
            format!("conversation {id} is not assigned to you: {now_where}"),
        )
        .with(holder(c.assigned_to.as_ref())));
    }
    Ok(())
}

fn bumped(c: &Conversation) -> Conversation {
    let mut after = c.clone();
    after.version += 1;
    after
}

fn assigned(c: &Conversation, agent: &str) -> Conversation {
    let mut after = bumped(c);
    after.assigned_to = Some(agent.to_owned());
    after.status = ConversationStatus::Active;
    after
}

/// Whether `id` is shaped like an [`Attachment::id`]: 64 lowercase hex
/// digits, with or without [`LOCAL_ATTACHMENT_PREFIX`].
pub fn is_attachment_id(id: &str) -> bool {
    let hex = id.strip_prefix(LOCAL_ATTACHMENT_PREFIX).unwrap_or(id);
    hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The message a reply or note adds, as every copy of it reads.
pub fn agent_message(action: &Action, agent: &str, now: UnixMillis) -> Option<Message> {
    let (conversation_id, message_id, body, attachments, kind) = match action {
        Action::Reply {
            conversation_id,
            message_id,
            body,
            attachments,
        } => (
            conversation_id,
            message_id,
            body,
            attachments.as_slice(),
            MessageKind::Text,
        ),
        Action::InternalNote {
            conversation_id,
            message_id,
            body,
        } => (
            conversation_id,
            message_id,
            body,
            &[][..],
            MessageKind::Note,
        ),
        _ => return None,
    };
    Some(Message {
        id: message_id.clone(),
        conversation_id: conversation_id.clone(),
        author: Author::Agent,
        agent: Some(agent.to_owned()),
        kind,
        body: body.clone(),
        sent_at: now,
        attachments: attachments.to_vec(),
        // The platform sets `queued` when it stores a reply.
        delivery: None,
    })
}

/// What `action` by `actor` at `now` does to `c` (the conversation the
/// action names). Actions not about a conversation (presence, offers) are
/// refused as invalid here: their callers handle them.
pub fn apply(
    c: &Conversation,
    actor: &Actor<'_>,
    action: &Action,
    now: UnixMillis,
) -> Result<Effects, Refusal> {
    check(action)?;
    let id = &c.id;
    if action.conversation_id().is_some_and(|named| named != id) {
        return Err(Refusal::rejected(
            ActionCode::Invalid,
            format!("the action is not about conversation {id}"),
        ));
    }
    let mut effects = Effects::default();
    match action {
        Action::Claim { .. } => {
            if !actor.can_see(c) {
                return Err(forbidden(
                    format!(
                        "conversation {id} is in queue {}, which is not yours",
                        c.queue
                    ),
                    &c.queue,
                ));
            }
            match c.status {
                ConversationStatus::Queued => {}
                ConversationStatus::Resolved => {
                    return Err(Refusal::conflict(
                        ActionCode::AlreadyResolved,
                        format!("conversation {id} was already resolved"),
                    ));
                }
                ConversationStatus::Active | ConversationStatus::Pending => {
                    let who = c.assigned_to.clone().unwrap_or_default();
                    return Err(Refusal::conflict(
                        ActionCode::AlreadyClaimed,
                        format!("conversation {id} was already taken by {who}"),
                    )
                    .with(holder(c.assigned_to.as_ref())));
                }
            }
            effects.conversation = Some(assigned(c, actor.code));
        }
        Action::Release { .. } => {
            held_by(c, actor)?;
            let mut after = bumped(c);
            after.assigned_to = None;
            after.status = ConversationStatus::Queued;
            effects.conversation = Some(after);
            effects.reroute = true;
        }
        Action::Reply { body, .. } => {
            held_by(c, actor)?;
            let mut after = bumped(c);
            after.first_response_at.get_or_insert(now);
            after.last_message_at = after.last_message_at.max(now);
            after.last_message_preview = preview(body);
            if after.status == ConversationStatus::Pending {
                after.status = ConversationStatus::Active;
            }
            effects.conversation = Some(after);
            effects.message = agent_message(action, actor.code, now);
        }
        Action::InternalNote { .. } => {
            if !actor.can_see(c) {
                return Err(forbidden(
                    format!("conversation {id} is not visible to you"),
                    &c.queue,
                ));
            }
            effects.message = agent_message(action, actor.code, now);
        }
        Action::SetStatus { status, .. } => {
            held_by(c, actor)?;
            if c.status != *status {
                let mut after = bumped(c);
                after.status = *status;
                effects.conversation = Some(after);
            }
        }
        Action::Transfer { target, .. } => {
            // A supervisor reassigns any unresolved conversation of the
            // queues they supervise; anyone else only what they hold.
            if actor.supervises(c) && c.assigned_to.as_deref() != Some(actor.code) {
                not_resolved(c)?;
                if let TransferTarget::Agent(other) = target
                    && c.assigned_to.as_deref() == Some(other.as_str())
                {
                    return Err(Refusal::rejected(
                        ActionCode::Invalid,
                        format!("target: the conversation is already assigned to {other}"),
                    ));
                }
            } else {
                held_by(c, actor)?;
            }
            if let TransferTarget::Queue(queue) = target
                && *queue == c.queue
                && c.assigned_to.is_none()
                && c.status == ConversationStatus::Queued
            {
                // Nothing would change: not a new version of the contact.
                return Err(Refusal::rejected(
                    ActionCode::Invalid,
                    format!("target: the conversation is already waiting in {queue}"),
                ));
            }
            effects.conversation = Some(match target {
                TransferTarget::Queue(queue) => {
                    let mut after = bumped(c);
                    after.queue = queue.clone();
                    after.assigned_to = None;
                    after.status = ConversationStatus::Queued;
                    effects.reroute = true;
                    after
                }
                TransferTarget::Agent(other) => {
                    if other == actor.code {
                        return Err(Refusal::rejected(
                            ActionCode::Invalid,
                            "target: the conversation is already yours",
                        ));
                    }
                    assigned(c, other)
                }
            });
        }
        Action::WrapUp {
            disposition,
            note,
            after_contact_secs,
            ..
        } => {
            held_by(c, actor)?;
            let mut after = bumped(c);
            after.status = ConversationStatus::Resolved;
            after.disposition = Some(disposition.clone());
            effects.conversation = Some(after);
            effects.wrap_up = Some(WrapUpRecord {
                agent: actor.code.to_owned(),
                disposition: disposition.clone(),
                note: note.clone(),
                after_contact_secs: *after_contact_secs,
                wrapped_at: now,
            });
            effects.reroute = true;
        }
        Action::CallLog {
            started_at,
            ended_at,
            ..
        } => {
            // A call that happened is kept even if the conversation moved
            // on meanwhile; it only has to be one the agent may see.
            let duration_secs = check_call(*started_at, *ended_at)?;
            if !actor.can_see(c) {
                return Err(forbidden(
                    format!("conversation {id} is not visible to you"),
                    &c.queue,
                ));
            }
            effects.call = Some(CallRecord {
                agent: actor.code.to_owned(),
                started_at: *started_at,
                ended_at: *ended_at,
                duration_secs,
                logged_at: now,
            });
        }
        Action::Presence { .. }
        | Action::SetAgentPresence { .. }
        | Action::AcceptOffer { .. }
        | Action::DeclineOffer { .. } => {
            return Err(Refusal::rejected(
                ActionCode::Invalid,
                "this action is not about a conversation",
            ));
        }
    }
    Ok(effects)
}

/// What accepting an offer of `c` does: it is assigned to the actor, if it
/// is still waiting in its queue. (The offer itself — made to whom, still
/// open — is the platform's to check.)
pub fn accept_offer(c: &Conversation, actor: &Actor<'_>) -> Result<Effects, Refusal> {
    if c.status != ConversationStatus::Queued {
        return Err(Refusal::conflict(
            ActionCode::AlreadyClaimed,
            format!("conversation {} was already taken", c.id),
        )
        .with(holder(c.assigned_to.as_ref())));
    }
    Ok(Effects {
        conversation: Some(assigned(c, actor.code)),
        ..Effects::default()
    })
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
