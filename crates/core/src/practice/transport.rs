//! The sandbox's platform: a [`Transport`] whose customers are simulations.
//!
//! Practice runs on the same sync engine, store, outbox, queue and screens
//! as live work; only this transport (and the database file) differ. It
//! keeps an in-memory change log the engine pulls from, applies the
//! trainee's pushed actions (a reply goes to that customer's
//! [`Simulation`]), and pokes the engine through its event stream whenever
//! a customer writes on their own (nudge, escalation) or a new practice
//! customer arrives. It never opens a socket: nothing in the sandbox can
//! reach a live endpoint.
//!
//! Time comes from a [`PracticeClock`] so tests run on a fake clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use homedesk_content::scenario::{ScenarioDoc, SimCustomer};
use homedesk_protocol::rules::{self, Actor};
use homedesk_protocol::{
    Action, ActionBatch, ActionCode, ActionResult, ActionStatus, AgentProfile, Author,
    BusinessHours, Change, ChangeBody, Conversation, ConversationStatus, Customer, Message,
    MessageKind, OrderSummary, Presence, Priority, Queue, Record, RefusalParams, Role, ServerEvent,
    Session, SignIn, UnixMillis, preview,
};
use tokio::sync::watch;

use super::{CustomerMessage, ScoreReport, Simulation};
use crate::sync::{EventStream, PulledPage, Transport, TransportError};

/// The one queue practice customers arrive in.
pub const PRACTICE_QUEUE: &str = "practice";

/// Where practice time comes from: the desk's clock.
pub type PracticeClock = crate::clock::SharedClock;

/// Told about every contact the trainee wraps up, with its final report
/// (the session keeps it in the history at once).
pub type OnFinished = Arc<dyn Fn(&str, &ScoreReport) + Send + Sync>;

/// The practice platform for one trainee.
#[derive(Clone)]
pub struct SimulatorTransport {
    world: Arc<Mutex<World>>,
    /// The latest change-log seq, for the event stream.
    latest: watch::Sender<u64>,
    clock: PracticeClock,
    on_finished: Arc<Mutex<Option<OnFinished>>>,
}

struct Contact {
    conversation: Conversation,
    sim: Simulation,
}

struct World {
    trainee: AgentProfile,
    log: Vec<Change>,
    /// Scenarios still to arrive: (arrival time, scenario).
    waiting: Vec<(UnixMillis, ScenarioDoc)>,
    contacts: BTreeMap<String, Contact>,
    next_id: u64,
    /// The verdict each idempotency key got, as the platform keeps them: an
    /// action delivered twice (two pushes overlapping) reaches the simulated
    /// customer once.
    answered: HashMap<String, ActionResult>,
}

impl World {
    fn push(&mut self, record: Record) {
        let seq = self.log.len() as u64 + 1;
        self.log.push(Change {
            seq,
            body: ChangeBody::Upsert(record),
        });
    }

    fn next(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-practice-{}", self.next_id)
    }

    /// Customers who arrived and customer messages that came due by `now`.
    fn advance(&mut self, now: UnixMillis) {
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.waiting = later;
        for (at, doc) in due {
            self.arrive(doc, at);
        }
        let ids: Vec<String> = self.contacts.keys().cloned().collect();
        for id in ids {
            let messages = match self.contacts.get_mut(&id) {
                Some(contact) => contact.sim.advance(now),
                None => continue,
            };
            self.customer_wrote(&id, messages);
        }
    }

