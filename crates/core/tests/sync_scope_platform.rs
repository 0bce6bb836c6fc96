//! The sync scope end to end (docs/decisions/0035-sync-scope.md), a desk
//! against the real platform over HTTPS: a colleague's claim takes the
//! conversation off my PC while the queue's waiting ones stay; I can still
//! open it on demand (read over the link, not stored); a release brings it
//! back with its thread. Bad inputs get clear errors: an unknown id or
//! another queue's conversation is `not_found`, and with the link down a
//! conversation that is not on the PC is `unreachable`.

mod common;

use common::{Server, eventually};
use homedesk_core::ErrorCode;
use homedesk_core::desk::{Desk, PlatformConfig, QueueScope};
use serde_json::json;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

fn platform(server: &Server) -> PlatformConfig {
    PlatformConfig {
        url: server.url.clone(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    }
}

#[tokio::test]
async fn a_colleagues_claim_leaves_my_pc_opens_on_demand_and_comes_back_when_released() {
    let mut server = Server::start_demo(&[]);
    let taken = server
        .customer_writes("chat", "sc-1", "cust-sc-1", "aftersales", "快递到哪了")
        .await;
    let waiting = server
        .customer_writes("chat", "sc-2", "cust-sc-2", "aftersales", "能改地址吗")
        .await;
    let elsewhere = server
        .customer_writes("phone", "sc-3", "cust-sc-3", "complaints", "我要投诉")
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::sign_in(
        dir.path(),
        &platform(&server),
        "pc-scope",
        "a1001",
        PASSWORD,
        homedesk_core::clock::system(),
    )
    .await
    .expect("signs in");
    eventually("both wait in my queue on my PC", || async {
        let queue = desk.queue(QueueScope::Unassigned).expect("queue");
        [&taken, &waiting]
            .iter()
            .all(|id| queue.iter().any(|item| &&item.id == id))
            .then_some(())
    })
    .await;

    let colleague = server.sign_in("a1002").await;
    server.claim(&colleague.access_token, &taken).await;
    eventually("the colleague's claim takes it off my PC", || async {
        desk.conversation(&taken)
            .expect("local read")
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        desk.conversation(&waiting).expect("local read").is_some(),
        "the unassigned one stays"
    );

    let opened = desk
        .open_conversation(&taken)
        .await
        .expect("opens from the platform");
    assert_eq!(opened.conversation.assigned_to.as_deref(), Some("a1002"));
    assert_eq!(opened.messages.len(), 1, "with its thread");
    assert_eq!(
        opened.customer.map(|k| k.id).as_deref(),
        Some("cust-sc-1"),
        "and its customer"
    );
    assert!(
        desk.conversation(&taken).expect("local read").is_none(),
        "read on demand, not stored: it is not in my scope"
    );

    let released = server
        .act(
            &colleague.access_token,
            json!([{"key": "sc-release", "created_at": 3,
                    "action": {"type": "release", "conversation_id": taken}}]),
        )
        .await;
    assert_eq!(released[0]["status"], "applied", "{released:?}");
    let back = eventually("released, it comes back to my PC", || async {
        desk.conversation(&taken).expect("local read")
    })
    .await;
    assert_eq!(back.messages.len(), 1, "with its thread");
    assert!(back.customer.is_some(), "and its customer");

    // Bad inputs.
    for (id, why) in [
        ("conv-nobody", "an unknown id"),
        (
            elsewhere.as_str(),
            "a conversation of a queue that is not mine",
        ),
    ] {
        let err = desk.open_conversation(id).await.expect_err(why);
        assert_eq!(err.code(), ErrorCode::NotFound, "{why}: {err}");
    }
    let err = desk.open_conversation("").await.expect_err("empty id");
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");

    // Offline: what is here still opens; what is not says so.
    server.stop();
    assert!(
        desk.open_conversation(&waiting).await.is_ok(),
        "a conversation on the PC opens offline"
    );
    let err = desk
        .open_conversation(&elsewhere)
        .await
        .expect_err("offline");
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err}");
}
