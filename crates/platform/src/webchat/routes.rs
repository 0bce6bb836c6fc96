//! The web chat's HTTP surface: the page and its two assets (embedded in
//! the binary, no build step), and the small JSON + SSE API the page calls
//! with its cookie. Every answer of the page carries a strict CSP (no
//! inline script or style, nothing from other origins); errors are the
//! platform's `{code, message}` and the page says them in the customer's
//! language by `code`.
//!
//! Limits are checked before any database work: one token from the IP
//! address's bucket for every request that creates or sends something or
//! opens a stream, and one from the customer's for every message.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, REFERRER_POLICY, RETRY_AFTER,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use homedesk_protocol::{EntityKind, ErrorCode, Record, ServerEvent};
use tokio::sync::broadcast::error::RecvError;

use super::{
    COOKIE as COOKIE_NAME, COOKIE_MAX_AGE_SECS, ChatCustomer, ChatMessage, ChatPost, ChatSession,
    ChatSnapshot, SeenReport, SessionRequest,
};
use crate::error::ApiError;
use crate::http::{Endpoints, JsonBody};
use crate::{Platform, now_ms};

type Shared = Arc<Platform>;

const PAGE: &str = include_str!("assets/chat.html");
const SCRIPT: &str = include_str!("assets/chat.js");
const STYLE: &str = include_str!("assets/chat.css");

/// Nothing but this origin's script, style, API and images (`blob:` for
/// the preview of a photo before it is sent); no framing, no forms to
/// elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' blob:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

const SESSION_BODY_LIMIT: usize = 4 * 1024;
const MESSAGE_BODY_LIMIT: usize = crate::http::INGRESS_BODY_LIMIT;
/// 100 ids of 128 characters, each written as JSON's `\uXXXX` escapes
/// (12 bytes for a character outside the BMP), still fit: a report the
/// OpenAPI file calls valid is never 413.
const SEEN_BODY_LIMIT: usize = 256 * 1024;

pub(crate) fn register(api: Endpoints) -> Endpoints {
    api.get("/chat/{queue}", page)
        .get("/chat/assets/chat.js", script)
        .get("/chat/assets/chat.css", style)
        .get("/chat/api/session", get_session)
        .post("/chat/api/session", SESSION_BODY_LIMIT, post_session)
        .get("/chat/api/events", events)
        .post("/chat/api/messages", MESSAGE_BODY_LIMIT, post_message)
        .post("/chat/api/seen", SEEN_BODY_LIMIT, post_seen)
        .post(
            "/chat/api/attachments",
            crate::attachments::routes::UPLOAD_READ_LIMIT,
            post_photo,
        )
        .get("/chat/api/attachments/{id}", get_photo)
        .get("/chat/api/attachments/{id}/thumbnail", get_thumbnail)
}

/// Headers every page and asset carries.
fn page_headers(content_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Small files: always ask, so an upgraded platform serves the new page.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers
}

/// Text for an HTML attribute or element.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page for one queue, its names filled in; a plain 404 page for a
/// queue this platform does not have.
async fn page(State(platform): State<Shared>, Path(queue): Path<String>) -> Response {
    let lookup = queue.clone();
    let found = platform
        .blocking(move |p| p.storage.read_with(|tx| tx.get(EntityKind::Queue, &lookup)))
        .await;
    match found {
        Ok(Some(Record::Queue(q))) => {
            let html = PAGE
                .replace("{{QUEUE}}", &html_escape(&q.id))
                .replace("{{NAME_ZH}}", &html_escape(&q.name_zh))
                .replace("{{NAME_EN}}", &html_escape(&q.name_en));
            (page_headers("text/html; charset=utf-8"), html).into_response()
        }
        Ok(_) => (
            StatusCode::NOT_FOUND,
            page_headers("text/html; charset=utf-8"),
            "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">\
             <title>找不到这个客服页面</title><p>找不到这个客服页面，请检查链接是否完整。</p>\
             <p lang=\"en\">There is no chat page at this address.</p></html>",
        )
            .into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}

async fn script() -> impl IntoResponse {
    (page_headers("text/javascript; charset=utf-8"), SCRIPT)
}

async fn style() -> impl IntoResponse {
    (page_headers("text/css; charset=utf-8"), STYLE)
}

/// The `Set-Cookie` value that gives (or renews) the customer token.
pub fn session_cookie(token: &str) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/chat; Max-Age={COOKIE_MAX_AGE_SECS}; HttpOnly; Secure; SameSite=Strict"
    )
}

