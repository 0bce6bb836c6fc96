//! The sandbox end to end in the core: the real sync engine, store and
//! outbox on the sandbox's own database file, with the SimulatorTransport as
//! the platform. A bundled scenario's model answer, typed as a trainee would
//! (claim, replies, the helpful article, wrap-up) on a fake practice clock,
//! is scored as its play-through file expects; a poor answer fails; and the
//! live agent database next to it is byte-for-byte unchanged.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use homedesk_content::scenario::PlayStep;
use homedesk_core::practice::session::PracticeChoice;
use homedesk_core::practice::transport::{PRACTICE_QUEUE, SimulatorTransport};
use homedesk_core::store::{Store, outbox, views};
use homedesk_core::sync::{SyncConfig, SyncEngine};
use homedesk_core::{clock, paths};
use homedesk_protocol::{Action, ConversationStatus, Record};

fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

struct Sandbox {
    engine: Arc<SyncEngine<SimulatorTransport>>,
    transport: SimulatorTransport,
    now: Arc<AtomicI64>,
    start: i64,
    stop: tokio::sync::watch::Sender<bool>,
}

async fn sandbox(data: &Path, scenario: &str) -> Sandbox {
    let content = homedesk_content::load_content_dir(&content_dir(), 0).expect("content loads");
    let doc = content
        .scenario_docs
        .iter()
        .find(|d| d.id == scenario)
        .expect("bundled scenario")
        .clone();
    let reference: Vec<Record> = content
        .kb
        .iter()
        .cloned()
        .map(Record::KbArticle)
        .chain(
            content
                .canned_replies
                .iter()
                .cloned()
                .map(Record::CannedReply),
        )
        .chain(content.scripts.iter().cloned().map(Record::Script))
        .collect();
    let start = clock::now_ms();
    let now = Arc::new(AtomicI64::new(start));
    let clock_now = Arc::clone(&now);
    let transport = SimulatorTransport::new(
        "t2001",
        "赵小满",
        reference,
        vec![doc],
        0,
        Arc::new(move || clock_now.load(Ordering::SeqCst)),
    );
    let db = paths::sandbox_db(data);
    std::fs::create_dir_all(db.parent().expect("folder")).expect("sandbox folder");
    let store = Arc::new(
        Store::open(&db, &homedesk_core::store::StoreKey::from_bytes([7; 32]))
            .expect("sandbox store"),
    );
    let mut config = SyncConfig::new("pc-practice");
    config.poll_interval = Duration::from_millis(200);
    let engine = SyncEngine::new(store, transport.clone(), config).expect("engine");
    engine.sign_in("t2001", "").await.expect("practice sign-in");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(Arc::clone(&engine).run(shutdown));
    Sandbox {
        engine,
        transport,
        now,
        start,
        stop,
    }
}

