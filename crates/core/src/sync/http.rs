//! [`HttpTransport`]: the platform over HTTPS (reqwest with rustls).
//!
//! - HTTPS only. Plain `http://` is accepted only for a loopback address and
//!   only when [`HttpConfig::allow_insecure_loopback`] is set (development).
//! - Trust: the platform's CA file when one is given (a county centre's own
//!   platform, the development CA), otherwise the system's roots.
//! - Timeouts: a connect timeout and an idle (read) timeout, never one total
//!   timeout: a big first sync on a slow link may take minutes while bytes
//!   keep arriving, but a stalled link is noticed in seconds.
//! - One connection: the event stream and every request share one HTTP/2
//!   connection (one reqwest client), so a link that comes back costs one
//!   TLS handshake, not two. Requests keep their own idle timeout
//!   ([`HttpConfig::idle_timeout`], applied here); the stream's is longer,
//!   as it waits for heartbeats.
//! - Every request states the engine's judgement of the link in
//!   `Homedesk-Link: ok|degraded`; the platform keeps the last statement.
//! - Every answer is size-capped while it streams in and decoded strictly; a
//!   page of changes is decoded entry by entry (see [`PulledPage`]).
//! - Every connection goes through a counting [`Relay`] (`sync::wire`), so
//!   the data counter shows bytes on the wire, not decompressed bodies.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use homedesk_protocol::{
    ActionBatch, ActionResult, Attachment, Change, ConversationRecord, EntityKind, ErrorBody,
    PROTOCOL_HEADER, PROTOCOL_VERSION, ProtocolVersion, ServerEvent, Session, SignIn, coding,
};
use reqwest::{Response, StatusCode, Url};
use serde::Deserialize;

use super::transport::{
    EventStream, FetchedMedia, LinkQuality, PhotoSize, PullKinds, PulledPage, Transport,
    TransportError,
};
use super::wire::{Relay, WireMeter};

/// Largest answer accepted: a full page of 1 000 changes with long articles
/// fits many times over.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// What the workstation takes answers in: Homedesk's dictionary coding
/// first (small JSON bodies cost their content, not their keys; decision
/// 0043), then zstd and gzip (which reqwest decodes itself).
const ACCEPTED_CODINGS: &str = "homedesk-zstd1, zstd, gzip";
/// The body a request was sent with, before coding, kept on its response:
/// an answer in `homedesk-zstd1` is coded against it.
#[derive(Clone)]
struct SentBody(Arc<[u8]>);
/// How long a request's answer may go without a byte, kept on its response
/// so that reading the body applies it too (reqwest's own `read_timeout` is
/// one per client, and the client is shared with the event stream).
#[derive(Clone, Copy)]
struct Idle(Duration);
/// Largest single server-sent event.
const MAX_EVENT_BYTES: usize = 64 * 1024;
const LINK_HEADER: &str = "Homedesk-Link";
/// An idle connection is kept this long: longer than the sync engine's
/// safety poll (600 s), so a quiet desk's poll reuses it rather than paying a
/// new TCP and TLS handshake (about 1.5 KB) every time. The platform pings
/// a connection silent for 120 s (≈80 B), which also keeps a home router's
/// NAT entry alive.
const POOL_IDLE: Duration = Duration::from_secs(660);

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `https://host:port` of the platform.
    pub base_url: String,
    /// PEM file of the CA to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Development only: allow `http://` to 127.0.0.1, ::1 or localhost.
    pub allow_insecure_loopback: bool,
    pub connect_timeout: Duration,
    /// No byte for this long on an open request means the link is gone.
    pub idle_timeout: Duration,
    /// Where the bytes this transport carries are counted (one meter per
    /// device, shared with the updater).
    pub meter: Arc<WireMeter>,
}

impl HttpConfig {
    pub fn new(base_url: impl Into<String>) -> HttpConfig {
        HttpConfig {
            base_url: base_url.into(),
            ca_file: None,
            allow_insecure_loopback: false,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            meter: WireMeter::new(),
        }
    }
}

