//! The team console's answers (`GET /v1/team`, `GET /v1/trainees`,
//! `POST /v1/trainees/{code}/promote`, `GET /v1/reports`), computed from
//! storage in one transaction each; the wire types and their definitions
//! are `homedesk_protocol::console`.
//!
//! Invariants: a supervisor reads only the agents, contacts and report rows
//! of the queues their profile names (the queues they supervise); trainers
//! and supervisors read the trainees; agents and trainees are refused every
//! answer here (403, saying which role may). The reports count
//! `handled_contacts`, the snapshot each wrap-up leaves (`actions`), never
//! the conversations as they are now, so a conversation that moved or was
//! swept keeps its place in the report of the day it was wrapped up.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use homedesk_protocol::{
    AgentDay, AgentProfile, AtRiskContact, Author, ConversationStatus, EntityKind, HeldContact,
    LocalDate, MAX_HELD_LISTED, MAX_REPORT_DAYS, Message, MessageKind, MissedItem, Promotion,
    Record, Reports, Role, RoleChange, SLA_AT_RISK_MS, ScenarioRef, SlaTarget, TeamAgent,
    TeamQueue, TeamView, TraineeProgress, TraineeResult, TraineesView, TrainingRecord, UnixMillis,
};

use crate::error::ApiError;
use crate::storage::{HandledContact, Tx, everyone};

/// Offsets from UTC a request may name, in minutes (UTC−12:00 to UTC+14:00).
pub const UTC_OFFSETS: std::ops::RangeInclusive<i16> = -720..=840;
/// The offset a request that names none is read in: China's.
pub const DEFAULT_UTC_OFFSET_MINUTES: i16 = 480;
/// Most contacts at risk listed per queue.
pub const MAX_AT_RISK: usize = 20;
/// Rubric items in the group's `most_missed`.
pub const MAX_MOST_MISSED: usize = 10;
/// Most practice results read per trainee (their newest).
pub const MAX_RESULTS_PER_TRAINEE: usize = 10_000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The caller's profile, when their role is one of `allowed`; else 403
/// naming who may (`what` is the thing refused, e.g. "the team view").
pub fn caller_with_role(
    tx: &mut dyn Tx,
    code: &str,
    allowed: &[Role],
    what: &str,
) -> anyhow::Result<Result<AgentProfile, ApiError>> {
    let Some(Record::AgentProfile(me)) = tx.get(EntityKind::AgentProfile, code)? else {
        return Ok(Err(ApiError::forbidden("your agent profile is gone")));
    };
    if allowed.contains(&me.role) {
        return Ok(Ok(me));
    }
    let who = match allowed {
        [Role::Supervisor] => "supervisors",
        _ => "trainers and supervisors",
    };
    Ok(Err(ApiError::forbidden(format!(
        "{what} is for {who}; you are {}",
        role_with_article(me.role)
    ))))
}

fn role_with_article(role: Role) -> &'static str {
    match role {
        Role::Agent => "an agent",
        Role::Trainee => "a trainee",
        Role::Supervisor => "a supervisor",
        Role::Trainer => "a trainer",
    }
}

/// Checks a request's UTC offset (`utc_offset_minutes`).
pub fn check_utc_offset(minutes: i16) -> Result<i16, ApiError> {
    if UTC_OFFSETS.contains(&minutes) {
        Ok(minutes)
    } else {
        Err(offset_refusal(&minutes.to_string()))
    }
}

/// The 400 for an offset that is not a whole number in [`UTC_OFFSETS`].
pub fn offset_refusal(sent: &str) -> ApiError {
    ApiError::invalid(format!(
        "utc_offset_minutes: {sent:?} is not minutes east of UTC from {} to {} (China: 480)",
        UTC_OFFSETS.start(),
        UTC_OFFSETS.end()
    ))
}

/// When local `day` starts, at `offset` minutes east of UTC.
fn day_start(day: LocalDate, offset: i16) -> UnixMillis {
    day.days_since_epoch() * DAY_MS - i64::from(offset) * 60_000
}

