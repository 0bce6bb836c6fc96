//! The log's newest entries, read once per instance for all its event
//! streams (`GET /v1/events?changes=inline`, decision 0045).
//!
//! A change pokes every stream whose agent may see it, and each of those
//! streams used to read its own page from the database: one read per
//! connected agent per change, most of the platform's work at a few hundred
//! agents (docs/benchmarks.md, "Load"). Now the first stream that needs
//! entries past what this instance has read reads them — each with everyone
//! who may see it, and the current state of the conversations they touch —
//! in one transaction; the streams that need the same entries wait for that
//! read (the tail's lock) and build their pages from it in memory, through
//! the same sync-scope rule as a pull (`crate::scope`). A stream behind the
//! oldest entry kept, or whose agent's profile was deleted, reads the
//! database as before.
//!
//! Why the state read with the entries is good enough: every change of a
//! conversation is logged, so the newest state the tail holds for a
//! conversation is its state as of the tail's end, or of a later entry that
//! every stream will be sent after this one — the same promise a pull's
//! read makes (`crate::scope`, module comment).

use std::collections::{HashMap, HashSet, VecDeque};

use homedesk_protocol::scope::SyncScope;
use homedesk_protocol::{
    AgentProfile, Change, ChangeBody, ChangesPage, Conversation, EntityKind, Record,
};

use crate::Platform;
use crate::scope::{CurrentState, ScopeFilter};
use crate::storage::{Audience, Tx, Viewer};
use crate::visibility::viewers_of;

/// Entries kept in memory; a stream further behind reads the database.
const KEEP: usize = 2048;
/// Most entries one read takes (a knowledge-base import can log thousands).
const READ_AT_MOST: usize = 512;

/// The log entries this instance read last, shared by its event streams.
#[derive(Default)]
pub struct LogTail {
    inner: tokio::sync::Mutex<Tail>,
}

#[derive(Default)]
struct Tail {
    /// The database's id, for cursors (`Tx::instance_id`).
    instance: Option<String>,
    /// Entries in `(from, upto]`, in order.
    entries: VecDeque<(Change, Audience)>,
    from: u64,
    upto: u64,
    /// The newest state read of each conversation an entry refers to
    /// (`None`: deleted).
    conversations: HashMap<String, Option<Conversation>>,
    /// The conversations of each customer an entry holds.
    customers: HashMap<String, Vec<String>>,
}

/// What one stream is due from the tail.
#[derive(Debug)]
pub enum Due {
    /// Nothing in `(checked, upto]` is for this agent (whose profile, as of
    /// `upto`, is `profile`).
    Nothing {
        upto: u64,
        profile: Box<AgentProfile>,
    },
    /// The page of what is, ending at `upto`, and the agent's profile as the
    /// page leaves it.
    Page {
        page: ChangesPage,
        upto: u64,
        profile: Box<AgentProfile>,
    },
    /// More than `limit` entries are due: a poke, the workstation pulls.
    TooMany { upto: u64 },
    /// The tail cannot say (the stream is behind it, the agent's profile
    /// was deleted, or the read failed): read the database.
    AskTheDatabase,
}

