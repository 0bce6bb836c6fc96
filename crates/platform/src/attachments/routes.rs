//! The photo endpoints: `POST /v1/attachments` (the image as the raw body),
//! `GET /v1/attachments/{id}` and `GET /v1/attachments/{id}/thumbnail`.
//!
//! A stored photo never changes (its id is its content's hash), so reads
//! are cached for a year by whoever fetched them, revalidate by ETag, and
//! are never sniffed into another type. A trainee reads only canned
//! replies' pictures, never a customer's photo.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use homedesk_protocol::{
    EntityKind, ErrorCode, MAX_ATTACHMENT_BYTES, Record, rules::is_attachment_id,
};

use crate::Platform;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::{Agent, bearer, link_report};

type Shared = Arc<Platform>;

/// Most of an upload the platform keeps in memory: a little over the
/// largest photo, so a file just over it is read and refused with its size
/// in the message.
pub const UPLOAD_BODY_LIMIT: usize = MAX_ATTACHMENT_BYTES + 64 * 1024;

/// Most of an upload the platform reads at all. A body over
/// [`UPLOAD_BODY_LIMIT`] is read to its end (and dropped) up to this size,
/// so the client hears 413 `attachment_too_large` instead of a connection
/// reset while it is still sending; a bigger one is cut off.
pub const UPLOAD_READ_LIMIT: usize = 16 * 1024 * 1024;

/// `Cache-Control` of a stored photo or thumbnail: it never changes.
pub const CACHE_FOREVER: &str = "private, max-age=31536000, immutable";

/// Who uploads a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uploader {
    /// A signed-in agent (a photo for a reply).
    Agent(Caller),
    /// A channel adapter (a customer's photo, before its ingress message).
    Channel,
}

/// Who may upload: a channel adapter with its own secret, or a
/// signed-in agent. The one place this is decided, so it follows how
/// adapters authenticate on `/v1/ingress`.
pub async fn uploader(platform: &Shared, parts: &mut Parts) -> Result<Uploader, ApiError> {
    bearer(parts)?;
    // The header's grammar holds whoever sends it (the operation lists it);
    // only an agent's statement is kept, by `Agent` below.
    link_report(parts)?;
    if crate::http::channel_adapter(platform, parts).await.is_ok() {
        return Ok(Uploader::Channel);
    }
    let Agent(caller) = Agent::from_request_parts(parts, platform).await?;
    Ok(Uploader::Agent(caller))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::AttachmentTooLarge,
        format!("the file is larger than a photo may be ({MAX_ATTACHMENT_BYTES} bytes, 5 MB)"),
    )
}

/// The upload's bytes, at most [`UPLOAD_BODY_LIMIT`] of them; anything
/// longer is read on to [`UPLOAD_READ_LIMIT`] and refused.
pub(crate) async fn read_upload(body: Body) -> Result<Bytes, ApiError> {
    let mut stream = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::invalid(format!("the body could not be read: {e}")))?;
        seen = seen.saturating_add(chunk.len());
        if seen <= UPLOAD_BODY_LIMIT {
            kept.extend_from_slice(&chunk);
        } else if seen > UPLOAD_READ_LIMIT {
            break;
        }
    }
    if seen > UPLOAD_BODY_LIMIT {
        return Err(too_large());
    }
    Ok(Bytes::from(kept))
}

pub async fn post_attachment(
    State(platform): State<Shared>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > UPLOAD_READ_LIMIT as u64) {
        return Err(too_large());
    }
    let who = uploader(&platform, &mut parts).await;
    // Read even a refused caller's body, so the refusal reaches them. The
    // bytes' real type decides, not Content-Type: any header is taken.
    let bytes = read_upload(body).await;
    let who = who?;
    let result = match bytes {
        Ok(bytes) => super::upload(&platform, bytes).await,
        Err(refused) => Err(refused),
    };
    let outcome = match &result {
        Ok(accepted) if accepted.created => "stored",
        Ok(_) => "duplicate",
        Err(_) => "refused",
    };
    let by = match who {
        Uploader::Agent(_) => "agent",
        Uploader::Channel => "channel",
    };
    platform.metrics.inc(
        "homedesk_attachments_total",
        format!("by=\"{by}\",result=\"{outcome}\""),
    );
    let accepted = result?;
    let status = if accepted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/attachments/{}", accepted.attachment.id);
    Ok((status, [(LOCATION, location)], Json(accepted.attachment)).into_response())
}

pub async fn get_image(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_trainee(&platform, caller, &id).await?;
    serve(&platform, id, false, &headers).await
}

pub async fn get_thumbnail(
    State(platform): State<Shared>,
    Agent(caller): Agent,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_trainee(&platform, caller, &id).await?;
    serve(&platform, id, true, &headers).await
}

/// A trainee sees no live conversation (`crate::visibility`), so no
/// customer's photo either: only the pictures of canned replies, which every
/// agent has. Anything else is "no such photo", as for an id never stored.
async fn check_trainee(platform: &Shared, caller: Caller, id: &str) -> Result<(), ApiError> {
    let photo = id.to_owned();
    let allowed = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                let Some(Record::AgentProfile(me)) =
                    tx.get(EntityKind::AgentProfile, &caller.agent)?
                else {
                    return Ok(false);
                };
                if me.role.works_live() {
                    return Ok(true);
                }
                Ok(tx.list(EntityKind::CannedReply)?.iter().any(|r| {
                    matches!(r, Record::CannedReply(reply)
                        if reply.attachment.as_ref().is_some_and(|a| a.id == photo))
                }))
            })
        })
        .await?;
    if allowed {
        Ok(())
    } else {
        Err(no_such_photo(id))
    }
}

fn no_such_photo(id: &str) -> ApiError {
    ApiError::not_found(format!("no photo {id:?} is stored on this platform"))
}

pub(crate) async fn serve(
    platform: &Shared,
    id: String,
    thumbnail: bool,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    if !is_attachment_id(&id) || id.starts_with(homedesk_protocol::LOCAL_ATTACHMENT_PREFIX) {
        return Err(no_such_photo(&id));
    }
    let etag = format!("\"{id}\"");
    let lookup = id.clone();
    let found = platform
        .blocking(move |p| {
            p.storage.read_with(|tx| {
                let Some(record) = tx.attachment(&lookup)? else {
                    return Ok(None);
                };
                Ok(tx
                    .attachment_bytes(&lookup, thumbnail)?
                    .map(|bytes| (record, bytes)))
            })
        })
        .await?;
    let Some((record, bytes)) = found else {
        return Err(no_such_photo(&id));
    };
    let media_type = if thumbnail {
        "image/jpeg"
    } else {
        record.media_type.as_str()
    };
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(bytes));
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_str(media_type).map_err(|_| ApiError::internal())?,
        );
        response
    };
    let stamped = response.headers_mut();
    stamped.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_FOREVER));
    stamped.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    stamped.insert(
        ETAG,
        HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?,
    );
    Ok(response)
}
