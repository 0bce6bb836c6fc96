//! Shared by the workstation's integration tests: the real platform binary
//! (from the platform's own test harness), an engine wired to it over HTTPS,
//! and a fault-injecting TCP proxy for bad links.

#![allow(dead_code, unused_imports)]

#[path = "../../../platform/tests/support/harness.rs"]
pub mod platform;

pub mod flaky;

use std::sync::Arc;
use std::time::Duration;

use homedesk_core::store::Store;
use homedesk_core::sync::{Backoff, HttpConfig, HttpTransport, SyncConfig, SyncEngine};

pub use platform::{Server, eventually};

/// Settings that make a test's retries fast; the protocol is the same.
pub fn quick_config(device: &str) -> SyncConfig {
    let mut config = SyncConfig::new(device);
    config.backoff = Backoff {
        base: Duration::from_millis(50),
        max: Duration::from_millis(800),
        unreachable_max: Duration::from_millis(800),
    };
    config.poll_interval = Duration::from_millis(500);
    config.safety_poll = Duration::from_secs(5);
    config.page_limit = 50;
    config
}

/// An HTTPS transport to `url` trusting the platform's development CA.
pub fn transport(server: &Server, url: &str) -> HttpTransport {
    counting_transport(server, url, &homedesk_core::sync::WireMeter::new())
}

/// [`transport`] counting its bytes on the wire into `meter`.
pub fn counting_transport(
    server: &Server,
    url: &str,
    meter: &Arc<homedesk_core::sync::WireMeter>,
) -> HttpTransport {
    let mut http = HttpConfig::new(url);
    http.ca_file = Some(server.dir.join("tls").join("ca.pem"));
    http.connect_timeout = Duration::from_secs(3);
    http.idle_timeout = Duration::from_secs(5);
    http.meter = Arc::clone(meter);
    HttpTransport::new(&http).expect("transport")
}

pub fn engine_at(
    server: &Server,
    url: &str,
    db: &std::path::Path,
    device: &str,
) -> Arc<SyncEngine<HttpTransport>> {
    engine_configured(server, url, db, quick_config(device))
}

/// [`engine_at`] with settings of the test's own.
pub fn engine_configured(
    server: &Server,
    url: &str,
    db: &std::path::Path,
    mut config: SyncConfig,
) -> Arc<SyncEngine<HttpTransport>> {
    let store = Arc::new(
        Store::open(db, &homedesk_core::store::StoreKey::from_bytes([7; 32])).expect("store opens"),
    );
    // The engine's data counter reads the meter its transport counts into.
    let data = homedesk_core::data_usage::DataUsage::in_memory(homedesk_core::clock::system());
    let transport = counting_transport(server, url, data.meter());
    config.data = Some(data);
    SyncEngine::new(store, transport, config).expect("engine")
}

/// The bodies of agent replies (not internal notes) in one conversation, in
/// the platform's order,
/// as a fresh pull by `agent` sees them.
pub async fn platform_messages(server: &Server, agent: &str, conversation: &str) -> Vec<String> {
    let session = server.sign_in(agent).await;
    let (changes, _) = server.pull_all(&session.access_token, None).await;
    let mut messages: Vec<(u64, String)> = changes
        .into_iter()
        .filter_map(|c| match c.body {
            homedesk_protocol::ChangeBody::Upsert(homedesk_protocol::Record::Message(m))
                if m.conversation_id == conversation
                    && m.author == homedesk_protocol::Author::Agent
                    && m.kind == homedesk_protocol::MessageKind::Text =>
            {
                Some((c.seq, m.body))
            }
            _ => None,
        })
        .collect();
    messages.sort();
    messages.into_iter().map(|(_, body)| body).collect()
}

/// What the platform received from `agent`: the verdict it stored for each
/// idempotency key (its `action_keys` table, read from its database file in
/// the server's data folder), by key.
pub fn platform_action_verdicts(
    server: &Server,
    agent: &str,
) -> std::collections::BTreeMap<String, homedesk_protocol::ActionResult> {
    let db = rusqlite::Connection::open(server.dir.join("platform.db")).expect("platform.db");
    db.busy_timeout(Duration::from_secs(10)).expect("timeout");
    let mut stmt = db
        .prepare("SELECT key, result FROM action_keys WHERE agent = ?1")
        .expect("action_keys");
    stmt.query_map([agent], |row| {
        let result: String = row.get(1)?;
        Ok((
            row.get(0)?,
            serde_json::from_str(&result).expect("a stored verdict"),
        ))
    })
    .and_then(Iterator::collect)
    .expect("verdicts")
}