impl LogTail {
    /// What the agent with `profile` is due of the log in `(checked, latest]`
    /// and whatever else the tail holds beyond, at most `limit` entries.
    pub async fn due(
        &self,
        platform: &std::sync::Arc<Platform>,
        checked: u64,
        latest: u64,
        profile: &AgentProfile,
        limit: usize,
    ) -> Due {
        let mut tail = self.inner.lock().await;
        let mut rounds = 0;
        while tail.upto < latest.max(checked) || tail.instance.is_none() {
            // The first read only finds where the log ends: what came before
            // is the database's to give.
            let after = tail.instance.is_some().then_some(tail.upto);
            let read = platform
                .blocking(move |p| p.storage.read_with(|tx| read_after(tx, after)))
                .await;
            match read {
                Ok(read) => {
                    let grew = after.is_none_or(|after| read.upto > after);
                    tail.take(read);
                    rounds += 1;
                    // The log ends before `latest` (a poke from a rolled-back
                    // or not yet visible write): take what there is.
                    if !grew || rounds > 64 {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!("could not read the change log's tail: {err:#}");
                    return Due::AskTheDatabase;
                }
            }
        }
        tail.due(
            checked,
            profile,
            platform.settings.sync_resolved_days,
            limit,
        )
    }
}

/// What one read of the tail brought.
struct Read {
    instance: String,
    entries: Vec<(Change, Audience)>,
    upto: u64,
    conversations: Vec<(String, Option<Conversation>)>,
    customers: Vec<(String, Vec<Conversation>)>,
}

/// Reads the entries after `after` (up to the log's end as this
/// transaction sees it, at most [`READ_AT_MOST`]) and the current state of
/// what they refer to.
fn read_after(tx: &mut dyn Tx, after: Option<u64>) -> anyhow::Result<Read> {
    let instance = tx.instance_id()?;
    let head = tx.latest_seq()?;
    let after = after.unwrap_or(head);
    let entries = tx.entries_between(after, head, READ_AT_MOST)?;
    let upto = if entries.len() == READ_AT_MOST {
        entries.last().map_or(head, |(c, _)| c.seq)
    } else {
        head.max(after)
    };
    // A conversation whose newest entry here is its own is in that state
    // now; one only a message refers to is read.
    let mut states: HashMap<String, Option<Conversation>> = HashMap::new();
    let mut referred: Vec<String> = Vec::new();
    let mut customers: Vec<String> = Vec::new();
    for (change, _) in &entries {
        match &change.body {
            ChangeBody::Upsert(Record::Conversation(c)) => {
                states.insert(c.id.clone(), Some(c.clone()));
            }
            ChangeBody::Delete {
                entity: EntityKind::Conversation,
                id,
            } => {
                states.insert(id.clone(), None);
            }
            ChangeBody::Upsert(Record::Message(m)) => referred.push(m.conversation_id.clone()),
            ChangeBody::Upsert(Record::Customer(k)) => customers.push(k.id.clone()),
            _ => {}
        }
    }
    for id in referred {
        if let std::collections::hash_map::Entry::Vacant(slot) = states.entry(id) {
            let state = match tx.get(EntityKind::Conversation, slot.key())? {
                Some(Record::Conversation(c)) => Some(c),
                _ => None,
            };
            slot.insert(state);
        }
    }
    let mut of_customers = Vec::new();
    let mut seen = HashSet::new();
    for id in customers {
        if seen.insert(id.clone()) {
            let conversations = tx.conversations_of_customer(&id)?;
            of_customers.push((id, conversations));
        }
    }
    Ok(Read {
        instance,
        entries,
        upto,
        conversations: states.into_iter().collect(),
        customers: of_customers,
    })
}

impl Tail {
    fn take(&mut self, read: Read) {
        if self.instance.as_deref() != Some(read.instance.as_str()) {
            // The first read (or another database behind this instance).
            *self = Tail {
                instance: Some(read.instance),
                from: read.upto,
                upto: read.upto,
                ..Tail::default()
            };
            return;
        }
        for (id, state) in read.conversations {
            self.conversations.insert(id, state);
        }
        for (id, conversations) in read.customers {
            let ids = conversations.iter().map(|c| c.id.clone()).collect();
            for c in conversations {
                self.conversations.insert(c.id.clone(), Some(c));
            }
            self.customers.insert(id, ids);
        }
        self.entries.extend(read.entries);
        self.upto = read.upto;
        if self.entries.len() > 2 * KEEP {
            self.trim();
        }
    }

