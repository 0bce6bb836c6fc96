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
//! request); a request without the header leaves it as it was. Connections,
//! link states and routing's memory of offers are in the database
//! (`crate::links`, table `agent_links`), so whichever instance routes sees
//! every instance's agents.
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
//! Every instance runs routing passes (`Platform::route`); a pass is one
//! write transaction, and write transactions run one at a time across
//! instances (the database's write lock), as do the actions that end
//! offers, so a contact is offered once and never twice. An agent no
//! instance has heard of counts as gone since the longest-running live
//! instance started.

use std::collections::HashMap;

use homedesk_protocol::{
    AgentProfile, Author, Channel, Conversation, ConversationStatus, DEFAULT_VANISHED_GRACE_SECS,
    EntityKind, MessageKind, MissedOffers, Offer, Presence, PresenceReason, Queue, Record,
    UnixMillis,
};

use crate::links::DEAD_AFTER_MS;
use crate::storage::{AgentLink, OfferRow, OfferState, Tx, everyone};
use crate::visibility::save_conversation;

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
fn is_connected(link: Option<&AgentLink>) -> bool {
    link.is_some_and(|l| l.streams > 0)
}

/// The agent's link, to change routing's memory of offers in it.
fn link_mut<'a>(
    links: &'a mut HashMap<String, AgentLink>,
    agent: &str,
    now: UnixMillis,
) -> &'a mut AgentLink {
    links
        .entry(agent.to_owned())
        .or_insert_with(|| AgentLink::new(agent, now))
}

/// The agent answered an offer (accepted or declined it) or chose a
/// presence: missed offers count from zero again.
pub fn offer_answered(tx: &mut dyn Tx, agent: &str) -> anyhow::Result<()> {
    if let Some(mut link) = tx.link(agent)?
        && link.missed_in_a_row > 0
    {
        link.missed_in_a_row = 0;
        tx.put_link(&link)?;
    }
    Ok(())
}

/// One routing pass: expire stale offers (setting on a break an agent who
/// let too many run out), take back a vanished agent's unanswered chats,
/// then offer every waiting contact that has an eligible agent. An offer
/// lasts its queue's `offer_timeout_secs`, else `offer_timeout_ms`.
pub fn route(
    tx: &mut dyn Tx,
    offer_timeout_ms: i64,
    now: UnixMillis,
) -> anyhow::Result<RoutingOutcome> {
    route_pass(tx, offer_timeout_ms, now, true)
}

/// A routing pass that takes back vanished agents' chats only when
/// `look_for_vanished` (it reads every agent's profile: the routing task
/// does it once a second, not on every pass an action or a contact wakes).
pub fn route_pass(
    tx: &mut dyn Tx,
    offer_timeout_ms: i64,
    now: UnixMillis,
    look_for_vanished: bool,
) -> anyhow::Result<RoutingOutcome> {
    let mut outcome = RoutingOutcome::default();
    let mut links: HashMap<String, AgentLink> = tx
        .links()?
        .into_iter()
        .map(|l| (l.agent.clone(), l))
        .collect();
    let mut touched: Vec<String> = Vec::new();
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
        let link = link_mut(&mut links, &offer.agent, now);
        link.missed_in_a_row += 1;
        let in_a_row = link.missed_in_a_row;
        touched.push(offer.agent.clone());
        let limit = match tx.get(EntityKind::Conversation, &offer.conversation_id)? {
            Some(Record::Conversation(c)) => {
                queues.get(&c.queue).map(|q| q.away_after_missed_offers)
            }
            _ => None,
        }
        .unwrap_or(homedesk_protocol::DEFAULT_AWAY_AFTER_MISSED_OFFERS);
        if limit > 0 && in_a_row >= limit && set_on_break(tx, &offer.agent, in_a_row, now)? {
            link_mut(&mut links, &offer.agent, now).missed_in_a_row = 0;
            outcome.set_away.push(offer.agent.clone());
        }
        outcome.expired.push((offer.agent, offer.offer_id));
    }
    // An agent set on a break keeps no other offer.
    let (ended, kept): (Vec<OfferRow>, Vec<OfferRow>) = open
        .into_iter()
        .partition(|o| outcome.set_away.contains(&o.agent));
    let open = kept;
    for offer in ended {
        tx.set_offer_state(&offer.offer_id, OfferState::Withdrawn)?;
        outcome.withdrawn.push((offer.agent, offer.offer_id));
    }

    if look_for_vanished {
        let up_since = tx.earliest_start(now - DEAD_AFTER_MS)?.unwrap_or(now);
        requeue_from_vanished(tx, &links, up_since, &queues, now, &mut outcome)?;
    }

    let waiting = tx.conversations_with_status(ConversationStatus::Queued)?;
    offer_waiting(
        tx,
        waiting,
        &mut links,
        &mut touched,
        &queues,
        open,
        offer_timeout_ms,
        now,
        &mut outcome,
    )?;
    touched.sort();
    touched.dedup();
    for agent in touched {
        if let Some(link) = links.get(&agent) {
            tx.put_link(link)?;
        }
    }
    Ok(outcome)
}

/// Offers every waiting contact that has an eligible agent.
#[allow(clippy::too_many_arguments)]
fn offer_waiting(
    tx: &mut dyn Tx,
    mut waiting: Vec<Conversation>,
    links: &mut HashMap<String, AgentLink>,
    touched: &mut Vec<String>,
    queues: &HashMap<String, Queue>,
    mut open: Vec<OfferRow>,
    offer_timeout_ms: i64,
    now: UnixMillis,
    outcome: &mut RoutingOutcome,
) -> anyhow::Result<()> {
    if waiting.is_empty() {
        return Ok(());
    }
    waiting.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.created_at.cmp(&b.created_at))
    });

    let assigned: HashMap<String, u32> = tx.assigned_counts()?.into_iter().collect();
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
        let load = usize::try_from(assigned.get(&agent.code).copied().unwrap_or(0))
            .unwrap_or(usize::MAX)
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
        link_mut(links, &agent.code, now).last_offered = now;
        touched.push(agent.code.clone());
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
    Ok(())
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
    links: &HashMap<String, AgentLink>,
    up_since: UnixMillis,
    queues: &HashMap<String, Queue>,
    now: UnixMillis,
    outcome: &mut RoutingOutcome,
) -> anyhow::Result<()> {
    for record in tx.list(EntityKind::AgentProfile)? {
        let Record::AgentProfile(agent) = record else {
            continue;
        };
        let gone_since = match links.get(&agent.code) {
            Some(l) if l.streams > 0 => continue,
            Some(l) => l.gone_since.unwrap_or(up_since),
            None => up_since,
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
    link: Option<&AgentLink>,
) -> bool {
    let degraded = link.is_some_and(|l| l.degraded);
    agent.queues.contains(&conversation.queue)
        && queue.skills.iter().all(|s| agent.skills.contains(s))
        && load < agent.max_chats as usize
        && (!degraded || conversation.channel.is_asynchronous())
}
