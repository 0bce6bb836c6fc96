//! `make bench` — the sync engine and the real platform across an emulated
//! village link, against the wire floor.
//!
//! Needs root and `ip`/`tc` (Debian's `iproute2`); otherwise it says so and
//! stops. It makes its own network namespace `homedesk-bench-<pid>` with two
//! veth pairs to the host:
//! - a shaped pair: `tbf` on the egress of each end (both directions) at
//!   the profile's bandwidth. The workstation reaches the platform only
//!   through a [`FlakyProxy`] on loopback that adds half the RTT to every
//!   chunk each way (this kernel has no `netem`) and, for the flapping
//!   profile, cuts the link on a schedule;
//! - a plain pair, unshaped, for the bench's own setup and the customers'
//!   messages (they do not use the agent's link).
//!
//! The platform (the optimised build `make bench` made for its sync bench)
//! runs inside the namespace with the demo world. Packet loss is not
//! emulated (no `netem`); TCP across the veth sees the bandwidth but not the
//! delay (the proxy adds it), so slow start is not modelled either.
//!
//! For each profile: the first sync of agent a1002's desk (sign-in
//! included), a knowledge-base update of 100 changed articles, and an hour
//! of ordinary work (customer messages, replies, claims, presence) played
//! fast, with the idle traffic of the event stream measured and scaled to an
//! hour. Prints a Markdown table and writes it to `target/bench/link.md`.
//!
//! Everything the bench makes is removed on exit, on a panic and on
//! Ctrl-C/SIGTERM.
//!
//! To see where the bytes go: `HOMEDESK_LINK_ONLY=0` runs one profile (0
//! village, 1 3G, 2 flapping) and `HOMEDESK_PROXY_TRACE=1` prints every chunk
//! the proxy forwards (connection, direction, size).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::Server;
use common::flaky::FlakyProxy;
use homedesk_core::store::{Store, StoreKey, outbox, views};
use homedesk_core::sync::{HttpConfig, HttpTransport, SyncConfig, SyncEngine};
use homedesk_protocol::{Action, ActionEnvelope, ChangeBody, Presence, Record};

const AGENT: &str = "a1002";
const PORT: u16 = 8443;
/// Conversations in the scripted hour; each: the customer's first message,
/// a claim, then three replies each answered by the customer.
const CONVERSATIONS: usize = 10;
const EXCHANGES: usize = 3;
const PRESENCE_CHANGES: usize = 4;
/// Idle traffic (event stream heartbeats, reconnects) is measured this long.
const IDLE_WINDOW: Duration = Duration::from_secs(61);
const SCENARIO_DEADLINE: Duration = Duration::from_secs(150);
/// zstd level of the floor: the level the platform's compression uses.
const ZSTD_LEVEL: i32 = 3;
/// Smallest TLS record (5 bytes of header, 1 of content, 16 of AEAD tag, one
/// of content type): what a heartbeat needs at least.
const MIN_RECORD: u64 = 23;

#[derive(Clone, Copy)]
struct Profile {
    name: &'static str,
    kbit: u64,
    rtt: Duration,
    /// (up, down)
    flap: Option<(Duration, Duration)>,
}

const PROFILES: [Profile; 3] = [
    Profile {
        name: "village broadband (2 Mbit/s, 80 ms RTT)",
        kbit: 2000,
        rtt: Duration::from_millis(80),
        flap: None,
    },
    Profile {
        name: "3G hotspot (384 kbit/s, 300 ms RTT)",
        kbit: 384,
        rtt: Duration::from_millis(300),
        flap: None,
    },
    Profile {
        name: "flapping (2 Mbit/s, 80 ms RTT, up 20 s, down 10 s)",
        kbit: 2000,
        rtt: Duration::from_millis(80),
        flap: Some((Duration::from_secs(20), Duration::from_secs(10))),
    },
];

impl Profile {
    fn bytes_per_sec(&self) -> f64 {
        self.kbit as f64 * 1000.0 / 8.0
    }

