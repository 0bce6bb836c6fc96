//! How the workstation stands with the central platform, as the agent sees it.
//!
//! A dropped link is a normal state, not an error: the agent keeps reading
//! and acting from the local store, and actions wait in the outbox.

use serde::Serialize;
use ts_rs::TS;

use crate::data_usage::DataUsed;

/// The state shown in the status bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "ConnectionState.ts")]
pub enum ConnectionState {
    /// Talking to the platform; actions are delivered within seconds.
    Online,
    /// Reachable but slow or flapping; actions still flow, late.
    Degraded,
    /// Not reachable (or not signed in yet); everything works from local data.
    Offline,
}

/// Knowledge-base articles left out on a metered link, waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "KbUpdateWaiting.ts")]
pub struct KbUpdateWaiting {
    #[ts(type = "number")]
    pub articles: u64,
    /// Their size before compression (about three times what they cost on
    /// the wire).
    #[ts(type = "number")]
    pub bytes: u64,
}

/// A large knowledge-base update being written into this PC's store and
/// its search index, page by page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "KbUpdateProgress.ts")]
pub struct KbUpdateProgress {
    /// Articles written so far.
    #[ts(type = "number")]
    pub applied: u64,
    /// How many there are in all, when known (an update that waited on a
    /// metered link); otherwise the platform only says that more follow.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
}

/// Connection state plus what is waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConnectionStatus.ts")]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    /// Agent actions saved locally and not yet acknowledged by the platform.
    pub pending_actions: u32,
    /// When the last complete sync (push and pull) ended, workstation clock
    /// in Unix milliseconds; `null` before the first.
    #[ts(type = "number | null")]
    pub last_sync_at: Option<i64>,
    /// The platform no longer accepts this session: the agent must sign in
    /// again (their actions wait in the outbox meanwhile).
    pub sign_in_needed: bool,
    /// Why the last attempt failed, in words for the agent; `null` when it
    /// did not.
    pub problem: Option<String>,
    /// Bytes on the wire today and this month, and the monthly budget.
    pub data: DataUsed,
    /// A knowledge-base update waiting for the agent's word on a metered
    /// link; `null` when none waits.
    pub kb_update_waiting: Option<KbUpdateWaiting>,
    /// A knowledge-base update of more than one page being applied;
    /// `null` otherwise.
    pub kb_updating: Option<KbUpdateProgress>,
    /// The platform's clock minus this PC's clock, in milliseconds, from
    /// the last answer; SLA countdowns add it to the local time.
    #[ts(type = "number")]
    pub clock_offset_ms: i64,
}

impl ConnectionStatus {
    /// The status before any platform is configured: offline, nothing pending.
    pub fn not_connected() -> Self {
        ConnectionStatus {
            state: ConnectionState::Offline,
            pending_actions: 0,
            last_sync_at: None,
            sign_in_needed: false,
            problem: None,
            data: DataUsed::default(),
            kb_update_waiting: None,
            kb_updating: None,
            clock_offset_ms: 0,
        }
    }
}