/// The local day `at` falls on.
fn day_of(at: UnixMillis, offset: i16) -> Option<LocalDate> {
    LocalDate::from_days_since_epoch((at + i64::from(offset) * 60_000).div_euclid(DAY_MS))
}

/// Local midnight before `now`.
fn midnight_before(now: UnixMillis, offset: i16) -> UnixMillis {
    let local = now + i64::from(offset) * 60_000;
    local.div_euclid(DAY_MS) * DAY_MS - i64::from(offset) * 60_000
}

fn profiles(tx: &mut dyn Tx) -> anyhow::Result<Vec<AgentProfile>> {
    Ok(tx
        .list(EntityKind::AgentProfile)?
        .into_iter()
        .filter_map(|r| match r {
            Record::AgentProfile(p) => Some(p),
            _ => None,
        })
        .collect())
}

fn queues(tx: &mut dyn Tx) -> anyhow::Result<Vec<homedesk_protocol::Queue>> {
    Ok(tx
        .list(EntityKind::Queue)?
        .into_iter()
        .filter_map(|r| match r {
            Record::Queue(q) => Some(q),
            _ => None,
        })
        .collect())
}

fn shares_a_queue(a: &AgentProfile, b: &AgentProfile) -> bool {
    a.queues.iter().any(|q| b.queues.contains(q))
}

/// The supervisors who see `agent` in their team view (a supervisor of one
/// of the agent's queues): whom a change of the agent's link concerns.
pub fn supervisors_of(tx: &mut dyn Tx, agent: &str) -> anyhow::Result<Vec<String>> {
    let Some(Record::AgentProfile(agent)) = tx.get(EntityKind::AgentProfile, agent)? else {
        return Ok(Vec::new());
    };
    if !agent.role.works_live() {
        return Ok(Vec::new());
    }
    Ok(profiles(tx)?
        .into_iter()
        .filter(|p| p.role == Role::Supervisor && shares_a_queue(p, &agent))
        .map(|p| p.code)
        .collect())
}

/// When the customer started waiting on this thread: their first message
/// after the last agent reply (notes and system messages are no answer),
/// `None` when the last word is the agent's.
fn unanswered_since(messages: &[Message]) -> Option<UnixMillis> {
    let answered = messages
        .iter()
        .rposition(|m| m.author == Author::Agent && m.kind == MessageKind::Text);
    messages[answered.map_or(0, |i| i + 1)..]
        .iter()
        .filter(|m| m.author == Author::Customer)
        .map(|m| m.sent_at)
        .min()
}

