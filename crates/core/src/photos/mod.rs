//! Photos on the workstation: the rules the desk, the sync engine and the
//! shell's media scheme share (docs/decisions/0025-workstation-photos.md).
//!
//! - **Thumbnails only by default.** After each pull the sync fetches the
//!   thumbnails (≤ 30 KB) of the photos in the agent's open conversations,
//!   at most [`THUMBNAILS_PER_SYNC`] per round; the full image is fetched
//!   only when the agent opens it, then kept.
//! - **A bounded cache** of [`CACHE_BUDGET_BYTES`]: over it, the least
//!   recently used full images go first; a thumbnail of an open
//!   conversation and a photo still waiting to be sent never go
//!   ([`crate::store::attachments::evict`]).
//! - **What the webview may ask for** ([`MediaRequest::parse`]):
//!   `thumb/{id}`, `full/{id}` and `local/{id}` under the custom scheme
//!   [`MEDIA_SCHEME`], the id checked with
//!   [`homedesk_protocol::rules::is_attachment_id`]. The shell only hands
//!   the path over and writes back the [`MediaAnswer`].
//! - **A photo the agent chooses** ([`check_local`]): JPEG, PNG or WebP by
//!   its bytes, at most [`MAX_ATTACHMENT_BYTES`] and
//!   [`MAX_ATTACHMENT_PIXELS`] (the platform's limits, `ActionLimits`),
//!   kept under `local-<sha256>` until the outbox uploads it.

pub mod sniff;

use homedesk_protocol::rules::is_attachment_id;
use homedesk_protocol::{
    Attachment, LOCAL_ATTACHMENT_PREFIX, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_PIXELS,
};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::store::attachments::{Blob, Variant};

/// The custom URI scheme the shell serves photos under:
/// `homedesk-media://localhost/thumb/{id}` on Linux and macOS,
/// `http://homedesk-media.localhost/thumb/{id}` on Windows.
pub const MEDIA_SCHEME: &str = "homedesk-media";

/// Most bytes of photos kept on a PC (256 MiB): a few hundred opened
/// photos, and thousands of thumbnails.
pub const CACHE_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// Most thumbnails one sync round fetches; more wait for the next round
/// (which follows at once), so a long offline spell does not hold up the
/// first sync behind a hundred photos.
pub const THUMBNAILS_PER_SYNC: usize = 40;

/// After this many refusals the sync stops asking for a thumbnail (the
/// thread still asks when it is shown).
pub const MAX_REFUSALS: i64 = 3;

/// Which copy of a photo the webview asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Thumb,
    Full,
    Local,
}

impl MediaKind {
    pub fn variant(self) -> Variant {
        match self {
            MediaKind::Thumb => Variant::Thumb,
            MediaKind::Full => Variant::Full,
            MediaKind::Local => Variant::Local,
        }
    }
}

/// A request of the webview under [`MEDIA_SCHEME`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRequest {
    pub kind: MediaKind,
    pub id: String,
}

impl MediaRequest {
    /// Reads the path of a media URL: `/thumb/{id}`, `/full/{id}` or
    /// `/local/{id}` (the slash may come percent-encoded, as Tauri's
    /// `convertFileSrc` writes it); a query string is ignored. A local id
    /// only under `local/`, a platform id only under the others.
    pub fn parse(path: &str) -> Result<MediaRequest, MediaError> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = path.trim_start_matches('/');
        let path = path.replacen("%2F", "/", 1).replacen("%2f", "/", 1);
        let bad = || {
            MediaError::BadRequest(format!(
                "{path:?} is not thumb/, full/ or local/ and a photo id"
            ))
        };
        let (kind, id) = path.split_once('/').ok_or_else(bad)?;
        let kind = match kind {
            "thumb" => MediaKind::Thumb,
            "full" => MediaKind::Full,
            "local" => MediaKind::Local,
            _ => return Err(bad()),
        };
        let local = id.starts_with(LOCAL_ATTACHMENT_PREFIX);
        if !is_attachment_id(id) || local != (kind == MediaKind::Local) {
            return Err(bad());
        }
        Ok(MediaRequest {
            kind,
            id: id.to_owned(),
        })
    }
}

/// Why a photo could not be given to the webview.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("not a photo address: {0}")]
    BadRequest(String),
    #[error("no such photo: {0}")]
    NotFound(String),
    /// Not on this PC and the platform cannot be reached now: worth a retry.
    #[error("the photo cannot be fetched now: {0}")]
    Unavailable(String),
    /// Locked screen, nobody signed in.
    #[error("{0}")]
    Forbidden(String),
    #[error("local store: {0}")]
    Store(String),
}

/// What the shell writes back for a media request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaAnswer {
    pub status: u16,
    pub content_type: String,
    pub cache_control: &'static str,
    pub body: Vec<u8>,
}

impl MediaAnswer {
    pub fn of(result: Result<Blob, MediaError>) -> MediaAnswer {
        let error = match result {
            Ok(blob) => {
                return MediaAnswer {
                    status: 200,
                    content_type: blob.media_type,
                    // Content-addressed: the bytes under an id never change.
                    cache_control: "private, max-age=31536000, immutable",
                    body: blob.data,
                };
            }
            Err(error) => error,
        };
        let status = match &error {
            MediaError::BadRequest(_) => 400,
            MediaError::Forbidden(_) => 403,
            MediaError::NotFound(_) => 404,
            MediaError::Unavailable(_) => 503,
            MediaError::Store(_) => 500,
        };
        MediaAnswer {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            // A failure must not stick: the retry asks again.
            cache_control: "no-store",
            body: error.to_string().into_bytes(),
        }
    }
}