    /// Drops the oldest entries down to [`KEEP`], and the states no kept
    /// entry refers to.
    fn trim(&mut self) {
        while self.entries.len() > KEEP {
            if let Some((change, _)) = self.entries.pop_front() {
                self.from = change.seq;
            }
        }
        let mut conversations = HashSet::new();
        let mut customers = HashSet::new();
        for (change, _) in &self.entries {
            match &change.body {
                ChangeBody::Upsert(Record::Conversation(c)) => {
                    conversations.insert(c.id.clone());
                }
                ChangeBody::Delete {
                    entity: EntityKind::Conversation,
                    id,
                } => {
                    conversations.insert(id.clone());
                }
                ChangeBody::Upsert(Record::Message(m)) => {
                    conversations.insert(m.conversation_id.clone());
                }
                ChangeBody::Upsert(Record::Customer(k)) => {
                    customers.insert(k.id.clone());
                }
                _ => {}
            }
        }
        self.customers.retain(|id, _| customers.contains(id));
        for ids in self.customers.values() {
            conversations.extend(ids.iter().cloned());
        }
        self.conversations
            .retain(|id, _| conversations.contains(id));
    }

    /// The page for `profile`'s agent of the entries after `checked`.
    fn due(&self, checked: u64, profile: &AgentProfile, resolved_days: u32, limit: usize) -> Due {
        let Some(instance) = self.instance.as_deref() else {
            return Due::AskTheDatabase;
        };
        if checked < self.from {
            return Due::AskTheDatabase;
        }
        let start = self.entries.partition_point(|(c, _)| c.seq <= checked);
        let fresh = || self.entries.range(start..);
        // The agent's profile as of the tail's end (a pull reads it now).
        let mut profile = profile.clone();
        for (change, _) in fresh() {
            match &change.body {
                ChangeBody::Upsert(Record::AgentProfile(p)) if p.code == profile.code => {
                    profile = p.clone();
                }
                ChangeBody::Delete {
                    entity: EntityKind::AgentProfile,
                    id,
                } if *id == profile.code => return Due::AskTheDatabase,
                _ => {}
            }
        }
        let viewers: Vec<Viewer> = viewers_of(&profile);
        let server_time = crate::now_ms();
        let scope = SyncScope::of(&profile, server_time, resolved_days);
        let mut filter = scope.map(|scope| ScopeFilter::new(scope, 0));
        let mut state = TailState(self);
        let mut changes = Vec::new();
        for (change, audience) in fresh() {
            if !audience.iter().any(|who| viewers.contains(who)) {
                continue;
            }
            let admitted = match filter.as_mut() {
                None => Some(change.clone()),
                Some(filter) => match filter.admit(&mut state, change.clone()) {
                    Ok(admitted) => admitted,
                    Err(_) => return Due::AskTheDatabase,
                },
            };
            if let Some(change) = admitted {
                changes.push(change);
                if changes.len() > limit {
                    return Due::TooMany { upto: self.upto };
                }
            }
        }
        if changes.is_empty() {
            return Due::Nothing {
                upto: self.upto,
                profile: Box::new(profile),
            };
        }
        Due::Page {
            page: ChangesPage {
                changes,
                next_cursor: format!("{instance}.{}", self.upto),
                has_more: false,
                server_time,
                deferred: None,
                resolved_days: scope.map(|_| resolved_days),
            },
            upto: self.upto,
            profile: Box::new(profile),
        }
    }
}

/// The states the tail read, for the scope rule. A conversation it did not
/// read is an error: the stream asks the database instead.
struct TailState<'a>(&'a Tail);

impl CurrentState for TailState<'_> {
    fn conversation(&mut self, id: &str) -> anyhow::Result<Option<Conversation>> {
        match self.0.conversations.get(id) {
            Some(state) => Ok(state.clone()),
            None => anyhow::bail!("conversation {id} is not in the tail"),
        }
    }

    fn conversations_of_customer(&mut self, id: &str) -> anyhow::Result<Vec<Conversation>> {
        let Some(ids) = self.0.customers.get(id) else {
            anyhow::bail!("customer {id} is not in the tail");
        };
        let mut conversations = Vec::new();
        for id in ids {
            if let Some(c) = self.conversation(id)? {
                conversations.push(c);
            }
        }
        Ok(conversations)
    }
}