/// `GET /v1/team` for supervisor `me`: everyone who works live in one of
/// their queues (themselves included), and each of their queues.
pub fn team(
    tx: &mut dyn Tx,
    me: &AgentProfile,
    now: UnixMillis,
    utc_offset_minutes: i16,
) -> anyhow::Result<TeamView> {
    let handled_today: HashMap<String, u32> = tx
        .handled_counts_since(midnight_before(now, utc_offset_minutes))?
        .into_iter()
        .collect();
    let links: HashMap<String, crate::storage::AgentLink> = tx
        .links()?
        .into_iter()
        .map(|l| (l.agent.clone(), l))
        .collect();
    let mut agents = Vec::new();
    for p in profiles(tx)? {
        if !p.role.works_live() || !shares_a_queue(&p, me) {
            continue;
        }
        let mut held = tx.conversations_assigned_to(&p.code)?;
        held.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        let mut waiting_since: Option<UnixMillis> = None;
        let mut listed = Vec::new();
        for c in &held {
            let since = unanswered_since(&tx.messages_of(&c.id)?);
            if let Some(since) = since {
                waiting_since = Some(waiting_since.map_or(since, |w| w.min(since)));
            }
            if listed.len() < MAX_HELD_LISTED {
                listed.push(HeldContact {
                    conversation_id: c.id.clone(),
                    subject: c.subject.clone(),
                    queue: c.queue.clone(),
                    channel: c.channel,
                    waiting_since: since,
                });
            }
        }
        let (link, link_since) = crate::links::link_state(links.get(&p.code));
        agents.push(TeamAgent {
            handled_today: handled_today.get(&p.code).copied().unwrap_or(0),
            holding: u32::try_from(held.len()).unwrap_or(u32::MAX),
            held: listed,
            waiting_since,
            link,
            link_since,
            code: p.code,
            name: p.name,
            role: p.role,
            queues: p.queues,
            presence: p.presence,
            presence_reason: p.presence_reason,
        });
    }
    agents.sort_by(|a, b| a.code.cmp(&b.code));

    let names: HashMap<String, String> =
        queues(tx)?.into_iter().map(|q| (q.id, q.name_zh)).collect();
    let mut unresolved = Vec::new();
    for status in [
        ConversationStatus::Queued,
        ConversationStatus::Active,
        ConversationStatus::Pending,
    ] {
        unresolved.extend(tx.conversations_with_status(status)?);
    }
    let mut seen = BTreeSet::new();
    let mut team_queues = Vec::new();
    for id in &me.queues {
        if !seen.insert(id) {
            continue;
        }
        let of_queue = || unresolved.iter().filter(|c| c.queue == *id);
        let waiting: Vec<UnixMillis> = of_queue()
            .filter(|c| c.status == ConversationStatus::Queued && c.assigned_to.is_none())
            .map(|c| c.created_at)
            .collect();
        let mut at_risk: Vec<AtRiskContact> = of_queue()
            .filter_map(|c| {
                let (target, due_at) =
                    if c.first_response_at.is_none() && c.first_response_due - now <= risk_ms() {
                        (SlaTarget::FirstResponse, c.first_response_due)
                    } else if c.resolve_due - now <= risk_ms() {
                        (SlaTarget::Resolve, c.resolve_due)
                    } else {
                        return None;
                    };
                Some(AtRiskContact {
                    conversation_id: c.id.clone(),
                    subject: c.subject.clone(),
                    assigned_to: c.assigned_to.clone(),
                    target,
                    due_at,
                })
            })
            .collect();
        at_risk.sort_by(|a, b| {
            a.due_at
                .cmp(&b.due_at)
                .then_with(|| a.conversation_id.cmp(&b.conversation_id))
        });
        at_risk.truncate(MAX_AT_RISK);
        team_queues.push(TeamQueue {
            id: id.clone(),
            name: names.get(id).cloned().unwrap_or_else(|| id.clone()),
            depth: u32::try_from(waiting.len()).unwrap_or(u32::MAX),
            oldest_waiting_since: waiting.iter().copied().min(),
            at_risk,
        });
    }
    Ok(TeamView {
        server_time: now,
        agents,
        queues: team_queues,
    })
}

fn risk_ms() -> i64 {
    i64::try_from(SLA_AT_RISK_MS).unwrap_or(i64::MAX)
}

/// One rubric item of a stored score report, read leniently.
struct JudgedItem {
    id: String,
    description: String,
    met: bool,
}

/// The rubric items of a practice result's report (the workstation's
/// `ScoreReport`: `items: [{id, description, met, …}]`). A report, or an
/// item, of any other shape is skipped: reports come from workstations of
/// every version, and one odd report must not hide the rest.
fn judged_items(report: &serde_json::Value) -> Vec<JudgedItem> {
    let Some(items) = report.get("items").and_then(|i| i.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            Some(JudgedItem {
                id: item.get("id")?.as_str()?.to_owned(),
                description: item
                    .get("description")
                    .and_then(|d| d.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                met: item.get("met")?.as_bool()?,
            })
        })
        .filter(|item| !item.id.is_empty())
        .collect()
}

