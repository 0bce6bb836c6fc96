//! Egress: agents' replies pushed to the webhook of the channel adapter the
//! conversation came through, and the adapter's reports back.
//!
//! Invariants:
//! - A reply to a conversation whose adapter has a webhook gets a delivery
//!   row in the transaction that stores the reply ([`enqueue`]), so a reply
//!   the platform acknowledged is never without its delivery, and a
//!   restart loses nothing: the worker ([`worker`]) picks rows up again.
//! - In order per conversation: a reply is not sent while an earlier reply
//!   of the same conversation is still pending. A reply that failed for
//!   good no longer holds up later ones; a supervisor may retry it.
//! - Every change of a reply's state goes through [`crate::delivery::set`],
//!   so it reaches workstations through the change log, and the caller
//!   announces it on the event stream.
//! - A row moves only from the state it was read in: a late 2xx never
//!   overwrites a `delivered` the adapter reported meanwhile.

pub mod worker;

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use homedesk_protocol::{
    Delivery, DeliveryState, EgressFailure, ErrorCode, MAX_EGRESS_REASON_CHARS, Message, UnixMillis,
};

use crate::error::ApiError;
use crate::http::{JsonBody, channel_adapter};
use crate::storage::{DeliveryRow, DeliveryUpdate, EgressState, Storage, Tx};
use crate::{Platform, delivery, now_ms};

/// Body limit of the adapter's reports.
pub const REPORT_BODY_LIMIT: usize = 4 * 1024;

/// Most rows `egress list` shows.
pub const MAX_LISTED: usize = 1000;

/// How the worker retries; every duration is configurable so tests need no
/// long waits (`serve --egress-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressConfig {
    /// First retry waits between half of this and all of it.
    pub backoff_base_ms: i64,
    /// No wait is longer than this.
    pub backoff_cap_ms: i64,
    /// A reply still not accepted this long after its round began fails.
    pub give_up_after_ms: i64,
    /// One attempt's deadline (connect, send, answer).
    pub attempt_timeout_ms: u64,
    /// How often the worker looks for work that another process (the
    /// `egress retry` command) put in the database.
    pub poll_ms: u64,
}

impl Default for EgressConfig {
    fn default() -> Self {
        EgressConfig {
            backoff_base_ms: 1000,
            backoff_cap_ms: 5 * 60 * 1000,
            give_up_after_ms: 24 * 3600 * 1000,
            attempt_timeout_ms: 10_000,
            poll_ms: 2000,
        }
    }
}

/// The wait before attempt `failures + 1`, "equal jitter": half of the
/// exponential step for sure, the other half at random (`random` is any
/// number; the caller draws it, so tests can fix it).
pub fn backoff(config: &EgressConfig, failures: u32, random: u64) -> i64 {
    let base = config.backoff_base_ms.max(1);
    let cap = config.backoff_cap_ms.max(base);
    let exponent = failures.saturating_sub(1).min(40);
    let step = base.saturating_mul(1_i64 << exponent).min(cap);
    let half = step / 2;
    let jitter = i64::try_from(random % u64::try_from(step - half + 1).unwrap_or(1)).unwrap_or(0);
    half + jitter
}

/// Called with every message the platform stores from an agent: a reply
/// (it has a `delivery`) to a conversation whose adapter has a webhook
/// gets its delivery row. Returns whether it did.
pub fn enqueue(tx: &mut dyn Tx, message: &Message, now: UnixMillis) -> anyhow::Result<bool> {
    if message.delivery.is_none() {
        return Ok(false);
    }
    let Some(adapter) = tx.conversation_adapter(&message.conversation_id)? else {
        return Ok(false);
    };
    let has_webhook = tx
        .adapter(&adapter)?
        .is_some_and(|a| a.webhook_url.is_some());
    if !has_webhook {
        return Ok(false);
    }
    tx.insert_delivery(&message.id, &message.conversation_id, &adapter, now)?;
    Ok(true)
}

fn update_of(row: &DeliveryRow, state: EgressState, now: UnixMillis) -> DeliveryUpdate {
    DeliveryUpdate {
        state,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        round_started_at: row.round_started_at,
        last_error: row.last_error.clone(),
        now,
    }
}

/// What an adapter reports about a reply it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Delivered,
    Failed(String),
}

/// Applies an adapter's report. Only the adapter the reply went to may
/// report on it. Answers the reply's delivery as it now stands, and
/// whether the change log grew.
pub fn report(
    tx: &mut dyn Tx,
    adapter: &str,
    message_id: &str,
    report: &Report,
    now: UnixMillis,
) -> anyhow::Result<Result<(Delivery, bool), ApiError>> {
    let Some(row) = tx
        .delivery(message_id)?
        .filter(|row| row.adapter == adapter)
    else {
        return Ok(Err(ApiError::not_found(format!(
            "no reply {message_id} was sent to adapter {adapter}"
        ))));
    };
    let (state, wire, reason) = match report {
        Report::Delivered => (EgressState::Delivered, DeliveryState::Delivered, None),
        Report::Failed(reason) => (
            EgressState::Failed,
            DeliveryState::Failed,
            Some(format!("the adapter reported: {reason}")),
        ),
    };
    if row.state == EgressState::Delivered && state == EgressState::Failed {
        // A well-formed report that the reply's state does not allow: 409.
        return Ok(Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::AlreadyDelivered,
            format!("reply {message_id} was already reported delivered; it cannot fail now"),
        )));
    }
    if row.state == state && state == EgressState::Delivered {
        // A repeated report changes nothing.
        let current = current_delivery(tx, message_id)?;
        return Ok(Ok((current, false)));
    }
    let mut update = update_of(&row, state, now);
    update.last_error.clone_from(&reason);
    tx.update_delivery(message_id, row.state, &update)?;
    let message = delivery::set(tx, message_id, wire, reason, now)?;
    let current = match message.and_then(|m| m.delivery) {
        Some(d) => d,
        None => current_delivery(tx, message_id)?,
    };
    Ok(Ok((current, true)))
}

