//! The HTTP surface: the one table of endpoints (held to docs/openapi.yaml by
//! `tests/openapi_routes.rs`), body and token extractors, and the layers every
//! request passes through (whole body read first, protocol header,
//! compression, metrics, panics).
//!
//! Handlers are thin: they read and check the request, run one domain
//! function in a storage transaction on a blocking thread, and then announce
//! what changed (event hub, routing). A request that is refused writes
//! nothing; bodies are refused before any database work.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State,
};
use axum::handler::Handler;
use axum::http::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LENGTH,
    CONTENT_TYPE, VARY,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use axum::{Json, Router};
use homedesk_protocol::{
    Action, ActionBatch, ActionResults, ActionStatus, ChangesPage, Channel, DecodeError,
    EntityKind, ErrorCode, Health, IngressMessage, MAX_ACTIONS_PER_BATCH, PROTOCOL_HEADER,
    PROTOCOL_VERSION, ProtocolVersion, Role, ServerEvent, coding, decode,
};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::hub::Addressee;
use crate::links::LinkReport;
use crate::pages::{self, Position};
use crate::storage::KindFilter;
use crate::{Platform, actions, ingress, now_ms};

type Shared = Arc<Platform>;

/// Body limits per endpoint. Where the schema bounds every string, the limit
/// holds any body the schema allows even with every character sent as a
/// JSON escape (12 bytes for one outside the BMP): a sign-in is at most
/// (64 + 128 + 1024) characters, an ingress message (128 + 128 + 100 + 64 +
/// 64 + 100 + 64 + 200 + 10 000) = 10 848 characters, 130 KB so escaped.
pub const SESSION_BODY_LIMIT: usize = 16 * 1024;
pub const ACTIONS_BODY_LIMIT: usize = 1024 * 1024;
pub const INGRESS_BODY_LIMIT: usize = 256 * 1024;

/// Page size of `/v1/changes` when none is asked, and the most it gives.
pub const DEFAULT_PAGE: usize = 500;
pub const MAX_PAGE: usize = 1000;

/// Header in which a workstation states its link, `ok` or `degraded` (slow
/// or flapping). The platform keeps the last statement for the agent's
/// connection; a request without the header leaves it as it was.
pub const LINK_HEADER: &str = "Homedesk-Link";

/// Reads [`LINK_HEADER`]: `None` when absent; any value other than exactly
/// `ok` or `degraded` is refused (the enum in docs/openapi.yaml).
pub fn link_report(parts: &Parts) -> Result<Option<LinkReport>, ApiError> {
    let Some(value) = parts.headers.get(LINK_HEADER) else {
        return Ok(None);
    };
    match value.as_bytes() {
        b"ok" => Ok(Some(LinkReport::Ok)),
        b"degraded" => Ok(Some(LinkReport::Degraded)),
        _ => Err(ApiError::invalid(format!(
            "{LINK_HEADER}: {value:?} is neither ok nor degraded"
        ))),
    }
}

/// Every endpoint, registered once: [`router`] serves them and
/// [`endpoints`] lists them, and `tests/openapi_routes.rs` holds
/// `docs/openapi.yaml` to that list (method and path, both ways). Routes are
/// added nowhere else (that test also checks the source), so a new endpoint
/// cannot reach clients undocumented.
pub(crate) struct Endpoints {
    router: Router<Shared>,
    listed: Vec<Endpoint>,
}

/// One endpoint of the table: method, path (`{name}` for a parameter) and
/// the most body bytes it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub body_limit: usize,
}

impl Endpoints {
    /// The web chat's routes (`webchat::routes::register`), in the same table.
    fn merge_webchat(self) -> Self {
        crate::webchat::routes::register(self)
    }

    fn new() -> Endpoints {
        Endpoints {
            router: Router::new(),
            listed: Vec::new(),
        }
    }

    fn add<H, T>(mut self, filter: MethodFilter, endpoint: Endpoint, handler: H) -> Self
    where
        H: Handler<T, Shared>,
        T: 'static,
    {
        let handler = handler.layer(DefaultBodyLimit::max(endpoint.body_limit));
        // The one place a route is added (see `tests/openapi_routes.rs`).
        self.router = self.router.route(endpoint.path, on(filter, handler));
        self.listed.push(endpoint);
        self
    }

