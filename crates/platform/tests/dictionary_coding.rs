//! The `homedesk-zstd1` content coding on the wire (decision 0043): coded
//! request bodies are read like plain ones, answers are coded against the
//! request's body when asked for, and bad coded bodies are refused with a
//! clear error and change nothing.

mod support;

use homedesk_protocol::coding::{self, DICTIONARY_CODING};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn coded_requests_and_answers_carry_the_same_json() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1002").await.access_token;
    let conversation = server
        .customer_writes("chat", "dc-1", "cust-dc-1", "aftersales", "快递到哪了？")
        .await;
    server.claim(&token, &conversation).await;
    let raw = raw_client(&server.dir.join("tls/ca.pem"));

    // Every answer says request bodies may come in the coding (RFC 7694).
    let plain = raw
        .get(format!("{}/v1/changes", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("changes");
    assert_eq!(
        header(&plain, "accept-encoding").as_deref(),
        Some(DICTIONARY_CODING)
    );
    let cursor = plain.json::<Value>().await.expect("page")["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();

    // A reply pushed in the coding, the answer asked for in it.
    let body = serde_json::to_vec(&json!({"actions": [{
        "key": "dc-reply-0001", "created_at": 1,
        "action": {"type": "reply", "conversation_id": conversation, "message_id": "msg-dc-1",
                   "body": "您好，订单已经发出了，预计两到三天送达。", "attachments": []}}]}))
    .unwrap();
    let response = raw
        .post(format!("{}/v1/actions?cursor={cursor}", server.url))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", DICTIONARY_CODING)
        .header("Accept-Encoding", format!("{DICTIONARY_CODING}, zstd"))
        .body(coding::encode(&body, b""))
        .send()
        .await
        .expect("push");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-encoding").as_deref(),
        Some(DICTIONARY_CODING)
    );
    let wire = response.bytes().await.expect("answer");
    // Against the request's body: decoding without it does not give the JSON.
    let answer: Value =
        serde_json::from_slice(&coding::decode(&wire, &body, 1 << 20).expect("decodes")).unwrap();
    assert!(
        coding::decode(&wire, b"", 1 << 20)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            != Some(answer.clone())
    );
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
    let stored = answer["changes"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["id"] == "msg-dc-1")
        .expect("the reply comes back as stored");
    assert_eq!(
        stored["data"]["body"],
        "您好，订单已经发出了，预计两到三天送达。"
    );
    // The coded answer is much smaller than plain zstd of the same JSON.
    let plain_zstd = zstd::bulk::compress(&serde_json::to_vec(&answer).unwrap(), 3).unwrap();
    assert!(
        wire.len() * 10 < plain_zstd.len() * 7,
        "{} B coded against {} B of plain zstd",
        wire.len(),
        plain_zstd.len()
    );

    // The coding `GET /v1/changes` (from `cursor`) is answered in.
    let coding_of = |cursor: Option<&str>, accept: String| {
        let url = match cursor {
            Some(cursor) => format!("{}/v1/changes?cursor={cursor}", server.url),
            None => format!("{}/v1/changes", server.url),
        };
        let request = raw
            .get(url)
            .bearer_auth(&token)
            .header("Accept-Encoding", accept);
        async move {
            let response = request.send().await.expect("changes");
            header(&response, "content-encoding")
        }
    };
    // A small page is coded.
    assert_eq!(
        coding_of(Some(&cursor), format!("{DICTIONARY_CODING}, zstd"))
            .await
            .as_deref(),
        Some(DICTIONARY_CODING)
    );
    // A big answer (the first page of a desk: the knowledge base) goes by
    // plain zstd, which compresses it better than zstd with a dictionary.
    assert_eq!(
        coding_of(None, format!("{DICTIONARY_CODING}, zstd"))
            .await
            .as_deref(),
        Some("zstd")
    );
    // Without it in Accept-Encoding, nothing is coded that way.
    assert_eq!(
        coding_of(Some(&cursor), "zstd".into()).await.as_deref(),
        Some("zstd")
    );
}

#[tokio::test]
async fn bad_coded_bodies_are_refused_and_change_nothing() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1002").await.access_token;
    let raw = raw_client(&server.dir.join("tls/ca.pem"));
    let before = server.pull_all(&token, None).await.1;
    let push = |body: Vec<u8>, encoding: &'static str| {
        raw.post(format!("{}/v1/actions", server.url))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .header("Content-Encoding", encoding)
            .body(body)
            .send()
    };
    let presence = serde_json::to_vec(
        &json!({"actions": [{"key": "dc-presence-1", "created_at": 1,
        "action": {"type": "presence", "presence": "busy"}}]}),
    )
    .unwrap();

    // Not zstd at all.
    let response = push(b"{\"actions\": []}".to_vec(), DICTIONARY_CODING)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "invalid_request");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(DICTIONARY_CODING),
        "{error}"
    );

    // A coding the platform does not take.
    let response = push(presence.clone(), "gzip").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "unsupported_media_type");

    // Small on the wire, over the endpoint's limit once decoded.
    let bomb = format!(
        "{{\"actions\": [{{\"key\": \"dc-big-0001\", \"created_at\": 1, \"action\": {{\"type\": \"presence\", \"presence\": \"busy\"}}, \"pad\": \"{}\"}}]}}",
        "a".repeat(8 * 1024 * 1024)
    );
    let coded = coding::encode(bomb.as_bytes(), b"");
    assert!(coded.len() < 64 * 1024);
    let response = push(coded, DICTIONARY_CODING).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Nothing of the above was logged.
    let (changes, _) = server.pull_all(&token, Some(before)).await;
    assert!(changes.is_empty(), "{changes:?}");

    // The same action, coded properly, is applied.
    let response = push(coding::encode(&presence, b""), DICTIONARY_CODING)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
}