fn current_delivery(tx: &mut dyn Tx, message_id: &str) -> anyhow::Result<Delivery> {
    match tx.get(homedesk_protocol::EntityKind::Message, message_id)? {
        Some(homedesk_protocol::Record::Message(Message {
            delivery: Some(d), ..
        })) => Ok(d),
        _ => anyhow::bail!("reply {message_id} has a delivery row but no delivery state"),
    }
}

/// `egress retry`: a failed reply starts a new round of attempts now (and
/// shows as queued again); a pending one is tried now.
pub fn retry(
    tx: &mut dyn Tx,
    message_id: &str,
    now: UnixMillis,
) -> anyhow::Result<Result<EgressState, String>> {
    let Some(row) = tx.delivery(message_id)? else {
        return Ok(Err(format!(
            "no reply {message_id} is being delivered to an adapter (see `egress list`)"
        )));
    };
    match row.state {
        EgressState::Sent | EgressState::Delivered => {
            return Ok(Err(format!(
                "reply {message_id} was already {}; there is nothing to retry",
                row.state.as_str()
            )));
        }
        EgressState::Pending | EgressState::Failed => {}
    }
    if tx
        .adapter(&row.adapter)?
        .is_none_or(|a| a.webhook_url.is_none())
    {
        return Ok(Err(format!(
            "adapter {} has no webhook now; give it one first (`channel webhook {} URL`)",
            row.adapter, row.adapter
        )));
    }
    let mut update = update_of(&row, EgressState::Pending, now);
    update.next_attempt_at = now;
    if row.state == EgressState::Failed {
        update.attempts = 0;
        update.round_started_at = now;
        delivery::set(tx, message_id, DeliveryState::Queued, None, now)?;
    }
    tx.update_delivery(message_id, row.state, &update)?;
    Ok(Ok(row.state))
}

/// `egress list`: the newest rows, or only the failed ones.
pub fn list(storage: &dyn Storage, failed_only: bool) -> anyhow::Result<Vec<DeliveryRow>> {
    storage.read_with(|tx| tx.deliveries(failed_only.then_some(EgressState::Failed), MAX_LISTED))
}

/// `POST /v1/egress/{message_id}/delivered`
pub async fn post_delivered(
    State(platform): State<std::sync::Arc<Platform>>,
    Path(message_id): Path<String>,
    request: Request,
) -> Result<Json<Delivery>, ApiError> {
    let (parts, _) = request.into_parts();
    let adapter = channel_adapter(&platform, &parts).await?;
    answer_report(platform, adapter.id, message_id, Report::Delivered).await
}

/// `POST /v1/egress/{message_id}/failed` with `{"reason": "…"}`
pub async fn post_failed(
    State(platform): State<std::sync::Arc<Platform>>,
    Path(message_id): Path<String>,
    request: Request,
) -> Result<Json<Delivery>, ApiError> {
    let (parts, body) = request.into_parts();
    let adapter = channel_adapter(&platform, &parts).await?;
    let JsonBody(failure) =
        JsonBody::<EgressFailure>::from_request(Request::from_parts(parts, body), &()).await?;
    // Counted as sent, as `maxLength` in docs/openapi.yaml counts; kept trimmed.
    let reason = failure.reason.trim();
    if reason.is_empty() || failure.reason.chars().count() > MAX_EGRESS_REASON_CHARS {
        return Err(ApiError::invalid(format!(
            "reason: say why in 1 to {MAX_EGRESS_REASON_CHARS} characters"
        )));
    }
    let report = Report::Failed(reason.to_owned());
    answer_report(platform, adapter.id, message_id, report).await
}

async fn answer_report(
    platform: std::sync::Arc<Platform>,
    adapter: String,
    message_id: String,
    what: Report,
) -> Result<Json<Delivery>, ApiError> {
    let now = now_ms();
    let (answer, latest) = platform
        .blocking(move |p| {
            p.storage.write_with(|tx| {
                let answer = report(tx, &adapter, &message_id, &what, now)?;
                Ok((answer, tx.latest_seq()?))
            })
        })
        .await?;
    let (delivery, changed) = answer?;
    if changed {
        platform.poke(latest);
        // A reply that stopped pending may let the next one go.
        platform.wake_egress.notify_one();
    }
    Ok(Json(delivery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_equal_jitter_exponential_up_to_the_cap() {
        let config = EgressConfig {
            backoff_base_ms: 1000,
            backoff_cap_ms: 8000,
            ..EgressConfig::default()
        };
        assert_eq!(backoff(&config, 1, 0), 500, "half the first step for sure");
        assert_eq!(
            backoff(&config, 1, 500),
            1000,
            "at most the whole first step"
        );
        assert_eq!(backoff(&config, 2, 0), 1000);
        assert_eq!(backoff(&config, 3, 0), 2000);
        assert_eq!(backoff(&config, 4, 0), 4000, "capped at 8 s: half of it");
        assert_eq!(backoff(&config, 30, 4000), 8000, "never beyond the cap");
        assert_eq!(backoff(&config, u32::MAX, 0), 4000, "no overflow");
        for failures in 1..12 {
            let step = (1000_i64 << (failures - 1).min(20)).min(8000);
            for random in [1, 77, 12345, u64::MAX] {
                let wait = backoff(&config, failures, random);
                assert!(
                    (step / 2..=step).contains(&wait),
                    "failure {failures}: {wait} ms is outside [{}, {step}]",
                    step / 2
                );
            }
        }
    }
}
