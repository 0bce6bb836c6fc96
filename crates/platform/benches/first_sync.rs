//! `make bench` — bytes on the wire of a workstation's first sync of a busy
//! queue, before and after the sync scope (docs/decisions/0035-sync-scope.md).
//!
//! The queue `aftersales` gets 10,000 resolved conversations whose last
//! message is 15 to 74 days old (each with a customer and 3 messages, spread
//! over four agents), plus 40 resolved in the last week (10 the measured
//! agent's), 30 waiting unassigned, 10 held by the measured agent and 30 held
//! by colleagues. They are written through the platform library into a
//! stopped platform's database (the same `save_conversation` and audiences as
//! live traffic), then the real server is started (release build) and read
//! over loopback TLS.
//!
//! - **before**: the change log without the scope, as every agent of the
//!   queue received it until now — what a supervisor still receives (the
//!   same entries; the demo world's few conversations of other queues come
//!   with it);
//! - **after**: the agent `a1002`'s first sync with the scope.
//!
//! Bytes on the wire = the response bodies as sent (a client that does not
//! decompress), for gzip and zstd, pages of 500 as the workstation asks;
//! plus the wall time of the whole first sync (median of 3).
//!
//! Prints a Markdown table and writes it to `target/bench/first_sync.md`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use homedesk_platform::now_ms;
use homedesk_platform::storage::{SqliteStorage, Storage};
use homedesk_platform::visibility::{conversation_audience, save_conversation};
use homedesk_protocol::{
    Author, Channel, Conversation, ConversationStatus, Customer, Message, MessageKind,
    OrderSummary, Priority, Record,
};
use support::{Server, raw_client};

const DAY_MS: i64 = 24 * 3600 * 1000;
const OLD_RESOLVED: usize = 10_000;
const PAGE: usize = 500;
const RUNS: usize = 3;

fn conversation(
    i: usize,
    status: ConversationStatus,
    agent: Option<&str>,
    last: i64,
) -> Conversation {
    Conversation {
        id: format!("conv-busy-{i:05}"),
        channel: Channel::Chat,
        queue: "aftersales".into(),
        customer_id: format!("cust-busy-{i:05}"),
        subject: "退款进度咨询".into(),
        category: Some("returns".into()),
        status,
        assigned_to: agent.map(str::to_owned),
        priority: Priority::Normal,
        created_at: last - 3_600_000,
        first_response_due: last - 3_000_000,
        resolve_due: last + DAY_MS,
        first_response_at: agent.map(|_| last - 3_300_000),
        last_message_at: last,
        last_message_preview: "好的，谢谢".into(),
        disposition: (status == ConversationStatus::Resolved).then(|| "resolved".into()),
        version: 4,
    }
}

fn customer(i: usize, at: i64) -> Customer {
    Customer {
        id: format!("cust-busy-{i:05}"),
        name: format!("顾客{i}"),
        phone_masked: format!("138****{:04}", i % 10_000),
        city: Some("杭州".into()),
        orders: vec![OrderSummary {
            order_no: format!("E2026{i:08}"),
            item: "有机红心猕猴桃 5 斤装".into(),
            amount_fen: 6990,
            status: "delivered".into(),
            placed_at: at - 5 * DAY_MS,
        }],
    }
}

fn thread(c: &Conversation) -> Vec<Message> {
    let lines = [
        (
            Author::Customer,
            "你好，我上周申请的退款到哪一步了？订单号在下单记录里。",
        ),
        (
            Author::Agent,
            "亲，您好！已经帮您查到了，退款已经提交到支付渠道，1 到 3 个工作日到账。",
        ),
        (Author::Customer, "好的，谢谢"),
    ];
    lines
        .iter()
        .enumerate()
        .map(|(n, (author, body))| Message {
            id: format!("msg-{}-{n}", c.id),
            conversation_id: c.id.clone(),
            author: *author,
            agent: (*author == Author::Agent)
                .then(|| c.assigned_to.clone())
                .flatten(),
            kind: MessageKind::Text,
            body: (*body).into(),
            sent_at: c.last_message_at - 60_000 * (3 - n as i64),
            attachments: Vec::new(),
            delivery: None,
        })
        .collect()
}

