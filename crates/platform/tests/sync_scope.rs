//! The sync scope against the real server (docs/decisions/0035-sync-scope.md):
//! an agent's PC gets their own conversations, the queue's waiting ones and
//! their own recently resolved ones. A colleague's claim sends my PC a
//! tombstone, a release brings the conversation back with its whole thread,
//! an old resolved conversation is left out of a first sync (and tombstoned
//! for a PC that had it) but opens on demand; supervisors keep everything.

mod support;

use homedesk_platform::visibility::conversation_audience;
use homedesk_protocol::{Change, ChangeBody, EntityKind, Record};
use reqwest::StatusCode;
use serde_json::json;
use support::*;

const DAY_MS: i64 = 24 * 3600 * 1000;

fn upserted_conversation(changes: &[Change], id: &str) -> bool {
    changes
        .iter()
        .any(|c| matches!(&c.body, ChangeBody::Upsert(Record::Conversation(r)) if r.id == id))
}

fn messages_of(changes: &[Change], id: &str) -> usize {
    changes
        .iter()
        .filter(|c| matches!(&c.body, ChangeBody::Upsert(Record::Message(m)) if m.conversation_id == id))
        .count()
}

fn tombstoned(changes: &[Change], kind: EntityKind, id: &str) -> bool {
    changes.iter().any(
        |c| matches!(&c.body, ChangeBody::Delete { entity, id: gone } if *entity == kind && gone == id),
    )
}

fn upserted_customer(changes: &[Change], id: &str) -> bool {
    changes
        .iter()
        .any(|c| matches!(&c.body, ChangeBody::Upsert(Record::Customer(k)) if k.id == id))
}

#[tokio::test]
async fn a_colleagues_claim_tombstones_it_on_my_pc_and_a_release_brings_it_back() {
    let server = Server::start_demo(&[]);
    let me = server.sign_in("a1001").await;
    let colleague = server.sign_in("a1002").await;
    let supervisor = server.sign_in("s3001").await;
    let taken = server
        .customer_writes("chat", "scope-1", "cust-scope-1", "aftersales", "在吗")
        .await;
    let waiting = server
        .customer_writes("chat", "scope-2", "cust-scope-2", "aftersales", "能退吗")
        .await;
    let (first, my_cursor) = server.pull_all(&me.access_token, None).await;
    assert!(
        upserted_conversation(&first, &taken) && upserted_conversation(&first, &waiting),
        "both wait in my queue, so my PC has them"
    );
    let (_, supervisor_cursor) = server.pull_all(&supervisor.access_token, None).await;

    server.claim(&colleague.access_token, &taken).await;
    // The customer writes again while the colleague holds it.
    let again = server
        .customer_writes("chat", "scope-3", "cust-scope-1", "aftersales", "还在吗")
        .await;
    assert_eq!(again, taken, "the same open conversation");

    let (mine, my_cursor) = server.pull_all(&me.access_token, Some(my_cursor)).await;
    assert!(
        tombstoned(&mine, EntityKind::Conversation, &taken),
        "a colleague's claim takes it off my PC: {mine:?}"
    );
    assert!(
        !upserted_conversation(&mine, &taken) && messages_of(&mine, &taken) == 0,
        "and nothing of it is sent to me: {mine:?}"
    );
    assert!(
        !tombstoned(&mine, EntityKind::Conversation, &waiting),
        "the unassigned one stays"
    );
    let (theirs, _) = server.pull_all(&colleague.access_token, None).await;
    assert!(
        upserted_conversation(&theirs, &taken) && messages_of(&theirs, &taken) == 2,
        "the colleague has it with its thread: {theirs:?}"
    );
    let (watched, _) = server
        .pull_all(&supervisor.access_token, Some(supervisor_cursor))
        .await;
    assert!(
        upserted_conversation(&watched, &taken)
            && watched.iter().any(|c| matches!(&c.body,
                ChangeBody::Upsert(Record::Message(m)) if m.body == "还在吗")),
        "a supervisor keeps it and gets the new message: {watched:?}"
    );

    let (fresh, _) = server.pull_all(&me.access_token, None).await;
    assert!(
        !upserted_conversation(&fresh, &taken) && messages_of(&fresh, &taken) == 0,
        "a first sync of my PC leaves a colleague's conversation out: {fresh:?}"
    );
    assert!(
        upserted_conversation(&fresh, &waiting),
        "but not the queue's"
    );

    let released = server
        .act(
            &colleague.access_token,
            json!([{"key": "scope-release", "created_at": 3,
                    "action": {"type": "release", "conversation_id": taken}}]),
        )
        .await;
    assert_eq!(released[0]["status"], "applied", "{released:?}");
    let (back, _) = server.pull_all(&me.access_token, Some(my_cursor)).await;
    assert!(
        upserted_conversation(&back, &taken),
        "back in the queue, it is back on my PC: {back:?}"
    );
    assert_eq!(
        messages_of(&back, &taken),
        2,
        "with its whole thread, the message written while it was away included"
    );
    assert!(upserted_customer(&back, "cust-scope-1"), "and its customer");
}

