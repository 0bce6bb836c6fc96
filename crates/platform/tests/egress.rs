//! Egress against the real `homedesk-platform` process and a real webhook
//! receiver on loopback (`support/webhook.rs`), which checks every
//! signature the way docs/protocol.md §9b tells adapter authors to.
//!
//! Retries run with millisecond backoff (`--egress-retry-*`) so nothing
//! here waits long; every wait polls with a deadline.

mod support;
#[path = "support/webhook.rs"]
mod webhook;

use std::io::Write;
use std::path::Path;

use homedesk_platform::now_ms;
use homedesk_platform::storage::{EgressState, Storage};
use homedesk_protocol::{DeliveryState, ServerEvent};
use reqwest::StatusCode;
use serde_json::json;
use support::{Server, add_adapter, cli, eventually, open_storage, secret_from};
use webhook::Receiver;

/// Fast retries: 20 ms doubling to 200 ms; the worker looks for CLI work every 100 ms.
const FAST: [&str; 6] = [
    "--egress-retry-base-ms",
    "20",
    "--egress-retry-cap-ms",
    "200",
    "--egress-poll-ms",
    "100",
];

struct Desk {
    server: Server,
    receiver: Receiver,
    /// The secret of adapter `shop`, whose webhook is the receiver.
    secret: String,
    /// a1002 (after-sales) signed in.
    token: String,
}

fn dir_arg(dir: &Path) -> &str {
    dir.to_str().expect("utf-8 path")
}

/// A demo platform in `dir` (fresh when `None`) with `extra` flags, an
/// adapter `shop` whose webhook is a receiver answering `failing`.
async fn desk(dir: Option<&Path>, extra: &[&str], failing: bool) -> Desk {
    let mut args = vec!["--demo"];
    args.extend_from_slice(&FAST);
    args.extend_from_slice(extra);
    let server = match dir {
        Some(dir) => Server::start_at(dir, &args),
        None => Server::start_demo(&args[1..]),
    };
    let receiver = Receiver::start("not yet known").await;
    receiver.set_failing(failing);
    let secret = add_adapter(&server.dir, "shop", Some(&receiver.url));
    receiver.set_secret(&secret);
    let token = server.sign_in("a1002").await.access_token;
    Desk {
        server,
        receiver,
        secret,
        token,
    }
}

impl Desk {
    /// Customer `customer` writes through `shop`; a1002 claims it.
    async fn conversation(&self, customer: &str) -> String {
        let id = self
            .server
            .customer_writes_via(
                &self.secret,
                &format!("ext-{customer}"),
                customer,
                "桃子烂了一半",
            )
            .await;
        self.server.claim(&self.token, &id).await;
        id
    }

    async fn reply(&self, conversation: &str, message_id: &str) {
        self.server
            .reply(
                &self.token,
                conversation,
                message_id,
                &format!("亲，{message_id} 收到"),
            )
            .await;
    }

    async fn wait_state(&self, message_id: &str, want: DeliveryState) {
        eventually(&format!("{message_id} becomes {want:?}"), || async {
            (self.server.delivery_state(&self.token, message_id).await == Some(want)).then_some(())
        })
        .await;
    }

    async fn wait_accepted(&self, count: usize) -> Vec<String> {
        eventually(
            &format!("{count} replies accepted by the receiver"),
            || async {
                let accepted = self.receiver.accepted();
                (accepted.len() >= count).then_some(accepted)
            },
        )
        .await
    }

    async fn latest_seq(&self) -> u64 {
        let (_, cursor) = self.server.pull_all(&self.token, None).await;
        cursor
            .rsplit('.')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("cursor seq")
    }
}

