//! Issue 19: two platform instances on one PostgreSQL database, a real load
//! balancer (Debian's HAProxy) in front, and the desks' real sync engines
//! working through it.
//!
//! - Two `homedesk-platform serve --demo` processes share one data folder
//!   (its development CA and certificate, its secrets) and so one
//!   database; the second `--demo` finds the demo world seeded and changes
//!   nothing. HAProxy terminates TLS with the platform's certificate (the
//!   desks trust the same CA file) and balances every request round robin.
//!   Each desk comes in on a port of its own, so HAProxy's log says which
//!   desk each request came from and which instance answered it.
//! - **Alternation.** The four desks sign in and sync the demo world one
//!   after the other, nothing else passing through: HAProxy's log shows
//!   their requests alternating between the instances (each page of a
//!   first sync answered by the other instance than the page before, with
//!   the cursor the other one gave), and each instance's own `/metrics`
//!   counts exactly the requests the log gives it. Later every desk's
//!   requests keep reaching both.
//! - **One change log.** Customers write (through the balancer), the desks
//!   claim, take offers, reply and set their presence; every desk's store
//!   holds exactly what a fresh pull of its change log gives, before the
//!   kill and after it. The desks do not poll: what others do reaches a
//!   desk on its event stream (or in the answer to its own push), whichever
//!   instance wrote it and whichever holds the stream. And the queue's
//!   grace for an agent without a stream is short, so an instance that does
//!   not count the streams the other one holds takes chats away from desks
//!   that are there (their replies come back refused).
//! - **One offer.** A new contact is offered once across both instances:
//!   never two open offers for one conversation (watched in the `offers`
//!   table all along), one offer per contact, received by the one desk it
//!   was made to; claimed conversations are never offered.
//! - **SIGKILL.** In the middle of the traffic the instance holding more
//!   event streams is killed while desks' pushes wait on it (it is stopped
//!   first, HAProxy's checks of it paused, until some do). HAProxy's health
//!   check takes it out; requests it did not answer are retried on the
//!   other. Afterwards every outbox drains through the survivor, every
//!   action a desk holds as acknowledged is on the platform exactly once
//!   (each reply's text once among the messages, every key the desk
//!   recorded as applied stored as applied, none sent again after its
//!   acknowledgement was saved), every customer message acknowledged to the
//!   adapter is there once, and the desks whose streams the kill cut
//!   listen again through the survivor and hear news there.
//!
//! Properties of the shared platform (one change log, one offer, exactly
//! once) are collected and reported together at the end; what the test
//! needs to go on (instances, HAProxy, waits) fails at once.
//!
//! Needs PostgreSQL (`scripts/with-postgres.sh`, `scripts/test-postgres.sh`)
//! and HAProxy; without PostgreSQL it says it is skipped.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Server;
use common::platform::{DEADLINE, Haproxy, ProxiedRequest, sql, sql_text, test_postgres};
use futures_util::StreamExt;
use homedesk_core::store::{Store, StoreKey, outbox, sync_state, views};
use homedesk_core::sync::{
    EventStream, FetchedMedia, HttpTransport, LinkQuality, PhotoSize, PullKinds, PulledPage,
    SyncEngine, SyncEvent, Transport, TransportError,
};
use homedesk_protocol::{
    Action, ActionBatch, ActionResult, ActionStatus, Attachment, Author, ChangeBody,
    ConversationRecord, EntityKind, MessageKind, Offer, Presence, Record, ServerEvent, Session,
    SignIn,
};
use serde_json::Value;
use tokio::sync::broadcast;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;
/// The desks: four agents of the demo's `aftersales` queue.
const AGENTS: [&str; 4] = ["a1001", "a1002", "a1003", "a1004"];
const QUEUE: &str = "aftersales";
/// HAProxy's names of the two instances.
const NAMES: [&str; 2] = ["a", "b"];
/// Rounds of traffic, and the one after which an instance is killed.
const ROUNDS: usize = 14;
const KILL_ROUND: usize = 6;
/// The prefix of every reply's text (the rest names the desk and a number).
const REPLY: &str = "two-instances";
/// The `aftersales` queue's grace for an agent without an event stream
/// (the demo's is two minutes): an instance that does not see the streams
/// other instances hold takes those agents' waiting chats away within the
/// test, while a desk whose stream the kill cut is back well within it.
const VANISHED_GRACE_SECS: u32 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behind_haproxy_share_one_platform_and_survive_a_kill() {
    if test_postgres().is_none() {
        println!(
            "skipped: two_instances needs PostgreSQL (run it with scripts/with-postgres.sh or \
             scripts/test-postgres.sh)"
        );
        return;
    }
    assert!(
        Haproxy::available(),
        "{} is missing: run 'make bootstrap' (Debian's haproxy)",
        common::platform::HAPROXY
    );
    let tmp = tempfile::tempdir().expect("tmp");

    // ------------------------------------------------------------ setup
    // The first instance seeds the demo (and makes the folder's database,
    // CA, certificate and secrets); the second, on the same folder, finds
    // them all.
    let content = tmp.path().join("content");
    content_with_grace(&content, VANISHED_GRACE_SECS);
    let content = content.to_str().expect("utf-8 path");
    let first = Server::start_demo(&["--content", content]);
    let head_before = log_head(&first.dir);
    let second_log = first.dir.with_extension("instance-b.log");
    let second = Server::start_logged(&first.dir, &second_log, &["--demo", "--content", content]);
    assert_eq!(
        log_head(&first.dir),
        head_before,
        "the second `--demo` on the seeded database wrote nothing to the change log"
    );
    let mut instances = [first, second];
    let logs = [instances[0].dir.with_extension("log"), second_log.clone()];
    let proxy = Haproxy::balancing(
        &tmp.path().join("haproxy"),
        &[(NAMES[0], &instances[0]), (NAMES[1], &instances[1])],
        AGENTS.len() + 1,
    );
    let _diagnostics = Diagnostics {
        files: vec![
            tmp.path().join("haproxy").join("haproxy.log"),
            tmp.path().join("haproxy").join("haproxy.err"),
            logs[0].clone(),
            logs[1].clone(),
        ],
    };
    let desk_port = |i: usize| port_of(&proxy.urls[i]);
    // Customers, and the test's own looks, come in on the last port.
    let lb = instances[0].via(&proxy.urls[AGENTS.len()]);
    let mut findings = Findings::default();

    let mut desks: Vec<Desk> = AGENTS
        .iter()
        .enumerate()
        .map(|(i, agent)| Desk::new(&instances[0], &proxy.urls[i], tmp.path(), agent))
        .collect();

    // ---------------------------------------------- (a) alternation
    // One request at a time through HAProxy: sign-ins and first syncs
    // (pages of 50 changes: many of them).
    let logged_before = proxy.requests().len();
    let served_before = [
        requests_served(&instances[0]).await,
        requests_served(&instances[1]).await,
    ];
    for desk in &desks {
        desk.engine
            .sign_in(desk.agent, PASSWORD)
            .await
            .expect("signs in through HAProxy");
        let report = desk.engine.sync_once().await.expect("first sync");
        assert!(report.pages >= 4, "{}: {report:?}", desk.agent);
    }
    let (sequential, served) = eventually_async(
        "HAProxy's log and the instances' metrics agree on the first syncs",
        || async {
            let lines = proxy.requests()[logged_before..].to_vec();
            let served = [
                requests_served(&instances[0]).await - served_before[0],
                requests_served(&instances[1]).await - served_before[1],
            ];
            (lines.len() as u64 == served[0] + served[1]).then_some((lines, served))
        },
    )
    .await;
    let by_server = |name: &str| sequential.iter().filter(|r| r.server == name).count() as u64;
    assert_eq!(
        [by_server(NAMES[0]), by_server(NAMES[1])],
        served,
        "each instance counted exactly the requests HAProxy's log gives it: {sequential:#?}"
    );
    assert!(
        served[0].abs_diff(served[1]) <= 1 && served[0] > 0,
        "one request at a time, the instances took turns: {served:?}"
    );
    for pair in sequential.windows(2) {
        assert_ne!(
            pair[0].server, pair[1].server,
            "consecutive requests went to different instances: {sequential:#?}"
        );
    }
    for (i, desk) in desks.iter().enumerate() {
        let servers: BTreeSet<&str> = sequential
            .iter()
            .filter(|r| r.port == desk_port(i))
            .map(|r| r.server.as_str())
            .collect();
        assert_eq!(
            servers,
            BTreeSet::from(NAMES),
            "{}'s sign-in and first sync were answered by both instances",
            desk.agent
        );
    }
    println!(
        "first syncs: {} requests through HAProxy, {} answered by each instance in turn",
        sequential.len(),
        served[0]
    );

    // An event stream through HAProxy: zstd-compressed, flushed event by
    // event, passed on as it comes (the connect poke arrives while the
    // stream stays open).
    event_stream_passes_compressed(&lb).await;

    // ------------------------------------------------------- traffic
    let offers_seen: Arc<Mutex<Vec<(String, Offer)>>> = Arc::default();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    let mut acceptors = Vec::new();
    for desk in &desks {
        acceptors.push(spawn_acceptor(
            Arc::clone(&desk.engine),
            desk.agent,
            Arc::clone(&offers_seen),
        ));
        tasks.push(tokio::spawn(Arc::clone(&desk.engine).run(shutdown.clone())));
    }
    let open_offers = OfferWatch::start(&instances[0].dir);

    // Claims, while nobody is available (so nothing is offered): desk i
    // claims customer i's conversation and answers twice.
    let mut claimed = Vec::new();
    for i in 0..AGENTS.len() {
        claimed.push(
            customer_write(
                &lb,
                &format!("ti-claim-{i}"),
                &format!("cust-ti-claim-{i}"),
                &format!("customer claim-{i}"),
            )
            .await,
        );
    }
    for (desk, conversation) in desks.iter_mut().zip(&claimed) {
        // (Setting the scene: the desk is told to look, not left to hear.)
        eventually_async("the claimable conversation reaches the desk", || async {
            desk.engine.wake();
            desk.engine
                .store()
                .read(|c| views::conversation(c, conversation))
                .expect("read")
                .map(|_| ())
        })
        .await;
        act(
            &desk.engine,
            Action::Claim {
                conversation_id: conversation.clone(),
            },
        );
        desk.reply(conversation);
        desk.reply(conversation);
    }
    for (desk, conversation) in desks.iter().zip(&claimed) {
        eventually_async("the claim is the desk's on the platform", || async {
            held(&desk.engine).contains(conversation).then_some(())
        })
        .await;
    }

    // Everyone available: new contacts are offered and taken.
    for desk in &desks {
        act(
            &desk.engine,
            Action::Presence {
                presence: Presence::Available,
            },
        );
    }
    for desk in &desks {
        eventually_async("the desk is available and listening", || async {
            (drained(&desk.engine) && desk.engine.listening()).then_some(())
        })
        .await;
    }
    let mut offered = Vec::new();
    for k in 0..AGENTS.len() {
        offered.push(
            customer_write(
                &lb,
                &format!("ti-offer-{k}"),
                &format!("cust-ti-offer-{k}"),
                &format!("customer offer-{k}"),
            )
            .await,
        );
    }
    for conversation in &offered {
        taken(&desks, conversation, &instances[0].dir, &offers_seen).await;
    }
    for desk in &desks {
        eventually_async("the desk's outbox drains", || async {
            drained(&desk.engine).then_some(())
        })
        .await;
    }
    // (a) before the kill: both instances serve one change log.
    let until = Instant::now() + DEADLINE;
    for desk in &desks {
        let diverged = converged(&lb, &desk.engine, false, until).await;
        findings.check(diverged.is_none(), || {
            format!(
                "(a) before the kill, {}'s store is not its change log: {}",
                desk.agent,
                diverged.unwrap_or_default()
            )
        });
    }

    // A quiet spell longer than the queue's grace: the desks only listen,
    // their customers wait for an answer. (A step of the scenario, not a
    // wait for something.) Every desk still holds its chats afterwards,
    // whichever instance holds its stream.
    let holding: Vec<Vec<String>> = desks.iter().map(|d| held(&d.engine)).collect();
    tokio::time::sleep(Duration::from_secs(u64::from(VANISHED_GRACE_SECS) + 2)).await;
    for (desk, before) in desks.iter().zip(&holding) {
        let after = platform_holds(&instances[0].dir, desk.agent);
        findings.check(&after == before, || {
            format!(
                "(b) {} held {before:?} before a quiet spell of {VANISHED_GRACE_SECS}+2 s with \
                 its stream open, the platform gives it {after:?} after it",
                desk.agent
            )
        });
    }

    // Rounds of replies (one per held conversation and desk) and customer
    // messages; after KILL_ROUND, a burst of replies and SIGKILL of the
    // instance that holds event streams; new contacts right after.
    let mut customer_messages = Vec::new();
    let mut after_kill = Vec::new();
    let mut kill: Option<Kill> = None;
    for round in 0..ROUNDS {
        for desk in desks.iter_mut() {
            for conversation in held(&desk.engine) {
                desk.reply(&conversation);
            }
        }
        let k = round % AGENTS.len();
        let body = format!("customer more-{round}");
        customer_write(
            &lb,
            &format!("ti-more-{round}"),
            &format!("cust-ti-offer-{k}"),
            &body,
        )
        .await;
        customer_messages.push(body);
        if round == KILL_ROUND {
            // The victim holds more of the desks' event streams.
            let streams = [
                event_streams(&instances[0]).await,
                event_streams(&instances[1]).await,
            ];
            let victim = usize::from(streams[1] > streams[0]);
            let name = NAMES[victim];
            assert!(
                streams[victim] > 0,
                "the desks' streams are on the instances: {streams:?}"
            );
            let logged = proxy.requests().len();
            let streams_opened: Vec<u64> = desks
                .iter()
                .map(|d| d.watch.streams.load(Ordering::SeqCst))
                .collect();
            // Caught in the middle of pushes: the victim hangs (SIGSTOP)
            // while HAProxy, its checks paused, keeps sending it its turn of
            // requests; a burst of replies, and once some of the pushes wait
            // on it, SIGKILL.
            proxy.health_checks(name, false);
            instances[victim].freeze();
            let before = proxy.server_sessions(name);
            for desk in desks.iter_mut() {
                if let Some(conversation) = held(&desk.engine).first() {
                    for _ in 0..5 {
                        desk.reply(conversation);
                    }
                }
            }
            let hanging = eventually_async("pushes reach the hung instance", || async {
                let now = proxy.server_sessions(name);
                // `then`, not `then_some`: sessions can also end meanwhile
                // (scur falls below `before`), and the difference must not
                // be taken then.
                (now > before).then(|| now - before)
            })
            .await;
            let waiting: Vec<u32> = desks
                .iter()
                .map(|d| d.engine.store().read(outbox::count).expect("count"))
                .collect();
            instances[victim].crash();
            proxy.health_checks(name, true);
            println!(
                "killed instance {name} (SIGKILL) with {hanging} requests waiting on it, holding \
                 {} of {streams:?} event streams; {waiting:?} actions in the desks' outboxes",
                streams[victim]
            );
            kill = Some(Kill {
                victim,
                streams: streams[victim],
                logged,
                streams_opened,
            });
        }
        if round == KILL_ROUND + 1 {
            for k in 0..AGENTS.len() {
                after_kill.push(
                    customer_write(
                        &lb,
                        &format!("ti-after-{k}"),
                        &format!("cust-ti-after-{k}"),
                        &format!("customer after-{k}"),
                    )
                    .await,
                );
            }
        }
        // Pacing between rounds (nothing is judged by time).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kill = kill.expect("the kill happened");
    let victim = NAMES[kill.victim];
    let survivor = NAMES[1 - kill.victim];

    eventually_async(
        "HAProxy's health check takes the killed instance out",
        || async {
            proxy
                .server_status(victim)
                .starts_with("DOWN")
                .then_some(())
        },
    )
    .await;
    for conversation in &after_kill {
        taken(&desks, conversation, &instances[0].dir, &offers_seen).await;
    }
    // A last reply in every held conversation, the new ones included.
    for desk in desks.iter_mut() {
        for conversation in held(&desk.engine) {
            desk.reply(&conversation);
        }
    }
    for desk in &desks {
        eventually_async(
            "every outbox drains through the surviving instance",
            || async { drained(&desk.engine).then_some(()) },
        )
        .await;
    }

    // ------------------------------------- (c) the kill, through HAProxy
    let proxied = proxy.requests();
    let after: &[ProxiedRequest] = &proxied[kill.logged..];
    let cut: BTreeSet<usize> = after
        .iter()
        .filter(|r| r.server == victim && r.path == "/v1/events")
        .filter_map(|r| (0..AGENTS.len()).find(|i| desk_port(*i) == r.port))
        .collect();
    summarize_kill(after, victim);
    let cut_streams = after
        .iter()
        .filter(|r| r.server == victim && r.path == "/v1/events")
        .count() as u64;
    findings.check(cut_streams == kill.streams, || {
        format!(
            "(c) HAProxy logged {cut_streams} event streams of the killed instance ending, its \
             metrics said {} were open",
            kill.streams
        )
    });
    findings.check(!cut.is_empty(), || {
        "(c) HAProxy logged no event stream of the killed instance ending".to_owned()
    });
    for &i in &cut {
        let desk = &desks[i];
        let opened_before = kill.streams_opened[i];
        let heard = within(DEADLINE, || async {
            (desk.engine.listening() && desk.watch.news_on_streams_after(opened_before))
                .then_some(())
        })
        .await;
        findings.check(heard.is_some(), || {
            format!(
                "(c) {}'s event stream was cut by the kill; it did not listen again and hear \
                 news (a poke or an offer) through the surviving instance: streams opened {} \
                 (before the kill {opened_before}), events {:?}",
                desk.agent,
                desk.watch.streams.load(Ordering::SeqCst),
                desk.watch.summary()
            )
        });
    }
    // Pre-kill, every desk's requests reached both instances; afterwards
    // only the survivor answered (the killed one only ended what it had).
    let before_kill = &proxied[..kill.logged];
    for (i, desk) in desks.iter().enumerate() {
        let servers: BTreeSet<&str> = before_kill
            .iter()
            .filter(|r| r.port == desk_port(i) && r.path != "/v1/events")
            .map(|r| r.server.as_str())
            .collect();
        assert_eq!(
            servers,
            BTreeSet::from(NAMES),
            "{}'s requests were balanced over both instances",
            desk.agent
        );
    }
    let answered_by_victim: Vec<&ProxiedRequest> = after
        .iter()
        .filter(|r| r.server == victim && r.status > 0 && r.termination == "----")
        .collect();
    assert!(
        answered_by_victim.len() <= AGENTS.len() + 1,
        "after the kill the killed instance answered nothing new (at most what was in flight): \
         {answered_by_victim:#?}"
    );
    assert!(
        after.iter().any(|r| r.server == survivor),
        "the survivor answered after the kill"
    );

    // Stop the desks, then (a): every store is its change log.
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    for acceptor in acceptors {
        acceptor.abort();
    }
    let offer_violations = open_offers.stop();
    let until = Instant::now() + DEADLINE;
    for desk in &desks {
        let diverged = converged(&lb, &desk.engine, true, until).await;
        findings.check(diverged.is_none(), || {
            format!(
                "(a) after the kill, {}'s store is not its change log: {}",
                desk.agent,
                diverged.unwrap_or_default()
            )
        });
    }
    same_records_where_seen_twice(&desks, &mut findings);

    // ------------------------------------------------- (b) one offer
    findings.check(offer_violations.is_empty(), || {
        format!("(b) two open offers for one conversation at once: {offer_violations:?}")
    });
    let offers = offer_rows(&instances[0].dir);
    let seen = offers_seen.lock().expect("offers").clone();
    for conversation in &claimed {
        let rows = offers.get(conversation).cloned().unwrap_or_default();
        findings.check(rows.is_empty(), || {
            format!("(b) claimed conversation {conversation} was offered: {rows:?}")
        });
    }
    for (conversation, before_kill) in offered
        .iter()
        .map(|c| (c, true))
        .chain(after_kill.iter().map(|c| (c, false)))
    {
        let rows = offers.get(conversation).cloned().unwrap_or_default();
        let accepted: Vec<&OfferRow> = rows.iter().filter(|r| r.state == "accepted").collect();
        let holders: Vec<&str> = desks
            .iter()
            .filter(|d| held(&d.engine).contains(conversation))
            .map(|d| d.agent)
            .collect();
        let received: BTreeSet<(String, String)> = seen
            .iter()
            .filter(|(_, o)| o.conversation_id == *conversation)
            .map(|(agent, o)| (agent.clone(), o.offer_id.clone()))
            .collect();
        let made: BTreeSet<(String, String)> = rows
            .iter()
            .map(|r| (r.agent.clone(), r.offer_id.clone()))
            .collect();
        // Before the kill every offer is taken at once: one offer, heard
        // by the desk it was made to. After it, an offer to a desk whose
        // stream was cut may be withdrawn and made again; one is taken.
        let once = !before_kill || (rows.len() == 1 && received == made);
        let taken_once =
            accepted.len() == 1 && holders.len() == 1 && accepted[0].agent == holders[0];
        findings.check(once && taken_once, || {
            format!(
                "(b) {conversation} ({} the kill): offers made {rows:?}, heard by the desks \
                 {received:?}, held by {holders:?}",
                if before_kill { "before" } else { "after" }
            )
        });
    }

    // ------------------------------------------- (c) exactly once
    let messages = platform_messages(&instances[0].dir);
    let mut expected_replies = BTreeSet::new();
    for desk in &desks {
        expected_replies.extend(desk.replies.iter().map(|r| r.body.clone()));
        let conflicts = desk
            .engine
            .store()
            .read(views::conflicts)
            .expect("conflicts");
        findings.check(conflicts.is_empty(), || {
            format!("(c) {} has refused actions: {conflicts:?}", desk.agent)
        });
        let resent = desk.watch.resent.lock().expect("resent").clone();
        findings.check(resent.is_empty(), || {
            format!(
                "(c) {} sent actions again after saving their acknowledgement: {resent:?}",
                desk.agent
            )
        });
        let disagreements = desk.watch.disagreements.lock().expect("acks").clone();
        findings.check(disagreements.is_empty(), || {
            format!(
                "(c) {} was told different verdicts for one action: {disagreements:?}",
                desk.agent
            )
        });
        let acks = desk.watch.acks.lock().expect("acks").clone();
        for reply in &desk.replies {
            let verdict = acks.get(&reply.key).copied();
            findings.check(verdict == Some(ActionStatus::Applied), || {
                format!(
                    "(c) {}'s reply {} is not acknowledged as applied: {verdict:?}",
                    desk.agent, reply.message_id
                )
            });
            // Applied: there once, as sent. Refused (found above): not there.
            let on_platform = messages
                .iter()
                .filter(|m| m.author == Author::Agent && m.body == reply.body)
                .collect::<Vec<_>>();
            let right = match verdict {
                Some(ActionStatus::Applied) => {
                    on_platform.len() == 1
                        && on_platform[0].id == reply.message_id
                        && on_platform[0].conversation_id == reply.conversation
                }
                _ => on_platform.is_empty(),
            };
            findings.check(right, || {
                format!(
                    "(c) {}'s reply {:?} ({verdict:?}) is on the platform {} times: \
                     {on_platform:?}",
                    desk.agent,
                    reply.body,
                    on_platform.len()
                )
            });
        }
        let applied_here: BTreeSet<String> = acks
            .iter()
            .filter(|(_, status)| **status == ActionStatus::Applied)
            .map(|(key, _)| key.clone())
            .collect();
        let applied_there = platform_applied_keys(&instances[0].dir, desk.agent);
        findings.check(applied_here == applied_there, || {
            format!(
                "(c) {}: the keys the desk holds as applied are not those the platform stored \
                 as applied: only here {:?}, only there {:?}",
                desk.agent,
                applied_here.difference(&applied_there).collect::<Vec<_>>(),
                applied_there.difference(&applied_here).collect::<Vec<_>>()
            )
        });
    }
    let stray: Vec<&str> = messages
        .iter()
        .filter(|m| m.author == Author::Agent && m.body.starts_with(REPLY))
        .map(|m| m.body.as_str())
        .filter(|body| !expected_replies.contains(*body))
        .collect();
    findings.check(stray.is_empty(), || {
        format!("(c) replies on the platform no desk sent: {stray:?}")
    });
    let written: Vec<String> = (0..AGENTS.len())
        .flat_map(|i| {
            [
                format!("customer claim-{i}"),
                format!("customer offer-{i}"),
                format!("customer after-{i}"),
            ]
        })
        .chain(customer_messages)
        .collect();
    for body in &written {
        let count = messages
            .iter()
            .filter(|m| m.author == Author::Customer && m.body == *body)
            .count();
        findings.check(count == 1, || {
            format!("(c) the customer message {body:?} is on the platform {count} times")
        });
    }
    let replies: usize = desks.iter().map(|d| d.replies.len()).sum();
    let duplicates: u64 = desks
        .iter()
        .map(|d| d.watch.duplicates.load(Ordering::SeqCst))
        .sum();
    println!(
        "{replies} replies and {} customer messages; {} offers; {duplicates} actions answered \
         `duplicate` (sent again after a lost answer)",
        written.len(),
        offers.values().map(Vec::len).sum::<usize>()
    );

    drop(lb);
    findings.assert_none();
}

// ------------------------------------------------------------ the desks

/// One desk: its sync engine (through its own HAProxy port) and what it
/// sent.
struct Desk {
    agent: &'static str,
    engine: Arc<SyncEngine<Observed>>,
    watch: Arc<Watch>,
    replies: Vec<Reply>,
}

struct Reply {
    conversation: String,
    message_id: String,
    body: String,
    key: String,
}

impl Desk {
    fn new(server: &Server, url: &str, dir: &Path, agent: &'static str) -> Desk {
        let store = Arc::new(
            Store::open(
                dir.join(format!("{agent}.sqlite")),
                &StoreKey::from_bytes([7; 32]),
            )
            .expect("store"),
        );
        let watch = Arc::new(Watch::default());
        let transport = Observed {
            http: common::transport(server, url),
            store: Arc::clone(&store),
            watch: Arc::clone(&watch),
        };
        // No polling: what others do reaches the desk only on its event
        // stream (or in the answer to its own push), whichever instance
        // holds the stream and whichever wrote the change.
        let mut config = common::quick_config(&format!("two-instances-{agent}"));
        config.poll_interval = Duration::from_secs(600);
        config.safety_poll = Duration::from_secs(600);
        let engine = SyncEngine::new(store, transport, config).expect("engine");
        Desk {
            agent,
            engine,
            watch,
            replies: Vec::new(),
        }
    }

    /// A reply in `conversation`, saved locally (the engine sends it).
    fn reply(&mut self, conversation: &str) {
        let n = self.replies.len() + 1;
        let message_id = format!("ti-{}-{n:04}", self.agent);
        let body = format!("{REPLY} {} {n:04}", self.agent);
        let key = act(
            &self.engine,
            Action::Reply {
                conversation_id: conversation.to_owned(),
                message_id: message_id.clone(),
                body: body.clone(),
                attachments: Vec::new(),
            },
        );
        self.replies.push(Reply {
            conversation: conversation.to_owned(),
            message_id,
            body,
            key,
        });
    }
}

/// Waits until one of the desks holds `conversation` (a new contact,
/// offered and accepted); says what was offered if none does.
async fn taken(desks: &[Desk], conversation: &str, dir: &Path, seen: &Mutex<Vec<(String, Offer)>>) {
    let held_by_one = within(DEADLINE, || async {
        desks
            .iter()
            .any(|desk| held(&desk.engine).iter().any(|c| c == conversation))
            .then_some(())
    })
    .await;
    if held_by_one.is_none() {
        let heard: Vec<(String, String)> = seen
            .lock()
            .expect("offers")
            .iter()
            .filter(|(_, o)| o.conversation_id == conversation)
            .map(|(agent, o)| (agent.clone(), o.offer_id.clone()))
            .collect();
        panic!(
            "(b) the new contact {conversation} was not offered and taken within {DEADLINE:?}: \
             the platform's offers {:?}, the offers the desks heard of {heard:?}",
            offer_rows(dir).remove(conversation).unwrap_or_default()
        );
    }
}

/// Saves an action the way the app does and wakes the engine; its key.
fn act<T: Transport>(engine: &SyncEngine<T>, action: Action) -> String {
    let me = engine.agent().expect("signed in");
    let envelope = engine
        .store()
        .write(|tx| outbox::enqueue(tx, &me, action, homedesk_core::clock::now_ms()))
        .expect("saved locally");
    engine.publish_status();
    engine.wake();
    envelope.key
}

fn drained<T: Transport>(engine: &SyncEngine<T>) -> bool {
    engine.store().read(outbox::count).expect("count") == 0
}

/// The open conversations the platform's copy (as pulled) assigns to the
/// desk's agent.
fn held<T: Transport>(engine: &SyncEngine<T>) -> Vec<String> {
    let me = engine.agent().expect("signed in");
    engine
        .store()
        .read(|c| {
            c.prepare(
                "SELECT id FROM conversations
                 WHERE json_extract(server, '$.assigned_to') = ?1
                   AND json_extract(server, '$.status') <> 'resolved'
                 ORDER BY id",
            )?
            .query_map([&me], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()
        })
        .expect("held conversations")
}

/// Takes every offer the desk hears of (once each), noting who heard which.
fn spawn_acceptor(
    engine: Arc<SyncEngine<Observed>>,
    agent: &'static str,
    seen: Arc<Mutex<Vec<(String, Offer)>>>,
) -> tokio::task::JoinHandle<()> {
    let mut events = engine.subscribe();
    tokio::spawn(async move {
        let mut accepted = BTreeSet::new();
        loop {
            match events.recv().await {
                Ok(SyncEvent::Offer(offer)) => {
                    seen.lock()
                        .expect("offers")
                        .push((agent.to_owned(), offer.clone()));
                    if accepted.insert(offer.offer_id.clone()) {
                        act(
                            &engine,
                            Action::AcceptOffer {
                                offer_id: offer.offer_id,
                            },
                        );
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

// ------------------------------------------------- the watched transport

/// What one desk's transport saw: its event streams and their events, the
/// platform's verdict on each action (what the desk was acknowledged), and
/// any action sent again after its acknowledgement was saved.
#[derive(Default)]
struct Watch {
    /// Event streams opened so far.
    streams: AtomicU64,
    /// (stream number, event) for every event but heartbeats.
    events: Mutex<Vec<(u64, String)>>,
    /// Key → the verdict (for a `duplicate`, the first delivery's).
    acks: Mutex<BTreeMap<String, ActionStatus>>,
    /// Answers `duplicate`: an action sent again after its answer was lost,
    /// recognised by its key.
    duplicates: AtomicU64,
    /// Keys told one verdict, then another.
    disagreements: Mutex<Vec<String>>,
    resent: Mutex<Vec<String>>,
}

impl Watch {
    fn acknowledged(&self, results: &[ActionResult]) {
        let mut acks = self.acks.lock().expect("acks");
        for result in results {
            let status = match (&result.status, &result.original) {
                (ActionStatus::Duplicate, Some(original)) => {
                    self.duplicates.fetch_add(1, Ordering::SeqCst);
                    original.status
                }
                (status, _) => *status,
            };
            if let Some(before) = acks.insert(result.key.clone(), status)
                && before != status
            {
                self.disagreements
                    .lock()
                    .expect("acks")
                    .push(format!("{}: {before:?}, then {status:?}", result.key));
            }
        }
    }

    fn note(&self, stream: u64, event: &ServerEvent) {
        let what = match event {
            ServerEvent::Changes { latest_seq, inline } => format!(
                "changes {latest_seq} {}",
                inline.as_ref().map_or(0, |i| i.page.changes.len())
            ),
            ServerEvent::Offer(offer) => format!("offer {}", offer.conversation_id),
            ServerEvent::OfferWithdrawn { offer_id } => format!("withdrawn {offer_id}"),
            ServerEvent::Heartbeat { .. } => return,
            ServerEvent::TeamChanged { .. } => "team".to_owned(),
        };
        self.events.lock().expect("events").push((stream, what));
    }

    /// Whether a stream opened after the first `opened` brought a poke or
    /// an offer.
    fn news_on_streams_after(&self, opened: u64) -> bool {
        self.events
            .lock()
            .expect("events")
            .iter()
            .any(|(stream, what)| {
                *stream > opened && (what.starts_with("changes") || what.starts_with("offer "))
            })
    }

    fn summary(&self) -> Vec<(u64, String)> {
        self.events.lock().expect("events").clone()
    }
}

/// The real HTTPS transport, watched: its event streams are counted and
/// their events noted, and before each push the batch's keys are looked up
/// among the acknowledgements the desk saved (an action whose
/// acknowledgement was saved must never be sent again).
struct Observed {
    http: HttpTransport,
    store: Arc<Store>,
    watch: Arc<Watch>,
}

impl Observed {
    fn look_before_push(&self, batch: &ActionBatch) {
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
                self.watch
                    .resent
                    .lock()
                    .expect("resent")
                    .push(envelope.key.clone());
            }
        }
    }
}

impl Transport for Observed {
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
        self.look_before_push(batch);
        let results = self.http.push(access_token, batch).await?;
        self.watch.acknowledged(&results);
        Ok(results)
    }

    async fn push_and_pull(
        &self,
        access_token: &str,
        batch: &ActionBatch,
        cursor: &str,
    ) -> Result<(Vec<ActionResult>, Option<PulledPage>), TransportError> {
        self.look_before_push(batch);
        let (results, page) = self.http.push_and_pull(access_token, batch, cursor).await?;
        self.watch.acknowledged(&results);
        Ok((results, page))
    }

    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PulledPage, TransportError> {
        self.http.pull(access_token, cursor, limit).await
    }

    async fn pull_kinds(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
        kinds: PullKinds,
    ) -> Result<PulledPage, TransportError> {
        self.http
            .pull_kinds(access_token, cursor, limit, kinds)
            .await
    }

    async fn events(&self, access_token: &str) -> Result<EventStream, TransportError> {
        let stream = self.http.events(access_token).await?;
        let number = self.watch.streams.fetch_add(1, Ordering::SeqCst) + 1;
        let watch = Arc::clone(&self.watch);
        Ok(Box::pin(stream.inspect(move |item| {
            if let Ok(event) = item {
                watch.note(number, event);
            }
        })))
    }

    async fn upload_attachment(
        &self,
        access_token: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Attachment, TransportError> {
        self.http
            .upload_attachment(access_token, media_type, bytes)
            .await
    }

    async fn fetch_attachment(
        &self,
        access_token: &str,
        id: &str,
        size: PhotoSize,
        max_bytes: usize,
    ) -> Result<FetchedMedia, TransportError> {
        self.http
            .fetch_attachment(access_token, id, size, max_bytes)
            .await
    }

    async fn fetch_conversation(
        &self,
        access_token: &str,
        id: &str,
    ) -> Result<ConversationRecord, TransportError> {
        self.http.fetch_conversation(access_token, id).await
    }

    async fn end_session(&self, token: &str) -> Result<(), TransportError> {
        self.http.end_session(token).await
    }

    fn report_link(&self, link: LinkQuality) {
        self.http.report_link(link);
    }
}

// ------------------------------------------------------ the change log

/// `None` when the desk's store holds exactly what a fresh pull of its
/// agent's change log (in pages of 100, through the balancer) gives:
/// conversations, messages and agent profiles; else what differs. With
/// `sync`, the desk first syncs once (its loop has stopped). Tried until
/// `until`, since the desks may still be taking in the last news.
async fn converged(
    lb: &Server,
    engine: &SyncEngine<Observed>,
    sync: bool,
    until: Instant,
) -> Option<String> {
    loop {
        if sync && let Err(err) = engine.sync_once().await {
            if Instant::now() >= until {
                return Some(format!("the desk's sync failed: {err}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let token = engine
            .store()
            .read(sync_state::session)
            .expect("session")
            .expect("signed in")
            .access_token;
        let mut platform = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = lb.page(&token, cursor.as_deref(), 100).await;
            for change in page.changes {
                match change.body {
                    ChangeBody::Upsert(record) => {
                        if let Some((kind, id, value)) = comparable(&record) {
                            platform.insert((kind, id), value);
                        }
                    }
                    ChangeBody::Delete { entity, id } => {
                        platform.remove(&(entity.as_str().to_owned(), id));
                    }
                }
            }
            cursor = Some(page.next_cursor);
            if !page.has_more {
                break;
            }
        }
        let local = local_records(engine);
        if local == platform {
            return None;
        }
        if Instant::now() >= until {
            return Some(describe_difference(&local, &platform));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

type Records = BTreeMap<(String, String), Value>;

fn comparable(record: &Record) -> Option<(String, String, Value)> {
    let value = match record {
        Record::Conversation(c) => serde_json::to_value(c),
        Record::Message(m) => serde_json::to_value(m),
        Record::AgentProfile(p) => serde_json::to_value(p),
        _ => return None,
    }
    .expect("a record as JSON");
    Some((
        record.kind().as_str().to_owned(),
        record.id().to_owned(),
        value,
    ))
}

/// The desk's copies of the platform's records (a pending local message
/// shows as such).
fn local_records(engine: &SyncEngine<Observed>) -> Records {
    let rows = |sql: &str, kind: EntityKind| -> Vec<((String, String), Value)> {
        engine
            .store()
            .read(|c| {
                c.prepare(sql)?
                    .query_map([], |row| {
                        let id: String = row.get(0)?;
                        let data: String = row.get(1)?;
                        let pending: Option<String> = row.get(2)?;
                        let value = match pending {
                            Some(key) => Value::String(format!("pending {key}")),
                            None => serde_json::from_str(&data).unwrap_or(Value::Null),
                        };
                        Ok(((kind.as_str().to_owned(), id), value))
                    })?
                    .collect::<Result<Vec<_>, rusqlite::Error>>()
            })
            .expect("local records")
    };
    let mut all = Records::new();
    all.extend(rows(
        "SELECT id, coalesce(server, 'null'), NULL FROM conversations",
        EntityKind::Conversation,
    ));
    all.extend(rows(
        "SELECT id, data, pending_key FROM messages",
        EntityKind::Message,
    ));
    all.extend(rows(
        "SELECT id, data, NULL FROM agent_profiles",
        EntityKind::AgentProfile,
    ));
    all
}

fn describe_difference(local: &Records, platform: &Records) -> String {
    let mut out = Vec::new();
    for (key, value) in local {
        match platform.get(key) {
            None => out.push(format!("only on the desk: {key:?}")),
            Some(there) if there != value => {
                out.push(format!(
                    "differs: {key:?}: {}",
                    fields_differing(value, there)
                ));
            }
            Some(_) => {}
        }
    }
    for key in platform.keys() {
        if !local.contains_key(key) {
            out.push(format!("missing on the desk: {key:?}"));
        }
    }
    let more = out.len().saturating_sub(8);
    out.truncate(8);
    if more > 0 {
        out.push(format!("and {more} more"));
    }
    out.join("; ")
}

/// The fields where the desk's copy (`here`) and the platform's differ.
fn fields_differing(here: &Value, there: &Value) -> String {
    let (Value::Object(here), Value::Object(there)) = (here, there) else {
        return format!("desk {here}, platform {there}");
    };
    let keys: BTreeSet<&String> = here.keys().chain(there.keys()).collect();
    keys.into_iter()
        .filter(|key| here.get(*key) != there.get(*key))
        .map(|key| {
            let show = |v: Option<&Value>| v.map_or("(none)".to_owned(), Value::to_string);
            format!(
                "{key} desk {} platform {}",
                show(here.get(key)),
                show(there.get(key))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records two desks both hold are the same on both.
fn same_records_where_seen_twice(desks: &[Desk], findings: &mut Findings) {
    let all: Vec<(&str, Records)> = desks
        .iter()
        .map(|d| (d.agent, local_records(&d.engine)))
        .collect();
    for (i, (agent, records)) in all.iter().enumerate() {
        for (other, theirs) in &all[i + 1..] {
            for (key, value) in records {
                if let Some(there) = theirs.get(key) {
                    findings.check(there == value, || {
                        format!("(a) {agent} and {other} hold different copies of {key:?}")
                    });
                }
            }
        }
    }
}

/// The repository's content with `grace` seconds of `vanished_grace_secs`
/// on the `aftersales` queue.
fn content_with_grace(into: &Path, grace: u32) {
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
        text.replace(queue, &format!("{queue}vanished_grace_secs = {grace}\n")),
    )
    .expect("write world.toml");
}

/// The change log's highest position (nothing written moves it back).
fn log_head(dir: &Path) -> String {
    common::platform::sql_value(dir, "SELECT seq FROM change_log_head")
}

// ---------------------------------------------------- the platform's view

#[derive(Clone, PartialEq, Eq)]
struct OfferRow {
    offer_id: String,
    agent: String,
    state: String,
}

impl std::fmt::Debug for OfferRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} to {} {}", self.offer_id, self.agent, self.state)
    }
}

/// Every offer the platform made, by conversation.
fn offer_rows(dir: &Path) -> BTreeMap<String, Vec<OfferRow>> {
    let mut by_conversation: BTreeMap<String, Vec<OfferRow>> = BTreeMap::new();
    for row in sql(
        dir,
        "SELECT conversation_id, offer_id, agent, state FROM offers ORDER BY created_at, offer_id",
    ) {
        by_conversation
            .entry(row[0].clone())
            .or_default()
            .push(OfferRow {
                offer_id: row[1].clone(),
                agent: row[2].clone(),
                state: row[3].clone(),
            });
    }
    by_conversation
}

/// The open conversations the platform assigns to `agent` (its database).
fn platform_holds(dir: &Path, agent: &str) -> Vec<String> {
    let mut ids: Vec<String> = sql(dir, "SELECT data FROM records WHERE kind = 'conversation'")
        .into_iter()
        .filter_map(|row| serde_json::from_str::<homedesk_protocol::Conversation>(&row[0]).ok())
        .filter(|c| {
            c.assigned_to.as_deref() == Some(agent)
                && c.status != homedesk_protocol::ConversationStatus::Resolved
        })
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids
}

/// Every message the platform holds.
fn platform_messages(dir: &Path) -> Vec<homedesk_protocol::Message> {
    sql(dir, "SELECT data FROM records WHERE kind = 'message'")
        .into_iter()
        .map(|row| serde_json::from_str(&row[0]).expect("a stored message"))
        .filter(|m: &homedesk_protocol::Message| m.kind == MessageKind::Text)
        .collect()
}

/// The idempotency keys the platform stored as applied for `agent`.
fn platform_applied_keys(dir: &Path, agent: &str) -> BTreeSet<String> {
    sql(
        dir,
        &format!(
            "SELECT key, result FROM action_keys WHERE agent = {}",
            sql_text(agent)
        ),
    )
    .into_iter()
    .filter(|row| {
        serde_json::from_str::<ActionResult>(&row[1])
            .is_ok_and(|result| result.status == ActionStatus::Applied)
    })
    .map(|row| row[0].clone())
    .collect()
}

/// Watches the `offers` table all along for two open offers of one
/// conversation.
struct OfferWatch {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl OfferWatch {
    fn start(dir: &Path) -> OfferWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let dir: PathBuf = dir.to_path_buf();
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut violations = Vec::new();
            while !stopping.load(Ordering::SeqCst) {
                for row in sql(
                    &dir,
                    "SELECT conversation_id, count(*) FROM offers WHERE state = 'open'
                     GROUP BY conversation_id HAVING count(*) > 1",
                ) {
                    violations.push(format!("{} open offers for {}", row[1], row[0]));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            violations
        });
        OfferWatch { stop, thread }
    }

    fn stop(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

// ------------------------------------------------------------ requests

/// A customer message through the balancer, sent again (same external id)
/// until the platform takes it, as a channel adapter would; the
/// conversation's id.
async fn customer_write(lb: &Server, external_id: &str, customer: &str, body: &str) -> String {
    let message = common::platform::ingress_message(external_id, customer, QUEUE, body);
    let token = lb.ingress_token();
    let until = Instant::now() + DEADLINE;
    loop {
        let sent = lb
            .client
            .post(format!("{}/v1/ingress/chat", lb.url))
            .bearer_auth(&token)
            .json(&message)
            .send()
            .await;
        let problem = match sent {
            Ok(response) if response.status().is_success() => {
                let answer: Value = response.json().await.expect("the ingress answer");
                return answer["conversation_id"]
                    .as_str()
                    .expect("conversation id")
                    .to_owned();
            }
            Ok(response) if response.status().is_server_error() => {
                format!("HTTP {}", response.status())
            }
            Ok(response) => panic!(
                "ingress refused: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            ),
            Err(err) => err.to_string(),
        };
        assert!(
            Instant::now() < until,
            "the customer message {external_id} was not taken: {problem}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Requests the instance answered (its `/metrics`), but for HAProxy's
/// health checks and the test's own looks at `/metrics`.
async fn requests_served(server: &Server) -> u64 {
    server
        .metrics()
        .await
        .lines()
        .filter(|line| line.starts_with("homedesk_http_requests_total{"))
        .filter(|line| {
            !line.contains("route=\"/v1/health\"") && !line.contains("route=\"/metrics\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// Event streams open on the instance (its `/metrics`).
async fn event_streams(server: &Server) -> u64 {
    server
        .metrics()
        .await
        .lines()
        .find_map(|line| line.strip_prefix("homedesk_event_streams "))
        .and_then(|value| value.trim().parse().ok())
        .expect("the event stream gauge")
}

/// A raw event stream through HAProxy: the platform's zstd reaches the
/// client as it is, and the first event (the connect poke) arrives while
/// the stream stays open (nothing waits for the answer's end).
async fn event_stream_passes_compressed(lb: &Server) {
    use std::io::Write as _;
    let session = lb.sign_in("s3001").await;
    let client = common::platform::raw_client(&lb.dir.join("tls").join("ca.pem"));
    let response = client
        .get(format!("{}/v1/events", lb.url))
        .bearer_auth(&session.access_token)
        .header(reqwest::header::ACCEPT_ENCODING, "zstd")
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("the event stream opens through HAProxy");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
        Some("zstd"),
        "HAProxy passes the compressed stream on as it is"
    );
    let mut body = response.bytes_stream();
    let mut decoder = zstd::stream::write::Decoder::new(Vec::new()).expect("zstd");
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let text = String::from_utf8_lossy(decoder.get_ref()).into_owned();
        if text.contains("event: changes") && text.contains("\n\n") {
            break;
        }
        match tokio::time::timeout_at(until, body.next()).await {
            Ok(Some(Ok(bytes))) => {
                decoder.write_all(&bytes).expect("zstd data");
                decoder.flush().expect("zstd flush");
            }
            other => panic!(
                "no event came through HAProxy while the stream was open ({other:?}); so far: \
                 {text:?}"
            ),
        }
    }
}

// --------------------------------------------------------------- helpers

/// What the test knew at the kill.
struct Kill {
    victim: usize,
    /// Event streams open on the victim just before.
    streams: u64,
    /// HAProxy's request lines logged before.
    logged: usize,
    /// Event streams each desk had opened before.
    streams_opened: Vec<u64>,
}

fn summarize_kill(after: &[ProxiedRequest], victim: &str) {
    let mut by: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
    for r in after {
        if r.server == victim || r.termination != "----" || r.retries != "0" {
            *by.entry((
                r.server.clone(),
                r.path.clone(),
                r.termination.clone(),
                format!("{} retries {}", r.status, r.retries),
            ))
            .or_default() += 1;
        }
    }
    println!("HAProxy after the kill (the victim's requests, and any retried or cut):");
    for ((server, path, termination, rest), n) in by {
        println!("  {n:3} × {server} {path} {termination} {rest}");
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

/// Polls `check` (async) until `Some`, or panics at the deadline.
async fn eventually_async<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    match within(DEADLINE, check).await {
        Some(value) => value,
        None => panic!("{what} did not happen within {DEADLINE:?}"),
    }
}

/// Polls `check` until `Some`, or `None` after `deadline`.
async fn within<T, F, Fut>(deadline: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= until {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Properties found broken, reported together at the end.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let what = what();
            println!("FINDING: {what}");
            self.0.push(what);
        }
    }

    fn assert_none(&self) {
        assert!(
            self.0.is_empty(),
            "{} properties of two instances do not hold:\n  {}",
            self.0.len(),
            self.0.join("\n  ")
        );
    }
}

/// On a failure, the ends of HAProxy's and the instances' logs.
struct Diagnostics {
    files: Vec<PathBuf>,
}

impl Drop for Diagnostics {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for file in &self.files {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!("---- {} (last {} lines)", file.display(), tail.len());
            for line in tail {
                eprintln!("{line}");
            }
        }
    }
}
