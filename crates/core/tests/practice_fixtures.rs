//! The UI's practice tests run on what the REAL practice engine answers,
//! never on a TypeScript copy of it. This test plays bundled scenarios on a
//! real practice desk (the sandbox store, the sync engine and the simulated
//! customers, on a fake clock) and writes what the host commands return at
//! each step, in their IPC shapes, as golden JSON in
//! `ui/src/lib/host/fixtures/`. It fails when the committed fixtures differ
//! from what the engine answers now (a scoring rule, a scenario or an IPC
//! type changed); `make fixtures` (UPDATE_FIXTURES=1) rewrites them, like
//! `make bindings` for the ts-rs types.
//!
//! A recording is a list of frames: the first is the state right after
//! `start_practice`, each next one the state after one trainee action
//! (claim, reply, article, script step, wrap-up) at its second on the
//! practice clock. The UI's mock host replays them (`mock-practice.ts`
//! is gone: the mock only hands out these answers).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use homedesk_core::SignedInAgent;
use homedesk_core::desk::{ConversationDetail, Desk, QueueItem, QueueScope};
use homedesk_core::practice::ScoreReport;
use homedesk_core::practice::session::{
    PracticeCatalog, PracticeChoice, PracticeMark, PracticeResult, PracticeStatus,
};
use homedesk_core::scripts::ScriptChoice;
use homedesk_core::search::SearchHit;
use homedesk_core::store::outbox;
use homedesk_core::store::views::ArticleView;
use homedesk_protocol::{Action, Channel, UnixMillis};
use serde::Serialize;

/// 2026-12-01 09:00 in Beijing: every fixture starts here, so the files do
/// not change from one run to the next.
const START_MS: UnixMillis = 1_796_086_800_000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures_dir() -> PathBuf {
    repo().join("ui/src/lib/host/fixtures")
}

/// What the trainee does, at a second of the practice clock.
#[derive(Debug, Clone, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "call"
)]
enum Step {
    Claim {
        conversation_id: String,
    },
    Reply {
        conversation_id: String,
        body: String,
    },
    PracticeMark {
        conversation_id: String,
        mark: PracticeMark,
    },
    WrapUp {
        conversation_id: String,
        disposition: String,
    },
}

/// Everything the UI can ask the host about the session at one moment.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Frame {
    /// The action that led here (none for the first frame).
    after: Option<Step>,
    at_secs: u32,
    status: PracticeStatus,
    /// `queue("all")`.
    queue: Vec<QueueItem>,
    /// `conversation` of each contact the trainee claimed.
    conversations: BTreeMap<String, ConversationDetail>,
    /// `practice_report` of each contact that is over (null in an exam until
    /// the end).
    reports: BTreeMap<String, Option<ScoreReport>>,
    history: Vec<PracticeResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Recording {
    name: &'static str,
    locale: &'static str,
    choice: PracticeChoice,
    trainee: SignedInAgent,
    /// `scripts(conversation)` of the phone contacts, in the recording's
    /// language.
    scripts: BTreeMap<String, Vec<ScriptChoice>>,
    /// `search_articles(query, 10)` for the queries the play names and the
    /// helpful articles' ids.
    searches: BTreeMap<String, Vec<SearchHit>>,
    /// `article(id)` for the articles the reports and marks name.
    articles: BTreeMap<String, ArticleView>,
    frames: Vec<Frame>,
}

/// One play: a choice, the clock second when the trainee starts, and the
/// steps (second, step).
struct Play {
    name: &'static str,
    locale: &'static str,
    choice: PracticeChoice,
    /// Code and name: "trainee" without a sign-in, else the live agent.
    trainee: (&'static str, &'static str),
    /// Seconds after the start when the first frame is taken (packs: after
    /// every customer has arrived).
    settle_secs: u32,
    steps: Vec<(u32, Step)>,
    searches: Vec<&'static str>,
}

fn claim(c: &str) -> Step {
    Step::Claim {
        conversation_id: c.into(),
    }
}
fn reply(c: &str, body: &str) -> Step {
    Step::Reply {
        conversation_id: c.into(),
        body: body.into(),
    }
}
fn mark(c: &str, mark: PracticeMark) -> Step {
    Step::PracticeMark {
        conversation_id: c.into(),
        mark,
    }
}
fn wrap(c: &str, disposition: &str) -> Step {
    Step::WrapUp {
        conversation_id: c.into(),
        disposition: disposition.into(),
    }
}