    pub(crate) fn get<H: Handler<T, Shared>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        let endpoint = Endpoint {
            method: "GET",
            path,
            body_limit: IGNORED_BODY_LIMIT,
        };
        self.add(MethodFilter::GET, endpoint, handler)
    }

    fn delete<H: Handler<T, Shared>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        let endpoint = Endpoint {
            method: "DELETE",
            path,
            body_limit: IGNORED_BODY_LIMIT,
        };
        self.add(MethodFilter::DELETE, endpoint, handler)
    }

    /// A POST whose body may be at most `body_limit` bytes.
    pub(crate) fn post<H: Handler<T, Shared>, T: 'static>(
        self,
        path: &'static str,
        body_limit: usize,
        handler: H,
    ) -> Self {
        let endpoint = Endpoint {
            method: "POST",
            path,
            body_limit,
        };
        self.add(MethodFilter::POST, endpoint, handler)
    }
}

fn api() -> Endpoints {
    Endpoints::new()
        .get("/v1/health", health)
        .get("/metrics", metrics)
        .post("/v1/sessions", SESSION_BODY_LIMIT, crate::sessions::sign_in)
        .delete("/v1/sessions", crate::sessions::sign_out)
        .post(
            "/v1/sessions/refresh",
            SESSION_BODY_LIMIT,
            crate::sessions::refresh,
        )
        .get("/v1/changes", changes)
        .get("/v1/events", crate::events::events)
        .post("/v1/actions", ACTIONS_BODY_LIMIT, post_actions)
        .get(
            "/v1/conversations/{id}",
            crate::contact_records::get_conversation,
        )
        .post(
            "/v1/training-records",
            TRAINING_BODY_LIMIT,
            post_training_records,
        )
        .get("/v1/training-records", get_training_records)
        .get("/v1/team", get_team)
        .get("/v1/trainees", get_trainees)
        .post(
            "/v1/trainees/{code}/promote",
            PROMOTION_BODY_LIMIT,
            post_promotion,
        )
        .get("/v1/reports", get_reports)
        .post("/v1/ingress/{channel}", INGRESS_BODY_LIMIT, post_ingress)
        .post(
            "/v1/egress/{message_id}/delivered",
            crate::egress::REPORT_BODY_LIMIT,
            crate::egress::post_delivered,
        )
        .post(
            "/v1/egress/{message_id}/failed",
            crate::egress::REPORT_BODY_LIMIT,
            crate::egress::post_failed,
        )
        .post(
            "/v1/attachments",
            crate::attachments::routes::UPLOAD_READ_LIMIT,
            crate::attachments::routes::post_attachment,
        )
        .get(
            "/v1/attachments/{id}",
            crate::attachments::routes::get_image,
        )
        .get(
            "/v1/attachments/{id}/thumbnail",
            crate::attachments::routes::get_thumbnail,
        )
        .get(
            "/v1/updates/{target}/{arch}/{current_version}",
            crate::releases::routes::check,
        )
        .get(
            "/v1/updates/packages/{id}",
            crate::releases::routes::package,
        )
        .merge_webchat()
}

/// Every endpoint the router serves, in the order they were registered.
pub fn endpoints() -> Vec<Endpoint> {
    api().listed
}

pub fn router(platform: Shared) -> Router {
    let api = api();
    let limits: Arc<BodyLimits> = Arc::new(
        api.listed
            .iter()
            .map(|e| ((e.method, e.path), e.body_limit))
            .collect(),
    );
    api.router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            platform.clone(),
            count_requests,
        ))
        .layer(middleware::from_fn(protocol_header))
        .layer(middleware::from_fn(panic_probe))
        .layer(middleware::from_fn_with_state(limits, read_body_first))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .zstd(true)
                // Update packages go as they are stored: compressed already,
                // and Content-Length must be their size.
                .compress_when(
                    DefaultPredicate::new()
                        .and(NotForContentType::const_new("application/octet-stream")),
                ),
        )
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal().into_response()
        }))
        .with_state(platform)
}

