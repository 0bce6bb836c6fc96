//! Property tests: the outbox and the sync engine against a model.
//!
//! A model platform (in memory, idempotent by key like the real one) sits
//! behind a transport that can fail before the platform sees a batch, or
//! after it applied the batch but before the answer arrives (the worst case
//! on a village link). Random sequences of agent actions, failing and
//! working syncs, and restarts of the workstation must keep these true:
//! - the outbox holds exactly the actions not yet acknowledged, in order;
//! - the platform applies every action at most once, in the order taken;
//! - once the link works, everything is applied exactly once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use homedesk_core::store::{Store, outbox};
use homedesk_core::sync::{
    EventStream, PulledPage, SyncConfig, SyncEngine, Transport, TransportError,
};
use homedesk_protocol::{
    Action, ActionBatch, ActionResult, ActionStatus, AgentProfile, Presence, Role, Session, SignIn,
};
use proptest::prelude::*;

/// What the next push does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Link {
    Works,
    /// The request never reaches the platform.
    FailsBefore,
    /// The platform applies the batch; the answer is lost.
    FailsAfter,
}

#[derive(Default)]
struct ModelPlatform {
    /// Verdicts by idempotency key.
    seen: HashMap<String, ActionResult>,
    /// Keys in the order they were applied.
    applied: Vec<String>,
    script: VecDeque<Link>,
}

#[derive(Clone, Default)]
struct ModelTransport(Arc<Mutex<ModelPlatform>>);

fn session() -> Session {
    Session {
        access_token: "access".into(),
        access_expires_at: i64::MAX / 2,
        refresh_token: "refresh".into(),
        refresh_expires_at: i64::MAX / 2,
        agent: AgentProfile {
            code: "a1001".into(),
            name: "测试".into(),
            role: Role::Agent,
            queues: vec!["aftersales".into()],
            skills: vec![],
            max_chats: 4,
            presence: Presence::Available,
            presence_reason: None,
        },
        server_time: homedesk_core::clock::now_ms(),
        device_secret: None,
    }
}

impl Transport for ModelTransport {
    async fn sign_in(&self, _request: &SignIn) -> Result<Session, TransportError> {
        Ok(session())
    }

    async fn refresh(&self, _refresh_token: &str) -> Result<Session, TransportError> {
        Ok(session())
    }

    async fn push(
        &self,
        _access_token: &str,
        batch: &ActionBatch,
    ) -> Result<Vec<ActionResult>, TransportError> {
        let mut platform = self.0.lock().expect("model");
        let link = platform.script.pop_front().unwrap_or(Link::Works);
        if link == Link::FailsBefore {
            return Err(TransportError::Unreachable("cable unplugged".into()));
        }
        let mut results = Vec::new();
        for action in &batch.actions {
            let result = match platform.seen.get(&action.key) {
                Some(first) => ActionResult {
                    key: action.key.clone(),
                    status: ActionStatus::Duplicate,
                    code: None,
                    message: None,
                    params: Default::default(),
                    original: Some(Box::new(first.clone())),
                },
                None => {
                    let verdict = ActionResult::applied(&action.key);
                    platform.seen.insert(action.key.clone(), verdict.clone());
                    platform.applied.push(action.key.clone());
                    verdict
                }
            };
            results.push(result);
        }
        if link == Link::FailsAfter {
            return Err(TransportError::Unreachable("answer lost".into()));
        }
        Ok(results)
    }

    async fn pull(
        &self,
        _access_token: &str,
        _cursor: Option<&str>,
        _limit: usize,
    ) -> Result<PulledPage, TransportError> {
        Ok(PulledPage {
            changes: vec![],
            skipped: vec![],
            next_cursor: "model.0".into(),
            has_more: false,
            server_time: homedesk_core::clock::now_ms(),
            wire_bytes: 0,
            deferred: None,
            resolved_days: None,
        })
    }

    async fn events(&self, _access_token: &str) -> Result<EventStream, TransportError> {
        Err(TransportError::Unreachable("no events in the model".into()))
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// The agent replies in conversation `c`.
    Act(u8),
    /// A sync whose pushes meet these link outcomes in turn.
    Sync(Vec<Link>),
    /// The workstation restarts (store reopened, engine rebuilt).
    Restart,
}

fn link() -> impl Strategy<Value = Link> {
    prop_oneof![
        2 => Just(Link::Works),
        1 => Just(Link::FailsBefore),
        1 => Just(Link::FailsAfter),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0u8..3).prop_map(Step::Act),
        3 => prop::collection::vec(link(), 1..4).prop_map(Step::Sync),
        1 => Just(Step::Restart),
    ]
}

fn config() -> SyncConfig {
    let mut config = SyncConfig::new("model");
    config.push_batch = 3;
    config
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn outbox_and_engine_agree_with_the_model(steps in prop::collection::vec(step(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("agent.sqlite");
        let transport = ModelTransport::default();
        let open = || {
            let store = Arc::new(Store::open(&db, &homedesk_core::store::StoreKey::from_bytes([7; 32])).expect("store"));
            SyncEngine::new(store, transport.clone(), config()).expect("engine")
        };
        let mut engine = open();
        runtime.block_on(engine.sign_in("a1001", "pw")).expect("sign in");

        // The model: every action taken, in order; and which are acknowledged.
        let mut taken: Vec<String> = Vec::new();
        let mut counter = 0;
        for step in steps {
            match step {
                Step::Act(c) => {
                    counter += 1;
                    let action = Action::Reply {
                        conversation_id: format!("c{c}"),
                        message_id: format!("m{counter}"),
                        body: format!("reply {counter}"), attachments: Vec::new(),
                    };
                    let envelope = engine
                        .store()
                        .write(|tx| outbox::enqueue(tx, "a1001", action, 1_000 + counter))
                        .expect("saved");
                    taken.push(envelope.key);
                }
                Step::Sync(links) => {
                    transport.0.lock().expect("model").script = links.into();
                    let _ = runtime.block_on(engine.sync_once());
                }
                Step::Restart => {
                    drop(engine);
                    engine = open();
                }
            }
            // Invariants after every step.
            let platform = transport.0.lock().expect("model");
            let pending: Vec<String> = engine
                .store()
                .read(|c| outbox::pending(c, 10_000))
                .expect("pending")
                .into_iter()
                .map(|e| e.key)
                .collect();
            // Applied keys are a prefix of the actions taken, each once.
            prop_assert_eq!(&platform.applied[..], &taken[..platform.applied.len()]);
            // Pending = taken minus acknowledged, order kept: a suffix of
            // `taken` that starts at or before the first unapplied action.
            let acknowledged = taken.len() - pending.len();
            prop_assert_eq!(&pending[..], &taken[acknowledged..]);
            prop_assert!(acknowledged <= platform.applied.len(), "nothing acknowledged that the platform did not apply");
        }
        // The link heals: everything is applied exactly once.
        transport.0.lock().expect("model").script.clear();
        runtime.block_on(engine.sync_once()).expect("healthy sync");
        let platform = transport.0.lock().expect("model");
        prop_assert_eq!(&platform.applied, &taken);
        prop_assert_eq!(engine.store().read(outbox::count).expect("count"), 0);
    }
}