#[tokio::test]
async fn an_old_resolved_conversation_stays_off_a_first_sync_and_opens_on_demand() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut server = Server::start_at(&data, &["--demo"]);
    let me = server.sign_in("a1002").await;
    let old = server
        .customer_writes("chat", "old-1", "cust-old-1", "aftersales", "上个月的订单")
        .await;
    let recent = server
        .customer_writes("chat", "old-2", "cust-old-2", "aftersales", "这周的订单")
        .await;
    for conversation in [&old, &recent] {
        let done = server
            .act(
                &me.access_token,
                json!([
                    {"key": format!("claim-{conversation}"), "created_at": 1,
                     "action": {"type": "claim", "conversation_id": conversation}},
                    {"key": format!("reply-{conversation}"), "created_at": 2,
                     "action": {"type": "reply", "conversation_id": conversation,
                                "message_id": format!("m-{conversation}"), "body": "好的"}},
                    {"key": format!("wrap-{conversation}"), "created_at": 3,
                     "action": {"type": "wrap_up", "conversation_id": conversation,
                                "disposition": "resolved"}}
                ]),
            )
            .await;
        assert!(
            done.iter().all(|r| r["status"] == "applied"),
            "claimed, answered, resolved: {done:?}"
        );
    }
    let (had, before_ageing) = server.pull_all(&me.access_token, None).await;
    assert!(
        upserted_conversation(&had, &old),
        "resolved today: still in my scope"
    );
    server.stop();

    // Its last message 30 days ago, written into the stopped platform's
    // database (waiting 14 days is not an option).
    // On a thread of its own: PostgreSQL's driver blocks on its own runtime.
    blocking(|| {
        open_storage(&data)
            .write_with(|tx| {
                let Some(Record::Conversation(mut c)) = tx.get(EntityKind::Conversation, &old)?
                else {
                    anyhow::bail!("the old conversation is stored");
                };
                c.last_message_at -= 30 * DAY_MS;
                tx.put(
                    &Record::Conversation(c.clone()),
                    &conversation_audience(&c),
                    homedesk_platform::now_ms(),
                )
            })
            .expect("aged")
    });

    let server = Server::start_at(&data, &["--demo"]);
    let me = server.sign_in("a1002").await;
    let first = server.page(&me.access_token, None, 1000).await;
    assert_eq!(
        first.resolved_days,
        Some(14),
        "the window is 14 days by default"
    );
    let (fresh, _) = server.pull_all(&me.access_token, None).await;
    assert!(
        !upserted_conversation(&fresh, &old) && messages_of(&fresh, &old) == 0,
        "a first sync leaves the old resolved conversation and its thread out"
    );
    assert!(
        !upserted_customer(&fresh, "cust-old-1"),
        "and its customer (no other conversation of theirs is in scope)"
    );
    assert!(
        upserted_conversation(&fresh, &recent) && messages_of(&fresh, &recent) == 2,
        "the recently resolved one is in"
    );
    let (since, _) = server.pull_all(&me.access_token, Some(before_ageing)).await;
    assert!(
        tombstoned(&since, EntityKind::Conversation, &old),
        "a PC that had it gets a tombstone: {since:?}"
    );

    let supervisor = server.sign_in("s3001").await;
    let watched = server.page(&supervisor.access_token, None, 1000).await;
    assert_eq!(watched.resolved_days, None, "supervisors have no window");
    let (everything, _) = server.pull_all(&supervisor.access_token, None).await;
    assert!(
        upserted_conversation(&everything, &old),
        "supervisors keep everything of their queues"
    );

    // On demand: the whole conversation with its thread and customer.
    let (status, record) = server
        .get(&format!("/v1/conversations/{old}"), Some(&me.access_token))
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let record: homedesk_protocol::ConversationRecord =
        serde_json::from_value(record).expect("a ConversationRecord");
    assert_eq!(record.conversation.id, old);
    assert_eq!(record.messages.len(), 2, "the customer's and my reply");
    assert_eq!(
        record.customer.map(|k| k.id).as_deref(),
        Some("cust-old-1"),
        "with the customer"
    );

    // Bad inputs: an unknown id, another queue's agent, a trainee, a
    // first-sync cursor with a position beyond the log.
    let (status, body) = server
        .get("/v1/conversations/conv-nobody", Some(&me.access_token))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "not_found", "{body}");
    let stranger = server.sign_in("a1005").await;
    let (status, body) = server
        .get(
            &format!("/v1/conversations/{old}"),
            Some(&stranger.access_token),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "another queue's agent: {body}"
    );
    assert_eq!(body["code"], "forbidden", "{body}");
    let trainee = server.sign_in("t2001").await;
    let (status, body) = server
        .get(
            &format!("/v1/conversations/{old}"),
            Some(&trainee.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a trainee: {body}");
    let instance = first
        .next_cursor
        .split_once('.')
        .map(|(instance, _)| instance.to_owned())
        .expect("INSTANCE.SEQ");
    for cursor in [
        format!("{instance}.1.99999999"),
        format!("{instance}.1.x"),
        format!("{instance}.x.1"),
    ] {
        let (status, body) = server
            .get(
                &format!("/v1/changes?cursor={cursor}"),
                Some(&me.access_token),
            )
            .await;
        assert_eq!(status, StatusCode::GONE, "{cursor}: {body}");
        assert_eq!(body["code"], "unknown_cursor", "{body}");
    }
}

#[tokio::test]
async fn a_first_sync_in_small_pages_keeps_what_is_in_scope() {
    let server = Server::start_demo(&[]);
    let me = server.sign_in("a1001").await;
    let colleague = server.sign_in("a1002").await;
    let mut waiting = Vec::new();
    for i in 0..6 {
        let conversation = server
            .customer_writes(
                "chat",
                &format!("page-{i}"),
                &format!("cust-page-{i}"),
                "aftersales",
                "你好",
            )
            .await;
        if i % 2 == 0 {
            server.claim(&colleague.access_token, &conversation).await;
        } else {
            waiting.push(conversation);
        }
    }
    // Pages of 2: the cursor carries the first sync's end between pages.
    let mut cursor: Option<String> = None;
    let mut all = Vec::new();
    loop {
        let page = server.page(&me.access_token, cursor.as_deref(), 2).await;
        assert!(page.changes.len() <= 2, "a page holds at most its limit");
        all.extend(page.changes);
        cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    for conversation in &waiting {
        assert!(
            upserted_conversation(&all, conversation) && messages_of(&all, conversation) == 1,
            "{conversation} waits in my queue"
        );
    }
    assert_eq!(
        all.iter()
            .filter(
                |c| matches!(&c.body, ChangeBody::Upsert(Record::Conversation(r))
                if r.assigned_to.as_deref() == Some("a1002"))
            )
            .count(),
        0,
        "none of the colleague's"
    );
    assert_eq!(
        cursor.as_deref().map(|c| c.matches('.').count()),
        Some(1),
        "after the first sync the cursor is a plain position again"
    );
}
