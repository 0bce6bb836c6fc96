//! HTTP as a workstation speaks it: HTTPS with rustls (ring) trusting only
//! the given CA, HTTP/2 when the platform offers it, `Homedesk-Protocol: 1`
//! and `Homedesk-Link: ok` on every request, zstd/gzip answers; plus the
//! lean decoding of pages and events the simulated agents need, and a
//! server-sent-events reader.
//!
//! Decoding is lean on purpose: the load generator shares the machine's
//! cores with the platform, so it reads only conversations and messages
//! fully (with the protocol crate's strict types) and skips every other
//! record's fields without building them.

use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use homedesk_protocol::{ChangeOp, Conversation, EntityKind, Message, Presence};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use serde::de::{Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, de::DeserializeOwned};

/// Checks each `--url`: https, a loopback host, a port. The load test must
/// never be pointed at anything but this machine.
pub fn check_urls(urls: &[String]) -> anyhow::Result<Vec<Url>> {
    urls.iter()
        .map(|raw| {
            let url = Url::parse(raw.trim_end_matches('/')).with_context(|| {
                format!("--url {raw:?} is not a URL (e.g. https://127.0.0.1:8443)")
            })?;
            if url.scheme() != "https" {
                bail!("--url {raw}: the platform speaks https only");
            }
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            };
            if !loopback {
                bail!("--url {raw}: loopback addresses only (127.0.0.1, ::1, localhost)");
            }
            if url.path() != "/" || url.query().is_some() {
                bail!("--url {raw}: give the platform's address without a path");
            }
            Ok(url)
        })
        .collect()
}

/// The CA certificates to trust (PEM).
pub fn load_ca(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).with_context(|| format!("reading the CA {}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", path.display());
    }
    Ok(certs)
}

/// A client like the workstation's: its own connection pool, no redirects,
/// a connect timeout and an idle (read) timeout.
pub fn client(certs: &[reqwest::Certificate], idle: Duration) -> anyhow::Result<reqwest::Client> {
    // reqwest is built without a default crypto provider (decision 0008).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .tls_certs_only(certs.iter().cloned())
        .https_only(true)
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(idle)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("homedesk-loadgen/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTPS client")
}

/// `GET /v1/health`, to fail early and clearly on an unreachable platform.
pub async fn check_health(client: &reqwest::Client, base: &Url) -> anyhow::Result<()> {
    let url = base.join("/v1/health")?;
    let response = tokio::time::timeout(Duration::from_secs(10), client.get(url.clone()).send())
        .await
        .map_err(|_| anyhow::anyhow!("{base}: no answer to /v1/health within 10 s"))?
        .map_err(|err| anyhow::anyhow!("cannot reach the platform at {base}: {}", chain(&err)))?;
    if !response.status().is_success() {
        bail!("{url} answered {}", response.status());
    }
    Ok(())
}

/// What an instance's `GET /metrics` says of its work so far (counters
/// since it started; the gauge now).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceMetrics {
    /// `homedesk_http_requests_total`, every route and status.
    pub http_requests: u64,
    /// `homedesk_offers_total{outcome="offered"}`: offers its routing
    /// passes made.
    pub offers_made: u64,
    /// `homedesk_changes_served_total`: change-log entries it sent.
    pub changes_served: u64,
    /// `homedesk_event_streams`: streams open on it.
    pub event_streams: u64,
}

/// Reads an instance's `GET /metrics` with its token.
pub async fn instance_metrics(
    client: &reqwest::Client,
    base: &Url,
    token: &str,
) -> Result<InstanceMetrics, CallError> {
    let mut url = base.clone();
    url.set_path("/metrics");
    let (body, _) = send(client.get(url).bearer_auth(token)).await?;
    Ok(parse_metrics(&String::from_utf8_lossy(&body)))
}

/// The counters [`InstanceMetrics`] keeps, out of Prometheus's text format.
pub fn parse_metrics(text: &str) -> InstanceMetrics {
    let mut m = InstanceMetrics::default();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        let value = value.max(0.0) as u64;
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        match name {
            "homedesk_http_requests_total" => m.http_requests += value,
            "homedesk_offers_total" if labels.contains("outcome=\"offered\"") => {
                m.offers_made += value;
            }
            "homedesk_changes_served_total" => m.changes_served += value,
            "homedesk_event_streams" => m.event_streams = value,
            _ => {}
        }
    }
    m
}

/// An error's message with its causes ("connection refused" is deep inside).
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Adds the protocol's headers.
pub fn protocol(request: RequestBuilder) -> RequestBuilder {
    request
        .header("Homedesk-Protocol", "1")
        .header("Homedesk-Link", "ok")
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// An answer other than 2xx: status, the error body's `code`, and
    /// `Retry-After` in seconds when given.
    Status {
        status: StatusCode,
        code: String,
        retry_after: Option<u64>,
    },
    /// No answer: refused, reset, timed out.
    Transport(String),
    /// An answer that is not what the protocol says.
    Malformed(String),
}

