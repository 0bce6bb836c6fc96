//! Durability: a workstation process killed with SIGKILL at random moments
//! (a power cut, the family unplugging the PC) loses no acknowledged action
//! and delivers none twice.
//!
//! The parent starts the real platform and then, round after round, runs a
//! child (this same test binary, running `child_producer`) that produces
//! replies and prints `committed BODY` after each local commit; the parent
//! kills it at a random moment and starts it again. Each reply's body names
//! the round that produced it (`k9 0042 r7`), so a reply the child said was
//! saved but that a later round had to write again shows as a different body.
//!
//! What is checked, none of it on the child's word alone:
//!
//! - **Nothing lost.** After the last child exits, the parent reads the
//!   workstation's SQLite file itself: the outbox is empty, there is no
//!   conflict, and the replies in it are exactly the ones the platform has
//!   (read back from the platform, once each, in order), and every body a
//!   child acknowledged is among them exactly once.
//! - **Nothing applied twice, whatever the platform's duplicate check does.**
//!   The child sends through the real HTTPS transport wrapped so that,
//!   before each push, it looks up the batch's idempotency keys in the
//!   workstation's record of acknowledged actions (`delivered`): an action
//!   whose acknowledgement was committed is never sent again (a resend after
//!   a kill is only allowed while the acknowledgement was not yet saved). And
//!   the keys the platform stored (its `action_keys` table, read from its
//!   database file) are exactly the keys the workstation recorded as
//!   delivered, all applied, one per reply.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Server, engine_at, platform_messages};
use homedesk_core::store::{Store, outbox};
use homedesk_core::sync::{
    EventStream, HttpTransport, LinkQuality, PulledPage, Transport, TransportError,
};
use homedesk_protocol::{Action, ActionBatch, ActionResult, ActionStatus, Session, SignIn};
use rand::{Rng, SeedableRng};

const TOTAL: usize = 400;
const CHILD_ENV: &str = "HOMEDESK_KILL9_CHILD";
/// Printed by the child when it is about to send an action whose
/// acknowledgement it had already saved.
const RESENT: &str = "resent-acknowledged ";