/// Header that makes a debug build's request panic inside the stack, so
/// `tests/hardening.rs` can show a panic answers 500 and the server keeps
/// serving. Release builds ignore it (the check is compiled out).
pub const PANIC_PROBE_HEADER: &str = "Homedesk-Test-Panic";

async fn panic_probe(request: Request, next: Next) -> Response {
    if cfg!(debug_assertions) && request.headers().contains_key(PANIC_PROBE_HEADER) {
        panic!("{PANIC_PROBE_HEADER}: a handler panicked on purpose");
    }
    next.run(request).await
}

/// Most bytes read (and ignored) of a body sent to an endpoint that takes
/// none, or to no endpoint at all.
pub const IGNORED_BODY_LIMIT: usize = 64 * 1024;

/// Body limit of each (method, path) of the table.
type BodyLimits = std::collections::HashMap<(&'static str, &'static str), usize>;

fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        "the body is larger than this endpoint accepts (see docs/protocol.md, body limits)",
    )
}

/// Reads the whole body (up to the endpoint's limit) before anything may
/// refuse the request. A refusal sent while the client is still sending, or
/// with its body unread, makes hyper close the connection: the client then
/// sees a reset instead of the answer, or its next request on that
/// keep-alive connection fails (Schemathesis found it: a 401, or a 400 for a
/// bad header, was lost that way). Only a body over the limit is left unread.
async fn read_body_first(
    State(limits): State<Arc<BodyLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| {
            limits
                .get(&(request.method().as_str(), path.as_str()))
                .copied()
        })
        .unwrap_or(IGNORED_BODY_LIMIT);
    let (parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut read: Vec<u8> = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                return ApiError::invalid(format!("the body could not be read: {err}"))
                    .into_response();
            }
        };
        if read.len() + chunk.len() > limit {
            return payload_too_large().into_response();
        }
        read.extend_from_slice(&chunk);
    }
    let mut parts = parts;
    let read = match decode_request_body(&mut parts, read, limit) {
        Ok(read) => read,
        Err(refusal) => return refusal.into_response(),
    };
    let answer_coded = parts
        .headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(coding::accepts_dictionary_coding);
    let prefix = Bytes::from(read);
    let response = next
        .run(Request::from_parts(
            parts,
            axum::body::Body::from(prefix.clone()),
        ))
        .await;
    let mut response = if answer_coded {
        encode_answer(response, &prefix).await
    } else {
        response
    };
    // RFC 7694: request bodies may come in the dictionary coding.
    response.headers_mut().insert(
        ACCEPT_ENCODING,
        HeaderValue::from_static(coding::DICTIONARY_CODING),
    );
    response
}

/// The request's body as the handler should see it: a `homedesk-zstd1`
/// body decoded (to at most the endpoint's limit), any other coding refused.
fn decode_request_body(
    parts: &mut Parts,
    read: Vec<u8>,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let Some(encoding) = parts.headers.get(CONTENT_ENCODING) else {
        return Ok(read);
    };
    let encoding = encoding.to_str().unwrap_or("").trim();
    if encoding.eq_ignore_ascii_case("identity") {
        return Ok(read);
    }
    if !encoding.eq_ignore_ascii_case(coding::DICTIONARY_CODING) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            format!(
                "Content-Encoding {encoding:?}: request bodies are taken as they are or in {}",
                coding::DICTIONARY_CODING
            ),
        ));
    }
    let decoded = coding::decode(&read, b"", limit).map_err(|err| match err {
        coding::CodingError::TooLarge { .. } => payload_too_large(),
        coding::CodingError::Corrupt(_) => ApiError::invalid(err.to_string()),
    })?;
    parts.headers.remove(CONTENT_ENCODING);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(decoded.len()));
    Ok(decoded)
}