impl CallError {
    /// A short name for the error counters.
    pub fn kind(&self) -> String {
        match self {
            CallError::Status { status, code, .. } => format!("{} {code}", status.as_u16()),
            CallError::Transport(_) => "no answer".to_owned(),
            CallError::Malformed(_) => "malformed answer".to_owned(),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Status { status, code, .. } => write!(f, "{status} {code}"),
            CallError::Transport(e) => write!(f, "no answer: {e}"),
            CallError::Malformed(e) => write!(f, "malformed answer: {e}"),
        }
    }
}

/// Sends and reads the whole body: `(status, body, when the body was in)`;
/// any status other than 2xx is a [`CallError::Status`].
pub async fn send(request: RequestBuilder) -> Result<(Vec<u8>, Instant), CallError> {
    let response = protocol(request)
        .send()
        .await
        .map_err(|e| CallError::Transport(chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(status_error(response).await);
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| CallError::Transport(chain(&e)))?;
    Ok((body.to_vec(), Instant::now()))
}

/// A non-2xx answer as a [`CallError::Status`].
pub async fn status_error(response: Response) -> CallError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let body = response.bytes().await.unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned());
    CallError::Status {
        status,
        code,
        retry_after,
    }
}

pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, CallError> {
    serde_json::from_slice(body).map_err(|e| CallError::Malformed(e.to_string()))
}

// ---------------------------------------------------------------- lean wire types

/// A page of changes (`GET /v1/changes`, a push's answer, an inline
/// event): the fields an agent needs; the rest is skipped.
#[derive(Debug, Deserialize)]
pub struct Page {
    pub changes: Vec<LeanChange>,
    pub next_cursor: String,
    pub has_more: bool,
}

/// `POST /v1/actions` answer.
#[derive(Debug, Deserialize)]
pub struct PushAnswer {
    pub results: Vec<homedesk_protocol::ActionResult>,
    #[serde(default)]
    pub changes: Option<Page>,
}

/// One change: conversations and messages in full, other records skipped.
#[derive(Debug, Default)]
pub struct LeanChange {
    pub seq: u64,
    pub deleted: bool,
    pub entity: Option<EntityKind>,
    pub id: String,
    pub data: LeanData,
}

#[derive(Debug, Default)]
pub enum LeanData {
    #[default]
    None,
    Conversation(Box<Conversation>),
    Message(Box<Message>),
    /// An agent profile: only its presence is read.
    Profile(Presence),
    /// A record of another kind, not read.
    Other,
}

impl<'de> Deserialize<'de> for LeanChange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ChangeVisitor)
    }
}

struct ChangeVisitor;

