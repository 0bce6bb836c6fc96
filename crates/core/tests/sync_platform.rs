//! The sync engine against the real platform binary on loopback TLS:
//! sign-in, first sync, offline actions delivered once, conflicts folded
//! back, token refresh and a revoked session, and a link that flaps while
//! 1 000 actions are produced (through a fault-injecting proxy).

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::flaky::{FlakyProxy, Mode};
use common::{Server, engine_at, engine_configured, eventually, platform_messages, quick_config};
use homedesk_core::ConnectionState;
use homedesk_core::store::{outbox, views};
use homedesk_core::sync::SyncError;
use homedesk_protocol::{Action, ConversationStatus};

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

fn reply(conversation: &str, n: usize, body: &str) -> Action {
    Action::Reply {
        conversation_id: conversation.to_owned(),
        message_id: format!("msg-{conversation}-{n}"),
        body: body.to_owned(),
        attachments: Vec::new(),
    }
}

/// Saves an action locally the way the app does, and wakes the engine.
fn act<T: homedesk_core::sync::Transport>(
    engine: &homedesk_core::sync::SyncEngine<T>,
    action: Action,
) {
    let me = engine.agent().expect("signed in");
    engine
        .store()
        .write(|tx| outbox::enqueue(tx, &me, action, homedesk_core::clock::now_ms()))
        .expect("saved locally");
    engine.publish_status();
    engine.wake();
}

#[tokio::test]
async fn first_sync_brings_the_world_and_status_goes_online() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let engine = engine_at(
        &server,
        &server.url,
        &dir.path().join("a1002.sqlite"),
        "dev-1",
    );
    assert_eq!(
        engine.status().state,
        ConnectionState::Offline,
        "not signed in yet"
    );

    let wrong = engine.sign_in("a1002", "not-the-password").await;
    assert!(
        matches!(wrong, Err(SyncError::SignInNeeded(_))),
        "{wrong:?}"
    );

    let profile = engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    assert_eq!(profile.code, "a1002");
    let mut events = engine.subscribe();
    let report = engine.sync_once().await.expect("first sync");
    assert!(report.pulled > 100, "the demo world arrives: {report:?}");
    assert!(report.pages >= 2, "several pages at limit 50: {report:?}");

    // The knowledge base came in several pages: the status bar was told
    // how far it had come, page by page, and that it was done.
    let mut progress = Vec::new();
    loop {
        match events.try_recv() {
            Ok(homedesk_core::sync::SyncEvent::Status(status)) => {
                progress.extend(status.kb_updating.map(|p| (p.applied, p.total)));
            }
            Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => break,
        }
    }
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "articles so far only grow: {progress:?}"
    );
    progress.dedup();
    assert!(progress.len() >= 2, "shown page by page: {progress:?}");
    assert!(
        progress
            .iter()
            .all(|(applied, total)| *applied > 0 && total.is_none())
    );
    assert_eq!(engine.status().kb_updating, None, "done: no progress shown");

    let status = engine.status();
    assert_eq!(status.state, ConnectionState::Online);
    assert_eq!(status.pending_actions, 0);
    assert!(status.last_sync_at.is_some());
    assert!(status.data.today > 0, "{:?}", status.data);

    let counts = engine.store().read(views::counts).expect("counts");
    let kb = counts
        .iter()
        .find(|(t, _)| *t == "kb_articles")
        .expect("kb")
        .1;
    assert!(kb >= 50, "knowledge base cached for offline use: {kb}");
    let hits = engine
        .store()
        .read(|c| {
            homedesk_core::search::search_articles(
                c,
                "退款",
                &homedesk_core::search::SearchOptions {
                    limit: 5,
                    locale: None,
                },
            )
        })
        .expect("search");
    assert!(!hits.is_empty(), "the synced knowledge base is searchable");

    // The session survives a restart: a new engine on the same store syncs
    // without the password.
    drop(engine);
    let again = engine_at(
        &server,
        &server.url,
        &dir.path().join("a1002.sqlite"),
        "dev-1",
    );
    assert_eq!(again.agent().as_deref(), Some("a1002"));
    let report = again.sync_once().await.expect("sync after restart");
    assert_eq!(report.pulled, 0, "nothing new: the cursor was kept");
}