/// Why an [`HttpTransport`] could not be made; shown to the agent as is.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("{0:?} is not a platform address (expected https://host:port)")]
    BadUrl(String),
    #[error("the platform address must start with https:// ({0})")]
    NotHttps(String),
    #[error("cannot read the CA file {}: {source}", path.display())]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA file {} holds no usable PEM certificate: {reason}", path.display())]
    CaPem { path: PathBuf, reason: String },
    #[error("cannot set up HTTPS: {0}")]
    Client(String),
    #[error("cannot set up the connection to the platform: {0}")]
    Relay(String),
}

#[derive(Debug, Clone)]
pub struct HttpTransport {
    base: Url,
    /// One client, so one HTTP/2 connection for the event stream and the
    /// requests. Its own read timeout is the stream's (heartbeats); requests
    /// are held to `request_idle` by [`Self::send`] and the body readers.
    client: reqwest::Client,
    request_idle: Duration,
    /// The engine judges the link degraded (shared by clones).
    degraded: Arc<AtomicBool>,
    /// Every connection's way to the platform, counted (shared by clones;
    /// stops with the last of them).
    relay: Arc<Relay>,
    meter: Arc<WireMeter>,
    /// The platform said it takes request bodies in `homedesk-zstd1`
    /// (shared by clones).
    platform_takes_coding: Arc<AtomicBool>,
    /// Until a platform refuses `?heartbeat=comment` on the event stream
    /// (one from before it, decision 0048), the stream asks for it.
    platform_takes_comments: Arc<AtomicBool>,
}

/// The certificates of a platform's CA file (PEM), to trust instead of the
/// system's roots (`tls_certs_only`). The sync client and the updater's
/// client (`homedesk_core::updates`) trust the platform the same way.
pub fn load_ca(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, HttpSetupError> {
    let pem = std::fs::read(path).map_err(|source| HttpSetupError::CaFile {
        path: path.to_path_buf(),
        source,
    })?;
    let certs =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| HttpSetupError::CaPem {
            path: path.to_path_buf(),
            reason: err.to_string(),
        })?;
    if certs.is_empty() {
        return Err(HttpSetupError::CaPem {
            path: path.to_path_buf(),
            reason: "no certificate found".into(),
        });
    }
    Ok(certs)
}

