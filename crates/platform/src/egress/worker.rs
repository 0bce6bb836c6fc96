//! The egress worker: a task in the platform that POSTs pending replies to
//! their adapter's webhook, signed, and retries with backoff.
//!
//! Each pass takes the first pending row of every conversation that is due
//! (so replies of one conversation go strictly one after another; different
//! conversations go side by side, a few at a time), makes one attempt for
//! each, and records the outcome in its own transaction: `sent` on a 2xx,
//! else the next attempt after [`super::backoff`], or `failed` once the
//! round is older than `give_up_after`. It sleeps until the next attempt is
//! due, until a new reply wakes it, or at most `poll` (work another process
//! wrote). Nothing lives only in memory: a restart finds every pending row.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use homedesk_protocol::{
    DeliveryState, EGRESS_ATTEMPT_HEADER, EGRESS_IDEMPOTENCY_HEADER, EGRESS_SIGNATURE_HEADER,
    EGRESS_TIMESTAMP_HEADER, EgressMessage, EntityKind, PROTOCOL_HEADER, PROTOCOL_VERSION, Record,
    UnixMillis,
};
use rand::Rng;

use super::{EgressConfig, backoff};
use crate::channels::{hex, hmac_sha256, unhex};
use crate::storage::{DeliveryRow, DeliveryUpdate, EgressState, Tx};
use crate::{Platform, delivery, now_ms};

/// Rows looked at per pass.
const HEADS_PER_PASS: usize = 64;
/// Attempts in flight at once (each to a different conversation).
const IN_FLIGHT: usize = 8;
/// Longest answer text kept as the reason of a failed attempt.
const MAX_ERROR_CHARS: usize = 300;

/// `sha256=<hex>`: the signature header's value for `body` sent at
/// `timestamp` (Unix seconds), under the adapter's signing key.
pub fn signature(signing_key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("sha256={}", hex(&hmac_sha256(signing_key, &signed)))
}

/// One request, ready to send.
struct Attempt {
    row: DeliveryRow,
    url: String,
    signing_key: Vec<u8>,
    body: Vec<u8>,
}

/// What to do with a row instead of sending it.
enum Prepared {
    Send(Box<Attempt>),
    /// It cannot be sent at all (its adapter or message is gone).
    Fail(DeliveryRow, String),
}

pub struct Worker {
    platform: Arc<Platform>,
    config: EgressConfig,
    client: reqwest::Client,
}

impl Worker {
    pub fn new(platform: Arc<Platform>, config: EgressConfig) -> anyhow::Result<Worker> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            // A signed request is not re-sent to wherever a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(config.attempt_timeout_ms))
            .connect_timeout(Duration::from_millis(config.attempt_timeout_ms))
            .user_agent(concat!("homedesk-platform/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Worker {
            platform,
            config,
            client,
        })
    }

    /// Runs until the platform shuts down.
    pub async fn run(self) {
        let mut stop = self.platform.shutting_down.subscribe();
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        loop {
            let wait = tokio::select! {
                wait = self.pass() => match wait {
                    Ok(wait) => wait.map_or(poll, |w| w.min(poll)),
                    Err(err) => {
                        tracing::error!("egress pass failed: {err:#}");
                        poll
                    }
                },
                _ = stop.changed() => return,
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = self.platform.wake_egress.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Attempts every due head once. Returns how long until the next one
    /// is due (zero: more work right away), or `None` when nothing is pending.
    async fn pass(&self) -> anyhow::Result<Option<Duration>> {
        let heads = self
            .platform
            .blocking(|p| p.storage.read_with(|tx| tx.pending_heads(HEADS_PER_PASS)))
            .await?;
        let now = now_ms();
        let (due, later): (Vec<_>, Vec<_>) = heads
            .into_iter()
            .partition(|row| row.next_attempt_at <= now);
        if due.is_empty() {
            return Ok(later
                .iter()
                .map(|row| row.next_attempt_at)
                .min()
                .map(|at| Duration::from_millis(u64::try_from(at - now).unwrap_or(0))));
        }
        let broken = futures_util::stream::iter(due)
            .map(|row| self.attempt(row))
            .buffer_unordered(IN_FLIGHT)
            .fold(0_usize, |broken, outcome| async move {
                match outcome {
                    Ok(()) => broken,
                    Err(err) => {
                        tracing::error!("egress attempt failed: {err:#}");
                        broken + 1
                    }
                }
            })
            .await;
        // Rows whose outcome could not be recorded are still due: wait a
        // poll interval rather than hammer their adapter.
        Ok(Some(if broken == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(self.config.poll_ms)
        }))
    }

    async fn attempt(&self, row: DeliveryRow) -> anyhow::Result<()> {
        let prepared = self
            .platform
            .blocking(move |p| p.storage.read_with(|tx| prepare(tx, row)))
            .await?;
        let (row, outcome) = match prepared {
            Prepared::Fail(row, reason) => (row, Outcome::Unsendable(reason)),
            Prepared::Send(attempt) => {
                let outcome = self.send(&attempt).await;
                (attempt.row, outcome)
            }
        };
        let config = self.config;
        let random: u64 = rand::rng().random();
        let message_id = row.message_id.clone();
        let (label, latest) = self
            .platform
            .blocking(move |p| {
                p.storage.write_with(|tx| {
                    let label = record(tx, &config, &row, &outcome, random, now_ms())?;
                    Ok((label, tx.latest_seq()?))
                })
            })
            .await?;
        self.platform
            .metrics
            .inc("homedesk_egress_total", format!("outcome=\"{label}\""));
        if label == "sent" || label == "failed" {
            tracing::info!(message = %message_id, "egress: {label}");
            self.platform.poke(latest);
        }
        Ok(())
    }

    async fn send(&self, attempt: &Attempt) -> Outcome {
        let timestamp = now_ms() / 1000;
        let request = self
            .client
            .post(&attempt.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EGRESS_IDEMPOTENCY_HEADER, &attempt.row.message_id)
            .header(EGRESS_TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                EGRESS_SIGNATURE_HEADER,
                signature(&attempt.signing_key, timestamp, &attempt.body),
            )
            .header(
                EGRESS_ATTEMPT_HEADER,
                (attempt.row.attempts + 1).to_string(),
            )
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.major.to_string())
            .body(attempt.body.clone());
        match request.send().await {
            Ok(response) if response.status().is_success() => Outcome::Accepted,
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                let text: String = text.trim().chars().take(MAX_ERROR_CHARS).collect();
                Outcome::Refused(if text.is_empty() {
                    format!("the adapter answered HTTP {status}")
                } else {
                    format!("the adapter answered HTTP {status}: {text}")
                })
            }
            Err(err) => Outcome::Refused(format!("the adapter could not be reached: {err}")),
        }
    }
}

