//! The retention sweep (PIPL): a conversation resolved longer ago than
//! `retention.conversation_days` gets tombstones in the change log — for
//! itself, its messages and (when it was their last) its customer — that
//! reach everyone who saw it; a conversation resolved more recently does
//! not; the sweep is idempotent; the platform keeps the rows.
//!
//! The conversations are made over HTTP on the real server; the sweep is
//! then run through the library at a chosen moment (as the daily upkeep
//! does at its own), and the result read back over HTTP.

mod support;

use homedesk_platform::config::ServeConfig;
use homedesk_platform::{Platform, now_ms};
use homedesk_protocol::{ChangeBody, EntityKind, Record};
use reqwest::StatusCode;
use serde_json::json;
use support::*;

const DAY_MS: i64 = 24 * 3600 * 1000;

async fn resolve(server: &Server, token: &str, conversation: &str) {
    let done = server
        .act(
            token,
            json!([
                {"key": format!("claim-{conversation}"), "created_at": 1,
                 "action": {"type": "claim", "conversation_id": conversation}},
                {"key": format!("wrap-{conversation}"), "created_at": 2,
                 "action": {"type": "wrap_up", "conversation_id": conversation,
                            "disposition": "resolved"}}
            ]),
        )
        .await;
    assert!(
        done.iter().all(|r| r["status"] == "applied"),
        "claimed and resolved: {done:?}"
    );
}

#[tokio::test]
async fn a_conversation_resolved_past_retention_is_tombstoned_and_kept_for_supervisors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut server = Server::start_at(&data, &["--demo"]);
    let agent = server.sign_in("a1002").await;
    let old = server
        .customer_writes(
            "chat",
            "ret-1",
            "cust-ret-1",
            "aftersales",
            "我的手机号是13800000000",
        )
        .await;
    let recent = server
        .customer_writes("chat", "ret-2", "cust-ret-2", "aftersales", "地址写错了")
        .await;
    let open = server
        .customer_writes("chat", "ret-3", "cust-ret-3", "aftersales", "还在吗")
        .await;
    resolve(&server, &agent.access_token, &old).await;
    // The moment between the two resolutions (strictly after the first).
    let between = now_ms() + 1;
    while now_ms() <= between {
        std::hint::spin_loop();
    }
    resolve(&server, &agent.access_token, &recent).await;
    let (_, cursor) = server.pull_all(&agent.access_token, None).await;
    server.stop();

    // The sweep as it runs 90 days after `between`: `old` is past the
    // default retention, `recent` is not.
    // On a thread of its own: PostgreSQL's driver blocks on its own runtime.
    blocking(|| {
        let storage = open_storage(&data);
        let settings = ServeConfig::default()
            .resolve(false)
            .expect("defaults")
            .settings;
        assert_eq!(
            settings.conversation_retention_ms,
            90 * DAY_MS,
            "90 days by default"
        );
        let platform = Platform::new(storage, settings);
        let later = between + 90 * DAY_MS;
        assert_eq!(
            platform.sweep_retention_at(later).expect("sweep"),
            1,
            "old only"
        );
        assert_eq!(
            platform.sweep_retention_at(later).expect("again"),
            0,
            "a second sweep writes nothing (idempotent)"
        );
    });

    let server = Server::start_at(&data, &["--demo"]);
    let agent = server.sign_in("a1002").await;
    // What a PC that had synced before the sweep gets now: tombstones.
    let (after, _) = server.pull_all(&agent.access_token, Some(cursor)).await;
    let deleted: Vec<(EntityKind, String)> = after
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Delete { entity, id } => Some((*entity, id.clone())),
            ChangeBody::Upsert(_) => None,
        })
        .collect();
    assert!(
        deleted.contains(&(EntityKind::Conversation, old.clone())),
        "the old conversation is tombstoned: {deleted:?}"
    );
    assert!(
        deleted.contains(&(EntityKind::Customer, "cust-ret-1".to_owned())),
        "its customer too (no other conversation of theirs): {deleted:?}"
    );
    assert_eq!(
        deleted
            .iter()
            .filter(|(kind, _)| *kind == EntityKind::Message)
            .count(),
        1,
        "and its one message: {deleted:?}"
    );
    for kept in [&recent, &open] {
        assert!(
            !deleted.iter().any(|(_, id)| id == kept),
            "{kept} was resolved more recently or is open: not tombstoned"
        );
    }

    // A PC syncing from the start never gets the old one.
    let (all, _) = server.pull_all(&agent.access_token, None).await;
    let upserted = |id: &str| {
        all.iter()
            .any(|c| matches!(&c.body, ChangeBody::Upsert(Record::Conversation(r)) if r.id == id))
    };
    assert!(!upserted(&old), "the old conversation is not sent again");
    assert!(
        !all.iter().any(|c| matches!(
            &c.body,
            ChangeBody::Upsert(Record::Message(m)) if m.conversation_id == old
        )),
        "nor its messages"
    );
    assert!(upserted(&recent) && upserted(&open), "the others are");

    // The platform keeps it for supervisors.
    let supervisor = server.sign_in("s3001").await;
    let (status, record) = server
        .get(
            &format!("/v1/conversations/{old}"),
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["conversation"]["status"], "resolved");
}

#[test]
fn retention_days_out_of_range_are_refused() {
    for days in ["0", "3651", "many"] {
        let tmp = tempfile::tempdir().expect("tmp");
        let out = cli_until_exit(&[
            "serve",
            "--data-dir",
            tmp.path().to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
            "--retention-days",
            days,
        ]);
        assert!(!out.status.success(), "--retention-days {days} is refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("retention-days") || stderr.contains("retention"),
            "the error names the setting: {stderr}"
        );
    }
}
