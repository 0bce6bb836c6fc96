//! A bad link, end to end: the real sync engine (over HTTPS, through the
//! fault-injecting proxy) against the real platform process.
//!
//! 1. The engine judges its slow link degraded and says so on every
//!    request: the platform offers it the ticket, not the older chat, and
//!    once the link is good again the chat comes.
//! 2. The link goes down: after the queue's grace period (2 s in this
//!    test's world) the agent's waiting chat goes to a colleague, who
//!    replies; the ticket stays with the agent.
//! 3. The reply the agent typed offline is delivered when the link returns
//!    and comes back refused (the chat is the colleague's now), its text in
//!    the draft: nothing lost on either side.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::flaky::{FlakyProxy, Mode};
use common::{Server, eventually, platform_messages};
use homedesk_core::ConnectionState;
use homedesk_core::store::{Store, outbox, views};
use homedesk_core::sync::{HttpTransport, SyncEngine, SyncEvent};
use homedesk_protocol::{Action, Offer, Presence};
use tokio::sync::broadcast;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;
/// The agent whose link goes bad, and the colleague (both in `aftersales`).
const AGENT: &str = "a1002";
const COLLEAGUE: &str = "a1004";

/// The repository's content with a 2-second grace on the `aftersales` queue.
fn content_with_short_grace(into: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read content") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }
    copy(&common::platform::content_dir(), into);
    let world = into.join("demo").join("world.toml");
    let text = std::fs::read_to_string(&world).expect("world.toml");
    let queue = "resolve_secs = 172800\nskills = [\"aftersales\"]\n";
    assert!(text.contains(queue), "the aftersales queue as expected");
    std::fs::write(
        &world,
        text.replace(queue, &format!("{queue}vanished_grace_secs = 2\n")),
    )
    .expect("write world.toml");
}