impl HttpTransport {
    pub fn new(config: &HttpConfig) -> Result<HttpTransport, HttpSetupError> {
        let base = Url::parse(config.base_url.trim_end_matches('/'))
            .map_err(|_| HttpSetupError::BadUrl(config.base_url.clone()))?;
        let loopback = match base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => return Err(HttpSetupError::BadUrl(config.base_url.clone())),
        };
        let insecure = match base.scheme() {
            "https" => false,
            "http" if loopback && config.allow_insecure_loopback => true,
            _ => return Err(HttpSetupError::NotHttps(config.base_url.clone())),
        };
        // reqwest is built without a default crypto provider (decision 0008).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let certs = config.ca_file.as_deref().map(load_ca).transpose()?;
        let host = base
            .host_str()
            .ok_or_else(|| HttpSetupError::BadUrl(config.base_url.clone()))?;
        let port = base
            .port_or_known_default()
            .ok_or_else(|| HttpSetupError::BadUrl(config.base_url.clone()))?;
        let relay = Relay::start(
            host,
            port,
            config.connect_timeout,
            Arc::clone(&config.meter),
        )
        .map_err(|err| HttpSetupError::Relay(err.to_string()))?;
        // The event stream is silent between heartbeats; the engine also
        // gives up on it after three missed ones (`SyncEngine::listen`).
        let heartbeat = Duration::from_secs(homedesk_protocol::HEARTBEAT_SECS);
        let stream_idle = config.idle_timeout.max(heartbeat * 3);
        let client = {
            let mut builder = reqwest::Client::builder()
                .unix_socket(relay.socket())
                .https_only(!insecure)
                .connect_timeout(config.connect_timeout)
                .read_timeout(stream_idle)
                // Never follow a redirect: a 307/308 would send the sign-in
                // body (the password) or a bearer token on to whatever
                // address the answer names. The platform never redirects.
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(POOL_IDLE)
                .user_agent(concat!("homedesk-workstation/", env!("CARGO_PKG_VERSION")));
            if let Some(certs) = &certs {
                builder = builder.tls_certs_only(certs.clone());
            }
            builder
                .build()
                .map_err(|err| HttpSetupError::Client(err.to_string()))?
        };
        Ok(HttpTransport {
            base,
            client,
            request_idle: config.idle_timeout,
            degraded: Arc::new(AtomicBool::new(false)),
            relay: Arc::new(relay),
            meter: Arc::clone(&config.meter),
            platform_takes_coding: Arc::new(AtomicBool::new(false)),
            platform_takes_comments: Arc::new(AtomicBool::new(true)),
        })
    }

    /// The meter this transport counts into.
    pub fn meter(&self) -> &Arc<WireMeter> {
        &self.meter
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    /// Sends a request, held to the requests' idle timeout.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Response, TransportError> {
        self.send_within(request, Some(self.request_idle)).await
    }

    /// Sends a request; with `idle`, gives up when its answer does not
    /// start within it, and puts it on the response for the body's reader.
    async fn send_within(
        &self,
        request: reqwest::RequestBuilder,
        idle: Option<Duration>,
    ) -> Result<Response, TransportError> {
        let link = if self.degraded.load(Ordering::Relaxed) {
            "degraded"
        } else {
            "ok"
        };
        let (client, request) = request
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header(LINK_HEADER, link)
            .header(reqwest::header::ACCEPT_ENCODING, ACCEPTED_CODINGS)
            .build_split();
        let mut request = request.map_err(classify)?;
        // After a failed connect, nothing leaves (not even a TLS hello,
        // which would spend a session ticket) until the platform answers.
        self.relay
            .ready()
            .await
            .map_err(|err| TransportError::Unreachable(format!("the platform: {err}")))?;
        let sent = self.code_body(&mut request);
        // `Client::execute` spelt out: `tests/sql_lives_in_store.rs` looks
        // for SQL's method-call form.
        let answered = reqwest::Client::execute(&client, request);
        let mut response = match idle {
            Some(idle) => tokio::time::timeout(idle, answered)
                .await
                .map_err(|_| no_answer(idle))?,
            None => answered.await,
        }
        .map_err(classify)?;
        if let Some(idle) = idle {
            response.extensions_mut().insert(Idle(idle));
        }
        // RFC 7694: the platform takes request bodies in the coding.
        if response
            .headers()
            .get_all(reqwest::header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(coding::accepts_dictionary_coding)
        {
            self.platform_takes_coding.store(true, Ordering::Relaxed);
        }
        response.extensions_mut().insert(SentBody(sent));
        check_version(&response)?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_answer(response).await)
    }

    /// Codes a JSON request body in `homedesk-zstd1` once the platform has
    /// said it takes it; returns the body as it was (an answer in the coding
    /// is coded against it).
    fn code_body(&self, request: &mut reqwest::Request) -> Arc<[u8]> {
        let Some(body) = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(Arc::<[u8]>::from)
        else {
            return Arc::from(&[][..]);
        };
        let json = request
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if json && !body.is_empty() && self.platform_takes_coding.load(Ordering::Relaxed) {
            let coded = coding::encode(&body, b"");
            request.headers_mut().insert(
                reqwest::header::CONTENT_ENCODING,
                reqwest::header::HeaderValue::from_static(coding::DICTIONARY_CODING),
            );
            *request.body_mut() = Some(coded.into());
        }
        body
    }

    async fn json<T: for<'de> Deserialize<'de>>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, TransportError> {
        let response = self.send(request).await?;
        let bytes = read_capped(response).await?;
        homedesk_protocol::decode(&bytes).map_err(|err| TransportError::Malformed(err.to_string()))
    }
}

