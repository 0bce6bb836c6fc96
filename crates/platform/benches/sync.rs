//! `make bench` — sync throughput of the reference platform on this machine.
//!
//! Starts the real server (release build) on loopback TLS and measures, each
//! as the median of several runs:
//! - the baseline: `GET /v1/health` round trips per second (TLS + HTTP, no
//!   database), so the other figures can be read as ratios on any machine;
//! - actions per second, one action per request (how an outbox drains on a
//!   bad link) and 50 per batch (after reconnecting);
//! - change-log entries per second pulled by a workstation, pages of 1000;
//! - bytes on the wire for the initial sync of the demo world, plain, gzip
//!   and zstd.
//!
//! Prints a Markdown table and writes it to `target/bench/sync.md`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use serde_json::json;
use support::{Server, raw_client};

const RUNS: usize = 5;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn per_second<F, Fut>(n: usize, mut op: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    for i in 0..n {
        op(i).await;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let server = Server::start_demo(&[]);
    let client = server.client.clone();
    let url = server.url.clone();

    // Baseline: health round trips.
    let mut health = Vec::new();
    for _ in 0..RUNS {
        health.push(
            per_second(200, |_| {
                let client = client.clone();
                let url = url.clone();
                async move {
                    client
                        .get(format!("{url}/v1/health"))
                        .send()
                        .await
                        .expect("health");
                }
            })
            .await,
        );
    }
    let health = median(health);

    // Actions: replies in a conversation the agent holds.
    let agent = server.sign_in("a1002").await;
    let token = agent.access_token.clone();
    let conversation = server
        .customer_writes(
            "chat",
            "bench-1",
            "cust-bench",
            "aftersales",
            "请问什么时候退款",
        )
        .await;
    server
        .act(&token, json!([{"key": "bench-claim-1", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}}]))
        .await;
    let mut next = 0usize;
    let mut single = Vec::new();
    let mut batched = Vec::new();
    for _ in 0..RUNS {
        let start = next;
        single.push(
            per_second(100, |i| {
                let server = &server;
                let token = token.clone();
                let conversation = conversation.clone();
                async move {
                    let n = start + i;
                    let r = server.act(&token, json!([{"key": format!("bench-one-{n:06}"), "created_at": n, "action": {"type": "reply", "conversation_id": conversation, "message_id": format!("m-bench-one-{n}"), "body": "亲，已经帮您催促仓库了"}}])).await;
                    assert_eq!(r[0]["status"], "applied");
                }
            })
            .await,
        );
        next += 100;
        let start = next;
        let t = Instant::now();
        for b in 0..10 {
            let actions: Vec<_> = (0..50)
                .map(|i| {
                    let n = start + b * 50 + i;
                    json!({"key": format!("bench-batch-{n:06}"), "created_at": n, "action": {"type": "internal_note", "conversation_id": conversation, "message_id": format!("m-bench-batch-{n}"), "body": "已核实订单"}})
                })
                .collect();
            let r = server.act(&token, serde_json::Value::Array(actions)).await;
            assert!(r.iter().all(|x| x["status"] == "applied"));
        }
        batched.push(500.0 / t.elapsed().as_secs_f64());
        next += 500;
    }
    let single = median(single);
    let batched = median(batched);

    // Changes pulled per second (the log now holds a few thousand entries).
    let mut pulls = Vec::new();
    let mut entries = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let (changes, _) = server.pull_all(&token, None).await;
        entries = changes.len();
        pulls.push(changes.len() as f64 / t.elapsed().as_secs_f64());
    }
    let pulls = median(pulls);

    // Initial sync of the demo world, as a new workstation sees it.
    let fresh = Server::start_demo(&[]);
    let newcomer = fresh.sign_in("a1001").await;
    let raw = raw_client(&fresh.dir.join("tls/ca.pem"));
    let mut bytes = Vec::new();
    for encoding in ["identity", "gzip", "zstd"] {
        let mut total = 0usize;
        let mut cursor: Option<String> = None;
        let mut records = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/changes?cursor={c}&limit=1000"),
                None => "/v1/changes?limit=1000".to_owned(),
            };
            let response = raw
                .get(format!("{}{path}", fresh.url))
                .bearer_auth(&newcomer.access_token)
                .header("Accept-Encoding", encoding)
                .send()
                .await
                .expect("changes");
            let body = response.bytes().await.expect("body");
            total += body.len();
            let page: serde_json::Value = if encoding == "identity" {
                serde_json::from_slice(&body).expect("json")
            } else {
                // Read the page again through the decoding client for the cursor.
                let (_, v) = fresh
                    .get(
                        &match &cursor {
                            Some(c) => format!("/v1/changes?cursor={c}&limit=1000"),
                            None => "/v1/changes?limit=1000".to_owned(),
                        },
                        Some(&newcomer.access_token),
                    )
                    .await;
                v
            };
            records += page["changes"].as_array().map_or(0, Vec::len);
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            if page["has_more"] != true {
                break;
            }
        }
        bytes.push((encoding, total, records));
    }

    let plain = bytes[0].1 as f64;
    let mut out = String::new();
    out.push_str("| measure | median | ratio |\n|---|---:|---:|\n");
    out.push_str(&format!(
        "| baseline: `GET /v1/health` round trips/s | {health:.0} | 1.00 |\n"
    ));
    out.push_str(&format!(
        "| actions/s, 1 per request | {single:.0} | {:.2} |\n",
        single / health
    ));
    out.push_str(&format!(
        "| actions/s, 50 per batch | {batched:.0} | {:.2} |\n",
        batched / health
    ));
    out.push_str(&format!(
        "| change-log entries/s pulled ({entries} entries, pages of 1000) | {pulls:.0} | {:.2} |\n",
        pulls / health
    ));
    for (encoding, total, records) in &bytes {
        out.push_str(&format!(
            "| initial sync of the demo world, {encoding} ({records} records) | {:.1} KiB | {:.2} |\n",
            *total as f64 / 1024.0,
            *total as f64 / plain
        ));
    }
    println!("{out}");
    std::fs::create_dir_all("../../target/bench").ok();
    std::fs::write("../../target/bench/sync.md", &out).ok();
    drop(fresh);
}
