//! The team console on a supervisor's and a trainer's desk, against the
//! real platform: the team view read live and kept, shown with its age
//! when the platform is gone; a `team_changed` nudge reaching the desk; a
//! reassignment and a presence set from the console delivered through the
//! outbox; a note that mentions an agent raising a notice on their desk;
//! reports and their CSV saved with a byte order mark; a trainee promoted
//! by a trainer; and the console refused to an agent.

mod common;

use std::time::Duration;

use common::{Server, eventually};
use homedesk_core::desk::{Desk, PlatformConfig};
use homedesk_core::sync::SyncEvent;
use homedesk_core::{Error, ErrorCode};
use homedesk_protocol::{LinkState, Presence, Role, TransferTarget};
use serde_json::json;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

fn platform(server: &Server) -> PlatformConfig {
    PlatformConfig {
        url: server.url.clone(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    }
}

async fn desk(server: &Server, dir: &std::path::Path, agent: &str) -> Desk {
    Desk::sign_in(
        dir,
        &platform(server),
        &format!("pc-{agent}"),
        agent,
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await
    .expect("signs in")
}

async fn delivered(desk: &Desk) {
    eventually("the outbox is delivered", || async {
        (desk.status().pending_actions == 0).then_some(())
    })
    .await;
}

/// Waits for a desk event that `wanted` picks.
async fn desk_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<SyncEvent>,
    mut wanted: impl FnMut(&SyncEvent) -> Option<T>,
) -> T {
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(event)) => {
                if let Some(found) = wanted(&event) {
                    return found;
                }
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(closed)) => panic!("desk events ended: {closed}"),
            Err(_) => panic!("the desk event did not come within 20 s"),
        }
    }
}

#[tokio::test]
async fn the_team_view_is_live_nudged_and_kept_for_when_the_link_is_down() {
    let mut server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let supervisor = desk(&server, dir.path(), "s3001").await;
    assert_eq!(supervisor.profile().role, Role::Supervisor);
    let mut events = supervisor.subscribe();

    let first = supervisor.console_team(480).await.expect("team view");
    assert!(first.live, "{first:?}");
    let view = first.view.expect("a view");
    let a1002 = view
        .agents
        .iter()
        .find(|a| a.code == "a1002")
        .expect("a1002 works the supervised queues");
    assert_eq!(a1002.link, LinkState::Offline, "a1002 has no desk open");

    // a1002's workstation opens its event stream: the supervisor's desk is
    // nudged and the next read shows them online.
    let agent = server.sign_in("a1002").await;
    let _stream = server.events(&agent.access_token, None).await;
    desk_event(&mut events, |e| {
        matches!(e, SyncEvent::TeamChanged).then_some(())
    })
    .await;
    let online = supervisor.console_team(480).await.expect("team view");
    let a1002 = online
        .view
        .as_ref()
        .and_then(|v| v.agents.iter().find(|a| a.code == "a1002").cloned())
        .expect("a1002");
    assert_eq!(a1002.link, LinkState::Online);
    let fetched_at = online.fetched_at.expect("when");

    // The platform goes away: the last view is shown, with its age and why.
    server.stop();
    let kept = supervisor.console_team(480).await.expect("kept view");
    assert!(!kept.live);
    assert_eq!(kept.view, online.view, "the last view, not a blank page");
    assert_eq!(kept.fetched_at, Some(fetched_at));
    assert!(kept.problem.is_some(), "says why: {kept:?}");

    // Reports and promotions need the platform and say so.
    let reports = supervisor
        .console_reports("2026-12-01", "2026-12-04", 480)
        .await
        .expect_err("offline");
    assert_eq!(reports.code(), ErrorCode::Unreachable, "{reports}");
}

