//! The session endpoints (sign-in, refresh, sign-out) and the ending of
//! sign-ins that still have an event stream open.
//!
//! A sign-in is throttled before its password is hashed, and hashes run a
//! few at a time (`sign_in_limits`). A sign-in ends by `DELETE
//! /v1/sessions`, by a reused refresh token, by reaching its absolute
//! expiry, or by `agent disable` / `agent reset-password` — the last two run
//! as separate processes on the same database, so [`Platform::run_session_watch`]
//! looks up, every `session_check_ms`, whether the sign-ins of the open
//! event streams still hold, and ends the streams of those that do not.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header::RETRY_AFTER;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use homedesk_protocol::{ErrorCode, Refresh, Session, SignIn};
use tokio::sync::watch;

use crate::auth::{self, StoredHash};
use crate::error::ApiError;
use crate::http::{JsonBody, bearer, link_report};
use crate::sign_in_limits::{Key, client_address};
use crate::{Platform, now_ms};

type Shared = Arc<Platform>;

/// The sign-ins (families) that have an event stream open, each with a
/// flag that ends its streams.
#[derive(Debug, Default)]
pub struct OpenSessions {
    streams: Mutex<HashMap<String, watch::Sender<bool>>>,
}

impl OpenSessions {
    /// A stream of `family` opens: its receiver turns `true` when the sign-in ends.
    pub fn watch(&self, family: &str) -> watch::Receiver<bool> {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        streams
            .entry(family.to_owned())
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    /// A stream of `family` closes (called while its receiver is still held).
    pub fn release(&self, family: &str) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if streams
            .get(family)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            streams.remove(family);
        }
    }

    /// The sign-in ended: its streams end now.
    pub fn end(&self, family: &str) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = streams.remove(family) {
            sender.send_replace(true);
        }
    }

    pub fn families(&self) -> Vec<String> {
        let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        streams.keys().cloned().collect()
    }
}