impl Sandbox {
    async fn act(&self, action: Action) {
        self.engine
            .store()
            .write(|tx| outbox::enqueue(tx, "t2001", action, clock::now_ms()))
            .expect("enqueued");
        self.engine.wake();
        for _ in 0..200 {
            if self.engine.store().read(outbox::count).expect("count") == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the practice platform did not take the action");
    }

    /// Plays `steps` as a trainee would, at their times on the practice clock.
    async fn play(&self, conversation: &str, steps: &[PlayStep]) {
        self.act(Action::Claim {
            conversation_id: conversation.to_owned(),
        })
        .await;
        for (i, step) in steps.iter().enumerate() {
            self.now.store(
                self.start + i64::from(step.at_secs) * 1000,
                Ordering::SeqCst,
            );
            if let Some(text) = &step.reply {
                self.act(Action::Reply {
                    conversation_id: conversation.to_owned(),
                    message_id: format!("msg-trainee-{i}"),
                    body: text.clone(),
                    attachments: Vec::new(),
                })
                .await;
            } else if let Some(article) = &step.article {
                self.transport.article(conversation, article);
            } else if let Some(step) = &step.script_step {
                self.transport.script_step(conversation, step);
            } else if let Some(code) = &step.wrap_up {
                self.act(Action::WrapUp {
                    conversation_id: conversation.to_owned(),
                    disposition: code.clone(),
                    note: None,
                    after_contact_secs: 0,
                })
                .await;
            }
        }
    }
}

async fn arrived(sandbox: &Sandbox) -> String {
    for _ in 0..200 {
        let found = sandbox
            .engine
            .store()
            .read(|c| views::conversations(c, 10))
            .expect("read");
        if let Some(c) = found.into_iter().find(|c| c.queue == PRACTICE_QUEUE) {
            return c.id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the practice customer never arrived in the sandbox store");
}

#[tokio::test]
async fn a_model_answer_passes_through_the_real_engine_and_live_data_is_untouched() {
    let data = tempfile::tempdir().expect("tmp");
    // A live agent's database, as a signed-in PC has it.
    let live = paths::agent_db(data.path(), "a1001").expect("path");
    drop(
        Store::open(&live, &homedesk_core::store::StoreKey::from_bytes([7; 32]))
            .expect("live store"),
    );
    let live_before = std::fs::read(&live).expect("live bytes");

    let scenario = "sc-zh-where-parcel";
    let plays = homedesk_content::load_content_dir(&content_dir(), 0)
        .expect("content")
        .plays;
    let model = plays[scenario]
        .plays
        .iter()
        .find(|p| p.expect_pass)
        .expect("a model answer")
        .clone();
    let sandbox = sandbox(data.path(), scenario).await;
    let conversation = arrived(&sandbox).await;
    sandbox.play(&conversation, &model.steps).await;

    let report = sandbox.transport.report(&conversation).expect("a report");
    assert!(report.passed, "{report:#?}");
    assert_eq!(report.percent, 100);
    // The customer's reactions reached the sandbox store like live messages.
    let messages = sandbox
        .engine
        .store()
        .read(|c| views::messages(c, &conversation))
        .expect("messages");
    assert!(
        messages.len() > model.steps.len(),
        "customer and trainee messages: {}",
        messages.len()
    );
    let resolved = sandbox
        .engine
        .store()
        .read(|c| views::conversation(c, &conversation))
        .expect("read")
        .expect("there");
    assert_eq!(resolved.status, ConversationStatus::Resolved);
    let _ = sandbox.stop.send(true);

    assert_eq!(
        std::fs::read(&live).expect("live bytes"),
        live_before,
        "practice never touches the live database"
    );
    assert!(paths::sandbox_db(data.path()).exists());
}

#[tokio::test]
async fn a_poor_answer_fails_and_says_why() {
    let data = tempfile::tempdir().expect("tmp");
    let scenario = "sc-zh-rotten-peaches";
    let plays = homedesk_content::load_content_dir(&content_dir(), 0)
        .expect("content")
        .plays;
    let poor = plays[scenario]
        .plays
        .iter()
        .find(|p| !p.expect_pass)
        .expect("a poor play")
        .clone();
    let sandbox = sandbox(data.path(), scenario).await;
    let conversation = arrived(&sandbox).await;
    sandbox.play(&conversation, &poor.steps).await;
    let report = sandbox.transport.report(&conversation).expect("a report");
    assert!(!report.passed, "{report:#?}");
    for missed in &poor.expect_missed {
        let item = report
            .items
            .iter()
            .find(|i| &i.id == missed)
            .expect("rubric item");
        assert!(!item.met, "{missed} should be missed");
        assert!(!item.reason.is_empty());
    }
    let _ = sandbox.stop.send(true);
}

#[tokio::test]
async fn the_workstation_switches_to_practice_without_a_platform_and_back() {
    let data = tempfile::tempdir().expect("tmp");
    let ws = homedesk_core::Workstation::open(data.path()).expect("opens");
    let err = ws
        .start_practice(&PracticeChoice::Scenario("sc-zh-where-parcel".into()))
        .await
        .expect_err("no content folder set");
    assert_eq!(err.code(), homedesk_core::ErrorCode::InvalidInput);
    ws.set_content_dir(content_dir());

    let catalog = ws.practice_catalog().expect("catalog");
    assert!(catalog.scenarios.len() >= 12, "the Chinese scenarios");
    assert!(catalog.scenarios.iter().all(|s| s.locale == "zh-CN"));
    assert!(catalog.packs.iter().any(|p| p.exam));
    let err = ws
        .start_practice(&PracticeChoice::Scenario("sc-zh-no-such".into()))
        .await
        .expect_err("unknown scenario");
    assert_eq!(err.code(), homedesk_core::ErrorCode::InvalidInput);

    let trainee = ws
        .start_practice(&PracticeChoice::Scenario("sc-zh-where-parcel".into()))
        .await
        .expect("practice starts offline");
    assert!(trainee.practice);
    assert_eq!(trainee.name, "练习学员");
    assert!(ws.signed_in().is_some_and(|a| a.practice));
    assert!(
        ws.lock().is_err(),
        "no password to lock with in offline practice"
    );

    let desk = ws.desk().expect("the practice desk");
    let conversation = "conv-sc-zh-where-parcel";
    for _ in 0..200 {
        if desk
            .queue(homedesk_core::desk::QueueScope::All)
            .expect("queue")
            .iter()
            .any(|i| i.id == conversation)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    desk.act(Action::Claim {
        conversation_id: conversation.into(),
    })
    .expect("claimed");
    desk.reply(conversation, "亲，您好，我帮您查一下物流")
        .expect("replied");
    desk.wrap_up(conversation, "info_given", None, 5)
        .expect("wrapped up");
    for _ in 0..200 {
        if desk.practice_status().contacts.iter().any(|c| c.over) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        ws.practice_history().expect("history").len(),
        1,
        "kept when the contact ended, before anyone looked at the report"
    );
    let report = desk
        .practice_report(conversation)
        .expect("report")
        .expect("a report");
    assert_eq!(report.disposition.as_deref(), Some("info_given"));
    let status = desk.practice_status();
    assert!(status.active && status.passed.is_some());
    let history = ws.practice_history().expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].scenario_id, "sc-zh-where-parcel");
    desk.practice_report(conversation).expect("again");
    assert_eq!(
        ws.practice_history().expect("history").len(),
        1,
        "kept once"
    );

    assert!(ws.stop_practice().is_none(), "back to the sign-in screen");
    assert!(ws.signed_in().is_none());
    assert!(
        !paths::agent_db(data.path(), "trainee")
            .expect("path")
            .exists(),
        "practice wrote no live agent file"
    );
}

#[tokio::test]
async fn the_app_refuses_broken_practice_content_with_the_checker_s_words() {
    let data = tempfile::tempdir().expect("tmp");
    let content = tempfile::tempdir().expect("tmp");
    let scenarios = content.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).expect("folder");
    let good = std::fs::read_to_string(content_dir().join("scenarios/sc-zh-where-parcel.toml"))
        .expect("a bundled scenario");
    let broken = good.replacen(
        "disposition = \"info_given\"",
        "disposition = \"sorted\"",
        1,
    );
    assert_ne!(good, broken, "the fixture changed something");
    std::fs::write(scenarios.join("sc-zh-where-parcel.toml"), broken).expect("write");

    let ws = homedesk_core::Workstation::open(data.path()).expect("opens");
    ws.set_content_dir(content.path().to_path_buf());
    let err = ws
        .start_practice(&PracticeChoice::Scenario("sc-zh-where-parcel".into()))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), homedesk_core::ErrorCode::InvalidInput);
    let checker =
        homedesk_content::check_scenarios(content.path(), 0).expect_err("the checker too");
    let first = checker[0].to_string();
    assert!(
        err.to_string().contains(&first),
        "the app says what the checker says:\n{err}\n---\n{first}"
    );
    assert!(
        first.contains("sc-zh-where-parcel.toml:"),
        "file and line: {first}"
    );
    assert!(ws.signed_in().is_none(), "nothing started");
}