#[tokio::test]
async fn a_supervisor_reassigns_sets_away_and_mentions_from_the_console() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "console-core-1",
            "cust-cc-1",
            "aftersales",
            "橙子坏了三个",
        )
        .await;
    let holder = server.sign_in("a1002").await;
    server.claim(&holder.access_token, &conversation).await;

    let dirs = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let agent = desk(&server, dirs.0.path(), "a1004").await;
    let mut agent_events = agent.subscribe();
    let supervisor = desk(&server, dirs.1.path(), "s3001").await;

    // A mention of someone who cannot see the conversation is refused by
    // the platform (a1005 works logistics and presales, not after-sales).
    supervisor
        .note(&conversation, "@a1005 看一下")
        .expect("queued");
    delivered(&supervisor).await;
    let refused = supervisor.conflicts().expect("refusals");
    assert_eq!(refused.len(), 1, "{refused:?}");

    // Reassigned from a1002 to a1004, then a note that mentions a1004:
    // their desk raises a notice.
    eventually("the supervisor's desk has the conversation", || async {
        supervisor.conversation(&conversation).ok().flatten()
    })
    .await;
    supervisor
        .transfer(&conversation, TransferTarget::Agent("a1004".into()))
        .expect("reassign queued");
    supervisor
        .note(&conversation, "@a1004 客户等了很久，先道歉再退款")
        .expect("note queued");
    delivered(&supervisor).await;
    let mention = desk_event(&mut agent_events, |e| match e {
        SyncEvent::Mentioned(m) => Some((m.conversation_id.clone(), m.by.clone())),
        _ => None,
    })
    .await;
    assert_eq!(mention, (conversation.clone(), "s3001".to_owned()));
    let mine = agent
        .conversation(&conversation)
        .expect("read")
        .expect("here");
    assert_eq!(mine.conversation.assigned_to.as_deref(), Some("a1004"));

    // Set away from the console: the agent's desk hears why.
    supervisor
        .set_agent_presence("a1004", Presence::OnBreak)
        .expect("queued");
    delivered(&supervisor).await;
    let reason = desk_event(&mut agent_events, |e| match e {
        SyncEvent::Presence { presence, reason } => Some((*presence, *reason)),
        _ => None,
    })
    .await;
    assert_eq!(
        reason,
        (
            Presence::OnBreak,
            Some(homedesk_protocol::PresenceReason::SetBySupervisor)
        )
    );
    assert!(matches!(
        supervisor.set_agent_presence("s3001", Presence::OnBreak),
        Err(Error::InvalidAction(_))
    ));

    // The report of today and its CSV, saved with a byte order mark.
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let offset = homedesk_core::desk::console::local_utc_offset_minutes();
    let reports = supervisor
        .console_reports(&today, &today, offset)
        .await
        .expect("reports");
    assert_eq!(reports.from.to_string(), today);
    let folder = tempfile::tempdir().expect("tmp");
    let saved = supervisor
        .console_export_reports(&today, &today, offset, folder.path())
        .await
        .expect("saved");
    let bytes = std::fs::read(&saved).expect("csv");
    assert!(
        bytes.starts_with("\u{feff}day,agent,".as_bytes()),
        "{saved:?}"
    );
    assert!(matches!(
        supervisor
            .console_reports("2026-12-40", &today, offset)
            .await,
        Err(Error::InvalidAction(_))
    ));

    // An agent is refused the console.
    let refused = agent
        .console_team(480)
        .await
        .expect_err("agents have no console");
    assert_eq!(refused.code(), ErrorCode::Forbidden, "{refused}");
}

#[tokio::test]
async fn a_trainer_promotes_a_trainee_who_passed_an_exam() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let trainer = desk(&server, dir.path(), "r4001").await;
    assert_eq!(trainer.profile().role, Role::Trainer);

    let before = trainer.console_trainees().await.expect("trainees");
    let t2001 = before
        .view
        .as_ref()
        .and_then(|v| v.trainees.iter().find(|t| t.code == "t2001"))
        .expect("t2001 is a trainee");
    assert!(!t2001.can_promote, "no exam passed yet");
    let refused = trainer
        .console_promote("t2001", vec!["presales".into()])
        .await
        .expect_err("no passed exam");
    assert_eq!(refused.code(), ErrorCode::Forbidden, "{refused}");

    let trainee = server.sign_in("t2001").await;
    let (status, answer) = server
        .post(
            "/v1/training-records",
            Some(&trainee.access_token),
            &json!({"records": [{
                "id": "exam-t2001-0001",
                "scenario_id": "sc-zh-where-parcel",
                "scenario_title": "快递到哪了",
                "pack_id": "exam-basics",
                "exam": true,
                "percent": 86,
                "passed": true,
                "started_at": 1_795_968_000_000_i64,
                "finished_at": 1_795_968_300_000_i64,
                "report": {"items": [
                    {"id": "greet", "description": "先问好", "met": true},
                    {"id": "apologise", "description": "先道歉", "met": false}
                ]}
            }]}),
        )
        .await;
    assert!(status.is_success(), "{answer}");

    let after = trainer.console_trainees().await.expect("trainees");
    let t2001 = after
        .view
        .as_ref()
        .and_then(|v| v.trainees.iter().find(|t| t.code == "t2001"))
        .expect("t2001");
    assert!(t2001.can_promote);
    assert_eq!(t2001.exams_passed, 1);
    assert!(t2001.missed.iter().any(|m| m.item_id == "apologise"));

    let change = trainer
        .console_promote("t2001", vec!["presales".into()])
        .await
        .expect("promoted");
    assert_eq!((change.from, change.to), (Role::Trainee, Role::Agent));
    assert_eq!(change.changed_by, "r4001");
    assert!(matches!(
        trainer.console_promote("t2001", Vec::new()).await,
        Err(Error::InvalidAction(_))
    ));
}