impl HttpTransport {
    /// `GET` of a team-console endpoint (`/v1/team`, `/v1/trainees`,
    /// `/v1/reports`), decoded.
    pub async fn console_get<T: for<'de> Deserialize<'de>>(
        &self,
        access_token: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, TransportError> {
        let mut url = self.url(path);
        url.query_pairs_mut().extend_pairs(query);
        self.json(self.client.get(url).bearer_auth(access_token))
            .await
    }

    /// `GET /v1/reports?format=csv&…`: the report as CSV text.
    pub async fn console_csv(
        &self,
        access_token: &str,
        query: &[(&str, String)],
    ) -> Result<String, TransportError> {
        let mut url = self.url("/v1/reports");
        url.query_pairs_mut()
            .append_pair("format", "csv")
            .extend_pairs(query);
        let response = self
            .send(self.client.get(url).bearer_auth(access_token))
            .await?;
        let bytes = read_capped(response).await?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| TransportError::Malformed("the report is not UTF-8 text".into()))
    }

    /// `POST /v1/trainees/{code}/promote`.
    pub async fn promote(
        &self,
        access_token: &str,
        trainee: &str,
        promotion: &homedesk_protocol::Promotion,
    ) -> Result<homedesk_protocol::RoleChange, TransportError> {
        let mut url = self.url("/v1/trainees");
        url.path_segments_mut()
            .map_err(|()| TransportError::Malformed("the platform address has no path".into()))?
            .push(trainee)
            .push("promote");
        self.json(
            self.client
                .post(url)
                .bearer_auth(access_token)
                .json(promotion),
        )
        .await
    }

    /// Reports practice results as training records (their own endpoint,
    /// never the change log).
    pub async fn upload_training(
        &self,
        access_token: &str,
        upload: &homedesk_protocol::TrainingUpload,
    ) -> Result<homedesk_protocol::TrainingUploadResult, TransportError> {
        self.json(
            self.client
                .post(self.url("/v1/training-records"))
                .bearer_auth(access_token)
                .json(upload),
        )
        .await
    }
}

impl Transport for HttpTransport {
    async fn sign_in(&self, request: &SignIn) -> Result<Session, TransportError> {
        self.json(self.client.post(self.url("/v1/sessions")).json(request))
            .await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        let body = homedesk_protocol::Refresh {
            refresh_token: refresh_token.to_owned(),
        };
        self.json(
            self.client
                .post(self.url("/v1/sessions/refresh"))
                .json(&body),
        )
        .await
    }

    async fn end_session(&self, token: &str) -> Result<(), TransportError> {
        self.send(
            self.client
                .delete(self.url("/v1/sessions"))
                .bearer_auth(token),
        )
        .await
        .map(|_| ())
    }

