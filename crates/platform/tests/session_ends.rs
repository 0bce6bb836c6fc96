//! Sign-ins that end, through real HTTPS: the absolute lifetime, a refresh
//! retried within the grace period staying one sign-in, `DELETE
//! /v1/sessions` with either token, `agent disable` / `enable` /
//! `reset-password` run beside a live server (tokens and event streams end
//! at once), and the per-device secret handed out on sign-in.

mod support;

use std::time::Duration;

use homedesk_protocol::Session;
use reqwest::StatusCode;
use serde_json::json;
use support::*;

/// How soon an open event stream must end after its sign-in ended.
const STREAM_END: Duration = Duration::from_secs(5);

async fn refresh(server: &Server, token: &str) -> (StatusCode, serde_json::Value) {
    server
        .post(
            "/v1/sessions/refresh",
            None,
            &json!({"refresh_token": token}),
        )
        .await
}

async fn works(server: &Server, access_token: &str) -> bool {
    let (status, _) = server.get("/v1/changes?limit=1", Some(access_token)).await;
    status == StatusCode::OK
}

async fn sign_out(server: &Server, token: Option<&str>) -> StatusCode {
    server
        .request(reqwest::Method::DELETE, "/v1/sessions", token, None)
        .await
        .0
}

async fn sign_in_with(
    server: &Server,
    agent: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": agent, "password": password, "device_id": "pc-1"}),
        )
        .await
}

