//! Routing: which agent is offered which waiting contact, and what happens
//! to contacts when an agent's link is bad or gone.
//!
//! A queued conversation is offered to one agent at a time. Eligible agents
//! are available, connected, in the conversation's queue, have the queue's
//! skills and free capacity, and — if their link is degraded — only get
//! phone call-backs and tickets, never live chat. The least loaded agent
//! wins, then the one who has waited longest since their last offer. An
//! offer not accepted in time is withdrawn and the contact goes to the next
//! agent, never back to one who let it pass.
//!
//! Link state is a property of the agent's live connection: it changes only
//! when the workstation states it (`Homedesk-Link: ok` or `degraded` on any
//! request); a request without the header leaves it as it was. What the
//! team console shows of it (online, degraded, offline, and since when) is
//! derived from that and the open event streams (`Connections::link_state`);
//! each change of it is reported to the caller, which nudges the agent's
//! supervisors.
//!
//! A vanished agent (no event stream for their queue's
//! `vanished_grace_secs`) keeps tickets and call-backs, but each of their
//! live chats whose customer is waiting for an answer goes back to its
//! queue, to be offered to someone else in the same pass.
//!
//! Offers that run out unanswered in a row (the queue's
//! `away_after_missed_offers`) set the agent `on_break` with a
//! [`PresenceReason`] the desk shows; an accepted or declined offer, or the
//! agent choosing a presence, starts the count again.
//!
//! Routing runs in one task (`Platform::route`), so two passes never race;
//! the actions that end offers run under the same database write lock.
//! Connection state lives in memory: after a restart every workstation
//! reconnects within seconds, and an agent not seen since the start counts
//! as gone since the start.

use std::collections::HashMap;
use std::sync::Mutex;

use homedesk_protocol::{
    AgentProfile, Author, Channel, Conversation, ConversationStatus, DEFAULT_VANISHED_GRACE_SECS,
    EntityKind, LinkState, MessageKind, MissedOffers, Offer, Presence, PresenceReason, Queue,
    Record, UnixMillis,
};

use crate::storage::{OfferRow, OfferState, Tx, everyone};
use crate::visibility::save_conversation;

/// What a workstation says of its own link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkReport {
    Ok,
    Degraded,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    streams: u32,
    /// When a request or stream of the agent last came; 0: never since the
    /// platform started.
    last_seen: UnixMillis,
    degraded: bool,
    last_offered: UnixMillis,
    /// When the last event stream closed; `None` while one is open.
    gone_since: Option<UnixMillis>,
    /// Offers in a row that ran out unanswered.
    missed_in_a_row: u32,
    /// When [`Link::state`] last changed (the platform's start at first).
    state_since: UnixMillis,
}

impl Link {
    fn new(started_at: UnixMillis) -> Link {
        Link {
            streams: 0,
            last_seen: 0,
            degraded: false,
            last_offered: 0,
            gone_since: Some(started_at),
            missed_in_a_row: 0,
            state_since: started_at,
        }
    }

    /// What the team console shows: online or degraded while an event
    /// stream is open (as the workstation last said), else offline.
    fn state(&self) -> LinkState {
        match (self.streams, self.degraded) {
            (0, _) => LinkState::Offline,
            (_, true) => LinkState::Degraded,
            (_, false) => LinkState::Online,
        }
    }

    /// Runs `change` and returns whether [`Link::state`] changed (noting
    /// since when, if it did).
    fn changing(&mut self, now: UnixMillis, change: impl FnOnce(&mut Link)) -> bool {
        let before = self.state();
        change(self);
        let changed = self.state() != before;
        if changed {
            self.state_since = now;
        }
        changed
    }
}

/// What one request did to an agent's link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkChange {
    /// The workstation's degraded flag flipped: routing should run again.
    pub degraded: bool,
    /// The state the team console shows changed: supervisors are nudged.
    pub state: bool,
}

/// What the platform knows of each agent's connection (in memory: after a
/// restart everyone reconnects within seconds).
#[derive(Debug)]
pub struct Connections {
    links: Mutex<HashMap<String, Link>>,
    /// An agent not seen since this moment counts as gone since it.
    started_at: UnixMillis,
}

impl Connections {
    pub fn new(started_at: UnixMillis) -> Connections {
        Connections {
            links: Mutex::new(HashMap::new()),
            started_at,
        }
    }

    fn with<R>(&self, agent: &str, f: impl FnOnce(&mut Link) -> R) -> R {
        let mut links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        f(links
            .entry(agent.to_owned())
            .or_insert_with(|| Link::new(self.started_at)))
    }

