//! The practice simulator: one scenario (`homedesk_content::scenario`)
//! played in time against a trainee, and the score report that follows.
//!
//! A [`Simulation`] is pure: no I/O, no clock of its own, no randomness.
//! Every call carries the moment it happens (Unix milliseconds) and returns
//! the customer messages it caused, stamped with the moment the customer
//! wrote them, so the sandbox's transport, the core's tests (on a fake
//! clock) and `homedesk-cli practice play` drive the same engine and get the
//! same customer. [`Simulation::next_deadline`] says when the customer will
//! next act on their own, so a caller sleeps until then instead of polling.
//!
//! Invariants:
//! - Time never runs backwards: a call stamped earlier than the last one is
//!   taken as happening at the last one.
//! - Before a trainee action, the customer's patience is settled up to the
//!   action's moment ([`Simulation::advance`]), so a late reply still finds
//!   the nudge that came first.
//! - After each action, the current turn's reactions are checked in order
//!   and only the first match fires. A turn without reactions means the
//!   customer is done: nothing reacts any more and nobody waits.
//! - The customer waits (and loses patience) only on an unanswered message
//!   of their own: the opening or a reaction's words, timed from the latest
//!   such message (a reaction to an article starts the wait afresh). A nudge
//!   or the escalation never restarts the wait; any reply ends it. A customer
//!   nudges at most once per wait and escalates at most once per contact.
//! - The wrap-up ends the simulation: later calls change nothing and return
//!   nothing.
//! - Scoring ([`Simulation::report`]) only reads the log, so a report can be
//!   taken at any moment and taking it changes nothing.

mod matching;
mod score;
pub mod session;
pub mod transport;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use homedesk_content::scenario::{Mood, PlayStep, Reaction, ScenarioDoc, Turn};
use homedesk_protocol::UnixMillis;

pub use matching::ARTICLE_RUN_CHARS;
pub use score::{CheckKind, ReplayEntry, ReplayKind, ResponseTime, RubricResult, ScoreReport};

use matching::Matcher;

/// Why the customer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerMessageKind {
    /// The first message of the contact.
    Opening,
    /// Their reaction to something the trainee did.
    Reaction,
    /// "Hello? Anyone there?": waited `nudge_after_secs` without a reply.
    Nudge,
    /// Ran out of patience (`escalate_after_secs`).
    Escalation,
}

/// One message from the simulated customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMessage {
    pub at_ms: UnixMillis,
    pub text: String,
    pub kind: CustomerMessageKind,
}

/// Something the trainee did that the customer and the rubric may react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraineeAction {
    /// A message sent to the customer.
    Reply(String),
    /// A knowledge article opened or inserted (`kb-…`).
    Article(String),
    /// A guided-script step reached: `"script-id#step-id"`.
    ScriptStep(String),
    /// The contact wrapped up with this disposition code.
    WrapUp(String),
}

/// One line of the simulation's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent {
    Customer(CustomerMessage),
    Trainee {
        at_ms: UnixMillis,
        action: TraineeAction,
    },
}

impl SimEvent {
    pub fn at_ms(&self) -> UnixMillis {
        match self {
            SimEvent::Customer(message) => message.at_ms,
            SimEvent::Trainee { at_ms, .. } => *at_ms,
        }
    }
}

/// The customer waiting for an answer to their message.
#[derive(Debug, Clone)]
struct Wait {
    since_ms: UnixMillis,
    text: String,
    nudged: bool,
}

/// A reply that answered a customer message: the measured response time.
#[derive(Debug, Clone)]
struct Answer {
    customer_at_ms: UnixMillis,
    customer_text: String,
    reply_at_ms: UnixMillis,
}

/// The escalation: when, and how long the customer had waited.
#[derive(Debug, Clone, Copy)]
struct Escalation {
    at_ms: UnixMillis,
    waited_ms: i64,
}

/// One scenario being played. See the module documentation for the rules.
#[derive(Debug, Clone)]
pub struct Simulation {
    doc: ScenarioDoc,
    /// Folded plain text of the knowledge articles, by id (optional: lets a
    /// reply quoting an article count as using it).
    articles: BTreeMap<String, String>,
    started_at_ms: UnixMillis,
    now_ms: UnixMillis,
    /// Index into `doc.turns`; past the end when the scenario has no turns.
    turn: usize,
    mood: Mood,
    wait: Option<Wait>,
    answers: Vec<Answer>,
    escalation: Option<Escalation>,
    wrapped_up: Option<String>,
    log: Vec<SimEvent>,
}

impl Simulation {
    /// The contact arrives at `started_at_ms`: the customer writes the
    /// opening message and waits for the trainee.
    pub fn start(doc: &ScenarioDoc, started_at_ms: UnixMillis) -> (Simulation, CustomerMessage) {
        let mut sim = Simulation {
            doc: doc.clone(),
            articles: BTreeMap::new(),
            started_at_ms,
            now_ms: started_at_ms,
            turn: 0,
            mood: doc.customer.mood,
            wait: None,
            answers: Vec::new(),
            escalation: None,
            wrapped_up: None,
            log: Vec::new(),
        };
        let opening = sim.customer_writes(
            started_at_ms,
            doc.opening.clone(),
            CustomerMessageKind::Opening,
        );
        (sim, opening)
    }

