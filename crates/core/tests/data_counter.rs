//! "Data used" counts bytes on the wire: checked against what a TCP proxy
//! between the workstation and the real platform actually carried (TLS,
//! headers, compressed bodies, the event stream, sign-in), within 5 %.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::flaky::FlakyProxy;
use common::{Server, eventually};
use homedesk_core::data_usage::DataUsage;
use homedesk_core::store::{Store, StoreKey, outbox};
use homedesk_core::sync::SyncEngine;
use homedesk_protocol::{Action, Presence};

const PASSWORD: &str = "homedesk-demo";

fn within_five_percent(counted: u64, carried: u64) -> bool {
    let diff = counted.abs_diff(carried);
    diff * 100 <= carried * 5
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_counter_matches_the_bytes_a_proxy_carried() {
    let server = Server::start_demo(&[]);
    let upstream = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("platform address");
    let proxy = FlakyProxy::start(upstream, 3).await;
    let tmp = tempfile::tempdir().expect("tmp");

    let data = DataUsage::open(tmp.path(), homedesk_core::clock::system());
    let transport = common::counting_transport(&server, &proxy.url(), data.meter());
    let mut config = common::quick_config("dev-counter");
    config.data = Some(Arc::clone(&data));
    let store = Arc::new(
        Store::open(
            tmp.path().join("a1002.sqlite"),
            &StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let engine = SyncEngine::new(store, transport, config).expect("engine");

    // Sign-in and the first sync (compressed pages of the demo world).
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("first sync");

    // Ordinary traffic: the event stream, presence, a customer message, a reply.
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(Arc::clone(&engine).run(shutdown));
    eventually("the event stream is open", || async {
        engine.listening().then_some(())
    })
    .await;
    let me = engine.agent().expect("signed in");
    engine
        .store()
        .write(|tx| {
            outbox::enqueue(
                tx,
                &me,
                Action::Presence {
                    presence: Presence::Available,
                },
                homedesk_core::clock::now_ms(),
            )
        })
        .expect("saved");
    engine.wake();
    eventually("the presence is delivered", || async {
        (engine.store().read(outbox::count).expect("count") == 0).then_some(())
    })
    .await;

    // Settle: every request answered, nothing in flight.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let carried = proxy.stats.bytes.load(Ordering::Relaxed);
    let carried_down = proxy.stats.down_bytes.load(Ordering::Relaxed);
    let used = engine.status().data;
    let counted = data.meter().sent() + data.meter().received();
    assert!(
        carried > 10_000,
        "the first sync carried something: {carried}"
    );
    assert!(
        within_five_percent(counted, carried),
        "counted {counted} bytes on the wire, the proxy carried {carried}"
    );
    assert!(
        within_five_percent(data.meter().received(), carried_down),
        "downloaded: counted {}, carried {carried_down}",
        data.meter().received()
    );
    assert!(
        used.today <= counted && within_five_percent(used.today, carried),
        "the status shows today's bytes: {used:?}, counted {counted}"
    );

    let _ = stop.send(true);
    let _ = task.await;
    drop(engine);
    let before_restart = data.used().today;
    drop(data);
    let reopened = DataUsage::open(tmp.path(), homedesk_core::clock::system());
    assert_eq!(
        reopened.used().today,
        before_restart,
        "today's total survives a restart of the app"
    );
}

#[tokio::test]
async fn an_unreachable_platform_is_reported_as_such_through_the_relay() {
    // A port nobody listens on: the relay's connect fails and reqwest sees
    // the connection closed, which the engine must call unreachable.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut http = homedesk_core::sync::HttpConfig::new(format!("https://127.0.0.1:{port}"));
    http.connect_timeout = std::time::Duration::from_secs(2);
    let transport = homedesk_core::sync::HttpTransport::new(&http).expect("transport");
    let err = homedesk_core::sync::Transport::sign_in(
        &transport,
        &homedesk_protocol::SignIn {
            agent: "a1002".into(),
            password: PASSWORD.into(),
            device_id: "dev".into(),
        },
    )
    .await
    .expect_err("nobody answers");
    assert!(
        matches!(err, homedesk_core::sync::TransportError::Unreachable(_)),
        "{err:?}"
    );
    assert_eq!(http.meter.connections(), 0, "no connection was made");
}

/// Writes `n` articles (about 3 KB each) into a folder and imports them into
/// the running platform's data folder, as a centre publishing a KB update.
fn publish_articles(server: &Server, tag: &str, n: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    for i in 0..n {
        let body =
            format!("第{i}条说明：退货时请保留完整包装和配件，七天无理由退货不影响二次销售。")
                .repeat(40);
        std::fs::write(
            dir.path().join(format!("kb-{tag}-{i}.md")),
            format!(
                "+++\nid = \"kb-{tag}-{i}\"\nlocale = \"zh-CN\"\ntitle = \"{tag} 退货须知 {i}\"\ncategory = \"returns\"\n+++\n\n{body}\n"
            ),
        )
        .expect("write article");
    }
    let out = common::platform::cli(&[
        "kb",
        "import",
        "--data-dir",
        server.dir.to_str().expect("utf-8"),
        dir.path().to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "kb import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many of the articles `publish_articles(.., tag, ..)` made are on the PC.
fn local_articles(engine: &SyncEngine<homedesk_core::sync::HttpTransport>, tag: &str) -> usize {
    (0..100)
        .filter(|i| {
            engine
                .store()
                .read(|conn| homedesk_core::store::views::article(conn, &format!("kb-{tag}-{i}")))
                .expect("read")
                .is_some()
        })
        .count()
}

#[tokio::test]
async fn a_metered_link_holds_a_big_kb_update_until_the_agent_allows_it() {
    let server = Server::start_demo(&[]);
    let tmp = tempfile::tempdir().expect("tmp");
    let data = DataUsage::in_memory(homedesk_core::clock::system());
    let transport = common::counting_transport(&server, &server.url, data.meter());
    let mut config = common::quick_config("dev-metered");
    config.data = Some(Arc::clone(&data));
    let store = Arc::new(
        Store::open(
            tmp.path().join("a1002.sqlite"),
            &StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let engine = SyncEngine::new(store, transport, config).expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("first sync, not metered");
    assert_eq!(engine.status().kb_update_waiting, None);

    // The agent switches to a phone hotspot.
    data.set_policy(homedesk_core::data_usage::DataPolicy {
        monthly_budget_bytes: Some(500_000_000),
        metered: true,
    });

    // A bulk update (100 articles, ~300 KB of text) waits; news still flows.
    publish_articles(&server, "bulk", 100);
    server
        .customer_writes(
            "chat",
            "metered-1",
            "cust-metered-1",
            "aftersales",
            "退货地址是哪里？",
        )
        .await;
    engine.sync_once().await.expect("sync on the metered link");
    assert_eq!(local_articles(&engine, "bulk"), 0, "the bulk update waits");
    let waiting = engine.status().kb_update_waiting.expect("an update waits");
    assert_eq!(waiting.articles, 100, "{waiting:?}");
    assert!(waiting.bytes > homedesk_core::sync::SMALL_KB_UPDATE_BYTES);
    let news = engine
        .store()
        .read(|conn| homedesk_core::store::views::counts(conn))
        .expect("counts");
    assert!(
        news.iter().any(|(t, n)| *t == "messages" && *n > 0),
        "conversations still sync: {news:?}"
    );
    engine.sync_once().await.expect("again");
    assert_eq!(
        local_articles(&engine, "bulk"),
        0,
        "still waiting without the agent's word"
    );

    // The agent allows it: it arrives, and the next big one asks again.
    data.allow_bulk();
    engine.sync_once().await.expect("sync after allowing");
    assert_eq!(local_articles(&engine, "bulk"), 100);
    assert_eq!(engine.status().kb_update_waiting, None);
    assert!(data.defer_bulk(), "allowed once, not for ever");

    // A small fix (2 articles) comes at once even on the metered link.
    publish_articles(&server, "fix", 2);
    engine.sync_once().await.expect("sync with a small update");
    assert_eq!(local_articles(&engine, "fix"), 2);
    assert_eq!(engine.status().kb_update_waiting, None);

    // Leaving metered mode releases whatever waits.
    publish_articles(&server, "later", 100);
    engine.sync_once().await.expect("held again");
    assert_eq!(local_articles(&engine, "later"), 0);
    data.set_policy(homedesk_core::data_usage::DataPolicy::default());
    engine.sync_once().await.expect("not metered any more");
    assert_eq!(local_articles(&engine, "later"), 100);
    assert_eq!(engine.status().kb_update_waiting, None);
}