#[cfg(test)]
mod tests {
    //! The tail must give every agent what a pull gives: a random history of
    //! conversations (new, claimed, released, transferred, resolved, aged
    //! out), messages, customers and profile changes, read by the tail at
    //! random moments, then every agent's page from many positions compared
    //! with `pages::page_for` on the same database.

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use homedesk_protocol::{
        Author, Channel, ConversationStatus, Customer, Message, MessageKind, Presence, Priority,
        Role,
    };

    use super::*;
    use crate::pages::{Position, page_for};
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{KindFilter, Storage, everyone};
    use crate::visibility::{conversation_audience, save_conversation};

    const DAY: i64 = 86_400_000;
    const QUEUES: [&str; 3] = ["q1", "q2", "q3"];

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn profile(code: &str, role: Role, queues: &[&str]) -> AgentProfile {
        AgentProfile {
            code: code.to_owned(),
            name: code.to_owned(),
            role,
            queues: queues.iter().map(|q| (*q).to_owned()).collect(),
            skills: Vec::new(),
            max_chats: 3,
            presence: Presence::Available,
            presence_reason: None,
        }
    }

    /// What applying a page leaves: each record's last state (`None`: deleted).
    fn applied(changes: &[Change]) -> BTreeMap<(String, String), Option<String>> {
        let mut state = BTreeMap::new();
        for change in changes {
            let (key, value) = match &change.body {
                ChangeBody::Upsert(record) => (
                    (record.kind().as_str().to_owned(), record.id().to_owned()),
                    Some(format!("{record:?}")),
                ),
                ChangeBody::Delete { entity, id } => {
                    ((entity.as_str().to_owned(), id.clone()), None)
                }
            };
            state.insert(key, value);
        }
        state
    }

