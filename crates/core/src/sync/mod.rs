//! The sync engine: delivers the outbox to the platform and brings the
//! platform's change log into the local store, over a link that drops for
//! minutes at a time, without losing or repeating an action.
//!
//! One task ([`SyncEngine::run`]) loops: push every pending action in
//! batches, pull the change log page by page (each page and its cursor in
//! one transaction), then wait for a poke from the event stream, a new local
//! action, or the poll timer. A second task listens to the platform's
//! server-sent events. Failures back off exponentially with jitter. A
//! panic inside a sync pass or the listener (a bug) is logged and treated as
//! a failure: release builds unwind (decision 0032), and a loop that died
//! quietly would leave replies unsent behind an "online" status.
//!
//! Tokens: the access token is refreshed behind one async lock, so many
//! callers that see it expire cause one refresh (single flight). A 401 after
//! a refresh means "sign in again", which stops the loop until the agent
//! does; it never becomes a retry loop. Signing out ends the session on the
//! platform (`DELETE /v1/sessions`); offline, its refresh token is kept in
//! the store and sent at the agent's next online sign-in.
//!
//! What the agent sees of all this is a [`ConnectionStatus`] (online,
//! degraded, offline; pending actions; last sync) and [`SyncEvent`]s.
//!
//! The platform routes by the engine's judgement of the link: every request
//! states it (`Homedesk-Link`), and when the judgement turns between online
//! and degraded the engine syncs at once so the platform hears it.

mod backoff;
mod desk_transport;
pub mod http;
mod media;
pub mod transport;
pub mod wire;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use homedesk_protocol::{
    ActionBatch, ActionEnvelope, ActionResult, ActionStatus, AgentProfile, ChangeBody,
    ConversationRecord, Offer, Presence, PresenceReason, Record, ServerEvent, Session, SignIn,
    UnixMillis,
};
use tokio::sync::{Mutex, Notify, broadcast, watch};

pub use backoff::Backoff;
pub use desk_transport::DeskTransport;
pub use http::{HttpConfig, HttpSetupError, HttpTransport};
pub use transport::{
    EventStream, FetchedMedia, LinkQuality, PhotoSize, PullKinds, PulledPage, Transport,
    TransportError,
};
pub use wire::WireMeter;

/// On a metered link, articles left out of the pulls that add up to no more
/// than this (stored, uncompressed JSON) are fetched at once: a fix to a few
/// articles is not a "bulk update" worth asking about (about 20 articles;
/// some 60 KB on the wire).
pub const SMALL_KB_UPDATE_BYTES: u64 = 200_000;

use crate::connection::{ConnectionState, ConnectionStatus};
use crate::data_usage::DataUsage;
use crate::search;
use crate::store::{Store, StoreError, outbox, records, sync_state};

/// Tunables; the defaults suit a village link.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Stable id of this installation, sent at sign-in.
    pub device_id: String,
    /// Actions per `POST /v1/actions`.
    pub push_batch: usize,
    /// Changes per page.
    pub page_limit: usize,
    /// Poll this often while the event stream is down.
    pub poll_interval: Duration,
    /// Poll this often even with the event stream up: a backstop only (a
    /// lost poke would cost at most this long). The platform itself makes
    /// good a poke it lost (a lagging stream, a lost nudge between
    /// instances), so this is long: each poll is ≈350 B on the wire
    /// (decision 0043).
    pub safety_poll: Duration,
    pub backoff: Backoff,
    /// A request slower than this marks the link degraded.
    pub slow_request: Duration,
    /// A failure this recent marks a working link degraded (flapping).
    pub flap_window: Duration,
    /// The workstation's clock: action times, the platform clock offset.
    pub clock: crate::clock::SharedClock,
    /// Most bytes of photos kept on this PC ([`crate::photos::CACHE_BUDGET_BYTES`]).
    pub photo_cache_budget: u64,
    /// Most thumbnails fetched per sync round ([`crate::photos::THUMBNAILS_PER_SYNC`]).
    pub thumbnails_per_sync: usize,
    /// The PC's data counter and budget; the transport must count into its
    /// meter (`HttpConfig::meter`). `None`: a counter of its own, in memory.
    pub data: Option<Arc<DataUsage>>,
}

impl SyncConfig {
    pub fn new(device_id: impl Into<String>) -> SyncConfig {
        SyncConfig {
            device_id: device_id.into(),
            push_batch: 50,
            page_limit: 500,
            poll_interval: Duration::from_secs(20),
            safety_poll: Duration::from_secs(600),
            backoff: Backoff::default(),
            slow_request: Duration::from_secs(3),
            flap_window: Duration::from_secs(60),
            clock: crate::clock::system(),
            photo_cache_budget: crate::photos::CACHE_BUDGET_BYTES,
            thumbnails_per_sync: crate::photos::THUMBNAILS_PER_SYNC,
            data: None,
        }
    }
}

/// Something the UI may want to react to.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// Local data changed (pulled changes, or the agent's own action).
    Changed,
    /// The platform offers this agent a contact.
    Offer(Offer),
    OfferWithdrawn {
        offer_id: String,
    },
    /// Actions the platform refused; see `store::views::conflicts`.
    Conflicts {
        keys: Vec<String>,
    },
    /// The status bar's content changed.
    Status(ConnectionStatus),
    /// A customer wrote in a conversation assigned to this agent (not sent
    /// for the history a first sync brings).
    CustomerMessage(records::NewCustomerMessage),
    /// The platform changed this agent's presence; `reason` says why when
    /// the platform chose it (e.g. offers ran out in a row).
    Presence {
        presence: Presence,
        reason: Option<PresenceReason>,
    },
    /// A colleague's internal note mentions this agent (`@code`).
    Mentioned(records::NewMention),
    /// For supervisors: the team view changed in a way the change log does
    /// not carry (an agent's link); read it again.
    TeamChanged,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("please sign in again: {0}")]
    SignInNeeded(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// The platform could not be reached at all (no connection, or it
    /// dropped mid-answer): the link, not the platform, is the trouble.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, SyncError::Transport(TransportError::Unreachable(_)))
    }
}