#[tokio::test]
async fn actions_taken_offline_arrive_once_when_the_platform_returns() {
    let mut server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "offline-1",
            "cust-off-1",
            "aftersales",
            "我的退款什么时候到账？",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("a1002.sqlite");
    let engine = engine_at(&server, &server.url, &db, "dev-2");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("first sync");
    let seen = engine
        .store()
        .read(|c| views::conversation(c, &conversation))
        .expect("read")
        .expect("the queued conversation is visible");
    assert_eq!(seen.status, ConversationStatus::Queued);

    // The link goes away (the platform stops); the agent keeps working.
    let data_dir = server.dir.clone();
    let url = server.url.clone();
    server.stop();
    // `stopped` keeps the data folder alive until the end of the test.
    let stopped = server;
    act(
        &engine,
        Action::Claim {
            conversation_id: conversation.clone(),
        },
    );
    act(&engine, reply(&conversation, 1, "您好，退款已经在处理了"));
    act(&engine, reply(&conversation, 2, "预计1-3个工作日到账"));
    let view = engine
        .store()
        .read(|c| views::conversation(c, &conversation))
        .expect("read")
        .expect("still there");
    assert_eq!(
        view.assigned_to.as_deref(),
        Some("a1002"),
        "shown as mine at once"
    );
    assert_eq!(engine.store().read(outbox::count).expect("count"), 3);
    let failed = engine.sync_once().await;
    assert!(failed.is_err(), "no platform, no sync");
    assert_eq!(engine.status().state, ConnectionState::Offline);
    assert_eq!(engine.status().pending_actions, 3, "nothing lost");

    // The platform comes back on the same address and data.
    let port = url.rsplit(':').next().expect("port");
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_at(&data_dir, &["--demo", "--listen", &listen]);
    assert_eq!(server.url, url);
    // Deliver twice: the second push must not duplicate anything.
    engine.sync_once().await.expect("delivered");
    engine.sync_once().await.expect("again");
    assert_eq!(engine.status().pending_actions, 0);
    assert_eq!(
        platform_messages(&server, "a1002", &conversation).await,
        vec!["您好，退款已经在处理了", "预计1-3个工作日到账"],
        "each reply exactly once, in order"
    );
    let thread = engine
        .store()
        .read(|c| views::messages(c, &conversation))
        .expect("thread");
    assert!(
        thread.iter().all(|m| !m.pending),
        "confirmed by the platform"
    );
    drop(stopped);
}

