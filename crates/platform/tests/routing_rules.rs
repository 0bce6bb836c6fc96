//! The routing rules for agents who stop answering, on the platform's own
//! library with a real database (SQLite, or PostgreSQL under
//! `scripts/with-postgres.sh`) and a clock the test moves (so a
//! 120-second grace period takes no time): a vanished agent's waiting live
//! chats go back to the queue and to a colleague while tickets and
//! call-backs stay; offers that run out in a row set the agent on a break
//! with a reason; and only an available agent is ever offered anything.

mod support;

use std::path::Path;
use std::sync::Arc;

use homedesk_platform::links::Connections;
use homedesk_platform::routing::{self, RoutingOutcome};
use homedesk_platform::storage::Storage;
use homedesk_platform::{actions, demo, ingress};
use homedesk_protocol::{
    Action, ActionEnvelope, ActionResult, ActionStatus, AgentProfile, Channel, Conversation,
    ConversationStatus, EntityKind, IngressCustomer, IngressMessage, MissedOffers, Presence,
    PresenceReason, Queue, Record, UnixMillis,
};

/// The test's clock starts here (2027-01-15T08:00:00Z).
const T0: UnixMillis = 1_800_000_000_000;
const OFFER_TIMEOUT_MS: i64 = 30_000;
/// The vanishing agent and the colleague (both in `aftersales`).
const GONE: &str = "a1002";
const COLLEAGUE: &str = "a1004";

struct Desk {
    storage: Arc<dyn Storage>,
    connections: Connections,
    keys: u32,
    _dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = support::open_storage(dir.path());
        let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content");
        demo::seed(storage.as_ref(), &content, false, T0).expect("demo world");
        Desk {
            storage,
            connections: Connections::new(T0),
            keys: 0,
            _dir: dir,
        }
    }

    fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    fn act(&mut self, agent: &str, action: Action, now: UnixMillis) -> ActionResult {
        self.keys += 1;
        let envelope = ActionEnvelope {
            key: format!("rules-key-{:04}", self.keys),
            created_at: now,
            action,
        };
        let (mut results, _) = self
            .storage()
            .write_with(|tx| actions::apply_batch(tx, agent, &[envelope], now))
            .expect("batch applies");
        results.remove(0)
    }

    fn applied(&mut self, agent: &str, action: Action, now: UnixMillis) {
        let result = self.act(agent, action.clone(), now);
        assert_eq!(
            result.status,
            ActionStatus::Applied,
            "{agent} {action:?}: {result:?}"
        );
    }

    /// A connected, available agent.
    fn on_duty(&mut self, agent: &str, now: UnixMillis) {
        self.stream_opened(agent, now);
        self.applied(
            agent,
            Action::Presence {
                presence: Presence::Available,
            },
            now,
        );
    }

    fn customer_writes(
        &self,
        channel: Channel,
        customer: &str,
        body: &str,
        now: UnixMillis,
    ) -> String {
        let message = IngressMessage {
            external_id: format!("ext-{customer}-{now}-{}", body.len()),
            customer: IngressCustomer {
                id: customer.to_owned(),
                name: "测试顾客".into(),
                phone: "13800001234".into(),
                city: None,
            },
            queue: "aftersales".into(),
            subject: "测试咨询".into(),
            body: body.to_owned(),
            category: None,
            priority: None,
            attachments: Vec::new(),
        };
        self.storage()
            .write_with(|tx| ingress::accept(tx, "test", channel, &message, now))
            .expect("stored")
            .expect("accepted")
            .conversation_id
    }

    fn route(&self, now: UnixMillis) -> RoutingOutcome {
        self.storage()
            .write_with(|tx| {
                self.connections.beat(tx, now)?;
                routing::route(tx, OFFER_TIMEOUT_MS, now)
            })
            .expect("routing pass")
    }

    /// This instance's stream of `agent` opens (written as the platform's
    /// links task writes it).
    fn stream_opened(&self, agent: &str, now: UnixMillis) {
        self.connections.stream_opened(agent);
        self.flush(now);
    }

    fn stream_closed(&self, agent: &str, now: UnixMillis) {
        self.connections.stream_closed(agent);
        self.flush(now);
    }

    fn flush(&self, now: UnixMillis) {
        let flush = self.connections.start_flush();
        let written = self
            .storage()
            .write_with(|tx| self.connections.flush(&flush, tx, now));
        self.connections.flushed(flush, written.is_ok());
        written.expect("links written");
    }

    fn conversation(&self, id: &str) -> Conversation {
        match self
            .storage()
            .read_with(|tx| tx.get(EntityKind::Conversation, id))
            .expect("read")
        {
            Some(Record::Conversation(c)) => c,
            other => panic!("conversation {id}: {other:?}"),
        }
    }

    fn profile(&self, agent: &str) -> AgentProfile {
        match self
            .storage()
            .read_with(|tx| tx.get(EntityKind::AgentProfile, agent))
            .expect("read")
        {
            Some(Record::AgentProfile(p)) => p,
            other => panic!("agent {agent}: {other:?}"),
        }
    }

    fn set_queue(&self, change: impl FnOnce(&mut Queue)) {
        self.storage()
            .write_with(|tx| {
                let Some(Record::Queue(mut queue)) = tx.get(EntityKind::Queue, "aftersales")?
                else {
                    anyhow::bail!("no aftersales queue");
                };
                change(&mut queue);
                tx.put(
                    &Record::Queue(queue),
                    &homedesk_platform::storage::everyone(),
                    T0,
                )?;
                Ok(())
            })
            .expect("queue saved");
    }
}

