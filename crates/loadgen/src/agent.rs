//! One simulated agent, behaving like a workstation and a person at it.
//!
//! Bring-up (the ramp): sign in (`POST /v1/sessions`, a few at a time, and
//! again after `Retry-After` when the platform is busy hashing), open the
//! event stream (`GET /v1/events?changes=inline`, as the workstation does),
//! pull the change log from the start, set presence `available`.
//!
//! Then, like the workstation's sync engine (crates/core/src/sync): a
//! `changes` event whose inline page follows the cursor is applied as is,
//! any other `changes` event above the cursor makes it pull; every push
//! asks for the following page in its answer (`POST /v1/actions?cursor=`),
//! since the platform does not poke the sign-in that pushed. And like a
//! person: an offer is accepted after 1–3 s; a conversation of its queue
//! left waiting 45–90 s is claimed (by a few of the queue's agents, see
//! [`CLAIMERS_PER_QUEUE`]); a customer's message is answered
//! 5–20 s after it arrived; a conversation whose customer said their last
//! word (`#end`) is wrapped up 2–5 s after the last reply; set on a break
//! by the platform (offers that ran out), it is available again 5–15 s later.
//!
//! One task per agent does all of it in order, so at most one request of
//! the agent's is in flight besides its stream, as with a workstation's
//! sync loop; a second task reads the stream into a bounded queue.
//!
//! With several instances the event stream stays on the instance it was
//! opened on (as behind a load balancer: a long-lived answer stays where it
//! began), and the requests go to the instances in turn
//! ([`crate::Requests::Alternate`], a balancer spreading requests) or all to
//! the stream's instance ([`crate::Requests::WithStream`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use homedesk_protocol::{
    Action, ActionBatch, ActionEnvelope, ActionStatus, Author, ConversationStatus, MessageKind,
    Presence, Session, SignIn, cursor_position,
};
use rand::Rng;
use reqwest::{StatusCode, Url};
use tokio::sync::{mpsc, watch};

use crate::customers::Note;
use crate::net::{self, CallError, LeanChange, LeanData, StreamEvent};
use crate::report::{Recorder, Series};

/// What every agent and the customers share.
pub struct Shared {
    pub rec: Recorder,
    /// Distinguishes this run's keys, messages and customers from earlier
    /// runs against the same platform.
    pub run_id: String,
    pub certs: Vec<reqwest::Certificate>,
    pub password: String,
    /// Customer messages sent, by the token in their body (`#lg<token>`).
    pub messages: std::sync::Mutex<HashMap<u64, Sent>>,
    pub notes: mpsc::UnboundedSender<Note>,
    pub sign_ins: tokio::sync::Semaphore,
    pub syncs: tokio::sync::Semaphore,
    /// The chance that an agent reaches for a contact left waiting in its
    /// queue: [`CLAIMERS_PER_QUEUE`] over the queue's agents.
    pub claim_chance: f64,
}

/// How many agents of a queue, on average, claim a contact routing left
/// waiting.
pub const CLAIMERS_PER_QUEUE: f64 = 3.0;

/// A customer message on its way.
pub struct Sent {
    /// Just before its ingress request was sent.
    pub at: Instant,
    /// The platform accepted it (201).
    pub accepted: bool,
    /// Some agent holds it.
    pub delivered: bool,
}

impl Shared {
    /// An agent received the customer message with `token` at `received`.
    fn received(&self, token: u64, received: Instant) {
        let (sent, first) = {
            let mut messages = self.messages.lock().unwrap_or_else(|e| e.into_inner());
            let Some(sent) = messages.get_mut(&token) else {
                return;
            };
            let first = !sent.delivered;
            sent.delivered = true;
            (sent.at, first)
        };
        let latency = received.saturating_duration_since(sent);
        self.rec.sample(Series::DeliveryAll, sent, latency);
        if first {
            self.rec.sample(Series::DeliveryFirst, sent, latency);
        }
    }
}