#[tokio::test]
async fn a_reply_to_a_conversation_taken_by_someone_else_comes_back_as_a_draft() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "conflict-1",
            "cust-conf-1",
            "aftersales",
            "快递一直没到",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let engine = engine_at(
        &server,
        &server.url,
        &dir.path().join("a1002.sqlite"),
        "dev-3",
    );
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("sync");
    let mut conflicts = engine.subscribe();

    // While a1002 is "offline", a1001 takes the conversation.
    let other = server.sign_in("a1001").await;
    let results = server
        .act(
            &other.access_token,
            serde_json::json!([{"key": "claim-by-a1001", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}}]),
        )
        .await;
    assert_eq!(results[0]["status"], "applied", "{results:?}");

    act(
        &engine,
        Action::Claim {
            conversation_id: conversation.clone(),
        },
    );
    act(&engine, reply(&conversation, 1, "亲，我帮您查一下物流"));
    let report = engine.sync_once().await.expect("sync");
    assert_eq!(report.conflicts, 2, "{report:?}");

    let draft = engine
        .store()
        .read(|c| views::draft(c, &conversation))
        .expect("draft");
    assert_eq!(
        draft.as_deref(),
        Some("亲，我帮您查一下物流"),
        "the text is kept"
    );
    let open = engine.store().read(views::conflicts).expect("conflicts");
    assert_eq!(open.len(), 2);
    assert!(
        open.iter()
            .any(|c| c.code.as_deref() == Some("already_claimed")),
        "{open:?}"
    );
    let thread = engine
        .store()
        .read(|c| views::messages(c, &conversation))
        .expect("thread");
    assert!(
        thread
            .iter()
            .all(|m| m.message.body != "亲，我帮您查一下物流"),
        "the refused reply is not shown as sent"
    );
    // a1002 no longer sees the conversation as theirs.
    let view = engine
        .store()
        .read(|c| views::conversation(c, &conversation))
        .expect("read");
    assert!(view.is_none_or(|c| c.assigned_to.as_deref() != Some("a1002")));
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(homedesk_core::sync::SyncEvent::Conflicts { keys }) = conflicts.recv().await {
                return keys;
            }
        }
    })
    .await
    .expect("a conflicts event");
    assert!(!event.is_empty());
    assert!(
        platform_messages(&server, "a1001", &conversation)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn expired_tokens_refresh_and_a_revoked_session_asks_to_sign_in_without_looping() {
    let server = Server::start_demo(&["--access-ttl", "1", "--refresh-grace", "1"]);
    let dir = tempfile::tempdir().expect("tmp");
    let engine = engine_at(
        &server,
        &server.url,
        &dir.path().join("a1003.sqlite"),
        "dev-4",
    );
    engine.sign_in("a1003", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("sync");
    let old_refresh = engine
        .store()
        .read(homedesk_core::store::sync_state::session)
        .expect("read")
        .expect("session saved")
        .refresh_token;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    engine.sync_once().await.expect("refreshes and syncs");

    // Someone replays the old refresh token after the grace period: the
    // platform revokes the family, and the engine asks for the password.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, _) = server
        .post(
            "/v1/sessions/refresh",
            None,
            &serde_json::json!({"refresh_token": old_refresh}),
        )
        .await;
    assert_eq!(status.as_u16(), 401);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let err = engine.sync_once().await.expect_err("session revoked");
    assert!(matches!(err, SyncError::SignInNeeded(_)), "{err:?}");
    assert!(engine.status().sign_in_needed);

    // The run loop does not hammer the platform meanwhile.
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        engine.status().sign_in_needed,
        "still waiting for the agent"
    );
    assert_eq!(engine.status().state, ConnectionState::Offline);
    // Signing in again resumes.
    engine
        .sign_in("a1003", PASSWORD)
        .await
        .expect("signs in again");
    eventually("online again", || async {
        (engine.status().state == ConnectionState::Online && !engine.status().sign_in_needed)
            .then_some(())
    })
    .await;
    let _ = stop.send(true);
    let _ = task.await;
}

#[tokio::test]
async fn a_thousand_actions_while_the_link_flaps_arrive_exactly_once_and_in_order() {
    let server = Server::start_demo(&[]);
    let upstream: std::net::SocketAddr = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("platform address");
    let proxy = FlakyProxy::start(upstream, 20261130).await;
    let mut conversations = Vec::new();
    for i in 0..4 {
        conversations.push(
            server
                .customer_writes(
                    "chat",
                    &format!("flap-{i}"),
                    &format!("cust-flap-{i}"),
                    "aftersales",
                    "在吗",
                )
                .await,
        );
    }
    let dir = tempfile::tempdir().expect("tmp");
    let engine = engine_at(
        &server,
        &proxy.url(),
        &dir.path().join("a1002.sqlite"),
        "dev-5",
    );
    engine
        .sign_in("a1002", PASSWORD)
        .await
        .expect("signs in through the proxy");
    engine.sync_once().await.expect("first sync");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));

    for c in &conversations {
        act(
            &engine,
            Action::Claim {
                conversation_id: c.clone(),
            },
        );
    }
    // 1 000 replies spread over four conversations while the link goes
    // through good, faulty and dead spells.
    let total = 1000;
    for n in 0..total {
        match n % 200 {
            0 => proxy.set(Mode::Faulty {
                delay: 0.3,
                cut: 0.02,
                reset: 0.02,
                stall: 0.01,
            }),
            80 => proxy.set(Mode::Down),
            110 => proxy.set(Mode::Up),
            150 => proxy.set(Mode::Faulty {
                delay: 0.1,
                cut: 0.05,
                reset: 0.03,
                stall: 0.0,
            }),
            _ => {}
        }
        let conversation = &conversations[n % conversations.len()];
        act(&engine, reply(conversation, n, &format!("reply {n:04}")));
        if n % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    proxy.set(Mode::Up);
    eventually("the outbox drains", || async {
        // Read the store itself, not the status bar's last figure.
        (engine.store().read(outbox::count).expect("count") == 0).then_some(())
    })
    .await;
    let _ = stop.send(true);
    let _ = task.await;

    let stats = &proxy.stats;
    let faults = stats.cuts.load(std::sync::atomic::Ordering::Relaxed)
        + stats.resets.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        faults > 5,
        "the link really flapped ({faults} cuts and resets)"
    );
    let conflicts = engine.store().read(views::conflicts).expect("conflicts");
    assert!(conflicts.is_empty(), "nothing refused: {conflicts:?}");
    for (i, conversation) in conversations.iter().enumerate() {
        let expected: Vec<String> = (0..total)
            .filter(|n| n % conversations.len() == i)
            .map(|n| format!("reply {n:04}"))
            .collect();
        let got = platform_messages(&server, "a1002", conversation).await;
        let missing: Vec<&String> = expected.iter().filter(|e| !got.contains(e)).collect();
        let doubled: Vec<&String> = expected
            .iter()
            .filter(|e| got.iter().filter(|g| g == e).count() > 1)
            .collect();
        assert_eq!(
            got.len(),
            expected.len(),
            "conversation {i}: each reply exactly once; missing {missing:?}, doubled {doubled:?}"
        );
        assert_eq!(
            got, expected,
            "conversation {i}: in the order they were written"
        );
    }
}

