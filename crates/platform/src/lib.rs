//! The Homedesk reference central platform: an HTTPS server that signs
//! agents in, serves each one the change log they may see, applies their
//! actions exactly once, routes customer contacts, and pushes events.
//!
//! Layout: `http` (routes, extractors, error mapping) calls the domain
//! modules `auth`, `actions`, `attachments`, `channels`, `console` (the
//! team console's answers), `contact_records`,
//! `ingress`, `routing` and `visibility`, which run inside transactions of a
//! `storage::Storage`; `egress` pushes agents' replies to adapters, and
//! `webchat` is the customer chat page built into the platform. `server` owns TLS and
//! graceful shutdown, `sessions` the session endpoints and the ending of
//! sign-ins, `sign_in_limits` the guessing limits, `tls` the development certificates, `content` and
//! `admin` the import of knowledge and accounts, `queues` the queues an
//! administrator adds, `setup` a production data folder (`init`), `config`
//! the settings file, `demo` the demo world, `releases` the desktop packages
//! served to the workstations' updater, `retention` the sweep that takes old
//! resolved conversations off agents' PCs.

pub mod actions;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod channels;
pub mod config;
pub mod console;
pub mod contact_records;
pub use homedesk_content as content;
pub mod delivery;
pub mod demo;
pub mod egress;
pub mod error;
pub mod events;
pub mod http;
pub mod hub;
pub mod ingress;
pub mod links;
pub mod metrics;
pub mod owner_only;
pub mod pages;
pub mod queues;
pub mod releases;
pub mod retention;
pub mod routing;
pub mod scope;
pub mod server;
pub mod sessions;
pub mod setup;
pub mod sign_in_limits;
pub mod storage;
pub mod tail;
pub mod tls;
pub mod training;
pub mod visibility;
pub mod webchat;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use homedesk_protocol::{ServerEvent, UnixMillis};
use tokio::sync::{Notify, watch};

use crate::auth::AuthConfig;
use crate::egress::EgressConfig;
use crate::hub::{Addressee, Heard, Hub, Nudge, PeerMessage};
use crate::links::{BEAT_MS, Connections, LinkChanges};
use crate::metrics::Metrics;
use crate::storage::{Head, Storage};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Settings of a running platform.
#[derive(Debug, Clone)]
pub struct Settings {
    pub auth: AuthConfig,
    /// How long an offer lasts unless its queue says (`offer_timeout_secs`).
    pub offer_timeout_ms: i64,
    /// How long the verdict of an action is kept for its idempotency key.
    pub idempotency_retention_ms: i64,
    /// How long after its resolution a conversation stays on agents' PCs
    /// (`retention`).
    pub conversation_retention_ms: i64,
    /// Days an agent's own resolved conversations stay in their PC's sync
    /// scope (`[sync] resolved_days`, docs/decisions/0035-sync-scope.md).
    pub sync_resolved_days: u32,
    /// The bearer token `GET /metrics` requires (`serve` fills it in from
    /// the data folder when the config gives none; `None` refuses everyone).
    pub metrics_token: Option<String>,
    /// How the egress worker retries replies to adapters' webhooks.
    pub egress: EgressConfig,
    /// The web chat's abuse limits.
    pub webchat: webchat::ChatLimits,
    /// Sign-in throttling and the client address behind a proxy.
    pub sign_in: sign_in_limits::SignInLimits,
    /// How often the sign-ins of open event streams are checked for an end
    /// made by another process (`agent disable`), in milliseconds.
    pub session_check_ms: u64,
}

/// The longest wait between routing passes woken one after the other
/// (`Platform::run_routing`).
const ROUTING_GAP_MAX: std::time::Duration = std::time::Duration::from_millis(200);