/// Most bytes of an answer in the dictionary coding. The dictionary helps
/// small bodies only; zstd with one compresses a big page a few percent
/// worse than without (its parameters suit the dictionary), so a larger
/// answer, or one of unknown size, goes by the ordinary zstd of the
/// compression layer.
const CODED_ANSWER_MAX: usize = 16 * 1024;

/// A JSON answer in `homedesk-zstd1`, against the request's own body: an
/// answer that repeats what the workstation sent refers to it.
async fn encode_answer(response: Response, request_body: &[u8]) -> Response {
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let small = axum::body::HttpBody::size_hint(response.body())
        .upper()
        .is_some_and(|size| size <= CODED_ANSWER_MAX as u64);
    if !json || !small || response.headers().contains_key(CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, CODED_ANSWER_MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!("an answer could not be read to code it: {err}");
            return ApiError::internal().into_response();
        }
    };
    let coded = coding::encode(&bytes, request_body);
    parts.headers.insert(
        CONTENT_ENCODING,
        HeaderValue::from_static(coding::DICTIONARY_CODING),
    );
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(coded.len()));
    parts
        .headers
        .append(VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, axum::body::Body::from(coded))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see docs/openapi.yaml")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "this endpoint does not take that method; see docs/openapi.yaml",
    )
}

/// Refuses other major protocol versions; stamps ours on every answer.
async fn protocol_header(request: Request, next: Next) -> Response {
    let theirs = request
        .headers()
        .get(PROTOCOL_HEADER)
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
    let mut response = match theirs {
        Some(theirs) => match theirs
            .parse::<ProtocolVersion>()
            .and_then(|v| PROTOCOL_VERSION.check_compatible(v))
        {
            Ok(()) => next.run(request).await,
            Err(err) => ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::UnsupportedProtocol,
                err.to_string(),
            )
            .into_response(),
        },
        None => next.run(request).await,
    };
    if let Ok(value) = HeaderValue::from_str(&PROTOCOL_VERSION.major.to_string()) {
        response.headers_mut().insert(PROTOCOL_HEADER, value);
    }
    response
}

async fn count_requests(State(platform): State<Shared>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    platform.metrics.inc(
        "homedesk_http_requests_total",
        format!(
            "route=\"{route}\",status=\"{}\"",
            response.status().as_u16()
        ),
    );
    response
}

/// A JSON body read with the endpoint's size limit; errors name the field.
/// Every body this API takes is a JSON object: serde would also read a
/// struct from an array of its fields in order (`[]` for one whose fields
/// all have defaults), which no client means and the OpenAPI file refuses.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let essence = v.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case("application/json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                payload_too_large()
            } else {
                ApiError::invalid(format!("the body could not be read: {rejection}"))
            }
        })?;
        match decode::<T>(&bytes) {
            Ok(_) if bytes.trim_ascii_start().first() != Some(&b'{') => {
                Err(ApiError::invalid("the body must be a JSON object"))
            }
            Ok(value) => Ok(JsonBody(value)),
            Err(DecodeError::Syntax(message)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidJson,
                format!("the body is not valid JSON: {message}"),
            )),
            Err(shape @ DecodeError::Shape { .. }) => Err(ApiError::invalid(shape.to_string())),
        }
    }
}

pub(crate) fn bearer(parts: &Parts) -> Result<String, ApiError> {
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("sign in first: send Authorization: Bearer <token>")
    })?;
    let text = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

/// The channel adapter making this request, by its secret
/// (`Authorization: Bearer <adapter secret>`).
pub async fn channel_adapter(
    platform: &Shared,
    parts: &Parts,
) -> Result<crate::storage::AdapterRow, ApiError> {
    let secret = bearer(parts).map_err(|_| {
        ApiError::unauthorized(
            "send the channel adapter's secret: Authorization: Bearer <secret from `homedesk-platform channel add`>",
        )
    })?;
    platform
        .blocking(move |p| {
            p.storage
                .read_with(|tx| crate::channels::authenticate(tx, &secret))
        })
        .await?
}

/// The signed-in agent making this request.
pub struct Agent(pub Caller);

