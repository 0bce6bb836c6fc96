//! Bad input from the platform: malformed pages, wrong types, enormous
//! answers and hostile HTML are refused or sanitized with a reason, and the
//! local data stays intact.
//!
//! The "platform" here is a small HTTP server that answers whatever each
//! test tells it to, reached through the real `HttpTransport` (plain HTTP on
//! loopback via the explicit development switch; the TLS side is covered by
//! the tests against the real platform).

use std::sync::{Arc, Mutex};

use homedesk_core::store::{Store, sync_state, views};
use homedesk_core::sync::{
    HttpConfig, HttpTransport, SyncConfig, SyncEngine, SyncError, Transport, TransportError,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Answers: path prefix → (status, body bytes).
type Routes = Arc<Mutex<Vec<(String, u16, Vec<u8>)>>>;

async fn fake_platform(routes: Routes) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                let _ = stream.read_exact(&mut body).await;
                let answer = routes
                    .lock()
                    .expect("routes")
                    .iter()
                    .find(|(prefix, _, _)| path.starts_with(prefix.as_str()))
                    .map(|(_, status, body)| (*status, body.clone()));
                let (status, body) = answer.unwrap_or((404, b"{}".to_vec()));
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}")
}

fn session_json() -> Value {
    json!({
        "access_token": "t", "access_expires_at": 4_000_000_000_000i64,
        "refresh_token": "r", "refresh_expires_at": 4_000_000_000_000i64,
        "agent": {"code": "a1001", "name": "测试", "role": "agent", "queues": ["aftersales"],
                  "skills": [], "max_chats": 4, "presence": "available"},
        "server_time": 1_700_000_000_000i64
    })
}

fn article(id: &str, body: &str) -> Value {
    json!({"seq": 1, "op": "upsert", "entity": "kb_article", "id": id, "data": {
        "id": id, "locale": "zh-CN", "title": "退款说明", "body": body,
        "tags": ["退款"], "category": "refund", "updated_at": 1
    }})
}

fn page(changes: Vec<Value>, cursor: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "changes": changes, "next_cursor": cursor, "has_more": false, "server_time": 1_700_000_000_000i64
    }))
    .expect("json")
}

