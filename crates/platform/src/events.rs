//! `GET /v1/events`: one workstation's event stream (protocol.md §7).
//!
//! On connect a `changes` poke and the agent's open offers; then whatever
//! the [`Hub`](crate::hub::Hub) carries for this agent, and a heartbeat
//! after every [`HEARTBEAT_SECS`] of silence. Three things keep it cheap on
//! a village link (docs/decisions/0038-changes-where-they-are-due.md,
//! 0048-heartbeats-as-comments.md):
//! - with `?changes=inline`, a `changes` event carries the page of changes
//!   the workstation is due since the position the stream last told it
//!   about, when that page is small, so a customer's message costs half a
//!   round trip instead of a poke and a pull. Changes the agent may not see
//!   send nothing at all;
//! - when the workstation accepts `zstd`, the stream is one zstd stream,
//!   flushed after every event, so each event is compressed against the
//!   ones before it (a heartbeat costs a few bytes, not a hundred);
//! - with `?heartbeat=comment`, the heartbeat is an SSE comment line
//!   ([`COMMENT_HEARTBEAT`]), 5 bytes of zstd where the event with the
//!   time in it was 18 (a workstation asks for it; older ones get events).

use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use homedesk_protocol::{
    AgentProfile, COMMENT_HEARTBEAT, ChangesPage, EntityKind, HEARTBEAT_SECS, InlineChanges,
    Record, ServerEvent,
};
use tokio::sync::broadcast::error::RecvError;

use crate::error::ApiError;
use crate::http::Agent;
use crate::hub::{Addressee, Envelope};
use crate::pages::{self, Position};
use crate::storage::{Audience, KindFilter, Viewer};
use crate::tail::Due;
use crate::{Platform, now_ms};

type Shared = Arc<Platform>;

/// Most changes a `changes` event carries; a bigger page is a plain poke
/// and the workstation pulls it (compressed as a whole).
const INLINE_MAX_CHANGES: usize = 50;
/// Most bytes of JSON a `changes` event carries (a knowledge-base update or
/// a photo-laden thread goes by pull instead).
const INLINE_MAX_BYTES: usize = 32 * 1024;
/// The stream's zstd: level 3 (the platform's level for pages) with a 32 KiB
/// window and small tables, so that a stream costs about 150 KB of memory
/// and 2,000 of them fit easily (decision 0038).
const ZSTD_LEVEL: i32 = 3;
const ZSTD_WINDOW_LOG: u32 = 15;
const ZSTD_TABLE_LOG: u32 = 13;

/// Ends the stream's connection count, and its place among the open
/// sign-ins, when the stream is dropped.
struct StreamGuard {
    platform: Shared,
    agent: String,
    family: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.platform.open_sessions.release(&self.family);
        self.platform.connections.stream_closed(&self.agent);
        self.platform.links_changed.notify_one();
    }
}

struct StreamState {
    // Dropped before `ended` (fields drop in order): the guard's release
    // counts this stream's receiver as still held.
    guard: StreamGuard,
    ended: tokio::sync::watch::Receiver<bool>,
    receiver: tokio::sync::broadcast::Receiver<Envelope>,
    heartbeat: tokio::time::Interval,
    stop: tokio::sync::watch::Receiver<bool>,
    pending: VecDeque<ServerEvent>,
    /// Envelopes taken off the hub early, while gathering pokes that queued
    /// up (`StreamState::gather`), to be handled in order next.
    held: VecDeque<Envelope>,
    /// `?changes=inline`: carry the changes in `changes` events.
    inline: bool,
    /// `?heartbeat=comment`: heartbeats are SSE comments, not events.
    comment_heartbeats: bool,
    /// The audiences this stream's agent belongs to
    /// (`visibility::viewers_of`), read at the start and again with every
    /// read of the log: a poke for none of them is not for this stream.
    viewers: Vec<Viewer>,
    /// The log position this workstation is known to have been told about
    /// (or to have pulled to itself, after its own push): the next inline
    /// page starts here.
    told: u64,
    /// Nothing in `(told, checked]` is for this agent: the next inline page
    /// reads from here (and still says it follows `told`).
    checked: u64,
    /// The agent's profile as last read (`None`: gone).
    profile: Option<AgentProfile>,
    encoder: Option<zstd::stream::write::Encoder<'static, Vec<u8>>>,
}

