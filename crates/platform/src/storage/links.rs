//! Storage for what several platform instances share about agents'
//! connections (`crate::routing::Connections`, decision 0042): the
//! instances and their heartbeats, the event streams each instance holds,
//! and each agent's link as routing and the team console see it. Kept
//! beside [`super::Tx`] as its own trait, so its SQL lives in one file per
//! dialect (`sqlite/links.rs`, `postgres/links.rs`).

use homedesk_protocol::UnixMillis;

/// One agent's link, whichever instance their requests and streams reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLink {
    pub agent: String,
    /// What the workstation last said of its link.
    pub degraded: bool,
    /// When the state the team console shows last changed.
    pub state_since: UnixMillis,
    /// Since when the agent has had no event stream open (`None`: one is).
    pub gone_since: Option<UnixMillis>,
    /// When routing last offered them a contact (0: never).
    pub last_offered: UnixMillis,
    /// Offers in a row that ran out unanswered.
    pub missed_in_a_row: u32,
    /// Event streams open across all instances (read only: written per
    /// instance with [`LinkTx::set_streams`]).
    pub streams: u32,
}

impl AgentLink {
    /// A link first heard of at `now`, without a stream.
    pub fn new(agent: &str, now: UnixMillis) -> AgentLink {
        AgentLink {
            agent: agent.to_owned(),
            degraded: false,
            state_since: now,
            gone_since: Some(now),
            last_offered: 0,
            missed_in_a_row: 0,
            streams: 0,
        }
    }
}

pub trait LinkTx {
    /// Instance `id` (started at `started_at`) is alive at `now`. Returns
    /// whether it was there already (`false`: new, or taken out as dead).
    fn beat(&mut self, id: &str, started_at: UnixMillis, now: UnixMillis) -> anyhow::Result<bool>;
    /// Instances last seen before `seen_before`: (id, last seen).
    fn instances_seen_before(
        &mut self,
        seen_before: UnixMillis,
    ) -> anyhow::Result<Vec<(String, UnixMillis)>>;
    /// When the longest-running instance seen at or after `seen_since`
    /// started (`None`: none is).
    fn earliest_start(&mut self, seen_since: UnixMillis) -> anyhow::Result<Option<UnixMillis>>;
    /// Takes out instance `id` and every stream it held; returns the agents
    /// who had one there.
    fn forget_instance(&mut self, id: &str) -> anyhow::Result<Vec<String>>;
    /// Instance `instance` holds `streams` event streams of `agent` (0
    /// takes its row out).
    fn set_streams(&mut self, instance: &str, agent: &str, streams: u32) -> anyhow::Result<()>;
    /// Every agent's link that is known, with streams summed.
    fn links(&mut self) -> anyhow::Result<Vec<AgentLink>>;
    fn link(&mut self, agent: &str) -> anyhow::Result<Option<AgentLink>>;
    /// Writes every field but `streams`.
    fn put_link(&mut self, link: &AgentLink) -> anyhow::Result<()>;
    /// Agents whose workstation last said its link is degraded.
    fn degraded_agents(&mut self) -> anyhow::Result<Vec<String>>;
    /// Per agent, the unresolved conversations assigned to them (routing's
    /// load, in one query rather than one per agent).
    fn assigned_counts(&mut self) -> anyhow::Result<Vec<(String, u32)>>;
}