    fn arrive(&mut self, doc: ScenarioDoc, at: UnixMillis) {
        let (sim, opening) = Simulation::start(&doc, at);
        let customer_id = format!("cust-{}", doc.id);
        self.push(Record::Customer(customer_of(
            &customer_id,
            &doc.customer,
            at,
        )));
        let conversation = Conversation {
            id: format!("conv-{}", doc.id),
            channel: doc.channel,
            queue: PRACTICE_QUEUE.to_owned(),
            customer_id,
            subject: doc.title.clone(),
            category: Some(doc.category.clone()),
            status: ConversationStatus::Queued,
            assigned_to: None,
            priority: Priority::Normal,
            created_at: at,
            first_response_due: at + i64::from(doc.rubric.response_secs) * 1000,
            resolve_due: at + 3_600_000,
            first_response_at: None,
            last_message_at: at,
            last_message_preview: preview(&opening.text),
            disposition: None,
            version: 1,
        };
        let id = conversation.id.clone();
        self.contacts
            .insert(id.clone(), Contact { conversation, sim });
        self.customer_wrote(&id, vec![opening]);
    }

    /// Logs customer messages and the conversation they changed.
    fn customer_wrote(&mut self, id: &str, messages: Vec<CustomerMessage>) {
        if messages.is_empty() {
            return;
        }
        for message in messages {
            let message_id = self.next("msg");
            let Some(contact) = self.contacts.get_mut(id) else {
                return;
            };
            let c = &mut contact.conversation;
            c.last_message_at = message.at_ms;
            c.last_message_preview = preview(&message.text);
            if c.status == ConversationStatus::Pending {
                c.status = ConversationStatus::Active;
            }
            self.push(Record::Message(Message {
                id: message_id,
                conversation_id: id.to_owned(),
                author: Author::Customer,
                agent: None,
                kind: MessageKind::Text,
                body: message.text,
                sent_at: message.at_ms,
                attachments: Vec::new(),
                delivery: None,
            }));
        }
        self.bump(id);
    }

    fn bump(&mut self, id: &str) {
        if let Some(contact) = self.contacts.get_mut(id) {
            contact.conversation.version += 1;
            let record = Record::Conversation(contact.conversation.clone());
            self.push(record);
        }
    }

    /// [`World::apply`] once per idempotency key; a key seen before answers
    /// `duplicate` with the first verdict, as the platform does.
    fn apply_once(&mut self, key: &str, action: &Action, now: UnixMillis) -> ActionResult {
        if let Some(first) = self.answered.get(key) {
            return ActionResult {
                key: key.to_owned(),
                status: ActionStatus::Duplicate,
                code: None,
                message: None,
                params: RefusalParams::default(),
                original: Some(Box::new(first.clone())),
            };
        }
        let verdict = self.apply(key, action, now);
        self.answered.insert(key.to_owned(), verdict.clone());
        verdict
    }

    /// Applies one trainee action with the platform's own rule
    /// ([`rules::apply`]); practice adds only what a simulation cannot do.
    fn apply(&mut self, key: &str, action: &Action, now: UnixMillis) -> ActionResult {
        let refuse =
            |code, message: &str| ActionResult::refused(key, ActionStatus::Conflict, code, message);
        // A practice call is logged nowhere (there is no supervisor), and
        // presence and offers mean nothing without other agents.
        let Some(conversation_id) = action.conversation_id().map(str::to_owned) else {
            return ActionResult::applied(key);
        };
        if matches!(action, Action::CallLog { .. }) {
            return ActionResult::applied(key);
        }
        let Some(contact) = self.contacts.get(&conversation_id) else {
            return ActionResult::refused(
                key,
                ActionStatus::Rejected,
                ActionCode::NotFound,
                "no such practice conversation",
            );
        };
        if contact.conversation.status == ConversationStatus::Resolved {
            return refuse(ActionCode::AlreadyResolved, "this practice contact is over");
        }
        if matches!(action, Action::Transfer { .. }) {
            return refuse(
                ActionCode::Forbidden,
                "in practice there is nobody to transfer to: handle the customer yourself",
            );
        }
        let effects = match rules::apply(
            &contact.conversation,
            &Actor::of(&self.trainee),
            action,
            now,
        ) {
            Ok(effects) => effects,
            Err(refusal) => return refusal.into_result(key),
        };
        let mut customer = Vec::new();
        if let Some(contact) = self.contacts.get_mut(&conversation_id) {
            match action {
                Action::Reply { body, .. } => customer = contact.sim.reply(now, body),
                Action::WrapUp { disposition, .. } => {
                    customer = contact.sim.wrap_up(now, disposition);
                }
                _ => {}
            }
            if let Some(after) = &effects.conversation {
                contact.conversation = after.clone();
            }
        }
        if let Some(message) = effects.message {
            self.push(Record::Message(message));
        }
        if let Some(after) = effects.conversation {
            self.push(Record::Conversation(after));
        }
        self.customer_wrote(&conversation_id, customer);
        ActionResult::applied(key)
    }
}

