//! The platform end to end, conversations: idempotent actions, claim races,
//! transfers, routing offers and capacity, and customer ingress.

mod support;

use homedesk_protocol::{ChangeBody, Record, ServerEvent};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;
use support::*;

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
    let stored = changes.iter().find_map(|c| match &c.body {
        ChangeBody::Upsert(Record::Message(m)) if m.id == "m-idem-1" => Some(m.clone()),
        _ => None,
    });
    let delivery = stored
        .and_then(|m| m.delivery)
        .expect("a reply has a delivery state");
    assert_eq!(delivery.state, homedesk_protocol::DeliveryState::Queued);

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