enum Outcome {
    Accepted,
    Refused(String),
    Unsendable(String),
}

/// `24 h`, `90 min`, `3 s`: how long the worker kept trying.
fn span(ms: i64) -> String {
    match ms {
        ms if ms >= 3_600_000 && ms % 3_600_000 == 0 => format!("{} h", ms / 3_600_000),
        ms if ms >= 60_000 && ms % 60_000 == 0 => format!("{} min", ms / 60_000),
        ms if ms >= 1000 => format!("{} s", ms / 1000),
        ms => format!("{ms} ms"),
    }
}

/// Reads what one attempt needs: the reply, its conversation, the adapter.
fn prepare(tx: &mut dyn Tx, row: DeliveryRow) -> anyhow::Result<Prepared> {
    let Some(adapter) = tx.adapter(&row.adapter)? else {
        let reason = format!("adapter {} no longer exists", row.adapter);
        return Ok(Prepared::Fail(row, reason));
    };
    let Some(url) = adapter.webhook_url else {
        let reason = format!("adapter {} has no webhook any more", row.adapter);
        return Ok(Prepared::Fail(row, reason));
    };
    let Some(Record::Message(message)) = tx.get(EntityKind::Message, &row.message_id)? else {
        return Ok(Prepared::Fail(row, "the reply no longer exists".to_owned()));
    };
    let Some(Record::Conversation(conversation)) =
        tx.get(EntityKind::Conversation, &message.conversation_id)?
    else {
        return Ok(Prepared::Fail(
            row,
            "the conversation no longer exists".to_owned(),
        ));
    };
    let signing_key = unhex(&adapter.signing_key)
        .ok_or_else(|| anyhow::anyhow!("adapter {} has a malformed signing key", adapter.id))?;
    let body = serde_json::to_vec(&EgressMessage {
        message_id: message.id,
        conversation_id: conversation.id,
        customer_id: conversation.customer_id,
        channel: conversation.channel,
        adapter: adapter.id,
        body: message.body,
        attachments: message.attachments,
        sent_at: message.sent_at,
    })?;
    Ok(Prepared::Send(Box::new(Attempt {
        row,
        url,
        signing_key,
        body,
    })))
}

/// Records one attempt's outcome if the row is still pending (a callback
/// or a supervisor may have moved it meanwhile). Returns the metric label.
fn record(
    tx: &mut dyn Tx,
    config: &EgressConfig,
    row: &DeliveryRow,
    outcome: &Outcome,
    random: u64,
    now: UnixMillis,
) -> anyhow::Result<&'static str> {
    let attempts = row.attempts.saturating_add(1);
    let mut update = DeliveryUpdate {
        state: EgressState::Pending,
        attempts,
        next_attempt_at: row.next_attempt_at,
        round_started_at: row.round_started_at,
        last_error: None,
        now,
    };
    let (label, change) = match outcome {
        Outcome::Accepted => {
            update.state = EgressState::Sent;
            ("sent", Some((DeliveryState::Sent, None)))
        }
        Outcome::Refused(reason) if now < row.round_started_at + config.give_up_after_ms => {
            update.next_attempt_at = now + backoff(config, attempts, random);
            update.last_error = Some(reason.clone());
            ("retry", None)
        }
        Outcome::Refused(reason) => {
            let reason = format!(
                "gave up after {} and {attempts} attempts; last: {reason}",
                span(config.give_up_after_ms)
            );
            update.state = EgressState::Failed;
            update.last_error = Some(reason.clone());
            ("failed", Some((DeliveryState::Failed, Some(reason))))
        }
        Outcome::Unsendable(reason) => {
            update.state = EgressState::Failed;
            update.last_error = Some(reason.clone());
            (
                "failed",
                Some((DeliveryState::Failed, Some(reason.clone()))),
            )
        }
    };
    if !tx.update_delivery(&row.message_id, EgressState::Pending, &update)? {
        return Ok("superseded");
    }
    if let Some((state, reason)) = change {
        delivery::set(tx, &row.message_id, state, reason, now)?;
    }
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(24 * 3_600_000), "24 h");
        assert_eq!(span(90 * 60_000), "90 min");
        assert_eq!(span(2500), "2 s");
        assert_eq!(span(300), "300 ms");
    }

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        let key = b"key";
        let sig = signature(key, 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(
            sig,
            format!(
                "sha256={}",
                hex(&hmac_sha256(key, br#"1700000000.{"a":1}"#))
            )
        );
        assert_ne!(
            sig,
            signature(key, 1_700_000_001, br#"{"a":1}"#),
            "the time is signed"
        );
        assert_ne!(sig, signature(b"other", 1_700_000_000, br#"{"a":1}"#));
    }
}