fn claim(id: &str) -> Action {
    Action::Claim {
        conversation_id: id.to_owned(),
    }
}

fn reply(id: &str, message_id: &str, body: &str) -> Action {
    Action::Reply {
        conversation_id: id.to_owned(),
        message_id: message_id.to_owned(),
        body: body.to_owned(),
        attachments: Vec::new(),
    }
}

#[test]
fn a_vanished_agents_waiting_chats_go_to_a_colleague_after_the_grace_and_tickets_stay() {
    let mut desk = Desk::new();
    desk.on_duty(GONE, T0);
    let waiting = desk.customer_writes(Channel::Chat, "cust-wait", "在吗？我的退款呢", T0);
    let answered = desk.customer_writes(Channel::Chat, "cust-answered", "发票怎么开", T0);
    let ticket = desk.customer_writes(Channel::Ticket, "cust-ticket", "请帮我改地址", T0);
    let call = desk.customer_writes(Channel::Phone, "cust-call", "请回电话", T0);
    for id in [&waiting, &answered, &ticket, &call] {
        desk.applied(GONE, claim(id), T0 + 1_000);
    }
    desk.applied(
        GONE,
        reply(&answered, "m-answered-1", "您好，发票在订单页申请"),
        T0 + 2_000,
    );

    // The link goes; the colleague is on duty.
    let gone_at = T0 + 10_000;
    desk.stream_closed(GONE, gone_at);
    desk.on_duty(COLLEAGUE, gone_at);
    let early = desk.route(gone_at + 119_999);
    assert!(
        early.requeued.is_empty() && early.offers.is_empty(),
        "within the default 120 s grace nothing moves: {early:?}"
    );
    assert_eq!(
        desk.conversation(&waiting).assigned_to.as_deref(),
        Some(GONE)
    );

    let late = desk.route(gone_at + 120_000);
    assert_eq!(
        late.requeued,
        vec![(GONE.to_owned(), waiting.clone())],
        "only the chat whose customer waits for an answer goes back"
    );
    let offered: Vec<(&str, &str)> = late
        .offers
        .iter()
        .map(|(agent, offer)| (agent.as_str(), offer.conversation_id.as_str()))
        .collect();
    assert_eq!(
        offered,
        vec![(COLLEAGUE, waiting.as_str())],
        "the waiting customer is offered to the colleague in the same pass"
    );
    let back = desk.conversation(&waiting);
    assert_eq!(back.status, ConversationStatus::Queued);
    assert_eq!(back.assigned_to, None);
    for id in [&answered, &ticket, &call] {
        let kept = desk.conversation(id);
        assert_eq!(
            (kept.assigned_to.as_deref(), kept.status),
            (Some(GONE), ConversationStatus::Active),
            "{id} ({:?}) stays with its agent",
            kept.channel
        );
    }

    // The answered customer writes again while the agent is still gone:
    // now they wait, so their chat goes back too.
    let again = desk.customer_writes(
        Channel::Chat,
        "cust-answered",
        "还在吗？",
        gone_at + 130_000,
    );
    assert_eq!(again, answered, "the message joins the open chat");
    let next = desk.route(gone_at + 130_001);
    assert_eq!(next.requeued, vec![(GONE.to_owned(), answered.clone())]);
    assert_eq!(
        desk.conversation(&ticket).assigned_to.as_deref(),
        Some(GONE)
    );
}