/// The customer token from the `Cookie` header, if one is there.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
}

/// The address a request came from (set by the server for each connection).
fn peer(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |ConnectInfo(a)| a.ip().to_string())
}

/// A refusal for going over a limit: 429 with `Retry-After`.
struct RateLimited {
    retry_after_secs: u64,
    who: &'static str,
}

impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!(
                "too many requests from this {}; wait {} s and try again",
                self.who, self.retry_after_secs
            ),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&self.retry_after_secs.to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        response
    }
}

/// Why a customer's request was refused: a limit, or anything else.
enum Refused {
    Limited(RateLimited),
    Api(ApiError),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Limited(limited) => limited.into_response(),
            Refused::Api(error) => error.into_response(),
        }
    }
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Refused {
        Refused::Api(error)
    }
}

impl From<anyhow::Error> for Refused {
    fn from(error: anyhow::Error) -> Refused {
        Refused::Api(error.into())
    }
}

/// A token from the request address's bucket, or the 429 to answer.
struct IpAllowance;

impl FromRequestParts<Shared> for IpAllowance {
    type Rejection = RateLimited;

    async fn from_request_parts(
        parts: &mut Parts,
        platform: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let ip = peer(parts);
        match platform.webchat.per_ip.take(&ip, now_ms()) {
            Ok(()) => Ok(IpAllowance),
            Err(wait) => {
                platform
                    .metrics
                    .inc("homedesk_webchat_limited_total", "by=\"ip\"".into());
                Err(RateLimited {
                    retry_after_secs: wait,
                    who: "address",
                })
            }
        }
    }
}

/// The customer the request's cookie names.
struct Customer(ChatCustomer);

impl FromRequestParts<Shared> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        platform: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let no_session = || ApiError::unauthorized("no chat session: POST /chat/api/session first");
        let token = cookie_token(&parts.headers).ok_or_else(no_session)?;
        let customer = platform
            .blocking(move |p| {
                p.storage
                    .read_with(|tx| super::customer_for_token(tx, &token))
            })
            .await?;
        customer.map(Customer).ok_or_else(no_session)
    }
}

/// A token from the customer's own bucket, or the 429 to answer.
fn customer_allowance(platform: &Platform, customer: &ChatCustomer) -> Result<(), RateLimited> {
    platform
        .webchat
        .per_customer
        .take(&customer.customer_id, now_ms())
        .map_err(|wait| {
            platform
                .metrics
                .inc("homedesk_webchat_limited_total", "by=\"customer\"".into());
            RateLimited {
                retry_after_secs: wait,
                who: "customer",
            }
        })
}

/// `GET /chat/api/session`: who this browser is (renewing the cookie), or
/// 401 when it has no session yet.
async fn get_session(
    State(platform): State<Shared>,
    headers: HeaderMap,
    Customer(customer): Customer,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let hash = customer.token_hash.clone();
    platform
        .blocking(move |p| {
            p.storage
                .write_with(|tx| tx.touch_webchat_customer(&hash, None, now))
        })
        .await?;
    let token = cookie_token(&headers).unwrap_or_default();
    Ok((
        [(SET_COOKIE, session_cookie(&token))],
        axum::Json(ChatSession {
            name: customer.name,
        }),
    )
        .into_response())
}

/// `POST /chat/api/session`: a new customer (201 and the cookie), or a new
/// name for the one the cookie names (200).
async fn post_session(
    State(platform): State<Shared>,
    _allowed: IpAllowance,
    headers: HeaderMap,
    JsonBody(request): JsonBody<SessionRequest>,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let token = cookie_token(&headers);
    let answer = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                let existing = match &token {
                    Some(token) => super::customer_for_token(tx, token)?,
                    None => None,
                };
                Ok(match (existing, token) {
                    (Some(customer), Some(token)) => super::rename(tx, &customer, &request, now)?
                        .map(|c| (StatusCode::OK, token, c)),
                    _ => super::open_session(tx, &request, now)?
                        .map(|(token, c)| (StatusCode::CREATED, token, c)),
                })
            })
        })
        .await??;
    let (status, token, customer) = answer;
    if status == StatusCode::CREATED {
        platform
            .metrics
            .inc("homedesk_webchat_sessions_total", String::new());
    }
    Ok((
        status,
        [(SET_COOKIE, session_cookie(&token))],
        axum::Json(ChatSession {
            name: customer.name,
        }),
    )
        .into_response())
}