impl From<rusqlite::Error> for SyncError {
    fn from(err: rusqlite::Error) -> Self {
        SyncError::Store(StoreError::Sql(err))
    }
}

/// What one [`SyncEngine::sync_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub conflicts: usize,
    pub pulled: usize,
    pub skipped: usize,
    pub pages: usize,
    /// Thumbnails fetched after the pull.
    pub thumbnails: usize,
}

/// Recent request outcomes, to tell online from degraded from offline.
#[derive(Debug, Default)]
struct LinkHealth {
    last_ok: Option<Instant>,
    last_failure: Option<(Instant, String)>,
    /// Whether the most recent request failed on the link.
    down: bool,
    recent_latency: VecDeque<Duration>,
}

pub struct SyncEngine<T: Transport> {
    store: Arc<Store>,
    transport: T,
    config: SyncConfig,
    /// The session, behind the single-flight refresh lock.
    session: Mutex<Option<Session>>,
    /// The signed-in agent's code (readable without the async lock).
    me: std::sync::Mutex<Option<String>>,
    sign_in_needed: AtomicBool,
    /// A session exists (signed in, possibly with an expired access token).
    has_session: AtomicBool,
    server_offset_ms: std::sync::atomic::AtomicI64,
    /// Bytes on the wire (the status bar's "data used") and the budget.
    data: Arc<DataUsage>,
    events_connected: AtomicBool,
    /// The link judgement last given to the transport (true: degraded).
    link_reported_degraded: AtomicBool,
    health: std::sync::Mutex<LinkHealth>,
    wake: Notify,
    status: watch::Sender<ConnectionStatus>,
    events: broadcast::Sender<SyncEvent>,
    /// Changes that came on the event stream, applied by the next pull
    /// instead of asking the platform (when they follow the cursor).
    carried: std::sync::Mutex<Option<Carried>>,
    /// The cursor at which the last page applied (from a push's answer or
    /// an event) said nothing more waits; cleared by a poke and by the poll
    /// timer. While the cursor is here a pass does not pull.
    current_at: std::sync::Mutex<Option<String>>,
    /// A knowledge-base update of several pages being applied: articles so
    /// far (and in all, when known), for the status bar.
    kb_progress: std::sync::Mutex<Option<crate::connection::KbUpdateProgress>>,
}

/// A page of changes carried by a `changes` event: the entries after log
/// position `after`, up to the page's `next_cursor`.
struct Carried {
    after: u64,
    page: PulledPage,
}

impl Carried {
    fn ends_where(&self, position: u64) -> bool {
        !self.page.has_more
            && homedesk_protocol::cursor_position(&self.page.next_cursor)
                .is_some_and(|(_, end)| end == position)
    }

    /// This page and `next`, which starts where this one ends.
    fn followed_by(mut self, next: Carried) -> Carried {
        self.page.changes.extend(next.page.changes);
        self.page.next_cursor = next.page.next_cursor;
        self.page.has_more = next.page.has_more;
        self.page.server_time = next.page.server_time;
        self.page.resolved_days = next.page.resolved_days;
        self
    }
}