impl StreamState {
    /// Whether `envelope` is for this stream's agent, and whether this
    /// stream's own sign-in caused it.
    fn concerns(&self, envelope: &Envelope) -> (bool, bool) {
        let for_agent = match &envelope.to {
            Addressee::Everyone => true,
            Addressee::Agent(a) => *a == self.guard.agent,
        };
        let own_push = envelope.skip_family.as_deref() == Some(self.guard.family.as_str());
        (for_agent, own_push)
    }

    /// Whether a poke for what `logged_for` may see can concern this
    /// stream (`None`: not known, it may).
    fn may_concern(&self, logged_for: Option<&Audience>) -> bool {
        logged_for.is_none_or(|audience| {
            audience.contains(&Viewer::Everyone)
                || self.viewers.iter().any(|v| audience.contains(v))
        })
    }

    /// Handles one envelope from the hub.
    async fn on_envelope(&mut self, envelope: Envelope) {
        let (for_agent, own_push) = self.concerns(&envelope);
        match envelope.event {
            // This workstation pulls right after its own
            // push (or had the page in the push's answer).
            ServerEvent::Changes { latest_seq, .. } if own_push => {
                self.told = self.told.max(latest_seq);
                self.checked = self.checked.max(self.told);
            }
            ServerEvent::Changes { latest_seq, .. } if for_agent => {
                let concerned = self.may_concern(envelope.viewers.as_ref());
                let refresh = for_everyone(envelope.viewers.as_ref());
                let (latest, concerned, refresh) = self.gather(latest_seq, concerned, refresh);
                if !concerned {
                    // Nothing this agent may see: no read, no event.
                    return;
                }
                if self.inline && latest <= self.checked {
                    // Told already (a repeated or late poke): no read.
                    return;
                }
                if let Some(event) = self.changes_event(latest, refresh).await {
                    self.pending.push_back(event);
                }
            }
            event if for_agent && !own_push => self.pending.push_back(event),
            _ => {}
        }
    }

    /// Pokes that queued up behind one at `latest` make one read, not one
    /// each: takes what waits on the hub, merges the pokes for this stream
    /// into the highest position, and holds the rest, in order, for after.
    /// Returns the position to read up to, and whether any of the pokes
    /// may concern this stream.
    fn gather(
        &mut self,
        mut latest: u64,
        mut concerned: bool,
        mut refresh: bool,
    ) -> (u64, bool, bool) {
        while let Ok(next) = self.receiver.try_recv() {
            let (for_agent, own_push) = self.concerns(&next);
            match next.event {
                ServerEvent::Changes { latest_seq, .. } if for_agent && !own_push => {
                    latest = latest.max(latest_seq);
                    concerned |= self.may_concern(next.viewers.as_ref());
                    refresh |= for_everyone(next.viewers.as_ref());
                }
                _ => self.held.push_back(next),
            }
            if self.held.len() >= 64 {
                break;
            }
        }
        (latest, concerned, refresh)
    }

