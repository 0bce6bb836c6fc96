//! Who may see what. Knowledge, scripts, canned replies, scenarios, queues
//! and agent profiles are for everyone; a conversation, its messages and its
//! customer are for the agents of its queue and for its assignee.
//!
//! A supervisor sees the queues their profile names (the queues they
//! supervise). A trainee (or a trainer) sees no live conversation at all,
//! whatever queues their profile names: they practise in the sandbox, on made-up customers. The platform
//! enforces it here (the change log they read) and in `actions` (what they
//! may do), not only in the workstation.
//!
//! Invariant: when a conversation moves (claimed, transferred, released), the
//! change is logged for the old audience *and* the new one, so nobody keeps a
//! stale copy; and a newly entitled viewer, or a queue it came back to,
//! receives the customer and the whole message history again. Which of
//! these entries an agent's PC actually gets is the sync scope's call
//! (`crate::scope`).

use homedesk_protocol::{AgentProfile, Conversation, EntityKind, Record, Role, UnixMillis};

use crate::storage::{Audience, Tx, Viewer};

pub fn conversation_audience(c: &Conversation) -> Audience {
    let mut audience = Audience::from([Viewer::Queue(c.queue.clone())]);
    if let Some(agent) = &c.assigned_to {
        audience.insert(Viewer::Agent(agent.clone()));
    }
    audience
}

/// The audiences an agent belongs to, for reading the change log. A
/// trainee belongs to none but everyone's: no queue, not even their own
/// code (nothing live can be assigned to them, see `actions`).
pub fn viewers_of(profile: &AgentProfile) -> Vec<Viewer> {
    if !profile.role.works_live() {
        return vec![Viewer::Everyone];
    }
    let mut viewers = vec![Viewer::Everyone, Viewer::Agent(profile.code.clone())];
    viewers.extend(profile.queues.iter().map(|q| Viewer::Queue(q.clone())));
    viewers
}

/// The rule is the one actions obey ([`homedesk_protocol::rules::Actor`]),
/// and never for a trainee. (The rule itself lets a trainee act on their
/// practice conversations: the sandbox plays the platform with it.)
pub fn can_see(profile: &AgentProfile, c: &Conversation) -> bool {
    profile.role.works_live() && homedesk_protocol::rules::Actor::of(profile).can_see(c)
}

/// Why a trainee's or trainer's action on a live conversation is refused.
pub fn not_live_refusal(role: Role) -> homedesk_protocol::rules::Refusal {
    let why = if role == Role::Trainer {
        "trainers read practice results and promote trainees: live conversations are for agents"
    } else {
        "trainees practise in the sandbox: live conversations are for agents"
    };
    homedesk_protocol::rules::Refusal::rejected(homedesk_protocol::ActionCode::Forbidden, why)
}

/// Saves a conversation's new state, logging it for the old and the new
/// audience, and re-sends its customer and messages to anyone newly entitled.
/// When it goes to an agent (a claim, an accepted offer, a transfer or a
/// supervisor's reassignment), notes since when they hold it: the team
/// console's handle time counts from there.
pub fn save_conversation(
    tx: &mut dyn Tx,
    before: Option<&Conversation>,
    after: &Conversation,
    now: UnixMillis,
) -> anyhow::Result<u64> {
    if let Some(agent) = &after.assigned_to
        && before.and_then(|b| b.assigned_to.as_ref()) != Some(agent)
    {
        tx.set_assignment(&after.id, agent, now)?;
    }
    let new_audience = conversation_audience(after);
    let old_audience = before.map(conversation_audience).unwrap_or_default();
    let mut audience = new_audience.clone();
    audience.extend(old_audience.iter().cloned());
    let seq = tx.put(&Record::Conversation(after.clone()), &audience, now)?;
    let newly_entitled = before.is_some() && !new_audience.is_subset(&old_audience);
    // Back in the queue: the queue's agents had it out of their sync scope
    // (their PCs deleted the thread when it was claimed), so they get the
    // customer and the thread again (docs/decisions/0035-sync-scope.md).
    let back_in_queue = before.is_some_and(|b| b.assigned_to.is_some())
        && after.assigned_to.is_none()
        && after.status != homedesk_protocol::ConversationStatus::Resolved;
    if newly_entitled || back_in_queue {
        if let Some(customer) = tx.get(EntityKind::Customer, &after.customer_id)? {
            tx.put(&customer, &new_audience, now)?;
        }
        for message in tx.messages_of(&after.id)? {
            tx.put(&Record::Message(message), &new_audience, now)?;
        }
    }
    Ok(seq)
}