fn customer_of(id: &str, sim: &SimCustomer, now: UnixMillis) -> Customer {
    let digits: String = sim.phone.chars().filter(char::is_ascii_digit).collect();
    let phone_masked = if digits.len() >= 7 {
        format!("{}****{}", &digits[..3], &digits[digits.len() - 4..])
    } else {
        "****".to_owned()
    };
    Customer {
        id: id.to_owned(),
        name: sim.name.clone(),
        phone_masked,
        city: sim.city.clone(),
        orders: sim
            .orders
            .iter()
            .map(|o| OrderSummary {
                order_no: o.order_no.clone(),
                item: o.item.clone(),
                amount_fen: o.amount_fen,
                status: o.status.clone(),
                placed_at: now - i64::from(o.placed_days_ago) * 86_400_000,
            })
            .collect(),
    }
}

impl SimulatorTransport {
    /// A practice world: `reference` records (knowledge base, canned
    /// replies, scripts) synced to the sandbox store as from a platform, and
    /// `scenarios` arriving `arrival_secs` apart from `clock()` on.
    pub fn new(
        trainee_code: &str,
        trainee_name: &str,
        reference: Vec<Record>,
        scenarios: Vec<ScenarioDoc>,
        arrival_secs: u32,
        clock: PracticeClock,
    ) -> SimulatorTransport {
        let start = clock.now_ms();
        let trainee = AgentProfile {
            code: trainee_code.to_owned(),
            name: trainee_name.to_owned(),
            role: Role::Trainee,
            queues: vec![PRACTICE_QUEUE.to_owned()],
            skills: Vec::new(),
            max_chats: 10,
            presence: Presence::Available,
            presence_reason: None,
        };
        let mut world = World {
            trainee: trainee.clone(),
            log: Vec::new(),
            waiting: scenarios
                .into_iter()
                .enumerate()
                .map(|(i, doc)| (start + i as i64 * i64::from(arrival_secs) * 1000, doc))
                .collect(),
            contacts: BTreeMap::new(),
            next_id: 0,
            answered: HashMap::new(),
        };
        world.push(Record::AgentProfile(trainee));
        world.push(Record::Queue(Queue {
            id: PRACTICE_QUEUE.to_owned(),
            name_zh: "练习".to_owned(),
            name_en: "Practice".to_owned(),
            first_response_secs: 60,
            resolve_secs: 3600,
            skills: Vec::new(),
            business_hours: BusinessHours::daily(0, 24 * 60, 480),
            vanished_grace_secs: homedesk_protocol::DEFAULT_VANISHED_GRACE_SECS,
            away_after_missed_offers: homedesk_protocol::DEFAULT_AWAY_AFTER_MISSED_OFFERS,
            offer_timeout_secs: None,
        }));
        for record in reference {
            world.push(record);
        }
        world.advance(start);
        let (latest, _) = watch::channel(world.log.len() as u64);
        SimulatorTransport {
            world: Arc::new(Mutex::new(world)),
            latest,
            clock,
            on_finished: Arc::new(Mutex::new(None)),
        }
    }

