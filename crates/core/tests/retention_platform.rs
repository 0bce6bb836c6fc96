//! Retention (PIPL) end to end, against the real platform binary: a
//! conversation resolved longer ago than the platform's retention leaves
//! the agent's PC at the next sync — the conversation, its messages, its
//! customer, its draft and its photos — while a conversation still open
//! stays, and the platform keeps the old one for supervisors.
//!
//! "Longer ago" is made by ageing the resolution in the platform's database
//! while it is stopped (the change-log time of the conversation's last
//! change, which is when it was resolved), as if 100 days had passed; the
//! platform's sweep then runs at start.

mod common;

use common::{Server, engine_at};
use homedesk_core::clock;
use homedesk_core::store::{StoreError, outbox, views};
use homedesk_core::sync::{HttpTransport, SyncEngine};
use homedesk_protocol::{Action, Attachment};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// A small real photo (PNG), as a customer's phone sends it; each `shade`
/// makes another photo (the same bytes would be the same stored photo).
fn photo(shade: u8) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, shade]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .expect("png");
    bytes.into_inner()
}

async fn customer_sends_a_photo(
    server: &Server,
    external_id: &str,
    customer: &str,
    shade: u8,
) -> (String, Attachment) {
    let response = server
        .client
        .post(format!("{}/v1/attachments", server.url))
        .bearer_auth(server.ingress_token())
        .body(photo(shade))
        .send()
        .await
        .expect("upload reaches the platform");
    assert!(response.status().is_success(), "{}", response.status());
    let attachment: Attachment = response.json().await.expect("an Attachment");
    let mut message =
        common::platform::ingress_message(external_id, customer, "aftersales", "收到的桃子烂了");
    message["attachments"] = json!([attachment.id]);
    let (status, answer) = server.ingress("chat", &message).await;
    assert!(status.is_success(), "ingress accepted: {answer}");
    let conversation = answer["conversation_id"].as_str().expect("id").to_owned();
    (conversation, attachment)
}

fn act(engine: &SyncEngine<HttpTransport>, action: Action) {
    let me = engine.agent().expect("signed in");
    engine
        .store()
        .write(|tx| outbox::enqueue(tx, &me, action, clock::now_ms()))
        .expect("saved locally");
}

fn count(engine: &SyncEngine<HttpTransport>, sql: &str, id: &str) -> i64 {
    engine
        .store()
        .read(|c| Ok::<_, StoreError>(c.query_row(sql, [id], |row| row.get::<_, i64>(0))?))
        .expect("count")
}

/// What this PC holds of a conversation: (conversation, messages,
/// customer, draft, photo rows).
fn held(
    engine: &SyncEngine<HttpTransport>,
    conversation: &str,
    customer: &str,
    photo: &str,
) -> (i64, i64, i64, i64, i64) {
    (
        count(
            engine,
            "SELECT count(*) FROM conversations WHERE id = ?1",
            conversation,
        ),
        count(
            engine,
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            conversation,
        ),
        count(
            engine,
            "SELECT count(*) FROM customers WHERE id = ?1",
            customer,
        ),
        count(
            engine,
            "SELECT count(*) FROM drafts WHERE conversation_id = ?1",
            conversation,
        ),
        count(
            engine,
            "SELECT count(*) FROM media_blobs WHERE id = ?1",
            photo,
        ),
    )
}

#[tokio::test]
async fn a_conversation_resolved_past_retention_leaves_the_pc_with_its_photos_and_draft() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("platform");
    let mut server = Server::start_at(&data, &["--demo"]);
    let url = server.url.clone();
    let (old, old_photo) = customer_sends_a_photo(&server, "ret-old", "cust-ret-old", 10).await;
    let (open, open_photo) =
        customer_sends_a_photo(&server, "ret-open", "cust-ret-open", 200).await;

    let engine = engine_at(&server, &url, &tmp.path().join("a1002.sqlite"), "pc-ret");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("first sync");
    for conversation in [&old, &open] {
        act(
            &engine,
            Action::Claim {
                conversation_id: conversation.clone(),
            },
        );
    }
    engine.sync_once().await.expect("claims delivered");
    engine.sync_once().await.expect("thumbnails fetched");
    act(
        &engine,
        Action::Reply {
            conversation_id: old.clone(),
            message_id: "ret-reply-1".into(),
            body: "给您退款，地址是杭州市西湖区".into(),
            attachments: Vec::new(),
        },
    );
    act(
        &engine,
        Action::WrapUp {
            conversation_id: old.clone(),
            disposition: "refund_issued".into(),
            note: None,
            after_contact_secs: 0,
        },
    );
    engine
        .sync_once()
        .await
        .expect("reply and wrap-up delivered");
    for conversation in [&old, &open] {
        engine
            .store()
            .write(|tx| views::save_draft(tx, conversation, "还没发出去的话", clock::now_ms()))
            .expect("draft");
    }
    assert_eq!(
        held(&engine, &old, "cust-ret-old", &old_photo.id),
        (1, 2, 1, 1, 1),
        "before: the resolved conversation, its two messages, customer, draft and thumbnail are on this PC"
    );
    assert_eq!(
        held(&engine, &open, "cust-ret-open", &open_photo.id),
        (1, 1, 1, 1, 1)
    );
    let delivered_sql =
        "SELECT count(*) FROM delivered WHERE json_extract(action, '$.conversation_id') = ?1";
    assert!(
        count(&engine, delivered_sql, &old) > 0,
        "the replies delivered for it are recorded"
    );

    // 100 days pass for the old conversation's resolution.
    server.stop();
    {
        let db = rusqlite::Connection::open(data.join("platform.db")).expect("platform db");
        let aged = db
            .execute(
                "UPDATE changes SET created_at = created_at - ?2 WHERE kind = 'conversation' AND id = ?1",
                rusqlite::params![old, 100 * DAY_MS],
            )
            .expect("age");
        assert!(aged > 0, "the resolution is in the change log");
    }
    let port = url.rsplit(':').next().expect("port");
    let server = Server::start_at(&data, &["--demo", "--listen", &format!("127.0.0.1:{port}")]);
    assert_eq!(server.url, url);

    // The sweep runs as the platform starts; the workstation's next sync
    // applies its tombstones.
    common::eventually("the old conversation leaves the PC", || {
        let (engine, old, photo) = (engine.clone(), old.clone(), old_photo.id.clone());
        async move {
            engine.sync_once().await.ok()?;
            (held(&engine, &old, "cust-ret-old", &photo) == (0, 0, 0, 0, 0)).then_some(())
        }
    })
    .await;
    assert_eq!(
        held(&engine, &open, "cust-ret-open", &open_photo.id),
        (1, 1, 1, 1, 1),
        "the open conversation stays with everything it has"
    );
    assert_eq!(
        count(&engine, delivered_sql, &old),
        0,
        "nor does this PC keep the replies it delivered for it"
    );

    // The platform keeps it: a supervisor still reads it.
    let supervisor = server.sign_in("s3001").await;
    let (status, record) = server
        .get(
            &format!("/v1/conversations/{old}"),
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["conversation"]["status"], "resolved");

    // A PC that syncs from the start never gets it.
    let fresh = engine_at(
        &server,
        &url,
        &tmp.path().join("a1002-new.sqlite"),
        "pc-ret-2",
    );
    fresh.sign_in("a1002", PASSWORD).await.expect("signs in");
    fresh.sync_once().await.expect("sync");
    assert_eq!(
        held(&fresh, &old, "cust-ret-old", &old_photo.id),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(
        count(
            &fresh,
            "SELECT count(*) FROM conversations WHERE id = ?1",
            &open
        ),
        1
    );
}