#[tokio::test]
async fn a_platform_with_an_untrusted_certificate_is_named_as_such() {
    let server = Server::start_demo(&[]);
    // No CA file: the development CA is not among the system's roots.
    let transport = homedesk_core::sync::HttpTransport::new(&homedesk_core::sync::HttpConfig::new(
        server.url.clone(),
    ))
    .expect("transport");
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(
        homedesk_core::store::Store::open(
            dir.path().join("a.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let engine =
        homedesk_core::sync::SyncEngine::new(store, transport, common::quick_config("dev-6"))
            .expect("engine");
    let err = engine
        .sign_in("a1001", PASSWORD)
        .await
        .expect_err("untrusted");
    assert!(
        matches!(
            err,
            SyncError::Transport(homedesk_core::sync::TransportError::Certificate(_))
        ),
        "{err:?}"
    );
}

/// Like `HttpTransport`, but the event stream never opens (a proxy that
/// buffers or drops long-lived answers).
struct NoEvents(homedesk_core::sync::HttpTransport);

impl homedesk_core::sync::Transport for NoEvents {
    async fn sign_in(
        &self,
        request: &homedesk_protocol::SignIn,
    ) -> Result<homedesk_protocol::Session, homedesk_core::sync::TransportError> {
        self.0.sign_in(request).await
    }
    async fn refresh(
        &self,
        refresh_token: &str,
    ) -> Result<homedesk_protocol::Session, homedesk_core::sync::TransportError> {
        self.0.refresh(refresh_token).await
    }
    async fn push(
        &self,
        access_token: &str,
        batch: &homedesk_protocol::ActionBatch,
    ) -> Result<Vec<homedesk_protocol::ActionResult>, homedesk_core::sync::TransportError> {
        self.0.push(access_token, batch).await
    }
    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<homedesk_core::sync::PulledPage, homedesk_core::sync::TransportError> {
        self.0.pull(access_token, cursor, limit).await
    }
    async fn events(
        &self,
        _access_token: &str,
    ) -> Result<homedesk_core::sync::EventStream, homedesk_core::sync::TransportError> {
        Err(homedesk_core::sync::TransportError::Unreachable(
            "event stream blocked".into(),
        ))
    }
    fn report_link(&self, link: homedesk_core::sync::LinkQuality) {
        self.0.report_link(link);
    }
}

async fn wait_for_conversation<T: homedesk_core::sync::Transport>(
    engine: &homedesk_core::sync::SyncEngine<T>,
    conversation: &str,
) {
    eventually("the new conversation reaches the local store", || async {
        engine
            .store()
            .read(|c| views::conversation(c, conversation))
            .expect("read")
            .map(|_| ())
    })
    .await;
}

#[tokio::test]
async fn a_poke_on_the_event_stream_pulls_at_once_and_polling_covers_when_it_is_down() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");

    // With the event stream: no polling for minutes, yet news arrives.
    let store = Arc::new(
        homedesk_core::store::Store::open(
            dir.path().join("a.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let mut config = common::quick_config("dev-7");
    config.poll_interval = Duration::from_secs(600);
    config.safety_poll = Duration::from_secs(600);
    let engine = homedesk_core::sync::SyncEngine::new(
        store,
        common::transport(&server, &server.url),
        config,
    )
    .expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown.clone()));
    eventually("first sync", || async {
        engine.status().last_sync_at.map(|_| ())
    })
    .await;
    eventually("the event stream opens", || async {
        engine.listening().then_some(())
    })
    .await;
    let poked = server
        .customer_writes("chat", "poke-1", "cust-poke", "aftersales", "有人吗")
        .await;
    wait_for_conversation(&engine, &poked).await;

    // Without it: the poll timer brings news.
    let store = Arc::new(
        homedesk_core::store::Store::open(
            dir.path().join("b.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let mut config = common::quick_config("dev-8");
    config.poll_interval = Duration::from_millis(300);
    let polling = homedesk_core::sync::SyncEngine::new(
        store,
        NoEvents(common::transport(&server, &server.url)),
        config,
    )
    .expect("engine");
    polling.sign_in("a1002", PASSWORD).await.expect("signs in");
    let polling_task = tokio::spawn(Arc::clone(&polling).run(shutdown));
    eventually("first sync", || async {
        polling.status().last_sync_at.map(|_| ())
    })
    .await;
    let polled = server
        .customer_writes("chat", "poll-1", "cust-poll", "aftersales", "在不在")
        .await;
    wait_for_conversation(&polling, &polled).await;
    let _ = stop.send(true);
    let _ = task.await;
    let _ = polling_task.await;
}

/// Pulls (`GET /v1/changes`) the platform has answered (its /metrics).
async fn pulls_answered(server: &Server) -> u64 {
    let text = server.metrics().await;
    let wanted = "homedesk_http_requests_total{route=\"/v1/changes\",status=\"200\"}";
    text.lines()
        .filter_map(|line| line.strip_prefix(wanted))
        .filter_map(|value| value.trim().parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

#[tokio::test]
async fn on_a_steady_stream_news_and_replies_arrive_without_a_pull() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(
        homedesk_core::store::Store::open(
            dir.path().join("a.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let mut config = common::quick_config("dev-inline");
    config.poll_interval = Duration::from_secs(600);
    config.safety_poll = Duration::from_secs(600);
    let engine = homedesk_core::sync::SyncEngine::new(
        store,
        common::transport(&server, &server.url),
        config,
    )
    .expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));
    eventually("the event stream opens", || async {
        engine.listening().then_some(())
    })
    .await;
    // The pull on connect is done once the desk holds the demo world.
    eventually("first sync", || async {
        engine.status().last_sync_at.map(|_| ())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pulls_before = pulls_answered(&server).await;

    // Customers write: each message comes on the stream itself.
    let mut conversations = Vec::new();
    for i in 0..3 {
        let id = server
            .customer_writes(
                "chat",
                &format!("inline-{i}"),
                &format!("cust-inline-{i}"),
                "aftersales",
                "请问退款什么时候到账？",
            )
            .await;
        wait_for_conversation(&engine, &id).await;
        conversations.push(id);
    }
    // The agent claims and replies: each push's answer brings what
    // changed, the pull that would follow is not needed.
    act(
        &engine,
        Action::Claim {
            conversation_id: conversations[0].clone(),
        },
    );
    act(
        &engine,
        reply(&conversations[0], 1, "您好，退款已经在处理了。"),
    );
    eventually("the outbox is empty", || async {
        (engine.store().read(outbox::count).expect("count") == 0).then_some(())
    })
    .await;
    // A customer answers the reply: also on the stream.
    server
        .customer_writes(
            "chat",
            "inline-answer",
            "cust-inline-0",
            "aftersales",
            "好的，谢谢",
        )
        .await;
    eventually("the customer's answer reaches the desk", || async {
        let thread = engine
            .store()
            .read(|c| views::messages(c, &conversations[0]))
            .expect("read");
        (thread.len() >= 3).then_some(())
    })
    .await;
    assert_eq!(
        pulls_answered(&server).await,
        pulls_before,
        "no pull was needed on a steady stream"
    );
    // (Read through the platform's own pull, so after the count.)
    assert_eq!(
        platform_messages(&server, "a1002", &conversations[0]).await,
        vec!["您好，退款已经在处理了。".to_owned()],
        "the reply is on the platform, once"
    );
    let _ = stop.send(true);
    let _ = task.await;
}

#[tokio::test]
async fn a_slow_link_shows_as_degraded_and_a_dead_one_as_offline() {
    let server = Server::start_demo(&[]);
    let upstream: std::net::SocketAddr = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("address");
    let proxy = FlakyProxy::start(upstream, 7).await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(
        homedesk_core::store::Store::open(
            dir.path().join("a.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let mut config = common::quick_config("dev-9");
    config.slow_request = Duration::from_millis(150);
    let engine = homedesk_core::sync::SyncEngine::new(
        store,
        common::transport(&server, &proxy.url()),
        config,
    )
    .expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("sync");
    assert_eq!(engine.status().state, ConnectionState::Online);

    // Every chunk delayed: slower than the threshold.
    proxy.set(Mode::Faulty {
        delay: 1.0,
        cut: 0.0,
        reset: 0.0,
        stall: 0.0,
    });
    for _ in 0..3 {
        engine.sync_once().await.expect("slow but works");
    }
    assert_eq!(engine.status().state, ConnectionState::Degraded);

    proxy.set(Mode::Down);
    assert!(engine.sync_once().await.is_err());
    let status = engine.status();
    assert_eq!(status.state, ConnectionState::Offline);
    assert!(status.problem.is_some(), "says why");

    // Back up, but it failed a moment ago: degraded (flapping), not online.
    proxy.set(Mode::Up);
    engine.sync_once().await.expect("works again");
    assert_eq!(engine.status().state, ConnectionState::Degraded);
}

#[tokio::test]
async fn the_event_stream_and_every_request_share_one_connection() {
    // On a link that drops, every new connection costs a TLS handshake
    // (about 1 KB with the HTTP/2 set-up, twice that without resumption):
    // the stream and the requests ride on one HTTP/2 connection.
    let server = Server::start_demo(&[]);
    let upstream: std::net::SocketAddr = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("address");
    let proxy = FlakyProxy::start(upstream, 11).await;
    let dir = tempfile::tempdir().expect("tmp");
    let engine = engine_at(
        &server,
        &proxy.url(),
        &dir.path().join("a.sqlite"),
        "dev-one",
    );
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));
    eventually("the event stream opens", || async {
        engine.listening().then_some(())
    })
    .await;
    eventually("first sync", || async {
        engine.status().last_sync_at.map(|_| ())
    })
    .await;
    let work = |round: usize| {
        let engine = Arc::clone(&engine);
        let server = &server;
        async move {
            let id = server
                .customer_writes(
                    "chat",
                    &format!("one-conn-{round}"),
                    &format!("cust-one-conn-{round}"),
                    "aftersales",
                    "我的快递到哪了？",
                )
                .await;
            wait_for_conversation(&engine, &id).await;
            act(
                &engine,
                Action::Claim {
                    conversation_id: id.clone(),
                },
            );
            act(&engine, reply(&id, round, "您好，我帮您查一下物流。"));
            eventually("the outbox is empty", || async {
                (engine.store().read(outbox::count).expect("count") == 0).then_some(())
            })
            .await;
        }
    };
    work(1).await;
    assert_eq!(
        proxy.stats.connections.load(Ordering::Relaxed),
        1,
        "sign-in, the first sync, the event stream, a customer's message, a claim and a reply on one connection"
    );

    // The link drops and comes back: the desk reconnects, and again one
    // connection carries everything.
    proxy.unplug();
    eventually("the stream is lost", || async {
        (!engine.listening()).then_some(())
    })
    .await;
    proxy.set(Mode::Up);
    eventually("the event stream opens again", || async {
        engine.listening().then_some(())
    })
    .await;
    work(2).await;
    let after_outage = proxy.stats.connections.load(Ordering::Relaxed);
    work(3).await;
    assert_eq!(
        proxy.stats.connections.load(Ordering::Relaxed),
        after_outage,
        "after the outage, more work opens no connection"
    );
    let _ = stop.send(true);
    let _ = task.await;
}

#[tokio::test]
async fn a_reconnect_after_an_outage_in_which_nothing_changed_pulls_once() {
    // The engine pulls when its stream (re)connects, and the stream opens
    // with a poke at the log's end. The reconnect also changes the link
    // judgement (it failed a moment ago), which wakes the loop too: one
    // pass covers both wakes.
    reconnects_pull_once(false).await;
}

#[tokio::test]
async fn the_poke_a_stream_opens_with_asks_nothing_when_the_desk_is_there() {
    // The stream's opening poke comes after the reconnect's pull is done
    // (as on a slow link): the desk's cursor is at the poke's position
    // already, so the poke is old news and asks nothing.
    reconnects_pull_once(true).await;
}

/// Three outages of a desk whose stream is otherwise quiet; each
/// reconnect must make exactly one pull. `late_first_event`: the stream's
/// events reach the engine 300 ms late.
async fn reconnects_pull_once(late_first_event: bool) {
    let server = Server::start_demo(&[]);
    let upstream: std::net::SocketAddr = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("address");
    let proxy = FlakyProxy::start(upstream, 12).await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(
        homedesk_core::store::Store::open(
            dir.path().join("a.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let mut config = common::quick_config("dev-reconnect");
    // No timer pulls in this test: only the stream and its pokes.
    config.poll_interval = Duration::from_secs(600);
    config.safety_poll = Duration::from_secs(600);
    let engine = homedesk_core::sync::SyncEngine::new(
        store,
        LateEvents {
            http: common::transport(&server, &proxy.url()),
            late: if late_first_event {
                Duration::from_millis(300)
            } else {
                Duration::ZERO
            },
        },
        config,
    )
    .expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));
    eventually("the event stream opens", || async {
        engine.listening().then_some(())
    })
    .await;
    eventually("first sync", || async {
        engine.status().last_sync_at.map(|_| ())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;

    for outage in 1..=3 {
        let pulls_before = pulls_answered(&server).await;
        proxy.unplug();
        eventually("the stream is lost", || async {
            (!engine.listening()).then_some(())
        })
        .await;
        proxy.set(Mode::Up);
        eventually("the event stream opens again", || async {
            engine.listening().then_some(())
        })
        .await;
        eventually("the reconnect's pull is answered", || async {
            (pulls_answered(&server).await > pulls_before).then_some(())
        })
        .await;
        // Time for a second pull to show, were one made.
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            pulls_answered(&server).await,
            pulls_before + 1,
            "outage {outage}: one pull on reconnect, none for the stream's opening poke"
        );
    }

    // News is still news: a customer's message reaches the desk.
    let id = server
        .customer_writes(
            "chat",
            "after-outages",
            "cust-after-outages",
            "aftersales",
            "在吗？",
        )
        .await;
    wait_for_conversation(&engine, &id).await;
    let _ = stop.send(true);
    let _ = task.await;
}

/// `HttpTransport`, with every event stream's events held back `late`
/// after it opens.
struct LateEvents {
    http: homedesk_core::sync::HttpTransport,
    late: Duration,
}

impl homedesk_core::sync::Transport for LateEvents {
    async fn sign_in(
        &self,
        request: &homedesk_protocol::SignIn,
    ) -> Result<homedesk_protocol::Session, homedesk_core::sync::TransportError> {
        self.http.sign_in(request).await
    }
    async fn refresh(
        &self,
        refresh_token: &str,
    ) -> Result<homedesk_protocol::Session, homedesk_core::sync::TransportError> {
        self.http.refresh(refresh_token).await
    }
    async fn push(
        &self,
        access_token: &str,
        batch: &homedesk_protocol::ActionBatch,
    ) -> Result<Vec<homedesk_protocol::ActionResult>, homedesk_core::sync::TransportError> {
        self.http.push(access_token, batch).await
    }
    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<homedesk_core::sync::PulledPage, homedesk_core::sync::TransportError> {
        self.http.pull(access_token, cursor, limit).await
    }
    async fn events(
        &self,
        access_token: &str,
    ) -> Result<homedesk_core::sync::EventStream, homedesk_core::sync::TransportError> {
        use futures_util::StreamExt;
        let events = self.http.events(access_token).await?;
        let late = self.late;
        let wait = futures_util::stream::once(tokio::time::sleep(late)).filter_map(|()| async {
            None::<Result<homedesk_protocol::ServerEvent, homedesk_core::sync::TransportError>>
        });
        Ok(Box::pin(wait.chain(events)))
    }
    fn report_link(&self, link: homedesk_core::sync::LinkQuality) {
        self.http.report_link(link);
    }
}

/// Like `HttpTransport`, but the first push and the first event-stream
/// connection panic (a bug somewhere below the engine).
struct PanicsOnce {
    http: homedesk_core::sync::HttpTransport,
    push_panicked: std::sync::atomic::AtomicBool,
    events_panicked: std::sync::atomic::AtomicBool,
}

impl homedesk_core::sync::Transport for PanicsOnce {
    async fn sign_in(
        &self,
        request: &homedesk_protocol::SignIn,
    ) -> Result<homedesk_protocol::Session, homedesk_core::sync::TransportError> {
        self.http.sign_in(request).await
    }
    async fn refresh(
        &self,
        refresh_token: &str,
    ) -> Result<homedesk_protocol::Session, homedesk_core::sync::TransportError> {
        self.http.refresh(refresh_token).await
    }
    async fn push(
        &self,
        access_token: &str,
        batch: &homedesk_protocol::ActionBatch,
    ) -> Result<Vec<homedesk_protocol::ActionResult>, homedesk_core::sync::TransportError> {
        if !self.push_panicked.swap(true, Ordering::SeqCst) {
            panic!("test: the first push panics");
        }
        self.http.push(access_token, batch).await
    }
    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<homedesk_core::sync::PulledPage, homedesk_core::sync::TransportError> {
        self.http.pull(access_token, cursor, limit).await
    }
    async fn events(
        &self,
        access_token: &str,
    ) -> Result<homedesk_core::sync::EventStream, homedesk_core::sync::TransportError> {
        if !self.events_panicked.swap(true, Ordering::SeqCst) {
            panic!("test: the first event-stream connection panics");
        }
        self.http.events(access_token).await
    }
    fn report_link(&self, link: homedesk_core::sync::LinkQuality) {
        self.http.report_link(link);
    }
}

/// Release builds unwind (decision 0032): a panic in a sync pass or in the
/// event listener must not end syncing quietly. The reply saved before the
/// panic still reaches the platform, once, and the event stream opens.
#[tokio::test]
async fn a_panic_in_a_sync_pass_or_the_listener_does_not_stop_syncing() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes("chat", "panic-1", "cust-panic", "aftersales", "在吗？")
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(
        homedesk_core::store::Store::open(
            dir.path().join("a1002.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let engine = homedesk_core::sync::SyncEngine::new(
        store,
        PanicsOnce {
            http: common::transport(&server, &server.url),
            push_panicked: std::sync::atomic::AtomicBool::new(false),
            events_panicked: std::sync::atomic::AtomicBool::new(false),
        },
        common::quick_config("dev-panic"),
    )
    .expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    act(
        &engine,
        Action::Claim {
            conversation_id: conversation.clone(),
        },
    );
    act(&engine, reply(&conversation, 1, "在的，您请说"));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));
    eventually("the outbox empties after the panicking push", || async {
        (engine.status().pending_actions == 0 && engine.status().last_sync_at.is_some())
            .then_some(())
    })
    .await;
    eventually(
        "the event stream opens after the panicking connection",
        || async { engine.listening().then_some(()) },
    )
    .await;
    assert_eq!(
        platform_messages(&server, "a1002", &conversation).await,
        vec!["在的，您请说"],
        "the reply exactly once"
    );
    let _ = stop.send(true);
    let ended = task.await;
    assert!(ended.is_ok(), "the sync loop ended normally: {ended:?}");
}

#[tokio::test]
async fn a_desk_is_back_within_seconds_of_its_link_however_long_it_was_down() {
    // A platform that cannot be reached at all (the village link is down)
    // is tried again within `unreachable_max`; the long backoff is for a
    // platform that answers it is busy. Here any other failure would wait
    // an hour, so a desk that came back waited for the link, not a timer.
    let server = Server::start_demo(&[]);
    let upstream: std::net::SocketAddr = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("address");
    let proxy = FlakyProxy::start(upstream, 13).await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = quick_config("dev-back");
    config.backoff = homedesk_core::sync::Backoff {
        base: Duration::from_secs(3600),
        max: Duration::from_secs(3600),
        unreachable_max: Duration::from_millis(200),
    };
    let engine = engine_configured(&server, &proxy.url(), &dir.path().join("a.sqlite"), config);
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));
    eventually("the event stream opens", || async {
        engine.listening().then_some(())
    })
    .await;
    eventually("first sync", || async {
        engine.status().last_sync_at.map(|_| ())
    })
    .await;

    proxy.unplug();
    eventually("the stream is lost", || async {
        (!engine.listening()).then_some(())
    })
    .await;
    // While the link is down the agent answers a customer already there:
    // the reply waits, and its push fails (more than once).
    let id = server
        .customer_writes("chat", "back-1", "cust-back-1", "aftersales", "在吗？")
        .await;
    proxy.set(Mode::Up);
    wait_for_conversation(&engine, &id).await;
    proxy.unplug();
    eventually("the stream is lost again", || async {
        (!engine.listening()).then_some(())
    })
    .await;
    act(
        &engine,
        Action::Claim {
            conversation_id: id.clone(),
        },
    );
    act(&engine, reply(&id, 1, "在的，您请说。"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        engine.store().read(outbox::count).expect("count") > 0,
        "nothing gets through a dead link"
    );

    proxy.set(Mode::Up);
    eventually("the reply reaches the platform", || async {
        (engine.store().read(outbox::count).expect("count") == 0).then_some(())
    })
    .await;
    eventually("the event stream opens again", || async {
        engine.listening().then_some(())
    })
    .await;
    let _ = stop.send(true);
    let _ = task.await;
}