    /// What a `changes` envelope up to `latest` becomes on this stream:
    /// the page itself when it is small, a poke when it is not, and nothing
    /// when none of it is for this agent.
    /// `refresh`: a poke for everyone was among them, so the agent's own
    /// profile may have changed.
    async fn changes_event(&mut self, latest: u64, refresh: bool) -> Option<ServerEvent> {
        if !self.inline {
            if refresh {
                // The agent's profile may have changed (their queues).
                let agent = self.guard.agent.clone();
                let read = self
                    .guard
                    .platform
                    .blocking(move |p| p.storage.read_with(|tx| viewers_of_agent(tx, &agent)))
                    .await;
                if let Ok(viewers) = read {
                    self.viewers = viewers;
                }
            }
            return Some(ServerEvent::poke(latest));
        }
        let after = self.told;
        let (latest, page) = match self.due_from_tail(latest).await {
            Some(Due::Nothing { upto, profile }) => {
                // Nothing this agent may see: no event, and the next page
                // still starts where the workstation is.
                self.checked = self.checked.max(upto);
                self.viewers = crate::visibility::viewers_of(&profile);
                self.profile = Some(*profile);
                return None;
            }
            Some(Due::TooMany { upto }) => {
                self.told = upto;
                self.checked = upto;
                return Some(ServerEvent::poke(upto));
            }
            Some(Due::Page {
                page,
                upto,
                profile,
            }) => {
                self.viewers = crate::visibility::viewers_of(&profile);
                self.profile = Some(*profile);
                (upto, page)
            }
            Some(Due::AskTheDatabase) | None => match self.read_due(latest).await? {
                Ok(read) => read,
                Err(poke) => return Some(poke),
            },
        };
        self.told = latest;
        self.checked = latest;
        if page.has_more {
            return Some(ServerEvent::poke(latest));
        }
        let served = page.changes.len() as u64;
        let event = ServerEvent::Changes {
            latest_seq: latest,
            inline: Some(InlineChanges { after, page }),
        };
        let size = serde_json::to_vec(&event).map_or(usize::MAX, |json| json.len());
        if size > INLINE_MAX_BYTES {
            return Some(ServerEvent::poke(latest));
        }
        self.guard
            .platform
            .metrics
            .add("homedesk_changes_served_total", String::new(), served);
        Some(event)
    }

    /// What the instance's shared read of the log says this agent is due
    /// (`crate::tail`); `None` when the agent is gone.
    async fn due_from_tail(&self, latest: u64) -> Option<Due> {
        let profile = self.profile.as_ref()?;
        let platform = &self.guard.platform;
        Some(
            platform
                .tail
                .due(platform, self.checked, latest, profile, INLINE_MAX_CHANGES)
                .await,
        )
    }

    /// The agent's page since `checked`, read from the database: `None`
    /// when nothing is due, else the log's position and the page, or the
    /// poke to send instead (the agent is gone, or the read failed: the
    /// pull will tell).
    async fn read_due(&mut self, latest: u64) -> Option<Result<(u64, ChangesPage), ServerEvent>> {
        let agent = self.guard.agent.clone();
        let after = self.checked;
        let resolved_days = self.guard.platform.settings.sync_resolved_days;
        let read = self
            .guard
            .platform
            .blocking(move |p| {
                p.storage.read_with(|tx| {
                    let latest = tx.latest_seq()?;
                    let profile = profile_of(tx, &agent)?;
                    let page = pages::page_for(
                        tx,
                        &agent,
                        resolved_days,
                        Position::After {
                            seq: after,
                            first_until: 0,
                        },
                        &KindFilter::default(),
                        INLINE_MAX_CHANGES,
                    )?;
                    Ok((latest, profile, page))
                })
            })
            .await;
        let (latest, page) = match read {
            Ok((latest, profile, Some(page))) => {
                self.viewers = profile
                    .as_ref()
                    .map_or_else(|| vec![Viewer::Everyone], crate::visibility::viewers_of);
                self.profile = profile;
                (latest, page)
            }
            Ok((latest, _, None)) => return Some(Err(ServerEvent::poke(latest))),
            Err(err) => {
                tracing::warn!("could not read the changes for an event stream: {err:#}");
                return Some(Err(ServerEvent::poke(latest)));
            }
        };
        if !page.has_more && page.changes.is_empty() {
            self.checked = self.checked.max(latest);
            return None;
        }
        Some(Ok((latest, page)))
    }

    /// The bytes of one event on the wire: SSE text, through the stream's
    /// zstd when it has one.
    fn frame(&mut self, event: &ServerEvent) -> Bytes {
        let text = match event {
            ServerEvent::Heartbeat { .. } if self.comment_heartbeats => {
                COMMENT_HEARTBEAT.to_owned()
            }
            _ => format!(
                "event: {}\ndata: {}\n\n",
                event.name(),
                serde_json::to_string(event).unwrap_or_default()
            ),
        };
        let Some(encoder) = self.encoder.as_mut() else {
            return Bytes::from(text);
        };
        match encoder
            .write_all(text.as_bytes())
            .and_then(|()| encoder.flush())
        {
            Ok(()) => Bytes::from(std::mem::take(encoder.get_mut())),
            Err(err) => {
                // Cannot happen writing to memory; end the stream rather
                // than send a broken one (the workstation reconnects).
                tracing::error!("event stream compression failed: {err}");
                self.encoder = None;
                Bytes::new()
            }
        }
    }
}

