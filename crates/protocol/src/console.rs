//! The team console: what supervisors and trainers read from the platform,
//! and the one change they make outside the action outbox (promoting a
//! trainee).
//!
//! - `GET /v1/team` ([`TeamView`]): a supervisor's agents and queues, live.
//! - `GET /v1/trainees` ([`TraineesView`]): every trainee's practice
//!   progress and what the group misses most, for trainers and supervisors.
//! - `POST /v1/trainees/{code}/promote` ([`Promotion`]): a trainee with a
//!   passed exam becomes an agent with live queues (audited).
//! - `GET /v1/reports` ([`Reports`], or CSV): per agent and per day, what
//!   the platform stores of their work.
//!
//! Agents and trainees are refused every one of them (403); a supervisor
//! sees only the queues their profile names (the queues they supervise).
//! What supervisors change in the live work (reassigning a conversation,
//! setting an agent away, a note that mentions an agent) goes through the
//! ordinary actions and outbox (`docs/protocol.md` §6.2), so it is exactly
//! once and works offline like everything else.

use serde::{Deserialize, Serialize};

use crate::entities::{Channel, Presence, PresenceReason, Role, UnixMillis};
use crate::hours::LocalDate;

/// A contact counts as at risk when one of its SLA deadlines is this close
/// (or already past).
pub const SLA_AT_RISK_MS: u64 = 5 * 60 * 1000;

/// Most days one report covers.
pub const MAX_REPORT_DAYS: i64 = 92;

/// The state of an agent's link as the platform sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "LinkState.ts"))]
pub enum LinkState {
    /// An event stream is open and the workstation says its link is fine.
    Online,
    /// An event stream is open but the workstation says its link is slow or
    /// flapping (it gets no live chats then).
    Degraded,
    /// No event stream open.
    Offline,
}

/// One agent of the supervisor's queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "TeamAgent.ts"))]
pub struct TeamAgent {
    pub code: String,
    pub name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub presence: Presence,
    #[serde(default)]
    pub presence_reason: Option<PresenceReason>,
    pub link: LinkState,
    /// Since when the link has been in this state (platform clock); `None`
    /// when the platform has not seen the agent since it started.
    #[serde(default)]
    pub link_since: Option<UnixMillis>,
    /// Conversations assigned to the agent and not resolved.
    pub holding: u32,
    /// Those conversations (the first [`MAX_HELD_LISTED`], oldest first),
    /// so a supervisor can open, reassign or write a note on any of them.
    pub held: Vec<HeldContact>,
    /// The oldest customer message still unanswered among the
    /// conversations the agent holds: how long someone has waited on them.
    #[serde(default)]
    pub waiting_since: Option<UnixMillis>,
    /// Conversations the agent wrapped up since the start of today (in the
    /// time zone the request named).
    pub handled_today: u32,
}

/// Most held conversations one agent's row lists.
pub const MAX_HELD_LISTED: usize = 20;

/// A conversation an agent holds, as the team view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "HeldContact.ts"))]
pub struct HeldContact {
    pub conversation_id: String,
    pub subject: String,
    pub queue: String,
    pub channel: Channel,
    /// The customer's oldest message still unanswered in it.
    #[serde(default)]
    pub waiting_since: Option<UnixMillis>,
}

/// Which SLA deadline is near.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SlaTarget.ts"))]
pub enum SlaTarget {
    FirstResponse,
    Resolve,
}

/// A contact whose SLA is at risk ([`SLA_AT_RISK_MS`] or past due).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AtRiskContact.ts"))]
pub struct AtRiskContact {
    pub conversation_id: String,
    pub subject: String,
    #[serde(default)]
    pub assigned_to: Option<String>,
    pub target: SlaTarget,
    pub due_at: UnixMillis,
}

/// One queue the supervisor supervises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "TeamQueue.ts"))]
pub struct TeamQueue {
    pub id: String,
    pub name: String,
    /// Conversations waiting in the queue, unassigned.
    pub depth: u32,
    /// When the oldest of them arrived.
    #[serde(default)]
    pub oldest_waiting_since: Option<UnixMillis>,
    /// Unresolved contacts of the queue whose SLA is at risk, most urgent
    /// first.
    pub at_risk: Vec<AtRiskContact>,
}

/// `GET /v1/team[?utc_offset_minutes=480]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "TeamView.ts"))]
pub struct TeamView {
    /// The platform's clock when it answered.
    pub server_time: UnixMillis,
    /// Everyone (agents and supervisors, not trainees) in at least one of
    /// the supervisor's queues, by code.
    pub agents: Vec<TeamAgent>,
    pub queues: Vec<TeamQueue>,
}

/// One practice result, as a trainer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "TraineeResult.ts"))]
pub struct TraineeResult {
    pub scenario_id: String,
    pub scenario_title: String,
    pub exam: bool,
    pub percent: u8,
    pub passed: bool,
    /// Workstation clock.
    pub finished_at: UnixMillis,
}

/// A rubric item and how often it was missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "MissedItem.ts"))]
pub struct MissedItem {
    pub scenario_id: String,
    pub scenario_title: String,
    pub item_id: String,
    /// What was expected, as the trainer wrote it in the rubric.
    pub description: String,
    pub missed: u32,
    /// Times the item was judged at all (missed or met).
    pub judged: u32,
}

/// A practice scenario, by id and title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ScenarioRef.ts"))]
pub struct ScenarioRef {
    pub id: String,
    pub title: String,
}

