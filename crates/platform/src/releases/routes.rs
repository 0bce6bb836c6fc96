//! The updater's two endpoints, open to anyone who reaches the platform
//! (packages are signed; decision 0027):
//! `GET /v1/updates/{target}/{arch}/{current_version}?bundle_type=deb`
//! answers 204 when nothing newer is published, else the manifest; and
//! `GET /v1/updates/packages/{id}` sends a package, after checking its
//! stored bytes against their SHA-256, with one byte range when asked (a
//! village link that drops can resume) and never compressed.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, HOST, IF_NONE_MATCH, IF_RANGE, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use homedesk_protocol::ErrorCode;
use sha2::{Digest, Sha256};

use super::{ARCHES, Bundle, Target};
use crate::Platform;
use crate::error::ApiError;
use crate::storage::{RELEASE_CHUNK_BYTES, ReleaseRow};

type Shared = Arc<Platform>;

/// The updater's `{{target}}` values (its operating systems).
pub const OPERATING_SYSTEMS: [&str; 3] = ["linux", "windows", "darwin"];
/// The updater's `{{bundle_type}}` values; only `deb` and `rpm` are served.
pub const BUNDLE_TYPES: [&str; 7] = ["deb", "rpm", "appimage", "app", "msi", "nsis", "unknown"];

/// `Cache-Control` of a package: its URL names its bytes' hash, so it never
/// changes; `no-transform` keeps proxies from compressing it.
const PACKAGE_CACHE: &str = "public, max-age=31536000, immutable, no-transform";

/// Where the package of release `id` is, as the asking workstation reaches
/// this platform: the request's `Host` (HTTP/1.1) or its authority (HTTP/2
/// has no `Host` header), over https (the platform serves nothing else;
/// decision 0027).
fn package_url(headers: &HeaderMap, uri: &axum::http::Uri, id: &str) -> Result<String, ApiError> {
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    let bad = || {
        ApiError::invalid(format!(
            "Host: {host:?} is not a host name (and port) this platform can give as a download address"
        ))
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || host.len() > 255 || !host.chars().all(allowed) {
        return Err(bad());
    }
    let url =
        url::Url::parse(&format!("https://{host}/v1/updates/packages/{id}")).map_err(|_| bad())?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(url.into())
}

pub async fn check(
    State(platform): State<Shared>,
    Path((os, arch, current)): Path<(String, String, String)>,
    query: Result<Query<BTreeMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    if let Some(unknown) = query.keys().find(|k| *k != "bundle_type") {
        return Err(ApiError::invalid(format!(
            "{unknown}: not a parameter of /v1/updates (bundle_type)"
        )));
    }
    if !OPERATING_SYSTEMS.contains(&os.as_str()) {
        return Err(ApiError::invalid(format!(
            "target: {os:?} is not one of {}",
            OPERATING_SYSTEMS.join(", ")
        )));
    }
    let Some(arch) = ARCHES.iter().find(|a| **a == arch) else {
        return Err(ApiError::invalid(format!(
            "arch: {arch:?} is not one of {}",
            ARCHES.join(", ")
        )));
    };
    let current = super::parse_version(&current)
        .map_err(|e| ApiError::invalid(format!("current_version: {e}")))?;
    let bundle = match query.get("bundle_type").map(String::as_str) {
        None => None,
        Some(name) if BUNDLE_TYPES.contains(&name) => Bundle::parse(name),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "bundle_type: {other:?} is not one of {}",
                BUNDLE_TYPES.join(", ")
            )));
        }
    };
    // Only Linux packages are published, and only a workstation that knows
    // it was installed from a .deb or .rpm can install one.
    let target = match bundle {
        Some(bundle) if os == Target::OS => Some(Target { arch, bundle }.key()),
        _ => None,
    };
    let newest = match target {
        Some(target) => {
            platform
                .blocking(move |p| super::newest_after(p.storage.as_ref(), &target, &current))
                .await?
        }
        None => None,
    };
    let result = if newest.is_some() {
        "update"
    } else {
        "current"
    };
    platform.metrics.inc(
        "homedesk_update_checks_total",
        format!("result=\"{result}\""),
    );
    let Some(row) = newest else {
        return Ok((StatusCode::NO_CONTENT, [(CACHE_CONTROL, "no-store")]).into_response());
    };
    let url = package_url(&headers, &uri, &row.id)?;
    Ok((
        [(CACHE_CONTROL, "no-store")],
        Json(super::manifest(&row, url)),
    )
        .into_response())
}