    /// The floor for `bytes` and `rtts` round trips, starting at `at` after
    /// the link came up (flapping: the transfer pauses while it is down).
    fn floor(&self, bytes: u64, rtts: f64, at: Duration) -> Duration {
        let busy = Duration::from_secs_f64(
            bytes as f64 / self.bytes_per_sec() + rtts * self.rtt.as_secs_f64(),
        );
        let Some((up, down)) = self.flap else {
            return busy;
        };
        // Walk the schedule: work only while the link is up.
        let period = up + down;
        let mut t = at;
        let mut left = busy;
        loop {
            let phase = Duration::from_nanos((t.as_nanos() % period.as_nanos()) as u64);
            if phase >= up {
                t += period - phase;
                continue;
            }
            let room = up - phase;
            if left <= room {
                return t + left - at;
            }
            left -= room;
            t += room;
        }
    }
}

// ------------------------------------------------------------ the namespace

/// The bench's network namespace and veth pairs; removed on drop.
struct Netns {
    name: String,
    shaped_host: String,
    shaped_ns: String,
    shaped_addr: SocketAddr,
    plain_addr: SocketAddr,
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|err| format!("{}: {err}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Kills what runs in namespace `name` and deletes it (its veth ends go
/// with it, and their host peers with them). Quiet: it may be gone.
fn remove_netns(name: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", name]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).output();
        }
    }
    let _ = Command::new("ip").args(["netns", "del", name]).output();
}

impl Netns {
    fn create() -> Result<Netns, String> {
        let pid = std::process::id();
        let name = format!("homedesk-bench-{pid}");
        // Left behind by a bench that was killed with SIGKILL.
        if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let Some(old) = line.split_whitespace().next() else {
                    continue;
                };
                if let Some(old_pid) = old.strip_prefix("homedesk-bench-")
                    && !std::path::Path::new(&format!("/proc/{old_pid}")).exists()
                {
                    remove_netns(old);
                }
            }
        }
        // A /30 per pair, from the pid (two benches may run at once).
        let x = pid % 16384;
        let (c, d) = (x / 64, (x % 64) * 4);
        let netns = Netns {
            name: name.clone(),
            shaped_host: format!("hdb{pid}s"),
            shaped_ns: format!("hdb{pid}sn"),
            shaped_addr: SocketAddr::from(([10, 213, c as u8, d as u8 + 2], PORT)),
            plain_addr: SocketAddr::from(([10, 214, c as u8, d as u8 + 2], PORT)),
        };
        run(&["ip", "netns", "add", &name])?;
        run(&["ip", "-n", &name, "link", "set", "lo", "up"])?;
        for (net, host, peer) in [
            (213u8, netns.shaped_host.clone(), netns.shaped_ns.clone()),
            (214u8, format!("hdb{pid}p"), format!("hdb{pid}pn")),
        ] {
            let host_ip = format!("10.{net}.{c}.{}/30", d + 1);
            let ns_ip = format!("10.{net}.{c}.{}/30", d + 2);
            run(&[
                "ip", "link", "add", &host, "type", "veth", "peer", "name", &peer, "netns", &name,
            ])?;
            run(&["ip", "addr", "add", &host_ip, "dev", &host])?;
            run(&["ip", "link", "set", &host, "up"])?;
            run(&["ip", "-n", &name, "addr", "add", &ns_ip, "dev", &peer])?;
            run(&["ip", "-n", &name, "link", "set", &peer, "up"])?;
        }
        Ok(netns)
    }

    /// `tbf` at `kbit` on the shaped pair, each direction.
    fn shape(&self, kbit: u64) -> Result<(), String> {
        let rate = format!("{kbit}kbit");
        // A few full segments (tbf splits larger GSO packets); a second of
        // queue before drops.
        let burst = "4kb";
        run(&[
            "tc",
            "qdisc",
            "replace",
            "dev",
            &self.shaped_host,
            "root",
            "tbf",
            "rate",
            &rate,
            "burst",
            burst,
            "latency",
            "1s",
        ])?;
        run(&[
            "tc",
            "-n",
            &self.name,
            "qdisc",
            "replace",
            "dev",
            &self.shaped_ns,
            "root",
            "tbf",
            "rate",
            &rate,
            "burst",
            burst,
            "latency",
            "1s",
        ])
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        remove_netns(&self.name);
    }
}

fn skip_unless_possible() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").map_or(true, |m| m.uid() != 0) {
        return Some("needs root (it makes a network namespace)".into());
    }
    for tool in ["ip", "tc"] {
        if Command::new(tool).arg("-V").output().is_err() {
            return Some(format!("`{tool}` is missing (Debian package iproute2)"));
        }
    }
    None
}