/// The token a load-test customer message carries, `#lg<digits>`.
pub fn token_of(body: &str) -> Option<u64> {
    let rest = &body[body.find("#lg")? + 3..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The marker of a customer's last message.
pub const END: &str = "#end";

const REPLIES: [&str; 5] = [
    "亲，您好！我马上帮您查一下，请稍等。",
    "已经帮您登记好了，预计明天下午发出。",
    "非常抱歉给您带来不便，我们给您补发一份。",
    "您好，这个问题已经处理好了，请您再看一下。",
    "好的，还有其他可以帮您的吗？",
];

enum Item {
    /// An event, and when it was read off the stream.
    Event(Instant, StreamEvent),
    /// The stream ended or broke.
    Down(String),
}

#[derive(Debug, Clone)]
enum Job {
    Accept(String),
    Claim(String),
    Reply(String),
    WrapUp(String),
    Available,
    Reconnect,
}

/// A conversation as this agent's mirror has it.
#[derive(Default)]
struct Conv {
    status: Option<ConversationStatus>,
    assigned_to: Option<String>,
    /// The last text message (by time, then log position).
    last: Option<Last>,
    reply_scheduled: bool,
    claim_scheduled: bool,
    wrap_scheduled: bool,
}

struct Last {
    author: Author,
    sent_at: i64,
    seq: u64,
    /// The customer's last word, or a conversation not made by this run.
    end: bool,
}

pub struct Agent {
    shared: Arc<Shared>,
    code: String,
    /// Where the event stream opens.
    stream_base: Url,
    /// Where requests go, in turn (the stream's instance first).
    request_bases: Vec<Url>,
    /// The next of `request_bases`.
    turn: usize,
    api: reqwest::Client,
    stream: reqwest::Client,
    access: String,
    refresh: String,
    max_chats: usize,
    queues: Vec<String>,
    cursor: Option<String>,
    convs: HashMap<String, Conv>,
    timers: BTreeMap<(Instant, u64), Job>,
    timer_seq: u64,
    keys: u64,
    withdrawn: HashSet<String>,
    /// Customer messages this agent has received (a message may come
    /// again, e.g. with a conversation's history when it is assigned).
    seen: HashSet<u64>,
    events: mpsc::Receiver<Item>,
    events_tx: mpsc::Sender<Item>,
    reader: Option<tokio::task::JoinHandle<()>>,
    backoff: Duration,
    /// The platform set this agent on a break; it comes back soon.
    coming_back: bool,
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn between(low_ms: u64, high_ms: u64) -> Duration {
    Duration::from_millis(rand::rng().random_range(low_ms..=high_ms))
}

fn action_name(action: &Action) -> &'static str {
    match action {
        Action::AcceptOffer { .. } => "accept_offer",
        Action::Claim { .. } => "claim",
        Action::Reply { .. } => "reply",
        Action::WrapUp { .. } => "wrap_up",
        Action::Presence { .. } => "presence",
        _ => "other",
    }
}

impl Agent {
    /// Agent `code`, its event stream on `stream_base`, its requests to
    /// `request_bases` in turn (at least one).
    pub fn new(
        shared: Arc<Shared>,
        code: String,
        stream_base: Url,
        request_bases: Vec<Url>,
    ) -> anyhow::Result<Agent> {
        anyhow::ensure!(
            !request_bases.is_empty(),
            "an agent needs a URL for requests"
        );
        let heartbeat = Duration::from_secs(homedesk_protocol::HEARTBEAT_SECS);
        let (events_tx, events) = mpsc::channel(256);
        Ok(Agent {
            api: net::client(&shared.certs, Duration::from_secs(30))?,
            stream: net::client(&shared.certs, heartbeat * 3)?,
            shared,
            code,
            stream_base,
            request_bases,
            turn: 0,
            access: String::new(),
            refresh: String::new(),
            max_chats: 1,
            queues: Vec::new(),
            cursor: None,
            convs: HashMap::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            keys: 0,
            withdrawn: HashSet::new(),
            seen: HashSet::new(),
            events,
            events_tx,
            reader: None,
            backoff: Duration::from_secs(1),
            coming_back: false,
        })
    }

    /// `path` on the instance whose turn it is for the next request.
    fn url(&mut self, path: &str) -> Url {
        let mut url = self.request_bases[self.turn % self.request_bases.len()].clone();
        self.turn = self.turn.wrapping_add(1);
        url.set_path(path);
        url
    }

    fn rec(&self) -> &Recorder {
        &self.shared.rec
    }

    /// Signs in, opens the stream, syncs, becomes available; returns the
    /// agent's queues. Gives up at `deadline`.
    pub async fn bring_up(&mut self, deadline: Instant) -> Result<Vec<String>, String> {
        let shared = Arc::clone(&self.shared);
        {
            let _turn = shared.sign_ins.acquire().await.map_err(|e| e.to_string())?;
            self.sign_in(deadline).await?;
        }
        self.open_stream()
            .await
            .map_err(|e| format!("event stream: {e}"))?;
        {
            let _turn = shared.syncs.acquire().await.map_err(|e| e.to_string())?;
            if !self.pull_all().await {
                return Err("the first sync failed".to_owned());
            }
        }
        match self
            .push(Action::Presence {
                presence: Presence::Available,
            })
            .await
        {
            Some(ActionStatus::Applied) => Ok(self.queues.clone()),
            other => Err(format!("presence available: {other:?}")),
        }
    }

    async fn sign_in(&mut self, deadline: Instant) -> Result<(), String> {
        let body = SignIn {
            agent: self.code.clone(),
            password: self.shared.password.clone(),
            device_id: format!("loadgen-{}", self.code),
        };
        loop {
            let url = self.url("/v1/sessions");
            let request = self.api.post(url).json(&body);
            match net::send(request).await {
                Ok((body, _)) => {
                    let session: Session = net::decode(&body).map_err(|e| e.to_string())?;
                    self.take_session(session);
                    self.rec().count("sign-in ok");
                    return Ok(());
                }
                // Too many passwords being checked at once: the platform
                // says when to come back. Counted, never hidden.
                Err(CallError::Status {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    retry_after,
                    ..
                }) if Instant::now() < deadline => {
                    self.rec().count("sign-in refused 503 busy, retried");
                    tokio::time::sleep(Duration::from_secs(retry_after.unwrap_or(1).clamp(1, 10)))
                        .await;
                }
                Err(err) => {
                    self.rec().error(&format!("sign-in: {}", err.kind()), &err);
                    let hint = match &err {
                        CallError::Status { status, .. } if *status == StatusCode::UNAUTHORIZED => {
                            " (is the platform started with `serve --demo --demo-agents N`, N at least --agents?)"
                        }
                        _ => "",
                    };
                    return Err(format!("sign-in of {}: {err}{hint}", self.code));
                }
            }
        }
    }

    fn take_session(&mut self, session: Session) {
        self.access = session.access_token;
        self.refresh = session.refresh_token;
        self.max_chats = session.agent.max_chats as usize;
        self.queues = session.agent.queues;
    }

    /// A refresh after `token_expired` (runs longer than the access token's
    /// 15 minutes).
    async fn refresh_tokens(&mut self) -> Result<(), CallError> {
        let url = self.url("/v1/sessions/refresh");
        let request = self
            .api
            .post(url)
            .json(&serde_json::json!({ "refresh_token": self.refresh }));
        let (body, _) = net::send(request).await?;
        let session: Session = net::decode(&body)?;
        self.take_session(session);
        self.rec().count("token refreshed");
        Ok(())
    }

    /// Sends a request with the access token, refreshing it once if it expired.
    async fn authed(
        &mut self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<(Vec<u8>, Instant), CallError> {
        match net::send(build(&self.api, &self.access).bearer_auth(&self.access)).await {
            Err(CallError::Status { status, code, .. })
                if status == StatusCode::UNAUTHORIZED && code == "token_expired" =>
            {
                self.refresh_tokens().await?;
                net::send(build(&self.api, &self.access).bearer_auth(&self.access)).await
            }
            other => other,
        }
    }

    /// Opens `GET /v1/events?changes=inline` and starts reading it.
    async fn open_stream(&mut self) -> Result<(), CallError> {
        if let Some(old) = self.reader.take() {
            old.abort();
        }
        let mut url = self.stream_base.clone();
        url.set_path("/v1/events");
        url.query_pairs_mut().append_pair("changes", "inline");
        let mut response = None;
        for attempt in 0..2 {
            let request = net::protocol(self.stream.get(url.clone()).bearer_auth(&self.access))
                .header(reqwest::header::ACCEPT, "text/event-stream");
            let answer = request
                .send()
                .await
                .map_err(|e| CallError::Transport(net::chain(&e)))?;
            if answer.status().is_success() {
                response = Some(answer);
                break;
            }
            let err = net::status_error(answer).await;
            match &err {
                CallError::Status { status, code, .. }
                    if attempt == 0
                        && *status == StatusCode::UNAUTHORIZED
                        && code == "token_expired" =>
                {
                    self.refresh_tokens().await?;
                }
                _ => return Err(err),
            }
        }
        let response =
            response.ok_or_else(|| CallError::Transport("no event stream".to_owned()))?;
        let tx = self.events_tx.clone();
        self.reader = Some(tokio::spawn(async move {
            let mut reader = net::EventReader::new(response);
            loop {
                let item = match reader.next().await {
                    Ok(Some(event)) => Item::Event(Instant::now(), event),
                    Ok(None) => Item::Down("the platform ended the stream".to_owned()),
                    Err(err) => Item::Down(err),
                };
                let down = matches!(item, Item::Down(_));
                if tx.send(item).await.is_err() || down {
                    return;
                }
            }
        }));
        Ok(())
    }

    /// The log position the cursor stands at (0 before the first sync ends).
    fn position(&self) -> u64 {
        self.cursor
            .as_deref()
            .and_then(cursor_position)
            .map_or(0, |(_, seq)| seq)
    }

    /// Pulls until the platform says nothing more waits; false if a pull failed.
    async fn pull_all(&mut self) -> bool {
        for _ in 0..10_000 {
            let mut url = self.url("/v1/changes");
            {
                let mut query = url.query_pairs_mut();
                if let Some(cursor) = &self.cursor {
                    query.append_pair("cursor", cursor);
                }
                query.append_pair("limit", "500");
            }
            match self.authed(|c, _| c.get(url.clone())).await {
                Ok((body, at)) => {
                    let page: net::Page = match net::decode(&body) {
                        Ok(page) => page,
                        Err(err) => {
                            self.rec().error("pull: malformed page", err);
                            return false;
                        }
                    };
                    self.rec().count("pull");
                    self.apply(&page.changes, 0, at);
                    self.cursor = Some(page.next_cursor);
                    if !page.has_more {
                        return true;
                    }
                }
                Err(CallError::Status { status, .. }) if status == StatusCode::GONE => {
                    self.rec()
                        .error("pull: 410 unknown_cursor", "the cursor was refused; resync");
                    self.cursor = None;
                }
                Err(err) => {
                    self.rec().error(&format!("pull: {}", err.kind()), err);
                    return false;
                }
            }
        }
        self.rec().error("pull", "10,000 pages without an end");
        false
    }

    /// Applies the changes above `above`, received at `at`, and reacts.
    fn apply(&mut self, changes: &[LeanChange], above: u64, at: Instant) {
        let mut touched = HashSet::new();
        for change in changes.iter().filter(|c| c.seq > above) {
            match &change.data {
                LeanData::Conversation(c) if !change.deleted => {
                    if c.status == ConversationStatus::Resolved {
                        self.convs.remove(&c.id);
                        continue;
                    }
                    let conv = self.convs.entry(c.id.clone()).or_default();
                    conv.status = Some(c.status);
                    conv.assigned_to.clone_from(&c.assigned_to);
                    touched.insert(c.id.clone());
                }
                LeanData::Message(m) if !change.deleted && m.kind == MessageKind::Text => {
                    let token = token_of(&m.body);
                    if let (Some(token), Author::Customer) = (token, m.author)
                        && self.seen.insert(token)
                    {
                        self.shared.received(token, at);
                    }
                    let conv = self.convs.entry(m.conversation_id.clone()).or_default();
                    let newer = conv
                        .last
                        .as_ref()
                        .is_none_or(|l| (m.sent_at, change.seq) >= (l.sent_at, l.seq));
                    if newer {
                        conv.last = Some(Last {
                            author: m.author,
                            sent_at: m.sent_at,
                            seq: change.seq,
                            end: token.is_none() || m.body.contains(END),
                        });
                    }
                    touched.insert(m.conversation_id.clone());
                }
                // Offers ran out in a row and the platform set this agent on
                // a break (protocol.md §8.3): like a person at the desk, it
                // notices and sets itself available again.
                LeanData::Profile(Presence::OnBreak)
                    if change.id == self.code && !self.coming_back =>
                {
                    self.coming_back = true;
                    self.rec()
                        .count("set on a break by the platform (missed offers)");
                    self.schedule(between(5_000, 15_000), Job::Available);
                }
                _ if change.deleted
                    && change.entity == Some(homedesk_protocol::EntityKind::Conversation) =>
                {
                    self.convs.remove(&change.id);
                }
                _ => {}
            }
        }
        for id in touched {
            self.consider(&id);
        }
    }

    fn is_mine(&self, conv: &Conv) -> bool {
        conv.assigned_to.as_deref() == Some(self.code.as_str())
            && matches!(
                conv.status,
                Some(ConversationStatus::Active | ConversationStatus::Pending)
            )
    }

    /// Conversations assigned to this agent and not resolved.
    fn load(&self) -> usize {
        self.convs.values().filter(|c| self.is_mine(c)).count()
    }

    /// Schedules what a person would do next about conversation `id`.
    fn consider(&mut self, id: &str) {
        let load = self.load();
        let Some(conv) = self.convs.get(id) else {
            return;
        };
        let mine = self.is_mine(conv);
        let waiting = conv.status == Some(ConversationStatus::Queued) && conv.assigned_to.is_none();
        let customer_last = conv
            .last
            .as_ref()
            .is_some_and(|l| l.author == Author::Customer);
        if mine && customer_last && !conv.reply_scheduled {
            if let Some(conv) = self.convs.get_mut(id) {
                conv.reply_scheduled = true;
            }
            self.schedule(between(5_000, 20_000), Job::Reply(id.to_owned()));
        } else if waiting && !conv.claim_scheduled && load < self.max_chats {
            // Routing offers every contact to one available agent; a person
            // reaches into the queue only for a contact left waiting well
            // past an offer's 30 s, and of a queue's agents only a few do
            // (about [`CLAIMERS_PER_QUEUE`], whatever the queue's size), so
            // the simulated load grows with N, not with N squared.
            if let Some(conv) = self.convs.get_mut(id) {
                conv.claim_scheduled = true;
            }
            if rand::rng().random_bool(self.shared.claim_chance) {
                self.schedule(between(45_000, 90_000), Job::Claim(id.to_owned()));
            }
        }
    }

    fn schedule(&mut self, delay: Duration, job: Job) {
        self.timer_seq += 1;
        self.timers
            .insert((Instant::now() + delay, self.timer_seq), job);
    }

    /// Pushes one action (asking for the following page), applies the page;
    /// the action's status, or `None` when the push failed.
    async fn push(&mut self, action: Action) -> Option<ActionStatus> {
        let name = action_name(&action);
        self.keys += 1;
        let batch = ActionBatch {
            actions: vec![ActionEnvelope {
                key: format!("lg{}:{}:{}", self.shared.run_id, self.code, self.keys),
                created_at: now_ms(),
                action,
            }],
        };
        let mut url = self.url("/v1/actions");
        let asked_from = self.cursor.clone().filter(|c| cursor_position(c).is_some());
        if let Some(cursor) = &asked_from {
            url.query_pairs_mut().append_pair("cursor", cursor);
        }
        let sent = Instant::now();
        let answer = self.authed(|c, _| c.post(url.clone()).json(&batch)).await;
        let (body, at) = match answer {
            Ok(ok) => ok,
            Err(err) => {
                if matches!(err, CallError::Status { .. }) {
                    self.rec().sample(Series::Action, sent, sent.elapsed());
                }
                self.rec()
                    .error(&format!("action {name}: {}", err.kind()), &err);
                return None;
            }
        };
        self.rec().sample(Series::Action, sent, at - sent);
        let answer: net::PushAnswer = match net::decode(&body) {
            Ok(answer) => answer,
            Err(err) => {
                self.rec()
                    .error(&format!("action {name}: malformed answer"), err);
                return None;
            }
        };
        let Some(result) = answer.results.first() else {
            self.rec().error(&format!("action {name}: no result"), "");
            return None;
        };
        let code = result
            .code
            .and_then(|c| serde_json::to_value(c).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        match result.status {
            ActionStatus::Applied => self.rec().count(&format!("action applied: {name}")),
            // Expected outcomes when people race for the same customer.
            ActionStatus::Conflict => self.rec().count(&format!("action conflict: {name} {code}")),
            ActionStatus::Duplicate | ActionStatus::Rejected => self.rec().error(
                &format!("action {:?}: {name} {code}", result.status).to_lowercase(),
                result.message.as_deref().unwrap_or_default(),
            ),
        }
        let status = result.status;
        match answer.changes {
            Some(page) if self.cursor == asked_from => {
                self.apply(&page.changes, 0, at);
                self.cursor = Some(page.next_cursor);
                if page.has_more {
                    self.pull_all().await;
                }
            }
            // No page in the answer: pull, as the platform pokes everyone
            // but this sign-in.
            _ => {
                self.pull_all().await;
            }
        }
        Some(status)
    }

    /// Works until `stop` says so.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let next = self.timers.keys().next().map(|(at, _)| *at);
            tokio::select! {
                _ = stop.changed() => break,
                item = self.events.recv() => match item {
                    Some(item) => self.on_item(item).await,
                    None => break,
                },
                _ = tokio::time::sleep_until(next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)).into()), if next.is_some() => {
                    self.run_due().await;
                }
            }
        }
    }

    async fn on_item(&mut self, item: Item) {
        match item {
            Item::Event(at, StreamEvent::Changes(event)) => {
                let position = self.cursor.as_deref().and_then(cursor_position);
                let follows = match (&event.inline, position) {
                    (Some(inline), Some((instance, n))) => {
                        cursor_position(&inline.page.next_cursor)
                            .is_some_and(|(i, _)| i == instance)
                            && inline.after <= n
                    }
                    _ => false,
                };
                match event.inline {
                    Some(inline) if follows => {
                        let n = self.position();
                        self.rec().count("inline page applied");
                        self.apply(&inline.page.changes, n, at);
                        if cursor_position(&inline.page.next_cursor).is_some_and(|(_, m)| m > n) {
                            self.cursor = Some(inline.page.next_cursor);
                        }
                    }
                    _ if event.latest_seq > self.position() => {
                        self.rec().count("poke, then pull");
                        self.pull_all().await;
                    }
                    _ => {}
                }
            }
            Item::Event(_, StreamEvent::Offer(offer)) => {
                self.rec().count("offer received");
                self.schedule(between(1_000, 3_000), Job::Accept(offer.offer_id));
            }
            Item::Event(_, StreamEvent::OfferWithdrawn(offer)) => {
                self.withdrawn.insert(offer.offer_id);
            }
            Item::Event(_, StreamEvent::Other) => {}
            Item::Down(why) => {
                self.rec().error("event stream dropped", why);
                self.schedule(self.backoff, Job::Reconnect);
            }
        }
    }

    async fn run_due(&mut self) {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let job = entry.remove();
            self.run_job(job).await;
        }
    }

    async fn run_job(&mut self, job: Job) {
        match job {
            Job::Accept(offer_id) => {
                if self.withdrawn.remove(&offer_id) {
                    self.rec().count("offer withdrawn before it was accepted");
                    return;
                }
                self.push(Action::AcceptOffer { offer_id }).await;
            }
            Job::Claim(id) => {
                let still_waiting = self.convs.get(&id).is_some_and(|c| {
                    c.status == Some(ConversationStatus::Queued) && c.assigned_to.is_none()
                });
                if still_waiting && self.load() < self.max_chats {
                    self.push(Action::Claim {
                        conversation_id: id,
                    })
                    .await;
                }
            }
            Job::Reply(id) => {
                let Some(conv) = self.convs.get_mut(&id) else {
                    return;
                };
                conv.reply_scheduled = false;
                let end = match &conv.last {
                    Some(last) if last.author == Author::Customer => last.end,
                    _ => return,
                };
                if !self.is_mine(&self.convs[&id]) {
                    return;
                }
                self.keys += 1;
                let message_id = format!("lg{}-{}-{}", self.shared.run_id, self.code, self.keys);
                let body = REPLIES[rand::rng().random_range(0..REPLIES.len())].to_owned();
                let status = self
                    .push(Action::Reply {
                        conversation_id: id.clone(),
                        message_id,
                        body,
                        attachments: Vec::new(),
                    })
                    .await;
                if status == Some(ActionStatus::Applied) {
                    let _ = self.shared.notes.send(Note::Replied {
                        conversation_id: id.clone(),
                    });
                    if end
                        && let Some(conv) = self.convs.get_mut(&id)
                        && !conv.wrap_scheduled
                    {
                        conv.wrap_scheduled = true;
                        self.schedule(between(2_000, 5_000), Job::WrapUp(id));
                    }
                }
            }
            Job::WrapUp(id) => {
                if self.convs.get(&id).is_some_and(|c| self.is_mine(c)) {
                    self.push(Action::WrapUp {
                        conversation_id: id,
                        disposition: "resolved".to_owned(),
                        note: None,
                        after_contact_secs: 3,
                    })
                    .await;
                }
            }
            Job::Available => {
                self.coming_back = false;
                self.push(Action::Presence {
                    presence: Presence::Available,
                })
                .await;
            }
            Job::Reconnect => match self.open_stream().await {
                Ok(()) => {
                    self.rec().count("event stream reopened");
                    self.backoff = Duration::from_secs(1);
                    self.pull_all().await;
                }
                Err(err) => {
                    self.rec()
                        .error(&format!("event stream: {}", err.kind()), err);
                    self.backoff = (self.backoff * 2).min(Duration::from_secs(10));
                    self.schedule(self.backoff, Job::Reconnect);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_bodies() {
        assert_eq!(token_of("在吗？ #lg42 #end"), Some(42));
        assert_eq!(token_of("#lg7"), Some(7));
        assert_eq!(token_of("no token"), None);
        assert_eq!(token_of("#lgx"), None);
    }
}
