//! Sign-in throttling through real HTTPS: waits and lockout per agent code
//! and per client address (with and without a trusted proxy header), the
//! password left unchecked while waiting, the bounded password hashing, and
//! what the log and `/metrics` show. Durations are set short in each
//! platform's `platform.toml`; the tests poll, never sleep.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

/// A demo platform whose data folder has this `[sign_in]` section.
fn start_with_sign_in(section: &str) -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).expect("data dir");
    std::fs::write(dir.join("platform.toml"), format!("[sign_in]\n{section}")).expect("config");
    let server = Server::start_at(&dir, &["--demo"]);
    (tmp, server)
}

/// A sign-in, optionally with a forwarded-for header: status, body, Retry-After.
async fn try_sign_in(
    server: &Server,
    agent: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (StatusCode, Value, Option<u64>) {
    let mut request = server
        .client
        .post(format!("{}/v1/sessions", server.url))
        .json(&json!({"agent": agent, "password": password, "device_id": "d1"}));
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    let response = request.send().await.expect("the platform answers");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, retry_after)
}

/// `/metrics` with the platform's metrics token.
async fn metrics(server: &Server) -> String {
    server.metrics().await
}

#[tokio::test]
async fn failed_sign_ins_wait_then_lock_out_without_checking_the_password() {
    let (_tmp, server) = start_with_sign_in(
        "free_failures = 2\nlockout_after = 4\nfirst_delay_ms = 300\nmax_delay = 1\nlockout = 2\n\
         ip_free_failures = 1000\nip_lockout_after = 2000\n",
    );
    for n in 1..=3 {
        let (status, body, _) = try_sign_in(&server, "a1001", "wrong-guess", None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "guess {n} is checked: {body}"
        );
    }
    // The third failure began a wait: even the right password is refused
    // unchecked, with Retry-After.
    let (status, body, retry_after) = try_sign_in(&server, "a1001", DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    assert_eq!(retry_after, Some(1), "300 ms rounds up to 1 s");
    // Another agent from the same address is not slowed by a1001's counter.
    server.sign_in("a1002").await;

    // After the wait, the fourth failure locks the code out (2 s here).
    eventually("the first wait to end", || async {
        let (status, _, _) = try_sign_in(&server, "a1001", "wrong-guess", None).await;
        (status == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
    let (status, body, retry_after) = try_sign_in(&server, "a1001", DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked out: {body}");
    assert_eq!(retry_after, Some(2), "the lockout's length");

    // The lockout ends; the right password works and starts the count again.
    eventually("the lockout to end", || async {
        let (status, _, _) = try_sign_in(&server, "a1001", DEMO_PASSWORD, None).await;
        (status == StatusCode::CREATED).then_some(())
    })
    .await;
    for n in 1..=2 {
        let (status, _, _) = try_sign_in(&server, "a1001", "wrong-guess", None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "after a success, failure {n} is free again"
        );
    }

    let text = metrics(&server).await;
    assert!(
        text.contains("homedesk_sign_in_failures_total{reason=\"wrong_password\"} 6"),
        "{text}"
    );
    assert!(
        text.contains("homedesk_sign_in_throttled_total{by=\"agent\"}"),
        "{text}"
    );
    let log = std::fs::read_to_string(server.dir.with_extension("log")).expect("log");
    assert!(
        log.contains("sign-in failed") && log.contains("a1001") && log.contains("127.0.0.1"),
        "failures are logged with agent code and address: {log}"
    );
    assert!(
        !log.contains("wrong-guess") && !log.contains(DEMO_PASSWORD),
        "never the password"
    );
}

#[tokio::test]
async fn one_address_guessing_many_codes_is_throttled_and_a_forged_header_does_not_help() {
    let (_tmp, server) = start_with_sign_in(
        "free_failures = 100\nlockout_after = 200\nip_free_failures = 3\nip_lockout_after = 5\n\
         lockout = 60\n",
    );
    for n in 1..=4 {
        let (status, _, _) = try_sign_in(
            &server,
            &format!("guess{n}"),
            "wrong-guess",
            Some("10.0.0.9"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    // No proxy header is configured, so X-Forwarded-For is the client's own
    // words: a new value each time must not reset the address's count.
    let (status, body, retry_after) =
        try_sign_in(&server, "a1001", DEMO_PASSWORD, Some("10.0.0.10")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    let text = metrics(&server).await;
    assert!(
        text.contains("homedesk_sign_in_throttled_total{by=\"address\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("homedesk_sign_in_failures_total{reason=\"unknown_agent\"} 4"),
        "{text}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_count() {
    // The test's connections come from 127.0.0.1, a trusted proxy by default.
    let (_tmp, server) = start_with_sign_in(
        "free_failures = 100\nlockout_after = 200\nip_free_failures = 2\nip_lockout_after = 5\n\
         lockout = 60\ntrusted_proxy_header = \"X-Forwarded-For\"\n",
    );
    for n in 1..=3 {
        let (status, _, _) = try_sign_in(
            &server,
            &format!("guess{n}"),
            "wrong-guess",
            Some("203.0.113.7, 10.0.0.1"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let (status, _, _) = try_sign_in(&server, "a1001", DEMO_PASSWORD, Some("10.0.0.1")).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address the proxy added (the last) is the one counted"
    );
    let (status, body, _) =
        try_sign_in(&server, "a1001", DEMO_PASSWORD, Some("10.0.0.1, 10.0.0.2")).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "another client behind the same proxy signs in: {body}"
    );
}

#[tokio::test]
async fn password_hashing_runs_a_few_at_a_time_and_refuses_a_flood() {
    let (_tmp, server) = start_with_sign_in(
        "hashing = 1\nhashing_queue = 0\nip_free_failures = 1000\nip_lockout_after = 2000\n",
    );
    let attempts = (0..24).map(|n| {
        let server = &server;
        async move { try_sign_in(server, &format!("flood{n}"), "wrong-guess", None).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        !busy.is_empty(),
        "with one hashing slot and no line, some of 24 sign-ins at once are refused: {answers:?}"
    );
    for (_, body, retry_after) in &busy {
        assert_eq!(body["code"], "unavailable");
        assert_eq!(*retry_after, Some(1));
    }
    assert!(
        answers
            .iter()
            .all(|(status, _, _)| *status == StatusCode::UNAUTHORIZED
                || *status == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    let text = metrics(&server).await;
    assert!(
        text.contains("homedesk_sign_in_throttled_total{by=\"busy\"}"),
        "{text}"
    );
}