    /// A request arrived with `report` (`None`: the workstation said nothing
    /// of its link, which stays as it was). Says whether the degraded flag
    /// changed (routing runs again) and whether the link's state did.
    pub fn seen(&self, agent: &str, report: Option<LinkReport>, now: UnixMillis) -> LinkChange {
        self.with(agent, |l| {
            l.last_seen = now;
            let Some(report) = report else {
                return LinkChange::default();
            };
            let degraded = report == LinkReport::Degraded;
            let flipped = l.degraded != degraded;
            let state = l.changing(now, |l| l.degraded = degraded);
            LinkChange {
                degraded: flipped,
                state,
            }
        })
    }

    /// An event stream of the agent opened; returns whether the link's
    /// state changed (it was offline).
    pub fn stream_opened(&self, agent: &str, now: UnixMillis) -> bool {
        self.with(agent, |l| {
            l.changing(now, |l| {
                l.streams += 1;
                l.last_seen = now;
                l.gone_since = None;
            })
        })
    }

    /// An event stream of the agent closed; returns whether the link's
    /// state changed (it was the last one).
    pub fn stream_closed(&self, agent: &str, now: UnixMillis) -> bool {
        self.with(agent, |l| {
            l.changing(now, |l| {
                l.streams = l.streams.saturating_sub(1);
                l.last_seen = now;
                if l.streams == 0 {
                    l.gone_since = Some(now);
                }
            })
        })
    }

    /// The agent's link as the team console shows it, and since when it
    /// has been so; `(Offline, None)` for an agent the platform has not
    /// seen since it started.
    pub fn link_state(&self, agent: &str) -> (LinkState, Option<UnixMillis>) {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        match links.get(agent) {
            Some(l) if l.last_seen > 0 || l.streams > 0 => (l.state(), Some(l.state_since)),
            _ => (LinkState::Offline, None),
        }
    }

    /// Agents whose workstation last said its link is degraded.
    pub fn degraded_links(&self) -> usize {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links.values().filter(|l| l.degraded).count()
    }

    pub fn open_streams(&self) -> u32 {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        links.values().map(|l| l.streams).sum()
    }

    /// The agent answered an offer (accepted or declined it) or chose a
    /// presence: missed offers count from zero again.
    pub fn offer_answered(&self, agent: &str) {
        self.with(agent, |l| l.missed_in_a_row = 0);
    }