fn no_such_package(id: &str) -> ApiError {
    ApiError::not_found(format!("no package {id:?} is published on this platform"))
}

fn damaged(row: &ReleaseRow, why: &str) -> ApiError {
    tracing::error!(
        release = row.id,
        version = row.version,
        target = row.target,
        "a stored package is damaged ({why}); it is not served. Publish it again under a new version"
    );
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        "the stored package is damaged and is not sent; the platform's administrator must publish the release again",
    )
}

/// Reads every chunk of `row`'s package and checks their length and
/// SHA-256 against the release.
fn check_stored(platform: &Platform, row: &ReleaseRow) -> anyhow::Result<Result<(), String>> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut n = 0u64;
    while let Some(chunk) = platform
        .storage
        .read_with(|tx| tx.release_chunk(&row.id, n))?
    {
        hasher.update(&chunk);
        size += chunk.len() as u64;
        n += 1;
    }
    if size != row.size {
        return Ok(Err(format!("{size} bytes stored of {}", row.size)));
    }
    if super::hex(&hasher.finalize()) != row.id {
        return Ok(Err("its bytes no longer match their SHA-256".to_owned()));
    }
    Ok(Ok(()))
}

/// The byte range asked for in `Range` (one range only; several, or one
/// that cannot be read, and the whole package is sent, as RFC 9110 allows).
/// `Err` when the range is well-formed but starts past the end.
fn byte_range(value: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() {
        // The last N bytes.
        if !digits(last) {
            return None;
        }
        let n = last.parse::<u64>().unwrap_or(u64::MAX);
        if n == 0 {
            return Some(Err(()));
        }
        return Some(Ok((size.saturating_sub(n), size - 1)));
    }
    if !digits(first) || !(last.is_empty() || digits(last)) {
        return None;
    }
    let start = first.parse::<u64>().unwrap_or(u64::MAX);
    let end = if last.is_empty() {
        size - 1
    } else {
        let end = last.parse::<u64>().unwrap_or(u64::MAX);
        if end < start {
            return None;
        }
        end.min(size - 1)
    };
    if start >= size {
        return Some(Err(()));
    }
    Some(Ok((start, end)))
}

/// A file name safe inside `Content-Disposition`.
fn download_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '~') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub async fn package(
    State(platform): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if id.len() != 64 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(no_such_package(&id));
    }
    let lookup = id.clone();
    let Some(row) = platform
        .blocking(move |p| p.storage.read_with(|tx| tx.release(&lookup)))
        .await?
    else {
        return Err(no_such_package(&id));
    };
    let etag = format!("\"{id}\"");
    let tag_matches = |value: Option<&HeaderValue>| {
        value.and_then(|v| v.to_str().ok()).is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        })
    };
    let mut stamp = HeaderMap::new();
    stamp.insert(
        ETAG,
        HeaderValue::from_str(&etag).map_err(|_| ApiError::internal())?,
    );
    stamp.insert(CACHE_CONTROL, HeaderValue::from_static(PACKAGE_CACHE));
    stamp.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if tag_matches(headers.get(IF_NONE_MATCH)) {
        count(&platform, "not_modified");
        return Ok((StatusCode::NOT_MODIFIED, stamp).into_response());
    }
    let checked = row.clone();
    if let Err(why) = platform
        .blocking(move |p| check_stored(p, &checked))
        .await?
    {
        count(&platform, "damaged");
        return Err(damaged(&row, &why));
    }
    // `If-Range`: resume only if the package is still the one the client
    // has the start of (always so here, as a URL names one package's bytes).
    let range_allowed = headers.get(IF_RANGE).is_none_or(|v| tag_matches(Some(v)));
    let range = headers
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| range_allowed)
        .and_then(|v| byte_range(v, row.size));
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, row.size - 1),
        Some(Ok((start, end))) => {
            stamp.insert(
                CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes {start}-{end}/{}", row.size))
                    .map_err(|_| ApiError::internal())?,
            );
            (StatusCode::PARTIAL_CONTENT, start, end)
        }
        Some(Err(())) => {
            count(&platform, "range_refused");
            let mut refused = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                ErrorCode::InvalidRequest,
                format!("Range: the package has {} bytes", row.size),
            )
            .into_response();
            stamp.insert(
                CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{}", row.size))
                    .map_err(|_| ApiError::internal())?,
            );
            refused.headers_mut().extend(stamp);
            return Ok(refused);
        }
    };
    count(
        &platform,
        if status == StatusCode::OK {
            "full"
        } else {
            "partial"
        },
    );
    let length = end - start + 1;
    stamp.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    stamp.insert(CONTENT_LENGTH, HeaderValue::from(length));
    stamp.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        download_name(&row.file_name)
    )) {
        stamp.insert(CONTENT_DISPOSITION, value);
    }
    let body = Body::from_stream(chunks(platform, row.id, start, length));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().extend(stamp);
    Ok(response)
}