#[test]
fn an_agent_back_within_the_grace_keeps_their_chats_and_the_grace_is_per_queue() {
    let mut desk = Desk::new();
    desk.set_queue(|q| q.vanished_grace_secs = 5);
    desk.on_duty(GONE, T0);
    let first = desk.customer_writes(Channel::Chat, "cust-1", "你好", T0);
    desk.applied(GONE, claim(&first), T0);

    // A short drop: gone for 4 s, back, gone again later.
    desk.stream_closed(GONE, T0 + 1_000);
    assert!(desk.route(T0 + 5_999).requeued.is_empty(), "4.999 s < 5 s");
    desk.stream_opened(GONE, T0 + 5_999);
    assert!(
        desk.route(T0 + 60_000).requeued.is_empty(),
        "connected again: nothing moves however long it has been"
    );
    desk.stream_closed(GONE, T0 + 60_000);
    assert!(desk.route(T0 + 64_999).requeued.is_empty());
    assert_eq!(
        desk.route(T0 + 65_000).requeued,
        vec![(GONE.to_owned(), first.clone())],
        "the queue's own 5 s grace, counted from the last drop"
    );
}

#[test]
fn offers_that_run_out_in_a_row_set_the_agent_on_a_break_with_the_reason() {
    let mut desk = Desk::new();
    desk.on_duty(GONE, T0);
    let chats: Vec<String> = (0..4)
        .map(|i| desk.customer_writes(Channel::Chat, &format!("cust-miss-{i}"), "你好", T0))
        .collect();

    let first = desk.route(T0);
    assert_eq!(first.offers.len(), 1, "one offer at a time: {first:?}");
    // Runs out: one missed.
    let second = desk.route(T0 + OFFER_TIMEOUT_MS);
    assert_eq!(second.expired.len(), 1);
    assert!(second.set_away.is_empty(), "one miss is not two");
    assert_eq!(desk.profile(GONE).presence, Presence::Available);
    assert_eq!(second.offers.len(), 1, "the next contact is offered");
    // The second runs out too: on a break, with the reason, and no more offers.
    let third = desk.route(T0 + 2 * OFFER_TIMEOUT_MS);
    assert_eq!(third.set_away, vec![GONE.to_owned()]);
    assert!(third.offers.is_empty(), "{third:?}");
    let profile = desk.profile(GONE);
    assert_eq!(profile.presence, Presence::OnBreak);
    assert_eq!(
        profile.presence_reason,
        Some(PresenceReason::MissedOffers(MissedOffers { count: 2 }))
    );
    assert!(desk.route(T0 + 3 * OFFER_TIMEOUT_MS).offers.is_empty());

    // Back to available by their own choice: the reason is gone, offers come.
    desk.applied(
        GONE,
        Action::Presence {
            presence: Presence::Available,
        },
        T0 + 4 * OFFER_TIMEOUT_MS,
    );
    assert_eq!(desk.profile(GONE).presence_reason, None);
    let back = desk.route(T0 + 4 * OFFER_TIMEOUT_MS);
    assert_eq!(back.offers.len(), 1, "{back:?}");
    assert!(chats.contains(&back.offers[0].1.conversation_id));
}

#[test]
fn the_count_before_a_break_is_per_queue_and_zero_turns_it_off() {
    let mut desk = Desk::new();
    desk.set_queue(|q| q.away_after_missed_offers = 0);
    desk.on_duty(GONE, T0);
    for i in 0..4 {
        desk.customer_writes(Channel::Chat, &format!("cust-off-{i}"), "你好", T0);
    }
    for pass in 0..4 {
        let outcome = desk.route(T0 + pass * OFFER_TIMEOUT_MS);
        assert!(outcome.set_away.is_empty(), "pass {pass}: {outcome:?}");
    }
    assert_eq!(desk.profile(GONE).presence, Presence::Available);

    let mut strict = Desk::new();
    strict.set_queue(|q| q.away_after_missed_offers = 1);
    strict.on_duty(GONE, T0);
    strict.customer_writes(Channel::Chat, "cust-strict", "你好", T0);
    strict.route(T0);
    assert_eq!(
        strict.route(T0 + OFFER_TIMEOUT_MS).set_away,
        vec![GONE.to_owned()],
        "a queue that allows no miss"
    );
}

