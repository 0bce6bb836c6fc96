//! Requests on the edge of what `docs/openapi.yaml` allows, each answered as
//! the file says. Every test here is one finding of the Schemathesis run
//! (`make conformance`) that was fixed on the server's side: a request valid
//! by the file that the platform refused, or a limit it counted differently
//! from the file (bytes instead of characters).

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{DEMO_PASSWORD, Server};

/// `Homedesk-Protocol: value` on GET /v1/health: the status.
async fn health_with_protocol(server: &Server, value: &str) -> (StatusCode, Value) {
    let response = server
        .client
        .get(format!("{}/v1/health", server.url))
        .header("Homedesk-Protocol", value)
        .send()
        .await
        .expect("the platform answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_protocol_header_takes_exactly_the_documented_spellings() {
    let server = Server::start_demo(&[]);
    for accepted in ["1", "1.0", "1.7", "1.999999999"] {
        let (status, body) = health_with_protocol(&server, accepted).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "Homedesk-Protocol: {accepted} matches the file's pattern: {body}"
        );
    }
    // Leading zeros and ten-digit parts used to be read as 1 (or refused only
    // by overflow); the pattern in the file has one spelling per version.
    for refused in ["01", "1.01", "00.00", "1.1234567890", "2", "0", "1.", "v1"] {
        let (status, body) = health_with_protocol(&server, refused).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("unsupported_protocol")),
            "Homedesk-Protocol: {refused} is outside the file's pattern"
        );
    }
}

#[tokio::test]
async fn sign_in_limits_count_characters_as_the_schema_does() {
    let server = Server::start_demo(&[]);
    let sign_in = |agent: String, password: String, device: String| {
        let server = &server;
        async move {
            server
                .post(
                    "/v1/sessions",
                    None,
                    &json!({"agent": agent, "password": password, "device_id": device}),
                )
                .await
        }
    };
    // 64 and 128 characters of three UTF-8 bytes each: within the schema's
    // maxLength, though over 64 and 128 bytes. Unknown agent, so 401.
    let (status, body) = sign_in("张".repeat(64), "x".into(), "机".repeat(128)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized")),
        "a schema-valid sign-in of an unknown agent is 401, not 400: {body}"
    );
    // A 1024-character password of 4-byte characters: 4 KiB of UTF-8, which
    // the old 4 KiB body limit and byte count refused.
    let (status, body) = sign_in("a1001".into(), "😀".repeat(1024), "ws-1".into()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a 1024-character password is schema-valid: {body}"
    );
    for (agent, password, device, field) in [
        ("张".repeat(65), "x".to_owned(), "ws-1".to_owned(), "agent"),
        (
            " \u{3000}".to_owned(),
            "x".to_owned(),
            "ws-1".to_owned(),
            "agent",
        ),
        (
            "a1001".to_owned(),
            "x".repeat(1025),
            "ws-1".to_owned(),
            "password",
        ),
        (
            "a1001".to_owned(),
            "x".to_owned(),
            "机".repeat(129),
            "device_id",
        ),
    ] {
        let (status, body) = sign_in(agent, password, device).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "the message names {field}: {body}"
        );
    }
    // The real demo agent still signs in.
    let (status, _) = sign_in("a1001".into(), DEMO_PASSWORD.into(), "ws-1".into()).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_page_limit_of_any_size_is_served_as_the_largest_page() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("s3001").await.access_token;
    // Too large for a 64-bit number, but an integer of at least 1.
    for limit in ["1001", "18446744073709551616", "99999999999999999999999999"] {
        let (status, body) = server
            .get(&format!("/v1/changes?limit={limit}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::OK, "limit={limit}: {body}");
    }
    for limit in ["0", "000", "-1", "1.5", "+5", "", "1e3"] {
        let (status, body) = server
            .get(&format!("/v1/changes?limit={limit}"), Some(&token))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "limit={limit} is not an integer of at least 1: {body}"
        );
    }
}

