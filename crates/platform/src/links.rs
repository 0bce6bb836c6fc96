//! Agents' connections, shared by every platform instance on one database
//! (decision 0042).
//!
//! Each instance counts the event streams open on it in memory and writes
//! what changed to the database ([`Connections::flush`], run by
//! `Platform::run_links` as soon as something changed, and inside every
//! routing pass's transaction): `agent_streams` holds each instance's count per agent, and
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
    /// instance's own statements (said, or written and not yet known to be
    /// committed).
    degraded: HashSet<String>,
    /// Flags that flushes wrote, by flush, until each one's transaction is
    /// known to have committed ([`Connections::flushed`]): put back to be
    /// written again if it did not.
    unconfirmed: Vec<(u64, String, bool)>,
    /// Flushes started so far (each one's number).
    flushes: u64,
}

/// One flush of an instance's connections, from [`Connections::start_flush`]
/// to [`Connections::flushed`].
#[derive(Debug)]
#[must_use = "say whether the flush committed (Connections::flushed)"]
pub struct Flush(u64);

impl State {
    fn set_degraded(&mut self, agent: &str, degraded: bool) {
        if degraded {
            self.degraded.insert(agent.to_owned());
        } else {
            self.degraded.remove(agent);
        }
    }
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
            if let Some(degraded) = degraded_now {
                s.set_degraded(agent, degraded);
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

    /// A flush begins; the caller runs [`Connections::flush`] in a write
    /// transaction and then says whether it committed.
    pub fn start_flush(&self) -> Flush {
        self.with(|s| {
            s.flushes += 1;
            Flush(s.flushes)
        })
    }

    /// Writes, in `tx`, what changed on this instance since the last flush.
    /// Until the caller says the transaction committed
    /// ([`Connections::flushed`]), the flags it wrote count as said, not as
    /// written.
    pub fn flush(
        &self,
        flush: &Flush,
        tx: &mut dyn Tx,
        now: UnixMillis,
    ) -> anyhow::Result<LinkChanges> {
        let due: Vec<(String, u32, Option<bool>)> = self.with(|s| {
            let due: Vec<_> = s
                .agents
                .iter_mut()
                .filter(|(_, l)| l.dirty)
                .map(|(agent, l)| {
                    l.dirty = false;
                    (agent.clone(), l.streams, l.report.take())
                })
                .collect();
            s.unconfirmed.extend(
                due.iter()
                    .filter_map(|(a, _, r)| r.map(|r| (flush.0, a.clone(), r))),
            );
            due
        });
        let mut changes = LinkChanges::default();
        self.write(tx, &due, now, &mut changes)?;
        Ok(changes)
    }

    /// The transaction of the last [`Connections::flush`] committed, or did
    /// not (an error anywhere in it, or at the commit): then everything is
    /// written again, and the flags it carried are said again, so a
    /// workstation's statement is never lost to a failed transaction.
    pub fn flushed(&self, flush: Flush, committed: bool) {
        self.with(|s| {
            let (carried, others) = std::mem::take(&mut s.unconfirmed)
                .into_iter()
                .partition(|(number, _, _)| *number == flush.0);
            s.unconfirmed = others;
            if committed {
                return;
            }
            for local in s.agents.values_mut() {
                local.dirty = true;
            }
            let carried: Vec<(u64, String, bool)> = carried;
            for (_, agent, degraded) in carried {
                if let Some(local) = s.agents.get_mut(&agent) {
                    local.report = local.report.or(Some(degraded));
                }
            }
        });
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
        self.with(|s| {
            s.degraded = degraded;
            // Statements not yet written (or not known to be committed) are
            // newer than what the database holds: they stay.
            let pending: Vec<(String, bool)> = s
                .agents
                .iter()
                .filter_map(|(agent, l)| l.report.map(|r| (agent.clone(), r)))
                .chain(s.unconfirmed.iter().map(|(_, a, r)| (a.clone(), *r)))
                .collect();
            for (agent, degraded) in pending {
                s.set_degraded(&agent, degraded);
            }
        });
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::storage::Storage;
    use crate::storage::sqlite::SqliteStorage;

    fn flush(c: &Connections, storage: &dyn Storage, fail: bool) {
        let ticket = c.start_flush();
        let written = storage.write_with(|tx| {
            c.flush(&ticket, tx, 1_000)?;
            anyhow::ensure!(!fail, "the transaction fails after the flush");
            Ok(())
        });
        assert_eq!(written.is_ok(), !fail);
        c.flushed(ticket, written.is_ok());
    }

    fn beat(c: &Connections, storage: &dyn Storage) {
        storage.write_with(|tx| c.beat(tx, 1_000)).expect("beat");
    }

    /// What a workstation said of its link is known at once, survives a
    /// beat that reads the database before it is written and a transaction
    /// that fails after writing it, and reaches the other instances once
    /// written.
    #[test]
    fn a_degraded_statement_is_neither_undone_by_a_beat_nor_lost_by_a_failed_flush() {
        let dir = tempfile::tempdir().expect("tmp");
        let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).expect("storage"));
        let here = Connections::new(1_000);
        let there = Connections::new(1_000);

        assert!(here.seen("a1", Some(LinkReport::Degraded)));
        assert_eq!(here.degraded_links(), 1, "known here at once");
        // A beat between the statement and its flush finds nothing yet in
        // the database; the statement is newer and stays.
        beat(&here, &*storage);
        assert_eq!(here.degraded_links(), 1, "a beat before the flush");

        // The flush's transaction fails after writing: nothing committed,
        // and the statement waits for the next flush.
        flush(&here, &*storage, true);
        assert!(here.dirty(), "written again by the next flush");
        beat(&here, &*storage);
        assert_eq!(here.degraded_links(), 1, "a failed flush loses nothing");
        beat(&there, &*storage);
        assert_eq!(there.degraded_links(), 0, "nothing committed yet");

        flush(&here, &*storage, false);
        assert!(!here.dirty());
        beat(&there, &*storage);
        assert_eq!(there.degraded_links(), 1, "the other instance reads it");
        beat(&here, &*storage);
        assert_eq!(here.degraded_links(), 1);

        // Requests that say nothing leave it; `ok` undoes it everywhere.
        assert!(!here.seen("a1", None));
        assert!(there.seen("a1", Some(LinkReport::Ok)));
        assert_eq!(there.degraded_links(), 0);
        flush(&there, &*storage, false);
        beat(&here, &*storage);
        assert_eq!(here.degraded_links(), 0, "said ok on the other instance");
    }
}