/// Everything a request handler needs. One per process.
pub struct Platform {
    pub storage: Arc<dyn Storage>,
    pub settings: Settings,
    pub hub: Hub,
    pub metrics: Metrics,
    pub connections: Connections,
    /// Wakes the routing task early (a contact arrived, capacity freed).
    pub reroute: Notify,
    /// The log's head at the last beat (`Platform::beat`).
    last_beat_head: AtomicU64,
    /// Wakes the links task: a stream opened or closed, or a workstation
    /// said something new of its link (`Platform::run_links`).
    pub links_changed: Notify,
    /// Wakes the egress worker early (a reply was stored or unblocked).
    pub wake_egress: Notify,
    /// Flips to `true` when the server begins shutting down; event streams end.
    pub shutting_down: watch::Sender<bool>,
    /// The web chat's rate-limit buckets.
    pub webchat: webchat::WebChat,
    /// Photos being decoded at once (`attachments::upload`).
    pub photo_work: tokio::sync::Semaphore,
    /// Failed sign-ins per agent code and address.
    pub throttle: sign_in_limits::Throttle,
    /// Password hashes being computed at once.
    pub hashing: sign_in_limits::HashingGate,
    /// Sign-ins with an event stream open, to end those streams.
    pub open_sessions: sessions::OpenSessions,
    /// The log's newest entries, read once for every event stream here.
    pub tail: tail::LogTail,
}

impl Platform {
    pub fn new(storage: Arc<dyn Storage>, settings: Settings) -> Platform {
        let connections = Connections::new(now_ms());
        let hub = Hub::new(connections.instance(), storage.peers());
        // What was logged before the start needs no poke (a beat would
        // otherwise take it for a lost nudge).
        match storage.read_with(|tx| tx.latest_seq()) {
            Ok(latest) => hub.mark_poked(latest),
            Err(err) => tracing::warn!("could not read the log's head: {err:#}"),
        }
        Platform {
            webchat: webchat::WebChat::new(settings.webchat),
            throttle: sign_in_limits::Throttle::new(settings.sign_in.clone()),
            hashing: sign_in_limits::HashingGate::new(
                settings.sign_in.hashing,
                settings.sign_in.hashing_queue,
            ),
            open_sessions: sessions::OpenSessions::default(),
            tail: tail::LogTail::default(),
            storage,
            settings,
            hub,
            metrics: Metrics::default(),
            connections,
            reroute: Notify::new(),
            links_changed: Notify::new(),
            last_beat_head: AtomicU64::new(0),
            wake_egress: Notify::new(),
            shutting_down: watch::channel(false).0,
            photo_work: tokio::sync::Semaphore::new(attachments::PHOTO_WORKERS),
        }
    }

