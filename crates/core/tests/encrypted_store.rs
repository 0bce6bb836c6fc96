//! The encrypted agent store through the workstation, against the real
//! platform: the app starts locked and the password opens the store
//! offline; wrong passwords are throttled across restarts; sign-out ends the
//! session on the platform (at once, or at the next online sign-in when it
//! happened offline); "another person" (换人) closes one agent's store before
//! another's opens; practice history belongs to its trainee; every file is
//! owner-only and holds nothing in the clear.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{Server, eventually};
use homedesk_core::desk::{PlatformConfig, QueueScope};
use homedesk_core::practice::session::PracticeChoice;
use homedesk_core::store::sync_state;
use homedesk_core::vault::KdfParams;
use homedesk_core::{ErrorCode, Workstation};
use homedesk_protocol::Session;
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

fn platform(server: &Server) -> PlatformConfig {
    PlatformConfig {
        url: server.url.clone(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    }
}

fn workstation(
    dir: &Path,
    server: &Server,
    clock: homedesk_core::clock::SharedClock,
) -> Workstation {
    let ws = Workstation::open_with_clock(dir, clock).expect("opens");
    ws.set_platform_defaults(platform(server));
    ws.set_key_derivation(KdfParams::cheap_for_tests());
    ws
}

fn saved_session(ws: &Workstation) -> Session {
    ws.desk()
        .expect("desk")
        .engine()
        .store()
        .read(sync_state::session)
        .expect("reads")
        .expect("a session")
}

/// Whether the platform still honours this session's refresh token.
async fn refresh_status(server: &Server, session: &Session) -> StatusCode {
    server
        .post(
            "/v1/sessions/refresh",
            None,
            &json!({ "refresh_token": session.refresh_token }),
        )
        .await
        .0
}

#[cfg(unix)]
fn assert_owner_only(agents: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(agents).expect("agents folder").flatten() {
        let mode = entry.metadata().expect("stat").permissions().mode() & 0o777;
        let name = entry.file_name().to_string_lossy().into_owned();
        assert_eq!(mode, 0o600, "{name} must be readable by its owner only");
        names.push(name);
    }
    for wanted in [
        "a1001.sqlite",
        "a1001.sqlite-wal",
        "a1001.sqlite-shm",
        "a1001.key.json",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} checked: {names:?}"
        );
    }
    let mode = std::fs::metadata(agents)
        .expect("stat")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "the agents folder is owner-only");
}

#[tokio::test]
async fn the_app_starts_locked_the_password_opens_the_store_and_sign_out_ends_the_session() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "enc-1",
            "cust-enc-1",
            "aftersales",
            "桃子坏了三个，能退吗",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let ws = workstation(dir.path(), &server, homedesk_core::clock::system());
    let agent = ws
        .sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("signs in");
    let desk = ws.desk().expect("desk");
    eventually("the conversation is on this PC", || async {
        desk.queue(QueueScope::Unassigned)
            .expect("queue")
            .iter()
            .any(|i| i.id == conversation)
            .then_some(())
    })
    .await;
    let session = saved_session(&ws);
    #[cfg(unix)]
    assert_owner_only(&dir.path().join("agents"));
    // Nothing of the customer or the session is readable in any file.
    for entry in std::fs::read_dir(dir.path().join("agents"))
        .expect("list")
        .flatten()
    {
        let text =
            String::from_utf8_lossy(&std::fs::read(entry.path()).expect("read")).into_owned();
        for secret in [
            "桃子坏了三个",
            "测试顾客",
            &session.refresh_token,
            &session.access_token,
        ] {
            assert!(
                !text.contains(secret),
                "{} holds {secret:?} in the clear",
                entry.path().display()
            );
        }
    }
    drop(desk);
    drop(ws);

    // The next start shows the lock; nothing is open until the password.
    let ws = workstation(dir.path(), &server, homedesk_core::clock::system());
    let resumed = ws.resume().expect("resumes").expect("the last agent");
    assert!(resumed.locked, "the app starts locked");
    assert_eq!(
        (resumed.code.as_str(), resumed.name.as_str()),
        ("a1001", agent.name.as_str()),
        "the lock screen names the agent (from the key file, not the store)"
    );
    assert_eq!(ws.desk().err().map(|e| e.code()), Some(ErrorCode::Locked));
    assert!(ws.desk_even_when_locked().is_err(), "the store is not open");
    let answer = ws.unlock("guess").expect("checks");
    assert!(!answer.unlocked && answer.failures == 1 && answer.retry_after_ms == 0);
    let answer = ws.unlock(PASSWORD).expect("checks");
    assert!(answer.unlocked, "{answer:?}");
    assert_eq!(answer.agent.map(|a| a.code).as_deref(), Some("a1001"));
    let desk = ws.desk().expect("open now");
    assert!(
        desk.queue(QueueScope::Unassigned)
            .expect("queue")
            .iter()
            .any(|i| i.id == conversation),
        "the agent's data is back"
    );
    drop(desk);

    // Signing out ends the session on the platform, not only here.
    assert_eq!(refresh_status(&server, &session).await, StatusCode::OK);
    let session = saved_session(&ws);
    ws.sign_out().await.expect("signs out");
    assert_eq!(
        refresh_status(&server, &session).await,
        StatusCode::UNAUTHORIZED,
        "the platform ended the session"
    );
    let (status, _) = server
        .get("/v1/changes?limit=1", Some(&session.access_token))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the access token is dead too"
    );
    assert!(ws.signed_in().is_none());
    assert!(
        ws.resume().expect("reads").is_none(),
        "no saved session to resume"
    );
}