// ------------------------------------------------------------------ helpers

fn engine(
    server: &Server,
    url: &str,
    db: &std::path::Path,
    device: &str,
) -> Arc<SyncEngine<HttpTransport>> {
    let store = Arc::new(Store::open(db, &StoreKey::from_bytes([7; 32])).expect("store opens"));
    let mut http = HttpConfig::new(url);
    http.ca_file = Some(server.dir.join("tls").join("ca.pem"));
    let transport = HttpTransport::new(&http).expect("transport");
    SyncEngine::new(store, transport, SyncConfig::new(device)).expect("engine")
}

fn zstd_len(bytes: &[u8]) -> u64 {
    zstd::encode_all(bytes, ZSTD_LEVEL).expect("zstd").len() as u64
}

fn json_zstd<T: serde::Serialize>(value: &T) -> u64 {
    zstd_len(&serde_json::to_vec(value).expect("json"))
}

/// Bytes through the proxy, both directions.
fn wire(proxy: &FlakyProxy) -> u64 {
    proxy.stats.bytes.load(Ordering::Relaxed)
}

/// Retries `op` with the engine's own backoff until it succeeds.
async fn until_ok<T, E: std::fmt::Display, F, Fut>(what: &str, mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let backoff = homedesk_core::sync::Backoff::default();
    let started = Instant::now();
    let mut failures = 0;
    loop {
        match op().await {
            Ok(value) => return value,
            Err(err) => {
                failures += 1;
                assert!(
                    started.elapsed() < SCENARIO_DEADLINE,
                    "{what}: no success in {SCENARIO_DEADLINE:?}: {err}"
                );
                tokio::time::sleep(backoff.delay(failures)).await;
            }
        }
    }
}

/// Polls until `done`, bounded.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < SCENARIO_DEADLINE,
            "{what}: not within {SCENARIO_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One row of the table.
struct Row {
    profile: &'static str,
    scenario: String,
    time: Duration,
    floor_time: Duration,
    bytes: u64,
    floor_bytes: u64,
}

/// Saves an action the way the app does and wakes the engine.
fn act(engine: &SyncEngine<HttpTransport>, action: Action) {
    if std::env::var_os("HOMEDESK_PROXY_TRACE").is_some() {
        let name = match &action {
            Action::Presence { .. } => "presence",
            Action::Claim { .. } => "claim",
            Action::Reply { .. } => "reply",
            _ => "action",
        };
        eprintln!("bench: {name}");
    }
    engine
        .store()
        .write(|tx| outbox::enqueue(tx, AGENT, action, homedesk_core::clock::now_ms()))
        .expect("saved locally");
    engine.publish_status();
    engine.wake();
}

fn pending(engine: &SyncEngine<HttpTransport>) -> u32 {
    engine.store().read(outbox::count).expect("outbox")
}

fn messages_in(engine: &SyncEngine<HttpTransport>, conversation: &str) -> usize {
    engine
        .store()
        .read(|c| views::messages(c, conversation))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// 100 articles as a Markdown folder: the first `changed` of `ids` with a
/// new paragraph (`tag` makes each run's change new), the rest new
/// articles.
fn kb_folder(dir: &std::path::Path, ids: &[(String, String)], tag: &str) -> std::path::PathBuf {
    let folder = dir.join(format!("kb-{tag}"));
    std::fs::create_dir_all(&folder).expect("kb folder");
    for (n, (id, text)) in ids.iter().enumerate() {
        let body = format!(
            "{text}\n\n## 更新 {tag}\n\n第{n}条：本月起，退款在审核通过后1-3个工作日内原路退回，请提醒客户留意银行短信。\n"
        );
        std::fs::write(folder.join(format!("{id}.md")), body).expect("article");
    }
    folder
}

// ------------------------------------------------------------------- scenarios

struct World<'a> {
    server: &'a Server,
    netns: &'a Netns,
    dir: &'a std::path::Path,
    /// The articles the KB update changes: (id, Markdown file text).
    articles: Vec<(String, String)>,
}

