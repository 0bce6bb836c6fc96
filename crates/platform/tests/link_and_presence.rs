//! A bad link and an agent who stops answering, against the real platform
//! binary: the link state a workstation states is kept until it states
//! another (pulls without the header do not undo it); a bad link statement
//! is refused; and offers that run out in a row set the agent on a break
//! with a reason, while an answered offer starts the count again.

mod support;

use homedesk_protocol::{ChangeBody, Presence, PresenceReason, Record, ServerEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

fn presence(key: &str, p: &str) -> Value {
    json!([{"key": key, "created_at": 1, "action": {"type": "presence", "presence": p}}])
}

fn answer(key: &str, kind: &str, offer_id: &str) -> Value {
    json!([{"key": key, "created_at": 1, "action": {"type": kind, "offer_id": offer_id}}])
}

async fn pull_with_link(server: &Server, token: &str, link: Option<&str>) -> StatusCode {
    let mut request = server
        .client
        .get(format!("{}/v1/changes?limit=1", server.url))
        .bearer_auth(token);
    if let Some(link) = link {
        request = request.header("Homedesk-Link", link);
    }
    request.send().await.expect("request").status()
}

async fn next_offer(events: &mut Events) -> homedesk_protocol::Offer {
    match events
        .wait_for("offer", |e| matches!(e, ServerEvent::Offer(_)))
        .await
    {
        ServerEvent::Offer(offer) => offer,
        _ => unreachable!(),
    }
}

async fn degraded_links(server: &Server) -> String {
    let text = server.metrics().await;
    text.lines()
        .find(|l| l.starts_with("homedesk_degraded_links "))
        .expect("the degraded-links gauge")
        .to_owned()
}

#[tokio::test]
async fn a_degraded_link_stays_degraded_across_pulls_until_the_workstation_says_ok() {
    let server = Server::start_demo(&["--offer-timeout", "30"]);
    let agent = server.sign_in("a1001").await; // presales, the only one connected
    let token = agent.access_token.as_str();
    let mut events = server.events(token, Some("degraded")).await;
    server
        .act(token, presence("link-pres-1", "available"))
        .await;
    assert_eq!(degraded_links(&server).await, "homedesk_degraded_links 1");

    // Pulls that say nothing of the link (as before this rule, every pull
    // reset the flag) leave it as the workstation last stated it.
    for _ in 0..3 {
        assert_eq!(pull_with_link(&server, token, None).await, StatusCode::OK);
    }
    assert_eq!(
        degraded_links(&server).await,
        "homedesk_degraded_links 1",
        "a pull without the header does not undo `degraded`"
    );
    let chat = server
        .customer_writes("chat", "link-1", "cust-link-1", "presales", "在吗")
        .await;
    let ticket = server
        .customer_writes("ticket", "link-2", "cust-link-2", "presales", "请开发票")
        .await;
    let offer = next_offer(&mut events).await;
    assert_eq!(
        offer.conversation_id, ticket,
        "a degraded link is offered the ticket, not the older chat {chat}"
    );
    let accepted = server
        .act(token, answer("link-acc-1", "accept_offer", &offer.offer_id))
        .await;
    assert_eq!(accepted[0]["status"], "applied");

    // The workstation says its link is good again: chats come.
    assert_eq!(
        pull_with_link(&server, token, Some("ok")).await,
        StatusCode::OK
    );
    assert_eq!(degraded_links(&server).await, "homedesk_degraded_links 0");
    let offer = next_offer(&mut events).await;
    assert_eq!(offer.conversation_id, chat, "the chat, once the link is ok");
}

#[tokio::test]
async fn a_link_statement_other_than_ok_or_degraded_is_refused_and_changes_nothing() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1001").await;
    let token = agent.access_token.as_str();
    assert_eq!(
        pull_with_link(&server, token, Some("degraded")).await,
        StatusCode::OK
    );
    let response = server
        .client
        .get(format!("{}/v1/changes?limit=1", server.url))
        .bearer_auth(token)
        .header("Homedesk-Link", "great")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("error body");
    assert_eq!(body["code"], "invalid_request");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("Homedesk-Link"),
        "the message names the header: {body}"
    );
    assert_eq!(
        degraded_links(&server).await,
        "homedesk_degraded_links 1",
        "the refused statement did not change the link state"
    );
    // Exactly the two words of the schema's enum: another spelling is refused
    // too (docs/openapi.yaml, LinkHeader), and changes nothing either.
    for other in ["OK", "Degraded", "okay"] {
        assert_eq!(
            pull_with_link(&server, token, Some(other)).await,
            StatusCode::BAD_REQUEST,
            "Homedesk-Link: {other:?} is not in the enum"
        );
    }
    assert_eq!(degraded_links(&server).await, "homedesk_degraded_links 1");
    assert_eq!(
        pull_with_link(&server, token, Some("ok")).await,
        StatusCode::OK
    );
    assert_eq!(degraded_links(&server).await, "homedesk_degraded_links 0");
}