#[tokio::test]
async fn customers_arrive_over_a_shift_and_nudge_on_their_own_through_the_event_stream() {
    let data = tempfile::tempdir().expect("tmp");
    let content = homedesk_content::load_content_dir(&content_dir(), 0).expect("content");
    let shift: Vec<_> = ["sc-zh-where-parcel", "sc-zh-coupon-expired"]
        .iter()
        .map(|id| {
            content
                .scenario_docs
                .iter()
                .find(|d| d.id == *id)
                .expect("bundled")
                .clone()
        })
        .collect();
    let start = clock::now_ms();
    let now = Arc::new(AtomicI64::new(start));
    let clock_now = Arc::clone(&now);
    let transport = SimulatorTransport::new(
        "trainee",
        "练习学员",
        Vec::new(),
        shift,
        60,
        Arc::new(move || clock_now.load(Ordering::SeqCst)),
    );
    let db = paths::sandbox_db(data.path());
    std::fs::create_dir_all(db.parent().expect("folder")).expect("folder");
    let store = Arc::new(
        Store::open(&db, &homedesk_core::store::StoreKey::from_bytes([7; 32])).expect("store"),
    );
    let mut config = SyncConfig::new("pc-practice");
    // Long polls: only the event stream's pokes can bring news quickly.
    config.poll_interval = Duration::from_secs(600);
    config.safety_poll = Duration::from_secs(600);
    let engine = SyncEngine::new(store, transport.clone(), config).expect("engine");
    engine.sign_in("trainee", "").await.expect("sign-in");
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(Arc::clone(&engine).run(shutdown));

    let count = |engine: &SyncEngine<SimulatorTransport>| {
        engine
            .store()
            .read(|c| views::conversations(c, 10))
            .expect("read")
            .len()
    };
    let wait_for = |what: &'static str, check: Box<dyn Fn() -> bool + Send>| async move {
        for _ in 0..250 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{what}");
    };
    let e = Arc::clone(&engine);
    wait_for(
        "the first customer arrives",
        Box::new(move || count(&e) == 1),
    )
    .await;

    // A minute later (practice clock) the second customer arrives by itself.
    now.store(start + 61_000, Ordering::SeqCst);
    transport.tick();
    let e = Arc::clone(&engine);
    wait_for(
        "the second customer arrives",
        Box::new(move || count(&e) == 2),
    )
    .await;

    // Left unanswered past their patience, the first customer nudges.
    now.store(start + 95_000, Ordering::SeqCst);
    transport.tick();
    let e = Arc::clone(&engine);
    wait_for(
        "the nudge reaches the sandbox store",
        Box::new(move || {
            e.store()
                .read(|c| views::messages(c, "conv-sc-zh-where-parcel"))
                .expect("read")
                .iter()
                .any(|m| m.message.body == "？？人呢")
        }),
    )
    .await;
}
