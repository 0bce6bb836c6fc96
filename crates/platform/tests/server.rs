//! The platform end to end: the real binary on loopback TLS, a client that
//! trusts only the generated CA, and the protocol as a workstation uses it.

mod support;

use std::collections::{HashMap, HashSet};

use homedesk_protocol::{ChangeBody, Record, ServerEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn serves_https_only_with_its_own_ca_and_reports_health() {
    let server = Server::start_demo(&[]);
    let (status, body) = server.get("/v1/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert!(
        std::fs::metadata(server.dir.join("tls/ca.pem")).is_ok(),
        "ca.pem is what clients trust"
    );

    // A client without our CA must refuse the certificate.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stranger = reqwest::Client::builder().build().expect("client");
    assert!(
        stranger
            .get(format!("{}/v1/health", server.url))
            .send()
            .await
            .is_err(),
        "the dev certificate must not be trusted without ca.pem"
    );
    // Plain HTTP gets no answer.
    let plain = server.url.replace("https://", "http://");
    let answer = reqwest::Client::new()
        .get(format!("{plain}/v1/health"))
        .send()
        .await;
    assert!(
        answer.map(|r| !r.status().is_success()).unwrap_or(true),
        "no plain HTTP"
    );
}

#[tokio::test]
async fn sign_in_refresh_rotation_and_reuse_revokes_the_family() {
    let server = Server::start_demo(&["--refresh-grace", "0"]);
    let (status, wrong) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": "a1001", "password": "nope-nope", "device_id": "d"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, unknown) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": "zz9999", "password": "nope-nope", "device_id": "d"}),
        )
        .await;
    assert_eq!(
        wrong, unknown,
        "an unknown agent and a wrong password look the same"
    );

    let first = server.sign_in("a1001").await;
    assert_eq!(first.agent.code, "a1001");
    assert!(first.access_expires_at < first.refresh_expires_at);
    let (status, _) = server
        .get("/v1/changes?limit=1", Some(&first.access_token))
        .await;
    assert_eq!(status, StatusCode::OK, "the access token works");

    let (status, body) = server
        .post(
            "/v1/sessions/refresh",
            None,
            &json!({"refresh_token": first.refresh_token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second: homedesk_protocol::Session = serde_json::from_value(body).expect("session");
    assert_ne!(
        second.refresh_token, first.refresh_token,
        "refresh tokens rotate"
    );
    let (status, _) = server
        .get("/v1/changes?limit=1", Some(&second.access_token))
        .await;
    assert_eq!(status, StatusCode::OK);

    // The old refresh token again: theft. The whole family dies.
    let (status, body) = server
        .post(
            "/v1/sessions/refresh",
            None,
            &json!({"refresh_token": first.refresh_token}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_reused");
    let (status, body) = server
        .get("/v1/changes?limit=1", Some(&second.access_token))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "access tokens of the family are revoked"
    );
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = server
        .post(
            "/v1/sessions/refresh",
            None,
            &json!({"refresh_token": second.refresh_token}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the newest refresh token is revoked too"
    );

    // Another sign-in (another family) is unaffected; sign-out ends it.
    let other = server.sign_in("a1001").await;
    let (status, _) = server
        .request(
            reqwest::Method::DELETE,
            "/v1/sessions",
            Some(&other.access_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server
        .get("/v1/changes?limit=1", Some(&other.access_token))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");
}

#[tokio::test]
async fn a_refresh_retried_within_the_grace_period_is_not_theft() {
    let server = Server::start_demo(&[]);
    let first = server.sign_in("a1002").await;
    let body = json!({"refresh_token": first.refresh_token});
    let (status, _) = server.post("/v1/sessions/refresh", None, &body).await;
    assert_eq!(status, StatusCode::OK);
    // The answer was lost on a dropped link; the workstation retries at once.
    let (status, retried) = server.post("/v1/sessions/refresh", None, &body).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a quick retry gets a fresh pair: {retried}"
    );
    let retried: homedesk_protocol::Session = serde_json::from_value(retried).expect("session");
    let (status, _) = server
        .get("/v1/changes?limit=1", Some(&retried.access_token))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn expired_access_tokens_are_told_apart() {
    let server = Server::start_demo(&["--access-ttl", "1"]);
    let session = server.sign_in("a1001").await;
    let body = eventually("the access token to expire", || async {
        let (status, body) = server
            .get("/v1/changes?limit=1", Some(&session.access_token))
            .await;
        (status == StatusCode::UNAUTHORIZED).then_some(body)
    })
    .await;
    assert_eq!(
        body["code"], "token_expired",
        "the workstation must refresh, not sign in"
    );
}

#[tokio::test]
async fn the_demo_password_only_works_on_a_demo_platform() {
    let tmp = tempfile::tempdir().expect("tmp");
    {
        let _demo = Server::start_at(tmp.path(), &["--demo"]);
    }
    let server = Server::start_at(tmp.path(), &[]);
    let (status, body) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": "a1001", "password": DEMO_PASSWORD, "device_id": "d"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap_or("").contains("--demo"),
        "{body}"
    );
}

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
async fn actions_are_idempotent_and_a_reused_key_is_refused() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1001").await;
    let token = agent.access_token.as_str();
    let conversation = server
        .customer_writes(
            "chat",
            "idem-1",
            "cust-idem",
            "presales",
            "这件衣服有L码吗？",
        )
        .await;
    let batch = json!([
        {"key": "key-claim-0001", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}},
        {"key": "key-reply-0001", "created_at": 2, "action": {"type": "reply", "conversation_id": conversation, "message_id": "m-idem-1", "body": "亲，有的哦"}}
    ]);
    let first = server.act(token, batch.clone()).await;
    assert_eq!(first[0]["status"], "applied");
    assert_eq!(first[1]["status"], "applied");

    // The link dropped before the answer arrived: the outbox sends it all again.
    let again = server.act(token, batch).await;
    for result in &again {
        assert_eq!(result["status"], "duplicate", "{result}");
        assert_eq!(
            result["original"]["status"], "applied",
            "the first verdict is returned"
        );
    }
    let (changes, _) = server.pull_all(token, None).await;
    let replies = changes
        .iter()
        .filter(|c| matches!(&c.body, ChangeBody::Upsert(Record::Message(m)) if m.id == "m-idem-1"))
        .count();
    assert_eq!(replies, 1, "the reply exists once");

    let reused = server
        .act(token, json!([{"key": "key-reply-0001", "created_at": 3, "action": {"type": "reply", "conversation_id": conversation, "message_id": "m-idem-2", "body": "另一条"}}]))
        .await;
    assert_eq!(reused[0]["status"], "rejected");
    assert_eq!(reused[0]["code"], "key_reused");

    let bad = server
        .act(token, json!([
            {"key": "short", "created_at": 3, "action": {"type": "presence", "presence": "available"}},
            {"key": "key-wrap-0001", "created_at": 4, "action": {"type": "wrap_up", "conversation_id": conversation, "disposition": "made_up"}},
            {"key": "key-stat-0001", "created_at": 5, "action": {"type": "set_status", "conversation_id": conversation, "status": "resolved"}},
            {"key": "key-none-0001", "created_at": 6, "action": {"type": "claim", "conversation_id": "conv-nope"}}
        ]))
        .await;
    assert_eq!(bad[0]["code"], "invalid", "a malformed key");
    assert_eq!(bad[1]["code"], "unknown_disposition");
    assert_eq!(bad[2]["code"], "invalid", "resolving goes through wrap_up");
    assert_eq!(bad[3]["code"], "not_found");

    let done = server
        .act(token, json!([{"key": "key-wrap-0002", "created_at": 7, "action": {"type": "wrap_up", "conversation_id": conversation, "disposition": "info_given", "after_contact_secs": 20}}]))
        .await;
    assert_eq!(done[0]["status"], "applied");
}

#[tokio::test]
async fn two_agents_claim_the_same_conversation_and_exactly_one_wins() {
    let server = Server::start_demo(&[]);
    let a = server.sign_in("a1001").await;
    let b = server.sign_in("a1003").await;
    for round in 0..5 {
        let conversation = server
            .customer_writes(
                "chat",
                &format!("race-{round}"),
                &format!("cust-race-{round}"),
                "presales",
                "在吗？",
            )
            .await;
        let claim = |key: String| json!([{"key": key, "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}}]);
        let (ra, rb) = tokio::join!(
            server.act(&a.access_token, claim(format!("race-a-{round}-x"))),
            server.act(&b.access_token, claim(format!("race-b-{round}-x"))),
        );
        let statuses = [ra[0]["status"].clone(), rb[0]["status"].clone()];
        let winners = statuses.iter().filter(|s| *s == "applied").count();
        assert_eq!(
            winners, 1,
            "round {round}: exactly one claim wins: {statuses:?}"
        );
        let (loser_token, loser) = if ra[0]["status"] == "applied" {
            (&b, &rb)
        } else {
            (&a, &ra)
        };
        assert_eq!(loser[0]["status"], "conflict");
        assert_eq!(loser[0]["code"], "already_claimed");

        // The loser had typed a reply while offline: it comes back as a conflict.
        let reply = server
            .act(&loser_token.access_token, json!([{"key": format!("late-reply-{round}"), "created_at": 2, "action": {"type": "reply", "conversation_id": conversation, "message_id": format!("m-late-{round}"), "body": "亲，我来帮您看看"}}]))
            .await;
        assert_eq!(reply[0]["status"], "conflict");
        assert_eq!(reply[0]["code"], "not_assigned");
    }
}

#[tokio::test]
async fn a_transfer_moves_the_conversation_and_its_history_to_the_new_agent() {
    let server = Server::start_demo(&[]);
    let a = server.sign_in("a1001").await; // presales + aftersales
    let c = server.sign_in("a1004").await; // aftersales + complaints
    let conversation = server
        .customer_writes("chat", "tr-1", "cust-tr", "presales", "我要投诉你们的快递")
        .await;
    server.act(&a.access_token, json!([
        {"key": "tr-claim-01", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}},
        {"key": "tr-note-001", "created_at": 2, "action": {"type": "internal_note", "conversation_id": conversation, "message_id": "n-tr-1", "body": "客户情绪激动，转投诉组"}},
        {"key": "tr-move-001", "created_at": 3, "action": {"type": "transfer", "conversation_id": conversation, "target": {"queue": "complaints"}}}
    ])).await.iter().for_each(|r| assert_eq!(r["status"], "applied", "{r}"));

    let (changes, _) = server.pull_all(&c.access_token, None).await;
    let has = |id: &str| {
        changes
            .iter()
            .any(|ch| matches!(&ch.body, ChangeBody::Upsert(r) if r.id() == id))
    };
    assert!(
        has(&conversation),
        "the complaints agent sees the transferred conversation"
    );
    assert!(has("n-tr-1"), "with the note written before the transfer");
    assert!(has("cust-tr"), "and the customer");

    // a1001 learns it left: the last version they see is in the complaints queue.
    let (mine, _) = server.pull_all(&a.access_token, None).await;
    let last = mine.iter().rev().find_map(|ch| match &ch.body {
        ChangeBody::Upsert(Record::Conversation(conv)) if conv.id == conversation => {
            Some(conv.clone())
        }
        _ => None,
    });
    let last = last.expect("a1001 saw the conversation");
    assert_eq!(last.queue, "complaints");
    assert_eq!(last.assigned_to, None);
}

#[tokio::test]
async fn routing_offers_to_available_connected_agents_and_moves_on_after_a_timeout() {
    let server = Server::start_demo(&["--offer-timeout", "2"]);
    let a1001 = server.sign_in("a1001").await; // presales, max 4
    let a1003 = server.sign_in("a1003").await; // presales
    let a1005 = server.sign_in("a1005").await; // presales, never connects
    let t2001 = server.sign_in("t2001").await; // trainee
    let presence = |key: &str, p: &str| json!([{"key": key, "created_at": 1, "action": {"type": "presence", "presence": p}}]);
    let mut ev1001 = server.events(&a1001.access_token, None).await;
    let mut ev1003 = server.events(&a1003.access_token, None).await;
    let mut ev_trainee = server.events(&t2001.access_token, None).await;
    server
        .act(&a1001.access_token, presence("p-1001-a", "available"))
        .await;
    server
        .act(&a1003.access_token, presence("p-1003-b", "on_break"))
        .await;
    server
        .act(&a1005.access_token, presence("p-1005-a", "available"))
        .await;
    server
        .act(&t2001.access_token, presence("p-2001-a", "available"))
        .await;

    let first = server
        .customer_writes("chat", "route-1", "cust-route-1", "presales", "你好")
        .await;
    let offer = match ev1001
        .wait_for("offer", |e| matches!(e, ServerEvent::Offer(_)))
        .await
    {
        ServerEvent::Offer(offer) => offer,
        _ => unreachable!(),
    };
    assert_eq!(
        offer.conversation_id, first,
        "the only available, connected presales agent gets it"
    );

    // a1001 lets it pass: it is withdrawn and, once a1003 is back, goes to a1003.
    ev1001
        .wait_for("offer_withdrawn", |e| matches!(e, ServerEvent::OfferWithdrawn { offer_id } if *offer_id == offer.offer_id))
        .await;
    server
        .act(&a1003.access_token, presence("p-1003-c", "available"))
        .await;
    let second_offer = match ev1003
        .wait_for("offer", |e| matches!(e, ServerEvent::Offer(_)))
        .await
    {
        ServerEvent::Offer(o) => o,
        _ => unreachable!(),
    };
    assert_eq!(
        second_offer.conversation_id, first,
        "the contact moved on to the next agent"
    );
    let accepted = server
        .act(&a1003.access_token, json!([{"key": "accept-0001", "created_at": 1, "action": {"type": "accept_offer", "offer_id": second_offer.offer_id}}]))
        .await;
    assert_eq!(accepted[0]["status"], "applied");
    let late = server
        .act(&a1001.access_token, json!([{"key": "accept-0002", "created_at": 1, "action": {"type": "accept_offer", "offer_id": offer.offer_id}}]))
        .await;
    assert_eq!(
        late[0]["code"], "offer_expired",
        "an expired offer cannot be accepted"
    );

    // A degraded link gets asynchronous work only.
    server
        .act(&a1003.access_token, presence("p-1003-d", "on_break"))
        .await;
    let (status, _) = server
        .request(
            reqwest::Method::GET,
            "/v1/changes?limit=1",
            Some(&a1001.access_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server
        .client
        .get(format!("{}/v1/changes?limit=1", server.url))
        .bearer_auth(&a1001.access_token)
        .header("Homedesk-Link", "degraded")
        .send()
        .await
        .expect("request");
    let chat = server
        .customer_writes("chat", "route-2", "cust-route-2", "presales", "在吗")
        .await;
    let phone = server
        .customer_writes(
            "phone",
            "route-3",
            "cust-route-3",
            "presales",
            "请给我回个电话",
        )
        .await;
    let offer = match ev1001
        .wait_for("offer", |e| matches!(e, ServerEvent::Offer(_)))
        .await
    {
        ServerEvent::Offer(o) => o,
        _ => unreachable!(),
    };
    assert_eq!(
        offer.conversation_id, phone,
        "the phone call-back, not the older chat {chat}"
    );

    // The trainee never got an offer through all of this.
    while let Some(event) = ev_trainee.next(std::time::Duration::from_millis(200)).await {
        assert!(
            !matches!(event, ServerEvent::Offer(_)),
            "a trainee was offered live work: {event:?}"
        );
    }
}

#[tokio::test]
async fn routing_respects_capacity() {
    let server = Server::start_demo(&["--offer-timeout", "30"]);
    let a1003 = server.sign_in("a1003").await; // max_chats 3
    let mut events = server.events(&a1003.access_token, None).await;
    server.act(&a1003.access_token, json!([{"key": "cap-pres-1", "created_at": 1, "action": {"type": "presence", "presence": "available"}}])).await;
    for i in 0..3 {
        let conversation = server
            .customer_writes(
                "chat",
                &format!("cap-{i}"),
                &format!("cust-cap-{i}"),
                "logistics",
                "快递到哪了",
            )
            .await;
        let offer = match events
            .wait_for("offer", |e| matches!(e, ServerEvent::Offer(_)))
            .await
        {
            ServerEvent::Offer(o) => o,
            _ => unreachable!(),
        };
        assert_eq!(offer.conversation_id, conversation);
        let r = server.act(&a1003.access_token, json!([{"key": format!("cap-acc-{i}"), "created_at": 1, "action": {"type": "accept_offer", "offer_id": offer.offer_id}}])).await;
        assert_eq!(r[0]["status"], "applied");
    }
    let fourth = server
        .customer_writes("chat", "cap-3", "cust-cap-3", "logistics", "还有我")
        .await;
    // Free one slot: the waiting fourth contact is offered only now.
    let (changes, _) = server.pull_all(&a1003.access_token, None).await;
    let held: Vec<String> = changes
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Upsert(Record::Conversation(conv))
                if conv.assigned_to.as_deref() == Some("a1003") && conv.id != fourth =>
            {
                Some(conv.id.clone())
            }
            _ => None,
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(held.len(), 3, "a1003 holds three");
    let r = server.act(&a1003.access_token, json!([{"key": "cap-wrap-1", "created_at": 1, "action": {"type": "wrap_up", "conversation_id": held[0], "disposition": "resolved"}}])).await;
    assert_eq!(r[0]["status"], "applied");
    let offer = match events
        .wait_for("offer", |e| matches!(e, ServerEvent::Offer(_)))
        .await
    {
        ServerEvent::Offer(o) => o,
        _ => unreachable!(),
    };
    assert_eq!(
        offer.conversation_id, fourth,
        "capacity freed, the fourth contact is offered"
    );
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
    let ServerEvent::Changes { latest_seq: before } = first else {
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
            |e| matches!(e, ServerEvent::Changes { latest_seq } if *latest_seq > before),
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

#[tokio::test]
async fn ingress_is_idempotent_and_joins_the_open_conversation() {
    let server = Server::start_demo(&[]);
    let msg = ingress_message("ext-1", "cust-ing", "aftersales", "桃子烂了怎么办");
    let (s1, a1) = server.ingress("chat", &msg).await;
    let (s2, a2) = server.ingress("chat", &msg).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(a1["conversation_id"], a2["conversation_id"]);
    assert_eq!(
        a1["message_id"], a2["message_id"],
        "a resend is the same message"
    );
    assert_eq!(a2["duplicate"], true);
    let (_, a3) = server
        .ingress(
            "chat",
            &ingress_message("ext-2", "cust-ing", "aftersales", "？？？"),
        )
        .await;
    assert_eq!(
        a3["conversation_id"], a1["conversation_id"],
        "a follow-up joins the open conversation"
    );
    let (_, a4) = server
        .ingress(
            "phone",
            &ingress_message("ext-3", "cust-ing", "aftersales", "回电"),
        )
        .await;
    assert_ne!(
        a4["conversation_id"], a1["conversation_id"],
        "another channel is another contact"
    );

    let agent = server.sign_in("a1001").await;
    let (changes, _) = server.pull_all(&agent.access_token, None).await;
    let customer = changes
        .iter()
        .rev()
        .find_map(|c| match &c.body {
            ChangeBody::Upsert(Record::Customer(cu)) if cu.id == "cust-ing" => Some(cu.clone()),
            _ => None,
        })
        .expect("customer visible");
    assert_eq!(
        customer.phone_masked, "138****1234",
        "agents never see the full number"
    );
}

#[tokio::test]
async fn metrics_and_compression() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    // A client that does not decode, to see what is on the wire.
    let raw = raw_client(&server.dir.join("tls/ca.pem"));
    let response = raw
        .get(format!("{}/v1/changes", server.url))
        .bearer_auth(&token)
        .header("Accept-Encoding", "zstd")
        .send()
        .await
        .expect("changes");
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or("")),
        Some("zstd")
    );
    assert_eq!(
        response
            .headers()
            .get("homedesk-protocol")
            .map(|v| v.to_str().unwrap_or("")),
        Some("1")
    );
    let response = raw
        .get(format!("{}/v1/changes", server.url))
        .bearer_auth(&token)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("changes");
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or("")),
        Some("gzip")
    );

    let text = server
        .client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("homedesk_sign_ins_total{result=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("homedesk_http_requests_total{route=\"/v1/changes\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE homedesk_event_streams gauge"),
        "{text}"
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
    let over_session = "x".repeat(5 * 1024);
    let over_ingress = "x".repeat(70 * 1024);

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
        Case { name: "ingress: unknown queue", path: "/v1/ingress/chat", token: Some(ingress.clone()), body: serde_json::to_vec(&ingress_message("e-q", "c", "no-such-queue", "hi")).unwrap_or_default(), content_type: json_ct, status: StatusCode::BAD_REQUEST, code: "invalid_request", mentions: "queue" },
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

#[tokio::test]
async fn sigterm_shuts_down_cleanly_with_streams_open() {
    let mut server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let _stream = server.events(&token, None).await;
    let status = server.stop();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
}