/// The reply number in a body `k9 0042 r7`.
fn number_of(body: &str) -> usize {
    body.split(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a kill9 reply: {body:?}"))
}

#[tokio::test]
async fn killing_the_workstation_at_random_moments_loses_and_repeats_nothing() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "kill9",
            "cust-kill9",
            "aftersales",
            "请问我的订单发货了吗",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("a1002.sqlite");
    {
        let engine = engine_at(&server, &server.url, &db, "kill9");
        engine
            .sign_in("a1002", common::platform::DEMO_PASSWORD)
            .await
            .expect("signs in");
        engine.sync_once().await.expect("first sync");
        let me = engine.agent().expect("me");
        engine
            .store()
            .write(|tx| {
                outbox::enqueue(
                    tx,
                    &me,
                    Action::Claim {
                        conversation_id: conversation.clone(),
                    },
                    homedesk_core::clock::now_ms(),
                )
            })
            .expect("claim");
        engine.sync_once().await.expect("claim delivered");
    }

    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    // Bodies the children said were saved, in the order they said it.
    let mut acknowledged: Vec<String> = Vec::new();
    let mut kills = 0;
    let started = Instant::now();
    // Children that ended by themselves before saying anything (since the
    // last that said something), and what the last one wrote to stderr: a
    // child that cannot start (its store refused, say) is reported as such,
    // not as a slow test.
    let mut dead_at_start = 0;
    let mut last_stderr = String::new();
    for round in 0.. {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "took too long ({} acknowledged, {kills} kills); the last child that ended by \
             itself wrote: {last_stderr}",
            acknowledged.len()
        );
        assert!(
            dead_at_start < 25,
            "{dead_at_start} children ended before saying anything since the last that did; \
             the last wrote: {last_stderr}"
        );
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "child_producer",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .env("KILL9_DB", &db)
            .env("KILL9_URL", &server.url)
            .env("KILL9_CA", server.dir.join("tls").join("ca.pem"))
            .env("KILL9_CONVERSATION", &conversation)
            .env("KILL9_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("child starts");
        let stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut said_something = false;
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Most rounds are cut short; once everything was produced, let the
        // child drain the outbox and finish.
        let produced_all =
            BTreeSet::from_iter(acknowledged.iter().map(|b| number_of(b))).len() >= TOTAL;
        let deadline = Instant::now()
            + if produced_all {
                Duration::from_secs(60)
            } else {
                Duration::from_millis(rng.random_range(100..600))
            };
        // A line from the child: true once it reports the outbox drained.
        let mut take = |line: String, child: &mut std::process::Child| -> bool {
            // The test harness's own lines ("running 1 test") say nothing.
            if let Some(body) = line.strip_prefix("committed ") {
                said_something = true;
                acknowledged.push(body.to_owned());
            } else if let Some(key) = line.strip_prefix(RESENT) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "round {round}: the workstation sent action {key} again after it had \
                     saved the platform's acknowledgement"
                );
            }
            said_something |= line == "drained";
            line == "drained"
        };
        let mut drained = false;
        let mut stdout_closed = false;
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(line) => {
                    if take(line, &mut child) {
                        drained = true;
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    stdout_closed = true;
                    break;
                }
            }
        }
        if drained {
            let _ = child.wait();
            break;
        }
        // A child that closed its output is ending by itself: wait for it.
        let ended_by_itself = if stdout_closed {
            child.wait().ok()
        } else {
            child.try_wait().ok().flatten()
        };
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        kills += 1;
        // Lines already written before the kill still count.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(50)) {
            take(line, &mut child);
        }
        let stderr_text = stderr_reader.join().unwrap_or_default();
        // A child that said something started well; one killed before it
        // said anything tells nothing either way.
        if said_something {
            dead_at_start = 0;
        } else if ended_by_itself.is_some_and(|status| !status.success()) {
            dead_at_start += 1;
            let tail: String = stderr_text.chars().rev().take(2000).collect();
            last_stderr = tail.chars().rev().collect();
        }
    }
    assert!(kills >= 3, "the child was killed {kills} times");
    println!(
        "{kills} kills, {} replies acknowledged by the children",
        acknowledged.len()
    );

    // The workstation's store, read from its file now that no child runs.
    let local = rusqlite::Connection::open(&db).expect("the workstation's database");
    // The store's key (the children's): x'07…07'.
    local
        .execute_batch(&format!("PRAGMA key = \"x'{}'\";", "07".repeat(32)))
        .expect("key");
    let count = |sql: &str| -> i64 { local.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(
        count("SELECT count(*) FROM outbox"),
        0,
        "the outbox is empty"
    );
    let conflicts: Vec<String> = local
        .prepare("SELECT key || ' ' || coalesce(code, '') || ' ' || message FROM conflicts")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("conflicts");
    assert!(conflicts.is_empty(), "no action was refused: {conflicts:?}");
    let local_replies: Vec<String> = local
        .prepare(
            "SELECT json_extract(data, '$.body') FROM messages
             WHERE conversation_id = ?1 AND id LIKE 'k9-%' ORDER BY id",
        )
        .and_then(|mut s| s.query_map([&conversation], |r| r.get(0))?.collect())
        .expect("local replies");

    // What the platform received.
    let on_platform = platform_messages(&server, "a1002", &conversation).await;
    let numbers: Vec<usize> = on_platform.iter().map(|b| number_of(b)).collect();
    assert_eq!(
        numbers,
        (0..TOTAL).collect::<Vec<_>>(),
        "every reply is on the platform once, in order: {on_platform:?}"
    );
    assert_eq!(
        on_platform, local_replies,
        "the platform has exactly the replies saved on the workstation"
    );
    for body in &acknowledged {
        let found = on_platform.iter().filter(|b| *b == body).count();
        assert_eq!(
            found, 1,
            "acknowledged reply {body:?} is on the platform exactly once"
        );
    }

    // Every action the platform applied for this agent, under the key the
    // workstation recorded for it, and nothing else.
    let delivered: BTreeMap<String, (Action, String)> = local
        .prepare("SELECT key, action, status FROM delivered")
        .and_then(|mut s| {
            s.query_map([], |r| {
                let action: String = r.get(1)?;
                let action: Action = serde_json::from_str(&action).expect("an action");
                Ok((r.get(0)?, (action, r.get(2)?)))
            })?
            .collect()
        })
        .expect("delivered");
    let platform_keys = common::platform_action_verdicts(&server, "a1002");
    assert_eq!(
        platform_keys.keys().collect::<Vec<_>>(),
        delivered.keys().collect::<Vec<_>>(),
        "the platform stored the keys the workstation recorded as delivered"
    );
    for (key, verdict) in &platform_keys {
        assert_eq!(verdict.status, ActionStatus::Applied, "{key}: {verdict:?}");
        assert_eq!(delivered[key].1, "applied", "{key}");
    }
    let replied: BTreeSet<&str> = delivered
        .values()
        .filter_map(|(action, _)| match action {
            Action::Reply { message_id, .. } => Some(message_id.as_str()),
            _ => None,
        })
        .collect();
    let reply_keys = delivered
        .values()
        .filter(|(action, _)| matches!(action, Action::Reply { .. }))
        .count();
    assert_eq!(
        (replied.len(), reply_keys),
        (TOTAL, TOTAL),
        "one key per reply"
    );
}