/// The agent's profile as the change log shows it now.
async fn profile(server: &Server, token: &str) -> homedesk_protocol::AgentProfile {
    let (changes, _) = server.pull_all(token, None).await;
    changes
        .into_iter()
        .rev()
        .find_map(|c| match c.body {
            ChangeBody::Upsert(Record::AgentProfile(p)) if p.code == "a1001" => Some(p),
            _ => None,
        })
        .expect("the agent's profile is in the log")
}

#[tokio::test]
async fn two_offers_in_a_row_that_run_out_set_the_agent_on_a_break_and_an_answer_resets_the_count()
{
    // 2 s to answer: time enough to decline, and to look, before one runs out.
    let server = Server::start_demo(&["--offer-timeout", "2"]);
    let agent = server.sign_in("a1001").await; // presales, the only one connected
    let token = agent.access_token.as_str();
    let mut events = server.events(token, None).await;
    server
        .act(token, presence("miss-pres-1", "available"))
        .await;
    for i in 0..5 {
        server
            .customer_writes(
                "chat",
                &format!("miss-{i}"),
                &format!("cust-miss-{i}"),
                "presales",
                "你好",
            )
            .await;
    }

    // Miss one, decline one (the count starts again), miss one: still available.
    let first = next_offer(&mut events).await;
    let second = next_offer(&mut events).await;
    assert_ne!(first.offer_id, second.offer_id, "the first ran out");
    let declined = server
        .act(
            token,
            answer("miss-dec-1", "decline_offer", &second.offer_id),
        )
        .await;
    assert_eq!(declined[0]["status"], "applied");
    let third = next_offer(&mut events).await;
    let fourth = next_offer(&mut events).await;
    assert_ne!(third.offer_id, fourth.offer_id, "the third ran out");
    assert_eq!(
        profile(&server, token).await.presence,
        Presence::Available,
        "missed, declined, missed: not two misses in a row"
    );

    // The fourth runs out too: two in a row.
    let on_break = eventually("the agent set on a break", || async {
        let p = profile(&server, token).await;
        (p.presence == Presence::OnBreak).then_some(p)
    })
    .await;
    assert_eq!(
        on_break.presence_reason,
        Some(PresenceReason::MissedOffers(
            homedesk_protocol::MissedOffers { count: 2 }
        )),
        "the desk can say why"
    );
    while let Some(event) = events.next(std::time::Duration::from_millis(1500)).await {
        assert!(
            !matches!(event, ServerEvent::Offer(_)),
            "an agent on a break was offered {event:?}"
        );
    }

    // Their own choice clears the reason, and offers come again.
    server
        .act(token, presence("miss-pres-2", "available"))
        .await;
    let back = profile(&server, token).await;
    assert_eq!(
        (back.presence, back.presence_reason),
        (Presence::Available, None)
    );
    let again = next_offer(&mut events).await;
    assert_ne!(again.offer_id, fourth.offer_id);
}