impl FromRequestParts<Shared> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        platform: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let report = link_report(parts)?;
        let now = now_ms();
        let caller = platform
            .blocking(move |p| {
                p.storage
                    .read_with(|tx| auth::authenticate(tx, &token, now))
            })
            .await??;
        if platform.connections.seen(&caller.agent, report) {
            // Written by the links task, which reroutes if it matters.
            platform.links_changed.notify_one();
        }
        Ok(Agent(caller))
    }
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        protocol: PROTOCOL_VERSION.to_string(),
    })
}

/// `GET /metrics` needs the metrics token (`metrics_token`, else
/// `DATA_DIR/metrics-token`): the counters tell an outsider how busy the
/// platform is and how sign-ins fail.
async fn metrics(
    State(platform): State<Shared>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let allowed = match (&platform.settings.metrics_token, presented) {
        (Some(expected), Some(presented)) => crate::metrics::token_matches(expected, presented),
        _ => false,
    };
    if !allowed {
        return Err(ApiError::unauthorized(
            "send the metrics token: Authorization: Bearer <metrics_token, or DATA_DIR/metrics-token>",
        ));
    }
    let mut text = platform.metrics.render(platform.connections.open_streams());
    text.push_str(&format!(
        "# HELP homedesk_degraded_links Agents whose workstation says its link is degraded\n\
         # TYPE homedesk_degraded_links gauge\nhomedesk_degraded_links {}\n",
        platform.connections.degraded_links()
    ));
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}

/// `limit` of `/v1/changes`: any whole number of 1 or more (the schema's
/// `integer, minimum 1`), however many digits, clamped to [`MAX_PAGE`].
fn page_limit(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = text.trim_start_matches('0');
    if digits.is_empty() {
        return None;
    }
    Some(
        digits
            .parse::<usize>()
            .map_or(MAX_PAGE, |n| n.min(MAX_PAGE)),
    )
}

/// `only` and `except` of `/v1/changes`: comma-separated entity kinds. Every
/// part must name a kind: `except=` or `only=queue,` is a 400 like any other
/// word that is not a kind, since the contract lists kinds and nothing else
/// (the workstation leaves a parameter out rather than sending it empty).
fn kind_filter(only: Option<&String>, except: Option<&String>) -> Result<KindFilter, ApiError> {
    let parse = |name: &str, text: &str| -> Result<Vec<EntityKind>, ApiError> {
        let mut kinds = Vec::new();
        for part in text.split(',') {
            let kind = EntityKind::parse(part).ok_or_else(|| {
                ApiError::invalid(format!(
                    "{name}: {part:?} is not an entity kind ({})",
                    EntityKind::ALL.map(EntityKind::as_str).join(", ")
                ))
            })?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(kinds)
    };
    let only = only.map(|text| parse("only", text)).transpose()?;
    Ok(KindFilter {
        only,
        except: except
            .map(|text| parse("except", text))
            .transpose()?
            .unwrap_or_default(),
    })
}

fn unknown_cursor(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        ErrorCode::UnknownCursor,
        format!("{why}; drop the cursor and sync again from the start"),
    )
}

async fn changes(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<ChangesPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    if let Some(unknown) = query
        .keys()
        .find(|k| !["cursor", "limit", "only", "except"].contains(&k.as_str()))
    {
        return Err(ApiError::invalid(format!(
            "{unknown}: not a parameter of /v1/changes (cursor, limit, only, except)"
        )));
    }
    let kinds = kind_filter(query.get("only"), query.get("except"))?;
    let limit = match query.get("limit") {
        None => DEFAULT_PAGE,
        Some(text) => page_limit(text).ok_or_else(|| {
            ApiError::invalid(format!(
                "limit: {text:?} is not a whole number of 1 or more (pages hold at most {MAX_PAGE})"
            ))
        })?,
    };
    let cursor = query.get("cursor").cloned();
    let resolved_days = platform.settings.sync_resolved_days;
    let page = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                let position = match cursor.as_deref() {
                    // A first sync: everything up to the log's end now is
                    // judged as the PC's first look (`scope`).
                    None | Some("") => Position::First,
                    Some(cursor) => match pages::parse_cursor(tx, cursor)? {
                        Ok(position) => position,
                        Err(why) => return Ok(Err(unknown_cursor(why))),
                    },
                };
                match pages::page_for(tx, &caller.agent, resolved_days, position, &kinds, limit)? {
                    Some(page) => Ok(Ok(page)),
                    None => Ok(Err(ApiError::unauthorized("the agent no longer exists"))),
                }
            })
        })
        .await??;
    platform.metrics.add(
        "homedesk_changes_served_total",
        String::new(),
        page.changes.len() as u64,
    );
    Ok(Json(page))
}