    /// Gives the plain text of knowledge articles (id, text): a reply that
    /// contains a run of [`ARTICLE_RUN_CHARS`] characters of an article's
    /// text then counts as that article used, for reactions and rubric
    /// alike. Without it only [`TraineeAction::Article`] does.
    pub fn set_article_texts(&mut self, texts: impl IntoIterator<Item = (String, String)>) {
        self.articles = texts
            .into_iter()
            .map(|(id, text)| (id, matching::fold_spaced(&text)))
            .collect();
    }

    /// The trainee sends `text` to the customer.
    pub fn reply(&mut self, at_ms: UnixMillis, text: &str) -> Vec<CustomerMessage> {
        self.act(at_ms, TraineeAction::Reply(text.to_owned()))
    }

    /// The trainee opens or inserts knowledge article `id`.
    pub fn article(&mut self, at_ms: UnixMillis, id: &str) -> Vec<CustomerMessage> {
        self.act(at_ms, TraineeAction::Article(id.to_owned()))
    }

    /// The trainee reaches a guided-script step (`"script-id#step-id"`).
    pub fn script_step(&mut self, at_ms: UnixMillis, step: &str) -> Vec<CustomerMessage> {
        self.act(at_ms, TraineeAction::ScriptStep(step.to_owned()))
    }

    /// The trainee wraps up with `disposition`; the simulation ends.
    pub fn wrap_up(&mut self, at_ms: UnixMillis, disposition: &str) -> Vec<CustomerMessage> {
        self.act(at_ms, TraineeAction::WrapUp(disposition.to_owned()))
    }

    /// Any trainee action at `at_ms`: first the customer's patience up to
    /// then, then the action and the first reaction of the current turn it
    /// matches. Returns every customer message this produced, in order.
    pub fn act(&mut self, at_ms: UnixMillis, action: TraineeAction) -> Vec<CustomerMessage> {
        let mut out = self.advance(at_ms);
        if self.is_over() {
            return out;
        }
        let at_ms = self.now_ms;
        self.log.push(SimEvent::Trainee {
            at_ms,
            action: action.clone(),
        });
        if matches!(action, TraineeAction::Reply(_)) {
            self.answer(at_ms);
        }
        let reaction = self.current_turn().and_then(|turn| {
            let matcher = self.matcher();
            turn.reactions
                .iter()
                .find(|reaction| matcher.fires(&reaction.when, &action))
                .cloned()
        });
        if let Some(reaction) = reaction {
            out.extend(self.react(at_ms, reaction));
        }
        if let TraineeAction::WrapUp(disposition) = action {
            self.wrapped_up = Some(disposition);
            self.wait = None;
        }
        out
    }

    /// Time passes until `now_ms`: the customer nudges and escalates if
    /// left waiting. Returns what they wrote, stamped when they wrote it.
    pub fn advance(&mut self, now_ms: UnixMillis) -> Vec<CustomerMessage> {
        let now_ms = now_ms.max(self.now_ms);
        let mut out = Vec::new();
        while let Some((at_ms, kind)) = self.next_patience_event() {
            if at_ms > now_ms {
                break;
            }
            let Some(wait) = self.wait.as_mut() else {
                break;
            };
            let text = match kind {
                CustomerMessageKind::Escalation => {
                    // Escalating first makes a later nudge pointless.
                    wait.nudged = true;
                    self.escalation = Some(Escalation {
                        at_ms,
                        waited_ms: at_ms - wait.since_ms,
                    });
                    self.mood = Mood::Angry;
                    self.doc.patience.escalation.clone()
                }
                _ => {
                    wait.nudged = true;
                    if matches!(self.mood, Mood::Calm | Mood::Anxious) {
                        self.mood = Mood::Impatient;
                    }
                    self.doc.patience.nudge.clone()
                }
            };
            out.push(self.customer_writes(at_ms, text, kind));
        }
        self.now_ms = now_ms;
        out
    }

