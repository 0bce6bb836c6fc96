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
    // What the app does at exit (`RunEvent::Exit`). Not left to `Drop`:
    // the engine's aborted listener may still hold the counter a moment,
    // and a closing connection may still add its last few bytes.
    data.book(true);
    let before_restart = data.used().today;
    let reopened = DataUsage::open(tmp.path(), homedesk_core::clock::system());
    let after_restart = reopened.used().today;
    assert!(
        after_restart > 10_000 && within_five_percent(after_restart, before_restart),
        "today's total survives a restart of the app: {after_restart} after, {before_restart} before"
    );
}

/// A reconnect after an outage resumes its TLS session (no certificate
/// again): the retries made while the platform was out of reach send
/// nothing, not even a TLS hello, so they spend none of the session tickets
/// (`sync::wire`, `Relay::ready`).
#[tokio::test]
async fn a_reconnect_after_an_outage_resumes_tls_instead_of_a_full_handshake() {
    use futures_util::StreamExt;
    use homedesk_core::sync::{Transport, TransportError, WireMeter};

    let server = Server::start_demo(&[]);
    let session = server.sign_in("a1002").await;
    let upstream = server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("address");
    let proxy = FlakyProxy::start(upstream, 11).await;
    let meter = WireMeter::new();
    let transport = common::counting_transport(&server, &proxy.url(), &meter);
    // Bytes received from asking for the event stream to its first event.
    let open = || async {
        let before = meter.received();
        let mut stream = transport
            .events(&session.access_token)
            .await
            .expect("events");
        stream.next().await.expect("an event").expect("readable");
        (meter.received() - before, stream)
    };

    let (first, stream) = open().await;
    proxy.unplug();
    drop(stream);
    for _ in 0..3 {
        match transport.events(&session.access_token).await {
            Err(TransportError::Unreachable(_)) => {}
            Err(other) => panic!("an outage is unreachable, not {other:?}"),
            Ok(_) => panic!("the link is down"),
        }
    }
    proxy.set(common::flaky::Mode::Up);
    // The proxy listens again a moment later; until then a try is refused
    // before any byte too, and costs nothing.
    let before = meter.received();
    let mut tries = 0;
    let mut stream = loop {
        match transport.events(&session.access_token).await {
            Ok(stream) => break stream,
            Err(_) => {
                tries += 1;
                assert!(tries < 100, "the link came back");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    stream.next().await.expect("an event").expect("readable");
    let again = meter.received() - before;
    // The development CA's certificate chain alone is over 700 bytes.
    assert!(
        again + 500 < first,
        "the reconnect took {again} B against {first} B for the first, full handshake"
    );
}
