//! The platform end to end, the change log and events: paging and cursors,
//! event pokes and SLA deadlines, bad input that writes nothing, and a crash
//! mid-stream that loses no acknowledged action.

mod support;

use homedesk_protocol::{ChangeBody, Record, ServerEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use support::*;

#[tokio::test]
async fn the_change_log_pages_with_cuts_and_ends_where_the_server_is() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1001").await;
    let token = agent.access_token.as_str();

    // Thousands of entries: customers writing into a1001's queues.
    let mut handles = Vec::new();
    for worker in 0..8 {
        let url = server.url.clone();
        let client = server.client.clone();
        let ingress = server.ingress_token();
        handles.push(tokio::spawn(async move {
            for i in 0..250 {
                let queue = if i % 2 == 0 { "presales" } else { "aftersales" };
                let msg = ingress_message(
                    &format!("bulk-{worker}-{i}"),
                    &format!("cust-bulk-{worker}-{}", i % 40),
                    queue,
                    &format!("第{i}条消息：请问什么时候发货？"),
                );
                let r = client
                    .post(format!("{url}/v1/ingress/chat"))
                    .bearer_auth(&ingress)
                    .json(&msg)
                    .send()
                    .await
                    .expect("ingress");
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        }));
    }
    for h in handles {
        h.await.expect("writer");
    }

    // Pull in small pages, with new changes landing between pages.
    let mut mirror: HashMap<(String, String), Value> = HashMap::new();
    let mut cursor: Option<String> = None;
    let mut last_seq = 0;
    let mut pages = 0;
    loop {
        let page = server.page(token, cursor.as_deref(), 250).await;
        pages += 1;
        for change in &page.changes {
            assert!(
                change.seq > last_seq,
                "changes arrive in strictly increasing order"
            );
            last_seq = change.seq;
            match &change.body {
                ChangeBody::Upsert(record) => {
                    mirror.insert(
                        (record.kind().as_str().into(), record.id().into()),
                        record.to_json(),
                    );
                }
                ChangeBody::Delete { entity, id } => {
                    mirror.remove(&(entity.as_str().into(), id.clone()));
                }
            }
        }
        if pages % 3 == 0 {
            server
                .customer_writes(
                    "chat",
                    &format!("cut-{pages}"),
                    "cust-cut",
                    "presales",
                    "中途又来一条",
                )
                .await;
        }
        cursor = Some(page.next_cursor.clone());
        if !page.has_more {
            break;
        }
    }
    assert!(
        pages >= 10,
        "several thousand entries need many pages of 250 (got {pages})"
    );
    // The workstation's next sync picks up whatever landed after its last page.
    let (tail, _) = server.pull_all(token, cursor.clone()).await;
    for change in tail {
        if let ChangeBody::Upsert(record) = change.body {
            mirror.insert(
                (record.kind().as_str().into(), record.id().into()),
                record.to_json(),
            );
        }
    }

    // The mirror equals a fresh full pull: nothing lost, nothing stale.
    let (fresh, _) = server.pull_all(token, None).await;
    let mut truth: HashMap<(String, String), Value> = HashMap::new();
    for change in fresh {
        if let ChangeBody::Upsert(record) = change.body {
            truth.insert(
                (record.kind().as_str().into(), record.id().into()),
                record.to_json(),
            );
        }
    }
    let messages = truth.keys().filter(|(k, _)| k == "message").count();
    assert!(
        messages >= 2000,
        "the messages of a1001's queues are visible ({messages})"
    );
    let missing: Vec<_> = truth.keys().filter(|k| !mirror.contains_key(*k)).collect();
    let extra: Vec<_> = mirror.keys().filter(|k| !truth.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the paged mirror holds exactly what a fresh pull holds; missing {missing:?}, extra {extra:?}"
    );
    assert!(mirror == truth, "and the same versions of everything");

    // A cursor at the end gives an empty page and stays usable.
    let (_, end) = server.pull_all(token, cursor).await;
    let tail = server.page(token, Some(&end), 250).await;
    assert!(tail.changes.is_empty() && !tail.has_more);
    assert_eq!(tail.next_cursor, end);
}

#[tokio::test]
async fn unknown_cursors_are_refused_so_the_client_resyncs() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let page = server.page(&token, None, 1).await;
    let (instance, _) = page.next_cursor.split_once('.').expect("instance.seq");
    for cursor in [
        "garbage".to_owned(),
        "otherdb.1".to_owned(),
        format!("{instance}.999999999"),
        format!("{instance}.-1"),
    ] {
        let (status, body) = server
            .get(&format!("/v1/changes?cursor={cursor}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::GONE, "cursor {cursor}: {body}");
        assert_eq!(body["code"], "unknown_cursor");
    }
    for query in ["limit=0", "limit=abc", "since=5"] {
        let (status, body) = server
            .get(&format!("/v1/changes?{query}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["code"], "invalid_request");
    }
}

#[tokio::test]
async fn events_poke_on_changes_and_sla_deadlines_follow_the_queue() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await; // aftersales + logistics
    let mut events = server.events(&agent.access_token, None).await;
    let first = events
        .wait_for("initial changes", |e| {
            matches!(e, ServerEvent::Changes { .. })
        })
        .await;
    let ServerEvent::Changes {
        latest_seq: before, ..
    } = first
    else {
        unreachable!()
    };
    let conversation = server
        .customer_writes(
            "ticket",
            "sla-1",
            "cust-sla",
            "logistics",
            "包裹显示签收但我没收到",
        )
        .await;
    events
        .wait_for(
            "a poke after the new contact",
            |e| matches!(e, ServerEvent::Changes { latest_seq, .. } if *latest_seq > before),
        )
        .await;
    let (changes, _) = server.pull_all(&agent.access_token, None).await;
    let queue = changes
        .iter()
        .find_map(|c| match &c.body {
            ChangeBody::Upsert(Record::Queue(q)) if q.id == "logistics" => Some(q.clone()),
            _ => None,
        })
        .expect("queues are visible");
    let conv = changes
        .iter()
        .rev()
        .find_map(|c| match &c.body {
            ChangeBody::Upsert(Record::Conversation(conv)) if conv.id == conversation => {
                Some(conv.clone())
            }
            _ => None,
        })
        .expect("the conversation is visible to the queue's agent");
    // Deadlines count the queue's opening hours only.
    assert_eq!(
        conv.first_response_due,
        queue
            .business_hours
            .add_open_time(conv.created_at, queue.first_response_secs)
    );
    assert_eq!(
        conv.resolve_due,
        queue
            .business_hours
            .add_open_time(conv.created_at, queue.resolve_secs)
    );
    assert!(
        conv.first_response_due - conv.created_at >= i64::from(queue.first_response_secs) * 1000
    );
    assert_eq!(conv.channel, homedesk_protocol::Channel::Ticket);

    // A presales-only agent does not see a logistics conversation.
    let other = server.sign_in("a1001").await;
    let (theirs, _) = server.pull_all(&other.access_token, None).await;
    assert!(
        !theirs
            .iter()
            .any(|c| matches!(&c.body, ChangeBody::Upsert(r) if r.id() == conversation)),
        "conversations are filtered to the agent's queues"
    );
}

/// The latest position of the log as a supervisor sees it: unchanged means
/// nothing was written.
async fn log_position(server: &Server, token: &str) -> String {
    server.pull_all(token, None).await.1
}

#[tokio::test]
async fn bad_input_gets_the_error_shape_and_writes_nothing() {
    let server = Server::start_demo(&[]);
    let supervisor = server.sign_in("s3001").await.access_token;
    let agent = server.sign_in("a1001").await.access_token;
    let before = log_position(&server, &supervisor).await;
    let ingress = server.ingress_token();
    // Just over each limit: a client that already sent its whole body reads the
    // answer reliably (far larger bodies get the connection closed mid-send).
    let over_session = "x".repeat(17 * 1024);
    let over_ingress = "x".repeat(257 * 1024);

    struct Case {
        name: &'static str,
        path: &'static str,
        token: Option<String>,
        body: Vec<u8>,
        content_type: &'static str,
        status: StatusCode,
        code: &'static str,
        mentions: &'static str,
    }
    let json_ct = "application/json";
    let cases = vec![
        Case { name: "sessions: malformed JSON", path: "/v1/sessions", token: None, body: b"{\"agent\":".to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_json", mentions: "" },
        Case { name: "sessions: wrong type", path: "/v1/sessions", token: None, body: br#"{"agent":1001,"password":"x","device_id":"d"}"#.to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "agent" },
        Case { name: "sessions: unknown field", path: "/v1/sessions", token: None, body: br#"{"agent":"a1001","password":"x","device_id":"d","role":"admin"}"#.to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "role" },
        Case { name: "sessions: oversize", path: "/v1/sessions", token: None, body: format!(r#"{{"agent":"a1001","password":"{over_session}","device_id":"d"}}"#).into_bytes(), content_type: json_ct, status: StatusCode::PAYLOAD_TOO_LARGE, code: "payload_too_large", mentions: "" },
        Case { name: "sessions: not JSON content type", path: "/v1/sessions", token: None, body: b"agent=a1001".to_vec(), content_type: "application/x-www-form-urlencoded", status: StatusCode::UNSUPPORTED_MEDIA_TYPE, code: "unsupported_media_type", mentions: "" },
        Case { name: "refresh: missing field", path: "/v1/sessions/refresh", token: None, body: b"{}".to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "refresh_token" },
        Case { name: "refresh: unknown token", path: "/v1/sessions/refresh", token: None, body: br#"{"refresh_token":"made-up"}"#.to_vec(), content_type: json_ct, status: StatusCode::UNAUTHORIZED, code: "unauthorized", mentions: "" },
        Case { name: "actions: no token", path: "/v1/actions", token: None, body: br#"{"actions":[]}"#.to_vec(), content_type: json_ct, status: StatusCode::UNAUTHORIZED, code: "unauthorized", mentions: "" },
        Case { name: "actions: made-up token", path: "/v1/actions", token: Some("not-a-token".into()), body: br#"{"actions":[]}"#.to_vec(), content_type: json_ct, status: StatusCode::UNAUTHORIZED, code: "unauthorized", mentions: "" },
        Case { name: "actions: malformed JSON", path: "/v1/actions", token: Some(agent.clone()), body: b"[[[".to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_json", mentions: "" },
        Case { name: "actions: wrong type deep inside", path: "/v1/actions", token: Some(agent.clone()), body: br#"{"actions":[{"key":"bad-type-0001","created_at":"now","action":{"type":"presence","presence":"available"}}]}"#.to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "actions[0].created_at" },
        Case { name: "actions: unknown action", path: "/v1/actions", token: Some(agent.clone()), body: br#"{"actions":[{"key":"bad-type-0002","created_at":1,"action":{"type":"refund_everything"}}]}"#.to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "refund_everything" },
        Case { name: "actions: empty batch", path: "/v1/actions", token: Some(agent.clone()), body: br#"{"actions":[]}"#.to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "empty" },
        Case { name: "actions: oversize", path: "/v1/actions", token: Some(agent.clone()), body: format!(r#"{{"actions":[{{"key":"big-body-0001","created_at":1,"action":{{"type":"internal_note","conversation_id":"c","message_id":"m","body":"{}"}}}}]}}"#, "x".repeat(1024 * 1024 + 100)).into_bytes(), content_type: json_ct, status: StatusCode::PAYLOAD_TOO_LARGE, code: "payload_too_large", mentions: "" },
        Case { name: "ingress: no token", path: "/v1/ingress/chat", token: None, body: b"{}".to_vec(), content_type: json_ct, status: StatusCode::UNAUTHORIZED, code: "unauthorized", mentions: "" },
        Case { name: "ingress: an agent token is not the ingress token", path: "/v1/ingress/chat", token: Some(agent.clone()), body: b"{}".to_vec(), content_type: json_ct, status: StatusCode::UNAUTHORIZED, code: "unauthorized", mentions: "" },
        Case { name: "ingress: unknown channel", path: "/v1/ingress/fax", token: Some(ingress.clone()), body: serde_json::to_vec(&ingress_message("e-fax", "c", "presales", "hi")).unwrap_or_default(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "fax" },
        Case { name: "ingress: unknown queue", path: "/v1/ingress/chat", token: Some(ingress.clone()), body: serde_json::to_vec(&ingress_message("e-q", "c", "no-such-queue", "hi")).unwrap_or_default(), content_type: json_ct, status: StatusCode::NOT_FOUND, code: "not_found", mentions: "queue" },
        Case { name: "ingress: empty body text", path: "/v1/ingress/chat", token: Some(ingress.clone()), body: serde_json::to_vec(&ingress_message("e-empty", "c", "presales", "  ")).unwrap_or_default(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "body" },
        Case { name: "ingress: oversize", path: "/v1/ingress/chat", token: Some(ingress.clone()), body: serde_json::to_vec(&ingress_message("e-big", "c", "presales", &over_ingress)).unwrap_or_default(), content_type: json_ct, status: StatusCode::PAYLOAD_TOO_LARGE, code: "payload_too_large", mentions: "" },
        Case { name: "ingress: missing field", path: "/v1/ingress/chat", token: Some(ingress.clone()), body: br#"{"external_id":"x"}"#.to_vec(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "customer" },
    ];
    for case in cases {
        let mut request = server
            .client
            .post(format!("{}{}", server.url, case.path))
            .header("Content-Type", case.content_type)
            .body(case.body);
        if let Some(token) = &case.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: no answer: {e}", case.name));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, case.status, "{}: {body}", case.name);
        assert_eq!(body["code"], case.code, "{}: {body}", case.name);
        let message = body["message"].as_str().unwrap_or("");
        assert!(!message.is_empty(), "{}: a message for people", case.name);
        assert!(
            message.contains(case.mentions),
            "{}: the message names {:?}: {message}",
            case.name,
            case.mentions
        );
    }

    // GET endpoints without or with a bad token.
    for path in ["/v1/changes", "/v1/events"] {
        let (status, body) = server.get(path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["code"], "unauthorized");
        let (status, _) = server.get(path, Some("forged")).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{path} with a forged token"
        );
    }
    let (status, body) = server.get("/v1/nothing-here", None).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let (status, body) = server
        .request(reqwest::Method::PUT, "/v1/actions", None, None)
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::METHOD_NOT_ALLOWED, json!("method_not_allowed"))
    );
    let response = server
        .client
        .get(format!("{}/v1/health", server.url))
        .header("Homedesk-Protocol", "2")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], "unsupported_protocol");

    assert_eq!(
        log_position(&server, &supervisor).await,
        before,
        "no refused request wrote anything"
    );
    // The idempotency key of the refused batch was not stored either.
    let ok = server
        .act(&agent, json!([{"key": "bad-type-0001", "created_at": 1, "action": {"type": "presence", "presence": "available"}}]))
        .await;
    assert_eq!(
        ok[0]["status"], "applied",
        "a key from a refused request is still free"
    );
}

#[tokio::test]
async fn a_crash_mid_stream_loses_no_acknowledged_action_and_applies_none_twice() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut server = Server::start_at(tmp.path(), &["--demo"]);
    let agent = server.sign_in("a1002").await;
    let conversation = server
        .customer_writes(
            "chat",
            "crash-1",
            "cust-crash",
            "aftersales",
            "退款什么时候到账",
        )
        .await;
    let claim = server
        .act(&agent.access_token, json!([{"key": "crash-claim-1", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}}]))
        .await;
    assert_eq!(claim[0]["status"], "applied");

    // The outbox: replies, each its own request, sent while the power fails.
    // More than can be sent before the crash, on any machine.
    const OUTBOX: usize = 1000;
    let outbox: Vec<Value> = (0..OUTBOX)
        .map(|i| json!({"key": format!("crash-reply-{i:04}"), "created_at": i, "action": {"type": "reply", "conversation_id": conversation, "message_id": format!("m-crash-{i:04}"), "body": format!("第{i}条回复")}}))
        .collect();
    let mut acknowledged = Vec::new();
    let url = server.url.clone();
    let client = server.client.clone();
    let token = agent.access_token.clone();
    let sender = {
        let outbox = outbox.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for entry in outbox {
                let answer = client
                    .post(format!("{url}/v1/actions"))
                    .bearer_auth(&token)
                    .json(&json!({"actions": [entry.clone()]}))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status() == StatusCode::OK => {
                        acked.push(entry["key"].as_str().unwrap_or("").to_owned())
                    }
                    _ => break,
                }
            }
            acked
        })
    };
    eventually("some replies to be acknowledged", || async {
        let (changes, _) = server.pull_all(&agent.access_token, None).await;
        let n = changes.iter().filter(|c| matches!(&c.body, ChangeBody::Upsert(Record::Message(m)) if m.id.starts_with("m-crash-"))).count();
        (n >= 30).then_some(())
    })
    .await;
    server.crash();
    acknowledged.extend(sender.await.expect("sender"));
    assert!(
        !acknowledged.is_empty() && acknowledged.len() < OUTBOX,
        "the crash came mid-stream ({} acknowledged)",
        acknowledged.len()
    );

    // Restart on the same data; the outbox resends everything it has.
    let server = Server::start_at(tmp.path(), &["--demo"]);
    let agent = server.sign_in("a1002").await;
    let mut results: Vec<Value> = Vec::new();
    for chunk in outbox.chunks(100) {
        results.extend(
            server
                .act(&agent.access_token, Value::Array(chunk.to_vec()))
                .await,
        );
    }
    for result in &results {
        let key = result["key"].as_str().unwrap_or("");
        if acknowledged.iter().any(|k| k == key) {
            assert_eq!(
                result["status"], "duplicate",
                "acknowledged {key} survived the crash"
            );
        } else {
            assert!(
                result["status"] == "applied" || result["status"] == "duplicate",
                "{result}"
            );
        }
    }
    let (changes, _) = server.pull_all(&agent.access_token, None).await;
    let mut seen = HashSet::new();
    for change in &changes {
        if let ChangeBody::Upsert(Record::Message(m)) = &change.body
            && m.id.starts_with("m-crash-")
        {
            seen.insert(m.id.clone());
        }
    }
    assert_eq!(seen.len(), OUTBOX, "every reply exists, each once");
}

/// A page's changes of one kind, and of every other kind.
fn split_articles(changes: &[Value]) -> (usize, usize) {
    let articles = changes
        .iter()
        .filter(|c| c["entity"] == "kb_article")
        .count();
    (articles, changes.len() - articles)
}

/// Pulls every page of `query` (without a cursor to start); returns the
/// changes, the last cursor and the summed `deferred`.
async fn pull_with(server: &Server, token: &str, query: &str) -> (Vec<Value>, String, u64, u64) {
    let mut all = Vec::new();
    let mut cursor = String::new();
    let (mut deferred, mut deferred_bytes) = (0, 0);
    loop {
        let (status, page) = server
            .get(
                &format!("/v1/changes?limit=100&cursor={cursor}&{query}"),
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        all.extend(page["changes"].as_array().expect("changes").iter().cloned());
        if let Some(d) = page.get("deferred") {
            deferred += d["changes"].as_u64().expect("count");
            deferred_bytes += d["bytes"].as_u64().expect("bytes");
        }
        cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
        if !page["has_more"].as_bool().expect("has_more") {
            return (all, cursor, deferred, deferred_bytes);
        }
    }
}

#[tokio::test]
async fn a_metered_workstation_leaves_articles_out_and_fetches_them_later() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await;
    let token = agent.access_token.as_str();

    let (everything, end, none_deferred, _) = pull_with(&server, token, "").await;
    let (articles, others) = split_articles(&everything);
    assert!(articles > 10, "the demo world has articles: {articles}");
    assert_eq!(none_deferred, 0, "no `deferred` without `except`");

    // Leaving articles out: the rest is the same, and `deferred` counts them.
    let (without, end_without, deferred, deferred_bytes) =
        pull_with(&server, token, "except=kb_article").await;
    assert_eq!(split_articles(&without), (0, others));
    assert_eq!(
        deferred, articles as u64,
        "every article left out is counted"
    );
    assert!(deferred_bytes > 0);
    assert_eq!(
        end_without, end,
        "the cursor still reaches the end of the log"
    );

    // Fetching them later from where they were left out: exactly the articles.
    let (only, _, _, _) = pull_with(&server, token, "only=kb_article").await;
    assert_eq!(split_articles(&only), (articles, 0));

    // Both: the kinds of `only` without those of `except`.
    let (both, _, deferred, _) =
        pull_with(&server, token, "only=kb_article,queue&except=kb_article").await;
    assert!(both.iter().all(|c| c["entity"] == "queue"), "{both:?}");
    assert_eq!(deferred, articles as u64);

    // Bad input: an unknown kind, and an unknown parameter.
    for path in [
        "/v1/changes?except=kb_articles",
        "/v1/changes?except=",
        "/v1/changes?only=queue,",
        "/v1/changes?only=queue,nonsense",
        "/v1/changes?defer=kb_article",
    ] {
        let (status, body) = server.get(path, Some(token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["code"], "invalid_request", "{path}: {body}");
    }
}

/// The seq of the next `changes` poke (other events are skipped).
async fn next_poke(events: &mut Events) -> u64 {
    match events
        .wait_for("a changes poke", |e| {
            matches!(e, ServerEvent::Changes { .. })
        })
        .await
    {
        ServerEvent::Changes { latest_seq, .. } => latest_seq,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_push_pokes_every_workstation_but_the_one_that_pushed() {
    let server = Server::start_demo(&[]);
    // The same agent on two PCs: two sign-ins.
    let pushing = server.sign_in("a1002").await;
    let other = server.sign_in("a1002").await;
    let mut pushing_events = server.events(&pushing.access_token, None).await;
    let mut other_events = server.events(&other.access_token, None).await;
    next_poke(&mut pushing_events).await;
    next_poke(&mut other_events).await;

    server
        .act(
            &pushing.access_token,
            json!([{"key": "own-poke-0001", "created_at": 1, "action": {"type": "presence", "presence": "available"}}]),
        )
        .await;
    let after_push = server.page(&pushing.access_token, None, 1000).await;
    let pushed_seq: u64 = after_push
        .next_cursor
        .rsplit('.')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a cursor ends in its seq");
    server
        .customer_writes("chat", "own-poke-1", "cust-own-poke", "aftersales", "在吗")
        .await;

    // The other PC hears of the push, then of the customer.
    assert_eq!(next_poke(&mut other_events).await, pushed_seq);
    let customer_seq = next_poke(&mut other_events).await;
    assert!(customer_seq > pushed_seq);
    // The PC that pushed (and pulls right after) hears only of the customer.
    assert_eq!(
        next_poke(&mut pushing_events).await,
        customer_seq,
        "no poke for the workstation's own push"
    );
}

/// A poke goes only to the streams of agents who may see what was written
/// (decision 0042): a contact in a queue an agent does not work wakes
/// neither their stream nor their workstation; one in their queue does.
#[tokio::test]
async fn a_change_an_agent_may_not_see_does_not_poke_them() {
    let server = Server::start_demo(&[]);
    let logistics = server.sign_in("a1002").await; // aftersales + logistics
    let elsewhere = server.sign_in("a1004").await; // aftersales + complaints
    let mut logistics_events = server.events(&logistics.access_token, None).await;
    let mut elsewhere_events = server.events(&elsewhere.access_token, None).await;
    for events in [&mut logistics_events, &mut elsewhere_events] {
        events
            .wait_for("initial changes", |e| {
                matches!(e, ServerEvent::Changes { .. })
            })
            .await;
    }
    server
        .customer_writes("ticket", "aud-1", "cust-aud-1", "logistics", "快递到哪了")
        .await;
    let ServerEvent::Changes {
        latest_seq: after_logistics,
        ..
    } = logistics_events
        .wait_for("the logistics agent's poke", |e| {
            matches!(e, ServerEvent::Changes { .. })
        })
        .await
    else {
        unreachable!()
    };
    server
        .customer_writes("ticket", "aud-2", "cust-aud-2", "complaints", "我要投诉")
        .await;
    let ServerEvent::Changes { latest_seq, .. } = elsewhere_events
        .wait_for("the complaints agent's poke", |e| {
            matches!(e, ServerEvent::Changes { .. })
        })
        .await
    else {
        unreachable!()
    };
    assert!(
        latest_seq > after_logistics,
        "the first poke a1004 hears is for the complaints contact ({latest_seq}), \
         not the logistics one ({after_logistics})"
    );
}
