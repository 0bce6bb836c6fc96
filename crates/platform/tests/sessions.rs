//! The platform end to end, sessions and transport: HTTPS with its own CA,
//! sign-in and token rotation, metrics, compression and clean shutdown.

mod support;

use reqwest::StatusCode;
use serde_json::json;
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

    let text = server.metrics().await;
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

#[tokio::test]
async fn sigterm_shuts_down_cleanly_with_streams_open() {
    let mut server = Server::start_demo(&[]);
    let token = server.sign_in("a1001").await.access_token;
    let _stream = server.events(&token, None).await;
    let status = server.stop();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
}
