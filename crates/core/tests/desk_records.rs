//! What the agent does reaches the platform and comes back explained:
//! wrap-up notes, after-contact work and call times are kept by the real
//! platform; a refusal names the colleague who holds the conversation; the
//! queue never hides the longest-waiting contact behind newer resolved ones;
//! and a locked screen shows the agent away and takes no contact.

mod common;

use common::{Server, eventually};
use homedesk_core::desk::away::AWAY;
use homedesk_core::desk::{Desk, DeskEvent, PlatformConfig, QueueScope};
use homedesk_core::store::{Store, records, sync_state};
use homedesk_core::sync::SyncEvent;
use homedesk_core::{ErrorCode, Workstation, paths};
use homedesk_protocol::{
    Action, ActionCode, AgentProfile, Channel, Conversation, ConversationStatus, Presence,
    Priority, Record, Role, Session,
};
use serde_json::json;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

fn platform(server: &Server) -> PlatformConfig {
    PlatformConfig {
        url: server.url.clone(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    }
}

async fn delivered(desk: &Desk) {
    eventually("the outbox is delivered", || async {
        (desk.status().pending_actions == 0).then_some(())
    })
    .await;
}

/// The presence the platform has for `agent`, as a fresh pull shows it.
async fn platform_presence(server: &Server, agent: &str) -> Presence {
    let session = server.sign_in("s3001").await;
    let (changes, _) = server.pull_all(&session.access_token, None).await;
    changes
        .into_iter()
        .rev()
        .find_map(|c| match c.body {
            homedesk_protocol::ChangeBody::Upsert(Record::AgentProfile(p)) if p.code == agent => {
                Some(p.presence)
            }
            _ => None,
        })
        .expect("the agent's profile is in the log")
}

fn conversation(id: &str, status: ConversationStatus, assigned: Option<&str>, at: i64) -> Record {
    Record::Conversation(Conversation {
        id: id.to_owned(),
        channel: Channel::Chat,
        queue: "presales".into(),
        customer_id: format!("cust-{id}"),
        subject: format!("subject {id}"),
        category: None,
        status,
        assigned_to: assigned.map(str::to_owned),
        priority: Priority::Normal,
        created_at: at,
        first_response_due: at + 60_000,
        resolve_due: at + 3_600_000,
        first_response_at: None,
        last_message_at: at,
        last_message_preview: "…".into(),
        disposition: None,
        version: 1,
    })
}

#[tokio::test]
async fn the_queue_never_hides_the_longest_waiting_contacts() {
    let dir = tempfile::tempdir().expect("tmp");
    let me = AgentProfile {
        code: "a1001".into(),
        name: "王丽".into(),
        role: Role::Agent,
        queues: vec!["presales".into()],
        skills: vec![],
        max_chats: 4,
        presence: Presence::Available,
        presence_reason: None,
    };
    let store = Store::open(
        paths::agent_db(dir.path(), "a1001").expect("path"),
        &homedesk_core::store::StoreKey::from_bytes([7; 32]),
    )
    .expect("store");
    store
        .write(|tx| {
            sync_state::set_session(
                tx,
                Some(&Session {
                    access_token: "t".into(),
                    access_expires_at: 0,
                    refresh_token: "r".into(),
                    refresh_expires_at: 0,
                    agent: me.clone(),
                    server_time: 0,
                    device_secret: None,
                }),
            )?;
            // A customer has waited since the morning, one conversation of
            // mine is still open; since then 5,001 others were resolved.
            let morning = 1_795_968_000_000;
            let waiting = conversation("conv-waiting", ConversationStatus::Queued, None, morning);
            records::upsert_record(tx, &waiting, "a1001")?;
            let mine = conversation(
                "conv-mine",
                ConversationStatus::Pending,
                Some("a1001"),
                morning + 1,
            );
            records::upsert_record(tx, &mine, "a1001")?;
            for i in 0..5_001 {
                let done = conversation(
                    &format!("conv-done-{i}"),
                    ConversationStatus::Resolved,
                    Some("a1001"),
                    morning + 60_000 + i,
                );
                records::upsert_record(tx, &done, "a1001")?;
            }
            Ok::<_, homedesk_core::store::StoreError>(())
        })
        .expect("seeded");
    drop(store);

    let nowhere = PlatformConfig {
        url: "https://127.0.0.1:9".into(),
        ca_file: None,
        allow_insecure_loopback: false,
    };
    let desk = Desk::resume(
        dir.path(),
        &nowhere,
        "pc-q",
        "a1001",
        &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        homedesk_core::clock::system(),
        &homedesk_core::data_usage::DataUsage::in_memory(homedesk_core::clock::system()),
    )
    .expect("resumes")
    .expect("a session");
    let unassigned = desk.queue(QueueScope::Unassigned).expect("queue");
    assert_eq!(
        unassigned.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["conv-waiting"],
        "the customer waiting longest is listed, however many newer conversations were resolved"
    );
    let mine = desk.queue(QueueScope::Mine).expect("queue");
    assert_eq!(
        mine.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["conv-mine"],
        "my open conversation is listed; resolved ones are not"
    );
    assert_eq!(desk.queue(QueueScope::All).expect("queue").len(), 2);
}

#[tokio::test]
async fn wrap_up_note_after_contact_work_and_calls_reach_the_platform() {
    let server = Server::start_demo(&[]);
    let phone = server
        .customer_writes("phone", "rec-core-1", "cust-rc-1", "complaints", "请回电")
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::sign_in(
        dir.path(),
        &platform(&server),
        "pc-r",
        "a1004",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await
    .expect("signs in");
    eventually("the contact reaches the workstation", || async {
        desk.conversation(&phone).expect("read").map(|_| ())
    })
    .await;
    desk.act(Action::Claim {
        conversation_id: phone.clone(),
    })
    .expect("claimed");

    // Bad values never reach the outbox, and say so.
    let before = desk.status().pending_actions;
    let start = 1_795_968_000_000;
    for err in [
        desk.log_call(&phone, start, start - 1)
            .expect_err("ends before it starts"),
        desk.log_call(&phone, start, start + 5 * 3_600_000)
            .expect_err("five hours"),
        desk.wrap_up(&phone, "resolved", None, -1)
            .expect_err("negative"),
        desk.wrap_up(&phone, "resolved", Some("字".repeat(10_001)), 5)
            .expect_err("too long"),
    ] {
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    }
    assert_eq!(desk.status().pending_actions, before, "nothing was queued");

    desk.log_call(&phone, start, start + 125_000)
        .expect("logged");
    desk.wrap_up(
        &phone,
        "callback_scheduled",
        Some("明早十点再打".into()),
        42,
    )
    .expect("wrapped up");
    delivered(&desk).await;
    assert!(desk.conflicts().expect("conflicts").is_empty());

    let supervisor = server.sign_in("s3001").await;
    let (status, read) = server
        .get(
            &format!("/v1/conversations/{phone}"),
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{read}");
    assert_eq!(read["wrap_ups"][0]["note"], "明早十点再打");
    assert_eq!(read["wrap_ups"][0]["after_contact_secs"], 42);
    assert_eq!(
        read["calls"],
        json!([{"agent": "a1004", "started_at": start, "ended_at": start + 125_000,
                "duration_secs": 125, "logged_at": read["calls"][0]["logged_at"]}])
    );
}

#[tokio::test]
async fn a_refusal_keeps_its_code_and_names_the_colleague_who_has_it() {
    let server = Server::start_demo(&[]);
    let chat = server
        .customer_writes("chat", "rec-core-2", "cust-rc-2", "presales", "在吗")
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::sign_in(
        dir.path(),
        &platform(&server),
        "pc-c",
        "a1001",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await
    .expect("signs in");
    eventually("the contact reaches the workstation", || async {
        desk.conversation(&chat).expect("read").map(|_| ())
    })
    .await;
    let colleague = server.sign_in("a1003").await;
    let taken = server
        .act(
            &colleague.access_token,
            json!([{"key": "key-rc-claim", "created_at": 1,
            "action": {"type": "claim", "conversation_id": chat}}]),
        )
        .await;
    assert_eq!(taken[0]["status"], "applied");
    desk.act(Action::Claim {
        conversation_id: chat.clone(),
    })
    .expect("queued");
    let conflicts = eventually("the refusal comes back", || async {
        let conflicts = desk.conflicts().expect("conflicts");
        (!conflicts.is_empty()).then_some(conflicts)
    })
    .await;
    assert_eq!(conflicts[0].code, Some(ActionCode::AlreadyClaimed));
    assert_eq!(conflicts[0].params.holder.as_deref(), Some("a1003"));
    assert_eq!(
        conflicts[0].holder_name.as_deref(),
        Some("刘欣怡"),
        "the interface can name the colleague, not just a code"
    );
}

#[tokio::test]
async fn locking_shows_the_agent_away_and_unlocking_restores_their_choice_after_a_restart() {
    let server = Server::start_demo(&[]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = Workstation::open(dir.path()).expect("opens");
    ws.set_platform_defaults(platform(&server));
    ws.sign_in(&server.url, "a1003", PASSWORD)
        .await
        .expect("signs in");
    let desk = ws.desk().expect("desk");
    desk.act(Action::Presence {
        presence: Presence::Busy,
    })
    .expect("busy");
    delivered(&desk).await;
    eventually("the desk shows the agent's choice", || async {
        (desk.presence().expect("presence") == Presence::Busy).then_some(())
    })
    .await;

    ws.lock().expect("locks");
    assert_eq!(desk.presence().expect("presence"), AWAY, "away at once");
    delivered(&desk).await;
    assert_eq!(platform_presence(&server, "a1003").await, AWAY);
    eventually("the desk has pulled its own away back", || async {
        (desk.presence().expect("presence") == AWAY).then_some(())
    })
    .await;
    ws.lock().expect("locking twice is harmless");
    drop(desk);
    drop(ws);

    // Closed and started again while locked: the choice is still known.
    let ws = Workstation::open(dir.path()).expect("reopens");
    ws.set_platform_defaults(platform(&server));
    assert!(ws.resume().expect("resumes").expect("a session").locked);
    assert!(!ws.unlock("wrong password").expect("checks").unlocked);
    assert!(
        ws.desk_even_when_locked().is_err(),
        "at start the store stays closed until the password opens it"
    );
    let answer = ws.unlock(PASSWORD).expect("checks");
    assert!(answer.unlocked);
    let desk = ws.desk().expect("desk");
    assert_eq!(
        desk.presence().expect("presence"),
        Presence::Busy,
        "the presence chosen before the lock, not the away of the lock"
    );
    delivered(&desk).await;
    assert_eq!(platform_presence(&server, "a1003").await, Presence::Busy);
}

#[tokio::test]
async fn an_offer_that_reaches_a_locked_desk_is_declined_and_never_shown() {
    let server = Server::start_demo(&["--offer-timeout", "60"]);
    let dir = tempfile::tempdir().expect("tmp");
    let ws = Workstation::open(dir.path()).expect("opens");
    ws.set_platform_defaults(platform(&server));
    ws.sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("signs in");
    let desk = ws.desk().expect("desk");
    let mut events = desk.subscribe();
    desk.act(Action::Presence {
        presence: Presence::Available,
    })
    .expect("available");
    delivered(&desk).await;
    // Routing runs again when the event stream opens, so the order of the
    // two does not matter.
    let chat = server
        .customer_writes("chat", "rec-core-3", "cust-rc-3", "presales", "你好")
        .await;
    let offer = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            if let Ok(event @ SyncEvent::Offer(_)) = events.recv().await {
                return event;
            }
        }
    })
    .await
    .expect("the platform offers the chat to the available agent");
    assert!(
        matches!(
            ws.screen_event(&desk, offer.clone()),
            Some(DeskEvent::Offer { .. })
        ),
        "an unlocked desk shows the offer"
    );

    // The offer crossed the lock on the wire: it reaches a locked desk.
    ws.lock().expect("locks");
    assert_eq!(
        ws.screen_event(&desk, offer),
        None,
        "a locked desk shows no offer"
    );
    delivered(&desk).await;
    let declined: i64 = desk
        .engine()
        .store()
        .read(|c| {
            c.query_row(
                "SELECT count(*) FROM delivered WHERE json_extract(action, '$.type') = 'decline_offer'",
                [],
                |row| row.get(0),
            )
        })
        .expect("read");
    assert_eq!(declined, 1, "the workstation declined it");
    assert!(
        desk.conflicts().expect("conflicts").is_empty(),
        "declining an offer that had already ended is no conflict to tell the agent about"
    );
    let supervisor = server.sign_in("s3001").await;
    let (_, read) = server
        .get(
            &format!("/v1/conversations/{chat}"),
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(
        read["conversation"]["status"], "queued",
        "nobody took it for the locked agent"
    );
    assert_eq!(read["conversation"]["assigned_to"], serde_json::Value::Null);

    // Away, the locked desk is offered nothing: contacts go to a colleague.
    let colleague = server.sign_in("a1003").await;
    let mut colleague_events = server.events(&colleague.access_token, None).await;
    let available = server
        .act(
            &colleague.access_token,
            json!([{"key": "key-rc-avail", "created_at": 1,
            "action": {"type": "presence", "presence": "available"}}]),
        )
        .await;
    assert_eq!(available[0]["status"], "applied");
    server
        .customer_writes("chat", "rec-core-4", "cust-rc-4", "presales", "还有货吗")
        .await;
    colleague_events
        .wait_for("an offer to the available colleague", |e| {
            matches!(e, homedesk_protocol::ServerEvent::Offer(_))
        })
        .await;
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, SyncEvent::Offer(_)),
            "the platform offered a contact to a locked (away) desk: {event:?}"
        );
    }
}