#[test]
fn an_agent_who_is_not_available_is_never_offered_anything() {
    for presence in [Presence::Busy, Presence::OnBreak, Presence::Offline] {
        let mut desk = Desk::new();
        desk.on_duty(GONE, T0);
        desk.applied(GONE, Action::Presence { presence }, T0);
        desk.customer_writes(Channel::Chat, "cust-a", "你好", T0);
        desk.customer_writes(Channel::Ticket, "cust-b", "工单", T0);
        desk.customer_writes(Channel::Phone, "cust-c", "回电", T0);
        let outcome = desk.route(T0 + 1);
        assert!(
            outcome.offers.is_empty(),
            "a connected agent who is {presence:?} (e.g. a locked desk) got {:?}",
            outcome.offers
        );
    }
}

#[test]
fn an_offer_lasts_its_queues_offer_timeout_else_the_platforms() {
    let mut desk = Desk::new();
    desk.on_duty(GONE, T0);
    desk.customer_writes(Channel::Chat, "cust-default", "你好", T0);
    let first = desk.route(T0);
    assert_eq!(
        first.offers[0].1.expires_at,
        T0 + OFFER_TIMEOUT_MS,
        "a queue without its own timeout uses the platform's"
    );

    let mut desk = Desk::new();
    desk.set_queue(|q| q.offer_timeout_secs = Some(5));
    desk.on_duty(GONE, T0);
    desk.customer_writes(Channel::Chat, "cust-quick", "你好", T0);
    let offered = desk.route(T0);
    assert_eq!(offered.offers.len(), 1, "{offered:?}");
    assert_eq!(
        offered.offers[0].1.expires_at,
        T0 + 5_000,
        "the queue's offer timeout, not the platform's 30 s"
    );
    assert!(desk.route(T0 + 4_999).expired.is_empty(), "4.999 s < 5 s");
    assert_eq!(desk.route(T0 + 5_000).expired.len(), 1, "runs out at 5 s");
}

/// Two instances on one database (decision 0042): an agent whose event
/// stream is on the other instance is offered contacts by this one's pass;
/// when the other instance stops beating, its streams end after
/// `DEAD_AFTER_MS` and its agents count as gone since it was last seen.
#[test]
fn agents_on_another_instance_are_routed_and_a_dead_instances_agents_vanish() {
    use homedesk_platform::links::DEAD_AFTER_MS;

    let mut desk = Desk::new();
    let other = Connections::new(T0);
    assert_ne!(other.instance(), desk.connections.instance());
    other.stream_opened(GONE);
    let flush = other.start_flush();
    desk.storage()
        .write_with(|tx| {
            other.beat(tx, T0)?;
            other.flush(&flush, tx, T0)
        })
        .expect("the other instance writes its stream");
    other.flushed(flush, true);
    desk.applied(
        GONE,
        Action::Presence {
            presence: Presence::Available,
        },
        T0,
    );
    let chat = desk.customer_writes(Channel::Chat, "cust-far", "你好，在吗", T0);
    let pass = desk.route(T0 + 1);
    assert_eq!(
        pass.offers
            .iter()
            .map(|(agent, offer)| (agent.as_str(), offer.conversation_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(GONE, chat.as_str())],
        "offered by this instance to the agent connected to the other"
    );
    let offer_id = pass.offers[0].1.offer_id.clone();
    assert!(
        desk.route(T0 + 2).offers.is_empty(),
        "an open offer is not made again by the next pass"
    );
    desk.applied(GONE, Action::AcceptOffer { offer_id }, T0 + 3);

    // The other instance beats no more. Until DEAD_AFTER_MS it is alive.
    assert!(desk.route(T0 + DEAD_AFTER_MS - 1).requeued.is_empty());
    let (streams, gone_since) = desk
        .storage()
        .read_with(|tx| Ok(tx.link(GONE)?.map(|l| (l.streams, l.gone_since))))
        .expect("read")
        .expect("the agent's link is known");
    assert_eq!((streams, gone_since), (1, None));
    // Then its streams end, the agent gone since its last beat (T0), and
    // the 120 s grace counts from there.
    assert!(desk.route(T0 + DEAD_AFTER_MS + 1).requeued.is_empty());
    let (streams, gone_since) = desk
        .storage()
        .read_with(|tx| Ok(tx.link(GONE)?.map(|l| (l.streams, l.gone_since))))
        .expect("read")
        .expect("the agent's link is known");
    assert_eq!((streams, gone_since), (0, Some(T0)));
    assert!(desk.route(T0 + 119_999).requeued.is_empty());
    assert_eq!(
        desk.route(T0 + 120_000).requeued,
        vec![(GONE.to_owned(), chat)],
        "the dead instance's agent vanished with it"
    );
}
