//! The error shape every endpoint answers with: `{"code", "message"}`.
//!
//! `code` is a closed set clients branch on; `message` is for people and
//! may change wording at any time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not JSON.
    InvalidJson,
    /// JSON, but a field is missing, unknown or of the wrong type.
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    UnsupportedProtocol,
    /// No or unknown credentials; wrong agent code or password.
    Unauthorized,
    /// The access token expired: refresh it.
    TokenExpired,
    /// The refresh token was already used; its family is revoked. Sign in again.
    TokenReused,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    /// The cursor is not one this platform gave out (or the log was reset):
    /// start again without a cursor.
    UnknownCursor,
    Internal,
    /// Shutting down or overloaded; retry later.
    Unavailable,
    /// Too many requests from one customer or address (the web chat's
    /// abuse limits); `Retry-After` says how many seconds to wait.
    RateLimited,
    /// Too many failed sign-ins for this agent code or from this address
    /// (429); `Retry-After` says how many seconds to wait. The password was
    /// not checked.
    TooManyAttempts,
    /// An uploaded photo is larger than `MAX_ATTACHMENT_BYTES` (413).
    AttachmentTooLarge,
    /// An uploaded photo is an empty file (400).
    EmptyAttachment,
    /// An uploaded photo is a JPEG, PNG or WebP by its first bytes but
    /// cannot be read: truncated or corrupt (422).
    InvalidImage,
    /// An uploaded photo has more than `MAX_ATTACHMENT_PIXELS` pixels by its
    /// header; it is refused before it is decoded (422).
    ImageTooManyPixels,
    /// A channel adapter reported a reply `failed` after it had reported it
    /// `delivered` (409); nothing changed.
    AlreadyDelivered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// `GET /v1/health` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// `ok`.
    pub status: String,
    pub version: String,
    pub protocol: String,
}