async fn post_actions(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    JsonBody(batch): JsonBody<ActionBatch>,
) -> Result<Json<ActionResults>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    if let Some(unknown) = query.keys().find(|k| k.as_str() != "cursor") {
        return Err(ApiError::invalid(format!(
            "{unknown}: not a parameter of /v1/actions (cursor)"
        )));
    }
    let cursor = query.get("cursor").cloned();
    if batch.actions.is_empty() {
        return Err(ApiError::invalid("actions: the batch is empty"));
    }
    if batch.actions.len() > MAX_ACTIONS_PER_BATCH {
        return Err(ApiError::invalid(format!(
            "actions: {} actions; send at most {MAX_ACTIONS_PER_BATCH} per batch",
            batch.actions.len()
        )));
    }
    let now = now_ms();
    // Answering an offer, or a presence chosen (by the agent or their
    // supervisor), starts that agent's missed-offer count again.
    let answers: Vec<Option<String>> = batch
        .actions
        .iter()
        .map(|a| match &a.action {
            Action::AcceptOffer { .. } | Action::DeclineOffer { .. } | Action::Presence { .. } => {
                Some(caller.agent.clone())
            }
            Action::SetAgentPresence { agent, .. } => Some(agent.clone()),
            _ => None,
        })
        .collect();
    let agent = caller.agent.clone();
    let family = caller.family.clone();
    let (results, effects, head) = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                let (results, effects) =
                    actions::apply_batch(tx, &caller.agent, &batch.actions, now)?;
                for (result, answered) in results.iter().zip(&answers) {
                    if let Some(answered) = answered
                        && result.status == ActionStatus::Applied
                    {
                        crate::routing::offer_answered(tx, answered)?;
                    }
                }
                Ok((results, effects, tx.head()?))
            })
        })
        .await?;
    for result in &results {
        let status = match result.status {
            ActionStatus::Applied => "applied",
            ActionStatus::Duplicate => "duplicate",
            ActionStatus::Conflict => "conflict",
            ActionStatus::Rejected => "rejected",
        };
        platform
            .metrics
            .inc("homedesk_actions_total", format!("status=\"{status}\""));
    }
    if effects.changed {
        platform.poke_after_push(head, &family);
    }
    for (agent, offer_id) in effects.withdrawn {
        platform
            .metrics
            .inc("homedesk_offers_total", "outcome=\"withdrawn\"".into());
        platform.hub.send(
            Addressee::Agent(agent),
            ServerEvent::OfferWithdrawn { offer_id },
        );
    }
    if effects.reroute || effects.changed {
        platform.reroute.notify_one();
    }
    if effects.changed {
        // A reply may be waiting for its adapter's webhook.
        platform.wake_egress.notify_one();
    }
    // The pull that follows a push, in the same answer (protocol.md §6).
    let changes = match cursor {
        Some(cursor) => {
            let resolved_days = platform.settings.sync_resolved_days;
            platform
                .blocking(move |p| {
                    p.storage.read_with(|tx| {
                        let Ok(position) = pages::parse_cursor(tx, &cursor)? else {
                            // Not a cursor of this log: the workstation's own
                            // pull will say so; the push itself went well.
                            return Ok(None);
                        };
                        pages::page_for(
                            tx,
                            &agent,
                            resolved_days,
                            position,
                            &KindFilter::default(),
                            DEFAULT_PAGE,
                        )
                    })
                })
                .await?
        }
        None => None,
    };
    if let Some(page) = &changes {
        platform.metrics.add(
            "homedesk_changes_served_total",
            String::new(),
            page.changes.len() as u64,
        );
    }
    Ok(Json(ActionResults { results, changes }))
}