impl<'de> Visitor<'de> for ChangeVisitor {
    type Value = LeanChange;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a change {seq, op, entity, id, data?}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LeanChange, A::Error> {
        let mut change = LeanChange::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "seq" => change.seq = map.next_value()?,
                "op" => change.deleted = map.next_value::<ChangeOp>()? == ChangeOp::Delete,
                "entity" => change.entity = Some(map.next_value()?),
                "id" => change.id = map.next_value()?,
                // The platform writes `entity` before `data` (the wire
                // struct's order), so the kind is known here.
                "data" => {
                    change.data = match change.entity {
                        Some(EntityKind::Conversation) => {
                            LeanData::Conversation(Box::new(map.next_value()?))
                        }
                        Some(EntityKind::Message) => LeanData::Message(Box::new(map.next_value()?)),
                        Some(EntityKind::AgentProfile) => {
                            LeanData::Profile(map.next_value::<LeanProfile>()?.presence)
                        }
                        Some(_) => {
                            map.next_value::<IgnoredAny>()?;
                            LeanData::Other
                        }
                        None => return Err(A::Error::custom("a change's data before its entity")),
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if change.entity.is_none() {
            return Err(A::Error::custom("a change without entity"));
        }
        Ok(change)
    }
}

/// An agent profile's presence (the other fields are skipped).
#[derive(Debug, Deserialize)]
struct LeanProfile {
    presence: Presence,
}

/// A `changes` event.
#[derive(Debug, Deserialize)]
pub struct ChangesEvent {
    pub latest_seq: u64,
    #[serde(default)]
    pub inline: Option<Inline>,
}

#[derive(Debug, Deserialize)]
pub struct Inline {
    pub after: u64,
    pub page: Page,
}

#[derive(Debug, Deserialize)]
pub struct OfferEvent {
    pub offer_id: String,
}

#[derive(Debug, Deserialize)]
pub struct OfferWithdrawnEvent {
    pub offer_id: String,
}

/// An event of the agent's stream, as far as the simulation cares.
#[derive(Debug)]
pub enum StreamEvent {
    Changes(ChangesEvent),
    Offer(OfferEvent),
    OfferWithdrawn(OfferWithdrawnEvent),
    /// A heartbeat, `team_changed`: nothing to do.
    Other,
}

/// Reads server-sent events off an open `GET /v1/events` answer (reqwest
/// has already undone the zstd).
pub struct EventReader {
    response: Response,
    buffer: Vec<u8>,
}

impl EventReader {
    pub fn new(response: Response) -> EventReader {
        EventReader {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, `Ok(None)` at the stream's end.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>, String> {
        loop {
            if let Some(end) = find_blank_line(&self.buffer) {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_block(&block)? {
                    return Ok(Some(event));
                }
                continue;
            }
            match self.response.chunk().await {
                Ok(Some(bytes)) => self.buffer.extend_from_slice(&bytes),
                Ok(None) => return Ok(None),
                Err(err) => return Err(chain(&err)),
            }
        }
    }
}

fn find_blank_line(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|w| w == b"\n\n")
}

/// One SSE block (`event: NAME\ndata: JSON\n\n`) as a [`StreamEvent`].
fn parse_block(block: &[u8]) -> Result<Option<StreamEvent>, String> {
    let text = std::str::from_utf8(block).map_err(|e| format!("event not UTF-8: {e}"))?;
    let mut name = "message";
    let mut data = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("event:") {
            name = rest.trim();
        } else if let Some(rest) = line.strip_prefix("data:") {
            data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        }
    }
    if data.is_empty() {
        return Ok(None);
    }
    let bad = |e: serde_json::Error| format!("event {name:?}: {e}");
    Ok(Some(match name {
        "changes" => StreamEvent::Changes(serde_json::from_str(&data).map_err(bad)?),
        "offer" => StreamEvent::Offer(serde_json::from_str(&data).map_err(bad)?),
        "offer_withdrawn" => StreamEvent::OfferWithdrawn(serde_json::from_str(&data).map_err(bad)?),
        _ => StreamEvent::Other,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_on_loopback() {
        assert!(check_urls(&["https://127.0.0.1:8443".into()]).is_ok());
        assert!(check_urls(&["https://[::1]:8443/".into()]).is_ok());
        assert!(check_urls(&["https://localhost:8443".into()]).is_ok());
        for bad in [
            "http://127.0.0.1:8443",
            "https://10.0.0.1:8443",
            "https://example.com",
            "not a url",
            "https://127.0.0.1:8443/v1",
        ] {
            assert!(check_urls(&[bad.into()]).is_err(), "{bad} is refused");
        }
    }

    #[test]
    fn a_page_is_read_lean() {
        let page: Page = serde_json::from_str(
            r#"{"changes":[
                {"seq":3,"op":"upsert","entity":"queue","id":"q","data":{"id":"q","anything":[1,2]}},
                {"seq":4,"op":"delete","entity":"conversation","id":"c1"},
                {"seq":5,"op":"upsert","entity":"message","id":"m1","data":{"id":"m1","conversation_id":"c1","author":"customer","agent":null,"kind":"text","body":"hi #lg7","sent_at":1,"attachments":[],"delivery":null}}
            ],"next_cursor":"x.5","has_more":false,"server_time":9,"resolved_days":14}"#,
        )
        .unwrap();
        assert_eq!(page.changes.len(), 3);
        assert!(matches!(page.changes[0].data, LeanData::Other));
        assert!(page.changes[1].deleted);
        let LeanData::Message(m) = &page.changes[2].data else {
            panic!("a message")
        };
        assert_eq!(m.body, "hi #lg7");
    }

    #[test]
    fn metrics_are_read() {
        let text = "# HELP homedesk_http_requests_total HTTP requests by route and status\n\
            # TYPE homedesk_http_requests_total counter\n\
            homedesk_http_requests_total{route=\"/v1/actions\",status=\"200\"} 40\n\
            homedesk_http_requests_total{route=\"/v1/changes\",status=\"200\"} 2\n\
            homedesk_offers_total{outcome=\"expired\"} 3\n\
            homedesk_offers_total{outcome=\"offered\"} 7\n\
            homedesk_changes_served_total 1234\n\
            homedesk_event_streams 150\n";
        assert_eq!(
            parse_metrics(text),
            InstanceMetrics {
                http_requests: 42,
                offers_made: 7,
                changes_served: 1234,
                event_streams: 150,
            }
        );
        assert_eq!(parse_metrics(""), InstanceMetrics::default());
    }

    #[test]
    fn sse_blocks_parse() {
        let event =
            parse_block(b"event: changes\ndata: {\"type\":\"changes\",\"latest_seq\":19}\n\n")
                .unwrap()
                .unwrap();
        assert!(matches!(
            event,
            StreamEvent::Changes(ChangesEvent {
                latest_seq: 19,
                inline: None
            })
        ));
        assert!(matches!(
            parse_block(b"event: heartbeat\ndata: {\"type\":\"heartbeat\",\"server_time\":1}\n\n"),
            Ok(Some(StreamEvent::Other))
        ));
    }
}