    /// Calls `hook` with the final report of every contact wrapped up from
    /// now on.
    pub fn on_finished(&self, hook: OnFinished) {
        *self.on_finished.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lets time pass: arrivals, nudges, escalations. Pokes the engine when
    /// the log grew.
    pub fn tick(&self) {
        let now = self.clock.now_ms();
        let len = {
            let mut world = self.world();
            world.advance(now);
            world.log.len() as u64
        };
        self.latest.send_if_modified(|seq| {
            let grew = *seq != len;
            *seq = len;
            grew
        });
    }

    /// When a customer will next act on their own (or arrive).
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        let world = self.world();
        let arrivals = world.waiting.iter().map(|(at, _)| *at);
        let patience = world
            .contacts
            .values()
            .filter_map(|c| c.sim.next_deadline());
        arrivals.chain(patience).min()
    }

    /// The trainee opened or inserted a knowledge article while handling
    /// `conversation_id` (articles are read locally, not pushed).
    pub fn article(&self, conversation_id: &str, article_id: &str) {
        self.trainee_did(conversation_id, |sim, now| sim.article(now, article_id));
    }

    /// The trainee reached a guided-script step (`script-id#step-id`).
    pub fn script_step(&self, conversation_id: &str, step: &str) {
        self.trainee_did(conversation_id, |sim, now| sim.script_step(now, step));
    }

    fn trainee_did(
        &self,
        conversation_id: &str,
        act: impl FnOnce(&mut Simulation, UnixMillis) -> Vec<CustomerMessage>,
    ) {
        let now = self.clock.now_ms();
        {
            let mut world = self.world();
            world.advance(now);
            let Some(contact) = world.contacts.get_mut(conversation_id) else {
                return;
            };
            let messages = act(&mut contact.sim, now);
            world.customer_wrote(conversation_id, messages);
        }
        self.tick();
    }

    /// The score report of a practice contact, at any moment (final once
    /// it is wrapped up).
    pub fn report(&self, conversation_id: &str) -> Option<ScoreReport> {
        self.world()
            .contacts
            .get(conversation_id)
            .map(|c| c.sim.report())
    }

    fn session(&self) -> Session {
        let now = self.clock.now_ms();
        Session {
            access_token: "practice".to_owned(),
            access_expires_at: now + 365 * 86_400_000,
            refresh_token: "practice".to_owned(),
            refresh_expires_at: now + 365 * 86_400_000,
            agent: self.world().trainee.clone(),
            server_time: now,
            device_secret: None,
        }
    }
}

impl Transport for SimulatorTransport {
    async fn sign_in(&self, _request: &SignIn) -> Result<Session, TransportError> {
        Ok(self.session())
    }

    async fn refresh(&self, _refresh_token: &str) -> Result<Session, TransportError> {
        Ok(self.session())
    }

    async fn push(
        &self,
        _access_token: &str,
        batch: &ActionBatch,
    ) -> Result<Vec<ActionResult>, TransportError> {
        let now = self.clock.now_ms();
        let results: Vec<ActionResult> = {
            let mut world = self.world();
            world.advance(now);
            batch
                .actions
                .iter()
                .map(|a| world.apply_once(&a.key, &a.action, now))
                .collect()
        };
        self.tick();
        let hook = self
            .on_finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(hook) = hook {
            for (envelope, result) in batch.actions.iter().zip(&results) {
                if let Action::WrapUp {
                    conversation_id, ..
                } = &envelope.action
                    && result.status == ActionStatus::Applied
                    && let Some(report) = self.report(conversation_id)
                {
                    hook(conversation_id, &report);
                }
            }
        }
        Ok(results)
    }

