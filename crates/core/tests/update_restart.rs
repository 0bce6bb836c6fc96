//! The restart rule for updates against a real workstation: an open
//! conversation on the desk blocks the restart until it is wrapped up, and
//! a reply waiting in the outbox blocks it until the platform has it.

mod common;

use std::path::PathBuf;

use common::eventually;
use homedesk_core::Workstation;
use homedesk_core::practice::session::PracticeChoice;
use homedesk_core::store::{Store, outbox};
use homedesk_core::updates::RestartBlock;
use homedesk_protocol::{Action, Presence};

fn content_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

#[tokio::test]
async fn an_open_conversation_blocks_the_restart_until_it_is_wrapped_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let ws = Workstation::open(dir.path()).expect("opens");
    ws.set_content_dir(content_dir());
    assert_eq!(ws.restart_block(), None, "nobody at the desk");
    let scenario = "sc-zh-where-parcel";
    ws.start_practice(&PracticeChoice::Scenario(scenario.into()))
        .await
        .expect("practice");
    let desk = ws.desk().expect("desk");
    let conversation = format!("conv-{scenario}");
    eventually("the customer arrives", || async {
        desk.conversation(&conversation).expect("read").map(|_| ())
    })
    .await;
    desk.act(Action::Claim {
        conversation_id: conversation.clone(),
    })
    .expect("claimed");
    assert_eq!(ws.restart_block(), Some(RestartBlock::ConversationOpen));
    desk.reply(&conversation, "您好，我帮您查一下")
        .expect("replied");
    desk.wrap_up(&conversation, "info_given", None, 3)
        .expect("wrapped up");
    eventually(
        "the restart is allowed once the contact is over",
        || async { ws.restart_block().is_none().then_some(()) },
    )
    .await;
}

#[test]
fn only_replies_in_the_outbox_count_as_unsent_replies() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(
        dir.path().join("a.sqlite"),
        &homedesk_core::store::StoreKey::from_bytes([7; 32]),
    )
    .expect("store");
    let count = || store.read(outbox::pending_replies).expect("count");
    store
        .write(|tx| {
            outbox::enqueue(
                tx,
                "a1001",
                Action::Presence {
                    presence: Presence::Busy,
                },
                1_000,
            )
        })
        .expect("saved");
    assert_eq!(count(), 0, "a presence change is not a reply");
    store
        .write(|tx| {
            outbox::enqueue(
                tx,
                "a1001",
                Action::Reply {
                    conversation_id: "c1".into(),
                    message_id: "msg-1".into(),
                    body: "在的".into(),
                    attachments: vec![],
                },
                2_000,
            )
        })
        .expect("saved");
    assert_eq!(count(), 1);
}
