//! The sync scope: which conversations an agent's PC keeps
//! (docs/decisions/0035-sync-scope.md), written once for the platform (which
//! filters the change log with it) and the workstation (which ages resolved
//! conversations out with it).
//!
//! An agent keeps their own conversations, the unassigned ones still open
//! in their queues, and their own resolved ones whose last message is at
//! most `resolved_days` old. A colleague's conversation is not kept (the
//! desk never lists it); older history is fetched on demand. Supervisors
//! are outside the scope: they keep everything their queues log.

use crate::entities::{AgentProfile, Conversation, ConversationStatus, Role, UnixMillis};

/// Days an agent's own resolved conversations stay on their PC unless the
/// platform is configured otherwise.
pub const DEFAULT_RESOLVED_DAYS: u32 = 14;

/// Milliseconds in `days` days.
pub fn days_ms(days: u32) -> UnixMillis {
    i64::from(days) * 24 * 3600 * 1000
}

/// Whose PC keeps what, for one signed-in person at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncScope<'a> {
    pub agent: &'a str,
    /// Resolved conversations whose last message is before this are out.
    pub resolved_cutoff: UnixMillis,
}

impl<'a> SyncScope<'a> {
    /// The scope of `profile` at `now`; `None` for a supervisor (no scope
    /// limit). Trainees never receive live conversations at all, which the
    /// platform's audiences decide before the scope does.
    pub fn of(profile: &'a AgentProfile, now: UnixMillis, resolved_days: u32) -> Option<Self> {
        (profile.role != Role::Supervisor).then(|| SyncScope {
            agent: &profile.code,
            resolved_cutoff: now.saturating_sub(days_ms(resolved_days)),
        })
    }

    /// Whether the PC keeps `c` (as it stands now).
    pub fn keeps(&self, c: &Conversation) -> bool {
        let mine = c.assigned_to.as_deref() == Some(self.agent);
        match c.status {
            ConversationStatus::Resolved => mine && c.last_message_at >= self.resolved_cutoff,
            _ => mine || c.assigned_to.is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::{Channel, Priority};

    fn conversation(
        status: ConversationStatus,
        assigned_to: Option<&str>,
        last: i64,
    ) -> Conversation {
        Conversation {
            id: "c".into(),
            channel: Channel::Chat,
            queue: "q".into(),
            customer_id: "k".into(),
            subject: String::new(),
            category: None,
            status,
            assigned_to: assigned_to.map(str::to_owned),
            priority: Priority::Normal,
            created_at: 0,
            first_response_due: 0,
            resolve_due: 0,
            first_response_at: None,
            last_message_at: last,
            last_message_preview: String::new(),
            disposition: None,
            version: 1,
        }
    }

    #[test]
    fn an_agent_keeps_their_own_the_queues_waiting_and_recent_resolved_ones() {
        let scope = SyncScope {
            agent: "me",
            resolved_cutoff: 100,
        };
        use ConversationStatus::*;
        assert!(
            scope.keeps(&conversation(Queued, None, 0)),
            "waiting in the queue"
        );
        assert!(scope.keeps(&conversation(Active, Some("me"), 0)), "mine");
        assert!(
            !scope.keeps(&conversation(Active, Some("b"), 0)),
            "a colleague's"
        );
        assert!(
            scope.keeps(&conversation(Resolved, Some("me"), 100)),
            "resolved lately"
        );
        assert!(
            !scope.keeps(&conversation(Resolved, Some("me"), 99)),
            "resolved long ago"
        );
        assert!(
            !scope.keeps(&conversation(Resolved, Some("b"), 200)),
            "a colleague's resolved"
        );
        assert!(
            !scope.keeps(&conversation(Resolved, None, 200)),
            "resolved unassigned"
        );
    }
}
