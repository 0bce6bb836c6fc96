//! Roles enforced by the platform itself, through HTTP against the real
//! server: a trainee never reads, claims, answers, is offered or is handed
//! a live conversation, even with a queue in their profile; the endpoints
//! that are a supervisor's refuse an agent.

mod support;

use std::time::Duration;

use homedesk_protocol::{ChangeBody, EntityKind, Record, ServerEvent};
use reqwest::StatusCode;
use serde_json::json;
use support::*;

/// A trainee who works the `aftersales` queue on paper (the profile names
/// it), added as an administrator would.
fn add_trainee_with_a_queue(server: &Server, code: &str) {
    let out = cli_with_input(
        &[
            "agent",
            "add",
            "--data-dir",
            server.dir.to_str().expect("utf-8 path"),
            "--code",
            code,
            "--name",
            "学员",
            "--role",
            "trainee",
            "--queues",
            "aftersales",
            "--skills",
            "aftersales,zh",
        ],
        TRAINEE_PASSWORD,
    );
    assert!(out.status.success(), "agent add: {out:?}");
}

const TRAINEE_PASSWORD: &str = "trainee-password-1";

async fn sign_in_trainee(server: &Server, code: &str) -> homedesk_protocol::Session {
    let (status, body) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": code, "password": TRAINEE_PASSWORD, "device_id": "roles-test"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "the trainee signs in: {body}");
    serde_json::from_value(body).expect("a Session")
}

fn action(key: &str, action: serde_json::Value) -> serde_json::Value {
    json!({"key": key, "created_at": 1, "action": action})
}

#[tokio::test]
async fn a_trainee_never_reads_or_acts_on_a_live_conversation() {
    let server = Server::start_demo(&[]);
    add_trainee_with_a_queue(&server, "t2101");
    let trainee = sign_in_trainee(&server, "t2101").await;
    let conversation = server
        .customer_writes(
            "chat",
            "roles-1",
            "cust-roles-1",
            "aftersales",
            "我的订单还没到",
        )
        .await;

    // Reading: nothing of the conversation, its message or its customer.
    let (changes, _) = server.pull_all(&trainee.access_token, None).await;
    let live: Vec<String> = changes
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Upsert(Record::Conversation(r)) => Some(format!("conversation {}", r.id)),
            ChangeBody::Upsert(Record::Message(r)) => Some(format!("message {}", r.id)),
            ChangeBody::Upsert(Record::Customer(r)) => Some(format!("customer {}", r.id)),
            _ => None,
        })
        .collect();
    assert!(
        live.is_empty(),
        "a trainee's change log holds no live conversation, message or customer: {live:?}"
    );
    assert!(
        changes.iter().any(|c| matches!(
            &c.body,
            ChangeBody::Upsert(r) if r.kind() == EntityKind::KbArticle
        )),
        "the trainee still gets the knowledge base (the log itself works)"
    );
    let (status, body) = server
        .get(
            &format!("/v1/conversations/{conversation}"),
            Some(&trainee.access_token),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "the contact record is not a trainee's to read: {body}"
    );

    // Claiming: refused with a clear code, and nothing changes.
    let claim = server
        .act(
            &trainee.access_token,
            json!([action(
                "roles-claim",
                json!({"type": "claim", "conversation_id": conversation})
            )]),
        )
        .await;
    assert_eq!(
        (claim[0]["status"].as_str(), claim[0]["code"].as_str()),
        (Some("rejected"), Some("forbidden")),
        "a trainee's claim is refused: {claim:?}"
    );

    // Replying (to a conversation an agent holds): refused the same way.
    let agent = server.sign_in("a1002").await;
    server.claim(&agent.access_token, &conversation).await;
    let reply = server
        .act(
            &trainee.access_token,
            json!([action(
                "roles-reply",
                json!({"type": "reply", "conversation_id": conversation,
                       "message_id": "roles-m1", "body": "您好"})
            )]),
        )
        .await;
    assert_eq!(
        (reply[0]["status"].as_str(), reply[0]["code"].as_str()),
        (Some("rejected"), Some("forbidden")),
        "a trainee's reply is refused: {reply:?}"
    );
    let note = server
        .act(
            &trainee.access_token,
            json!([action(
                "roles-note",
                json!({"type": "internal_note", "conversation_id": conversation,
                       "message_id": "roles-m2", "body": "看看"})
            )]),
        )
        .await;
    assert_eq!(
        note[0]["code"].as_str(),
        Some("forbidden"),
        "nor a note: {note:?}"
    );
    assert!(
        server
            .message(&agent.access_token, "roles-m1")
            .await
            .is_none(),
        "the refused reply was not stored"
    );
}

#[tokio::test]
async fn a_conversation_is_never_transferred_to_a_trainee() {
    let server = Server::start_demo(&[]);
    add_trainee_with_a_queue(&server, "t2102");
    let agent = server.sign_in("a1002").await;
    let conversation = server
        .customer_writes(
            "chat",
            "roles-2",
            "cust-roles-2",
            "aftersales",
            "退货怎么办",
        )
        .await;
    server.claim(&agent.access_token, &conversation).await;
    let transfer = server
        .act(
            &agent.access_token,
            json!([action(
                "roles-transfer",
                json!({"type": "transfer", "conversation_id": conversation,
                       "target": {"agent": "t2102"}})
            )]),
        )
        .await;
    assert_eq!(
        (transfer[0]["status"].as_str(), transfer[0]["code"].as_str()),
        (Some("rejected"), Some("forbidden")),
        "a transfer to a trainee is refused: {transfer:?}"
    );
    let trainee = sign_in_trainee(&server, "t2102").await;
    let (changes, _) = server.pull_all(&trainee.access_token, None).await;
    assert!(
        !changes.iter().any(|c| matches!(
            &c.body,
            ChangeBody::Upsert(Record::Conversation(r)) if r.id == conversation
        )),
        "the conversation did not reach the trainee"
    );
    // The same transfer to an agent is applied: the refusal is about the role.
    let to_agent = server
        .act(
            &agent.access_token,
            json!([action(
                "roles-transfer-2",
                json!({"type": "transfer", "conversation_id": conversation,
                       "target": {"agent": "a1004"}})
            )]),
        )
        .await;
    assert_eq!(to_agent[0]["status"], "applied", "{to_agent:?}");
}