impl Platform {
    /// Ends the event streams of sign-ins that ended in the database (by
    /// this process or by an `agent …` command), checking every
    /// `session_check_ms` until shutdown.
    pub async fn run_session_watch(self: Arc<Self>) {
        let mut stop = self.shutting_down.subscribe();
        let every = std::time::Duration::from_millis(self.settings.session_check_ms.max(10));
        loop {
            let families = self.open_sessions.families();
            if !families.is_empty() {
                let now = now_ms();
                match self
                    .blocking(move |p| p.storage.read_with(|tx| tx.ended_families(&families, now)))
                    .await
                {
                    Ok(ended) => {
                        for family in ended {
                            tracing::info!("a sign-in ended: closing its event streams");
                            self.open_sessions.end(&family);
                        }
                    }
                    Err(err) => tracing::warn!("checking open sign-ins failed: {err:#}"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// A refusal with `Retry-After` (seconds).
fn refused_for(error: ApiError, secs: u64) -> Response {
    let mut response = error.into_response();
    if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// Why a sign-in failed, for the log and `homedesk_sign_in_failures_total`.
#[derive(Debug, Clone, Copy)]
enum Failure {
    UnknownAgent,
    WrongPassword,
    Disabled,
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Failure::UnknownAgent => "unknown_agent",
            Failure::WrongPassword => "wrong_password",
            Failure::Disabled => "disabled",
        }
    }
}

pub async fn sign_in(
    State(platform): State<Shared>,
    headers: HeaderMap,
    extensions: Extensions,
    JsonBody(req): JsonBody<SignIn>,
) -> Response {
    let config = platform.settings.auth;
    if let Err(err) = auth::check_sign_in(&config, &req) {
        platform
            .metrics
            .inc("homedesk_sign_ins_total", "result=\"refused\"".into());
        return err.into_response();
    }
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let address = client_address(platform.throttle.limits(), peer, &headers);
    let shown_address = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    let keys: Vec<Key> = [
        Some(Key::Agent(req.agent.clone())),
        address.map(Key::Address),
    ]
    .into_iter()
    .flatten()
    .collect();
    let checked = {
        let keys = keys.clone();
        platform
            .blocking(move |p| {
                p.storage
                    .read_with(|tx| p.throttle.check(tx, &keys, now_ms()))
            })
            .await
    };
    let throttled = match checked {
        Ok(throttled) => throttled,
        Err(err) => return ApiError::from(err).into_response(),
    };
    if let Some(throttled) = throttled {
        platform.metrics.inc(
            "homedesk_sign_in_throttled_total",
            format!("by=\"{}\"", throttled.key.label()),
        );
        tracing::warn!(
            agent = %req.agent,
            address = %shown_address,
            by = throttled.key.label(),
            "sign-in refused unchecked: too many failed attempts"
        );
        let secs = throttled.retry_after_secs();
        return refused_for(
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyAttempts,
                format!(
                    "too many failed sign-ins for this agent code or from this address; \
                     try again in {secs} s"
                ),
            ),
            secs,
        );
    }
    let Some(slot) = platform.hashing.enter().await else {
        platform
            .metrics
            .inc("homedesk_sign_in_throttled_total", "by=\"busy\"".into());
        return refused_for(
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the platform is checking many sign-ins at once; try again in a moment",
            ),
            1,
        );
    };
    let agent = req.agent.clone();
    let outcome = platform
        .blocking(move |p| {
            let stored = p
                .storage
                .read_with(|tx| auth::stored_hash(tx, &req.agent))?;
            if !auth::verify_password(&req.password, stored.hash()) {
                return Ok(Err(match stored {
                    StoredHash::UnknownAgent => Failure::UnknownAgent,
                    StoredHash::Disabled => Failure::Disabled,
                    StoredHash::Hash(_) => Failure::WrongPassword,
                }));
            }
            let now = now_ms();
            let opened = p.storage.write_with(|tx| {
                let opened = auth::open_session(tx, &config, &req, now)?;
                if opened.is_ok() {
                    p.throttle.succeeded(tx, &req.agent)?;
                }
                Ok(opened)
            })?;
            // Refused after the check: disabled (or removed) meanwhile.
            Ok(opened.map_err(|_| Failure::Disabled))
        })
        .await;
    drop(slot);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) => return ApiError::from(err).into_response(),
    };
    match outcome {
        Ok(session) => {
            platform
                .metrics
                .inc("homedesk_sign_ins_total", "result=\"ok\"".into());
            (StatusCode::CREATED, Json(session)).into_response()
        }
        Err(failure) => {
            let counted = platform
                .blocking(move |p| {
                    p.storage
                        .write_with(|tx| p.throttle.failed(tx, &keys, now_ms()))
                })
                .await;
            if let Err(err) = counted {
                tracing::error!(agent = %agent, "a failed sign-in was not counted: {err:#}");
            }
            platform
                .metrics
                .inc("homedesk_sign_ins_total", "result=\"failed\"".into());
            platform.metrics.inc(
                "homedesk_sign_in_failures_total",
                format!("reason=\"{}\"", failure.reason()),
            );
            tracing::warn!(
                agent = %agent,
                address = %shown_address,
                reason = failure.reason(),
                "sign-in failed"
            );
            auth::sign_in_failed().into_response()
        }
    }
}

pub async fn refresh(
    State(platform): State<Shared>,
    JsonBody(req): JsonBody<Refresh>,
) -> Result<Json<Session>, ApiError> {
    let config = platform.settings.auth;
    let now = now_ms();
    let session = platform
        .blocking(move |p| {
            p.storage
                .write_with(|tx| auth::rotate(tx, &config, &req, now))
        })
        .await??;
    Ok(Json(session))
}

/// Ends the sign-in of the access or refresh token sent as the Bearer, and
/// its event streams; 204 whether or not the token was known (the sign-in is
/// gone either way).
pub async fn sign_out(
    State(platform): State<Shared>,
    parts: Parts,
) -> Result<StatusCode, ApiError> {
    let token = bearer(&parts)?;
    // Checked as on every agent endpoint (a bad value is 400), though unused here.
    link_report(&parts)?;
    let now = now_ms();
    let family = platform
        .blocking(move |p| {
            p.storage
                .write_with(|tx| auth::end_session(tx, &token, now))
        })
        .await?;
    if let Some(family) = family {
        platform.open_sessions.end(&family);
    }
    Ok(StatusCode::NO_CONTENT)
}