/// One trainee's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "TraineeProgress.ts")
)]
pub struct TraineeProgress {
    pub code: String,
    pub name: String,
    /// Oldest first.
    pub results: Vec<TraineeResult>,
    /// Exam results that passed.
    pub exams_passed: u32,
    /// The rubric items this trainee missed, most often first.
    pub missed: Vec<MissedItem>,
    /// Scenarios of the platform's content the trainee has not played.
    pub untried: Vec<ScenarioRef>,
    /// Whether a trainer may promote them now (an exam passed).
    pub can_promote: bool,
}

/// `GET /v1/trainees`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "TraineesView.ts"))]
pub struct TraineesView {
    pub server_time: UnixMillis,
    pub trainees: Vec<TraineeProgress>,
    /// Across all trainees, the rubric items missed most often: the next
    /// lesson to teach.
    pub most_missed: Vec<MissedItem>,
    /// The queues a promoted trainee may be given.
    pub queues: Vec<ScenarioRef>,
}

/// `POST /v1/trainees/{code}/promote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Promotion.ts"))]
pub struct Promotion {
    /// The live queues the new agent works (at least one, each existing).
    pub queues: Vec<String>,
}

/// The answer to a promotion: the audit entry the platform wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "RoleChange.ts"))]
pub struct RoleChange {
    pub agent: String,
    pub from: Role,
    pub to: Role,
    pub queues: Vec<String>,
    /// Who changed it (a trainer's or supervisor's code).
    pub changed_by: String,
    pub changed_at: UnixMillis,
}

/// One agent's work on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "AgentDay.ts"))]
pub struct AgentDay {
    pub agent: String,
    pub name: String,
    /// `YYYY-MM-DD` in the time zone the request named.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub day: LocalDate,
    /// Contacts wrapped up.
    pub handled: u32,
    /// Mean seconds from the agent taking the contact to wrapping it up.
    #[serde(default)]
    pub average_handle_secs: Option<u32>,
    /// Mean seconds from the contact's arrival to its first answer, over
    /// the contacts that were answered.
    #[serde(default)]
    pub average_first_response_secs: Option<u32>,
    /// Contacts answered and resolved within both SLA deadlines.
    pub sla_kept: u32,
    /// After-contact work, in seconds, summed.
    pub after_contact_secs: u64,
}

/// `GET /v1/reports?from=YYYY-MM-DD&to=YYYY-MM-DD[&utc_offset_minutes=480]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Reports.ts"))]
pub struct Reports {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub from: LocalDate,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub to: LocalDate,
    pub utc_offset_minutes: i16,
    /// By day, then agent code; a day without work for an agent has no row.
    pub rows: Vec<AgentDay>,
}

/// The columns of the CSV export, in order (the header line).
pub const REPORT_CSV_HEADER: &str = "day,agent,name,handled,average_handle_secs,average_first_response_secs,sla_kept,after_contact_secs";

impl Reports {
    /// The report as CSV (RFC 4180, CRLF line ends, a header line), for a
    /// centre's payroll spreadsheet.
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(64 * (self.rows.len() + 1));
        out.push_str(REPORT_CSV_HEADER);
        out.push_str("\r\n");
        let opt = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        for r in &self.rows {
            let fields = [
                r.day.to_string(),
                csv_field(&r.agent),
                csv_field(&r.name),
                r.handled.to_string(),
                opt(r.average_handle_secs),
                opt(r.average_first_response_secs),
                r.sla_kept.to_string(),
                r.after_contact_secs.to_string(),
            ];
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// One CSV field: quoted when it holds a comma, quote or line break, and
/// prefixed with `'` when a spreadsheet would read it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The agent codes an internal note mentions: each `@code` (ASCII letters,
/// digits, `_` and `-`, after the start or a non-code character), once, in
/// order. The platform checks each mentioned agent may see the
/// conversation; the mentioned agent's desk notifies them.
pub fn mentions(body: &str) -> Vec<&str> {
    let is_code = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut found: Vec<&str> = Vec::new();
    let mut previous: Option<char> = None;
    for (i, c) in body.char_indices() {
        if c == '@' && !previous.is_some_and(is_code) {
            let rest = &body[i + 1..];
            let end = rest.find(|c: char| !is_code(c)).unwrap_or(rest.len());
            let code = &rest[..end];
            if !code.is_empty() && !found.contains(&code) {
                found.push(code);
            }
        }
        previous = Some(c);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_codes_after_an_at_sign_once_each() {
        assert_eq!(mentions("@a1002 请看一下"), vec!["a1002"]);
        assert_eq!(
            mentions("请@a1002和@a1003，再@a1002。"),
            vec!["a1002", "a1003"]
        );
        assert_eq!(mentions("mail a@b.com"), Vec::<&str>::new());
        assert_eq!(mentions("@ 空的 @"), Vec::<&str>::new());
        assert_eq!(mentions("（@s3001）"), vec!["s3001"]);
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let day: LocalDate = "2026-12-04".parse().unwrap();
        let report = Reports {
            from: day,
            to: day,
            utc_offset_minutes: 480,
            rows: vec![AgentDay {
                agent: "a1001".into(),
                name: "=HYPERLINK(\"x\"), 王".into(),
                day,
                handled: 3,
                average_handle_secs: Some(420),
                average_first_response_secs: None,
                sla_kept: 2,
                after_contact_secs: 95,
            }],
        };
        let csv = report.to_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], REPORT_CSV_HEADER);
        assert_eq!(
            lines[1],
            "2026-12-04,a1001,\"'=HYPERLINK(\"\"x\"\"), 王\",3,420,,2,95"
        );
        assert_eq!(lines[2], "");
    }
}