    fn one_history(seed: u64) {
        let dir = tempfile::tempdir().expect("tmp");
        let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).expect("storage"));
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let now = crate::now_ms();
        let mut agents = vec![
            profile("a1", Role::Agent, &["q1"]),
            profile("a2", Role::Agent, &["q1", "q2"]),
            profile("a3", Role::Agent, &["q2", "q3"]),
            profile("s1", Role::Supervisor, &["q1", "q2", "q3"]),
        ];
        // Each agent's profile from each position on.
        let mut history: Vec<(u64, AgentProfile)> = Vec::new();
        for agent in &agents {
            let seq = storage
                .write_with(|tx| tx.put(&Record::AgentProfile(agent.clone()), &everyone(), now))
                .expect("put");
            history.push((seq, agent.clone()));
        }
        let mut tail = Tail::default();
        let read = storage
            .read_with(|tx| read_after(tx, None))
            .expect("first read");
        tail.take(read);
        let mut conversations: Vec<Conversation> = Vec::new();
        for step in 0..80 {
            let op = rng.below(10);
            storage
                .write_with(|tx| {
                    match op {
                        0 | 1 if !conversations.is_empty() => {
                            let c = &conversations[rng.below(conversations.len())];
                            let message = Message {
                                id: format!("m{step}"),
                                conversation_id: c.id.clone(),
                                author: Author::Customer,
                                agent: None,
                                kind: MessageKind::Text,
                                body: format!("text {step}"),
                                sent_at: now,
                                attachments: Vec::new(),
                                delivery: None,
                            };
                            tx.put(&Record::Message(message), &conversation_audience(c), now)?;
                        }
                        2..=4 if !conversations.is_empty() => {
                            let i = rng.below(conversations.len());
                            let before = conversations[i].clone();
                            let mut after = before.clone();
                            after.version += 1;
                            match rng.below(5) {
                                0 => {
                                    after.assigned_to =
                                        Some(["a1", "a2", "a3"][rng.below(3)].to_owned());
                                    after.status = ConversationStatus::Active;
                                }
                                1 => {
                                    after.assigned_to = None;
                                    after.status = ConversationStatus::Queued;
                                }
                                2 => after.queue = QUEUES[rng.below(3)].to_owned(),
                                3 => {
                                    after.status = ConversationStatus::Resolved;
                                    after.last_message_at = now - DAY * [1, 30][rng.below(2)];
                                }
                                _ => after.status = ConversationStatus::Pending,
                            }
                            save_conversation(tx, Some(&before), &after, now)?;
                            conversations[i] = after;
                        }
                        5 => {
                            let i = rng.below(agents.len() - 1);
                            let mut changed = agents[i].clone();
                            changed.queues = match rng.below(3) {
                                0 => vec!["q1".into()],
                                1 => vec!["q2".into(), "q3".into()],
                                _ => vec!["q3".into()],
                            };
                            let seq =
                                tx.put(&Record::AgentProfile(changed.clone()), &everyone(), now)?;
                            history.push((seq, changed.clone()));
                            agents[i] = changed;
                        }
                        _ => {
                            let id = format!("c{step}");
                            let customer = if conversations.is_empty() || rng.below(2) == 0 {
                                format!("k{step}")
                            } else {
                                conversations[rng.below(conversations.len())]
                                    .customer_id
                                    .clone()
                            };
                            let c = Conversation {
                                id: id.clone(),
                                channel: Channel::Chat,
                                queue: QUEUES[rng.below(3)].to_owned(),
                                customer_id: customer.clone(),
                                subject: String::new(),
                                category: None,
                                status: ConversationStatus::Queued,
                                assigned_to: None,
                                priority: Priority::Normal,
                                created_at: now,
                                first_response_due: now,
                                resolve_due: now,
                                first_response_at: None,
                                last_message_at: now,
                                last_message_preview: String::new(),
                                disposition: None,
                                version: 1,
                            };
                            let k = Customer {
                                id: customer,
                                name: "买家".into(),
                                phone_masked: "138****0000".into(),
                                city: None,
                                orders: Vec::new(),
                            };
                            tx.put(&Record::Customer(k), &conversation_audience(&c), now)?;
                            save_conversation(tx, None, &c, now)?;
                            conversations.push(c);
                        }
                    }
                    Ok(())
                })
                .expect("write");
            if rng.below(3) == 0 {
                let read = storage
                    .read_with(|tx| read_after(tx, Some(tail.upto)))
                    .expect("read");
                tail.take(read);
            }
        }
        let read = storage
            .read_with(|tx| read_after(tx, Some(tail.upto)))
            .expect("read");
        tail.take(read);

        for agent in ["a1", "a2", "a3", "s1"] {
            for _ in 0..12 {
                let checked = tail.from + rng.below((tail.upto - tail.from + 1) as usize) as u64;
                let as_of = history
                    .iter()
                    .rfind(|(seq, p)| p.code == agent && *seq <= checked.max(1))
                    .or_else(|| history.iter().find(|(_, p)| p.code == agent))
                    .map(|(_, p)| p.clone())
                    .expect("a profile");
                let from_tail = match tail.due(checked, &as_of, 14, 10_000) {
                    Due::Page { page, .. } => page.changes,
                    Due::Nothing { .. } => Vec::new(),
                    other => panic!("seed {seed}, {agent} after {checked}: {other:?}"),
                };
                let pulled = storage
                    .read_with(|tx| {
                        page_for(
                            tx,
                            agent,
                            14,
                            Position::After {
                                seq: checked,
                                first_until: 0,
                            },
                            &KindFilter::default(),
                            10_000,
                        )
                    })
                    .expect("pull")
                    .expect("a page");
                assert_eq!(
                    applied(&from_tail),
                    applied(&pulled.changes),
                    "seed {seed}, {agent} after {checked}"
                );
            }
        }
    }

    #[test]
    fn every_agent_gets_from_the_tail_what_a_pull_gives() {
        for seed in 1..=40 {
            one_history(seed);
        }
    }

    #[test]
    fn a_stream_behind_the_tail_asks_the_database() {
        let tail = Tail {
            instance: Some("db".into()),
            from: 10,
            upto: 12,
            ..Tail::default()
        };
        let agent = profile("a1", Role::Agent, &["q1"]);
        assert!(matches!(tail.due(9, &agent, 14, 50), Due::AskTheDatabase));
        assert!(matches!(
            tail.due(10, &agent, 14, 50),
            Due::Nothing { upto: 12, .. }
        ));
    }
}