/// Whether a poke is for everyone (or for whom is not known).
fn for_everyone(logged_for: Option<&Audience>) -> bool {
    logged_for.is_none_or(|audience| audience.contains(&Viewer::Everyone))
}

/// The audiences `agent` reads the log as (`Everyone` alone for an agent
/// that is gone: the pull will say so).
fn viewers_of_agent(tx: &mut dyn crate::storage::Tx, agent: &str) -> anyhow::Result<Vec<Viewer>> {
    Ok(profile_of(tx, agent)?
        .as_ref()
        .map_or_else(|| vec![Viewer::Everyone], crate::visibility::viewers_of))
}

fn profile_of(
    tx: &mut dyn crate::storage::Tx,
    agent: &str,
) -> anyhow::Result<Option<AgentProfile>> {
    Ok(match tx.get(EntityKind::AgentProfile, agent)? {
        Some(Record::AgentProfile(profile)) => Some(profile),
        _ => None,
    })
}

fn zstd_encoder() -> std::io::Result<zstd::stream::write::Encoder<'static, Vec<u8>>> {
    use zstd::stream::raw::CParameter;
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
    encoder.set_parameter(CParameter::WindowLog(ZSTD_WINDOW_LOG))?;
    encoder.set_parameter(CParameter::HashLog(ZSTD_TABLE_LOG))?;
    encoder.set_parameter(CParameter::ChainLog(ZSTD_TABLE_LOG))?;
    Ok(encoder)
}

/// Whether `Accept-Encoding` admits zstd (`zstd`, `zstd;q=0.5`, not `q=0`).
fn accepts_zstd(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| homedesk_protocol::coding::lists_coding(v, "zstd"))
}

