//! Agents' connections, shared by every platform instance on one database
//! (decision 0042).
//!
//! Each instance counts the event streams open on it in memory and writes
//! what changed to the database ([`Connections::flush`], run by
//! `Platform::run_links` as soon as something changed, and by every routing
//! pass first): `agent_streams` holds each instance's count per agent, and
//! `agent_links` each agent's link as routing and the team console see it,
//! whichever instance the agent's requests reach. An agent is connected when
//! any instance holds a stream of theirs.
//!
//! Every instance beats every [`BEAT_MS`] ([`Connections::beat`]). One not
//! seen for [`DEAD_AFTER_MS`] is dead: the next beat of any instance takes
//! its streams out, so its agents count as gone since it was last seen (or
//! since the instance that noticed started, after a restart of the only
//! instance), and their workstations reconnect through another instance.
//! An instance that stops in order takes its own streams out
//! ([`Connections::leave`]).
//!
//! What a workstation says of its link (`Homedesk-Link: ok` or `degraded`
//! on any request) is written only when it differs from what this instance
//! last knew, which is refreshed from the database at every beat; so a
//! link that turns on one instance and back on another within a beat is
//! set right by the next request after it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use homedesk_protocol::{LinkState, UnixMillis};

use crate::storage::{AgentLink, Tx};

/// How often an instance beats.
pub const BEAT_MS: i64 = 2_000;
/// An instance not seen for this long is dead; its agents' streams end.
pub const DEAD_AFTER_MS: i64 = 15_000;

/// What a workstation says of its own link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkReport {
    Ok,
    Degraded,
}

/// What the team console shows of a link: online or degraded while an
/// event stream is open (as the workstation last said), else offline.
pub fn state_of(streams: u32, degraded: bool) -> LinkState {
    match (streams, degraded) {
        (0, _) => LinkState::Offline,
        (_, true) => LinkState::Degraded,
        (_, false) => LinkState::Online,
    }
}

/// The agent's link as the team console shows it, and since when it has
/// been so; `(Offline, None)` for an agent no instance has heard of.
pub fn link_state(link: Option<&AgentLink>) -> (LinkState, Option<UnixMillis>) {
    match link {
        Some(l) => (state_of(l.streams, l.degraded), Some(l.state_since)),
        None => (LinkState::Offline, None),
    }
}

/// What writing links changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LinkChanges {
    /// Agents whose state on the team console changed (their supervisors
    /// are nudged).
    pub state: Vec<String>,
    /// A workstation's degraded flag flipped: routing should run again.
    pub degraded: bool,
}

#[derive(Debug, Default)]
struct Local {
    /// Event streams open on this instance.
    streams: u32,
    /// A degraded flag the workstation said that is not written yet.
    report: Option<bool>,
    /// Not written since it changed.
    dirty: bool,
}

#[derive(Debug, Default)]
struct State {
    agents: HashMap<String, Local>,
    /// Agents whose link is degraded, as of the last beat and this
    /// instance's own writes.
    degraded: HashSet<String>,
}

/// This instance's side of agents' connections.
#[derive(Debug)]
pub struct Connections {
    instance: String,
    started_at: UnixMillis,
    state: Mutex<State>,
}

impl Connections {
    /// A new instance, started at `started_at`, with a random id.
    pub fn new(started_at: UnixMillis) -> Connections {
        Connections {
            instance: format!("instance-{}", crate::auth::random_token(9)),
            started_at,
            state: Mutex::new(State::default()),
        }
    }