async fn first_sync(
    world: &World<'_>,
    profile: Profile,
    proxy: &FlakyProxy,
    engine: &SyncEngine<HttpTransport>,
) -> Row {
    // The floor's content: what a fresh pull of this agent's desk carries,
    // read on the plain pair; the sign-in's own time on the platform.
    let signed_in = Instant::now();
    let session = world.server.sign_in(AGENT).await;
    let platform_time = signed_in.elapsed();
    let (changes, _) = world.server.pull_all(&session.access_token, None).await;
    let sign_in_body = serde_json::json!({"agent": AGENT, "password": common::platform::DEMO_PASSWORD, "device_id": "bench"});
    let before = wire(proxy);
    let started = Instant::now();
    until_ok("sign-in", || {
        engine.sign_in(AGENT, common::platform::DEMO_PASSWORD)
    })
    .await;
    until_ok("first sync", || engine.sync_once()).await;
    let time = started.elapsed();
    let bytes = wire(proxy) - before;
    let usage = engine
        .store()
        .read(homedesk_core::store::attachments::usage)
        .expect("usage");
    let floor_bytes =
        json_zstd(&sign_in_body) + json_zstd(&session) + json_zstd(&changes) + usage.thumbs.1;
    // TCP, TLS 1.3, sign-in, one pull (and one for the thumbnails).
    let rtts = 4.0 + if usage.thumbs.0 > 0 { 1.0 } else { 0.0 };
    let floor_time = profile.floor(floor_bytes, rtts, Duration::ZERO) + platform_time;
    Row {
        profile: profile.name,
        scenario: format!(
            "first sync ({} changes, {} thumbnails; sign-in included)",
            changes.len(),
            usage.thumbs.0
        ),
        time,
        floor_time,
        bytes,
        floor_bytes,
    }
}