/// The child's transport: the real HTTPS transport, with a look before each
/// push at the workstation's record of acknowledged actions.
struct Watched {
    http: HttpTransport,
    store: Arc<Store>,
}

impl Transport for Watched {
    async fn sign_in(&self, request: &SignIn) -> Result<Session, TransportError> {
        self.http.sign_in(request).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        self.http.refresh(refresh_token).await
    }

    async fn push(
        &self,
        access_token: &str,
        batch: &ActionBatch,
    ) -> Result<Vec<ActionResult>, TransportError> {
        for envelope in &batch.actions {
            let saved: bool = self
                .store
                .read(|c| {
                    c.query_row(
                        "SELECT count(*) > 0 FROM delivered WHERE key = ?1",
                        [&envelope.key],
                        |r| r.get(0),
                    )
                })
                .expect("delivered");
            if saved {
                println!("{RESENT}{}", envelope.key);
            }
        }
        self.http.push(access_token, batch).await
    }

    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PulledPage, TransportError> {
        self.http.pull(access_token, cursor, limit).await
    }

    async fn events(&self, access_token: &str) -> Result<EventStream, TransportError> {
        self.http.events(access_token).await
    }

    fn report_link(&self, link: LinkQuality) {
        self.http.report_link(link);
    }
}

/// The child: produces replies until `TOTAL` exist locally, then waits for
/// the outbox to drain. Runs only when started by the test above.
#[test]
#[ignore = "started as a child process by killing_the_workstation_at_random_moments_loses_and_repeats_nothing"]
fn child_producer() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let var = |name: &str| std::env::var(name).expect(name);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(
            Store::open(
                var("KILL9_DB"),
                &homedesk_core::store::StoreKey::from_bytes([7; 32]),
            )
            .expect("store"),
        );
        let mut http = homedesk_core::sync::HttpConfig::new(var("KILL9_URL"));
        http.ca_file = Some(var("KILL9_CA").into());
        let transport = Watched {
            http: HttpTransport::new(&http).expect("transport"),
            store: Arc::clone(&store),
        };
        let engine =
            homedesk_core::sync::SyncEngine::new(store, transport, common::quick_config("kill9"))
                .expect("engine");
        let me = engine.agent().expect("the session was saved by the parent");
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        tokio::spawn(Arc::clone(&engine).run(shutdown));
        let conversation = var("KILL9_CONVERSATION");
        let round = var("KILL9_ROUND");
        // Continue after what is already in the local store.
        let next: usize = engine
            .store()
            .read(|c| {
                c.query_row(
                    "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND id LIKE 'k9-%'",
                    [&conversation],
                    |row| row.get::<_, i64>(0),
                )
            })
            .expect("count") as usize;
        let mut rng = rand::rng();
        for n in next..TOTAL {
            let body = format!("k9 {n:04} r{round}");
            let action = Action::Reply {
                conversation_id: conversation.clone(),
                message_id: format!("k9-{n:04}"),
                body: body.clone(),
                attachments: Vec::new(),
            };
            engine
                .store()
                .write(|tx| outbox::enqueue(tx, &me, action, homedesk_core::clock::now_ms()))
                .expect("saved");
            engine.wake();
            println!("committed {body}");
            tokio::time::sleep(Duration::from_millis(rng.random_range(2..15))).await;
        }
        // Drained means the outbox is empty, read from the store itself (a
        // status published before the last enqueue can still say 0).
        while engine.store().read(outbox::count).expect("count") > 0 {
            engine.wake();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("drained");
    });
}