fn count(platform: &Platform, result: &str) {
    platform.metrics.inc(
        "homedesk_update_downloads_total",
        format!("result=\"{result}\""),
    );
}

/// `length` bytes of a stored package from `start`, one stored chunk at a
/// time (never the whole package in memory).
fn chunks(
    platform: Shared,
    id: String,
    start: u64,
    length: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let chunk = RELEASE_CHUNK_BYTES as u64;
    let state = (platform, id, start, length);
    futures_util::stream::unfold(state, move |(platform, id, at, left)| async move {
        if left == 0 {
            return None;
        }
        let n = at / chunk;
        let lookup = id.clone();
        let read = platform
            .blocking(move |p| p.storage.read_with(|tx| tx.release_chunk(&lookup, n)))
            .await;
        let bytes = match read {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Some((
                    Err(std::io::Error::other(format!(
                        "package {id}: chunk {n} is gone"
                    ))),
                    (platform, id, at, 0),
                ));
            }
            Err(err) => {
                return Some((
                    Err(std::io::Error::other(format!("package {id}: {err:#}"))),
                    (platform, id, at, 0),
                ));
            }
        };
        let from = usize::try_from(at % chunk).unwrap_or(0);
        let take = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(bytes.len().saturating_sub(from));
        if take == 0 {
            return Some((
                Err(std::io::Error::other(format!(
                    "package {id}: chunk {n} is short"
                ))),
                (platform, id, at, 0),
            ));
        }
        let piece = Bytes::copy_from_slice(&bytes[from..from + take]);
        Some((
            Ok(piece),
            (platform, id, at + take as u64, left - take as u64),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_range_is_served_and_others_send_everything() {
        assert_eq!(byte_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(byte_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=90-500", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(byte_range("bytes=-500", 100), Some(Ok((0, 99))));
        assert_eq!(
            byte_range("bytes=100-", 100),
            Some(Err(())),
            "starts past the end"
        );
        assert_eq!(byte_range("bytes=-0", 100), Some(Err(())));
        for whole in [
            "bytes=0-1,5-6",
            "bytes=9-2",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "",
        ] {
            assert_eq!(
                byte_range(whole, 100),
                None,
                "{whole:?} sends the whole package"
            );
        }
    }

    #[test]
    fn the_download_address_is_the_host_the_workstation_asked() {
        let mut headers = HeaderMap::new();
        let path_only = axum::http::Uri::from_static("/v1/updates/linux/x86_64/1.0.0");
        headers.insert(HOST, HeaderValue::from_static("desk.county.example:8443"));
        assert_eq!(
            package_url(&headers, &path_only, "ab").as_deref(),
            Ok("https://desk.county.example:8443/v1/updates/packages/ab")
        );
        headers.insert(HOST, HeaderValue::from_static("[::1]:8443"));
        assert_eq!(
            package_url(&headers, &path_only, "ab").as_deref(),
            Ok("https://[::1]:8443/v1/updates/packages/ab")
        );
        for bad in ["", "evil.example/x?", "user@host", "a b"] {
            headers.insert(HOST, HeaderValue::from_str(bad).expect("header"));
            assert!(package_url(&headers, &path_only, "ab").is_err(), "{bad:?}");
        }
        // HTTP/2: no Host header, the authority of the request's URI.
        let h2 = axum::http::Uri::from_static("https://desk.county.example:8443/v1/updates");
        assert_eq!(
            package_url(&HeaderMap::new(), &h2, "ab").as_deref(),
            Ok("https://desk.county.example:8443/v1/updates/packages/ab")
        );
    }
}