#[tokio::test]
async fn ingress_names_an_unknown_queue_404_and_checks_every_text_it_keeps() {
    let server = Server::start_demo(&[]);
    let message = |queue: &str| {
        json!({
            "external_id": format!("contract-{queue}"),
            "customer": {"id": "c-contract", "name": "测试", "phone": "13800001234", "city": null},
            "queue": queue,
            "subject": "问",
            "body": "你好",
            "category": null,
        })
    };
    let (status, body) = server.ingress("chat", &message("no-such-queue")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "a well-formed message naming a queue the platform lacks: {body}"
    );
    // The longest body the schema allows, in characters outside the BMP sent
    // as JSON escapes (as Python's json.dumps does): 120 KB, over the old
    // 64 KiB limit, within the new one.
    let mut longest = message("presales");
    longest["external_id"] = json!("contract-longest");
    longest["body"] = json!("BODY");
    let escaped = serde_json::to_string(&longest)
        .expect("json")
        .replace("BODY", &"\\ud83d\\ude00".repeat(10_000));
    assert!(escaped.len() > 120_000, "the body is sent escaped");
    let response = server
        .client
        .post(format!("{}/v1/ingress/chat", server.url))
        .bearer_auth(server.ingress_token())
        .header("Content-Type", "application/json")
        .body(escaped)
        .send()
        .await
        .expect("the platform answers");
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "10,000 characters, JSON-escaped: {:?}",
        response.text().await
    );
    for (field, value) in [
        ("/customer/phone", json!("1".repeat(65))),
        ("/customer/city", json!("城".repeat(101))),
        ("/category", json!("c".repeat(65))),
        ("/subject", json!(" \t\u{3000}")),
    ] {
        let mut bad = message("presales");
        bad["external_id"] = json!(format!("contract-bad{}", field.replace('/', "-")));
        *bad.pointer_mut(field).expect("the message has this field") = value;
        let (status, answer) = server.ingress("chat", &bad).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{field}: {answer}"
        );
    }
}

#[tokio::test]
async fn a_practice_result_with_a_clock_set_back_or_a_lost_report_is_kept() {
    let server = Server::start_demo(&[]);
    let trainee = server.sign_in("t2001").await.access_token;
    let record = |id: &str, report: Value| {
        json!({
            "id": id, "scenario_id": "s-1", "scenario_title": "练习",
            "percent": 70, "passed": true,
            "started_at": 1_718_000_300_000_i64, "finished_at": 1_718_000_000_000_i64,
            "report": report,
        })
    };
    let (status, body) = server
        .post(
            "/v1/training-records",
            Some(&trainee),
            &json!({"records": [record("clock-back-0001", json!({})), record("lost-report-0001", Value::Null)]}),
        )
        .await;
    assert_eq!(
        (status, body.clone()),
        (StatusCode::OK, json!({"stored": 2, "duplicates": 0})),
        "both records are schema-valid and kept, not refused with the whole upload"
    );
    let mut blank = record("blank-0001", json!({}));
    blank["scenario_id"] = json!(" ");
    let (status, body) = server
        .post(
            "/v1/training-records",
            Some(&trainee),
            &json!({"records": [blank]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a blank scenario_id: {body}"
    );
}

#[tokio::test]
async fn a_conversation_id_is_limited_in_characters() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("s3001").await.access_token;
    // 128 characters, 384 bytes: a well-formed id that names nothing.
    let (status, body) = server
        .get(
            &format!("/v1/conversations/{}", "会".repeat(128)),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = server
        .get(
            &format!("/v1/conversations/{}", "会".repeat(129)),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn a_refusal_before_the_body_is_read_still_reaches_the_client() {
    let server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let body = serde_json::to_vec(&json!({"actions": [{
        "key": "refused-0001", "created_at": 1,
        "action": {"type": "reply", "conversation_id": "c", "message_id": "m", "body": "x".repeat(60_000)},
    }]}))
    .expect("json");
    // One keep-alive client, as a workstation or an adapter has. Refused
    // for a header (400) or the token (401) before the body is looked at.
    for (round, (header, value, bearer, status)) in [
        (
            "Homedesk-Link",
            "great",
            token.as_str(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "Homedesk-Protocol",
            "2",
            token.as_str(),
            StatusCode::BAD_REQUEST,
        ),
        ("Homedesk-Link", "ok", "forged", StatusCode::UNAUTHORIZED),
    ]
    .into_iter()
    .cycle()
    .take(60)
    .enumerate()
    {
        let answer = server
            .client
            .post(format!("{}/v1/actions", server.url))
            .bearer_auth(bearer)
            .header(header, value)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match answer {
            Ok(response) => assert_eq!(response.status(), status, "round {round}"),
            Err(err) => panic!(
                "round {round}: the refusal was lost ({err:?}); the platform must read the body before answering"
            ),
        }
    }
}
