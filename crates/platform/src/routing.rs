//! Routing: which agent is offered which waiting contact.
//!
//! A queued conversation is offered to one agent at a time. Eligible agents
//! are available, connected, in the conversation's queue, have the queue's
//! skills and free capacity, and — if their link is degraded — only get
//! phone call-backs and tickets, never live chat. The least loaded agent
//! wins, then the one who has waited longest since their last offer. An
//! offer not accepted in time is withdrawn and the contact goes to the next
//! agent, never back to one who let it pass.
//!
//! Routing runs in one task (`Platform::route`), so two passes never race;
//! the actions that end offers run under the same database write lock.

use std::collections::HashMap;
use std::sync::Mutex;

use homedesk_protocol::{
    AgentProfile, Conversation, ConversationStatus, EntityKind, Offer, Presence, Queue, Record,
    Role, UnixMillis,
};

use crate::storage::{OfferRow, OfferState, Tx};

#[derive(Debug, Default, Clone, Copy)]
struct Link {
    streams: u32,
    last_seen: UnixMillis,
    degraded: bool,
    last_offered: UnixMillis,
}

/// What the platform knows of each agent's connection (in memory: after a
/// restart everyone reconnects within seconds).
#[derive(Debug, Default)]
pub struct Connections {
    links: Mutex<HashMap<String, Link>>,
}

impl Connections {
    fn with<R>(&self, agent: &str, f: impl FnOnce(&mut Link) -> R) -> R {
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        f(links.entry(agent.to_owned()).or_default())
    }

    /// A request arrived; `degraded` is what the workstation reported.
    pub fn seen(&self, agent: &str, degraded: bool, now: UnixMillis) {
        self.with(agent, |l| {
            l.last_seen = now;
            l.degraded = degraded;
        });
    }

    pub fn stream_opened(&self, agent: &str, now: UnixMillis) {
        self.with(agent, |l| {
            l.streams += 1;
            l.last_seen = now;
        });
    }

    pub fn stream_closed(&self, agent: &str, now: UnixMillis) {
        self.with(agent, |l| {
            l.streams = l.streams.saturating_sub(1);
            l.last_seen = now;
        });
    }

    pub fn open_streams(&self) -> u32 {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links.values().map(|l| l.streams).sum()
    }

    fn snapshot(&self) -> HashMap<String, Link> {
        self.links.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn offered(&self, agent: &str, now: UnixMillis) {
        self.with(agent, |l| l.last_offered = now);
    }
}

/// What one routing pass did, for the event hub.
#[derive(Debug, Default)]
pub struct RoutingOutcome {
    pub offers: Vec<(String, Offer)>,
    /// Offers that timed out: (agent, offer id).
    pub expired: Vec<(String, String)>,
}

/// Offers travel on the event stream, so only an agent with one open can
/// receive them; a workstation that only polls would let every offer time out.
fn is_connected(link: Option<&Link>) -> bool {
    link.is_some_and(|l| l.streams > 0)
}

/// One routing pass: expire stale offers, then offer every waiting contact
/// that has an eligible agent.
pub fn route(
    tx: &mut dyn Tx,
    connections: &Connections,
    offer_timeout_ms: i64,
    now: UnixMillis,
) -> anyhow::Result<RoutingOutcome> {
    let mut outcome = RoutingOutcome::default();
    let mut open: Vec<OfferRow> = Vec::new();
    for offer in tx.open_offers()? {
        if offer.expires_at <= now {
            tx.set_offer_state(&offer.offer_id, OfferState::Expired)?;
            outcome.expired.push((offer.agent, offer.offer_id));
        } else {
            open.push(offer);
        }
    }

    let mut waiting = tx.conversations_with_status(ConversationStatus::Queued)?;
    if waiting.is_empty() {
        return Ok(outcome);
    }
    waiting.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.created_at.cmp(&b.created_at))
    });

    let links = connections.snapshot();
    let queues: HashMap<String, Queue> = tx
        .list(EntityKind::Queue)?
        .into_iter()
        .filter_map(|r| match r {
            Record::Queue(q) => Some((q.id.clone(), q)),
            _ => None,
        })
        .collect();
    let mut candidates: Vec<(AgentProfile, usize)> = Vec::new();
    for record in tx.list(EntityKind::AgentProfile)? {
        let Record::AgentProfile(agent) = record else {
            continue;
        };
        if agent.role == Role::Trainee
            || agent.presence != Presence::Available
            || !is_connected(links.get(&agent.code))
        {
            continue;
        }
        let load = tx.conversations_assigned_to(&agent.code)?.len()
            + open.iter().filter(|o| o.agent == agent.code).count();
        candidates.push((agent, load));
    }

    for conversation in waiting {
        if open.iter().any(|o| o.conversation_id == conversation.id) {
            continue;
        }
        let Some(queue) = queues.get(&conversation.queue) else {
            continue;
        };
        let passed: Vec<String> = tx
            .offers_for_conversation(&conversation.id)?
            .into_iter()
            .map(|o| o.agent)
            .collect();
        let best = candidates
            .iter_mut()
            .filter(|(agent, load)| {
                eligible(agent, *load, &conversation, queue, links.get(&agent.code))
                    && !passed.contains(&agent.code)
                    && !open.iter().any(|o| o.agent == agent.code)
            })
            .min_by_key(|(agent, load)| {
                let last = links.get(&agent.code).map_or(0, |l| l.last_offered);
                (*load, last, agent.code.clone())
            });
        let Some((agent, load)) = best else {
            continue;
        };
        let row = OfferRow {
            offer_id: format!("offer-{}", crate::auth::random_token(9)),
            conversation_id: conversation.id.clone(),
            agent: agent.code.clone(),
            state: OfferState::Open,
            created_at: now,
            expires_at: now + offer_timeout_ms,
        };
        tx.insert_offer(&row)?;
        connections.offered(&agent.code, now);
        *load += 1;
        outcome.offers.push((
            agent.code.clone(),
            Offer {
                offer_id: row.offer_id.clone(),
                conversation_id: conversation.id.clone(),
                channel: conversation.channel,
                queue: conversation.queue.clone(),
                subject: conversation.subject.clone(),
                expires_at: row.expires_at,
            },
        ));
        open.push(row);
    }
    Ok(outcome)
}

fn eligible(
    agent: &AgentProfile,
    load: usize,
    conversation: &Conversation,
    queue: &Queue,
    link: Option<&Link>,
) -> bool {
    let degraded = link.is_some_and(|l| l.degraded);
    agent.queues.contains(&conversation.queue)
        && queue.skills.iter().all(|s| agent.skills.contains(s))
        && load < agent.max_chats as usize
        && (!degraded || conversation.channel.is_asynchronous())
}
