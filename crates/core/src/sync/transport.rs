//! The [`Transport`] the sync engine talks to the platform through.
//!
//! [`super::HttpTransport`] is the real one (HTTPS, reqwest, rustls); the
//! sandbox's simulator and the tests' fault-injecting setups plug in here too.
//! A transport only moves and decodes messages; every decision (retry, back
//! off, refresh, fold back a conflict) is the engine's.

use std::future::Future;
use std::pin::Pin;

use futures_util::Stream;
use homedesk_protocol::{
    ActionBatch, ActionResult, Attachment, Change, ConversationRecord, ServerEvent, Session,
    SignIn, UnixMillis,
};

/// How the workstation judges its own link; stated on every request
/// (`Homedesk-Link: ok|degraded`) so the platform offers a degraded
/// workstation only asynchronous work, and chats again once it is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkQuality {
    Good,
    Degraded,
}

/// A page of the change log, each entry decoded on its own: one unreadable
/// entry is skipped with its reason instead of blocking every later change.
#[derive(Debug, Clone)]
pub struct PulledPage {
    pub changes: Vec<Change>,
    /// Entries that could not be read: (position in the page, reason).
    pub skipped: Vec<(usize, String)>,
    pub next_cursor: String,
    pub has_more: bool,
    pub server_time: UnixMillis,
    /// Bytes received for this page (compressed, as on the wire when known).
    pub wire_bytes: u64,
    /// What the page left out at [`PullKinds::WithoutArticles`]'s request.
    pub deferred: Option<homedesk_protocol::Deferred>,
    /// The sync scope's window for this agent's own resolved conversations
    /// (docs/decisions/0035-sync-scope.md); `None`: no window (supervisors).
    pub resolved_days: Option<u32>,
}

impl From<homedesk_protocol::ChangesPage> for PulledPage {
    /// A page that came strictly decoded (on a `changes` event): nothing
    /// skipped, no wire size of its own.
    fn from(page: homedesk_protocol::ChangesPage) -> PulledPage {
        PulledPage {
            changes: page.changes,
            skipped: Vec::new(),
            next_cursor: page.next_cursor,
            has_more: page.has_more,
            server_time: page.server_time,
            wire_bytes: 0,
            deferred: page.deferred,
            resolved_days: page.resolved_days,
        }
    }
}

/// Which entries a pull asks for: a metered link leaves knowledge-base
/// articles out and fetches them later (`except` / `only` of `/v1/changes`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PullKinds {
    #[default]
    All,
    WithoutArticles,
    OnlyArticles,
}

/// Which copy of a photo to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoSize {
    /// `GET /v1/attachments/{id}/thumbnail`: a JPEG of at most 30 KB.
    Thumbnail,
    /// `GET /v1/attachments/{id}`: the stored image.
    Full,
}

/// A photo as the platform sent it (not checked yet: the engine does that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMedia {
    /// The answer's `Content-Type`.
    pub media_type: String,
    pub data: Vec<u8>,
    /// Bytes received (compressed, as on the wire when known).
    pub wire_bytes: u64,
}

/// What a transport without photos (the practice simulator) answers.
fn no_photos() -> TransportError {
    TransportError::Refused {
        status: 404,
        code: "not_found".into(),
        message: "this platform keeps no photos".into(),
    }
}

pub type EventStream = Pin<Box<dyn Stream<Item = Result<ServerEvent, TransportError>> + Send>>;

/// Why a call to the platform did not give an answer the engine can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// 401: the token (or the password, at sign-in) was not accepted.
    #[error("not accepted by the platform: {0}")]
    Unauthorized(String),
    /// No answer: DNS, connect, reset, timeout, the link dropped mid-answer.
    #[error("platform unreachable: {0}")]
    Unreachable(String),
    /// The platform's certificate is not trusted (wrong CA file, wrong host).
    #[error("the platform's certificate is not trusted: {0}")]
    Certificate(String),
    /// 429 `too_many_attempts` at sign-in: too many failed sign-ins for this
    /// agent code or from this address; the platform did not check the
    /// password and takes none until `retry_after_secs` (its `Retry-After`).
    #[error("too many failed sign-ins: {message}")]
    TooManyAttempts {
        retry_after_secs: Option<u64>,
        message: String,
    },
    /// 5xx or another 429: the platform is there but cannot answer now.
    #[error("platform busy or failing (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    /// 410 on `/v1/changes`: the cursor is unknown (the platform's log was
    /// reset); pull again from the start.
    #[error("the platform no longer knows this sync position: {0}")]
    CursorExpired(String),
    /// Another 4xx: the request itself is refused; resending it unchanged
    /// will not help.
    #[error("refused by the platform (HTTP {status}, {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// An answer that does not follow the protocol (wrong JSON, too big,
    /// unknown protocol version).
    #[error("unreadable answer from the platform: {0}")]
    Malformed(String),
}