    /// This instance's id among those sharing the database.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn with<R>(&self, work: impl FnOnce(&mut State) -> R) -> R {
        work(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A request arrived with `report` (`None`: the workstation said nothing
    /// of its link, which stays as it was). Returns whether there is
    /// something to write (the flag differs, or the agent is new here).
    pub fn seen(&self, agent: &str, report: Option<LinkReport>) -> bool {
        self.with(|s| {
            let known = s.degraded.contains(agent);
            let local = s.agents.entry(agent.to_owned()).or_insert_with(|| Local {
                dirty: true,
                ..Local::default()
            });
            let mut degraded_now = None;
            if let Some(report) = report {
                let degraded = report == LinkReport::Degraded;
                if local.report.unwrap_or(known) != degraded {
                    local.report = Some(degraded);
                    local.dirty = true;
                    degraded_now = Some(degraded);
                }
            }
            let dirty = local.dirty;
            // Known here at once (the metric), written by the next flush.
            match degraded_now {
                Some(true) => {
                    s.degraded.insert(agent.to_owned());
                }
                Some(false) => {
                    s.degraded.remove(agent);
                }
                None => {}
            }
            dirty
        })
    }

    /// An event stream of the agent opened on this instance.
    pub fn stream_opened(&self, agent: &str) {
        self.with(|s| {
            let local = s.agents.entry(agent.to_owned()).or_default();
            local.streams += 1;
            local.dirty = true;
        });
    }

    /// An event stream of the agent on this instance closed.
    pub fn stream_closed(&self, agent: &str) {
        self.with(|s| {
            let local = s.agents.entry(agent.to_owned()).or_default();
            local.streams = local.streams.saturating_sub(1);
            local.dirty = true;
        });
    }

    /// Event streams open on this instance.
    pub fn open_streams(&self) -> u32 {
        self.with(|s| s.agents.values().map(|l| l.streams).sum())
    }

    /// Whether this instance holds an event stream of `agent`.
    pub fn has_stream(&self, agent: &str) -> bool {
        self.with(|s| s.agents.get(agent).is_some_and(|l| l.streams > 0))
    }

    /// Agents whose workstation last said its link is degraded (as of the
    /// last beat).
    pub fn degraded_links(&self) -> usize {
        self.with(|s| s.degraded.len())
    }

    /// Everything this instance holds is to be written again.
    pub fn mark_all_dirty(&self) {
        self.with(|s| s.agents.values_mut().for_each(|l| l.dirty = true));
    }

    /// Whether something waits to be written.
    pub fn dirty(&self) -> bool {
        self.with(|s| s.agents.values().any(|l| l.dirty))
    }

    /// Writes what changed on this instance since the last flush. On an
    /// error nothing counts as written (the next flush tries again).
    pub fn flush(&self, tx: &mut dyn Tx, now: UnixMillis) -> anyhow::Result<LinkChanges> {
        let due: Vec<(String, u32, Option<bool>)> = self.with(|s| {
            s.agents
                .iter_mut()
                .filter(|(_, l)| l.dirty)
                .map(|(agent, l)| {
                    l.dirty = false;
                    (agent.clone(), l.streams, l.report.take())
                })
                .collect()
        });
        let mut changes = LinkChanges::default();
        let written = self.write(tx, &due, now, &mut changes);
        self.with(|s| {
            for (agent, _, report) in &due {
                let Some(local) = s.agents.get_mut(agent) else {
                    continue;
                };
                if written.is_err() {
                    local.dirty = true;
                    local.report = local.report.or(*report);
                } else if let Some(degraded) = report {
                    if *degraded {
                        s.degraded.insert(agent.clone());
                    } else {
                        s.degraded.remove(agent);
                    }
                }
            }
        });
        written?;
        Ok(changes)
    }

    fn write(
        &self,
        tx: &mut dyn Tx,
        due: &[(String, u32, Option<bool>)],
        now: UnixMillis,
        changes: &mut LinkChanges,
    ) -> anyhow::Result<()> {
        for (agent, streams, report) in due {
            let before = match tx.link(agent)? {
                Some(link) => link,
                None => AgentLink::new(agent, now),
            };
            tx.set_streams(&self.instance, agent, *streams)?;
            let after_streams = tx.link(agent)?.map_or(*streams, |l| l.streams);
            let mut link = before.clone();
            link.streams = after_streams;
            if let Some(degraded) = report {
                changes.degraded |= link.degraded != *degraded;
                link.degraded = *degraded;
            }
            if before.streams == 0 && after_streams > 0 {
                link.gone_since = None;
            } else if before.streams > 0 && after_streams == 0 {
                link.gone_since = Some(now);
            }
            if state_of(link.streams, link.degraded) != state_of(before.streams, before.degraded) {
                link.state_since = now;
                changes.state.push(agent.clone());
            }
            tx.put_link(&link)?;
        }
        Ok(())
    }

    /// This instance is alive at `now`: beats, takes out the streams of
    /// instances not seen for [`DEAD_AFTER_MS`], and refreshes what it
    /// knows of degraded links. Returns the agents whose state changed.
    pub fn beat(&self, tx: &mut dyn Tx, now: UnixMillis) -> anyhow::Result<Vec<String>> {
        if !tx.beat(&self.instance, self.started_at, now)? {
            // Taken for dead (a stall longer than DEAD_AFTER_MS) or new:
            // write every stream this instance holds again.
            self.mark_all_dirty();
        }
        let mut changed = Vec::new();
        for (id, seen_at) in tx.instances_seen_before(now - DEAD_AFTER_MS)? {
            tracing::info!(
                instance = id,
                "an instance not seen for a while is dead: its agents' event streams end"
            );
            changed.extend(end_streams(tx, &id, seen_at.max(self.started_at))?);
        }
        let degraded: HashSet<String> = tx.degraded_agents()?.into_iter().collect();
        self.with(|s| s.degraded = degraded);
        Ok(changed)
    }

    /// This instance stops: its streams end now. Returns the agents whose
    /// state changed.
    pub fn leave(&self, tx: &mut dyn Tx, now: UnixMillis) -> anyhow::Result<Vec<String>> {
        end_streams(tx, &self.instance, now)
    }
}

/// Takes out instance `id` and its streams; agents left with none count
/// as gone since `gone_at`. Returns those agents.
fn end_streams(tx: &mut dyn Tx, id: &str, gone_at: UnixMillis) -> anyhow::Result<Vec<String>> {
    let mut changed = Vec::new();
    for agent in tx.forget_instance(id)? {
        let Some(mut link) = tx.link(&agent)? else {
            continue;
        };
        if link.streams == 0 && link.gone_since.is_none() {
            link.gone_since = Some(gone_at);
            link.state_since = gone_at;
            tx.put_link(&link)?;
            changed.push(agent);
        }
    }
    Ok(changed)
}
