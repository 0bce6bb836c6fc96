//! The agent's desk against the real platform: sign-in errors the agent can
//! act on, the queue, claiming and replying, working offline after a restart,
//! and the offline screen lock.

mod common;

use std::time::Duration;

use common::{Server, eventually, platform_messages};
use homedesk_core::ErrorCode;
use homedesk_core::desk::{Desk, PlatformConfig, QueueScope};
use homedesk_protocol::Action;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

fn platform(server: &Server) -> PlatformConfig {
    PlatformConfig {
        url: server.url.clone(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    }
}

#[tokio::test]
async fn sign_in_failures_say_what_the_agent_can_do_about_them() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let config = platform(&server);

    let wrong = Desk::sign_in(
        dir.path(),
        &config,
        "pc-1",
        "a1001",
        "guess",
        homedesk_core::clock::system(),
    )
    .await;
    assert_eq!(
        wrong.err().map(|e| e.code()),
        Some(ErrorCode::WrongPassword)
    );

    let untrusted = PlatformConfig {
        ca_file: None,
        ..config.clone()
    };
    let err = Desk::sign_in(
        dir.path(),
        &untrusted,
        "pc-1",
        "a1001",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await;
    assert_eq!(
        err.err().map(|e| e.code()),
        Some(ErrorCode::UntrustedCertificate)
    );

    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let nowhere = PlatformConfig {
        url: format!("https://127.0.0.1:{port}"),
        ..config.clone()
    };
    let err = Desk::sign_in(
        dir.path(),
        &nowhere,
        "pc-1",
        "a1001",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await;
    assert_eq!(err.err().map(|e| e.code()), Some(ErrorCode::Unreachable));

    let bad_code = Desk::sign_in(
        dir.path(),
        &config,
        "pc-1",
        "../etc",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await;
    assert_eq!(
        bad_code.err().map(|e| e.code()),
        Some(ErrorCode::InvalidInput)
    );
}

/// A platform that throttles sign-ins after too many failures: the agent
/// hears "too many attempts" and how long to wait, not "wrong password" or
/// "the platform cannot be reached", and the right password is no way round.
#[tokio::test]
async fn a_throttled_sign_in_says_how_long_to_wait() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("platform");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(
        data.join("platform.toml"),
        "[sign_in]\nfree_failures = 1\nlockout_after = 2\nlockout = 600\n",
    )
    .expect("config");
    let server = Server::start_at(&data, &["--demo"]);
    let dir = tempfile::tempdir().expect("tmp");
    let config = platform(&server);
    let sign_in = |password: &'static str| {
        Desk::sign_in(
            dir.path(),
            &config,
            "pc-1",
            "a1001",
            password,
            homedesk_core::clock::system(),
        )
    };

    for _ in 0..2 {
        let wrong = sign_in("guess").await;
        assert_eq!(
            wrong.err().map(|e| e.code()),
            Some(ErrorCode::WrongPassword)
        );
    }
    // Locked out for 600 s: even the right password is refused unchecked.
    let Err(err) = sign_in(PASSWORD).await else {
        panic!("throttled: even the right password is refused");
    };
    assert_eq!(err.code(), ErrorCode::TooManyAttempts, "{err}");
    let body = homedesk_core::ErrorBody::from(&err);
    let wait = body.retry_after_seconds.expect("the wait is passed on");
    assert!((500..=600).contains(&wait), "about ten minutes: {wait}");
}

#[tokio::test]
async fn queue_claim_reply_then_offline_after_a_restart() {
    let mut server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "desk-1",
            "cust-desk-1",
            "aftersales",
            "桃子收到就坏了，怎么办？",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let config = platform(&server);
    let desk = Desk::sign_in(
        dir.path(),
        &config,
        "pc-2",
        "a1002",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await
    .expect("signs in");
    eventually("the contact shows in the team queue", || async {
        let queue = desk.queue(QueueScope::Unassigned).expect("queue");
        queue
            .iter()
            .any(|item| item.id == conversation)
            .then_some(())
    })
    .await;
    let item = desk
        .queue(QueueScope::Unassigned)
        .expect("queue")
        .into_iter()
        .find(|i| i.id == conversation)
        .expect("listed");
    assert_eq!(item.customer_name, "测试顾客");

    desk.act(Action::Claim {
        conversation_id: conversation.clone(),
    })
    .expect("claimed");
    assert!(
        desk.queue(QueueScope::Mine)
            .expect("queue")
            .iter()
            .any(|i| i.id == conversation),
        "mine at once, before the platform answers"
    );
    desk.reply(&conversation, "亲，非常抱歉，麻烦拍一下桃子的照片发给我")
        .expect("replied");
    desk.note(&conversation, "客户情绪激动，已安抚")
        .expect("noted");
    // Demo agents start as the platform has them (offline until they say).
    assert_eq!(
        desk.presence().expect("presence"),
        homedesk_protocol::Presence::Offline
    );
    desk.act(Action::Presence {
        presence: homedesk_protocol::Presence::OnBreak,
    })
    .expect("on break");
    assert_eq!(
        desk.presence().expect("presence"),
        homedesk_protocol::Presence::OnBreak,
        "shown at once"
    );

    // Invalid actions never reach the outbox.
    let before = desk.status().pending_actions;
    for bad in [
        Action::Reply {
            conversation_id: conversation.clone(),
            message_id: "m-empty".into(),
            body: "   ".into(),
            attachments: Vec::new(),
        },
        Action::WrapUp {
            conversation_id: conversation.clone(),
            disposition: "made_up".into(),
            note: None,
            after_contact_secs: 0,
        },
    ] {
        let err = desk.act(bad).expect_err("refused");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
    }
    assert_eq!(desk.status().pending_actions, before);

    eventually("delivered", || async {
        (desk.status().pending_actions == 0).then_some(())
    })
    .await;
    assert_eq!(
        platform_messages(&server, "a1002", &conversation).await,
        vec!["亲，非常抱歉，麻烦拍一下桃子的照片发给我"]
    );
    let detail = desk
        .conversation(&conversation)
        .expect("read")
        .expect("there");
    assert_eq!(
        detail.customer.expect("customer").phone_masked,
        "138****1234"
    );
    assert!(
        detail.messages.len() >= 2,
        "customer's message and the reply"
    );

    // The app restarts while the platform is down: the agent continues.
    drop(desk);
    server.stop();
    let vault = homedesk_core::vault::Vault::default();
    let db = homedesk_core::paths::agent_db(dir.path(), "a1002").expect("path");
    let now = homedesk_core::clock::now_ms();
    assert!(
        vault
            .try_unlock(&db, "wrong", now)
            .expect("checks")
            .opened()
            .is_none(),
        "a wrong password opens nothing"
    );
    let key = vault
        .try_unlock(&db, PASSWORD, now)
        .expect("checks")
        .opened()
        .expect("the password opens the store offline");
    let desk = Desk::resume(
        dir.path(),
        &config,
        "pc-2",
        "a1002",
        &key,
        homedesk_core::clock::system(),
        &homedesk_core::data_usage::DataUsage::in_memory(homedesk_core::clock::system()),
    )
    .expect("opens")
    .expect("a saved session");
    desk.reply(&conversation, "我们会给您补发一箱新鲜的")
        .expect("saved offline");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = desk.status();
    assert_eq!(status.pending_actions, 1, "waits in the outbox: {status:?}");
    assert_eq!(status.state, homedesk_core::ConnectionState::Offline);
    let hits = desk
        .search_articles("退款", 5)
        .expect("search works offline");
    assert!(!hits.is_empty());
    assert!(desk.article(&hits[0].id).expect("read").is_some());
    // A canned reply: the order number is unknown for this customer, so the
    // required field stays empty and rendering refuses until it is typed.
    let hits = desk.search_canned_replies("sd", 5).expect("canned");
    let waiting = hits.iter().find(|h| h.shortcut == "sd").expect("稍等查询");
    let mut template = desk
        .reply_template(&waiting.id, Some(&conversation))
        .expect("read")
        .expect("exists");
    assert!(homedesk_core::desk::render_reply(&template.body, &template.fields).is_err());
    template.fields[0].value = "5188 2233".into();
    let text = homedesk_core::desk::render_reply(&template.body, &template.fields).expect("filled");
    assert!(text.contains("5188 2233") && !text.contains('{'), "{text}");
    let greeting = desk
        .reply_template("cr-zh-greeting", Some(&conversation))
        .expect("read")
        .expect("exists");
    assert_eq!(greeting.fields[0].value, "陈建国", "the agent's own name");
    let replies = desk.search_canned_replies("退款", 5).expect("canned");
    assert!(!replies.is_empty());
    assert!(desk.canned_reply(&replies[0].id).expect("read").is_some());

    desk.sign_out().await.expect("signed out");
    drop(desk);
    assert!(
        Desk::resume(
            dir.path(),
            &config,
            "pc-2",
            "a1002",
            &key,
            homedesk_core::clock::system(),
            &homedesk_core::data_usage::DataUsage::in_memory(homedesk_core::clock::system()),
        )
        .expect("opens")
        .is_none(),
        "after signing out, the platform is needed again"
    );
}

#[tokio::test]
async fn the_workstation_remembers_the_platform_and_resumes_the_last_agent() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = homedesk_core::Workstation::open(dir.path()).expect("opens");
    ws.set_platform_defaults(platform(&server));
    assert_eq!(
        ws.sign_in_defaults().platform_url.as_deref(),
        Some(server.url.as_str()),
        "the configured platform is offered"
    );
    assert_eq!(
        ws.desk().err().map(|e| e.code()),
        Some(ErrorCode::NotSignedIn)
    );
    let agent = ws
        .sign_in(&server.url, "a1003", PASSWORD)
        .await
        .expect("signs in");
    assert_eq!(agent.code, "a1003");
    assert_eq!(ws.signed_in().map(|a| a.code).as_deref(), Some("a1003"));
    eventually("synced", || async {
        ws.connection_status().last_sync_at.map(|_| ())
    })
    .await;
    drop(ws);

    // Next start: same folder, straight back to work without the password.
    let ws = homedesk_core::Workstation::open(dir.path()).expect("reopens");
    ws.set_platform_defaults(platform(&server));
    let defaults = ws.sign_in_defaults();
    assert_eq!(defaults.agent.as_deref(), Some("a1003"));
    let resumed = ws.resume().expect("resumes").expect("a session");
    assert_eq!(resumed.code, "a1003");
    assert!(resumed.locked, "the app starts locked");
    assert_eq!(
        ws.desk().err().map(|e| e.code()),
        Some(ErrorCode::Locked),
        "nothing of the agent's is open before the password"
    );
    assert!(ws.unlock(PASSWORD).expect("checks").unlocked);
    assert!(ws.desk().is_ok());
    ws.sign_out().await.expect("signs out");
    assert!(ws.desk().is_err());
    assert!(ws.resume().expect("reads").is_none());
}