    async fn push(
        &self,
        access_token: &str,
        batch: &ActionBatch,
    ) -> Result<Vec<ActionResult>, TransportError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Answer {
            results: Vec<ActionResult>,
        }
        let answer: Answer = self
            .json(
                self.client
                    .post(self.url("/v1/actions"))
                    .bearer_auth(access_token)
                    .json(batch),
            )
            .await?;
        Ok(answer.results)
    }

    async fn push_and_pull(
        &self,
        access_token: &str,
        batch: &ActionBatch,
        cursor: &str,
    ) -> Result<(Vec<ActionResult>, Option<PulledPage>), TransportError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Answer {
            results: Vec<ActionResult>,
            // Read entry by entry, like a pull (`decode_page`).
            #[serde(default)]
            changes: Option<serde_json::Value>,
        }
        let mut url = self.url("/v1/actions");
        url.query_pairs_mut().append_pair("cursor", cursor);
        let answer: Answer = self
            .json(self.client.post(url).bearer_auth(access_token).json(batch))
            .await?;
        let page = match answer.changes {
            None => None,
            Some(changes) => {
                let bytes = serde_json::to_vec(&changes)
                    .map_err(|err| TransportError::Malformed(err.to_string()))?;
                Some(decode_page(&bytes, 0)?)
            }
        };
        Ok((answer.results, page))
    }

    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PulledPage, TransportError> {
        self.pull_kinds(access_token, cursor, limit, PullKinds::All)
            .await
    }

    async fn pull_kinds(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
        kinds: PullKinds,
    ) -> Result<PulledPage, TransportError> {
        let mut url = self.url("/v1/changes");
        {
            let mut query = url.query_pairs_mut();
            if let Some(cursor) = cursor {
                query.append_pair("cursor", cursor);
            }
            query.append_pair("limit", &limit.to_string());
            match kinds {
                PullKinds::All => {}
                PullKinds::WithoutArticles => {
                    query.append_pair("except", EntityKind::KbArticle.as_str());
                }
                PullKinds::OnlyArticles => {
                    query.append_pair("only", EntityKind::KbArticle.as_str());
                }
            }
        }
        let response = self
            .send(self.client.get(url).bearer_auth(access_token))
            .await?;
        let wire_bytes = response.content_length().unwrap_or(0);
        let bytes = read_capped(response).await?;
        let wire_bytes = if wire_bytes == 0 {
            bytes.len() as u64
        } else {
            wire_bytes
        };
        decode_page(&bytes, wire_bytes)
    }

    async fn fetch_conversation(
        &self,
        access_token: &str,
        id: &str,
    ) -> Result<ConversationRecord, TransportError> {
        let mut url = self.url("/v1/conversations");
        url.path_segments_mut()
            .map_err(|()| TransportError::Malformed("the platform address has no path".into()))?
            .push(id);
        self.json(self.client.get(url).bearer_auth(access_token))
            .await
    }

    async fn events(&self, access_token: &str) -> Result<EventStream, TransportError> {
        let stream_request = |comments: bool| {
            let mut url = self.url("/v1/events");
            // Small pages of changes ride on the `changes` events (no
            // pull), and heartbeats are comments (a few bytes, no event:
            // `SignsOfLife`).
            url.query_pairs_mut().append_pair("changes", "inline");
            if comments {
                url.query_pairs_mut().append_pair("heartbeat", "comment");
            }
            self.client
                .get(url)
                .bearer_auth(access_token)
                .header(reqwest::header::ACCEPT, "text/event-stream")
        };
        // Not held to the requests' idle timeout: the stream is silent
        // between heartbeats (the client's read timeout holds it).
        let comments = self.platform_takes_comments.load(Ordering::Relaxed);
        let response = match self.send_within(stream_request(comments), None).await {
            // A platform from before comment heartbeats refuses the
            // parameter: ask it for heartbeat events from now on.
            Err(TransportError::Refused { status: 400, .. }) if comments => {
                self.platform_takes_comments.store(false, Ordering::Relaxed);
                self.send_within(stream_request(false), None).await?
            }
            answered => answered?,
        };
        let bytes_came = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&bytes_came);
        let stream = response
            .bytes_stream()
            .inspect(move |_| seen.store(true, Ordering::Relaxed))
            .eventsource()
            .map(|item| match item {
                Ok(event) if event.data.len() > MAX_EVENT_BYTES && event.event == "changes" => {
                    Ok(ServerEvent::poke(0))
                }
                Ok(event) if event.data.len() > MAX_EVENT_BYTES => {
                    Err(TransportError::Malformed(format!(
                        "event {:?} larger than {MAX_EVENT_BYTES} bytes",
                        event.event
                    )))
                }
                Ok(event) => {
                    match homedesk_protocol::decode::<ServerEvent>(event.data.as_bytes()) {
                        Ok(decoded) => Ok(decoded),
                        // A `changes` event whose page cannot be read whole is
                        // still news: the pull reads the page entry by entry.
                        Err(_) if event.event == "changes" => Ok(ServerEvent::poke(0)),
                        Err(err) => Err(TransportError::Malformed(format!(
                            "event {:?}: {err}",
                            event.event
                        ))),
                    }
                }
                Err(err) => Err(TransportError::Unreachable(format!("event stream: {err}"))),
            });
        Ok(Box::pin(SignsOfLife {
            events: stream,
            bytes_came,
        }))
    }

    async fn upload_attachment(
        &self,
        access_token: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Attachment, TransportError> {
        self.json(
            self.client
                .post(self.url("/v1/attachments"))
                .bearer_auth(access_token)
                .header(reqwest::header::CONTENT_TYPE, media_type)
                .body(bytes),
        )
        .await
    }

    async fn fetch_attachment(
        &self,
        access_token: &str,
        id: &str,
        size: PhotoSize,
        max_bytes: usize,
    ) -> Result<FetchedMedia, TransportError> {
        let path = match size {
            PhotoSize::Thumbnail => format!("/v1/attachments/{id}/thumbnail"),
            PhotoSize::Full => format!("/v1/attachments/{id}"),
        };
        let response = self
            .send(self.client.get(self.url(&path)).bearer_auth(access_token))
            .await?;
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_owned();
        let wire_bytes = response.content_length().unwrap_or(0);
        let data = read_capped_to(response, max_bytes).await?;
        Ok(FetchedMedia {
            media_type,
            wire_bytes: if wire_bytes == 0 {
                data.len() as u64
            } else {
                wire_bytes
            },
            data,
        })
    }

    fn report_link(&self, link: LinkQuality) {
        self.degraded
            .store(link == LinkQuality::Degraded, Ordering::Relaxed);
    }

    fn cannot_connect(&self) -> bool {
        self.relay.cannot_connect()
    }
}