    /// Runs blocking storage work off the async threads.
    pub async fn blocking<R: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Platform) -> anyhow::Result<R> + Send + 'static,
    ) -> anyhow::Result<R> {
        let platform = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(&platform)).await?
    }

    /// Tells every connected workstation the log grew (each stream reads
    /// what its agent is due).
    pub fn poke(&self, latest_seq: u64) {
        self.hub.send_changes(latest_seq, None, None);
    }

    /// Tells the workstations the log grew with what `head.viewers` may see
    /// (from `Tx::head` at the end of the write): the streams of others
    /// have nothing to read and stay quiet.
    pub fn poke_head(&self, head: Head) {
        if head.viewers.is_empty() {
            return;
        }
        self.hub.send_changes(head.latest, Some(head.viewers), None);
    }

    /// [`Platform::poke_head`] after a push by sign-in `family`: every
    /// workstation but that one, which pulls right after its push anyway
    /// (protocol.md §7).
    pub fn poke_after_push(&self, head: Head, family: &str) {
        if head.viewers.is_empty() {
            return;
        }
        self.hub
            .send_changes(head.latest, Some(head.viewers), Some(family));
    }

    /// Nudges the supervisors of `agents`' queues to read their team view
    /// again (`team_changed`): their links went up, down or degraded, which
    /// the change log does not carry.
    fn nudge_supervisors(&self, supervisors: Vec<String>) {
        let server_time = now_ms();
        for supervisor in supervisors {
            self.hub.send(
                Addressee::Agent(supervisor),
                ServerEvent::TeamChanged { server_time },
            );
        }
    }

    /// Writes what changed of this instance's connections (streams opened
    /// or closed, links said degraded or ok) and tells whom it concerns.
    pub fn flush_links(&self, now: UnixMillis) -> anyhow::Result<()> {
        if !self.connections.dirty() {
            return Ok(());
        }
        let flush = self.connections.start_flush();
        let written = self.storage.write_with(|tx| {
            let changes = self.connections.flush(&flush, tx, now)?;
            let supervisors = supervisors_of_all(tx, &changes.state)?;
            Ok((changes, supervisors))
        });
        // Not committed: everything is written again.
        self.connections.flushed(flush, written.is_ok());
        let (changes, supervisors) = written?;
        let LinkChanges { degraded, .. } = changes;
        if degraded {
            // Chats may go to (or no longer to) these agents.
            self.reroute.notify_one();
        }
        self.nudge_supervisors(supervisors);
        Ok(())
    }

    /// This instance's beat (`links::Connections::beat`): takes out dead
    /// instances' streams, and pokes this instance's streams if the log
    /// grew past their last poke (a nudge lost with an instance that died
    /// between its commit and its `NOTIFY`).
    pub fn beat(&self, now: UnixMillis) -> anyhow::Result<()> {
        let (gone, supervisors, latest) = self.storage.write_with(|tx| {
            let gone = self.connections.beat(tx, now)?;
            let supervisors = supervisors_of_all(tx, &gone)?;
            Ok((gone, supervisors, tx.latest_seq()?))
        })?;
        if !gone.is_empty() {
            self.reroute.notify_one();
        }
        self.nudge_supervisors(supervisors);
        // A position the previous beat saw and no poke has reached since:
        // its nudge was lost (a poke merely on its way is not taken for one).
        let seen_before = self.last_beat_head.swap(latest, Ordering::Relaxed);
        if self.hub.peers().is_some() && seen_before > self.hub.last_poke() {
            tracing::debug!(
                seen_before,
                "a nudge was lost: poking this instance's streams"
            );
            self.hub
                .deliver(Addressee::Everyone, ServerEvent::poke(latest), None, None);
        }
        self.flush_links(now)
    }

    /// The links task: writes connection changes as they happen and beats
    /// every [`BEAT_MS`]; on shutdown, takes this instance's streams out.
    pub async fn run_links(self: Arc<Self>) {
        let mut stop = self.shutting_down.subscribe();
        let mut beat = tokio::time::interval(std::time::Duration::from_millis(
            u64::try_from(BEAT_MS).unwrap_or(2000),
        ));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let beating = tokio::select! {
                _ = beat.tick() => true,
                _ = self.links_changed.notified() => false,
                _ = stop.changed() => break,
            };
            let done = self
                .blocking(move |p| {
                    let now = now_ms();
                    if beating {
                        p.beat(now)
                    } else {
                        p.flush_links(now)
                    }
                })
                .await;
            if let Err(err) = done {
                tracing::warn!("could not write agents' connections: {err:#}");
            }
        }
        self.leave().await;
    }

    /// This instance stops: its agents' streams end now (the others see
    /// them gone at once rather than after `links::DEAD_AFTER_MS`).
    pub async fn leave(self: &Arc<Self>) {
        let left = self
            .blocking(|p| {
                p.storage.write_with(|tx| {
                    let gone = p.connections.leave(tx, now_ms())?;
                    supervisors_of_all(tx, &gone)
                })
            })
            .await;
        match left {
            Ok(supervisors) => self.nudge_supervisors(supervisors),
            Err(err) => tracing::warn!("could not take this instance's streams out: {err:#}"),
        }
    }

    /// Hands what the other instances publish to this instance's streams
    /// (`hub::Nudge`); returns at once when the storage has no others.
    pub async fn run_peers(self: Arc<Self>) {
        let Some(mut heard) = self.hub.peers().and_then(|p| p.subscribe()) else {
            return;
        };
        let mut stop = self.shutting_down.subscribe();
        loop {
            let next = tokio::select! {
                next = heard.recv() => next,
                _ = stop.changed() => return,
            };
            match next {
                None => return,
                Some(Heard::Listening) => {
                    // Nudges may have been lost while not listening: poke
                    // if the log grew past this instance's last poke.
                    match self
                        .blocking(|p| p.storage.read_with(|tx| tx.latest_seq()))
                        .await
                    {
                        Ok(latest) if latest > self.hub.last_poke() => self.hub.deliver(
                            Addressee::Everyone,
                            ServerEvent::poke(latest),
                            None,
                            None,
                        ),
                        Ok(_) => {}
                        Err(err) => tracing::warn!("could not read the log's head: {err:#}"),
                    }
                }
                Some(Heard::Message(text)) => match serde_json::from_str::<PeerMessage>(&text) {
                    Ok(message) if message.from == self.hub.instance() => {}
                    Ok(message) => self.relay(message.nudge).await,
                    Err(err) => tracing::warn!("a nudge that does not parse ({err}): {text}"),
                },
            }
        }
    }

    /// What another instance's nudge becomes on this instance's streams.
    async fn relay(self: &Arc<Self>, nudge: Nudge) {
        match nudge {
            Nudge::Changes {
                latest_seq,
                skip_family,
                viewers,
            } => {
                // A viewer this build does not know makes it a poke for all.
                let viewers = viewers.and_then(|v| {
                    v.iter()
                        .map(|who| storage::Viewer::decode(who))
                        .collect::<Option<storage::Audience>>()
                });
                self.hub.deliver(
                    Addressee::Everyone,
                    ServerEvent::poke(latest_seq),
                    skip_family,
                    viewers,
                );
            }
            Nudge::Team { supervisor } => self.hub.deliver(
                Addressee::Agent(supervisor),
                ServerEvent::TeamChanged {
                    server_time: now_ms(),
                },
                None,
                None,
            ),
            Nudge::Withdrawn { agent, offer_id } => {
                if self.connections.has_stream(&agent) {
                    self.hub.deliver(
                        Addressee::Agent(agent),
                        ServerEvent::OfferWithdrawn { offer_id },
                        None,
                        None,
                    );
                }
            }
            Nudge::Offer { agent, offer_id } => {
                if !self.connections.has_stream(&agent) {
                    return;
                }
                let now = now_ms();
                let read = self
                    .blocking(move |p| p.storage.read_with(|tx| open_offer(tx, &offer_id, now)))
                    .await;
                match read {
                    Ok(Some(offer)) => {
                        self.hub.deliver(
                            Addressee::Agent(agent),
                            ServerEvent::Offer(offer),
                            None,
                            None,
                        );
                    }
                    // Taken, declined or run out in the meantime.
                    Ok(None) => {}
                    Err(err) => tracing::warn!("could not read an offer: {err:#}"),
                }
            }
        }
    }

    /// One routing pass, announcing new, expired and withdrawn offers, and
    /// poking workstations when it changed records (a chat taken back from
    /// a vanished agent, an agent set on a break).
    pub fn route_once(&self) -> anyhow::Result<()> {
        self.route_at(now_ms())
    }

    /// [`Platform::route_once`] at a given time (tests move the clock).
    pub fn route_at(&self, now: UnixMillis) -> anyhow::Result<()> {
        self.route_pass(now, true)
    }

    /// One routing pass; `look_for_vanished`: also take back the chats of
    /// agents whose stream is gone (`routing::route_pass`).
    fn route_pass(&self, now: UnixMillis, look_for_vanished: bool) -> anyhow::Result<()> {
        // Streams opened and links stated here count in the pass: written
        // in its own transaction, under the write lock, so whatever a
        // workstation said before a contact the pass sees arrived is in it
        // (a flush of its own before the pass left a gap a statement and a
        // contact could both fall into).
        let flush = self.connections.start_flush();
        let written = self.storage.write_with(|tx| {
            let links = self.connections.flush(&flush, tx, now)?;
            let supervisors = supervisors_of_all(tx, &links.state)?;
            let outcome =
                routing::route_pass(tx, self.settings.offer_timeout_ms, now, look_for_vanished)?;
            Ok((outcome, tx.head()?, supervisors))
        });
        self.connections.flushed(flush, written.is_ok());
        let (outcome, head, supervisors) = written?;
        self.nudge_supervisors(supervisors);
        let changed_log = outcome.changed_log();
        for (agent, offer_id) in outcome.expired {
            self.metrics
                .inc("homedesk_offers_total", "outcome=\"expired\"".into());
            self.hub.send(
                Addressee::Agent(agent),
                ServerEvent::OfferWithdrawn { offer_id },
            );
        }
        for (agent, offer_id) in outcome.withdrawn {
            self.metrics
                .inc("homedesk_offers_total", "outcome=\"withdrawn\"".into());
            self.hub.send(
                Addressee::Agent(agent),
                ServerEvent::OfferWithdrawn { offer_id },
            );
        }
        for agent in &outcome.set_away {
            tracing::info!(agent, "offers ran out in a row: set on a break");
        }
        for (agent, conversation) in &outcome.requeued {
            tracing::info!(
                agent,
                conversation,
                "the agent's link is gone past the grace period: their waiting chat goes back to its queue"
            );
        }
        if changed_log {
            self.poke_head(head);
        }
        for (agent, offer) in outcome.offers {
            self.metrics
                .inc("homedesk_offers_total", "outcome=\"offered\"".into());
            self.hub
                .send(Addressee::Agent(agent), ServerEvent::Offer(offer));
        }
        Ok(())
    }

    /// The routing task: a pass every second, or sooner when woken.
    ///
    /// Passes woken by actions and contacts come one after the other under
    /// load, each a write transaction: after a woken pass the task waits as
    /// long as that pass took (at most [`ROUTING_GAP_MAX`]), so routing
    /// holds the write lock at most about half the time and the actions
    /// that woke it share one pass. Vanished agents are looked for once a
    /// second.
    pub async fn run_routing(self: Arc<Self>) {
        let mut stop = self.shutting_down.subscribe();
        let second = std::time::Duration::from_secs(1);
        let mut looked_for_vanished: Option<std::time::Instant> = None;
        loop {
            let started = std::time::Instant::now();
            let look = looked_for_vanished.is_none_or(|at| at.elapsed() >= second);
            let platform = Arc::clone(&self);
            if let Err(err) = platform
                .blocking(move |p| p.route_pass(now_ms(), look))
                .await
            {
                tracing::error!("routing failed: {err:#}");
            }
            if look {
                looked_for_vanished = Some(started);
            }
            let took = started.elapsed();
            tokio::select! {
                _ = self.reroute.notified() => {
                    tokio::time::sleep(took.min(ROUTING_GAP_MAX)).await;
                }
                _ = tokio::time::sleep(second) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Daily upkeep: forget expired tokens and idempotency keys older than
    /// the retention period, and take conversations resolved longer ago than
    /// `conversation_retention_ms` off agents' PCs.
    pub fn purge_once(&self) -> anyhow::Result<()> {
        let now = now_ms();
        let retention = self.settings.idempotency_retention_ms;
        self.storage
            .write_with(|tx| tx.purge(now, now - retention))?;
        self.sweep_retention_at(now)?;
        Ok(())
    }

    /// The retention sweep as of `now` (tests move the clock): tombstones
    /// for every conversation resolved before `now - conversation_retention_ms`
    /// not swept yet; pokes workstations when it wrote any. Returns how many.
    pub fn sweep_retention_at(&self, now: UnixMillis) -> anyhow::Result<usize> {
        let cutoff = now - self.settings.conversation_retention_ms;
        let (swept, latest) = self.storage.write_with(|tx| {
            let swept = retention::sweep(tx, cutoff, now)?;
            Ok((swept, tx.latest_seq()?))
        })?;
        if swept > 0 {
            tracing::info!(
                conversations = swept,
                "retention: resolved conversations taken off agents' PCs"
            );
            self.poke(latest);
        }
        Ok(swept)
    }
}

/// The supervisors of every agent in `agents`, each once.
fn supervisors_of_all(tx: &mut dyn storage::Tx, agents: &[String]) -> anyhow::Result<Vec<String>> {
    let mut supervisors = Vec::new();
    for agent in agents {
        for supervisor in console::supervisors_of(tx, agent)? {
            if !supervisors.contains(&supervisor) {
                supervisors.push(supervisor);
            }
        }
    }
    Ok(supervisors)
}

/// Offer `offer_id` as its agent is shown it, while it is open at `now`.
pub fn open_offer(
    tx: &mut dyn storage::Tx,
    offer_id: &str,
    now: UnixMillis,
) -> anyhow::Result<Option<homedesk_protocol::Offer>> {
    let Some(row) = tx.offer(offer_id)? else {
        return Ok(None);
    };
    if row.state != storage::OfferState::Open || row.expires_at <= now {
        return Ok(None);
    }
    let Some(homedesk_protocol::Record::Conversation(c)) = tx.get(
        homedesk_protocol::EntityKind::Conversation,
        &row.conversation_id,
    )?
    else {
        return Ok(None);
    };
    Ok(Some(homedesk_protocol::Offer {
        offer_id: row.offer_id,
        conversation_id: c.id,
        channel: c.channel,
        queue: c.queue,
        subject: c.subject,
        expires_at: row.expires_at,
    }))
}