    fn snapshot(&self) -> HashMap<String, Link> {
        self.links.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn offered(&self, agent: &str, now: UnixMillis) {
        self.with(agent, |l| l.last_offered = now);
    }

    /// One more offer ran out; returns how many in a row.
    fn missed(&self, agent: &str) -> u32 {
        self.with(agent, |l| {
            l.missed_in_a_row += 1;
            l.missed_in_a_row
        })
    }

    /// Since when the agent has had no event stream open (`None`: one is open).
    fn gone_since(&self, agent: &str) -> Option<UnixMillis> {
        let links = self.links.lock().unwrap_or_else(|p| p.into_inner());
        match links.get(agent) {
            Some(l) if l.streams > 0 => None,
            Some(l) => l.gone_since,
            None => Some(self.started_at),
        }
    }
}

/// What one routing pass did, for the event hub.
#[derive(Debug, Default)]
pub struct RoutingOutcome {
    pub offers: Vec<(String, Offer)>,
    /// Offers that timed out: (agent, offer id).
    pub expired: Vec<(String, String)>,
    /// Open offers ended because their agent was set on a break: (agent, offer id).
    pub withdrawn: Vec<(String, String)>,
    /// Agents set `on_break` for letting offers run out.
    pub set_away: Vec<String>,
    /// Live chats taken back from a vanished agent: (agent, conversation id).
    pub requeued: Vec<(String, String)>,
}

impl RoutingOutcome {
    /// Whether the pass wrote to the change log (workstations should pull).
    pub fn changed_log(&self) -> bool {
        !self.set_away.is_empty() || !self.requeued.is_empty()
    }
}

/// Offers travel on the event stream, so only an agent with one open can
/// receive them; a workstation that only polls would let every offer time out.
fn is_connected(link: Option<&Link>) -> bool {
    link.is_some_and(|l| l.streams > 0)
}

/// One routing pass: expire stale offers (setting on a break an agent who
/// let too many run out), take back a vanished agent's unanswered chats,
/// then offer every waiting contact that has an eligible agent. An offer
/// lasts its queue's `offer_timeout_secs`, else `offer_timeout_ms`.
pub fn route(
    tx: &mut dyn Tx,
    connections: &Connections,
    offer_timeout_ms: i64,
    now: UnixMillis,
) -> anyhow::Result<RoutingOutcome> {
    let mut outcome = RoutingOutcome::default();
    let queues: HashMap<String, Queue> = tx
        .list(EntityKind::Queue)?
        .into_iter()
        .filter_map(|r| match r {
            Record::Queue(q) => Some((q.id.clone(), q)),
            _ => None,
        })
        .collect();

    let mut open: Vec<OfferRow> = Vec::new();
    for offer in tx.open_offers()? {
        if offer.expires_at > now {
            open.push(offer);
            continue;
        }
        tx.set_offer_state(&offer.offer_id, OfferState::Expired)?;
        let in_a_row = connections.missed(&offer.agent);
        let limit = match tx.get(EntityKind::Conversation, &offer.conversation_id)? {
            Some(Record::Conversation(c)) => {
                queues.get(&c.queue).map(|q| q.away_after_missed_offers)
            }
            _ => None,
        }
        .unwrap_or(homedesk_protocol::DEFAULT_AWAY_AFTER_MISSED_OFFERS);
        if limit > 0 && in_a_row >= limit && set_on_break(tx, &offer.agent, in_a_row, now)? {
            connections.offer_answered(&offer.agent);
            outcome.set_away.push(offer.agent.clone());
        }
        outcome.expired.push((offer.agent, offer.offer_id));
    }
    // An agent set on a break keeps no other offer.
    let (ended, kept): (Vec<OfferRow>, Vec<OfferRow>) = open
        .into_iter()
        .partition(|o| outcome.set_away.contains(&o.agent));
    let mut open = kept;
    for offer in ended {
        tx.set_offer_state(&offer.offer_id, OfferState::Withdrawn)?;
        outcome.withdrawn.push((offer.agent, offer.offer_id));
    }

    requeue_from_vanished(tx, connections, &queues, now, &mut outcome)?;

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
    let mut candidates: Vec<(AgentProfile, usize)> = Vec::new();
    for record in tx.list(EntityKind::AgentProfile)? {
        let Record::AgentProfile(agent) = record else {
            continue;
        };
        if !agent.role.works_live()
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
            expires_at: now
                + queue
                    .offer_timeout_secs
                    .map_or(offer_timeout_ms, |secs| i64::from(secs) * 1000),
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

/// Sets an available agent `on_break` because `count` offers in a row ran
/// out. Returns `false` (and changes nothing) if they were not available.
fn set_on_break(tx: &mut dyn Tx, agent: &str, count: u32, now: UnixMillis) -> anyhow::Result<bool> {
    let Some(Record::AgentProfile(profile)) = tx.get(EntityKind::AgentProfile, agent)? else {
        return Ok(false);
    };
    if profile.presence != Presence::Available {
        return Ok(false);
    }
    let after = AgentProfile {
        presence: Presence::OnBreak,
        presence_reason: Some(PresenceReason::MissedOffers(MissedOffers { count })),
        ..profile
    };
    tx.put(&Record::AgentProfile(after), &everyone(), now)?;
    Ok(true)
}

/// Puts back in their queues the live chats of agents whose event stream
/// has been gone for the queue's grace period, when the customer is waiting
/// for an answer. Tickets and call-backs stay with the agent.
fn requeue_from_vanished(
    tx: &mut dyn Tx,
    connections: &Connections,
    queues: &HashMap<String, Queue>,
    now: UnixMillis,
    outcome: &mut RoutingOutcome,
) -> anyhow::Result<()> {
    for record in tx.list(EntityKind::AgentProfile)? {
        let Record::AgentProfile(agent) = record else {
            continue;
        };
        let Some(gone_since) = connections.gone_since(&agent.code) else {
            continue;
        };
        for chat in tx.conversations_assigned_to(&agent.code)? {
            if chat.channel != Channel::Chat
                || !matches!(
                    chat.status,
                    ConversationStatus::Active | ConversationStatus::Pending
                )
            {
                continue;
            }
            let grace_secs = queues
                .get(&chat.queue)
                .map_or(DEFAULT_VANISHED_GRACE_SECS, |q| q.vanished_grace_secs);
            if now - gone_since < i64::from(grace_secs) * 1000 || !customer_waiting(tx, &chat.id)? {
                continue;
            }
            let mut after = chat.clone();
            after.version += 1;
            after.assigned_to = None;
            after.status = ConversationStatus::Queued;
            save_conversation(tx, Some(&chat), &after, now)?;
            outcome.requeued.push((agent.code.clone(), chat.id));
        }
    }
    Ok(())
}

/// Whether the customer's last message has no agent reply after it (notes
/// and system messages do not count as answers).
fn customer_waiting(tx: &mut dyn Tx, conversation_id: &str) -> anyhow::Result<bool> {
    let messages = tx.messages_of(conversation_id)?;
    let last = messages
        .iter()
        .rev()
        .find(|m| m.kind == MessageKind::Text && m.author != Author::System);
    Ok(last.is_none_or(|m| m.author == Author::Customer))
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