/// Decodes a page of changes entry by entry.
pub fn decode_page(bytes: &[u8], wire_bytes: u64) -> Result<PulledPage, TransportError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawPage {
        changes: Vec<serde_json::Value>,
        next_cursor: String,
        has_more: bool,
        server_time: i64,
        #[serde(default)]
        deferred: Option<homedesk_protocol::Deferred>,
        resolved_days: Option<u32>,
    }
    let raw: RawPage = homedesk_protocol::decode(bytes)
        .map_err(|err| TransportError::Malformed(format!("changes page: {err}")))?;
    if raw.next_cursor.is_empty() || raw.next_cursor.len() > 256 {
        return Err(TransportError::Malformed(
            "changes page: next_cursor must be 1 to 256 characters".into(),
        ));
    }
    let mut changes = Vec::with_capacity(raw.changes.len());
    let mut skipped = Vec::new();
    for (index, value) in raw.changes.into_iter().enumerate() {
        match serde_json::from_value::<Change>(value) {
            Ok(change) => changes.push(change),
            Err(err) => skipped.push((index, err.to_string())),
        }
    }
    Ok(PulledPage {
        changes,
        skipped,
        next_cursor: raw.next_cursor,
        has_more: raw.has_more,
        server_time: raw.server_time,
        wire_bytes,
        deferred: raw.deferred,
        resolved_days: raw.resolved_days,
    })
}

/// Reads a body, refusing it as soon as it grows past [`MAX_ANSWER_BYTES`].
async fn read_capped(response: Response) -> Result<Vec<u8>, TransportError> {
    read_capped_to(response, MAX_ANSWER_BYTES).await
}

/// Reads a body, refusing it as soon as it grows past `limit` bytes.
async fn read_capped_to(response: Response, limit: usize) -> Result<Vec<u8>, TransportError> {
    let coded = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .is_some_and(|v| {
            v.as_bytes()
                .eq_ignore_ascii_case(coding::DICTIONARY_CODING.as_bytes())
        });
    let sent = response
        .extensions()
        .get::<SentBody>()
        .map(|sent| Arc::clone(&sent.0))
        .unwrap_or_else(|| Arc::from(&[][..]));
    let body = read_raw_capped(response, limit).await?;
    if !coded {
        return Ok(body);
    }
    coding::decode(&body, &sent, limit).map_err(|err| TransportError::Malformed(err.to_string()))
}

/// The event stream as the engine reads it: the events, and a heartbeat
/// (without a time) whenever bytes came that made no event: the
/// platform's comment heartbeats (`?heartbeat=comment`, 5 bytes where an
/// event was 18) say only that the stream is alive, and the engine
/// reconnects after three heartbeats' time without one.
struct SignsOfLife<S> {
    events: S,
    /// Set by every chunk of the body as it is read.
    bytes_came: Arc<AtomicBool>,
}