/// Biggest training upload: 50 records with their reports.
const TRAINING_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// A trainee's workstation reports practice results (idempotent by id).
async fn post_training_records(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    JsonBody(upload): JsonBody<homedesk_protocol::TrainingUpload>,
) -> Result<Json<homedesk_protocol::TrainingUploadResult>, ApiError> {
    crate::training::check(&upload)?;
    let now = now_ms();
    let result = platform
        .blocking(move |p| {
            p.storage
                .write_with(|tx| crate::training::store(tx, &caller.agent, &upload, now))
        })
        .await?;
    Ok(Json(result))
}

/// A trainer reads who is ready: `?trainee=CODE` (supervisors), or one's own.
async fn get_training_records(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<homedesk_protocol::TrainingRecords>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    if let Some(unknown) = query.keys().find(|k| *k != "trainee") {
        return Err(ApiError::invalid(format!(
            "{unknown}: not a parameter of /v1/training-records (trainee)"
        )));
    }
    let trainee = query.get("trainee").cloned();
    let records = platform
        .blocking(move |p| {
            p.storage
                .read_with(|tx| crate::training::read(tx, &caller.agent, trainee.as_deref()))
        })
        .await??;
    Ok(Json(homedesk_protocol::TrainingRecords { records }))
}

// ---------------------------------------------------------------- the team console

/// Biggest promotion: a list of queue ids.
pub const PROMOTION_BODY_LIMIT: usize = 16 * 1024;

/// Refuses a query parameter `endpoint` does not take.
fn only_params(
    query: &BTreeMap<String, String>,
    endpoint: &str,
    allowed: &[&str],
) -> Result<(), ApiError> {
    match query.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(unknown) => Err(ApiError::invalid(format!(
            "{unknown}: not a parameter of {endpoint} ({})",
            allowed.join(", ")
        ))),
    }
}

/// `utc_offset_minutes`: minutes east of UTC, -720 to 840; absent, China's.
fn utc_offset(query: &BTreeMap<String, String>) -> Result<i16, ApiError> {
    match query.get("utc_offset_minutes") {
        None => Ok(crate::console::DEFAULT_UTC_OFFSET_MINUTES),
        Some(text) => text
            .parse::<i16>()
            .map_err(|_| crate::console::offset_refusal(text))
            .and_then(crate::console::check_utc_offset),
    }
}

/// A required `YYYY-MM-DD` parameter.
fn local_date(
    query: &BTreeMap<String, String>,
    name: &str,
) -> Result<homedesk_protocol::LocalDate, ApiError> {
    let text = query.get(name).ok_or_else(|| {
        ApiError::invalid(format!(
            "{name}: required, a local day written YYYY-MM-DD (e.g. 2026-12-01)"
        ))
    })?;
    text.parse()
        .map_err(|why: String| ApiError::invalid(format!("{name}: {why}")))
}

/// `GET /v1/team`: a supervisor's agents and queues, live.
async fn get_team(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<homedesk_protocol::TeamView>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    only_params(&query, "/v1/team", &["utc_offset_minutes"])?;
    let offset = utc_offset(&query)?;
    let now = now_ms();
    let view = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                let me = match crate::console::caller_with_role(
                    tx,
                    &caller.agent,
                    &[Role::Supervisor],
                    "the team view",
                )? {
                    Ok(me) => me,
                    Err(refused) => return Ok(Err(refused)),
                };
                Ok(Ok(crate::console::team(tx, &me, now, offset)?))
            })
        })
        .await??;
    Ok(Json(view))
}

/// `GET /v1/trainees`: every trainee's progress, for trainers and supervisors.
async fn get_trainees(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<homedesk_protocol::TraineesView>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    only_params(&query, "/v1/trainees", &[])?;
    let now = now_ms();
    let view = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                if let Err(refused) = crate::console::caller_with_role(
                    tx,
                    &caller.agent,
                    &[Role::Trainer, Role::Supervisor],
                    "trainees' progress",
                )? {
                    return Ok(Err(refused));
                }
                Ok(Ok(crate::console::trainees(tx, now)?))
            })
        })
        .await??;
    Ok(Json(view))
}

