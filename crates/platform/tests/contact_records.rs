//! Contact records against the real server: the wrap-up note, the
//! after-contact work and the calls an agent logs are kept, a supervisor
//! reads them with `GET /v1/conversations/{id}`, an agent of another queue
//! is refused, and bad values are refused with a code and store nothing.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

const START: i64 = 1_795_968_000_000;

fn wrap_up(key: &str, conversation: &str, note: Value, acw: Value) -> Value {
    json!({"key": key, "created_at": 1, "action": {
        "type": "wrap_up", "conversation_id": conversation, "disposition": "callback_scheduled",
        "note": note, "after_contact_secs": acw}})
}

fn call(key: &str, conversation: &str, started_at: i64, ended_at: i64) -> Value {
    json!({"key": key, "created_at": 1, "action": {
        "type": "call_log", "conversation_id": conversation,
        "started_at": started_at, "ended_at": ended_at}})
}

#[tokio::test]
async fn wrap_up_and_calls_are_kept_and_a_supervisor_reads_them() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1004").await;
    let token = agent.access_token.as_str();
    let conversation = server
        .customer_writes("phone", "rec-1", "cust-rec-1", "complaints", "请回电话给我")
        .await;
    let claimed = server
        .act(
            token,
            json!([{"key": "key-rec-claim", "created_at": 1,
            "action": {"type": "claim", "conversation_id": conversation}}]),
        )
        .await;
    assert_eq!(claimed[0]["status"], "applied", "{claimed:?}");

    // Bad values first: each refused with its code, nothing kept.
    let too_long = "字".repeat(homedesk_protocol::MAX_MESSAGE_CHARS + 1);
    let bad = server
        .act(
            token,
            json!([
                call("key-rec-bad-1", &conversation, START, START - 1_000),
                call(
                    "key-rec-bad-2",
                    &conversation,
                    START,
                    START + 5 * 3600 * 1000
                ),
                call("key-rec-bad-3", &conversation, -10, 5),
                wrap_up("key-rec-bad-4", &conversation, json!("ok"), json!(-5)),
                wrap_up(
                    "key-rec-bad-5",
                    &conversation,
                    json!("ok"),
                    json!(86_400 * 30)
                ),
                wrap_up("key-rec-bad-6", &conversation, json!(too_long), json!(30)),
            ]),
        )
        .await;
    for (i, code) in [
        "invalid_duration",
        "invalid_duration",
        "invalid_duration",
        "invalid_duration",
        "invalid_duration",
        "too_long",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(bad[i]["status"], "rejected", "{i}: {}", bad[i]);
        assert_eq!(bad[i]["code"], *code, "{i}: {}", bad[i]);
        assert!(
            bad[i]["params"]["limit"].is_i64(),
            "{i}: the limit travels with the refusal so the workstation can say it: {}",
            bad[i]
        );
    }
    let supervisor = server.sign_in("s3001").await;
    let path = format!("/v1/conversations/{conversation}");
    let (status, before) = server.get(&path, Some(&supervisor.access_token)).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(
        before["wrap_ups"],
        json!([]),
        "a refused wrap-up keeps nothing"
    );
    assert_eq!(
        before["calls"],
        json!([]),
        "a refused call log keeps nothing"
    );
    assert_eq!(before["conversation"]["status"], "active");

    // The real thing: two calls, then the wrap-up.
    let good = server
        .act(
            token,
            json!([
                call("key-rec-call-1", &conversation, START, START + 65_400),
                call(
                    "key-rec-call-2",
                    &conversation,
                    START + 600_000,
                    START + 600_000
                ),
                wrap_up(
                    "key-rec-wrap-1",
                    &conversation,
                    json!("约好明天上午再回访"),
                    json!(95)
                ),
            ]),
        )
        .await;
    for result in &good {
        assert_eq!(result["status"], "applied", "{result}");
    }
    // Resent after a dropped link: kept once.
    let again = server
        .act(
            token,
            json!([call("key-rec-call-1", &conversation, START, START + 65_400)]),
        )
        .await;
    assert_eq!(again[0]["status"], "duplicate");

    let (status, read) = server.get(&path, Some(&supervisor.access_token)).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["conversation"]["status"], "resolved");
    let wraps = read["wrap_ups"].as_array().expect("wrap_ups");
    assert_eq!(wraps.len(), 1, "{read}");
    assert_eq!(wraps[0]["agent"], "a1004");
    assert_eq!(wraps[0]["disposition"], "callback_scheduled");
    assert_eq!(wraps[0]["note"], "约好明天上午再回访");
    assert_eq!(wraps[0]["after_contact_secs"], 95);
    let calls = read["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2, "the resend was not kept twice: {read}");
    assert_eq!(calls[0]["started_at"], START);
    assert_eq!(calls[0]["ended_at"], START + 65_400);
    assert_eq!(calls[0]["duration_secs"], 65);
    assert_eq!(calls[0]["agent"], "a1004");
    assert_eq!(calls[1]["duration_secs"], 0);
    let typed: homedesk_protocol::ConversationRecord =
        serde_json::from_value(read.clone()).expect("the answer is a ConversationRecord");
    assert_eq!(typed.calls.len(), 2);

    // The agent who did the work reads it too; one of other queues may not.
    let (status, _) = server.get(&path, Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    let outsider = server.sign_in("a1005").await;
    let (status, refused) = server.get(&path, Some(&outsider.access_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["code"], "forbidden");
    assert!(refused["message"].as_str().is_some_and(|m| !m.is_empty()));

    let (status, missing) = server
        .get(
            "/v1/conversations/conv-nope",
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["code"], "not_found");
    let (status, _) = server.get(&path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refusal_names_the_colleague_who_holds_the_conversation() {
    let server = Server::start_demo(&[]);
    let first = server.sign_in("a1001").await;
    let second = server.sign_in("a1003").await;
    let conversation = server
        .customer_writes("chat", "rec-2", "cust-rec-2", "presales", "有优惠吗")
        .await;
    let claim = |key: &str| {
        json!([{"key": key, "created_at": 1,
            "action": {"type": "claim", "conversation_id": conversation}}])
    };
    assert_eq!(
        server.act(&first.access_token, claim("key-hold-1")).await[0]["status"],
        "applied"
    );
    let lost = server.act(&second.access_token, claim("key-hold-2")).await;
    assert_eq!(lost[0]["code"], "already_claimed");
    assert_eq!(lost[0]["params"], json!({"holder": "a1001"}));
    let reply = server
        .act(&second.access_token, json!([{"key": "key-hold-3", "created_at": 1, "action": {
            "type": "reply", "conversation_id": conversation, "message_id": "m-hold-3", "body": "有的"}}]))
        .await;
    assert_eq!(reply[0]["code"], "not_assigned");
    assert_eq!(reply[0]["params"]["holder"], "a1001");
}