/// `POST /chat/api/messages`: the customer writes (201, or 200 for a
/// resend of a stored message).
async fn post_message(
    State(platform): State<Shared>,
    _allowed: IpAllowance,
    Customer(customer): Customer,
    JsonBody(post): JsonBody<ChatPost>,
) -> Result<Response, Refused> {
    customer_allowance(&platform, &customer).map_err(Refused::Limited)?;
    let now = now_ms();
    let (stored, latest) = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                let stored = super::post_message(tx, &customer, &post, now)?;
                Ok((stored, tx.latest_seq()?))
            })
        })
        .await?;
    let (message, duplicate) = stored?;
    if duplicate {
        return Ok((StatusCode::OK, axum::Json(message)).into_response());
    }
    platform.metrics.inc(
        "homedesk_ingress_total",
        format!("channel=\"{}\"", super::ADAPTER_ID),
    );
    platform.poke(latest);
    platform.reroute.notify_one();
    Ok((StatusCode::CREATED, axum::Json(message)).into_response())
}

/// `POST /chat/api/seen`: the page showed these agent replies.
async fn post_seen(
    State(platform): State<Shared>,
    Customer(customer): Customer,
    JsonBody(report): JsonBody<SeenReport>,
) -> Result<StatusCode, ApiError> {
    let now = now_ms();
    let (moved, latest) = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                let moved = super::confirm_shown(tx, &customer.customer_id, &report.ids, now)?;
                Ok((moved, tx.latest_seq()?))
            })
        })
        .await?;
    if moved? {
        platform.poke(latest);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /chat/api/attachments`: a photo from the customer (the raw file),
/// checked, re-encoded and stored by the same code as every upload
/// (`attachments::upload`); 201 with its record, 200 when the same photo was
/// stored before. Its id then goes with a message.
async fn post_photo(
    State(platform): State<Shared>,
    _allowed: IpAllowance,
    Customer(customer): Customer,
    request: axum::extract::Request,
) -> Result<Response, Refused> {
    customer_allowance(&platform, &customer).map_err(Refused::Limited)?;
    let bytes = crate::attachments::routes::read_upload(request.into_body()).await;
    let result = match bytes {
        Ok(bytes) => crate::attachments::upload(&platform, bytes).await,
        Err(refused) => Err(refused),
    };
    let outcome = match &result {
        Ok(accepted) if accepted.created => "stored",
        Ok(_) => "duplicate",
        Err(_) => "refused",
    };
    platform.metrics.inc(
        "homedesk_attachments_total",
        format!("by=\"customer\",result=\"{outcome}\""),
    );
    let accepted = result?;
    let status = if accepted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(accepted.attachment)).into_response())
}

/// A photo of the customer's own conversation (theirs or an agent's), or
/// 404 as if it did not exist.
async fn own_photo(
    platform: &Shared,
    customer: ChatCustomer,
    id: String,
    thumbnail: bool,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let photo = id.clone();
    let allowed = platform
        .blocking(move |p| {
            p.storage
                .read_with(|tx| super::may_see_photo(tx, &customer.customer_id, &photo))
        })
        .await?;
    if !allowed {
        return Err(ApiError::not_found(format!(
            "no photo {id:?} in this conversation"
        )));
    }
    crate::attachments::routes::serve(platform, id, thumbnail, headers).await
}

/// `GET /chat/api/attachments/{id}`: the full photo.
async fn get_photo(
    State(platform): State<Shared>,
    Customer(customer): Customer,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    own_photo(&platform, customer, id, false, &headers).await
}

/// `GET /chat/api/attachments/{id}/thumbnail`: its small JPEG.
async fn get_thumbnail(
    State(platform): State<Shared>,
    Customer(customer): Customer,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    own_photo(&platform, customer, id, true, &headers).await
}

/// The customer's conversation as the page should now show it, after
/// moving replies that were waiting for the page to `sent`.
async fn current_view(platform: &Shared, customer_id: &str) -> anyhow::Result<Vec<ChatMessage>> {
    let id = customer_id.to_owned();
    let (history, waiting) = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                let history = super::history(tx, &id)?;
                let waiting = !super::waiting(&history).is_empty();
                Ok((history, waiting))
            })
        })
        .await?;
    if !waiting {
        return Ok(super::views(&history));
    }
    let id = customer_id.to_owned();
    let now = now_ms();
    let (history, latest) = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                super::mark_sent(tx, &id, now)?;
                Ok((super::history(tx, &id)?, tx.latest_seq()?))
            })
        })
        .await?;
    // Workstations show the reply's new tick.
    platform.poke(latest);
    Ok(super::views(&history))
}

struct ChatStream {
    platform: Shared,
    customer_id: String,
    receiver: tokio::sync::broadcast::Receiver<crate::hub::Envelope>,
    stop: tokio::sync::watch::Receiver<bool>,
    shown: HashMap<String, ChatMessage>,
    pending: VecDeque<Event>,
}

fn json_event(name: &'static str, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_default())
}

impl ChatStream {
    /// Queues a `message` event for each message that is new or changed
    /// since the page was last sent it.
    async fn refresh(&mut self) {
        let view = match current_view(&self.platform, &self.customer_id).await {
            Ok(view) => view,
            Err(err) => {
                tracing::warn!("web chat: reading a customer's conversation failed: {err:#}");
                return;
            }
        };
        for message in view {
            if self.shown.get(&message.id) != Some(&message) {
                self.pending.push_back(json_event("message", &message));
                self.shown.insert(message.id.clone(), message);
            }
        }
    }
}

/// `GET /chat/api/events`: a `snapshot` of the conversation, then a
/// `message` event for each new message or changed state. Replies that
/// waited for the page become `sent` as they go out.
async fn events(
    State(platform): State<Shared>,
    _allowed: IpAllowance,
    Customer(customer): Customer,
) -> Result<impl IntoResponse, ApiError> {
    // Subscribe before reading, so nothing falls in between.
    let receiver = platform.hub.subscribe();
    let messages = current_view(&platform, &customer.customer_id).await?;
    let snapshot = ChatSnapshot {
        customer: ChatSession {
            name: customer.name.clone(),
        },
        messages: messages.clone(),
    };
    let state = ChatStream {
        platform: platform.clone(),
        customer_id: customer.customer_id,
        receiver,
        stop: platform.shutting_down.subscribe(),
        shown: messages.into_iter().map(|m| (m.id.clone(), m)).collect(),
        pending: VecDeque::from([json_event("snapshot", &snapshot)]),
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.pending.pop_front() {
                return Some((Ok::<Event, Infallible>(event), s));
            }
            if *s.stop.borrow() {
                return None;
            }
            tokio::select! {
                _ = s.stop.changed() => return None,
                received = s.receiver.recv() => match received {
                    Ok(envelope) => {
                        if matches!(envelope.event, ServerEvent::Changes { .. }) {
                            s.refresh().await;
                        }
                    }
                    // Missed some pokes: reading again catches up.
                    Err(RecvError::Lagged(_)) => s.refresh().await,
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    });
    Ok((
        [("X-Accel-Buffering", "no")],
        Sse::new(stream).keep_alive(KeepAlive::default()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_secure_strict_and_scoped_to_the_chat() {
        let cookie = session_cookie("abc");
        for part in [
            "hd_chat=abc",
            "Path=/chat",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Max-Age=7776000",
        ] {
            assert!(
                cookie.split("; ").any(|p| p == part),
                "{part} missing in {cookie}"
            );
        }
    }

    #[test]
    fn the_token_is_read_from_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; hd_chat=tok; b=2"));
        assert_eq!(cookie_token(&headers).as_deref(), Some("tok"));
        headers.insert(COOKIE, HeaderValue::from_static("hd_chatx=tok"));
        assert_eq!(cookie_token(&headers), None);
    }

    #[test]
    fn queue_names_are_escaped_into_the_page() {
        assert_eq!(
            html_escape(r#"<script>"x"&'y'"#),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;"
        );
    }

    #[test]
    fn the_script_never_writes_html() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!SCRIPT.contains(sink), "chat.js uses {sink}");
        }
        assert!(SCRIPT.contains("textContent"));
    }

    #[test]
    fn the_csp_allows_nothing_inline_and_nothing_from_elsewhere() {
        assert!(CSP.starts_with("default-src 'none';"));
        assert!(!CSP.contains("unsafe-inline"));
        assert!(!CSP.contains("unsafe-eval"));
        assert!(CSP.contains("connect-src 'self'"));
        assert!(CSP.contains("img-src 'self' blob:"));
    }
}