    /// When the customer will next write on their own (a nudge or the
    /// escalation), if nothing else happens first.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        self.next_patience_event().map(|(at_ms, _)| at_ms)
    }

    /// Plays scripted steps (`at_secs` after the start): time advances to
    /// each step, then its action happens (a step with several action keys
    /// does them in the order reply, article, script step, wrap-up). If no
    /// step wrapped up, time then runs on until the customer has run out of
    /// patience, as when a trainee walks away from a contact.
    pub fn run(&mut self, steps: &[PlayStep]) {
        for step in steps {
            let at_ms = self.started_at_ms + i64::from(step.at_secs) * 1000;
            self.advance(at_ms);
            if let Some(text) = &step.reply {
                self.reply(at_ms, text);
            }
            if let Some(id) = &step.article {
                self.article(at_ms, id);
            }
            if let Some(script_step) = &step.script_step {
                self.script_step(at_ms, script_step);
            }
            if let Some(disposition) = &step.wrap_up {
                self.wrap_up(at_ms, disposition);
            }
        }
        if !self.is_over() {
            let patience = &self.doc.patience;
            let longest = patience.nudge_after_secs.max(patience.escalate_after_secs);
            self.advance(self.now_ms + i64::from(longest) * 1000);
        }
    }

    /// The score report as things stand (normally after the wrap-up).
    pub fn report(&self) -> ScoreReport {
        score::report(self)
    }

    pub fn doc(&self) -> &ScenarioDoc {
        &self.doc
    }

    pub fn started_at_ms(&self) -> UnixMillis {
        self.started_at_ms
    }

    /// The latest moment the simulation has seen.
    pub fn now_ms(&self) -> UnixMillis {
        self.now_ms
    }

    /// The customer's current turn (`""` for a scenario without turns).
    pub fn turn_id(&self) -> &str {
        self.current_turn().map_or("", |turn| turn.id.as_str())
    }

    pub fn mood(&self) -> Mood {
        self.mood
    }

    pub fn escalated(&self) -> bool {
        self.escalation.is_some()
    }

    /// The customer has nothing more to say (their turn has no reactions):
    /// the contact can be wrapped up.
    pub fn customer_done(&self) -> bool {
        self.current_turn()
            .is_none_or(|turn| turn.reactions.is_empty())
    }

    /// The trainee wrapped up: the simulation has ended.
    pub fn is_over(&self) -> bool {
        self.wrapped_up.is_some()
    }

    /// The disposition the trainee wrapped up with.
    pub fn disposition(&self) -> Option<&str> {
        self.wrapped_up.as_deref()
    }

    /// Everything that happened, in order.
    pub fn log(&self) -> &[SimEvent] {
        &self.log
    }

    fn current_turn(&self) -> Option<&Turn> {
        self.doc.turns.get(self.turn)
    }

    fn matcher(&self) -> Matcher<'_> {
        Matcher {
            intents: &self.doc.intents,
            articles: &self.articles,
        }
    }

    /// The customer's next nudge or escalation in the current wait.
    fn next_patience_event(&self) -> Option<(UnixMillis, CustomerMessageKind)> {
        if self.is_over() {
            return None;
        }
        let wait = self.wait.as_ref()?;
        let patience = &self.doc.patience;
        let nudge = (!wait.nudged).then(|| {
            (
                wait.since_ms + i64::from(patience.nudge_after_secs) * 1000,
                CustomerMessageKind::Nudge,
            )
        });
        let escalation = self.escalation.is_none().then(|| {
            (
                wait.since_ms + i64::from(patience.escalate_after_secs) * 1000,
                CustomerMessageKind::Escalation,
            )
        });
        match (nudge, escalation) {
            // At the same moment, the escalation wins (and the nudge is moot).
            (Some(n), Some(e)) => Some(if n.0 < e.0 { n } else { e }),
            (n, e) => n.or(e),
        }
    }

    /// A reply: it answers the customer's waiting message. The first reply
    /// is measured from the opening, however much the customer said since
    /// (so the first reply always leaves an answer).
    fn answer(&mut self, at_ms: UnixMillis) {
        let wait = self.wait.take();
        if self.answers.is_empty() {
            self.answers.push(Answer {
                customer_at_ms: self.started_at_ms,
                customer_text: self.doc.opening.clone(),
                reply_at_ms: at_ms,
            });
        } else if let Some(wait) = wait {
            self.answers.push(Answer {
                customer_at_ms: wait.since_ms,
                customer_text: wait.text,
                reply_at_ms: at_ms,
            });
        }
    }

    fn react(&mut self, at_ms: UnixMillis, reaction: Reaction) -> Option<CustomerMessage> {
        if let Some(next) = &reaction.next {
            // An unknown turn id leaves the customer where they are; the
            // validator names it.
            if let Some(index) = self.doc.turns.iter().position(|turn| &turn.id == next) {
                self.turn = index;
            }
        }
        if let Some(mood) = reaction.mood {
            self.mood = mood;
        }
        let message = (!reaction.say.trim().is_empty())
            .then(|| self.customer_writes(at_ms, reaction.say, CustomerMessageKind::Reaction));
        if self.customer_done() {
            self.wait = None;
        }
        message
    }

    fn customer_writes(
        &mut self,
        at_ms: UnixMillis,
        text: String,
        kind: CustomerMessageKind,
    ) -> CustomerMessage {
        if matches!(
            kind,
            CustomerMessageKind::Opening | CustomerMessageKind::Reaction
        ) {
            self.wait = (!self.customer_done()).then(|| Wait {
                since_ms: at_ms,
                text: text.clone(),
                nudged: false,
            });
        }
        let message = CustomerMessage { at_ms, text, kind };
        self.log.push(SimEvent::Customer(message.clone()));
        message
    }
}

/// Plays a whole scripted play-through on a fake clock (the contact arrives
/// at 0) and scores it.
pub fn play(doc: &ScenarioDoc, steps: &[PlayStep]) -> ScoreReport {
    let (mut sim, _opening) = Simulation::start(doc, 0);
    sim.run(steps);
    sim.report()
}