async fn setup() -> (Routes, Arc<SyncEngine<HttpTransport>>, tempfile::TempDir) {
    let routes: Routes = Arc::new(Mutex::new(vec![(
        "/v1/sessions".into(),
        201,
        serde_json::to_vec(&session_json()).expect("json"),
    )]));
    let url = fake_platform(routes.clone()).await;
    let mut http = HttpConfig::new(url);
    http.allow_insecure_loopback = true;
    let transport = HttpTransport::new(&http).expect("transport");
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(
        Store::open(
            dir.path().join("a.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let engine = SyncEngine::new(store, transport, SyncConfig::new("hostile")).expect("engine");
    engine.sign_in("a1001", "pw").await.expect("signs in");
    (routes, engine, dir)
}

fn answer(routes: &Routes, prefix: &str, status: u16, body: Vec<u8>) {
    let mut routes = routes.lock().expect("routes");
    routes.retain(|(p, _, _)| p != prefix);
    routes.insert(0, (prefix.to_owned(), status, body));
}

#[tokio::test]
async fn hostile_html_in_an_article_is_stripped_before_it_reaches_the_webview() {
    let (routes, engine, _dir) = setup().await;
    let hostile = "# 退款\n\n<script>alert('x')</script>\n\n<img src=x onerror=\"steal()\">\n\n[点我](javascript:steal())\n\n<iframe src=\"https://evil.example\"></iframe>\n\n**三天内**到账";
    answer(
        &routes,
        "/v1/changes",
        200,
        page(vec![article("kb-evil", hostile)], "c.1"),
    );
    engine.sync_once().await.expect("sync");
    let view = engine
        .store()
        .read(|c| views::article(c, "kb-evil"))
        .expect("read")
        .expect("stored");
    let html = view.html.to_lowercase();
    for bad in ["<script", "onerror", "javascript:", "<iframe", "steal()"] {
        assert!(!html.contains(bad), "{bad} must be stripped: {html}");
    }
    assert!(
        html.contains("<strong>三天内</strong>"),
        "ordinary Markdown survives: {html}"
    );
}

#[tokio::test]
async fn a_malformed_page_is_refused_and_nothing_local_changes() {
    let (routes, engine, _dir) = setup().await;
    answer(
        &routes,
        "/v1/changes",
        200,
        page(vec![article("kb-1", "正文")], "c.1"),
    );
    engine.sync_once().await.expect("first sync");
    let before = engine.store().read(sync_state::get).expect("state");
    assert_eq!(before.cursor.as_deref(), Some("c.1"));

    let bad_pages: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"<html>captive portal</html>".to_vec()),
        ("wrong type", br#"{"changes": "none", "next_cursor": "c.2", "has_more": false, "server_time": 1}"#.to_vec()),
        ("missing field", br#"{"changes": [], "has_more": false, "server_time": 1}"#.to_vec()),
        ("unknown field", br#"{"changes": [], "next_cursor": "c.2", "has_more": false, "server_time": 1, "x": 1}"#.to_vec()),
        ("empty cursor", br#"{"changes": [], "next_cursor": "", "has_more": false, "server_time": 1}"#.to_vec()),
    ];
    for (what, body) in bad_pages {
        answer(&routes, "/v1/changes", 200, body);
        let err = engine.sync_once().await.expect_err(what);
        assert!(
            matches!(err, SyncError::Transport(TransportError::Malformed(_))),
            "{what}: {err:?}"
        );
        let after = engine.store().read(sync_state::get).expect("state");
        assert_eq!(after.cursor, before.cursor, "{what}: cursor not moved");
        assert!(
            engine
                .store()
                .read(|c| views::article(c, "kb-1"))
                .expect("read")
                .is_some(),
            "{what}: local data intact"
        );
    }
}

#[tokio::test]
async fn one_unreadable_change_is_skipped_with_a_reason_and_the_rest_applied() {
    let (routes, engine, _dir) = setup().await;
    let wrong_type = json!({"seq": 2, "op": "upsert", "entity": "kb_article", "id": "kb-bad",
        "data": {"id": "kb-bad", "locale": "zh-CN", "title": 42, "body": "x", "tags": [], "category": "c", "updated_at": 1}});
    let unknown_entity =
        json!({"seq": 3, "op": "upsert", "entity": "spaceship", "id": "s", "data": {}});
    answer(
        &routes,
        "/v1/changes",
        200,
        page(
            vec![article("kb-ok", "好的"), wrong_type, unknown_entity],
            "c.9",
        ),
    );
    let report = engine.sync_once().await.expect("sync goes on");
    assert_eq!((report.pulled, report.skipped), (1, 2), "{report:?}");
    let state = engine.store().read(sync_state::get).expect("state");
    assert_eq!(state.skipped_changes, 2, "counted for `sync status`");
    assert_eq!(state.cursor.as_deref(), Some("c.9"));
    assert!(
        engine
            .store()
            .read(|c| views::article(c, "kb-ok"))
            .expect("read")
            .is_some()
    );
    assert!(
        engine
            .store()
            .read(|c| views::article(c, "kb-bad"))
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn an_enormous_answer_is_refused_without_reading_it_all() {
    let (routes, engine, _dir) = setup().await;
    let huge = vec![b' '; homedesk_core::sync::http::MAX_ANSWER_BYTES + 1];
    answer(&routes, "/v1/changes", 200, huge);
    let err = engine.sync_once().await.expect_err("too big");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn error_answers_are_sorted_for_the_engine() {
    let (routes, engine, _dir) = setup().await;
    answer(
        &routes,
        "/v1/changes",
        503,
        br#"{"code":"unavailable","message":"maintenance"}"#.to_vec(),
    );
    let err = engine.sync_once().await.expect_err("503");
    assert!(
        matches!(
            err,
            SyncError::Transport(TransportError::Server { status: 503, .. })
        ),
        "{err:?}"
    );

    // 401 on pull, and 401 again after a refresh: sign in again, no loop.
    answer(
        &routes,
        "/v1/changes",
        401,
        br#"{"code":"unauthorized","message":"token expired"}"#.to_vec(),
    );
    answer(
        &routes,
        "/v1/sessions/refresh",
        401,
        br#"{"code":"unauthorized","message":"revoked"}"#.to_vec(),
    );
    let err = engine.sync_once().await.expect_err("401");
    assert!(matches!(err, SyncError::SignInNeeded(_)), "{err:?}");
    assert!(engine.status().sign_in_needed);
}

#[test]
fn plain_http_is_refused_unless_loopback_and_explicitly_allowed() {
    let err =
        HttpTransport::new(&HttpConfig::new("http://platform.example:8443")).expect_err("http");
    assert!(err.to_string().contains("https://"), "{err}");
    let mut dev = HttpConfig::new("http://platform.example:8443");
    dev.allow_insecure_loopback = true;
    assert!(
        HttpTransport::new(&dev).is_err(),
        "only loopback may use http"
    );
    let mut local = HttpConfig::new("http://127.0.0.1:8443");
    local.allow_insecure_loopback = true;
    assert!(HttpTransport::new(&local).is_ok());
    assert!(HttpTransport::new(&HttpConfig::new("not a url")).is_err());
    let mut missing_ca = HttpConfig::new("https://127.0.0.1:8443");
    missing_ca.ca_file = Some("/nonexistent/ca.pem".into());
    let err = HttpTransport::new(&missing_ca).expect_err("missing CA file");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}

#[tokio::test]
async fn signing_out_keeps_the_outbox_and_stops_syncing_until_the_next_sign_in() {
    let (routes, engine, _dir) = setup().await;
    answer(&routes, "/v1/changes", 200, page(vec![], "c.1"));
    engine.sync_once().await.expect("sync");
    engine
        .store()
        .write(|tx| {
            homedesk_core::store::outbox::enqueue(
                tx,
                "a1001",
                homedesk_protocol::Action::Presence {
                    presence: homedesk_protocol::Presence::OnBreak,
                },
                1,
            )
        })
        .expect("saved");
    engine.sign_out().await.expect("signed out");
    let status = engine.status();
    assert_eq!(status.state, homedesk_core::ConnectionState::Offline);
    assert_eq!(status.pending_actions, 1, "kept for the next sign-in");
    let err = engine.sync_once().await.expect_err("no session");
    assert!(matches!(err, SyncError::SignInNeeded(_)), "{err:?}");
    assert!(
        engine
            .store()
            .read(sync_state::session)
            .expect("read")
            .is_none(),
        "no token left on disk"
    );
}

/// An open conversation of a1001's whose customer sent two photos.
fn conversation_with_photos(photos: [&str; 2]) -> Vec<Value> {
    let attachment = |id: &str| json!({"id": id, "media_type": "image/jpeg", "bytes": 1000, "width": 40, "height": 30});
    vec![
        json!({"seq": 1, "op": "upsert", "entity": "conversation", "id": "c-photos", "data": {
            "id": "c-photos", "channel": "chat", "queue": "aftersales", "customer_id": "cu-1",
            "subject": "桃子坏了", "category": null, "status": "active", "assigned_to": "a1001",
            "priority": "normal", "created_at": 1, "first_response_due": 2, "resolve_due": 3,
            "first_response_at": null, "last_message_at": 1, "last_message_preview": "看图",
            "disposition": null, "version": 1
        }}),
        json!({"seq": 2, "op": "upsert", "entity": "message", "id": "m-photos", "data": {
            "id": "m-photos", "conversation_id": "c-photos", "author": "customer", "agent": null,
            "kind": "text", "body": "看图", "sent_at": 1,
            "attachments": [attachment(photos[0]), attachment(photos[1])]
        }}),
    ]
}

#[tokio::test]
async fn a_thumbnail_that_is_not_an_image_or_too_large_is_never_kept_or_shown() {
    use homedesk_core::photos::{MediaError, MediaKind, MediaRequest};
    use homedesk_core::store::attachments;
    let (routes, engine, _dir) = setup().await;
    let html = "ab".repeat(32);
    let huge = "cd".repeat(32);
    answer(
        &routes,
        "/v1/changes",
        200,
        page(conversation_with_photos([&html, &huge]), "c.1"),
    );
    answer(
        &routes,
        &format!("/v1/attachments/{html}/thumbnail"),
        200,
        b"<script>steal()</script>".to_vec(),
    );
    let mut oversized = vec![0xFF, 0xD8, 0xFF, 0xE0];
    oversized.resize(homedesk_protocol::MAX_THUMBNAIL_BYTES + 1, 0);
    answer(
        &routes,
        &format!("/v1/attachments/{huge}/thumbnail"),
        200,
        oversized,
    );
    let report = engine
        .sync_once()
        .await
        .expect("a bad photo does not fail the sync");
    assert_eq!(report.thumbnails, 0, "{report:?}");
    assert_eq!(
        engine.store().read(attachments::usage).expect("usage"),
        attachments::Usage::default(),
        "nothing kept"
    );
    for id in [&html, &huge] {
        let shown = engine
            .media(&MediaRequest {
                kind: MediaKind::Thumb,
                id: id.clone(),
            })
            .await;
        assert!(
            matches!(shown, Err(MediaError::NotFound(_))),
            "{id}: never served to the webview, and not worth a retry: {shown:?}"
        );
    }
}

/// A platform that goes silent: requests to `/v1/changes` get no answer at
/// all, `/v1/conversations/…` gets its head and half a body, and the event
/// stream gets its head, then a heartbeat only after `quiet`.
async fn silent_platform(quiet: std::time::Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                if path.starts_with("/v1/events") {
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
                        .await;
                    tokio::time::sleep(quiet).await;
                    let _ = stream
                        .write_all(b"event: heartbeat\ndata: {\"type\":\"heartbeat\",\"server_time\":1}\n\n")
                        .await;
                } else if path.starts_with("/v1/conversations") {
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\":")
                        .await;
                }
                // Then nothing, with the connection open.
                tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_request_gets_its_idle_timeout_and_a_quiet_event_stream_its_heartbeats() {
    // The event stream and the requests share one client (one connection
    // to the platform), but not one timeout: a request whose answer stops
    // coming is given up after `idle_timeout`, while the stream may be
    // silent for longer (it waits for heartbeats).
    let idle = std::time::Duration::from_secs(1);
    let url = silent_platform(idle * 3).await;
    let mut http = HttpConfig::new(url);
    http.allow_insecure_loopback = true;
    http.idle_timeout = idle;
    let transport = HttpTransport::new(&http).expect("transport");
    // Bounds only so that a failure ends the test: the behaviour checked is
    // the kind of answer, never its time.
    let bound = std::time::Duration::from_secs(20);

    let silent = tokio::time::timeout(bound, transport.pull("t", None, 10))
        .await
        .expect("a request with no answer is given up, not waited for forever");
    match silent {
        Err(TransportError::Unreachable(why)) => {
            assert!(why.contains("sent nothing"), "{why}");
        }
        other => panic!("expected the link to be called gone, got {other:?}"),
    }

    let half = tokio::time::timeout(bound, transport.fetch_conversation("t", "c1"))
        .await
        .expect("an answer that stops half-way is given up");
    assert!(
        matches!(half, Err(TransportError::Unreachable(_))),
        "{half:?}"
    );

    let mut stream = tokio::time::timeout(bound, transport.events("t"))
        .await
        .expect("the stream opens")
        .expect("the stream opens");
    let first = tokio::time::timeout(bound, futures_util::StreamExt::next(&mut stream))
        .await
        .expect("the heartbeat comes");
    assert!(
        matches!(
            first,
            Some(Ok(homedesk_protocol::ServerEvent::Heartbeat {
                server_time: Some(1)
            }))
        ),
        "a stream silent for three times the requests' idle timeout is still open: {first:?}"
    );
}

/// A platform whose event stream sends comment heartbeats, then one event;
/// it keeps the stream's request line in `asked`.
async fn commenting_platform(asked: Arc<Mutex<String>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        *asked.lock().expect("lock") = head.lines().next().unwrap_or("").to_owned();
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
            .await;
        for _ in 0..3 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let _ = stream.write_all(b":\n").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let _ = stream
            .write_all(b"event: heartbeat\ndata: {\"type\":\"heartbeat\",\"server_time\":7}\n\n")
            .await;
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn comment_heartbeats_are_heartbeats_without_a_time() {
    // The desk asks for comment heartbeats (a few bytes each, no event);
    // its transport still reports each as a heartbeat, so the engine's
    // "three heartbeats' time without one" does not end a live stream.
    let asked = Arc::new(Mutex::new(String::new()));
    let url = commenting_platform(Arc::clone(&asked)).await;
    let mut http = HttpConfig::new(url);
    http.allow_insecure_loopback = true;
    let transport = HttpTransport::new(&http).expect("transport");
    let bound = std::time::Duration::from_secs(20);
    let mut stream = tokio::time::timeout(bound, transport.events("t"))
        .await
        .expect("the stream opens")
        .expect("the stream opens");
    assert!(
        asked.lock().expect("lock").contains("heartbeat=comment"),
        "{}",
        asked.lock().expect("lock")
    );
    let mut untimed = 0;
    loop {
        let next = tokio::time::timeout(bound, futures_util::StreamExt::next(&mut stream))
            .await
            .expect("something comes");
        match next {
            Some(Ok(homedesk_protocol::ServerEvent::Heartbeat { server_time: None })) => {
                untimed += 1;
            }
            Some(Ok(homedesk_protocol::ServerEvent::Heartbeat {
                server_time: Some(7),
            })) => break,
            other => panic!("expected heartbeats, got {other:?}"),
        }
    }
    // Three comments, each its own chunk (50 ms apart); at least one, should
    // the reader take two at once.
    assert!((1..=3).contains(&untimed), "{untimed} comment heartbeats");
}

/// A platform from before comment heartbeats: `heartbeat=` on the event
/// stream is an unknown parameter (400); it keeps each stream request's
/// line in `asked`.
async fn platform_before_comments(asked: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let asked = Arc::clone(&asked);
            tokio::spawn(async move {
                loop {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    asked.lock().expect("lock").push(line.clone());
                    if line.contains("heartbeat=") {
                        let body = r#"{"code":"invalid_request","message":"heartbeat: not a parameter of /v1/events (changes)"}"#;
                        let _ = stream
                            .write_all(
                                format!(
                                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                                    body.len()
                                )
                                .as_bytes(),
                            )
                            .await;
                        continue;
                    }
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\nevent: heartbeat\ndata: {\"type\":\"heartbeat\",\"server_time\":9}\n\n")
                        .await;
                    tokio::time::sleep(std::time::Duration::from_secs(120)).await;
                    return;
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_platform_from_before_comment_heartbeats_still_gives_a_stream() {
    // A desk updated before its platform: the stream's `heartbeat=comment`
    // is refused, so the desk asks again without it, and from then on.
    let asked = Arc::new(Mutex::new(Vec::new()));
    let url = platform_before_comments(Arc::clone(&asked)).await;
    let mut http = HttpConfig::new(url);
    http.allow_insecure_loopback = true;
    let transport = HttpTransport::new(&http).expect("transport");
    let bound = std::time::Duration::from_secs(20);
    for round in 0..2 {
        let mut stream = tokio::time::timeout(bound, transport.events("t"))
            .await
            .expect("the stream opens")
            .expect("the stream opens");
        let first = tokio::time::timeout(bound, futures_util::StreamExt::next(&mut stream))
            .await
            .expect("the heartbeat comes");
        assert!(
            matches!(
                first,
                Some(Ok(homedesk_protocol::ServerEvent::Heartbeat {
                    server_time: Some(9)
                }))
            ),
            "round {round}: {first:?}"
        );
    }
    let asked = asked.lock().expect("lock").clone();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(asked[0].contains("heartbeat=comment"), "{asked:?}");
    assert!(
        !asked[1].contains("heartbeat") && !asked[2].contains("heartbeat"),
        "asked once, then not again: {asked:?}"
    );
}

#[tokio::test]
async fn a_platform_that_takes_no_connection_is_told_from_one_that_does_not_answer() {
    // The engine retries within seconds only when the platform's address
    // takes no TCP connection (a SYN is all a try costs); a platform that
    // took the connection and did not answer keeps the long backoff.
    let idle = std::time::Duration::from_secs(1);
    let silent = silent_platform(std::time::Duration::from_secs(60)).await;
    let mut http = HttpConfig::new(silent);
    http.allow_insecure_loopback = true;
    http.idle_timeout = idle;
    let transport = HttpTransport::new(&http).expect("transport");
    let answer = transport.pull("t", None, 10).await;
    assert!(
        matches!(answer, Err(TransportError::Unreachable(_))),
        "{answer:?}"
    );
    assert!(
        !transport.cannot_connect(),
        "it took the connection: the platform, not the link"
    );

    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut http = HttpConfig::new(format!("http://127.0.0.1:{port}"));
    http.allow_insecure_loopback = true;
    http.idle_timeout = idle;
    let transport = HttpTransport::new(&http).expect("transport");
    assert!(!transport.cannot_connect(), "nothing tried yet");
    let answer = transport.pull("t", None, 10).await;
    assert!(
        matches!(answer, Err(TransportError::Unreachable(_))),
        "{answer:?}"
    );
    assert!(transport.cannot_connect(), "no connection: the link");
}

/// A network namespace with one veth pair to the host, for a link that can
/// die without a word; removed on drop. `None` (the test then skips) where
/// namespaces cannot be made (not root, no `ip`).
struct SilentLink {
    name: String,
    peer: String,
    ns_ip: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .map_err(|err| format!("ip {}: {err}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl SilentLink {
    fn create() -> Result<SilentLink, String> {
        let pid = std::process::id();
        let x = pid % 16384;
        let (c, d) = (x / 64, (x % 64) * 4);
        let link = SilentLink {
            name: format!("homedesk-test-{pid}"),
            peer: format!("hdt{pid}n"),
            ns_ip: format!("10.215.{c}.{}", d + 2),
        };
        let host = format!("hdt{pid}h");
        ip(&["netns", "add", &link.name])?;
        ip(&[
            "link", "add", &host, "type", "veth", "peer", "name", &link.peer, "netns", &link.name,
        ])?;
        ip(&[
            "addr",
            "add",
            &format!("10.215.{c}.{}/30", d + 1),
            "dev",
            &host,
        ])?;
        ip(&["link", "set", &host, "up"])?;
        ip(&[
            "-n",
            &link.name,
            "addr",
            "add",
            &format!("{}/30", link.ns_ip),
            "dev",
            &link.peer,
        ])?;
        ip(&["-n", &link.name, "link", "set", &link.peer, "up"])?;
        ip(&["-n", &link.name, "link", "set", "lo", "up"])?;
        Ok(link)
    }

    /// Packets into the namespace are dropped from now on; nothing is
    /// closed or reset, as when a village link dies.
    fn die(&self) -> Result<(), String> {
        ip(&["-n", &self.name, "link", "set", &self.peer, "down"])
    }
}

impl Drop for SilentLink {
    fn drop(&mut self) {
        if let Ok(out) = std::process::Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", pid])
                    .output();
            }
        }
        let _ = ip(&["netns", "del", &self.name]);
    }
}

#[tokio::test]
async fn a_link_that_dies_without_a_word_is_let_go() {
    // A village link often just stops: no reset, no close. HTTP/2 keeps a
    // connection until told it is gone, so the desk must not wait for the
    // kernel's 15 minutes of retransmissions: the relay's connection is
    // closed once what it sent goes unacknowledged (TCP_USER_TIMEOUT) or
    // the silence outlasts its keepalive probes, and the next request
    // connects anew (decision 0049).
    let link = match SilentLink::create() {
        Ok(link) => link,
        Err(why) => {
            eprintln!("SKIPPED: no network namespace here ({why})");
            return;
        }
    };
    let port = 7000 + (std::process::id() % 1000) as u16;
    let echo = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
c, _ = s.accept()
while True:
    d = c.recv(4096)
    if not d:
        break
    c.sendall(d)
"#;
    let mut server = std::process::Command::new("ip")
        .args(["netns", "exec", &link.name, "python3", "-c", echo])
        .arg(&link.ns_ip)
        .arg(port.to_string())
        .spawn()
        .expect("an echo server in the namespace");
    let bound = std::time::Duration::from_secs(20);
    let relay = homedesk_core::sync::wire::Relay::start(
        &link.ns_ip,
        port,
        std::time::Duration::from_secs(3),
        homedesk_core::sync::WireMeter::new(),
    )
    .expect("relay");
    // The echo server may take a moment to listen.
    let mut desk = None;
    for _ in 0..50 {
        let mut unix = tokio::net::UnixStream::connect(relay.socket())
            .await
            .expect("the relay's socket");
        if unix.write_all(b"hello").await.is_ok() {
            let mut buf = [0u8; 5];
            if let Ok(Ok(_)) = tokio::time::timeout(bound, unix.read_exact(&mut buf)).await {
                assert_eq!(&buf, b"hello");
                desk = Some(unix);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut desk = desk.expect("the echo answers through the relay");

    link.die().expect("the link dies");
    // A request goes into the dead link.
    desk.write_all(b"are you there?")
        .await
        .expect("written locally");
    // Bound only so that a failure ends the test: without the relay's
    // watch the connection would last about 15 minutes.
    let mut buf = [0u8; 64];
    let ended = tokio::time::timeout(std::time::Duration::from_secs(120), desk.read(&mut buf))
        .await
        .expect("the relay lets the dead connection go");
    assert!(
        matches!(ended, Ok(0) | Err(_)),
        "nothing can come back over a dead link: {ended:?}"
    );
    let _ = server.kill();
    let _ = server.wait();
}