impl<S> futures_util::Stream for SignsOfLife<S>
where
    S: futures_util::Stream<Item = Result<ServerEvent, TransportError>> + Unpin,
{
    type Item = Result<ServerEvent, TransportError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        match self.events.poll_next_unpin(cx) {
            Poll::Ready(item) => {
                self.bytes_came.store(false, Ordering::Relaxed);
                Poll::Ready(item)
            }
            // The events' reader read everything there was and is waiting
            // (its waker is registered): bytes it took made no event.
            Poll::Pending if self.bytes_came.swap(false, Ordering::Relaxed) => {
                Poll::Ready(Some(Ok(ServerEvent::Heartbeat { server_time: None })))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

async fn read_raw_capped(response: Response, limit: usize) -> Result<Vec<u8>, TransportError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(TransportError::Malformed(format!(
            "answer larger than {limit} bytes"
        )));
    }
    let idle = response.extensions().get::<Idle>().map(|idle| idle.0);
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    loop {
        let next = match idle {
            Some(idle) => tokio::time::timeout(idle, stream.next())
                .await
                .map_err(|_| no_answer(idle))?,
            None => stream.next().await,
        };
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(classify)?;
        if body.len() + chunk.len() > limit {
            return Err(TransportError::Malformed(format!(
                "answer larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn check_version(response: &Response) -> Result<(), TransportError> {
    let Some(value) = response.headers().get(PROTOCOL_HEADER) else {
        // Proxies and captive portals answer without it; judge by status.
        return Ok(());
    };
    let theirs: ProtocolVersion = value
        .to_str()
        .map_err(|_| TransportError::Malformed(format!("{PROTOCOL_HEADER}: not text")))?
        .parse()
        .map_err(|err: homedesk_protocol::VersionError| {
            TransportError::Malformed(err.to_string())
        })?;
    PROTOCOL_VERSION
        .check_compatible(theirs)
        .map_err(|err| TransportError::Malformed(err.to_string()))
}

async fn error_answer(response: Response) -> TransportError {
    let status = response.status();
    let retry_after_secs = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = read_capped(response).await.unwrap_or_default();
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(err) => (
            serde_json::to_value(err.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            err.message,
        ),
        Err(_) => (
            String::new(),
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ),
    };
    match status {
        StatusCode::UNAUTHORIZED => TransportError::Unauthorized(message),
        StatusCode::GONE => TransportError::CursorExpired(message),
        StatusCode::TOO_MANY_REQUESTS if code == "too_many_attempts" => {
            TransportError::TooManyAttempts {
                retry_after_secs,
                message,
            }
        }
        StatusCode::TOO_MANY_REQUESTS => TransportError::Server {
            status: status.as_u16(),
            message,
        },
        s if s.is_server_error() => TransportError::Server {
            status: s.as_u16(),
            message,
        },
        s => TransportError::Refused {
            status: s.as_u16(),
            code,
            message,
        },
    }
}

/// A request whose answer stopped coming for `idle`: the link is gone.
fn no_answer(idle: Duration) -> TransportError {
    TransportError::Unreachable(format!(
        "the platform sent nothing for {} s",
        idle.as_secs_f32()
    ))
}

/// Sorts a reqwest failure into what the engine needs to know.
fn classify(err: reqwest::Error) -> TransportError {
    let mut detail = err.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&err);
    while let Some(cause) = source {
        if cause.downcast_ref::<rustls::Error>().is_some_and(|e| {
            matches!(
                e,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        }) {
            return TransportError::Certificate(cause.to_string());
        }
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    if detail.contains("invalid peer certificate") || detail.contains("UnknownIssuer") {
        return TransportError::Certificate(detail);
    }
    if err.is_decode() {
        return TransportError::Malformed(detail);
    }
    TransportError::Unreachable(detail)
}