pub async fn events(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    headers: HeaderMap,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    if let Some(unknown) = query
        .keys()
        .find(|k| !matches!(k.as_str(), "changes" | "heartbeat"))
    {
        return Err(ApiError::invalid(format!(
            "{unknown}: not a parameter of /v1/events (changes, heartbeat)"
        )));
    }
    let inline = match query.get("changes").map(String::as_str) {
        None | Some("poke") => false,
        Some("inline") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "changes: {other:?} is neither \"inline\" nor \"poke\""
            )));
        }
    };
    let comment_heartbeats = match query.get("heartbeat").map(String::as_str) {
        None | Some("event") => false,
        Some("comment") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "heartbeat: {other:?} is neither \"comment\" nor \"event\""
            )));
        }
    };
    let agent = caller.agent.clone();
    // Subscribe before reading the state, so nothing falls in between.
    let receiver = platform.hub.subscribe();
    let now = now_ms();
    let lookup_agent = agent.clone();
    let (latest, profile, offers) = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                let latest = tx.latest_seq()?;
                let profile = profile_of(tx, &lookup_agent)?;
                let mut offers = Vec::new();
                for row in tx.open_offers()? {
                    if row.agent == lookup_agent
                        && let Some(offer) = crate::open_offer(tx, &row.offer_id, now)?
                    {
                        offers.push(offer);
                    }
                }
                Ok((latest, profile, offers))
            })
        })
        .await?;
    let viewers = profile
        .as_ref()
        .map_or_else(|| vec![Viewer::Everyone], crate::visibility::viewers_of);
    let encoder = if accepts_zstd(&headers) {
        Some(zstd_encoder().map_err(|err| anyhow::anyhow!("zstd: {err}"))?)
    } else {
        None
    };
    platform.connections.stream_opened(&agent);
    platform.links_changed.notify_one();
    // The pass writes the new stream first, then may offer it a contact.
    platform.reroute.notify_one();
    // The workstation pulls on connect; inline pages start from here.
    let mut pending = VecDeque::from([ServerEvent::poke(latest)]);
    pending.extend(offers.into_iter().map(ServerEvent::Offer));
    let mut heartbeat = tokio::time::interval(Duration::from_secs(HEARTBEAT_SECS));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let compressed = encoder.is_some();
    let state = StreamState {
        guard: StreamGuard {
            platform: platform.clone(),
            agent,
            family: caller.family.clone(),
        },
        ended: platform.open_sessions.watch(&caller.family),
        receiver,
        heartbeat,
        stop: platform.shutting_down.subscribe(),
        pending,
        held: VecDeque::new(),
        inline,
        comment_heartbeats,
        viewers,
        told: latest,
        checked: latest,
        profile,
        encoder,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.pending.pop_front() {
                // Any event says the stream is alive: the next heartbeat
                // is due after a whole silence.
                s.heartbeat.reset();
                let bytes = s.frame(&event);
                if bytes.is_empty() {
                    return None;
                }
                return Some((Ok::<Bytes, std::convert::Infallible>(bytes), s));
            }
            if *s.stop.borrow() || *s.ended.borrow() {
                return None;
            }
            if let Some(envelope) = s.held.pop_front() {
                s.on_envelope(envelope).await;
                continue;
            }
            tokio::select! {
                _ = s.stop.changed() => return None,
                // The sign-in ended (signed out, disabled, expired): no more events.
                _ = s.ended.changed() => return None,
                _ = s.heartbeat.tick() => {
                    s.pending.push_back(ServerEvent::Heartbeat {
                        server_time: Some(now_ms()),
                    });
                }
                received = s.receiver.recv() => match received {
                    Ok(envelope) => s.on_envelope(envelope).await,
                    Err(RecvError::Lagged(_)) => {
                        // Missed some events: a poke makes the workstation pull.
                        let latest = s
                            .guard
                            .platform
                            .blocking(|p| p.storage.read_with(|tx| tx.latest_seq()))
                            .await
                            .unwrap_or(0);
                        s.told = s.told.max(latest);
                        s.checked = s.checked.max(s.told);
                        s.pending.push_back(ServerEvent::poke(latest));
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert("X-Accel-Buffering", HeaderValue::from_static("no"));
    out.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if compressed {
        out.insert(CONTENT_ENCODING, HeaderValue::from_static("zstd"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn zstd_is_used_only_when_accepted() {
        assert!(accepts_zstd(&accept("gzip, zstd")));
        assert!(accepts_zstd(&accept("ZSTD;q=0.5")));
        assert!(!accepts_zstd(&accept("zstd;q=0")));
        assert!(!accepts_zstd(&accept("gzip, br")));
        assert!(!accepts_zstd(&HeaderMap::new()));
    }

    #[test]
    fn each_event_decodes_as_soon_as_it_is_flushed() {
        let mut encoder = zstd_encoder().unwrap();
        let mut decoder = zstd::stream::raw::Decoder::new().unwrap();
        let mut wire = 0;
        for i in 0..20 {
            let text = format!(
                "event: heartbeat\ndata: {{\"type\":\"heartbeat\",\"server_time\":17640000{i:05}}}\n\n"
            );
            encoder.write_all(text.as_bytes()).unwrap();
            encoder.flush().unwrap();
            let bytes = std::mem::take(encoder.get_mut());
            wire += bytes.len();
            // Decoding what was flushed so far gives the whole event back.
            let mut out = vec![0u8; 4096];
            let mut input = zstd::stream::raw::InBuffer::around(&bytes);
            let mut output = zstd::stream::raw::OutBuffer::around(&mut out[..]);
            zstd::stream::raw::Operation::run(&mut decoder, &mut input, &mut output).unwrap();
            let n = output.pos();
            assert_eq!(&out[..n], text.as_bytes());
        }
        // Twenty heartbeats compress to far less than their text (≈80 B each).
        assert!(wire < 20 * 40, "{wire} bytes for 20 heartbeats");
    }
}