fn plays() -> Vec<Play> {
    let parcel = "conv-sc-zh-where-parcel";
    let peaches = "conv-sc-zh-rotten-peaches";
    let refund = "conv-sc-zh-refund-not-received";
    let en_parcel = "conv-sc-en-where-parcel";
    let exam = [
        (
            "conv-sc-zh-invoice-company",
            "您好，抬头是宜宾市青禾文化传媒有限公司，我核对一下",
            "resolved",
        ),
        (
            "conv-sc-zh-refund-not-received",
            "您好，我是山禾优选的客服，退款是原路退回您的建行储蓄卡",
            "resolved",
        ),
        (
            "conv-sc-zh-scam-call",
            "您好，请不要把验证码告诉任何人，我们不会打电话要验证码",
            "info_given",
        ),
        (
            "conv-sc-zh-elderly-order-no",
            "阿姨您好，不着急，您把收货的手机号告诉我，我帮您查",
            "info_given",
        ),
        (
            "conv-sc-zh-rotten-peaches",
            "非常抱歉！麻烦您拍一张照片给我看看",
            "refund_issued",
        ),
    ];
    let mut exam_steps = Vec::new();
    for (i, (c, text, code)) in exam.iter().enumerate() {
        let at = 400 + 30 * i as u32;
        exam_steps.push((at, claim(c)));
        exam_steps.push((at + 10, reply(c, text)));
        exam_steps.push((at + 20, wrap(c, code)));
    }
    vec![
        Play {
            name: "where-parcel",
            locale: "zh-CN",
            choice: PracticeChoice::Scenario("sc-zh-where-parcel".into()),
            trainee: ("trainee", "练习学员"),
            settle_secs: 0,
            steps: vec![
                (5, claim(parcel)),
                (10, reply(parcel, "您好，我帮您查一下物流")),
                (
                    30,
                    reply(parcel, "包裹现在停在武汉转运中心，我已经帮您联系快递催件了"),
                ),
                (40, wrap(parcel, "resolved")),
            ],
            searches: vec![],
        },
        Play {
            name: "rotten-peaches-late",
            locale: "zh-CN",
            choice: PracticeChoice::Scenario("sc-zh-rotten-peaches".into()),
            trainee: ("trainee", "练习学员"),
            settle_secs: 0,
            steps: vec![
                (5, claim(peaches)),
                (130, reply(peaches, "非常抱歉，给您添麻烦了")),
                (140, wrap(peaches, "refund_issued")),
            ],
            searches: vec![],
        },
        Play {
            name: "refund-marks",
            locale: "zh-CN",
            choice: PracticeChoice::Scenario("sc-zh-refund-not-received".into()),
            trainee: ("trainee", "练习学员"),
            settle_secs: 0,
            steps: vec![
                (5, claim(refund)),
                (
                    10,
                    mark(
                        refund,
                        PracticeMark::ScriptStep("script-zh-refund-callback#greet".into()),
                    ),
                ),
                (
                    12,
                    reply(refund, "您好，我是山禾优选的售后客服，给您回个电话"),
                ),
                (
                    20,
                    mark(
                        refund,
                        PracticeMark::ScriptStep("script-zh-refund-callback#verify".into()),
                    ),
                ),
                (
                    30,
                    mark(
                        refund,
                        PracticeMark::Article("kb-zh-farm-rotten-fruit".into()),
                    ),
                ),
                (
                    35,
                    mark(
                        refund,
                        PracticeMark::Article("kb-zh-farm-rotten-fruit".into()),
                    ),
                ),
            ],
            searches: vec!["坏果"],
        },
        Play {
            name: "exam",
            locale: "zh-CN",
            choice: PracticeChoice::Pack("pack-zh-exam-1".into()),
            trainee: ("a1001", "王秀英"),
            settle_secs: 360,
            steps: exam_steps,
            searches: vec![],
        },
        Play {
            name: "en-shift",
            locale: "en",
            choice: PracticeChoice::Pack("pack-en-shift-1".into()),
            trainee: ("trainee", "Trainee"),
            settle_secs: 180,
            steps: vec![
                (190, claim(en_parcel)),
                (
                    200,
                    reply(en_parcel, "Hi there! Let me check that for you."),
                ),
                (210, wrap(en_parcel, "info_given")),
            ],
            searches: vec![],
        },
        Play {
            name: "en-parcel",
            locale: "en",
            choice: PracticeChoice::Scenario("sc-en-where-parcel".into()),
            trainee: ("trainee", "Trainee"),
            settle_secs: 0,
            steps: vec![
                (5, claim(en_parcel)),
                (10, reply(en_parcel, "Hi there, let me check")),
                (20, wrap(en_parcel, "resolved")),
            ],
            searches: vec![],
        },
    ]
}

fn content() -> homedesk_content::ContentSet {
    homedesk_content::load_content_dir(&repo().join("content"), START_MS)
        .expect("the bundled content loads")
}