impl<T: Transport> SyncEngine<T> {
    /// An engine over `store`, continuing the session saved in it, if any.
    pub fn new(
        store: Arc<Store>,
        transport: T,
        config: SyncConfig,
    ) -> Result<Arc<Self>, SyncError> {
        let session = store.read(sync_state::session)?;
        let state = store.read(sync_state::get)?;
        let me = session.as_ref().map(|s| s.agent.code.clone());
        let (status, _) = watch::channel(ConnectionStatus::not_connected());
        let (events, _) = broadcast::channel(256);
        let data = config
            .data
            .clone()
            .unwrap_or_else(|| DataUsage::in_memory(config.clock.clone()));
        let engine = Arc::new(SyncEngine {
            store,
            transport,
            config,
            session: Mutex::new(session.clone()),
            me: std::sync::Mutex::new(me),
            sign_in_needed: AtomicBool::new(false),
            has_session: AtomicBool::new(session.is_some()),
            server_offset_ms: std::sync::atomic::AtomicI64::new(state.server_offset_ms),
            data,
            events_connected: AtomicBool::new(false),
            link_reported_degraded: AtomicBool::new(false),
            health: std::sync::Mutex::new(LinkHealth::default()),
            wake: Notify::new(),
            status,
            events,
            carried: std::sync::Mutex::new(None),
            current_at: std::sync::Mutex::new(None),
            kb_progress: std::sync::Mutex::new(None),
        });
        engine.publish_status();
        Ok(engine)
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The signed-in agent's code, if a session exists.
    pub fn agent(&self) -> Option<String> {
        lock(&self.me).clone()
    }

    pub fn status(&self) -> ConnectionStatus {
        self.status.borrow().clone()
    }

    pub fn watch_status(&self) -> watch::Receiver<ConnectionStatus> {
        self.status.subscribe()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.events.subscribe()
    }

    /// The workstation's clock (the one this engine was configured with).
    pub fn clock(&self) -> &crate::clock::SharedClock {
        &self.config.clock
    }

    fn now_ms(&self) -> UnixMillis {
        self.config.clock.now_ms()
    }

    /// The platform's clock, estimated from its last answer.
    pub fn server_now(&self) -> UnixMillis {
        self.now_ms() + self.server_offset_ms.load(Ordering::Relaxed)
    }

    /// Whether the platform's event stream is open (news arrives at once
    /// rather than at the next poll).
    pub fn listening(&self) -> bool {
        self.events_connected.load(Ordering::Relaxed)
    }

    /// Ask the loop to sync now, asking the platform (a local action was
    /// saved, a setting changed, the link judgement turned).
    pub fn wake(&self) {
        *lock(&self.current_at) = None;
        self.wake.notify_one();
    }

    /// Ask the loop for a pass that may find it has nothing to ask (the
    /// event stream brought the changes, more thumbnails wait).
    fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Signs in with the agent's password and keeps the session in the store.
    pub async fn sign_in(&self, agent: &str, password: &str) -> Result<AgentProfile, SyncError> {
        let request = SignIn {
            agent: agent.to_owned(),
            password: password.to_owned(),
            device_id: self.config.device_id.clone(),
        };
        let started = Instant::now();
        let result = self.transport.sign_in(&request).await;
        self.note_outcome(started, result.as_ref().err());
        let session = match result {
            Ok(session) => session,
            Err(TransportError::Unauthorized(message)) => {
                return Err(SyncError::SignInNeeded(message));
            }
            Err(other) => return Err(other.into()),
        };
        self.adopt_signed_in(session).await
    }

    /// Keeps a session the platform just gave for a sign-in (made by the
    /// caller with [`Transport::sign_in`]) and starts syncing with it.
    pub async fn adopt_signed_in(&self, session: Session) -> Result<AgentProfile, SyncError> {
        if let Some(previous) = self.agent()
            && previous != session.agent.code
        {
            return Err(SyncError::Store(StoreError::BadRecord(format!(
                "this local store belongs to agent {previous}, not {}",
                session.agent.code
            ))));
        }
        let profile = session.agent.clone();
        self.adopt_session(&mut *self.session.lock().await, Some(session))?;
        self.sign_in_needed.store(false, Ordering::Relaxed);
        self.publish_status();
        self.wake();
        Ok(profile)
    }

    /// Ends the session on the platform and forgets it here (the outbox
    /// stays and is delivered after the next sign-in). When the platform
    /// cannot be told now, the refresh token is kept in the store and sent
    /// at the next online sign-in ([`Self::tell_ended_sessions`]).
    pub async fn sign_out(&self) -> Result<(), SyncError> {
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.clone() {
            // The access token while it is valid; else the refresh token
            // (the platform accepts either for DELETE /v1/sessions).
            let token = if session.access_expires_at - 30_000 > self.server_now() {
                session.access_token.clone()
            } else {
                session.refresh_token.clone()
            };
            match self.transport.end_session(&token).await {
                Ok(()) | Err(TransportError::Unauthorized(_)) => {}
                Err(err) => {
                    tracing::info!("the platform will hear of this sign-out later: {err}");
                    let now = self.now_ms();
                    self.store.write(|tx| {
                        sync_state::note_ended_session(tx, &session.refresh_token, now)
                    })?;
                }
            }
        }
        self.adopt_session(&mut slot, None)?;
        drop(slot);
        self.publish_status();
        Ok(())
    }

    /// Tells the platform of sessions ended while offline; those it could
    /// not be told of yet stay for the next time. Returns how many it took.
    pub async fn tell_ended_sessions(&self) -> Result<usize, SyncError> {
        let tokens = self.store.read(sync_state::ended_sessions)?;
        let mut told = 0;
        for token in tokens {
            match self.transport.end_session(&token).await {
                // 401: the session is gone anyway.
                Ok(()) | Err(TransportError::Unauthorized(_)) => {
                    self.store
                        .write(|tx| sync_state::forget_ended_session(tx, &token))?;
                    told += 1;
                }
                Err(err) => {
                    tracing::info!("ended sessions wait for a better link: {err}");
                    break;
                }
            }
        }
        Ok(told)
    }

    fn adopt_session(
        &self,
        slot: &mut Option<Session>,
        session: Option<Session>,
    ) -> Result<(), SyncError> {
        if let Some(s) = &session {
            self.server_offset_ms
                .store(s.server_time - self.now_ms(), Ordering::Relaxed);
            *lock(&self.me) = Some(s.agent.code.clone());
        }
        self.store
            .write(|tx| sync_state::set_session(tx, session.as_ref()))?;
        self.has_session.store(session.is_some(), Ordering::Relaxed);
        *slot = session;
        Ok(())
    }

    /// A valid access token, refreshing it first if it is about to expire.
    async fn access_token(&self) -> Result<String, SyncError> {
        let mut slot = self.session.lock().await;
        let Some(session) = slot.as_ref() else {
            return Err(SyncError::SignInNeeded("not signed in".into()));
        };
        if session.access_expires_at - 30_000 > self.server_now() {
            return Ok(session.access_token.clone());
        }
        self.refresh_locked(&mut slot).await
    }

    /// The platform said 401 to `rejected`: refresh once, unless another
    /// caller already did while we waited for the lock.
    async fn token_rejected(&self, rejected: &str) -> Result<String, SyncError> {
        let mut slot = self.session.lock().await;
        match slot.as_ref() {
            None => Err(SyncError::SignInNeeded("not signed in".into())),
            Some(s) if s.access_token != rejected => Ok(s.access_token.clone()),
            Some(_) => self.refresh_locked(&mut slot).await,
        }
    }

    async fn refresh_locked(&self, slot: &mut Option<Session>) -> Result<String, SyncError> {
        let Some(current) = slot.as_ref() else {
            return Err(SyncError::SignInNeeded("not signed in".into()));
        };
        let started = Instant::now();
        let result = self.transport.refresh(&current.refresh_token).await;
        self.note_outcome(started, result.as_ref().err());
        match result {
            Ok(session) => {
                let token = session.access_token.clone();
                self.adopt_session(slot, Some(session))?;
                Ok(token)
            }
            Err(TransportError::Unauthorized(message)) => {
                self.adopt_session(slot, None)?;
                Err(self.require_sign_in(message))
            }
            Err(other) => Err(other.into()),
        }
    }

    fn require_sign_in(&self, message: String) -> SyncError {
        tracing::warn!("the platform ended this session: {message}");
        self.sign_in_needed.store(true, Ordering::Relaxed);
        self.publish_status();
        SyncError::SignInNeeded(message)
    }

    /// Pushes the whole outbox (uploading the photos of replies first),
    /// pulls the change log to its end, then fetches the thumbnails of the
    /// agent's conversations (see [`media`]).
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        *lock(&self.current_at) = None;
        self.pass().await
    }