/// Tally of rubric items by (scenario, item).
#[derive(Default)]
struct Tally(BTreeMap<(String, String), MissedItem>);

impl Tally {
    fn count(&mut self, record: &TrainingRecord, item: &JudgedItem) {
        let entry = self
            .0
            .entry((record.scenario_id.clone(), item.id.clone()))
            .or_insert_with(|| MissedItem {
                scenario_id: record.scenario_id.clone(),
                scenario_title: String::new(),
                item_id: item.id.clone(),
                description: String::new(),
                missed: 0,
                judged: 0,
            });
        // The newest wording wins (records are counted oldest first).
        entry.scenario_title.clone_from(&record.scenario_title);
        if !item.description.is_empty() {
            entry.description.clone_from(&item.description);
        }
        entry.judged += 1;
        if !item.met {
            entry.missed += 1;
        }
    }

    fn add(&mut self, other: &Tally) {
        for (key, item) in &other.0 {
            let entry = self.0.entry(key.clone()).or_insert_with(|| MissedItem {
                missed: 0,
                judged: 0,
                ..item.clone()
            });
            entry.missed += item.missed;
            entry.judged += item.judged;
        }
    }

    /// The items missed at least once, most missed first (ties: by
    /// scenario, then item id).
    fn most_missed(&self) -> Vec<MissedItem> {
        let mut missed: Vec<MissedItem> =
            self.0.values().filter(|m| m.missed > 0).cloned().collect();
        missed.sort_by(|a, b| {
            b.missed
                .cmp(&a.missed)
                .then_with(|| a.scenario_id.cmp(&b.scenario_id))
                .then_with(|| a.item_id.cmp(&b.item_id))
        });
        missed
    }
}