impl From<Error> for MediaError {
    fn from(err: Error) -> Self {
        match err {
            Error::Locked | Error::NotSignedIn => MediaError::Forbidden(err.to_string()),
            other => MediaError::Store(other.to_string()),
        }
    }
}

/// Checks a photo the agent chose, by its bytes, against the platform's
/// limits; the [`Attachment`] it will travel as until it is uploaded.
pub fn check_local(bytes: &[u8]) -> Result<Attachment, Error> {
    const MB: usize = 1024 * 1024;
    if bytes.is_empty() {
        return Err(Error::PhotoUnsupported("the file is empty".into()));
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(Error::PhotoTooLarge(format!(
            "the photo is {:.1} MB; at most {} MB can be sent",
            bytes.len() as f64 / MB as f64,
            MAX_ATTACHMENT_BYTES / MB
        )));
    }
    let Some(info) = sniff::inspect(bytes) else {
        return Err(Error::PhotoUnsupported(
            "the file is not a JPEG, PNG or WebP image (or its header is damaged)".into(),
        ));
    };
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels > MAX_ATTACHMENT_PIXELS {
        return Err(Error::PhotoTooLarge(format!(
            "the photo is {}×{} pixels; at most {} megapixels can be sent",
            info.width,
            info.height,
            MAX_ATTACHMENT_PIXELS / 1_000_000
        )));
    }
    Ok(Attachment {
        id: local_id(bytes),
        media_type: info.media_type.to_owned(),
        bytes: bytes.len() as u32,
        width: info.width,
        height: info.height,
    })
}

/// `local-` and the hex SHA-256 of the file.
pub fn local_id(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{LOCAL_ATTACHMENT_PREFIX}{hex}")
}

#[cfg(test)]
mod tests {
    use super::sniff::tests::{jpeg_header, png_header};
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn media_paths_name_a_kind_and_a_well_formed_id() {
        let id = "ab".repeat(32);
        let local = format!("local-{}", "cd".repeat(32));
        assert_eq!(
            MediaRequest::parse(&format!("/thumb/{id}")),
            Ok(MediaRequest {
                kind: MediaKind::Thumb,
                id: id.clone()
            })
        );
        assert_eq!(
            MediaRequest::parse(&format!("/full%2F{id}?retry=2")).map(|r| r.kind),
            Ok(MediaKind::Full),
            "as convertFileSrc writes it, with a retry counter"
        );
        assert_eq!(
            MediaRequest::parse(&format!("/local/{local}")).map(|r| r.id),
            Ok(local.clone())
        );
        for bad in [
            "/thumb/../../etc/passwd".to_owned(),
            format!("/thumb/{local}"),
            format!("/local/{id}"),
            format!("/other/{id}"),
            format!("/thumb/{}", "AB".repeat(32)),
            "/".to_owned(),
            String::new(),
        ] {
            assert!(
                matches!(MediaRequest::parse(&bad), Err(MediaError::BadRequest(_))),
                "{bad:?} is refused"
            );
        }
    }

    #[test]
    fn answers_carry_the_type_or_a_status_that_is_never_cached() {
        let ok = MediaAnswer::of(Ok(Blob {
            media_type: "image/jpeg".into(),
            data: vec![1, 2, 3],
        }));
        assert_eq!((ok.status, ok.content_type.as_str()), (200, "image/jpeg"));
        let offline = MediaAnswer::of(Err(MediaError::Unavailable("link down".into())));
        assert_eq!(offline.status, 503);
        assert_eq!(offline.cache_control, "no-store", "a retry must ask again");
        assert_eq!(
            MediaAnswer::of(Err(MediaError::Forbidden("locked".into()))).status,
            403
        );
    }

    #[test]
    fn a_chosen_photo_is_checked_by_its_bytes_against_the_platform_limits() {
        let photo = check_local(&jpeg_header(800, 600)).expect("a JPEG header is enough here");
        assert!(photo.id.starts_with("local-") && is_attachment_id(&photo.id));
        assert_eq!(
            (photo.media_type.as_str(), photo.width, photo.height),
            ("image/jpeg", 800, 600)
        );
        let refused = |bytes: &[u8]| check_local(bytes).expect_err("refused").code();
        assert_eq!(refused(b""), ErrorCode::PhotoUnsupported, "empty");
        assert_eq!(
            refused(b"MZ\x90\0 this is a renamed .exe"),
            ErrorCode::PhotoUnsupported
        );
        assert_eq!(
            refused(&png_header(30_000, 30_000)),
            ErrorCode::PhotoTooLarge,
            "900 megapixels"
        );
        let mut big = png_header(100, 100);
        big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
        let err = check_local(&big).expect_err("over 5 MB");
        assert_eq!(err.code(), ErrorCode::PhotoTooLarge);
        assert!(err.to_string().contains("5 MB"), "{err}");
    }
}
