//! `make bench` — reply latency of the web chat on loopback.
//!
//! Starts the real server on loopback TLS. A customer has the chat page's
//! event stream open (`GET /chat/api/events`, as the page does); an agent
//! sends 200 replies (`POST /v1/actions`, one per request, as a
//! workstation's outbox does) and each is timed from the send until the
//! customer's stream delivers it. The baseline, measured in the same run,
//! is a bare SSE round trip through the platform: 200 customer messages
//! (`POST /chat/api/messages`) each timed until the agent's own event
//! stream (`GET /v1/events`) announces the change. Both are one write and
//! one pushed event; the difference is what the web chat adds (reading the
//! customer's conversation, moving the reply to `sent`).
//!
//! Prints a Markdown table (median and p95, and their ratio to the
//! baseline) and writes it to `target/bench/webchat.md`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::Server;

const ROUNDS: usize = 200;

/// A server-sent event stream read block by block: `(event, data)`.
struct Stream {
    bytes:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl Stream {
    async fn open(request: reqwest::RequestBuilder) -> Stream {
        let response = request
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .expect("the stream opens");
        assert!(response.status().is_success(), "{}", response.status());
        Stream {
            bytes: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let name = block
                    .lines()
                    .find_map(|l| l.strip_prefix("event:"))
                    .map_or("message", str::trim)
                    .to_owned();
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if !data.is_empty() {
                    return (name, serde_json::from_str(&data).expect("JSON data"));
                }
                continue;
            }
            match tokio::time::timeout(Duration::from_secs(30), self.bytes.next()).await {
                Ok(Some(Ok(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                other => panic!("the event stream stalled: {other:?}"),
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn summary(mut millis: Vec<f64>) -> (f64, f64) {
    millis.sort_by(f64::total_cmp);
    (percentile(&millis, 0.5), percentile(&millis, 0.95))
}

#[tokio::main]
async fn main() {
    // No limits in the way of 200 messages a minute from one customer.
    let server =
        Server::start_demo(&["--chat-customer-rate", "100000", "--chat-ip-rate", "100000"]);
    let client = server.client.clone();
    let url = server.url.clone();
    let agent = server.sign_in("a1002").await.access_token;

    let session = client
        .post(format!("{url}/chat/api/session"))
        .json(&json!({"name": "测速顾客"}))
        .send()
        .await
        .expect("a customer");
    let cookie = session.headers()["set-cookie"]
        .to_str()
        .expect("cookie text")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let write = |client_id: String, body: String| {
        client
            .post(format!("{url}/chat/api/messages"))
            .header("cookie", &cookie)
            .json(&json!({"queue": "aftersales", "client_id": client_id, "body": body}))
            .send()
    };
    let first: Value = write("bench-first-0".into(), "请问在吗".into())
        .await
        .expect("first message")
        .json()
        .await
        .expect("JSON");

    // The conversation, found as an agent sees it, and claimed.
    let (changes, _) = server.pull_all(&agent, None).await;
    let conversation = changes
        .iter()
        .map(|c| serde_json::to_value(c).expect("JSON"))
        .find(|c| c["entity"] == "message" && c["id"] == first["id"])
        .map(|c| {
            c["data"]["conversation_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .expect("the agent sees the customer's message");
    server
        .act(
            &agent,
            json!([{"key": "bench-claim-1", "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}}]),
        )
        .await;

    // Baseline: a customer message until the agent's stream announces it.
    let mut agent_events =
        Stream::open(client.get(format!("{url}/v1/events")).bearer_auth(&agent)).await;
    let _ = agent_events.next().await; // the `changes` it starts with
    let mut baseline = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let started = Instant::now();
        let answer = write(format!("bench-msg-{i:04}"), format!("第{i}条"))
            .await
            .expect("sent");
        assert!(answer.status().is_success(), "{}", answer.status());
        loop {
            let (name, _) = agent_events.next().await;
            if name == "changes" {
                break;
            }
        }
        baseline.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    drop(agent_events);

    // Replies: from the agent's send until the customer's page stream has it.
    let mut page = Stream::open(
        client
            .get(format!("{url}/chat/api/events"))
            .header("cookie", &cookie),
    )
    .await;
    let (name, _) = page.next().await;
    assert_eq!(name, "snapshot");
    let mut replies = Vec::with_capacity(ROUNDS);
    for i in 0..ROUNDS {
        let id = format!("msg-bench-reply-{i:04}");
        let started = Instant::now();
        server
            .act(
                &agent,
                json!([{"key": format!("bench-reply-{i:04}"), "created_at": 1, "action": {"type": "reply", "conversation_id": conversation, "message_id": id, "body": format!("回复{i}")}}]),
            )
            .await;
        loop {
            let (name, data) = page.next().await;
            if name == "message" && data["id"] == id.as_str() {
                break;
            }
        }
        replies.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    let (base_median, base_p95) = summary(baseline);
    let (median, p95) = summary(replies);
    let table = format!(
        "| measure ({ROUNDS} each, loopback TLS) | median | p95 | median ratio |\n\
         |---|---:|---:|---:|\n\
         | baseline: customer message → agent's `/v1/events` announces it | {base_median:.2} ms | {base_p95:.2} ms | 1.00 |\n\
         | agent reply (`POST /v1/actions`) → customer's `/chat/api/events` delivers it | {median:.2} ms | {p95:.2} ms | {:.2} |\n",
        median / base_median
    );
    println!("{table}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("webchat.md"), &table);
}
