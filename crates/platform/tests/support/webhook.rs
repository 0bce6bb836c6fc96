//! A channel adapter's webhook receiver, as an adapter author would write
//! one: a real HTTP server on loopback that checks each request's
//! signature with the adapter's secret (computed here from the documented
//! recipe, not with the platform's code), answers 2xx, 401 for a bad
//! signature, or 503 while told to fail, and keeps a log of every request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use homedesk_protocol::EgressMessage;
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub message: Option<EgressMessage>,
    pub idempotency_key: String,
    pub timestamp: i64,
    pub attempt: u32,
    pub signature_ok: bool,
    /// What the receiver answered.
    pub status: u16,
}

impl Received {
    pub fn message_id(&self) -> &str {
        self.message.as_ref().map_or("", |m| m.message_id.as_str())
    }

    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

struct Inner {
    secret: Mutex<String>,
    failing: AtomicBool,
    /// How long each answer takes, in milliseconds.
    delay_ms: AtomicU64,
    log: Mutex<Vec<Received>>,
}

pub struct Receiver {
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The check docs/protocol.md §9b tells adapter authors to make: the
/// signing key is HMAC-SHA256(secret, "homedesk webhook signing key"); the
/// signature is `sha256=` + hex HMAC-SHA256(key, "{timestamp}.{body}").
pub fn signature_is_valid(secret: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let key = hmac_sha256(secret.as_bytes(), b"homedesk webhook signing key");
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let expected = format!("sha256={}", hex(&hmac_sha256(&key, &signed)));
    // Constant time is what a real adapter would use; for a test, equality.
    expected == header
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let timestamp = header(&headers, "X-Homedesk-Timestamp");
    let signature = header(&headers, "X-Homedesk-Signature");
    let secret = inner.secret.lock().expect("lock").clone();
    let signature_ok = signature_is_valid(&secret, &timestamp, &body, &signature);
    let status = if !signature_ok {
        StatusCode::UNAUTHORIZED
    } else if inner.failing.load(Ordering::SeqCst) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    // Logged as it arrives (a slow answer's request is in the log at once).
    inner.log.lock().expect("lock").push(Received {
        message: serde_json::from_slice(&body).ok(),
        idempotency_key: header(&headers, "Idempotency-Key"),
        timestamp: timestamp.parse().unwrap_or(0),
        attempt: header(&headers, "X-Homedesk-Attempt").parse().unwrap_or(0),
        signature_ok,
        status: status.as_u16(),
    });
    let delay = inner.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    status
}

impl Receiver {
    /// Listens on a free loopback port; checks signatures with `secret`.
    pub async fn start(secret: &str) -> Receiver {
        let inner = Arc::new(Inner {
            secret: Mutex::new(secret.to_owned()),
            failing: AtomicBool::new(false),
            delay_ms: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, inner, task }
    }

    /// Answers 503 to every correctly signed request while `failing`.
    pub fn set_failing(&self, failing: bool) {
        self.inner.failing.store(failing, Ordering::SeqCst);
    }

    /// Takes `delay` over each answer from now on (a slow adapter: its
    /// requests stay in flight a while).
    pub fn set_delay(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.inner.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Checks signatures with this secret from now on.
    pub fn set_secret(&self, secret: &str) {
        *self.inner.secret.lock().expect("lock") = secret.to_owned();
    }

    pub fn log(&self) -> Vec<Received> {
        self.inner.log.lock().expect("lock").clone()
    }

    /// Message ids the receiver accepted (answered 2xx), in order.
    pub fn accepted(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter(|r| r.accepted())
            .map(|r| r.message_id().to_owned())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