/// Waits (with a deadline) until `ok` holds and the sandbox store has
/// everything the simulated platform logged: the desk's own sync loop has
/// pushed the outbox, and then a sync round of ours pulled nothing new. (Ours
/// runs only once the outbox is empty, so an action is never pushed twice.)
async fn settle(desk: &Desk, what: &str, ok: impl Fn(&Desk) -> bool) {
    for _ in 0..500 {
        let empty = desk.engine().store().read(outbox::count).expect("outbox") == 0;
        if !empty {
            desk.engine().wake();
        } else if let Ok(round) = desk.engine().sync_once().await
            && round.pulled == 0
            && ok(desk)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the practice desk never got there: {what}");
}

async fn record(play: &Play) -> Recording {
    let data = tempfile::tempdir().expect("tmp");
    let content = content();
    let now = Arc::new(AtomicI64::new(START_MS));
    let clock_now = Arc::clone(&now);
    // The trainee's history: in their own store (here a store of its own).
    let history = Arc::new(
        homedesk_core::store::Store::open(
            data.path().join("trainee.sqlite"),
            &homedesk_core::store::StoreKey::random(),
        )
        .expect("history store"),
    );
    let desk = Desk::practice(
        data.path(),
        Arc::clone(&history),
        &content,
        &play.choice,
        play.trainee,
        Arc::new(move || clock_now.load(Ordering::SeqCst)),
    )
    .await
    .expect("practice starts");
    let contacts = |desk: &Desk| desk.practice_status().contacts.len();
    let expected_contacts = match &play.choice {
        PracticeChoice::Scenario(_) => 1,
        PracticeChoice::Pack(id) => {
            let pack = content.packs.iter().find(|p| &p.id == id).expect("pack");
            let arrived = 1 + play.settle_secs / pack.arrival_secs.max(1);
            (arrived as usize).min(pack.scenarios.len())
        }
    };
    now.store(
        START_MS + i64::from(play.settle_secs) * 1000,
        Ordering::SeqCst,
    );
    settle(&desk, "every customer arrived", |d| {
        contacts(d) == expected_contacts
            && d.queue(QueueScope::All).expect("queue").len() == expected_contacts
    })
    .await;

    // When each result reached the history, on the practice clock (the
    // history stamps the wall clock, which would change every run).
    let mut finished_at: BTreeMap<String, UnixMillis> = BTreeMap::new();
    let mut frames = vec![frame(
        &desk,
        &history,
        None,
        play.settle_secs,
        &mut finished_at,
        &now,
    )];
    for (i, (at_secs, step)) in play.steps.iter().enumerate() {
        now.store(START_MS + i64::from(*at_secs) * 1000, Ordering::SeqCst);
        match step {
            Step::Claim { conversation_id } => {
                desk.act(Action::Claim {
                    conversation_id: conversation_id.clone(),
                })
                .expect("claim");
            }
            Step::Reply {
                conversation_id,
                body,
            } => {
                desk.act(Action::Reply {
                    conversation_id: conversation_id.clone(),
                    message_id: format!("msg-trainee-{i}"),
                    body: body.clone(),
                    attachments: Vec::new(),
                })
                .expect("reply");
            }
            Step::PracticeMark {
                conversation_id,
                mark,
            } => desk.practice_mark(conversation_id, mark),
            Step::WrapUp {
                conversation_id,
                disposition,
            } => {
                desk.wrap_up(conversation_id, disposition, None, 0)
                    .expect("wrap-up");
            }
        }
        settle(&desk, "the action reached the customer", |_| true).await;
        frames.push(frame(
            &desk,
            &history,
            Some(step.clone()),
            *at_secs,
            &mut finished_at,
            &now,
        ));
    }

    let ids: Vec<String> = frames[0]
        .status
        .contacts
        .iter()
        .map(|c| c.conversation_id.clone())
        .collect();
    // Scripts are for calls: the UI asks for them on phone contacts only.
    let scripts = ids
        .iter()
        .filter(|id| {
            let detail = desk.conversation(id).expect("read").expect("arrived");
            detail.conversation.channel == Channel::Phone
        })
        .map(|id| (id.clone(), desk.scripts(id, play.locale).expect("scripts")))
        .collect();
    // The queries the play names, and each helpful article's id (the score
    // report looks its title up with the knowledge search).
    let helpful = frames
        .iter()
        .flat_map(|f| f.reports.values().flatten())
        .filter_map(|r| r.helpful_article.clone());
    let searches = play
        .searches
        .iter()
        .map(|q| (*q).to_owned())
        .chain(helpful)
        .map(|q| {
            let hits = desk.search_articles(&q, 10).expect("search");
            (q, hits)
        })
        .collect();
    let mut article_ids: Vec<String> = Vec::new();
    for f in &frames {
        for report in f.reports.values().flatten() {
            article_ids.extend(report.helpful_article.clone());
        }
        if let Some(Step::PracticeMark {
            mark: PracticeMark::Article(id),
            ..
        }) = &f.after
        {
            article_ids.push(id.clone());
        }
    }
    let articles = article_ids
        .into_iter()
        .map(|id| {
            let view = desk
                .article(&id)
                .expect("article")
                .expect("bundled article");
            (id, view)
        })
        .collect();
    let trainee = SignedInAgent {
        code: desk.profile().code.clone(),
        name: desk.profile().name.clone(),
        queues: desk.profile().queues.clone(),
        locked: false,
        practice: true,
        role: Some(desk.profile().role),
    };
    desk.sign_out().await.expect("practice ends");
    Recording {
        name: play.name,
        locale: play.locale,
        choice: play.choice.clone(),
        trainee,
        scripts,
        searches,
        articles,
        frames,
    }
}

fn frame(
    desk: &Desk,
    history_store: &homedesk_core::store::Store,
    after: Option<Step>,
    at_secs: u32,
    finished_at: &mut BTreeMap<String, UnixMillis>,
    now: &AtomicI64,
) -> Frame {
    let status = desk.practice_status();
    // The conversations the trainee took (the UI opens no other), and the
    // reports of the contacts that are over (the UI asks for no other).
    let trainee = desk.profile().code.clone();
    let conversations = status
        .contacts
        .iter()
        .filter_map(|c| {
            let detail = desk
                .conversation(&c.conversation_id)
                .expect("read")
                .expect("an arrived contact has a conversation");
            (detail.conversation.assigned_to.as_deref() == Some(trainee.as_str()))
                .then(|| (c.conversation_id.clone(), detail))
        })
        .collect();
    let reports = status
        .contacts
        .iter()
        .filter(|c| c.over)
        .map(|c| {
            let report = desk.practice_report(&c.conversation_id).expect("report");
            (c.conversation_id.clone(), report)
        })
        .collect();
    let history = homedesk_core::practice::session::history(history_store)
        .expect("history")
        .into_iter()
        .map(|mut r| {
            r.finished_at = *finished_at
                .entry(r.id.clone())
                .or_insert_with(|| now.load(Ordering::SeqCst));
            r
        })
        .collect();
    Frame {
        after,
        at_secs,
        queue: desk.queue(QueueScope::All).expect("queue"),
        status,
        conversations,
        reports,
        history,
    }
}

fn render(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("serialises");
    text.push('\n');
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ui_practice_fixtures_are_what_the_engine_answers() {
    let content = content();
    let mut generated: Vec<(String, String)> = Vec::new();
    for locale in ["zh-CN", "en"] {
        let catalog: PracticeCatalog = homedesk_core::practice::session::catalog(&content, locale);
        generated.push((format!("catalog.{locale}.json"), render(&catalog)));
    }
    for play in plays() {
        let recording = record(&play).await;
        // An exam keeps every contact's report until the last one is over.
        for frame in recording.frames.iter().filter(|f| f.status.exam) {
            let all_over = frame.status.contacts.iter().all(|c| c.over);
            assert!(
                frame.reports.values().all(|r| r.is_some() == all_over),
                "{}: reports at {} s",
                play.name,
                frame.at_secs
            );
        }
        generated.push((format!("practice.{}.json", play.name), render(&recording)));
    }

    let dir = fixtures_dir();
    let update = std::env::var_os("UPDATE_FIXTURES").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (name, text) in &generated {
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).expect("create fixtures dir");
            std::fs::write(&path, text).expect("write fixture");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "UI practice fixtures are stale or missing: {stale:?}. Run `make fixtures` and commit \
         the result, so the UI tests see what the practice engine really answers."
    );
}

/// The mock host refuses a practice choice it has no recording of with
/// `invalid_input`, as the core refuses an unknown scenario or pack.
#[tokio::test]
async fn an_unknown_scenario_or_pack_is_refused_as_invalid_input() {
    let data = tempfile::tempdir().expect("tmp");
    let content = content();
    for choice in [
        PracticeChoice::Scenario("sc-zh-no-such".into()),
        PracticeChoice::Pack("pack-no-such".into()),
    ] {
        let Err(err) = Desk::practice(
            data.path(),
            Arc::new(
                homedesk_core::store::Store::in_memory(&homedesk_core::store::StoreKey::random())
                    .expect("history store"),
            ),
            &content,
            &choice,
            ("trainee", "练习学员"),
            Arc::new(|| START_MS),
        )
        .await
        else {
            panic!("{choice:?} was not refused");
        };
        assert_eq!(
            err.code(),
            homedesk_core::ErrorCode::InvalidInput,
            "{choice:?}"
        );
    }
}