#[tokio::test]
async fn a_sign_out_while_offline_ends_the_session_at_the_next_online_sign_in() {
    let mut server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = workstation(dir.path(), &server, homedesk_core::clock::system());
    ws.sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("signs in");
    let old = saved_session(&ws);
    server.stop();
    ws.sign_out().await.expect("signs out offline");
    assert!(ws.signed_in().is_none());

    let server = Server::start_at(&server.dir, &["--demo"]);
    ws.set_platform_defaults(platform(&server));
    ws.sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("signs in again");
    assert_eq!(
        refresh_status(&server, &old).await,
        StatusCode::UNAUTHORIZED,
        "the session ended offline is ended on the platform now"
    );
    let waiting = ws
        .desk()
        .expect("desk")
        .engine()
        .store()
        .read(sync_state::ended_sessions)
        .expect("reads");
    assert!(waiting.is_empty(), "nothing left to tell: {waiting:?}");
    let current = saved_session(&ws);
    assert_eq!(
        refresh_status(&server, &current).await,
        StatusCode::OK,
        "the new one lives"
    );
}

#[tokio::test]
async fn wrong_passwords_make_the_lock_wait_and_the_wait_survives_a_restart() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let clock = homedesk_core::clock::FakeClock::at(homedesk_core::clock::now_ms());
    let shared: homedesk_core::clock::SharedClock = clock.clone();
    let ws = workstation(dir.path(), &server, Arc::clone(&shared));
    ws.sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("signs in");
    drop(ws);

    let ws = workstation(dir.path(), &server, Arc::clone(&shared));
    ws.resume().expect("resumes").expect("locked");
    for n in 1..=4 {
        let answer = ws.unlock("guess").expect("checks");
        assert_eq!(
            (answer.unlocked, answer.failures, answer.retry_after_ms),
            (false, n, 0)
        );
    }
    let answer = ws.unlock("guess").expect("checks");
    assert_eq!(
        (answer.failures, answer.retry_after_ms),
        (5, 30_000),
        "the fifth waits 30 s"
    );
    clock.advance(5_000);
    let answer = ws.unlock(PASSWORD).expect("checks");
    assert!(!answer.unlocked, "not even checked during the wait");
    assert_eq!(answer.retry_after_ms, 25_000);
    drop(ws);

    // Closing the app is no way around it.
    let ws = workstation(dir.path(), &server, Arc::clone(&shared));
    ws.resume().expect("resumes").expect("locked");
    let answer = ws.unlock(PASSWORD).expect("checks");
    assert_eq!((answer.unlocked, answer.retry_after_ms), (false, 25_000));
    clock.advance(25_000);
    let answer = ws.unlock("guess").expect("checks");
    assert_eq!(
        (answer.failures, answer.retry_after_ms),
        (6, 60_000),
        "doubles"
    );
    clock.advance(60_000);
    let answer = ws.unlock(PASSWORD).expect("checks");
    assert!(answer.unlocked && answer.failures == 0, "{answer:?}");
}