async fn kb_update(
    world: &World<'_>,
    profile: Profile,
    proxy: &FlakyProxy,
    engine: &SyncEngine<HttpTransport>,
    up_at: Instant,
) -> Row {
    let session = world.server.sign_in(AGENT).await;
    let (_, cursor) = world.server.pull_all(&session.access_token, None).await;
    let tag = format!(
        "{}",
        profile.kbit * 1000 + profile.rtt.as_millis() as u64 + u64::from(profile.flap.is_some())
    );
    let folder = kb_folder(world.dir, &world.articles, &tag);
    let data_dir = world.server.dir.to_str().expect("utf-8 path").to_owned();
    let out = common::platform::cli(&[
        "kb",
        "import",
        "--data-dir",
        &data_dir,
        folder.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "kb import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (changes, _) = world
        .server
        .pull_all(&session.access_token, Some(cursor))
        .await;
    assert!(
        changes.len() >= 100,
        "100 changed articles: {}",
        changes.len()
    );
    let before = wire(proxy);
    let started = Instant::now();
    let at = started - up_at;
    until_ok("KB update", || engine.sync_once()).await;
    let time = started.elapsed();
    let floor_bytes = json_zstd(&changes);
    Row {
        profile: profile.name,
        scenario: "KB update: 100 changed articles".into(),
        time,
        floor_time: profile.floor(floor_bytes, 1.0, at),
        bytes: wire(proxy) - before,
        floor_bytes,
    }
}

/// The scripted hour. Returns its rows: the per-event latency (mean) and
/// the bytes of an hour.
async fn hour(
    world: &World<'_>,
    profile: Profile,
    proxy: &FlakyProxy,
    engine: &Arc<SyncEngine<HttpTransport>>,
    link_up_at: Instant,
) -> Row {
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let runner = tokio::spawn(Arc::clone(engine).run(shutdown));
    // Let the event stream connect before the hour starts.
    wait_for("event stream", || engine.listening()).await;
    let session = world.server.sign_in(AGENT).await;
    let (_, cursor) = world.server.pull_all(&session.access_token, None).await;
    let before = wire(proxy);
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut floors = Vec::new();
    let mut floor_bytes = 0;
    let mut actions: Vec<Action> = Vec::new();
    let customer = |c: usize| {
        format!(
            "cust-link-{}-{c}",
            profile.kbit + profile.rtt.as_millis() as u64 + u64::from(profile.flap.is_some()) * 7
        )
    };
    let mut sent_customer = 0;
    let mut customer_at = Vec::new();
    let action_floor = |action: &Action,
                        latencies: &mut Vec<Duration>,
                        floors: &mut Vec<Duration>,
                        t0: Instant,
                        floor_bytes: &mut u64| {
        let envelope = ActionEnvelope {
            key: format!("k-{}", latencies.len()),
            created_at: 1,
            action: action.clone(),
        };
        let bytes = json_zstd(&envelope) + zstd_len(br#"{"key":"k-00","status":"applied"}"#);
        *floor_bytes += bytes;
        latencies.push(t0.elapsed());
        floors.push(profile.floor(bytes, 1.0, t0 - link_up_at));
    };
    let presence_every = CONVERSATIONS / PRESENCE_CHANGES;
    for c in 0..CONVERSATIONS {
        if c.is_multiple_of(presence_every) && c / presence_every < PRESENCE_CHANGES {
            let presence = if (c / presence_every).is_multiple_of(2) {
                Presence::Busy
            } else {
                Presence::Available
            };
            let action = Action::Presence { presence };
            let t0 = Instant::now();
            act(engine, action.clone());
            wait_for("presence sent", || pending(engine) == 0).await;
            action_floor(&action, &mut latencies, &mut floors, t0, &mut floor_bytes);
            actions.push(action);
        }
        // The customer's first message: a new conversation in the queue.
        let t0 = Instant::now();
        let conversation = world
            .server
            .customer_writes(
                "chat",
                &format!("{}-0", customer(c)),
                &customer(c),
                "aftersales",
                "你好，我上周买的桃子到现在还没发货，能帮我查一下吗？",
            )
            .await;
        sent_customer += 1;
        if std::env::var_os("HOMEDESK_PROXY_TRACE").is_some() {
            eprintln!("bench: customer's first message");
        }
        wait_for("new conversation", || {
            messages_in(engine, &conversation) >= 1
        })
        .await;
        latencies.push(t0.elapsed());
        // Filled in below, from the pulled record.
        floors.push(Duration::ZERO);
        customer_at.push(t0 - link_up_at);
        let action = Action::Claim {
            conversation_id: conversation.clone(),
        };
        let t0 = Instant::now();
        act(engine, action.clone());
        wait_for("claim sent", || pending(engine) == 0).await;
        action_floor(&action, &mut latencies, &mut floors, t0, &mut floor_bytes);
        for e in 0..EXCHANGES {
            let action = Action::Reply {
                conversation_id: conversation.clone(),
                message_id: format!("msg-{}-{e}", customer(c)),
                body: "您好，已经帮您查到了：订单已在今天上午发出，快递单号稍后通过短信发给您，预计两到三天送达。".into(),
                attachments: Vec::new(),
            };
            let t0 = Instant::now();
            act(engine, action.clone());
            wait_for("reply sent", || pending(engine) == 0).await;
            action_floor(&action, &mut latencies, &mut floors, t0, &mut floor_bytes);
            let seen = messages_in(engine, &conversation);
            let t0 = Instant::now();
            world
                .server
                .customer_writes(
                    "chat",
                    &format!("{}-{}", customer(c), e + 1),
                    &customer(c),
                    "aftersales",
                    "好的，谢谢！那快递到了以后如果有坏的怎么办？",
                )
                .await;
            sent_customer += 1;
            if std::env::var_os("HOMEDESK_PROXY_TRACE").is_some() {
                eprintln!("bench: customer message");
            }
            wait_for("customer message", || {
                messages_in(engine, &conversation) > seen
            })
            .await;
            latencies.push(t0.elapsed());
            floors.push(Duration::ZERO);
            customer_at.push(t0 - link_up_at);
        }
    }
    let script_bytes = wire(proxy) - before;
    let script_time = started.elapsed();
    // The customers' side of the floor: each new record pushed to the
    // workstation over the open event stream (half an RTT).
    let (changes, _) = world
        .server
        .pull_all(&session.access_token, Some(cursor))
        .await;
    let incoming: Vec<u64> = changes
        .iter()
        .filter(|change| match &change.body {
            ChangeBody::Upsert(Record::Message(m)) => {
                m.author == homedesk_protocol::Author::Customer
            }
            _ => false,
        })
        .map(json_zstd)
        .collect();
    assert_eq!(
        incoming.len(),
        sent_customer,
        "every customer message pulled"
    );
    let mut incoming = incoming.into_iter().zip(customer_at);
    for floor in floors.iter_mut().filter(|f| f.is_zero()) {
        let (bytes, at) = incoming.next().expect("one per customer message");
        floor_bytes += bytes;
        *floor = profile.floor(bytes, 0.5, at);
    }
    // Idle: heartbeats (and, flapping, reconnects) over a window, and one
    // safety poll (every SyncConfig::safety_poll), both scaled to an hour.
    // Let the last pull and thumbnails finish first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_before = wire(proxy);
    let connections = || proxy.stats.connections.load(Ordering::Relaxed);
    let idle_connections = connections();
    tokio::time::sleep(IDLE_WINDOW).await;
    let idle_connections = connections() - idle_connections;
    let idle = wire(proxy) - idle_before;
    let _ = stop.send(true);
    let _ = runner.await;
    let poll_before = wire(proxy);
    let poll_connections = connections();
    proxy.steady();
    until_ok("safety poll", || engine.sync_once()).await;
    let poll = wire(proxy) - poll_before;
    let poll_connections = connections() - poll_connections;
    let safety = SyncConfig::new("x").safety_poll;
    let per_hour =
        |bytes: u64, window: Duration| (bytes as f64 * 3600.0 / window.as_secs_f64()) as u64;
    // The platform no longer pings a silent connection (HTTP/2 PING and
    // ACK, 78 B every 120 s until decision 0048): the kernel's TCP
    // keepalive watches it, and the event stream's heartbeats keep it from
    // being silent. TCP's own segments (probes, ACKs) carry no payload and
    // are not counted here, for the floor or the figure.
    let bytes = script_bytes + per_hour(idle, IDLE_WINDOW) + per_hour(poll, safety);
    // Floor for staying connected: the smallest TLS record per heartbeat.
    floor_bytes += MIN_RECORD * 3600 / homedesk_protocol::HEARTBEAT_SECS;
    let mean = |v: &[Duration]| v.iter().sum::<Duration>() / v.len() as u32;
    println!(
        "  {}: hour script {} events in {:.1} s, {} B; idle {} B in {:?} ({idle_connections} new connections); one poll {} B ({poll_connections} new connections), one every {safety:?}",
        profile.name,
        latencies.len(),
        script_time.as_secs_f64(),
        script_bytes,
        idle,
        IDLE_WINDOW,
        poll
    );
    Row {
        profile: profile.name,
        scenario: format!(
            "an hour: {} customer messages, {} replies, {CONVERSATIONS} claims, {PRESENCE_CHANGES} presence changes (time: mean per event)",
            sent_customer,
            CONVERSATIONS * EXCHANGES
        ),
        time: mean(&latencies),
        floor_time: mean(&floors),
        bytes,
        floor_bytes,
    }
}

/// One profile's link: its proxy and its workstation.
struct Link {
    profile: Profile,
    proxy: FlakyProxy,
    engine: Arc<SyncEngine<HttpTransport>>,
    up_at: Instant,
}

/// Brings `link`'s desk up to date (unmeasured): the other profiles'
/// scenarios changed the world meanwhile.
async fn catch_up(world: &World<'_>, link: &Link) {
    world.netns.shape(link.profile.kbit).expect("tc tbf");
    until_ok("catch-up", || link.engine.sync_once()).await;
}

/// The scenarios run profile after profile within each phase, so that every
/// first sync sees the same world.
async fn all_rows(world: &World<'_>) -> Vec<Row> {
    let mut links = Vec::new();
    // HOMEDESK_LINK_ONLY=N: only profile N (0, 1, 2), when looking into one.
    let only = std::env::var("HOMEDESK_LINK_ONLY").ok();
    let profiles = PROFILES
        .into_iter()
        .enumerate()
        .filter(|(n, _)| only.as_ref().is_none_or(|o| *o == n.to_string()));
    for (n, profile) in profiles {
        let proxy = FlakyProxy::start(world.netns.shaped_addr, n as u64).await;
        proxy.set_delay(profile.rtt / 2);
        let engine = engine(
            world.server,
            &proxy.url(),
            &world.dir.join(format!("desk-{n}.sqlite")),
            &format!("bench-link-{n}"),
        );
        links.push(Link {
            profile,
            proxy,
            engine,
            up_at: Instant::now(),
        });
    }
    let mut rows = Vec::new();
    for link in &mut links {
        world.netns.shape(link.profile.kbit).expect("tc tbf");
        link.up_at = Instant::now();
        if let Some((up, down)) = link.profile.flap {
            link.proxy.flap(up, down);
        }
        println!("link bench: first sync, {}", link.profile.name);
        rows.push(first_sync(world, link.profile, &link.proxy, &link.engine).await);
    }
    for link in &links {
        catch_up(world, link).await;
        println!("link bench: KB update, {}", link.profile.name);
        rows.push(kb_update(world, link.profile, &link.proxy, &link.engine, link.up_at).await);
    }
    for link in &links {
        catch_up(world, link).await;
        println!("link bench: an hour, {}", link.profile.name);
        rows.push(hour(world, link.profile, &link.proxy, &link.engine, link.up_at).await);
    }
    rows
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| profile | scenario | time | floor | × | bytes | floor bytes | × |\n|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {:.2} s | {:.2} s | {:.2} | {} | {} | {:.2} |\n",
            row.profile,
            row.scenario,
            row.time.as_secs_f64(),
            row.floor_time.as_secs_f64(),
            row.time.as_secs_f64() / row.floor_time.as_secs_f64(),
            kib(row.bytes),
            kib(row.floor_bytes),
            row.bytes as f64 / row.floor_bytes as f64
        ));
    }
    out
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this as a
    // test, which should end at once.
    if !std::env::args().any(|a| a == "--bench") {
        println!("link bench: run with `cargo bench --bench link` (skipped in test mode)");
        return;
    }
    if let Some(why) = skip_unless_possible() {
        println!("link bench SKIPPED: {why}; no figures for the emulated link");
        return;
    }
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(err) => {
            remove_netns(&format!("homedesk-bench-{}", std::process::id()));
            println!("link bench SKIPPED: cannot make the network namespace: {err}");
            return;
        }
    };
    // A panic anywhere (a spawned task included) or a signal removes the
    // namespace too; Drop covers the normal way out.
    let name = netns.name.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        remove_netns(&name);
    }));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let name = netns.name.clone();
    runtime.spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        remove_netns(&name);
        eprintln!("link bench: interrupted; namespace {name} removed");
        std::process::exit(130);
    });
    let rows = runtime.block_on(bench(&netns));
    drop(runtime);
    drop(netns);
    let mut out = table(&rows);
    out.push_str(
        "\nPacket loss is not emulated (this kernel has no `netem`); TCP across the shaped veth sees the bandwidth but not the delay.\n",
    );
    println!("\n## Bandwidth on an emulated village link\n\n{out}");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join("link.md"), out);
}