#[tokio::test]
async fn routing_never_offers_a_contact_to_a_trainee() {
    // Offers last 30 s: had the trainee been offered the contact first, the
    // agent would not see it within the 10 s this test waits.
    let server = Server::start_demo(&["--offer-timeout", "30"]);
    add_trainee_with_a_queue(&server, "t2103");
    let trainee = sign_in_trainee(&server, "t2103").await;
    let presence = server
        .act(
            &trainee.access_token,
            json!([action(
                "roles-presence",
                json!({"type": "presence", "presence": "available"})
            )]),
        )
        .await;
    assert_eq!(presence[0]["status"], "applied", "{presence:?}");
    // Connected, available, with capacity and the queue in their profile.
    let mut trainee_events = server.events(&trainee.access_token, None).await;
    let conversation = server
        .customer_writes("chat", "roles-3", "cust-roles-3", "aftersales", "在吗")
        .await;

    let agent = server.sign_in("a1002").await;
    let available = server
        .act(
            &agent.access_token,
            json!([action(
                "roles-presence-2",
                json!({"type": "presence", "presence": "available"})
            )]),
        )
        .await;
    assert_eq!(available[0]["status"], "applied", "{available:?}");
    let mut agent_events = server.events(&agent.access_token, None).await;
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    let offered = loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match agent_events.next(left).await {
            Some(ServerEvent::Offer(offer)) if offer.conversation_id == conversation => {
                break true;
            }
            Some(_) => continue,
            None => break false,
        }
    };
    assert!(
        offered,
        "the contact was offered to the agent at once (not held by an offer to the trainee)"
    );
    while let Some(event) = trainee_events.next(Duration::from_millis(200)).await {
        assert!(
            !matches!(event, ServerEvent::Offer(_)),
            "a trainee is never offered a contact: {event:?}"
        );
    }
}

#[tokio::test]
async fn supervisor_only_reads_refuse_an_agent() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await; // aftersales and logistics
    let supervisor = server.sign_in("s3001").await;
    let conversation = server
        .customer_writes("chat", "roles-4", "cust-roles-4", "presales", "想买一台")
        .await;

    // Another queue's contact record: a supervisor's to read.
    let path = format!("/v1/conversations/{conversation}");
    let (status, body) = server.get(&path, Some(&agent.access_token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "an agent reads no other queue's contact record: {body}"
    );
    let (status, body) = server.get(&path, Some(&supervisor.access_token)).await;
    assert_eq!(status, StatusCode::OK, "the supervisor reads it: {body}");

    // Another trainee's practice records: a supervisor's to read.
    let path = "/v1/training-records?trainee=t2001";
    let (status, body) = server.get(path, Some(&agent.access_token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "an agent reads no trainee's records: {body}"
    );
    let (status, body) = server.get(path, Some(&supervisor.access_token)).await;
    assert_eq!(status, StatusCode::OK, "the supervisor reads them: {body}");
}

#[tokio::test]
async fn a_trainee_gets_no_customer_photo_only_canned_reply_pictures() {
    let server = Server::start_demo(&[]);
    add_trainee_with_a_queue(&server, "t2104");
    let trainee = sign_in_trainee(&server, "t2104").await;
    // A customer's photo, as a channel adapter uploads it.
    let png = {
        let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, image::ImageFormat::Png)
            .expect("png");
        bytes.into_inner()
    };
    let uploaded: serde_json::Value = server
        .client
        .post(format!("{}/v1/attachments", server.url))
        .bearer_auth(server.ingress_token())
        .body(png)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("an Attachment");
    let photo = uploaded["id"].as_str().expect("id").to_owned();
    let mut message = ingress_message("roles-5", "cust-roles-5", "aftersales", "看照片");
    message["attachments"] = json!([photo]);
    let (status, answer) = server.ingress("chat", &message).await;
    assert!(status.is_success(), "{answer}");

    for path in [
        format!("/v1/attachments/{photo}"),
        format!("/v1/attachments/{photo}/thumbnail"),
    ] {
        let (status, body) = server.get(&path, Some(&trainee.access_token)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "a trainee gets no customer's photo ({path}): {body}"
        );
    }
    let agent = server.sign_in("a1002").await;
    let (status, _) = server
        .get(
            &format!("/v1/attachments/{photo}"),
            Some(&agent.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "an agent does");

    // The canned replies' pictures are for everyone, trainees included.
    let (changes, _) = server.pull_all(&trainee.access_token, None).await;
    let canned = changes
        .iter()
        .find_map(|c| match &c.body {
            ChangeBody::Upsert(Record::CannedReply(r)) => r.attachment.clone(),
            _ => None,
        })
        .expect("the demo has canned replies with a picture");
    let (status, _) = server
        .get(
            &format!("/v1/attachments/{}/thumbnail", canned.id),
            Some(&trainee.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "a canned reply's picture");
}