    async fn pull(
        &self,
        _access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PulledPage, TransportError> {
        self.tick();
        let from = match cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                TransportError::CursorExpired(format!("{c:?} is not a practice position"))
            })?,
        };
        let world = self.world();
        let end = world.log.len().min(from + limit.max(1));
        let changes = world.log.get(from..end).unwrap_or_default().to_vec();
        Ok(PulledPage {
            changes,
            skipped: Vec::new(),
            next_cursor: end.to_string(),
            has_more: end < world.log.len(),
            server_time: self.clock.now_ms(),
            wire_bytes: 0,
            deferred: None,
            resolved_days: None,
        })
    }

    async fn events(&self, _access_token: &str) -> Result<EventStream, TransportError> {
        let transport = self.clone();
        let mut latest = self.latest.subscribe();
        latest.mark_unchanged();
        let stream = futures_util::stream::unfold(latest, move |mut latest| {
            let transport = transport.clone();
            async move {
                // Wake for the next customer deadline, a poke, or a heartbeat.
                let now = transport.clock.now_ms();
                let wait = transport
                    .next_deadline()
                    .map_or(HEARTBEAT, |at| {
                        Duration::from_millis(u64::try_from(at - now).unwrap_or(0) + 10)
                    })
                    .min(HEARTBEAT);
                tokio::select! {
                    changed = latest.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                    () = tokio::time::sleep(wait) => transport.tick(),
                }
                // A poke (also serves as the heartbeat): pulling an
                // in-memory log with nothing new costs nothing.
                let event = ServerEvent::poke(*latest.borrow_and_update());
                Some((Ok(event), latest))
            }
        });
        Ok(Box::pin(stream))
    }
}

/// The event stream's heartbeat interval (well inside the engine's
/// `HEARTBEAT_SECS * 3` deadline).
const HEARTBEAT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use std::path::Path;

    use homedesk_protocol::ActionEnvelope;

    use super::*;

    const T0: UnixMillis = 1_795_968_000_000;

    fn batch(key: &str, action: Action) -> ActionBatch {
        ActionBatch {
            actions: vec![ActionEnvelope {
                key: key.to_owned(),
                created_at: T0,
                action,
            }],
        }
    }

    /// The simulator follows the platform's rule: a reply needs the
    /// conversation claimed first, as it would live.
    #[tokio::test]
    async fn a_trainee_claims_before_replying_as_on_the_platform() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/scenarios");
        let set = homedesk_content::load_scenarios_dir(&dir, None, None)
            .unwrap_or_else(|_| panic!("the bundled scenarios load"));
        let doc = set.docs.first().expect("a bundled scenario").clone();
        let conversation_id = format!("conv-{}", doc.id);
        let sim =
            SimulatorTransport::new("t2001", "赵小满", Vec::new(), vec![doc], 0, Arc::new(|| T0));
        let reply = || Action::Reply {
            conversation_id: conversation_id.clone(),
            message_id: "msg-trainee-1".into(),
            body: "您好，我来帮您查一下".into(),
            attachments: Vec::new(),
        };
        let early = sim
            .push("", &batch("key-reply-1", reply()))
            .await
            .expect("push");
        assert_eq!(early[0].status, ActionStatus::Conflict);
        assert_eq!(
            early[0].code,
            Some(ActionCode::NotAssigned),
            "an unclaimed practice contact takes no reply"
        );
        let claimed = sim
            .push(
                "",
                &batch(
                    "key-claim-1",
                    Action::Claim {
                        conversation_id: conversation_id.clone(),
                    },
                ),
            )
            .await
            .expect("push");
        assert_eq!(claimed[0].status, ActionStatus::Applied);
        let replied = sim
            .push("", &batch("key-reply-2", reply()))
            .await
            .expect("push");
        assert_eq!(
            replied[0].status,
            ActionStatus::Applied,
            "once claimed it does"
        );
        let customer_lines = |sim: &SimulatorTransport| {
            sim.world()
                .log
                .iter()
                .filter(|c| {
                    matches!(&c.body, ChangeBody::Upsert(Record::Message(m)) if m.id == "msg-trainee-1")
                })
                .count()
        };
        let before = customer_lines(&sim);
        let again = sim
            .push("", &batch("key-reply-2", reply()))
            .await
            .expect("push");
        assert_eq!(
            again[0].status,
            ActionStatus::Duplicate,
            "a reply delivered twice is answered as a duplicate, as the platform does"
        );
        assert_eq!(
            again[0].original.as_deref().map(|o| o.status),
            Some(ActionStatus::Applied),
            "with the first verdict"
        );
        assert_eq!(
            customer_lines(&sim),
            before,
            "and reaches the simulated customer once"
        );
    }
}
