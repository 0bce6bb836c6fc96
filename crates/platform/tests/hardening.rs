//! The platform on an open network and a shared server, against the real
//! binary: its data folder, database and keys are its OS user's alone; a
//! panicking handler answers 500 and the server keeps serving (also in
//! release builds: the release profile unwinds); `/metrics` needs its token.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use reqwest::StatusCode;
use support::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_data_folder_database_and_keys_are_the_owners_alone() {
    // A folder the platform makes itself (not the test's temporary one,
    // which is 0700 already), under the usual umask of 022.
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let server = Server::start_at(&dir, &["--demo"]);
    // A write, so the database has its -wal and -shm beside it.
    server.sign_in("a1001").await;

    assert_eq!(mode(&dir), 0o700, "the data folder is the owner's only");
    assert_eq!(mode(&dir.join("tls")), 0o700, "the TLS folder too");
    if on_postgres() {
        // The customers' data is in PostgreSQL, whose server keeps its
        // files its own user's (the platform has no file of it to guard):
        // none is left in the folder.
        for file in ["platform.db", "platform.db-wal", "platform.db-shm"] {
            assert!(!dir.join(file).exists(), "{file} on PostgreSQL");
        }
    } else {
        for file in ["platform.db", "platform.db-wal", "platform.db-shm"] {
            assert_eq!(
                mode(&dir.join(file)),
                0o600,
                "{file} holds customers' data: owner-only"
            );
        }
    }
    for file in [
        "tls/server-key.pem",
        "tls/ca-key.pem",
        "metrics-token",
        "demo-adapter-secret",
    ] {
        assert_eq!(
            mode(&dir.join(file)),
            0o600,
            "{file} holds customers' data or a secret: owner-only"
        );
    }
    assert_eq!(
        mode(&dir.join("tls/ca.pem")) & 0o600,
        0o600,
        "the CA certificate is public (workstations trust it)"
    );
}

#[tokio::test]
async fn a_database_made_readable_by_others_is_tightened_at_start() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let mut server = Server::start_at(&dir, &["--demo"]);
    server.stop();
    if on_postgres() {
        // No database file to loosen: PostgreSQL's server keeps its files
        // its own user's. The file of the folder that start tightens the
        // same way is the metrics token.
        assert!(!dir.join("platform.db").exists());
        std::fs::set_permissions(
            dir.join("metrics-token"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        let server = Server::start_at(&dir, &[]);
        assert_eq!(mode(&dir.join("metrics-token")), 0o600);
        server.metrics().await;
        return;
    }
    std::fs::set_permissions(
        dir.join("platform.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let _server = Server::start_at(&dir, &[]);
    assert_eq!(mode(&dir.join("platform.db")), 0o600);
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_keeps_serving() {
    let server = Server::start_demo(&[]);
    let response = server
        .client
        .get(format!("{}/v1/health", server.url))
        .header(homedesk_platform::http::PANIC_PROBE_HEADER, "1")
        .send()
        .await
        .expect("a panic still gets an answer, not a dropped connection");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = response.json().await.expect("JSON error");
    assert_eq!(body["code"], "internal", "{body}");
    let (status, _) = server.get("/v1/health", None).await;
    assert_eq!(status, StatusCode::OK, "the next request is served");
    let session = server.sign_in("a1001").await;
    let (status, _) = server
        .get("/v1/changes?limit=1", Some(&session.access_token))
        .await;
    assert_eq!(status, StatusCode::OK, "and the database is still usable");
}

/// Tests build in the dev profile, which unwinds anyway: this holds the
/// release profile (what ships) to unwinding too. With `panic = "abort"`
/// the first panicking request would end the whole platform.
#[test]
fn the_release_profile_unwinds_so_a_panic_is_caught() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("workspace Cargo.toml");
    let doc: toml::Table = toml::from_str(&text).expect("Cargo.toml is TOML");
    let release = doc
        .get("profile")
        .and_then(|p| p.get("release"))
        .and_then(|r| r.as_table())
        .expect("[profile.release]");
    let panic = release
        .get("panic")
        .and_then(|p| p.as_str())
        .unwrap_or("unwind");
    assert_eq!(
        panic, "unwind",
        "[profile.release] panic must unwind: CatchPanicLayer cannot catch an abort"
    );
}

#[tokio::test]
async fn metrics_need_the_token_from_the_data_folder() {
    let server = Server::start_demo(&[]);
    let (status, body) = server.get("/metrics", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized")),
        "no token: {body}"
    );
    let (status, _) = server.get("/metrics", Some("not-the-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a wrong token");
    let agent = server.sign_in("a1001").await;
    let (status, _) = server.get("/metrics", Some(&agent.access_token)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an agent's token is not it"
    );
    let token = server.metrics_token();
    assert!(token.len() >= 32, "a random token: {token:?}");
    let (status, body) = server.get("/metrics", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.as_str()
            .is_some_and(|t| t.contains("homedesk_sign_ins_total")),
        "{body}"
    );
}

#[tokio::test]
async fn metrics_take_the_configured_token_instead() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let configured = "prometheus-scrapes-with-this-1234";
    let server = Server::start_at(&dir, &["--demo", "--metrics-token", configured]);
    assert!(
        !dir.join("metrics-token").exists(),
        "no file token is made when one is configured"
    );
    let (status, _) = server.get("/metrics", Some(configured)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .get("/metrics", Some("prometheus-scrapes-with-this-1235"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