#[tokio::test]
async fn a_refresh_never_carries_a_sign_in_past_its_end() {
    let server = Server::start_demo(&[]);
    let first = server.sign_in("a1001").await;
    // Let the platform's clock move on, so a sliding expiry would show.
    eventually("the clock to move", || async {
        (homedesk_platform::now_ms() > first.server_time + 20).then_some(())
    })
    .await;
    let (status, body) = refresh(&server, &first.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second: Session = serde_json::from_value(body).expect("session");
    assert!(second.server_time > first.server_time);
    assert_eq!(
        second.refresh_expires_at, first.refresh_expires_at,
        "the sign-in ends 30 days after signing in, however often it is refreshed"
    );
    assert!(second.access_expires_at <= second.refresh_expires_at);

    // At its end (moved here to now in the database) the sign-in stops:
    // no refresh, and its event stream closes.
    let mut events = server.events(&second.access_token, None).await;
    sql(&server.dir, "UPDATE session_families SET expires_at = 1");
    assert!(
        events.ends_within(STREAM_END).await,
        "the stream of a sign-in past its end closes"
    );
    let (status, body) = refresh(&server, &second.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn a_retried_refresh_replaces_the_lost_answer_in_the_same_sign_in() {
    let server = Server::start_demo(&[]);
    let first = server.sign_in("a1002").await;
    let (status, lost) = refresh(&server, &first.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    let lost: Session = serde_json::from_value(lost).expect("session");
    // The answer was lost on the way; the workstation retries within grace.
    let (status, retried) = refresh(&server, &first.refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    let retried: Session = serde_json::from_value(retried).expect("session");
    assert!(works(&server, &retried.access_token).await);

    // The lost pair does not live on beside the retried one.
    assert!(
        !works(&server, &lost.access_token).await,
        "the lost answer's access token is replaced"
    );
    let (status, body) = refresh(&server, &lost.refresh_token).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the lost answer's refresh token is replaced: {body}"
    );
    assert!(
        works(&server, &retried.access_token).await,
        "presenting the replaced token is no reason to end the sign-in"
    );

    // Had the first answer arrived and been used, a retry means a second
    // holder: the sign-in ends.
    let other = server.sign_in("a1003").await;
    let (_, used) = refresh(&server, &other.refresh_token).await;
    let used: Session = serde_json::from_value(used).expect("session");
    let (status, _) = refresh(&server, &used.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = refresh(&server, &other.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_reused", "{body}");

    // Same sign-in: ending it with the retried pair ends the first access token too.
    assert!(works(&server, &first.access_token).await);
    assert_eq!(
        sign_out(&server, Some(&retried.refresh_token)).await,
        StatusCode::NO_CONTENT
    );
    assert!(
        !works(&server, &first.access_token).await,
        "one sign-in: the retry's tokens are of the same family"
    );
}

#[tokio::test]
async fn sign_out_takes_either_token_and_ends_the_event_stream() {
    let server = Server::start_demo(&[]);
    // With the refresh token (the access token may have expired offline).
    let session = server.sign_in("a1001").await;
    let mut events = server.events(&session.access_token, None).await;
    assert_eq!(
        sign_out(&server, Some(&session.refresh_token)).await,
        StatusCode::NO_CONTENT
    );
    assert!(!works(&server, &session.access_token).await);
    let (status, _) = refresh(&server, &session.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        events.ends_within(STREAM_END).await,
        "signing out closes the sign-in's event stream"
    );

    // With the access token; again: the sign-in is gone either way.
    let session = server.sign_in("a1001").await;
    assert_eq!(
        sign_out(&server, Some(&session.access_token)).await,
        StatusCode::NO_CONTENT
    );
    let (status, _) = refresh(&server, &session.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_out(&server, Some(&session.access_token)).await,
        StatusCode::NO_CONTENT,
        "idempotent"
    );
    assert_eq!(
        sign_out(&server, Some("no-such-token")).await,
        StatusCode::NO_CONTENT,
        "an unknown token: nothing to end"
    );
    assert_eq!(
        sign_out(&server, None).await,
        StatusCode::UNAUTHORIZED,
        "no Authorization header"
    );
}

#[tokio::test]
async fn disable_enable_and_reset_password_end_sign_ins_of_a_running_platform() {
    let server = Server::start_demo(&[]);
    let dir = server.dir.to_str().expect("utf-8").to_owned();
    let (_, wrong) = sign_in_with(&server, "a1001", "not-the-password").await;

    let session = server.sign_in("a1001").await;
    let mut events = server.events(&session.access_token, None).await;
    let other = server.sign_in("a1002").await;
    let mut other_events = server.events(&other.access_token, None).await;
    let out = cli(&["agent", "disable", "--data-dir", &dir, "a1001"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 sign-in(s) ended"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        events.ends_within(STREAM_END).await,
        "the disabled agent's event stream closes"
    );
    assert!(!works(&server, &session.access_token).await);
    let (status, _) = refresh(&server, &session.refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = sign_in_with(&server, "a1001", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, wrong, "a disabled agent looks like a wrong password");
    assert!(
        !other_events.ends_within(Duration::from_millis(1500)).await,
        "other agents' streams stay open"
    );
    assert!(works(&server, &other.access_token).await);

    let out = cli(&["agent", "enable", "--data-dir", &dir, "a1001"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let session = server.sign_in("a1001").await;
    let mut events = server.events(&session.access_token, None).await;

    let out = cli_with_input(
        &["agent", "reset-password", "--data-dir", &dir, "a1001"],
        "a-new-password-1\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        events.ends_within(STREAM_END).await,
        "a reset password ends the agent's streams"
    );
    assert!(!works(&server, &session.access_token).await);
    let (status, _) = sign_in_with(&server, "a1001", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password is gone");
    let (status, body) = sign_in_with(&server, "a1001", "a-new-password-1").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    for bad in [
        cli(&["agent", "disable", "--data-dir", &dir, "zz404"]),
        cli_with_input(
            &["agent", "reset-password", "--data-dir", &dir, "a1002"],
            "short\n",
        ),
    ] {
        assert!(!bad.status.success(), "refused");
        assert!(!String::from_utf8_lossy(&bad.stderr).trim().is_empty());
    }
    assert!(
        works(&server, &other.access_token).await,
        "a refused reset changes nothing"
    );
}

#[tokio::test]
async fn each_device_gets_its_own_secret_on_sign_in_only() {
    let server = Server::start_demo(&[]);
    let sign_in = |device: &'static str| {
        let server = &server;
        async move {
            let (status, body) = server
                .post(
                    "/v1/sessions",
                    None,
                    &json!({"agent": "a1003", "password": DEMO_PASSWORD, "device_id": device}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            serde_json::from_value::<Session>(body).expect("session")
        }
    };
    let first = sign_in("pc-a").await;
    let secret = first.device_secret.clone().expect("a secret on sign-in");
    assert_eq!(secret.len(), 43, "256 bits, base64url without padding");
    assert_eq!(
        sign_in("pc-a").await.device_secret.as_deref(),
        Some(secret.as_str()),
        "the same device gets the same secret every sign-in"
    );
    assert_ne!(
        sign_in("pc-b").await.device_secret.as_deref(),
        Some(secret.as_str()),
        "another device has its own"
    );
    let (status, body) = refresh(&server, &first.refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.get("device_secret").is_none(),
        "not sent on refresh: {body}"
    );
}