/// Writes the busy queue into a stopped platform's database.
fn seed(storage: &dyn Storage) {
    let now = now_ms();
    let colleagues = ["a1001", "a1003", "a1004"];
    let mut world = Vec::new();
    for i in 0..OLD_RESOLVED {
        let agent = if i % 4 == 0 {
            "a1002"
        } else {
            colleagues[i % 3]
        };
        let last = now - 15 * DAY_MS - (i as i64 % 60) * DAY_MS - (i as i64) * 1000;
        world.push(conversation(
            i,
            ConversationStatus::Resolved,
            Some(agent),
            last,
        ));
    }
    let mut i = OLD_RESOLVED;
    let mut more = |n: usize, status, agent: Option<&'static str>, age: i64| {
        for _ in 0..n {
            world.push(conversation(i, status, agent, now - age - i as i64));
            i += 1;
        }
    };
    more(10, ConversationStatus::Resolved, Some("a1002"), 3 * DAY_MS);
    more(30, ConversationStatus::Resolved, Some("a1001"), 3 * DAY_MS);
    more(30, ConversationStatus::Queued, None, 600_000);
    more(10, ConversationStatus::Active, Some("a1002"), 600_000);
    more(30, ConversationStatus::Active, Some("a1003"), 600_000);
    for chunk in world.chunks(500) {
        storage
            .write_with(|tx| {
                for (n, c) in chunk.iter().enumerate() {
                    let audience = conversation_audience(c);
                    let index: usize = c.id["conv-busy-".len()..].parse()?;
                    tx.put(
                        &Record::Customer(customer(index, c.last_message_at)),
                        &audience,
                        now,
                    )?;
                    for m in thread(c) {
                        tx.put(&Record::Message(m), &audience, now)?;
                    }
                    save_conversation(tx, None, c, now + n as i64)?;
                }
                Ok(())
            })
            .expect("seeded");
    }
}

/// (bytes of all pages as sent, entries) of a first sync with `encoding`;
/// the wall time includes reading each page a second time, decoded.
async fn first_sync(server: &Server, token: &str, encoding: &str) -> (usize, usize) {
    let raw = raw_client(&server.dir.join("tls/ca.pem"));
    let mut total = 0;
    let mut entries = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/changes?cursor={c}&limit={PAGE}"),
            None => format!("/v1/changes?limit={PAGE}"),
        };
        let response = raw
            .get(format!("{}{path}", server.url))
            .bearer_auth(token)
            .header("Accept-Encoding", encoding)
            .send()
            .await
            .expect("changes");
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.bytes().await.expect("body");
        total += body.len();
        // The same page again through the decoding client, for its cursor
        // (the log does not change meanwhile, so it is the same page).
        let (_, page) = server.get(&path, Some(token)).await;
        entries += page["changes"].as_array().map_or(0, Vec::len);
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if page["has_more"] != true {
            return (total, entries);
        }
    }
}

#[tokio::main]
async fn main() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let mut server = Server::start_at(&data, &["--demo"]);
    server.stop();
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(&data).expect("storage"));
    let seeding = Instant::now();
    seed(storage.as_ref());
    eprintln!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());
    drop(storage);
    let server = Server::start_at(&data, &["--demo"]);

    let mut out = String::new();
    out.push_str(
        "| first sync of `aftersales` (10,000 old resolved + 110 recent/open) | entries | gzip | zstd | time (zstd, median of 3) |\n|---|---:|---:|---:|---:|\n",
    );
    let mut figures = Vec::new();
    for (label, agent) in [
        (
            "before: unscoped log (every agent, until now; a supervisor still)",
            "s3001",
        ),
        ("after: agent a1002 with the sync scope", "a1002"),
    ] {
        let session = server.sign_in(agent).await;
        let (gzip, entries) = first_sync(&server, &session.access_token, "gzip").await;
        let mut times = Vec::new();
        let mut zstd = 0;
        for _ in 0..RUNS {
            let t = Instant::now();
            zstd = first_sync(&server, &session.access_token, "zstd").await.0;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let time = times[RUNS / 2];
        figures.push(zstd);
        out.push_str(&format!(
            "| {label} | {entries} | {:.1} KiB | {:.1} KiB | {time:.2} s |\n",
            gzip as f64 / 1024.0,
            zstd as f64 / 1024.0,
        ));
    }
    out.push_str(&format!(
        "| ratio after/before (zstd bytes) | | | {:.3} | |\n",
        figures[1] as f64 / figures[0] as f64
    ));
    println!("{out}");
    std::fs::create_dir_all("../../target/bench").ok();
    std::fs::write("../../target/bench/first_sync.md", &out).ok();
}