/// `GET /v1/trainees`: every trainee's practice progress, what the group
/// misses most, and the queues a promotion may give.
pub fn trainees(tx: &mut dyn Tx, now: UnixMillis) -> anyhow::Result<TraineesView> {
    let scenarios: Vec<ScenarioRef> = tx
        .list(EntityKind::Scenario)?
        .into_iter()
        .filter_map(|r| match r {
            Record::Scenario(s) => Some(ScenarioRef {
                id: s.id,
                title: s.title,
            }),
            _ => None,
        })
        .collect();
    let mut group = Tally::default();
    let mut trainees = Vec::new();
    for p in profiles(tx)? {
        if p.role != Role::Trainee {
            continue;
        }
        let mut records: Vec<TrainingRecord> = tx
            .training_records(Some(&p.code), MAX_RESULTS_PER_TRAINEE)?
            .into_iter()
            .filter_map(|(_, _, data)| serde_json::from_str(&data).ok())
            .collect();
        records.sort_by(|a, b| {
            a.finished_at
                .cmp(&b.finished_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut tally = Tally::default();
        for record in &records {
            for item in judged_items(&record.report) {
                tally.count(record, &item);
            }
        }
        group.add(&tally);
        let played: BTreeSet<&str> = records.iter().map(|r| r.scenario_id.as_str()).collect();
        let exams_passed = records.iter().filter(|r| r.exam && r.passed).count();
        trainees.push(TraineeProgress {
            untried: scenarios
                .iter()
                .filter(|s| !played.contains(s.id.as_str()))
                .cloned()
                .collect(),
            missed: tally.most_missed(),
            exams_passed: u32::try_from(exams_passed).unwrap_or(u32::MAX),
            can_promote: exams_passed > 0,
            results: records
                .into_iter()
                .map(|r| TraineeResult {
                    scenario_id: r.scenario_id,
                    scenario_title: r.scenario_title,
                    exam: r.exam,
                    percent: r.percent,
                    passed: r.passed,
                    finished_at: r.finished_at,
                })
                .collect(),
            code: p.code,
            name: p.name,
        });
    }
    let mut most_missed = group.most_missed();
    most_missed.truncate(MAX_MOST_MISSED);
    Ok(TraineesView {
        server_time: now,
        trainees,
        most_missed,
        queues: queues(tx)?
            .into_iter()
            .map(|q| ScenarioRef {
                id: q.id,
                title: q.name_zh,
            })
            .collect(),
    })
}

/// `POST /v1/trainees/{code}/promote` by `by` (a trainer or supervisor):
/// the trainee becomes an agent of `promotion.queues`, with the skills
/// those queues ask for added to theirs (else routing would never offer
/// them a contact of their new queues), and the change is audited.
///
/// Refused, writing nothing, in this order: 404 for an unknown code; 400
/// for a body no schema allows (no queue, an empty or repeated one); 403
/// when the code is not a trainee's, or the trainee has passed no exam yet
/// (the thing named, not the request, stands in the way, and the
/// protocol's error codes have no conflict); 404 for an unknown queue, as
/// ingress answers one. So a request valid by docs/openapi.yaml is never
/// 400 (decision 0020).
pub fn promote(
    tx: &mut dyn Tx,
    by: &AgentProfile,
    trainee: &str,
    promotion: &Promotion,
    now: UnixMillis,
) -> anyhow::Result<Result<RoleChange, ApiError>> {
    let Some(Record::AgentProfile(profile)) = tx.get(EntityKind::AgentProfile, trainee)? else {
        return Ok(Err(ApiError::not_found(format!(
            "no agent has the code {trainee:?}"
        ))));
    };
    if promotion.queues.is_empty() {
        return Ok(Err(ApiError::invalid(
            "queues: name at least one queue the new agent works (see `queues` of GET /v1/trainees)",
        )));
    }
    for (i, queue) in promotion.queues.iter().enumerate() {
        if queue.is_empty() {
            return Ok(Err(ApiError::invalid(format!(
                "queues[{i}]: empty; name a queue (see `queues` of GET /v1/trainees)"
            ))));
        }
        if promotion.queues[..i].contains(queue) {
            return Ok(Err(ApiError::invalid(format!(
                "queues[{i}]: {queue:?} is named twice"
            ))));
        }
    }
    if profile.role != Role::Trainee {
        return Ok(Err(ApiError::forbidden(format!(
            "{trainee} is {}, not a trainee: only trainees are promoted",
            role_with_article(profile.role)
        ))));
    }
    let passed = tx
        .training_records(Some(trainee), MAX_RESULTS_PER_TRAINEE)?
        .into_iter()
        .filter_map(|(_, _, data)| serde_json::from_str::<TrainingRecord>(&data).ok())
        .any(|r| r.exam && r.passed);
    if !passed {
        return Ok(Err(ApiError::forbidden(format!(
            "{trainee} has passed no exam yet; a trainee goes live after passing one"
        ))));
    }
    let known: HashMap<String, homedesk_protocol::Queue> =
        queues(tx)?.into_iter().map(|q| (q.id.clone(), q)).collect();
    let mut skills = profile.skills.clone();
    for (i, queue) in promotion.queues.iter().enumerate() {
        let Some(known) = known.get(queue) else {
            return Ok(Err(ApiError::not_found(format!(
                "queues[{i}]: no queue {queue:?} (see `queues` of GET /v1/trainees)"
            ))));
        };
        for skill in &known.skills {
            if !skills.contains(skill) {
                skills.push(skill.clone());
            }
        }
    }
    let change = RoleChange {
        agent: profile.code.clone(),
        from: profile.role,
        to: Role::Agent,
        queues: promotion.queues.clone(),
        changed_by: by.code.clone(),
        changed_at: now,
    };
    let after = AgentProfile {
        role: Role::Agent,
        queues: promotion.queues.clone(),
        skills,
        ..profile
    };
    tx.put(&Record::AgentProfile(after), &everyone(), now)?;
    tx.insert_role_change(&change)?;
    Ok(Ok(change))
}

/// Checks a report's days: `to` not before `from`, and at most
/// [`MAX_REPORT_DAYS`] days from `from` to `to`, both included.
pub fn check_report_days(from: LocalDate, to: LocalDate) -> Result<(), ApiError> {
    let days = to.days_since_epoch() - from.days_since_epoch() + 1;
    if days < 1 {
        return Err(ApiError::invalid(format!(
            "to: {to} is before from ({from}); send from and to with from on or before to"
        )));
    }
    if days > MAX_REPORT_DAYS {
        return Err(ApiError::invalid(format!(
            "from {from} to {to} is {days} days; one report covers at most {MAX_REPORT_DAYS} days, \
             so ask for a shorter range (several reports for a longer one)"
        )));
    }
    Ok(())
}

/// `GET /v1/reports` for supervisor `me`: per local day and agent, the
/// contacts of the queues they supervise that were wrapped up from `from`
/// to `to` (local days at `utc_offset_minutes`, both included). The days
/// are checked first ([`check_report_days`]).
pub fn reports(
    tx: &mut dyn Tx,
    me: &AgentProfile,
    from: LocalDate,
    to: LocalDate,
    utc_offset_minutes: i16,
) -> anyhow::Result<Reports> {
    let start = day_start(from, utc_offset_minutes);
    let end = day_start(to, utc_offset_minutes) + DAY_MS;
    let mut days: BTreeMap<(LocalDate, String), Vec<HandledContact>> = BTreeMap::new();
    for contact in tx.handled_contacts(start, end)? {
        if !me.queues.contains(&contact.queue) {
            continue;
        }
        let Some(day) = day_of(contact.resolved_at, utc_offset_minutes) else {
            continue;
        };
        days.entry((day, contact.agent.clone()))
            .or_default()
            .push(contact);
    }
    let names: HashMap<String, String> = profiles(tx)?
        .into_iter()
        .map(|p| (p.code, p.name))
        .collect();
    let rows = days
        .into_iter()
        .map(|((day, agent), contacts)| AgentDay {
            name: names.get(&agent).cloned().unwrap_or_else(|| agent.clone()),
            day,
            handled: u32::try_from(contacts.len()).unwrap_or(u32::MAX),
            average_handle_secs: mean_secs(
                contacts
                    .iter()
                    .filter_map(|c| Some(c.resolved_at - c.assigned_at?)),
            ),
            average_first_response_secs: mean_secs(
                contacts
                    .iter()
                    .filter_map(|c| Some(c.first_response_at? - c.created_at)),
            ),
            sla_kept: u32::try_from(contacts.iter().filter(|c| sla_kept(c)).count())
                .unwrap_or(u32::MAX),
            after_contact_secs: contacts
                .iter()
                .map(|c| u64::try_from(c.after_contact_secs).unwrap_or(0))
                .sum(),
            agent,
        })
        .collect();
    Ok(Reports {
        from,
        to,
        utc_offset_minutes,
        rows,
    })
}

/// Answered by its first-response deadline and resolved by its resolve
/// deadline.
fn sla_kept(c: &HandledContact) -> bool {
    c.first_response_at
        .is_some_and(|at| at <= c.first_response_due)
        && c.resolved_at <= c.resolve_due
}

/// The mean of durations in milliseconds, in whole seconds (rounded to the
/// nearest; a negative duration, from a clock set back, counts as 0);
/// `None` for none.
fn mean_secs(durations_ms: impl Iterator<Item = i64>) -> Option<u32> {
    let (sum, n) = durations_ms.fold((0i128, 0i128), |(sum, n), ms| {
        (sum + i128::from(ms.max(0)), n + 1)
    });
    if n == 0 {
        return None;
    }
    let secs = (sum / n + 500) / 1000;
    Some(u32::try_from(secs).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> LocalDate {
        text.parse().expect("a date")
    }

    #[test]
    fn local_days_start_at_local_midnight() {
        // 2026-12-04 00:00 in China is 2026-12-03 16:00 UTC.
        let start = day_start(day("2026-12-04"), 480);
        assert_eq!(start, 1_796_313_600_000);
        assert_eq!(day_of(start, 480), Some(day("2026-12-04")));
        assert_eq!(day_of(start - 1, 480), Some(day("2026-12-03")));
        assert_eq!(midnight_before(start + 5 * 3_600_000, 480), start);
        assert_eq!(midnight_before(start, 480), start);
        assert_eq!(day_of(start, 0), Some(day("2026-12-03")));
        assert_eq!(day_of(start, -720), Some(day("2026-12-03")));
    }

    #[test]
    fn report_days_are_checked_with_a_message_that_says_what_to_send() {
        assert!(check_report_days(day("2026-12-01"), day("2026-12-01")).is_ok());
        // 92 days, both ends included: Oct 1 to Dec 31.
        assert!(check_report_days(day("2026-10-01"), day("2026-12-31")).is_ok());
        let long = check_report_days(day("2026-09-30"), day("2026-12-31")).expect_err("93 days");
        assert!(long.message.contains("at most 92 days"), "{}", long.message);
        let back = check_report_days(day("2026-12-02"), day("2026-12-01")).expect_err("reversed");
        assert!(back.message.contains("before from"), "{}", back.message);
    }

    #[test]
    fn offsets_outside_utc_minus_12_to_plus_14_are_refused() {
        assert_eq!(check_utc_offset(480), Ok(480));
        assert_eq!(check_utc_offset(-720), Ok(-720));
        assert_eq!(check_utc_offset(840), Ok(840));
        assert!(check_utc_offset(841).is_err());
        assert!(check_utc_offset(-721).is_err());
    }

    #[test]
    fn means_round_to_the_nearest_second() {
        assert_eq!(mean_secs([1_400, 1_600].into_iter()), Some(2));
        assert_eq!(mean_secs([1_499].into_iter()), Some(1));
        assert_eq!(mean_secs([-5_000, 4_000].into_iter()), Some(2));
        assert_eq!(mean_secs(std::iter::empty()), None);
    }

    fn message(author: Author, kind: MessageKind, sent_at: UnixMillis) -> Message {
        Message {
            id: format!("m{sent_at}"),
            conversation_id: "c".into(),
            author,
            agent: None,
            kind,
            body: String::new(),
            sent_at,
            attachments: Vec::new(),
            delivery: None,
        }
    }

    #[test]
    fn a_customer_waits_from_their_first_message_after_the_last_reply() {
        use Author::{Agent, Customer};
        use MessageKind::{Note, Text};
        let thread = [
            message(Customer, Text, 1),
            message(Agent, Text, 2),
            message(Customer, Text, 3),
            message(Agent, Note, 4),
            message(Customer, Text, 5),
        ];
        assert_eq!(unanswered_since(&thread), Some(3), "a note is no answer");
        assert_eq!(unanswered_since(&thread[..2]), None, "answered");
        assert_eq!(unanswered_since(&thread[..1]), Some(1), "never answered");
        assert_eq!(unanswered_since(&[]), None);
    }

    #[test]
    fn reports_are_read_leniently() {
        let items = judged_items(&serde_json::json!({"items": [
            {"id": "greet", "description": "先问好", "met": true, "points": 2},
            {"id": "apologise", "met": false},
            {"id": 7, "met": false},
            {"description": "no id", "met": false},
            {"id": "no-verdict"},
            "not an object"
        ]}));
        let read: Vec<(&str, &str, bool)> = items
            .iter()
            .map(|i| (i.id.as_str(), i.description.as_str(), i.met))
            .collect();
        assert_eq!(
            read,
            vec![("greet", "先问好", true), ("apologise", "", false)]
        );
        assert!(judged_items(&serde_json::Value::Null).is_empty());
        assert!(judged_items(&serde_json::json!({"items": "none"})).is_empty());
        assert!(judged_items(&serde_json::json!([1, 2])).is_empty());
    }
}