fn engine(server: &Server, url: &str, dir: &Path, device: &str) -> Arc<SyncEngine<HttpTransport>> {
    let store = Arc::new(
        Store::open(
            dir.join(format!("{device}.sqlite")),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let mut config = common::quick_config(device);
    // The proxy's slow mode adds 400 ms per chunk; loopback answers in a few.
    config.slow_request = Duration::from_millis(300);
    SyncEngine::new(store, common::transport(server, url), config).expect("engine")
}

fn act(engine: &SyncEngine<HttpTransport>, action: Action) {
    let me = engine.agent().expect("signed in");
    engine
        .store()
        .write(|tx| outbox::enqueue(tx, &me, action, homedesk_core::clock::now_ms()))
        .expect("saved locally");
    engine.publish_status();
    engine.wake();
}

/// Waits for the offer of `conversation`, returning it and every offer seen
/// before it.
async fn offer_of(
    events: &mut broadcast::Receiver<SyncEvent>,
    conversation: &str,
) -> (Offer, Vec<Offer>) {
    let mut before = Vec::new();
    let until = tokio::time::Instant::now() + common::platform::DEADLINE;
    loop {
        match tokio::time::timeout_at(until, events.recv()).await {
            Ok(Ok(SyncEvent::Offer(offer))) if offer.conversation_id == conversation => {
                return (offer, before);
            }
            Ok(Ok(SyncEvent::Offer(offer))) => before.push(offer),
            Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(broadcast::error::RecvError::Closed)) => panic!("the engine stopped"),
            Err(_) => panic!("no offer of {conversation} within the deadline; saw {before:?}"),
        }
    }
}

async fn degraded_links(server: &Server) -> String {
    let text = server.metrics().await;
    text.lines()
        .find(|l| l.starts_with("homedesk_degraded_links "))
        .unwrap_or("")
        .to_owned()
}

fn drained(engine: &SyncEngine<HttpTransport>) -> Option<()> {
    (engine.store().read(outbox::count).expect("count") == 0).then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_link_routes_chats_elsewhere_and_loses_no_reply() {
    let tmp = tempfile::tempdir().expect("tmp");
    let content = tmp.path().join("content");
    content_with_short_grace(&content);
    let data = tmp.path().join("platform");
    std::fs::create_dir_all(&data).expect("data dir");
    let content_arg = content.to_str().expect("utf-8 path").to_owned();
    let server = Server::start_at(&data, &["--demo", "--content", &content_arg]);
    let upstream = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("platform address");
    let proxy = FlakyProxy::start(upstream, 12).await;

    // The agent works through the proxy: the village link.
    let agent = engine(&server, &proxy.url(), tmp.path(), "dev-agent");
    agent.sign_in(AGENT, PASSWORD).await.expect("signs in");
    agent.sync_once().await.expect("first sync");
    let mut agent_events = agent.subscribe();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let agent_task = tokio::spawn(Arc::clone(&agent).run(shutdown.clone()));
    act(
        &agent,
        Action::Presence {
            presence: Presence::Available,
        },
    );
    eventually("the agent is available and listening", || async {
        drained(&agent).filter(|_| agent.listening())
    })
    .await;
    assert_eq!(agent.status().state, ConnectionState::Online);

    // 1. The link turns slow: the engine judges it degraded and says so.
    proxy.set(Mode::Slow(Duration::from_millis(400)));
    eventually("the engine judges the slow link degraded", || async {
        agent.wake();
        (agent.status().state == ConnectionState::Degraded).then_some(())
    })
    .await;
    eventually("the platform hears it", || async {
        (degraded_links(&server).await == "homedesk_degraded_links 1").then_some(())
    })
    .await;
    let chat = server
        .customer_writes(
            "chat",
            "bad-link-1",
            "cust-bad-link-1",
            "aftersales",
            "在吗？我的退款什么时候到账",
        )
        .await;
    let ticket = server
        .customer_writes(
            "ticket",
            "bad-link-2",
            "cust-bad-link-2",
            "aftersales",
            "请把发票抬头改成公司名",
        )
        .await;
    let (ticket_offer, before) = offer_of(&mut agent_events, &ticket).await;
    assert!(
        before.is_empty(),
        "nothing but the ticket is offered over a degraded link, not the older chat: {before:?}"
    );
    assert_eq!(
        agent.status().state,
        ConnectionState::Degraded,
        "still degraded when the ticket came (the proxy is still slow)"
    );
    act(
        &agent,
        Action::AcceptOffer {
            offer_id: ticket_offer.offer_id,
        },
    );

    // The link recovers: the engine says `ok`, and the chat is offered.
    proxy.set(Mode::Up);
    eventually("the engine judges the link good again", || async {
        agent.wake();
        (agent.status().state == ConnectionState::Online).then_some(())
    })
    .await;
    let (chat_offer, _) = offer_of(&mut agent_events, &chat).await;
    assert_eq!(degraded_links(&server).await, "homedesk_degraded_links 0");
    act(
        &agent,
        Action::AcceptOffer {
            offer_id: chat_offer.offer_id,
        },
    );
    eventually("the agent holds the chat and the ticket", || async {
        drained(&agent)?;
        let held = |id: &str| {
            agent
                .store()
                .read(|c| views::conversation(c, id))
                .expect("read")
                .and_then(|c| c.assigned_to)
        };
        (held(&chat).as_deref() == Some(AGENT) && held(&ticket).as_deref() == Some(AGENT))
            .then_some(())
    })
    .await;

    // 2. The link goes down. The agent answers the customer anyway.
    proxy.set(Mode::Down);
    eventually("the agent's engine notices", || async {
        (!agent.listening()).then_some(())
    })
    .await;
    let offline_text = "您好，退款已经原路退回，1-3 个工作日到账";
    act(
        &agent,
        Action::Reply {
            conversation_id: chat.clone(),
            message_id: "msg-offline-1".into(),
            body: offline_text.into(),
            attachments: Vec::new(),
        },
    );

    // The colleague is on duty; after the 2 s grace the chat is theirs to take.
    let colleague = engine(&server, &server.url, tmp.path(), "dev-colleague");
    colleague
        .sign_in(COLLEAGUE, PASSWORD)
        .await
        .expect("signs in");
    colleague.sync_once().await.expect("first sync");
    let mut colleague_events = colleague.subscribe();
    let colleague_task = tokio::spawn(Arc::clone(&colleague).run(shutdown));
    act(
        &colleague,
        Action::Presence {
            presence: Presence::Available,
        },
    );
    let (offer, _) = offer_of(&mut colleague_events, &chat).await;
    act(
        &colleague,
        Action::AcceptOffer {
            offer_id: offer.offer_id,
        },
    );
    let colleague_text = "您好，我是同事小赵，接着帮您查退款";
    act(
        &colleague,
        Action::Reply {
            conversation_id: chat.clone(),
            message_id: "msg-colleague-1".into(),
            body: colleague_text.into(),
            attachments: Vec::new(),
        },
    );
    eventually("the colleague's reply is delivered", || async {
        drained(&colleague)
    })
    .await;
    assert!(
        colleague
            .store()
            .read(views::conflicts)
            .expect("conflicts")
            .is_empty(),
        "the colleague's accept and reply were applied"
    );
    assert_eq!(
        platform_messages(&server, COLLEAGUE, &chat).await,
        vec![colleague_text],
        "the customer has the colleague's reply"
    );
    assert!(
        colleague
            .store()
            .read(|c| views::conversation(c, &ticket))
            .expect("read")
            .is_none(),
        "the agent's ticket is not on the colleague's PC (outside their sync scope)"
    );
    let supervisor = server.sign_in("s3001").await;
    let (status, ticket_now) = server
        .get(
            &format!("/v1/conversations/{ticket}"),
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{ticket_now}");
    assert_eq!(
        ticket_now["conversation"]["assigned_to"].as_str(),
        Some(AGENT),
        "the ticket stays with the agent whose link went"
    );

    // 3. The link returns: the offline reply is refused and comes back.
    proxy.set(Mode::Up);
    eventually("the agent's offline reply is answered", || async {
        drained(&agent)
    })
    .await;
    let conflicts = agent.store().read(views::conflicts).expect("conflicts");
    let refused = conflicts
        .iter()
        .find(|c| c.conversation_id.as_deref() == Some(chat.as_str()))
        .unwrap_or_else(|| panic!("a refused action for the chat: {conflicts:?}"));
    assert_eq!(refused.code.as_deref(), Some("not_assigned"), "{refused:?}");
    assert!(
        refused.action["type"] == "reply" && refused.action["body"] == offline_text,
        "the refused action is the offline reply: {refused:?}"
    );
    let draft = agent
        .store()
        .read(|c| views::draft(c, &chat))
        .expect("draft");
    assert!(
        draft.as_deref().is_some_and(|d| d.contains(offline_text)),
        "the offline reply's text is back in the composer: {draft:?}"
    );
    assert_eq!(
        platform_messages(&server, COLLEAGUE, &chat).await,
        vec![colleague_text],
        "the refused reply did not reach the customer; the colleague's is there once"
    );

    let _ = stop.send(true);
    let _ = agent_task.await;
    let _ = colleague_task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_missed_in_a_row_reach_the_desk_as_a_break_with_its_reason() {
    let server = Server::start_demo(&["--offer-timeout", "1"]);
    let tmp = tempfile::tempdir().expect("tmp");
    let agent = engine(&server, &server.url, tmp.path(), "dev-missed");
    agent.sign_in(AGENT, PASSWORD).await.expect("signs in");
    agent.sync_once().await.expect("first sync");
    let mut events = agent.subscribe();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&agent).run(shutdown));
    act(
        &agent,
        Action::Presence {
            presence: Presence::Available,
        },
    );
    eventually("the agent is available and listening", || async {
        drained(&agent).filter(|_| agent.listening())
    })
    .await;
    for i in 0..3 {
        server
            .customer_writes(
                "chat",
                &format!("missed-{i}"),
                &format!("cust-missed-{i}"),
                "aftersales",
                "有人吗",
            )
            .await;
    }

    // Nobody answers the offers: after two the desk hears why it is on a break.
    let until = tokio::time::Instant::now() + common::platform::DEADLINE;
    let (presence, reason) = loop {
        match tokio::time::timeout_at(until, events.recv()).await {
            // (The echo of the agent's own `available` may come first.)
            Ok(Ok(SyncEvent::Presence { presence, reason })) if presence != Presence::Available => {
                break (presence, reason);
            }
            Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("no break reached the desk: {other:?}"),
        }
    };
    assert_eq!(presence, Presence::OnBreak);
    assert_eq!(
        reason,
        Some(homedesk_protocol::PresenceReason::MissedOffers(
            homedesk_protocol::MissedOffers { count: 2 }
        )),
        "the reason the desk shows"
    );

    // The agent chooses again: the platform clears the reason.
    act(
        &agent,
        Action::Presence {
            presence: Presence::Available,
        },
    );
    eventually("the stored profile has no reason any more", || async {
        drained(&agent)?;
        let me = agent.store().read(|c| {
            Ok::<_, homedesk_core::store::StoreError>(c.query_row(
                "SELECT json_extract(data, '$.presence'), json_extract(data, '$.presence_reason')
                     FROM agent_profiles WHERE id = ?1",
                [AGENT],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?)),
            )?)
        });
        (me.expect("profile") == ("available".to_owned(), None)).then_some(())
    })
    .await;
    let _ = stop.send(true);
    let _ = task.await;
}