    /// [`Self::sync_once`], but without a pull when the last page applied
    /// (from a push's answer or an event) left nothing waiting and no poke
    /// came since: what the loop runs.
    async fn pass(&self) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let result = async {
            self.push_all(&mut report).await?;
            self.pull_all(&mut report).await?;
            self.fetch_thumbnails(&mut report).await
        }
        .await;
        if result.is_ok() {
            let offset = self.server_offset_ms.load(Ordering::Relaxed);
            self.store
                .write(|tx| sync_state::set_synced(tx, self.now_ms(), offset))?;
        }
        self.publish_status();
        result.map(|()| report)
    }

    async fn push_all(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let mut batch_size = self.config.push_batch.max(1);
        loop {
            let actions = self.store.read(|c| outbox::pending(c, batch_size))?;
            if actions.is_empty() {
                return Ok(());
            }
            if self.upload_photos(&actions, report).await? {
                continue;
            }
            let keys: Vec<String> = actions.iter().map(|a| a.key.clone()).collect();
            let batch = ActionBatch { actions };
            // The pull that follows, in the push's answer: only from a
            // cursor past the first sync and when the pull would take
            // every kind (not while articles wait on a metered link).
            let cursor = self.store.read(sync_state::get)?.cursor;
            let ask_from = match cursor {
                Some(cursor)
                    if homedesk_protocol::cursor_position(&cursor).is_some()
                        && self.pull_kinds()? == PullKinds::All =>
                {
                    Some(cursor)
                }
                _ => None,
            };
            match self.push(&batch, ask_from.as_deref()).await {
                Ok((results, page)) => {
                    let recorded = self.record(&batch.actions, &results)?;
                    if recorded.acknowledged == 0 {
                        return Err(TransportError::Malformed(
                            "the platform answered without a result for any action sent".into(),
                        )
                        .into());
                    }
                    report.pushed += recorded.acknowledged;
                    report.conflicts += recorded.conflicts.len();
                    if !recorded.conflicts.is_empty() {
                        let _ = self.events.send(SyncEvent::Conflicts {
                            keys: recorded.conflicts,
                        });
                    }
                    batch_size = self.config.push_batch.max(1);
                    if let (Some(cursor), Some(page)) = (ask_from, page) {
                        let current = !page.has_more;
                        let next = page.next_cursor.clone();
                        if self.apply_page(Some(&cursor), &page, report)? && current {
                            *lock(&self.current_at) = Some(next);
                        }
                    }
                    self.publish_status();
                }
                // The batch as a whole was refused (a 4xx other than 401):
                // find the action at fault by sending one at a time, and
                // fold that one back to the agent instead of blocking the
                // outbox behind it forever.
                Err(SyncError::Transport(TransportError::Refused {
                    status, message, ..
                })) => {
                    if batch.actions.len() > 1 {
                        batch_size = 1;
                        continue;
                    }
                    let refused = ActionResult::refused(
                        &batch.actions[0].key,
                        ActionStatus::Rejected,
                        homedesk_protocol::ActionCode::Invalid,
                        format!("the platform refused this action (HTTP {status}): {message}"),
                    );
                    let recorded = self.record(&batch.actions, &[refused])?;
                    report.conflicts += recorded.conflicts.len();
                    let _ = self.events.send(SyncEvent::Conflicts {
                        keys: recorded.conflicts,
                    });
                }
                Err(err) => {
                    let text = err.to_string();
                    self.store
                        .write(|tx| outbox::note_attempt(tx, &keys, &text))?;
                    return Err(err);
                }
            }
        }
    }

    fn record(
        &self,
        sent: &[ActionEnvelope],
        results: &[ActionResult],
    ) -> Result<outbox::Recorded, SyncError> {
        // Only answers for what was sent count; anything else is ignored.
        let results: Vec<ActionResult> = results
            .iter()
            .filter(|r| sent.iter().any(|a| a.key == r.key))
            .cloned()
            .collect();
        let me = self.agent().unwrap_or_default();
        let now = self.now_ms();
        Ok(self
            .store
            .write(|tx| outbox::record_results(tx, &results, &me, now))?)
    }

    /// Pushes `batch`; with `cursor`, asks for the page after it in the
    /// same answer.
    async fn push(
        &self,
        batch: &ActionBatch,
        cursor: Option<&str>,
    ) -> Result<(Vec<ActionResult>, Option<PulledPage>), SyncError> {
        let pushed = |token: String| async move {
            match cursor {
                Some(cursor) => {
                    self.timed(self.transport.push_and_pull(&token, batch, cursor))
                        .await
                }
                None => self
                    .timed(self.transport.push(&token, batch))
                    .await
                    .map(|results| (results, None)),
            }
        };
        let token = self.access_token().await?;
        match pushed(token.clone()).await {
            Err(TransportError::Unauthorized(_)) => {
                let token = self.token_rejected(&token).await?;
                match pushed(token).await {
                    Err(TransportError::Unauthorized(message)) => {
                        Err(self.require_sign_in(message))
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    /// A conversation outside the sync scope, read from the platform with
    /// its thread and customer (`GET /v1/conversations/{id}`); nothing is
    /// stored. Fails when the link is down, like any call to the platform.
    pub async fn fetch_conversation(&self, id: &str) -> Result<ConversationRecord, SyncError> {
        let token = self.access_token().await?;
        match self
            .timed(self.transport.fetch_conversation(&token, id))
            .await
        {
            Err(TransportError::Unauthorized(_)) => {
                let token = self.token_rejected(&token).await?;
                match self
                    .timed(self.transport.fetch_conversation(&token, id))
                    .await
                {
                    Err(TransportError::Unauthorized(message)) => {
                        Err(self.require_sign_in(message))
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    async fn pull(&self, cursor: Option<&str>, kinds: PullKinds) -> Result<PulledPage, SyncError> {
        let limit = self.config.page_limit;
        let token = self.access_token().await?;
        let pulled = |token: String| async move {
            self.timed(self.transport.pull_kinds(&token, cursor, limit, kinds))
                .await
        };
        match pulled(token.clone()).await {
            Err(TransportError::Unauthorized(_)) => {
                let token = self.token_rejected(&token).await?;
                match pulled(token).await {
                    Err(TransportError::Unauthorized(message)) => {
                        Err(self.require_sign_in(message))
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    /// What a pull asks for now: everything, or all but the articles
    /// while some wait on a metered link.
    fn pull_kinds(&self) -> Result<PullKinds, SyncError> {
        let waiting = self.store.read(sync_state::kb_waiting)?;
        Ok(if waiting.is_some() || self.data.defer_bulk() {
            PullKinds::WithoutArticles
        } else {
            PullKinds::All
        })
    }

    /// The changes an event carried, if they follow `cursor` and suit
    /// `kinds`: the entries above the cursor's position, as a page ending
    /// where the event's does. `Some` with no entries when the cursor is at
    /// or past the event's end (nothing to pull).
    fn carried_page(&self, cursor: Option<&str>, kinds: PullKinds) -> Option<PulledPage> {
        let carried = lock(&self.carried).take()?;
        let (instance, at) = homedesk_protocol::cursor_position(cursor?)?;
        let (page_instance, end) = homedesk_protocol::cursor_position(&carried.page.next_cursor)?;
        if instance != page_instance || at < carried.after || carried.page.has_more {
            return None;
        }
        let mut page = carried.page;
        if kinds != PullKinds::All
            && page
                .changes
                .iter()
                .any(|c| c.body.kind() == homedesk_protocol::EntityKind::KbArticle)
        {
            return None;
        }
        if at >= end {
            page.changes.clear();
            page.next_cursor = cursor?.to_owned();
        } else {
            page.changes.retain(|c| c.seq > at);
        }
        Some(page)
    }

    async fn pull_all(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let result = self.pull_all_pages(report).await;
        // The update is in (or stopped, to go on at the next pass).
        if lock(&self.kb_progress).take().is_some() {
            self.publish_status();
        }
        result
    }

    /// Tells the status bar how far a knowledge-base update of several
    /// pages has come: `applied` more articles, more pages to come.
    fn kb_progress(&self, applied: usize, total: Option<u64>) {
        {
            let mut progress = lock(&self.kb_progress);
            let so_far = progress.map_or(0, |p| p.applied);
            *progress = Some(crate::connection::KbUpdateProgress {
                applied: so_far + applied as u64,
                total,
            });
        }
        self.publish_status();
    }

    async fn pull_all_pages(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let mut first = true;
        loop {
            let cursor = self.store.read(sync_state::get)?.cursor;
            // A metered link leaves articles out while some wait (or the
            // agent has not allowed a big update); they come afterwards.
            let kinds = self.pull_kinds()?;
            // The event stream brought the changes: no request.
            if first && let Some(page) = self.carried_page(cursor.as_deref(), kinds) {
                first = false;
                if self.apply_page(cursor.as_deref(), &page, report)? {
                    *lock(&self.current_at) = Some(page.next_cursor.clone());
                    return self.pull_waiting_articles(report).await;
                }
                continue;
            }
            // Already current (a push's answer or an event brought the
            // page, and no poke came since): no request either.
            if first && cursor.is_some() && *lock(&self.current_at) == cursor {
                return self.pull_waiting_articles(report).await;
            }
            first = false;
            let page = match self.pull(cursor.as_deref(), kinds).await {
                Ok(page) => page,
                Err(SyncError::Transport(TransportError::CursorExpired(message))) => {
                    tracing::warn!(
                        "sync position unknown to the platform ({message}); pulling from the start"
                    );
                    self.store.write(|tx| sync_state::set_cursor(tx, None))?;
                    continue;
                }
                Err(err) => return Err(err),
            };
            if page.has_more && cursor.as_deref() == Some(page.next_cursor.as_str()) {
                return Err(TransportError::Malformed(
                    "the platform says more changes wait but did not move the cursor".into(),
                )
                .into());
            }
            self.apply_page(cursor.as_deref(), &page, report)?;
            let articles = articles_in(&page);
            if page.has_more && articles > 0 {
                self.kb_progress(articles, None);
            }
            if !page.has_more {
                return self.pull_waiting_articles(report).await;
            }
        }
    }

    /// Applies one page of changes pulled from `cursor` (or carried by an
    /// event or a push's answer) with its new cursor, in one transaction,
    /// and tells the screens. Applies nothing and answers `false` when the
    /// stored cursor is no longer `cursor` (another pass moved it).
    fn apply_page(
        &self,
        cursor: Option<&str>,
        page: &PulledPage,
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        let me = self.agent().unwrap_or_default();
        self.server_offset_ms
            .store(page.server_time - self.now_ms(), Ordering::Relaxed);
        for (index, reason) in &page.skipped {
            tracing::warn!(
                index,
                "skipped an unreadable change from the platform: {reason}"
            );
        }
        // The first sync brings history, not news: nothing to announce.
        let announce = cursor.is_some();
        let mut presence_news = None;
        let mut mentions = Vec::new();
        let mut pruned = 0;
        let news = self.store.write(|tx| {
            if sync_state::get(tx)?.cursor.as_deref() != cursor {
                return Ok(None);
            }
            let mut news = Vec::new();
            // A page full of articles is indexed on two cores.
            search::with_prepared_articles(records::kb_articles(&page.changes), || {
                for change in &page.changes {
                    if announce && let Some(message) = records::new_customer_message(tx, change)? {
                        news.push(message);
                    }
                    if announce && let Some(mention) = records::new_mention(tx, change, &me)? {
                        mentions.push(mention);
                    }
                    if announce && let Some(changed) = my_presence_change(tx, change, &me)? {
                        presence_news = Some(changed);
                    }
                    records::apply_change(tx, change, &me)?;
                }
                Ok::<_, StoreError>(())
            })?;
            if !page.skipped.is_empty() {
                sync_state::note_skipped(tx, page.skipped.len())?;
            }
            if let Some(left_out) = page.deferred.filter(|d| d.changes > 0) {
                sync_state::note_kb_left_out(
                    tx,
                    cursor.unwrap_or_default(),
                    left_out.changes,
                    left_out.bytes,
                )?;
            }
            sync_state::set_cursor(tx, Some(&page.next_cursor))?;
            // Up to date: what grew old leaves the PC here, with no
            // bytes on the wire (docs/decisions/0035-sync-scope.md).
            if !page.has_more
                && let Some(days) = page.resolved_days
            {
                let cutoff = page.server_time - homedesk_protocol::scope::days_ms(days);
                pruned = records::prune_aged(tx, cutoff)?;
            }
            records::keep_mine(tx, news, &me).map(Some)
        })?;
        let Some(news) = news else {
            return Ok(false);
        };
        for message in news {
            let _ = self.events.send(SyncEvent::CustomerMessage(message));
        }
        for mention in mentions {
            let _ = self.events.send(SyncEvent::Mentioned(mention));
        }
        if let Some((presence, reason)) = presence_news {
            let _ = self.events.send(SyncEvent::Presence { presence, reason });
        }
        report.pages += 1;
        report.pulled += page.changes.len();
        report.skipped += page.skipped.len();
        if !page.changes.is_empty() || pruned > 0 {
            let _ = self.events.send(SyncEvent::Changed);
        }
        Ok(true)
    }

    /// Fetches the articles left out on a metered link, from where they
    /// started to be left out, when the link is no longer metered, the
    /// agent allowed it, or they are few ([`SMALL_KB_UPDATE_BYTES`]).
    async fn pull_waiting_articles(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let Some(waiting) = self.store.read(sync_state::kb_waiting)? else {
            return Ok(());
        };
        if self.data.defer_bulk() && waiting.bytes > SMALL_KB_UPDATE_BYTES {
            return Ok(());
        }
        let me = self.agent().unwrap_or_default();
        let mut cursor = Some(waiting.cursor).filter(|c| !c.is_empty());
        loop {
            let page = match self.pull(cursor.as_deref(), PullKinds::OnlyArticles).await {
                Ok(page) => page,
                Err(SyncError::Transport(TransportError::CursorExpired(message))) => {
                    tracing::warn!(
                        "the waiting articles' position is unknown to the platform ({message}); \
                         syncing everything again"
                    );
                    self.store.write(|tx| {
                        sync_state::set_kb_cursor(tx, None)?;
                        sync_state::set_cursor(tx, None)
                    })?;
                    return Ok(());
                }
                Err(err) => return Err(err),
            };
            if page.has_more && cursor.as_deref() == Some(page.next_cursor.as_str()) {
                return Err(TransportError::Malformed(
                    "the platform says more articles wait but did not move the cursor".into(),
                )
                .into());
            }
            self.store.write(|tx| {
                search::with_prepared_articles(records::kb_articles(&page.changes), || {
                    page.changes
                        .iter()
                        .try_for_each(|change| records::apply_change(tx, change, &me))
                })?;
                if !page.skipped.is_empty() {
                    sync_state::note_skipped(tx, page.skipped.len())?;
                }
                // Articles past the main cursor come again in its next pull:
                // applying the same entry twice changes nothing.
                let next = page.has_more.then_some(page.next_cursor.as_str());
                sync_state::set_kb_cursor(tx, next)
            })?;
            report.pages += 1;
            report.pulled += page.changes.len();
            report.skipped += page.skipped.len();
            if !page.changes.is_empty() {
                let _ = self.events.send(SyncEvent::Changed);
            }
            if page.has_more {
                self.kb_progress(articles_in(&page), Some(waiting.changes));
            }
            if !page.has_more {
                // Allowed once: the next big update asks again.
                self.data.bulk_fetched();
                self.publish_status();
                return Ok(());
            }
            cursor = Some(page.next_cursor);
        }
    }

    /// Runs a transport call and notes how the link behaved.
    async fn timed<R>(
        &self,
        call: impl std::future::Future<Output = Result<R, TransportError>>,
    ) -> Result<R, TransportError> {
        let started = Instant::now();
        let result = call.await;
        self.note_outcome(started, result.as_ref().err());
        result
    }

    fn note_outcome(&self, started: Instant, error: Option<&TransportError>) {
        let mut health = lock(&self.health);
        match error {
            Some(err) if err.is_link_failure() || matches!(err, TransportError::Certificate(_)) => {
                health.down = true;
                health.last_failure = Some((Instant::now(), err.to_string()));
            }
            _ => {
                health.down = false;
                health.last_ok = Some(Instant::now());
                health.recent_latency.push_back(started.elapsed());
                if health.recent_latency.len() > 5 {
                    health.recent_latency.pop_front();
                }
            }
        }
        drop(health);
        self.publish_status();
    }

    fn link_state(&self) -> (ConnectionState, Option<String>) {
        let health = lock(&self.health);
        let problem = health.last_failure.as_ref().map(|(_, why)| why.clone());
        if health.down || health.last_ok.is_none() {
            return (ConnectionState::Offline, problem);
        }
        let flapping = health
            .last_failure
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < self.config.flap_window);
        let mut latencies: Vec<Duration> = health.recent_latency.iter().copied().collect();
        latencies.sort();
        let slow = latencies
            .get(latencies.len() / 2)
            .is_some_and(|median| *median > self.config.slow_request);
        if flapping || slow {
            (ConnectionState::Degraded, None)
        } else {
            (ConnectionState::Online, None)
        }
    }

    /// Tells watchers the local data changed without a pull (the agent
    /// acted), so every screen re-reads, online or not.
    pub fn announce_local_change(&self) {
        let _ = self.events.send(SyncEvent::Changed);
    }

    /// Recomputes the status bar and tells watchers if it changed.
    pub fn publish_status(&self) {
        let pending = self.store.read(outbox::count).unwrap_or(0);
        let last_sync_at = self
            .store
            .read(sync_state::get)
            .ok()
            .and_then(|s| s.last_sync_at);
        let sign_in_needed = self.sign_in_needed.load(Ordering::Relaxed);
        let signed_in = self.has_session.load(Ordering::Relaxed) && !sign_in_needed;
        let (state, problem) = if signed_in {
            self.link_state()
        } else {
            (ConnectionState::Offline, None)
        };
        // Offline keeps the last judgement: the next request that gets
        // through says what the link was like before it went.
        let degraded = match state {
            ConnectionState::Online => Some(false),
            ConnectionState::Degraded => Some(true),
            ConnectionState::Offline => None,
        };
        if let Some(degraded) = degraded
            && self
                .link_reported_degraded
                .swap(degraded, Ordering::Relaxed)
                != degraded
        {
            self.transport.report_link(if degraded {
                LinkQuality::Degraded
            } else {
                LinkQuality::Good
            });
            // Tell the platform now, not at the next poll.
            self.wake();
        }
        let status =
            ConnectionStatus {
                state,
                pending_actions: pending,
                last_sync_at,
                sign_in_needed,
                problem,
                data: self.data.used(),
                kb_update_waiting: self.store.read(sync_state::kb_waiting).ok().flatten().map(
                    |w| crate::connection::KbUpdateWaiting {
                        articles: w.changes,
                        bytes: w.bytes,
                    },
                ),
                kb_updating: *lock(&self.kb_progress),
                clock_offset_ms: self.server_offset_ms.load(Ordering::Relaxed),
            };
        let changed = self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                *current = status.clone();
                true
            }
        });
        if changed {
            let _ = self.events.send(SyncEvent::Status(status));
        }
    }

    /// Syncs until `shutdown` turns true: after every local action, every
    /// poke from the platform, and on a timer; backing off while it fails.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let listener = tokio::spawn(Arc::clone(&self).listen_surviving_panics(shutdown.clone()));
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                break;
            }
            // This pass covers every wake up to now. Two wakes at once (a
            // stream that reconnects wakes the loop, and so does the link
            // judgement it changes) would otherwise make a second pass: the
            // first wake reaches the waiting loop, the second is kept for
            // after the pass. Wakes that come during the pass still make
            // one more.
            let _ = self.wake.notified().now_or_never();
            let pass = std::panic::AssertUnwindSafe(self.pass())
                .catch_unwind()
                .await;
            let wait = match pass {
                Ok(Ok(_)) => {
                    failures = 0;
                    if self.events_connected.load(Ordering::Relaxed) {
                        self.config.safety_poll
                    } else {
                        self.config.poll_interval
                    }
                }
                // Nothing to do until the agent signs in (which wakes us).
                Ok(Err(SyncError::SignInNeeded(_))) => Duration::from_secs(24 * 3600),
                Ok(Err(err)) => {
                    failures = failures.saturating_add(1);
                    let wait = self
                        .config
                        .backoff
                        .delay_after(failures, self.link_is_down(&err));
                    tracing::info!(
                        attempt = failures,
                        "sync failed, retrying in {wait:?}: {err}"
                    );
                    wait
                }
                Err(panic) => {
                    failures = failures.saturating_add(1);
                    let wait = self.config.backoff.delay(failures);
                    tracing::error!(
                        attempt = failures,
                        "a sync pass panicked (a bug), retrying in {wait:?}: {}",
                        panic_text(&*panic)
                    );
                    wait
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                // The poll (or safety poll) always asks the platform.
                () = tokio::time::sleep(wait) => *lock(&self.current_at) = None,
                _ = shutdown.changed() => {}
            }
        }
        listener.abort();
    }

    /// [`Self::listen`], started again after a backoff if it panics.
    async fn listen_surviving_panics(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut panics: u32 = 0;
        loop {
            let listening =
                std::panic::AssertUnwindSafe(Arc::clone(&self).listen(shutdown.clone()))
                    .catch_unwind()
                    .await;
            let Err(panic) = listening else { return };
            self.events_connected.store(false, Ordering::Relaxed);
            panics = panics.saturating_add(1);
            let wait = self.config.backoff.delay(panics);
            tracing::error!(
                "the event listener panicked (a bug), listening again in {wait:?}: {}",
                panic_text(&*panic)
            );
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Listens to the platform's event stream, reconnecting with backoff.
    async fn listen(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let heartbeat_deadline = Duration::from_secs(homedesk_protocol::HEARTBEAT_SECS * 3);
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            // Whether the last try found no platform at all (the link is
            // down): tried again within seconds, not a minute.
            let mut unreachable = false;
            let connected = async {
                let token = self.access_token().await?;
                match self.timed(self.transport.events(&token)).await {
                    Err(TransportError::Unauthorized(_)) => {
                        let token = self.token_rejected(&token).await?;
                        Ok::<_, SyncError>(self.timed(self.transport.events(&token)).await?)
                    }
                    other => Ok(other?),
                }
            }
            .await;
            match connected {
                Ok(mut stream) => {
                    failures = 0;
                    self.events_connected.store(true, Ordering::Relaxed);
                    // Anything that happened while we were not listening.
                    self.wake();
                    loop {
                        tokio::select! {
                            item = tokio::time::timeout(heartbeat_deadline, stream.next()) => match item {
                                Ok(Some(Ok(event))) => self.on_event(event),
                                Ok(Some(Err(TransportError::Malformed(why)))) => {
                                    tracing::warn!("ignored an unreadable event: {why}");
                                }
                                Ok(Some(Err(err))) => {
                                    tracing::info!("event stream ended: {err}");
                                    unreachable = matches!(err, TransportError::Unreachable(_));
                                    break;
                                }
                                Ok(None) => break,
                                Err(_) => {
                                    tracing::info!("no heartbeat for {heartbeat_deadline:?}; reconnecting");
                                    unreachable = true;
                                    break;
                                }
                            },
                            _ = shutdown.changed() => return,
                        }
                    }
                    self.events_connected.store(false, Ordering::Relaxed);
                }
                Err(SyncError::SignInNeeded(_)) => {
                    // The sync loop shows it; look again later.
                    failures = failures.saturating_add(1);
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    unreachable = self.link_is_down(&err);
                    tracing::debug!("event stream not available: {err}");
                }
            }
            let wait = self
                .config
                .backoff
                .delay_after(failures.max(1), unreachable);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Whether `err` came of a link that takes no connection at all (not
    /// of a platform that took it and did not answer in time): retried
    /// within `Backoff::unreachable_max`.
    fn link_is_down(&self, err: &SyncError) -> bool {
        err.is_unreachable() && self.transport.cannot_connect()
    }

    /// Whether the desk's cursor is already at log position `seq` or past
    /// it, so that a poke for `seq` is old news: the poke a stream opens
    /// with after an outage in which nothing changed (the reconnect pulls
    /// once anyway), or when the pull its connection started got there
    /// first. Unknown
    /// positions are news: a poke for 0 (an event whose page could not be
    /// read), a first sync under way, a cursor that cannot be read.
    fn has_pulled_to(&self, seq: u64) -> bool {
        if seq == 0 {
            return false;
        }
        let Ok(state) = self.store.read(sync_state::get) else {
            return false;
        };
        state
            .cursor
            .as_deref()
            .and_then(homedesk_protocol::cursor_position)
            .is_some_and(|(_, at)| at >= seq)
    }

    fn on_event(&self, event: ServerEvent) {
        match event {
            ServerEvent::Changes {
                inline: Some(inline),
                ..
            } => {
                let next = Carried {
                    after: inline.after,
                    page: inline.page.into(),
                };
                *lock(&self.current_at) = None;
                let mut carried = lock(&self.carried);
                *carried = Some(match carried.take() {
                    // Two events before a pass applied the first: one page.
                    Some(earlier) if earlier.ends_where(next.after) => earlier.followed_by(next),
                    _ => next,
                });
                drop(carried);
                self.nudge();
            }
            ServerEvent::Changes {
                latest_seq,
                inline: None,
            } => {
                if !self.has_pulled_to(latest_seq) {
                    self.wake();
                }
            }
            ServerEvent::Offer(offer) => {
                let _ = self.events.send(SyncEvent::Offer(offer));
            }
            ServerEvent::OfferWithdrawn { offer_id } => {
                let _ = self.events.send(SyncEvent::OfferWithdrawn { offer_id });
            }
            ServerEvent::Heartbeat { server_time } => {
                // A comment heartbeat has no time; pages keep the offset.
                if let Some(server_time) = server_time {
                    self.server_offset_ms
                        .store(server_time - self.now_ms(), Ordering::Relaxed);
                }
            }
            ServerEvent::TeamChanged { .. } => {
                let _ = self.events.send(SyncEvent::TeamChanged);
            }
        }
    }
}

/// `Some((presence, reason))` when `change` brings a new presence (or
/// reason) for the signed-in agent `me`. Call before applying the change.
/// `None` while the agent's own choice of presence waits in the outbox: that
/// newer choice is what the desk shows.
fn my_presence_change(
    tx: &rusqlite::Connection,
    change: &homedesk_protocol::Change,
    me: &str,
) -> Result<Option<(Presence, Option<PresenceReason>)>, StoreError> {
    let ChangeBody::Upsert(Record::AgentProfile(profile)) = &change.body else {
        return Ok(None);
    };
    if profile.code != me {
        return Ok(None);
    }
    if crate::store::outbox::pending_presence(tx)?.is_some() {
        return Ok(None);
    }
    let before = crate::store::reference::agent_profile(tx, me)?;
    let same = before.is_some_and(|b| {
        b.presence == profile.presence && b.presence_reason == profile.presence_reason
    });
    Ok((!same).then_some((profile.presence, profile.presence_reason)))
}

/// What a caught panic said, for the log.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Knowledge-base articles among a page's changes.
fn articles_in(page: &PulledPage) -> usize {
    page.changes
        .iter()
        .filter(|c| c.body.kind() == homedesk_protocol::EntityKind::KbArticle)
        .count()
}