/// `POST /v1/trainees/{code}/promote`: a trainee with a passed exam goes
/// live (trainers and supervisors; audited).
async fn post_promotion(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    Path(code): Path<String>,
    JsonBody(promotion): JsonBody<homedesk_protocol::Promotion>,
) -> Result<Json<homedesk_protocol::RoleChange>, ApiError> {
    if code.is_empty() || code.chars().count() > 128 {
        return Err(ApiError::invalid("code: 1 to 128 characters"));
    }
    let now = now_ms();
    let (change, latest) = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                let change = match crate::console::caller_with_role(
                    tx,
                    &caller.agent,
                    &[Role::Trainer, Role::Supervisor],
                    "promoting a trainee",
                )? {
                    Ok(me) => crate::console::promote(tx, &me, &code, &promotion, now)?,
                    Err(refused) => Err(refused),
                };
                Ok((change, tx.latest_seq()?))
            })
        })
        .await?;
    let change = change?;
    tracing::info!(
        agent = change.agent,
        by = change.changed_by,
        queues = ?change.queues,
        "a trainee was promoted to agent"
    );
    // Everyone's PC gets the new profile; routing may offer them work now.
    platform.poke(latest);
    platform.reroute.notify_one();
    Ok(Json(change))
}

/// `GET /v1/reports`: per agent and day, as JSON or (`format=csv`) as a
/// CSV file for the centre's payroll.
async fn get_reports(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    only_params(
        &query,
        "/v1/reports",
        &["from", "to", "utc_offset_minutes", "format"],
    )?;
    let from = local_date(&query, "from")?;
    let to = local_date(&query, "to")?;
    let offset = utc_offset(&query)?;
    let csv = match query.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "format: {other:?} is neither json nor csv"
            )));
        }
    };
    let reports = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                let me = match crate::console::caller_with_role(
                    tx,
                    &caller.agent,
                    &[Role::Supervisor],
                    "the reports",
                )? {
                    Ok(me) => me,
                    Err(refused) => return Ok(Err(refused)),
                };
                // After the role: an agent hears the reports are not theirs,
                // whatever days they asked for.
                if let Err(refused) = crate::console::check_report_days(from, to) {
                    return Ok(Err(refused));
                }
                Ok(Ok(crate::console::reports(tx, &me, from, to, offset)?))
            })
        })
        .await??;
    if !csv {
        return Ok(Json(reports).into_response());
    }
    let disposition = format!("attachment; filename=\"homedesk-report-{from}-{to}.csv\"");
    Ok((
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
        ],
        reports.to_csv(),
    )
        .into_response())
}

async fn post_ingress(
    State(platform): State<Shared>,
    Path(channel): Path<String>,
    request: Request,
) -> Result<(StatusCode, Json<homedesk_protocol::IngressAccepted>), ApiError> {
    let (parts, body) = request.into_parts();
    let adapter = channel_adapter(&platform, &parts).await?;
    let channel = match channel.as_str() {
        "chat" => Channel::Chat,
        "phone" => Channel::Phone,
        "ticket" => Channel::Ticket,
        other => {
            return Err(ApiError::invalid(format!(
                "channel: {other:?} is not chat, phone or ticket"
            )));
        }
    };
    let JsonBody(message) =
        JsonBody::<IngressMessage>::from_request(Request::from_parts(parts, body), &()).await?;
    let now = now_ms();
    let (accepted, head) = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                let accepted = ingress::accept(tx, &adapter.id, channel, &message, now)?;
                Ok((accepted, tx.head()?))
            })
        })
        .await?;
    let accepted = accepted?;
    platform.metrics.inc(
        "homedesk_ingress_total",
        format!("channel=\"{}\"", channel.as_str()),
    );
    if !accepted.duplicate {
        platform.poke_head(head);
        platform.reroute.notify_one();
    }
    Ok((StatusCode::CREATED, Json(accepted)))
}