impl TransportError {
    /// The link itself failed (as opposed to the platform answering no).
    pub fn is_link_failure(&self) -> bool {
        matches!(
            self,
            TransportError::Unreachable(_) | TransportError::Server { .. }
        )
    }
}

/// Calls to the central platform. Implementations must be cheap to share
/// (`&self` everywhere) and must not retry on their own.
pub trait Transport: Send + Sync + 'static {
    fn sign_in(
        &self,
        request: &SignIn,
    ) -> impl Future<Output = Result<Session, TransportError>> + Send;

    fn refresh(
        &self,
        refresh_token: &str,
    ) -> impl Future<Output = Result<Session, TransportError>> + Send;

    fn push(
        &self,
        access_token: &str,
        batch: &ActionBatch,
    ) -> impl Future<Output = Result<Vec<ActionResult>, TransportError>> + Send;

    /// [`Transport::push`], asking for the first page of changes after
    /// `cursor` in the same answer (`POST /v1/actions?cursor=…`), the pull
    /// that follows a push. A transport that cannot sends the push alone
    /// and answers `None` (the engine then pulls).
    fn push_and_pull(
        &self,
        access_token: &str,
        batch: &ActionBatch,
        cursor: &str,
    ) -> impl Future<Output = Result<(Vec<ActionResult>, Option<PulledPage>), TransportError>> + Send
    {
        let _ = cursor;
        async move { Ok((self.push(access_token, batch).await?, None)) }
    }

    fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<PulledPage, TransportError>> + Send;

    /// [`Transport::pull`] of some kinds only. A transport that cannot
    /// filter sends everything and defers nothing, which is correct, only
    /// not thrifty.
    fn pull_kinds(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
        kinds: PullKinds,
    ) -> impl Future<Output = Result<PulledPage, TransportError>> + Send {
        let _ = kinds;
        self.pull(access_token, cursor, limit)
    }

    fn events(
        &self,
        access_token: &str,
    ) -> impl Future<Output = Result<EventStream, TransportError>> + Send;

    /// `POST /v1/attachments`: uploads a photo (its bytes as chosen); the
    /// platform's record of it. The same bytes twice give the same record.
    fn upload_attachment(
        &self,
        _access_token: &str,
        _media_type: &str,
        _bytes: Vec<u8>,
    ) -> impl Future<Output = Result<Attachment, TransportError>> + Send {
        async { Err(no_photos()) }
    }

    /// A photo's thumbnail or full image, at most `max_bytes`.
    fn fetch_attachment(
        &self,
        _access_token: &str,
        _id: &str,
        _size: PhotoSize,
        _max_bytes: usize,
    ) -> impl Future<Output = Result<FetchedMedia, TransportError>> + Send {
        async { Err(no_photos()) }
    }

    /// `GET /v1/conversations/{id}`: a conversation with its thread and
    /// customer, for one outside the sync scope (older history). A
    /// transport without a platform behind it has no history to give.
    fn fetch_conversation(
        &self,
        _access_token: &str,
        _id: &str,
    ) -> impl Future<Output = Result<ConversationRecord, TransportError>> + Send {
        async {
            Err(TransportError::Refused {
                status: 404,
                code: "not_found".into(),
                message: "no platform history here".into(),
            })
        }
    }

    /// `DELETE /v1/sessions`: ends the session family of `token` (an access
    /// or a refresh token) on the platform. A transport without sessions
    /// has nothing to end.
    fn end_session(&self, _token: &str) -> impl Future<Output = Result<(), TransportError>> + Send {
        async { Ok(()) }
    }

    /// The engine's judgement of the link changed; a transport that talks
    /// to the platform states it with every later request.
    fn report_link(&self, _link: LinkQuality) {}

    /// The platform's address takes no TCP connection right now (the last
    /// connect failed: the link is down, or the platform's process is). A
    /// try then costs one SYN, so the engine tries again within seconds;
    /// a platform that took the connection and did not answer gets the
    /// long backoff (decision 0049).
    fn cannot_connect(&self) -> bool {
        false
    }
}
