//! The agent's working day against the real platform: guided scripts
//! suggested by what the customer wrote, transfers, "My day", recently
//! viewed articles, notifications for new customer messages and SLAs at
//! risk, and the screen lock that survives a restart.

mod common;

use common::{Server, eventually};
use homedesk_core::desk::{Desk, PlatformConfig, QueueScope};
use homedesk_core::settings::Preferences;
use homedesk_core::sync::SyncEvent;
use homedesk_core::{ErrorCode, Workstation};
use homedesk_protocol::{Action, TransferTarget};

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

fn platform(server: &Server) -> PlatformConfig {
    PlatformConfig {
        url: server.url.clone(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    }
}

async fn claimed(desk: &Desk, conversation: &str) {
    eventually("the contact reaches the workstation", || async {
        desk.conversation(conversation).expect("read").map(|_| ())
    })
    .await;
    desk.act(Action::Claim {
        conversation_id: conversation.to_owned(),
    })
    .expect("claimed");
    eventually("the claim is delivered", || async {
        (desk.status().pending_actions == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn scripts_transfer_my_day_and_recent_articles() {
    let server = Server::start_demo(&[]);
    let peaches = server
        .customer_writes(
            "phone",
            "work-1",
            "cust-work-1",
            "aftersales",
            "直播间买的桃子收到全烂了，我要投诉",
        )
        .await;
    let parcel = server
        .customer_writes(
            "chat",
            "work-2",
            "cust-work-2",
            "aftersales",
            "快递三天没更新了",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::sign_in(
        dir.path(),
        &platform(&server),
        "pc-w",
        "a1002",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await
    .expect("signs in");
    claimed(&desk, &peaches).await;
    claimed(&desk, &parcel).await;

    // Scripts: what the customer wrote decides the suggestion.
    let choices = desk.scripts(&peaches, "zh-CN").expect("scripts");
    assert_eq!(
        choices[0].script.id, "script-zh-rotten-fruit",
        "{choices:#?}"
    );
    assert!(choices[0].suggested);
    assert!(choices.iter().all(|c| c.script.locale == "zh-CN"));
    assert!(
        choices.iter().any(|c| !c.suggested),
        "the other scripts stay available"
    );
    assert!(
        !choices[0]
            .script
            .steps
            .iter()
            .any(|s| s.text.contains("{agent_name}")),
        "the agent's name is filled in"
    );
    let english = desk.scripts(&parcel, "en").expect("scripts");
    assert!(english.iter().all(|c| c.script.locale == "en"));
    assert_eq!(english.iter().filter(|c| c.suggested).count(), 0);
    let err = desk
        .scripts("no-such-conversation", "zh-CN")
        .expect_err("refused");
    assert_eq!(err.code(), ErrorCode::InvalidInput);

    // Transfer: only to queues and colleagues that exist, never to myself.
    let targets = desk.transfer_targets().expect("targets");
    assert!(targets.queues.iter().any(|q| q.id == "logistics"));
    assert!(
        targets
            .agents
            .iter()
            .all(|a| a.code != "a1002" && a.code != "t2001")
    );
    assert!(targets.agents.iter().any(|a| a.code == "a1003"));
    for bad in [
        TransferTarget::Agent("a1002".into()),
        TransferTarget::Agent("nobody".into()),
        TransferTarget::Queue("no-such-queue".into()),
    ] {
        let err = desk.transfer(&parcel, bad).expect_err("refused");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
    }
    desk.transfer(&parcel, TransferTarget::Queue("logistics".into()))
        .expect("transferred");
    assert!(
        !desk
            .queue(QueueScope::Mine)
            .expect("queue")
            .iter()
            .any(|i| i.id == parcel),
        "no longer mine, at once"
    );

    // My day: nothing handled yet, then one wrap-up with a reply.
    let day = desk.my_day().expect("my day");
    assert_eq!((day.handled, day.average_handle_secs), (0, None));
    desk.reply(&peaches, "非常抱歉，我马上为您处理")
        .expect("replied");
    desk.wrap_up(&peaches, "refund_issued", None, 42)
        .expect("wrapped up");
    let day = desk.my_day().expect("my day");
    assert_eq!(day.handled, 1);
    assert!(day.average_handle_secs.is_some_and(|s| s >= 0.0));
    assert_eq!(day.sla_total, 1, "the reply counts as the first response");
    eventually("delivered", || async {
        (desk.status().pending_actions == 0).then_some(())
    })
    .await;
    assert_eq!(
        desk.my_day().expect("my day").handled,
        1,
        "still counted once confirmed"
    );
    assert!(desk.conflicts().expect("conflicts").is_empty());

    // Recently viewed: opening an article puts it first.
    assert!(desk.recent_articles(5).expect("recent").is_empty());
    let hits = desk.search_articles("退款", 3).expect("search");
    assert!(hits.len() >= 2);
    desk.article(&hits[1].id).expect("read").expect("exists");
    desk.article(&hits[0].id).expect("read").expect("exists");
    let recent = desk.recent_articles(5).expect("recent");
    let ids: Vec<&str> = recent.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [hits[0].id.as_str(), hits[1].id.as_str()]);
    assert!(desk.article("no-such-article").expect("read").is_none());
    assert_eq!(desk.recent_articles(5).expect("recent").len(), 2);
}

#[tokio::test]
async fn a_new_customer_message_in_my_conversation_is_announced_and_slas_at_risk_are_found() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes("chat", "news-1", "cust-news-1", "aftersales", "在吗？")
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::sign_in(
        dir.path(),
        &platform(&server),
        "pc-n",
        "a1002",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await
    .expect("signs in");
    claimed(&desk, &conversation).await;
    // Unanswered and mine: within the demo's first-response time.
    let at_risk = desk.sla_at_risk(24 * 3_600_000).expect("sla");
    assert!(at_risk.iter().any(|i| i.id == conversation));
    assert!(
        desk.sla_at_risk(-24 * 3_600_000).expect("sla").is_empty(),
        "nothing is a day late"
    );

    let mut events = desk.subscribe();
    // Another message from the same customer continues the same thread.
    let again = server
        .customer_writes(
            "chat",
            "news-2",
            "cust-news-1",
            "aftersales",
            "我的订单到哪了？",
        )
        .await;
    assert_eq!(again, conversation);
    let announced = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            if let Ok(SyncEvent::CustomerMessage(m)) = events.recv().await {
                return m;
            }
        }
    })
    .await;
    let announced = announced.expect("announced within 30 s");
    assert_eq!(announced.conversation_id, conversation);
    assert_eq!(announced.preview, "我的订单到哪了？");

    // The agent's own action makes the screens re-read at once, link or not:
    // the event is there before anything else can run (no await in between).
    while events.try_recv().is_ok() {}
    desk.reply(&conversation, "亲，我帮您查一下")
        .expect("replied");
    let mut announced = false;
    while let Ok(event) = events.try_recv() {
        announced |= matches!(event, SyncEvent::Changed);
    }
    assert!(announced, "a local action announces a change at once");
    assert!(
        !desk
            .sla_at_risk(24 * 3_600_000)
            .expect("sla")
            .iter()
            .any(|i| i.id == conversation),
        "answered: no longer at risk"
    );
}

#[tokio::test]
async fn the_screen_lock_survives_a_restart_and_opens_with_the_password_only() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = Workstation::open(dir.path()).expect("opens");
    ws.set_platform_defaults(platform(&server));
    ws.sign_in(&server.url, "a1003", PASSWORD)
        .await
        .expect("signs in");
    ws.lock().expect("locks");
    assert_eq!(ws.desk().err().map(|e| e.code()), Some(ErrorCode::Locked));
    let err = ws
        .set_preferences(Preferences {
            lock_after_minutes: 0,
            ..Preferences::default()
        })
        .expect_err("no turning the lock off while locked");
    assert_eq!(err.code(), ErrorCode::Locked);
    drop(ws);

    // Closing the app is no way around the lock.
    let ws = Workstation::open(dir.path()).expect("reopens");
    ws.set_platform_defaults(platform(&server));
    let resumed = ws.resume().expect("resumes").expect("a session");
    assert!(resumed.locked);
    assert!(ws.signed_in().is_some_and(|a| a.locked));
    assert!(!ws.unlock("wrong password").expect("checks").unlocked);
    assert_eq!(ws.desk().err().map(|e| e.code()), Some(ErrorCode::Locked));
    assert!(ws.unlock(PASSWORD).expect("checks").unlocked);
    assert!(ws.desk().is_ok());
    let err = ws
        .set_preferences(Preferences {
            lock_after_minutes: 241,
            ..Preferences::default()
        })
        .expect_err("out of range");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(ws.preferences(), Preferences::default(), "nothing saved");
}

#[tokio::test]
async fn practice_results_reach_the_platform_as_training_records_and_nothing_else() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = Workstation::open(dir.path()).expect("opens");
    ws.set_platform_defaults(platform(&server));
    ws.set_content_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content"));
    ws.sign_in(&server.url, "t2001", PASSWORD)
        .await
        .expect("the trainee signs in");
    eventually("synced", || async {
        ws.connection_status().last_sync_at.map(|_| ())
    })
    .await;
    let watcher = server.sign_in("t2001").await;
    let (_, live_cursor) = server.pull_all(&watcher.access_token, None).await;
    let live_tables = platform_live_tables(&server);

    let choice =
        homedesk_core::practice::session::PracticeChoice::Scenario("sc-zh-where-parcel".into());
    let trainee = ws.start_practice(&choice).await.expect("practice");
    assert!(trainee.practice);
    assert_eq!(trainee.code, "t2001", "practising as the signed-in trainee");
    let desk = ws.desk().expect("practice desk");
    let conversation = "conv-sc-zh-where-parcel";
    eventually("the practice customer arrives", || async {
        desk.conversation(conversation).expect("read").map(|_| ())
    })
    .await;
    desk.act(Action::Claim {
        conversation_id: conversation.into(),
    })
    .expect("claimed");
    desk.reply(conversation, "您好，我帮您查一下")
        .expect("replied");
    desk.wrap_up(conversation, "info_given", None, 3)
        .expect("wrapped up");
    eventually("the contact is over", || async {
        desk.practice_report(conversation)
            .expect("report")
            .filter(|r| r.disposition.is_some())
            .map(|_| ())
    })
    .await;
    assert_eq!(ws.sync_training().await.expect("uploaded"), 1);
    assert_eq!(ws.sync_training().await.expect("nothing left"), 0);

    let supervisor = server.sign_in("s3001").await;
    let (status, records) = server
        .get(
            "/v1/training-records?trainee=t2001",
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(records["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        records["records"][0]["record"]["scenario_id"],
        "sc-zh-where-parcel"
    );
    // The practice reply never reached live work.
    let (changes, _) = server
        .pull_all(&watcher.access_token, Some(live_cursor))
        .await;
    assert!(
        !changes
            .iter()
            .any(|c| format!("{c:?}").contains("我帮您查一下")),
        "practice stays out of the live change log: {changes:?}"
    );
    assert!(
        ws.stop_practice()
            .is_some_and(|a| !a.practice && a.code == "t2001")
    );
    assert_eq!(
        platform_live_tables(&server),
        live_tables,
        "the platform's live tables are unchanged by a practice session"
    );
}

/// Every row of the platform's live-work tables (records, the change log
/// and who sees it, action keys, offers), read from its database file.
fn platform_live_tables(server: &Server) -> Vec<String> {
    let db = rusqlite::Connection::open_with_flags(
        server.dir.join("platform.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("platform database");
    let mut rows = Vec::new();
    for table in [
        "records",
        "changes",
        "change_audience",
        "action_keys",
        "offers",
    ] {
        let mut statement = db
            .prepare(&format!("SELECT * FROM {table}"))
            .expect("table");
        let columns = statement.column_count();
        let mut query = statement.query([]).expect("rows");
        while let Some(row) = query.next().expect("row") {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).expect("value")))
                .collect();
            rows.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    assert!(!rows.is_empty(), "the demo world is in the live tables");
    rows.sort();
    rows
}