/// Checks every reply was accepted exactly once, and that within each
/// conversation no reply was even attempted before the one before it was
/// accepted.
fn assert_once_and_in_order(receiver: &Receiver, conversations: &[&[&str]]) {
    let log = receiver.log();
    for replies in conversations {
        for id in *replies {
            let times = log
                .iter()
                .filter(|r| r.accepted() && r.message_id() == *id)
                .count();
            assert_eq!(
                times, 1,
                "{id} must reach the adapter exactly once (accepted {times} times)"
            );
        }
        for pair in replies.windows(2) {
            let accepted_earlier = log
                .iter()
                .position(|r| r.accepted() && r.message_id() == pair[0])
                .expect("accepted");
            let first_try_of_later = log
                .iter()
                .position(|r| r.message_id() == pair[1])
                .expect("attempted");
            assert!(
                first_try_of_later > accepted_earlier,
                "{} was sent before {} got through: replies of one conversation must arrive in order",
                pair[1],
                pair[0]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_reply_arrives_once_signed_and_desks_see_it_sent() {
    let desk = desk(None, &[], true).await;
    let conversation = desk.conversation("cust-eg-1").await;
    for id in ["m-eg-1", "m-eg-2", "m-eg-3"] {
        desk.reply(&conversation, id).await;
    }
    desk.server
        .act(&desk.token, json!([{"key": "note-eg-0001", "created_at": 3, "action": {"type": "internal_note", "conversation_id": conversation, "message_id": "n-eg-1", "body": "内部备注"}}]))
        .await;
    // A conversation through the demo adapter, which has no webhook.
    let demo = desk
        .server
        .customer_writes_via(
            &desk.server.ingress_token(),
            "ext-demo-eg",
            "cust-demo-eg",
            "在吗",
        )
        .await;
    desk.server.claim(&desk.token, &demo).await;
    desk.server
        .reply(&desk.token, &demo, "m-demo-1", "在的")
        .await;

    // The receiver is failing: the desk sees the replies queued; then the
    // receiver recovers and the event stream announces what changed.
    assert_eq!(
        desk.server.delivery_state(&desk.token, "m-eg-1").await,
        Some(DeliveryState::Queued)
    );
    let mut events = desk.server.events(&desk.token, None).await;
    let before = match events.next(support::DEADLINE).await {
        Some(ServerEvent::Changes { latest_seq, .. }) => latest_seq,
        other => panic!("a stream starts with the latest seq, got {other:?}"),
    };
    desk.receiver.set_failing(false);
    let accepted = desk.wait_accepted(3).await;
    assert_eq!(accepted, ["m-eg-1", "m-eg-2", "m-eg-3"]);
    events
        .wait_for(
            "a changes poke after a reply was sent",
            |e| matches!(e, ServerEvent::Changes { latest_seq, .. } if *latest_seq > before),
        )
        .await;
    for id in ["m-eg-1", "m-eg-2", "m-eg-3"] {
        desk.wait_state(id, DeliveryState::Sent).await;
    }

    let now_secs = now_ms() / 1000;
    for r in desk.receiver.log() {
        assert!(
            r.signature_ok,
            "every request carries a valid signature: {r:?}"
        );
        let m = r.message.as_ref().expect("the body is an EgressMessage");
        assert_eq!(
            r.idempotency_key, m.message_id,
            "the idempotency key is the message id"
        );
        assert!(
            (now_secs - r.timestamp).abs() < 120,
            "the timestamp is now: {}",
            r.timestamp
        );
        assert_eq!(m.conversation_id, conversation);
        assert_eq!(
            m.customer_id, "cust-eg-1",
            "the adapter's own customer id comes back"
        );
        assert_eq!(m.adapter, "shop");
        assert_eq!(m.body, format!("亲，{} 收到", m.message_id));
        assert!(r.attempt >= 1);
    }
    assert_once_and_in_order(&desk.receiver, &[&["m-eg-1", "m-eg-2", "m-eg-3"]]);
    let log = desk.receiver.log();
    assert!(
        !log.iter()
            .any(|r| r.message_id() == "n-eg-1" || r.message_id() == "m-demo-1"),
        "notes, and replies through an adapter without a webhook, are never pushed"
    );
    assert_eq!(
        desk.server.delivery_state(&desk.token, "m-demo-1").await,
        Some(DeliveryState::Queued),
        "with no webhook the reply stays queued"
    );
    let note = desk
        .server
        .message(&desk.token, "n-eg-1")
        .await
        .expect("note");
    assert_eq!(note.delivery, None, "a note has no delivery state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_for_a_while_gets_every_reply_once_in_order() {
    let desk = desk(None, &[], true).await;
    let a = desk.conversation("cust-eg-a").await;
    let b = desk.conversation("cust-eg-b").await;
    for (conversation, id) in [
        (&a, "a-1"),
        (&b, "b-1"),
        (&a, "a-2"),
        (&a, "a-3"),
        (&b, "b-2"),
    ] {
        desk.reply(conversation, id).await;
    }
    eventually("several refused attempts", || async {
        (desk.receiver.log().len() >= 8).then_some(())
    })
    .await;
    let tried: std::collections::BTreeSet<String> = desk
        .receiver
        .log()
        .iter()
        .map(|r| r.message_id().to_owned())
        .collect();
    assert_eq!(
        tried.into_iter().collect::<Vec<_>>(),
        ["a-1", "b-1"],
        "while the first reply of a conversation is refused, the later ones wait"
    );
    let attempts: Vec<u32> = desk
        .receiver
        .log()
        .iter()
        .filter(|r| r.message_id() == "a-1")
        .map(|r| r.attempt)
        .collect();
    assert!(
        attempts.windows(2).all(|w| w[1] == w[0] + 1),
        "each retry says which attempt it is: {attempts:?}"
    );
    for id in ["a-1", "b-2"] {
        assert_eq!(
            desk.server.delivery_state(&desk.token, id).await,
            Some(DeliveryState::Queued)
        );
    }

    desk.receiver.set_failing(false);
    desk.wait_accepted(5).await;
    assert_once_and_in_order(&desk.receiver, &[&["a-1", "a-2", "a-3"], &["b-1", "b-2"]]);
    for id in ["a-1", "a-2", "a-3", "b-1", "b-2"] {
        desk.wait_state(id, DeliveryState::Sent).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_restart_mid_retry_loses_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut desk = desk(Some(tmp.path()), &[], true).await;
    let conversation = desk.conversation("cust-eg-r").await;
    desk.reply(&conversation, "r-1").await;
    desk.reply(&conversation, "r-2").await;
    eventually("r-1 refused at least twice", || async {
        let tries = desk
            .receiver
            .log()
            .iter()
            .filter(|r| r.message_id() == "r-1")
            .count();
        (tries >= 2).then_some(())
    })
    .await;
    let status = desk.server.stop();
    assert!(status.success(), "the platform stops cleanly: {status}");

    desk.receiver.set_failing(false);
    let mut args = vec!["--demo"];
    args.extend_from_slice(&FAST);
    desk.server = Server::start_at(tmp.path(), &args);
    let accepted = desk.wait_accepted(2).await;
    assert_eq!(
        accepted,
        ["r-1", "r-2"],
        "both replies arrive after the restart, in order"
    );
    assert_once_and_in_order(&desk.receiver, &[&["r-1", "r-2"]]);
    desk.wait_state("r-2", DeliveryState::Sent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_caught_by_the_receivers_check_and_rotation_re_keys_the_webhook() {
    let desk = desk(None, &[], false).await;
    desk.receiver
        .set_secret("a secret that is not the adapter's");
    let conversation = desk.conversation("cust-eg-w").await;
    desk.reply(&conversation, "w-1").await;
    eventually("a request refused for its signature", || async {
        desk.receiver
            .log()
            .iter()
            .any(|r| !r.signature_ok && r.status == 401)
            .then_some(())
    })
    .await;
    assert!(
        desk.receiver.accepted().is_empty(),
        "nothing with a bad signature is accepted"
    );
    assert_eq!(
        desk.server.delivery_state(&desk.token, "w-1").await,
        Some(DeliveryState::Queued)
    );

    desk.receiver.set_secret(&desk.secret);
    assert_eq!(
        desk.wait_accepted(1).await,
        ["w-1"],
        "the retry passes the right check"
    );

    // After rotation, webhooks are signed with the new secret's key: an
    // adapter still checking with the old secret refuses them.
    let out = cli(&[
        "channel",
        "rotate",
        "shop",
        "--data-dir",
        dir_arg(&desk.server.dir),
    ]);
    let rotated = secret_from(&out);
    desk.reply(&conversation, "w-2").await;
    eventually("w-2 refused under the old secret", || async {
        desk.receiver
            .log()
            .iter()
            .any(|r| r.message_id() == "w-2" && !r.signature_ok)
            .then_some(())
    })
    .await;
    desk.receiver.set_secret(&rotated);
    assert_eq!(desk.wait_accepted(2).await, ["w-1", "w-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_given_up_is_listed_as_failed_and_a_supervisor_retries_it_from_the_cli() {
    let desk = desk(None, &["--egress-give-up-after", "3"], true).await;
    let dir = desk.server.dir.clone();
    let conversation = desk.conversation("cust-eg-f").await;
    desk.reply(&conversation, "f-1").await;
    desk.wait_state("f-1", DeliveryState::Failed).await;
    let failed = desk
        .server
        .message(&desk.token, "f-1")
        .await
        .expect("message");
    let reason = failed.delivery.and_then(|d| d.reason).unwrap_or_default();
    assert!(
        reason.contains("gave up after 3 s") && reason.contains("503"),
        "the desk sees why: {reason}"
    );

    let out = cli(&["egress", "list", "--failed", "--data-dir", dir_arg(&dir)]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        listed.contains("f-1  failed") && listed.contains("adapter shop") && listed.contains("503"),
        "a supervisor sees the failed reply and why: {listed}"
    );

    // A later reply is not held up by one that failed for good.
    desk.receiver.set_failing(false);
    desk.reply(&conversation, "f-2").await;
    assert_eq!(desk.wait_accepted(1).await, ["f-2"]);

    // The supervisor retries while the adapter is still down: the desks
    // hear at once that the reply is queued again.
    desk.receiver.set_failing(true);
    let mut events = desk.server.events(&desk.token, None).await;
    let before = match events.next(support::DEADLINE).await {
        Some(ServerEvent::Changes { latest_seq, .. }) => latest_seq,
        other => panic!("a stream starts with the latest seq, got {other:?}"),
    };
    let out = cli(&["egress", "retry", "f-1", "--data-dir", dir_arg(&dir)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    events
        .wait_for(
            "a changes poke after the retry",
            |e| matches!(e, ServerEvent::Changes { latest_seq, .. } if *latest_seq > before),
        )
        .await;
    assert_eq!(
        desk.server.delivery_state(&desk.token, "f-1").await,
        Some(DeliveryState::Queued),
        "a retried reply shows queued again"
    );

    desk.receiver.set_failing(false);
    assert_eq!(desk.wait_accepted(2).await, ["f-2", "f-1"]);
    desk.wait_state("f-1", DeliveryState::Sent).await;
    let out = cli(&["egress", "list", "--failed", "--data-dir", dir_arg(&dir)]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "no failed deliveries"
    );
    let out = cli(&["egress", "list", "--data-dir", dir_arg(&dir)]);
    let all = String::from_utf8_lossy(&out.stdout);
    assert!(
        all.contains("f-1  sent") && all.contains("f-2  sent"),
        "{all}"
    );

    let out = cli(&["egress", "retry", "f-1", "--data-dir", dir_arg(&dir)]);
    assert!(!out.status.success(), "a sent reply is not sent again");
    assert!(String::from_utf8_lossy(&out.stderr).contains("already sent"));
    let times = desk
        .receiver
        .accepted()
        .iter()
        .filter(|id| *id == "f-1")
        .count();
    assert_eq!(times, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_reports_delivered_or_failed_and_desks_hear_of_it() {
    let desk = desk(None, &[], false).await;
    let conversation = desk.conversation("cust-eg-d").await;
    desk.reply(&conversation, "d-1").await;
    desk.reply(&conversation, "d-2").await;
    desk.wait_accepted(2).await;
    desk.wait_state("d-2", DeliveryState::Sent).await;
    let other = add_adapter(&desk.server.dir, "other", None);

    let before = desk.latest_seq().await;
    let mut events = desk.server.events(&desk.token, None).await;
    let (status, body) = desk
        .server
        .post("/v1/egress/d-1/delivered", Some(&desk.secret), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "delivered");
    events
        .wait_for(
            "a changes poke for the delivered reply",
            |e| matches!(e, ServerEvent::Changes { latest_seq, .. } if *latest_seq > before),
        )
        .await;
    assert_eq!(
        desk.server.delivery_state(&desk.token, "d-1").await,
        Some(DeliveryState::Delivered)
    );
    let (status, body) = desk
        .server
        .post("/v1/egress/d-1/delivered", Some(&desk.secret), &json!({}))
        .await;
    assert_eq!(
        (status, &body["state"]),
        (StatusCode::OK, &json!("delivered")),
        "a repeated report is fine"
    );

    let agent = desk.token.clone();
    let refused = [
        (
            None,
            "/v1/egress/d-2/delivered",
            StatusCode::UNAUTHORIZED,
            "no secret",
        ),
        (
            Some("wrong"),
            "/v1/egress/d-2/delivered",
            StatusCode::UNAUTHORIZED,
            "a wrong secret",
        ),
        (
            Some(agent.as_str()),
            "/v1/egress/d-2/delivered",
            StatusCode::UNAUTHORIZED,
            "an agent's token",
        ),
        (
            Some(other.as_str()),
            "/v1/egress/d-2/delivered",
            StatusCode::NOT_FOUND,
            "another adapter's secret",
        ),
        (
            Some(desk.secret.as_str()),
            "/v1/egress/nope/delivered",
            StatusCode::NOT_FOUND,
            "an unknown reply",
        ),
    ];
    for (secret, path, want, what) in refused {
        let (status, body) = desk.server.post(path, secret, &json!({})).await;
        assert_eq!(status, want, "{what} is refused: {body}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
    assert_eq!(
        desk.server.delivery_state(&desk.token, "d-2").await,
        Some(DeliveryState::Sent),
        "a refused report changes nothing"
    );

    let (status, body) = desk
        .server
        .post(
            "/v1/egress/d-2/failed",
            Some(&desk.secret),
            &json!({"reason": "  "}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let long = "长".repeat(501);
    let (status, _) = desk
        .server
        .post(
            "/v1/egress/d-2/failed",
            Some(&desk.secret),
            &json!({"reason": long}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Counted as sent, as the schema's maxLength counts: 500 characters
    // with a space on each side are 502, however they are trimmed.
    let padded = format!(" {} ", "长".repeat(500));
    let (status, body) = desk
        .server
        .post(
            "/v1/egress/d-2/failed",
            Some(&desk.secret),
            &json!({"reason": padded}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a reason over 500 characters as sent is refused: {body}"
    );
    let (status, body) = desk
        .server
        .post(
            "/v1/egress/d-1/failed",
            Some(&desk.secret),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_delivered")),
        "a delivered reply cannot fail afterwards; the request is well formed, \
         so it is a conflict, not a bad request: {body}"
    );
    assert_eq!(
        desk.server.delivery_state(&desk.token, "d-1").await,
        Some(DeliveryState::Delivered),
        "the refused report changed nothing"
    );
    let (status, body) = desk
        .server
        .post(
            "/v1/egress/d-2/failed",
            Some(&desk.secret),
            &json!({"reason": "顾客已将店铺拉黑"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "failed");
    let d2 = desk.server.message(&desk.token, "d-2").await.expect("d-2");
    let reason = d2.delivery.and_then(|d| d.reason).unwrap_or_default();
    assert_eq!(reason, "the adapter reported: 顾客已将店铺拉黑");
    let out = cli(&[
        "egress",
        "list",
        "--failed",
        "--data-dir",
        dir_arg(&desk.server.dir),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("d-2  failed"));
    let (status, _) = desk
        .server
        .get("/v1/egress/d-2/delivered", Some(&desk.secret))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

/// A platform stopped while an attempt is in flight gives its claim on the
/// reply back: restarted, it sends the reply again at once, not only when
/// the claim would have run out (10 s of attempt deadline and 30 s more,
/// past this test's deadline). The attempt cut off counts for nothing, as
/// before claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_in_flight_at_a_stop_is_sent_again_at_once_after_the_restart() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut desk = desk(Some(tmp.path()), &[], false).await;
    desk.receiver.set_delay(std::time::Duration::from_secs(5));
    let conversation = desk.conversation("cust-eg-s").await;
    desk.reply(&conversation, "s-1").await;
    eventually("s-1 in flight", || async {
        (!desk.receiver.log().is_empty()).then_some(())
    })
    .await;
    let status = desk.server.stop();
    assert!(status.success(), "the platform stops cleanly: {status}");
    let log = std::fs::read_to_string(tmp.path().with_extension("log")).expect("log");
    assert!(
        log.contains("egress: unfinished attempts given back: 1"),
        "{log}"
    );

    desk.receiver.set_delay(std::time::Duration::ZERO);
    let mut args = vec!["--demo"];
    args.extend_from_slice(&FAST);
    desk.server = Server::start_at(tmp.path(), &args);
    desk.wait_state("s-1", DeliveryState::Sent).await;
    let attempts: Vec<(String, u32)> = desk
        .receiver
        .log()
        .iter()
        .map(|r| (r.message_id().to_owned(), r.attempt))
        .collect();
    assert_eq!(
        attempts,
        [("s-1".to_owned(), 1), ("s-1".to_owned(), 1)],
        "sent again after the restart; the cut-off attempt is not counted"
    );
}

/// `homedesk_egress_total{outcome="…"}` in a `/metrics` text, 0 when absent.
fn egress_outcomes(metrics: &str, outcome: &str) -> u64 {
    let prefix = format!("homedesk_egress_total{{outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

/// Two platform instances on one PostgreSQL database (issue 19, decision
/// 0042; they share a data folder, as in `crates/core/tests/two_instances.rs`),
/// each running its egress worker and looking for due replies every 20 ms,
/// against one slow adapter (each answer takes 150 ms, so every attempt is
/// in flight through several of the other worker's passes). Replies are
/// written through both instances. Each reply is POSTed once — whichever
/// worker claims it first sends it, the other never finds it due — and
/// still in order per conversation. Without the claim every reply went
/// twice. Skipped on SQLite (one process's data folder).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_post_each_reply_once() {
    if !support::on_postgres() {
        // Past the test harness's capture, so it shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: two_instances_post_each_reply_once needs PostgreSQL \
             (run it under scripts/with-postgres.sh)"
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let args = [
        "--demo",
        "--egress-retry-base-ms",
        "20",
        "--egress-retry-cap-ms",
        "200",
        "--egress-poll-ms",
        "20",
    ];
    let a = Server::start_at(&dir, &args);
    let b = Server::start_logged(&dir, &tmp.path().join("second.log"), &args);
    let receiver = Receiver::start("not yet known").await;
    receiver.set_delay(std::time::Duration::from_millis(150));
    let secret = add_adapter(&dir, "shop", Some(&receiver.url));
    receiver.set_secret(&secret);
    let token = a.sign_in("a1002").await.access_token;

    let mut conversations = Vec::new();
    for c in 0..6 {
        let customer = format!("cust-two-{c}");
        let id = a
            .customer_writes_via(&secret, &format!("ext-{customer}"), &customer, "在吗")
            .await;
        a.claim(&token, &id).await;
        conversations.push(id);
    }
    let mut replies: Vec<Vec<String>> = vec![Vec::new(); conversations.len()];
    for r in 0..3 {
        for (c, conversation) in conversations.iter().enumerate() {
            let id = format!("two-{c}-{r}");
            // Through either instance: each wakes its own worker.
            let server = if (c + r) % 2 == 0 { &a } else { &b };
            server
                .reply(&token, conversation, &id, &format!("亲，{id} 收到"))
                .await;
            replies[c].push(id);
        }
    }
    let all: Vec<&String> = replies.iter().flatten().collect();
    for id in &all {
        eventually(&format!("{id} is sent"), || async {
            (a.delivery_state(&token, id).await == Some(DeliveryState::Sent)).then_some(())
        })
        .await;
    }

    // Each reply's requests, by the attempt number each carried.
    let mut posted: std::collections::BTreeMap<String, Vec<u32>> =
        all.iter().map(|id| ((*id).clone(), Vec::new())).collect();
    for request in receiver.log() {
        posted
            .entry(request.message_id().to_owned())
            .or_default()
            .push(request.attempt);
    }
    assert!(
        posted.values().all(|attempts| attempts == &[1]),
        "each reply is POSTed once, as attempt 1: {posted:?}"
    );
    let per_conversation: Vec<Vec<&str>> = replies
        .iter()
        .map(|ids| ids.iter().map(String::as_str).collect())
        .collect();
    let per_conversation: Vec<&[&str]> = per_conversation.iter().map(Vec::as_slice).collect();
    assert_once_and_in_order(&receiver, &per_conversation);

    // Every attempt was recorded once, as sent, by the instance that made
    // it; both instances' workers took part.
    let (metrics_a, metrics_b) = (a.metrics().await, b.metrics().await);
    let sent = [
        egress_outcomes(&metrics_a, "sent"),
        egress_outcomes(&metrics_b, "sent"),
    ];
    assert_eq!(
        sent.iter().sum::<u64>(),
        all.len() as u64,
        "each reply recorded sent once: {sent:?}"
    );
    assert!(
        sent.iter().all(|n| *n > 0),
        "both workers sent replies: {sent:?}"
    );
    for metrics in [&metrics_a, &metrics_b] {
        for outcome in ["superseded", "retry", "failed"] {
            assert_eq!(egress_outcomes(metrics, outcome), 0, "{outcome}: {metrics}");
        }
    }
}

/// The storage contract behind claims: a pending row's next attempt moves
/// only from the value it was read with, so of two claims on it one wins,
/// and giving a claim back after the outcome was recorded changes nothing.
#[test]
fn a_next_attempt_moves_only_from_where_it_was_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let storage = open_storage(tmp.path());
    let storage: &dyn Storage = storage.as_ref();
    let moved = |from: i64, to: i64| {
        storage
            .write_with(|tx| tx.move_next_attempt("c1", from, to))
            .expect("write")
    };
    storage
        .write_with(|tx| tx.insert_delivery("c1", "cc", "shop", 1000))
        .expect("write");
    assert!(moved(1000, 50_000), "claimed");
    assert!(
        !moved(1000, 60_000),
        "a second claim read the row before the first"
    );
    let row = storage
        .read_with(|tx| tx.delivery("c1"))
        .expect("read")
        .expect("row");
    assert_eq!(
        (row.next_attempt_at, row.updated_at, row.attempts),
        (50_000, 1000, 0),
        "only the next attempt moves"
    );
    assert!(
        storage
            .read_with(|tx| tx.pending_heads(10))
            .expect("read")
            .iter()
            .all(|r| r.next_attempt_at > 2000),
        "claimed: not due at 2000"
    );
    assert!(moved(50_000, 1000), "given back");
    storage
        .write_with(|tx| {
            let update = homedesk_platform::storage::DeliveryUpdate {
                state: EgressState::Sent,
                attempts: 1,
                next_attempt_at: 1000,
                round_started_at: 1000,
                last_error: None,
                now: 3000,
            };
            tx.update_delivery("c1", EgressState::Pending, &update)
        })
        .expect("write");
    assert!(!moved(1000, 1000), "a row no longer pending is not claimed");
}

/// The storage contract behind "in order": only the first pending row of
/// each conversation is offered to the worker, and a row that failed for
/// good no longer holds the next one back.
#[test]
fn only_the_first_pending_reply_of_each_conversation_is_due() {
    let tmp = tempfile::tempdir().expect("tmp");
    let storage = open_storage(tmp.path());
    let storage: &dyn Storage = storage.as_ref();
    let heads = |storage: &dyn Storage| -> Vec<String> {
        let mut ids: Vec<String> = storage
            .read_with(|tx| tx.pending_heads(10))
            .expect("read")
            .into_iter()
            .map(|r| r.message_id)
            .collect();
        ids.sort();
        ids
    };
    storage
        .write_with(|tx| {
            for (message, conversation) in [("a1", "ca"), ("b1", "cb"), ("a2", "ca"), ("a3", "ca")]
            {
                tx.insert_delivery(message, conversation, "shop", 1000)?;
            }
            Ok(())
        })
        .expect("write");
    assert_eq!(heads(storage), ["a1", "b1"]);
    let mark = |message: &str, state: EgressState| {
        storage
            .write_with(|tx| {
                let row = tx.delivery(message)?.expect("row");
                let update = homedesk_platform::storage::DeliveryUpdate {
                    state,
                    attempts: row.attempts + 1,
                    next_attempt_at: row.next_attempt_at,
                    round_started_at: row.round_started_at,
                    last_error: None,
                    now: 2000,
                };
                tx.update_delivery(message, EgressState::Pending, &update)
            })
            .expect("write")
    };
    assert!(mark("a1", EgressState::Sent));
    assert_eq!(heads(storage), ["a2", "b1"]);
    assert!(mark("a2", EgressState::Failed));
    assert_eq!(
        heads(storage),
        ["a3", "b1"],
        "a reply that failed for good holds nothing up"
    );
    assert!(
        !mark("a2", EgressState::Sent),
        "a row moves only from the state it was read in"
    );
}