#[tokio::test]
async fn another_person_closes_the_first_agents_store_before_their_own_opens() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = workstation(dir.path(), &server, homedesk_core::clock::system());
    ws.sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("a1001 signs in");
    let first = ws.desk().expect("desk");
    ws.switch_user().expect("换人");
    assert_eq!(
        Arc::strong_count(&first),
        1,
        "the workstation keeps no handle on the first agent's desk"
    );
    assert!(ws.signed_in().is_none());
    assert_eq!(
        ws.desk().err().map(|e| e.code()),
        Some(ErrorCode::NotSignedIn)
    );
    ws.sign_in(&server.url, "a1002", PASSWORD)
        .await
        .expect("a1002 signs in");
    assert_eq!(ws.desk().expect("desk").profile().code, "a1002");
    drop(first);

    let known = ws.known_agents();
    let codes: Vec<(&str, bool)> = known
        .iter()
        .map(|a| (a.code.as_str(), a.saved_session))
        .collect();
    assert_eq!(codes, [("a1001", true), ("a1002", true)]);

    ws.switch_user().expect("换人 again");
    let wrong = ws.unlock_as("a1001", "guess").expect("checks");
    assert!(!wrong.unlocked);
    assert!(
        ws.desk().is_err(),
        "nobody's desk is open after a wrong password"
    );
    let answer = ws.unlock_as("a1001", PASSWORD).expect("checks");
    assert!(answer.unlocked);
    assert_eq!(ws.desk().expect("desk").profile().code, "a1001");
    let err = ws.unlock_as("a9999", PASSWORD).expect_err("unknown here");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(
        ws.desk().expect("still open").profile().code,
        "a1001",
        "an unknown agent closes nothing"
    );
}

#[tokio::test]
async fn practice_history_belongs_to_its_trainee() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = workstation(dir.path(), &server, homedesk_core::clock::system());
    ws.set_content_dir(std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../content"
    )));
    // The shared plain history file of an earlier version, with one result.
    let legacy = dir.path().join("sandbox").join("history.sqlite");
    std::fs::create_dir_all(legacy.parent().expect("folder")).expect("folder");
    rusqlite::Connection::open(&legacy)
        .expect("plain")
        .execute_batch(
            "CREATE TABLE practice_results (id TEXT PRIMARY KEY, scenario_id TEXT NOT NULL,
                 title TEXT NOT NULL, pack_id TEXT, exam INTEGER NOT NULL,
                 percent INTEGER NOT NULL, passed INTEGER NOT NULL,
                 finished_at INTEGER NOT NULL, report TEXT NOT NULL, uploaded_at INTEGER);
             INSERT INTO practice_results VALUES ('old-1', 'sc-zh-refund', '退款', NULL, 0,
                 90, 1, 1000, '{}', NULL);",
        )
        .expect("legacy history");
    ws.sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("signs in");
    assert!(!legacy.exists(), "the plain history file is gone");
    assert_eq!(
        ws.practice_history().expect("history").len(),
        1,
        "its result moved into the agent's store"
    );
    ws.start_practice(&PracticeChoice::Scenario("sc-zh-where-parcel".into()))
        .await
        .expect("practice");
    let desk = ws.desk().expect("practice desk");
    let conversation = "conv-sc-zh-where-parcel";
    eventually("the practice customer writes", || async {
        desk.queue(QueueScope::All)
            .expect("queue")
            .iter()
            .any(|i| i.id == conversation)
            .then_some(())
    })
    .await;
    desk.act(homedesk_protocol::Action::Claim {
        conversation_id: conversation.into(),
    })
    .expect("claim");
    desk.reply(conversation, "亲，您好，我帮您查一下物流")
        .expect("reply");
    desk.wrap_up(conversation, "info_given", None, 5)
        .expect("wrap up");
    eventually("the contact is over", || async {
        desk.practice_status()
            .contacts
            .iter()
            .any(|c| c.over)
            .then_some(())
    })
    .await;
    drop(desk);
    assert_eq!(ws.practice_history().expect("history").len(), 2);
    assert!(ws.stop_practice().is_some(), "back to the live desk");
    assert!(!legacy.exists(), "no shared history file");

    ws.switch_user().expect("换人");
    ws.sign_in(&server.url, "a1002", PASSWORD)
        .await
        .expect("a1002 signs in");
    assert!(
        ws.practice_history().expect("history").is_empty(),
        "another trainee does not see a1001's practice"
    );
    ws.switch_user().expect("换人");
    assert!(ws.unlock_as("a1001", PASSWORD).expect("checks").unlocked);
    assert_eq!(
        ws.practice_history().expect("history").len(),
        2,
        "a1001's history is in a1001's store"
    );
}
