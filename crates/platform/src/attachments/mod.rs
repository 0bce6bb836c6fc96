//! Photos that messages carry: what the platform accepts, how it keeps
//! them, and how a message names them.
//!
//! An upload is checked and re-encoded in [`reencode`] (no database
//! involved, so the work never holds the write lock), then stored in the
//! platform database under the hex SHA-256 of the stored bytes, with its
//! thumbnail (decision 0022). Invariants: every stored photo went through
//! [`reencode`], so it carries no metadata and is at most
//! `MAX_ATTACHMENT_BYTES`; the same bytes are stored once; a message only
//! ever carries the platform's own [`Attachment`] record of a stored photo
//! ([`resolve`]), never what a client claimed about it.
//!
//! Entry points: [`prepare`] + [`store`] for a caller that wants the photo
//! in its own transaction, [`accept`] for a plain thread, [`upload`] from
//! an async handler (bounded so photos cannot take every core).

pub mod reencode;
pub mod routes;

use std::sync::Arc;

use axum::http::StatusCode;
use homedesk_protocol::{Attachment, ErrorCode, UnixMillis};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::storage::{Storage, Tx};
use crate::{Platform, now_ms};

pub use reencode::Refused;

/// A photo ready to store: its record, its bytes and its thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub attachment: Attachment,
    pub image: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// A photo the platform holds, and whether this upload was the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub attachment: Attachment,
    /// `false` when the same photo was stored before (nothing written).
    pub created: bool,
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> ApiError {
        let (status, code) = match refused {
            Refused::Empty => (StatusCode::BAD_REQUEST, ErrorCode::EmptyAttachment),
            Refused::TooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::AttachmentTooLarge)
            }
            Refused::NotAnImage => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            Refused::TooManyPixels { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ImageTooManyPixels,
            ),
            Refused::Unreadable { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidImage)
            }
        };
        ApiError::new(status, code, refused.to_string())
    }
}

/// The hex SHA-256 of `bytes`: a stored photo's id.
pub fn content_address(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks and re-encodes an upload (CPU work, no database): run it on a
/// blocking thread, outside any transaction.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, ApiError> {
    let photo = reencode::reencode(bytes)?;
    let size = u32::try_from(photo.image.len()).map_err(|_| {
        ApiError::from(Refused::TooLarge {
            size: photo.image.len(),
        })
    })?;
    Ok(Prepared {
        attachment: Attachment {
            id: content_address(&photo.image),
            media_type: photo.media_type.as_str().to_owned(),
            bytes: size,
            width: photo.width,
            height: photo.height,
        },
        image: photo.image,
        thumbnail: photo.thumbnail,
    })
}

/// Stores a prepared photo unless the same bytes are stored already.
/// Returns the stored record (the first one's, for a repeat).
pub fn store(tx: &mut dyn Tx, prepared: &Prepared, now: UnixMillis) -> anyhow::Result<Accepted> {
    let created = tx.insert_attachment(
        &prepared.attachment,
        &prepared.image,
        &prepared.thumbnail,
        now,
    )?;
    let attachment = match tx.attachment(&prepared.attachment.id)? {
        Some(stored) => stored,
        None => anyhow::bail!(
            "attachment {} vanished after storing",
            prepared.attachment.id
        ),
    };
    Ok(Accepted {
        attachment,
        created,
    })
}

/// [`prepare`] then [`store`] in a write transaction of its own. Blocking:
/// call it from a blocking thread.
pub fn accept(storage: &dyn Storage, bytes: &[u8], now: UnixMillis) -> Result<Accepted, ApiError> {
    let prepared = prepare(bytes)?;
    Ok(storage.write_with(|tx| store(tx, &prepared, now))?)
}

/// [`accept`] from an async handler: at most [`PHOTO_WORKERS`] photos are
/// decoded at once (each may take hundreds of megabytes and a core), the
/// rest wait their turn.
pub async fn upload(
    platform: &Arc<Platform>,
    bytes: axum::body::Bytes,
) -> Result<Accepted, ApiError> {
    let _permit = platform
        .photo_work
        .acquire()
        .await
        .map_err(|_| ApiError::internal())?;
    let now = now_ms();
    platform
        .blocking(move |p| Ok(accept(p.storage.as_ref(), &bytes, now)))
        .await?
}

/// How many photos the platform decodes at once.
pub const PHOTO_WORKERS: usize = 2;

/// The platform's own records of the photos `ids` name, in order, or the
/// first id it does not hold.
pub fn resolve(tx: &mut dyn Tx, ids: &[&str]) -> anyhow::Result<Result<Vec<Attachment>, String>> {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        match tx.attachment(id)? {
            Some(attachment) => found.push(attachment),
            None => return Ok(Err((*id).to_owned())),
        }
    }
    Ok(Ok(found))
}