async fn bench(netns: &Netns) -> Vec<Row> {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("platform");
    std::fs::create_dir_all(&data).expect("data dir");
    let wrapper = ["ip", "netns", "exec", netns.name.as_str()];
    let listen = format!("0.0.0.0:{PORT}");
    let mut server = Server::start_wrapped(&wrapper, &data, &["--demo", "--listen", &listen]);
    // The bench's own requests go over the plain pair, through a proxy on
    // loopback (the certificate names 127.0.0.1).
    let plain = FlakyProxy::start(netns.plain_addr, 0).await;
    server.url = plain.url();
    // 100 articles to change: the demo's, and new ones up to 100 (added
    // before any desk syncs).
    let content = common::platform::content_dir().join("kb");
    let mut articles = Vec::new();
    for locale in ["zh-CN", "en"] {
        let mut files: Vec<_> = std::fs::read_dir(content.join(locale))
            .expect("kb folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("article");
            let id = file
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            articles.push((id, text));
        }
    }
    let mut extra = Vec::new();
    let mut n = 0;
    while articles.len() + extra.len() < 100 {
        let (id, text) = &articles[n % articles.len()];
        let new_id = format!("{id}-copy{n}");
        extra.push((
            new_id.clone(),
            text.replacen(&format!("id = \"{id}\""), &format!("id = \"{new_id}\""), 1),
        ));
        n += 1;
    }
    let folder = tmp.path().join("kb-extra");
    std::fs::create_dir_all(&folder).expect("folder");
    for (id, text) in &extra {
        std::fs::write(folder.join(format!("{id}.md")), text).expect("article");
    }
    let data_dir = data.to_str().expect("utf-8").to_owned();
    let out = common::platform::cli(&[
        "kb",
        "import",
        "--data-dir",
        &data_dir,
        folder.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "kb import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    articles.extend(extra);
    articles.truncate(100);
    let world = World {
        server: &server,
        netns,
        dir: tmp.path(),
        articles,
    };
    let rows = all_rows(&world).await;
    server.stop();
    rows
}
