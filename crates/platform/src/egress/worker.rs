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
//!
//! Every platform instance on one database runs this worker (issue 19), so
//! a pass first *claims* the due rows, in one write transaction (writes
//! take turns across instances: decision 0041): it moves each row's next
//! attempt past the attempt's deadline ([`claim_until`]), so another
//! instance's pass does not find it due. Recording the outcome then sets
//! the real next attempt, as it always did; nothing else of the row
//! changes, so attempts, backoff and the states desks see are as with one
//! instance. If the instance dies mid-attempt, the claim runs out and
//! another instance tries again (the adapter may then get the reply twice,
//! with the same idempotency key: at least once, as documented); one that
//! stops cleanly gives its unfinished claims back at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
/// How much longer than the attempts' own deadlines a claim lasts: for
/// reading the reply, recording the outcome (which may wait for the write
/// lock) and instances' clocks that differ a little.
const CLAIM_MARGIN_MS: i64 = 30_000;

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

/// A row this worker claimed and has not recorded yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Claim {
    /// Its real next attempt (the one before the claim).
    due_at: UnixMillis,
    /// The next attempt the claim wrote: no other pass takes the row before.
    until: UnixMillis,
}

pub struct Worker {
    platform: Arc<Platform>,
    config: EgressConfig,
    client: reqwest::Client,
    /// By message id; given back when the platform stops. Shared with the
    /// claiming transaction, which records its claims before it commits.
    claims: Arc<Mutex<HashMap<String, Claim>>>,
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
            claims: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    fn claims(&self) -> std::sync::MutexGuard<'_, HashMap<String, Claim>> {
        lock_claims(&self.claims)
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
                _ = stop.changed() => break,
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = self.platform.wake_egress.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => break,
            }
        }
        self.give_back().await;
    }

    /// Gives the rows of unfinished attempts back (due as before their
    /// claim) to whichever instance comes next, this one after a restart,
    /// instead of leaving them claimed until the claims run out.
    async fn give_back(&self) {
        let claimed = Arc::clone(&self.claims);
        let given = self
            .platform
            .blocking(move |p| {
                p.storage.write_with(|tx| {
                    // Taken inside a write: writes take turns, so a claim
                    // still being written when the shutdown cancelled its
                    // pass has committed, and recorded itself, by now.
                    let claims: Vec<(String, Claim)> = lock_claims(&claimed).drain().collect();
                    let mut given = 0_usize;
                    for (message_id, claim) in &claims {
                        if tx.move_next_attempt(message_id, claim.until, claim.due_at)? {
                            given += 1;
                        }
                    }
                    Ok(given)
                })
            })
            .await;
        match given {
            Ok(0) => {}
            Ok(given) => tracing::info!("egress: unfinished attempts given back: {given}"),
            Err(err) => tracing::warn!("egress: unfinished attempts not given back: {err:#}"),
        }
    }

    /// Attempts every due head once. Returns how long until the next one
    /// is due (zero: more work right away), or `None` when nothing is pending.
    async fn pass(&self) -> anyhow::Result<Option<Duration>> {
        // A read first: the write lock only when there is work.
        let heads = self
            .platform
            .blocking(|p| p.storage.read_with(|tx| tx.pending_heads(HEADS_PER_PASS)))
            .await?;
        let now = now_ms();
        if heads.iter().all(|row| row.next_attempt_at > now) {
            return Ok(heads
                .iter()
                .map(|row| row.next_attempt_at)
                .min()
                .map(|at| Duration::from_millis(u64::try_from(at - now).unwrap_or(0))));
        }
        let config = self.config;
        let claims = Arc::clone(&self.claims);
        let claimed = self
            .platform
            .blocking(move |p| {
                p.storage.write_with(|tx| {
                    let claimed = claim(tx, &config, now_ms())?;
                    // Recorded before the commit: a shutdown that cancels
                    // this pass while its transaction runs still gives the
                    // rows back (a claim that did not commit is left alone:
                    // `move_next_attempt` checks where the row is).
                    lock_claims(&claims).extend(
                        claimed
                            .iter()
                            .map(|(row, claim)| (row.message_id.clone(), *claim)),
                    );
                    Ok(claimed)
                })
            })
            .await?;
        if claimed.is_empty() {
            // Another instance claimed them first: look again.
            return Ok(Some(Duration::ZERO));
        }
        let due = claimed.into_iter().map(|(row, _)| row);
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
        if broken == 0 {
            return Ok(Some(Duration::ZERO));
        }
        // Rows whose outcome could not be recorded are due again once
        // their claims are given back: wait a poll interval rather than
        // hammer their adapter.
        self.give_back().await;
        Ok(Some(Duration::from_millis(self.config.poll_ms)))
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
        // A round's first attempt follows a new reply or an `egress retry`
        // (written by another process, which could not announce it).
        let first_of_round = row.attempts == 0;
        let (label, latest) = self
            .platform
            .blocking(move |p| {
                p.storage.write_with(|tx| {
                    let label = record(tx, &config, &row, &outcome, random, now_ms())?;
                    Ok((label, tx.latest_seq()?))
                })
            })
            .await?;
        self.claims().remove(&message_id);
        self.platform
            .metrics
            .inc("homedesk_egress_total", format!("outcome=\"{label}\""));
        if label == "sent" || label == "failed" {
            tracing::info!(message = %message_id, "egress: {label}");
        }
        if label == "sent" || label == "failed" || (label == "retry" && first_of_round) {
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

fn lock_claims(
    claims: &Mutex<HashMap<String, Claim>>,
) -> std::sync::MutexGuard<'_, HashMap<String, Claim>> {
    claims.lock().unwrap_or_else(|p| p.into_inner())
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

/// Until when a pass's claim on its `rank`-th row (from 0) holds at `now`:
/// the rows are attempted `IN_FLIGHT` at a time, so each group of them may
/// start one attempt deadline after the group before.
fn claim_until(config: &EgressConfig, now: UnixMillis, rank: usize) -> UnixMillis {
    let timeout = i64::try_from(config.attempt_timeout_ms).unwrap_or(i64::MAX / 4);
    let groups = i64::try_from(rank / IN_FLIGHT + 1).unwrap_or(i64::MAX);
    now.saturating_add(timeout.saturating_mul(groups))
        .saturating_add(CLAIM_MARGIN_MS)
}

/// Claims the heads due at `now` for this pass (in a write transaction, so
/// no other instance's pass claims them too): each row's next attempt moves
/// to [`claim_until`]. Returns the rows as they were, with their claims.
fn claim(
    tx: &mut dyn Tx,
    config: &EgressConfig,
    now: UnixMillis,
) -> anyhow::Result<Vec<(DeliveryRow, Claim)>> {
    let due = tx
        .pending_heads(HEADS_PER_PASS)?
        .into_iter()
        .filter(|row| row.next_attempt_at <= now);
    let mut claimed = Vec::new();
    for (rank, row) in due.enumerate() {
        let claim = Claim {
            due_at: row.next_attempt_at,
            until: claim_until(config, now, rank),
        };
        if tx.move_next_attempt(&row.message_id, claim.due_at, claim.until)? {
            claimed.push((row, claim));
        }
    }
    Ok(claimed)
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
    use crate::storage::{SqliteStorage, Storage};

    #[test]
    fn a_pass_claims_the_due_heads_once_each_group_a_deadline_later() {
        let tmp = tempfile::tempdir().expect("tmp");
        let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(tmp.path()).expect("storage"));
        let config = EgressConfig {
            attempt_timeout_ms: 1000,
            ..EgressConfig::default()
        };
        storage
            .write_with(|tx| {
                for c in 0..10 {
                    tx.insert_delivery(&format!("m{c}"), &format!("c{c}"), "shop", 1000)?;
                }
                // Not due yet; and one behind a due head of its conversation.
                tx.insert_delivery("later", "c-later", "shop", 9000)?;
                tx.insert_delivery("m0-next", "c0", "shop", 1000)?;
                Ok(())
            })
            .expect("write");
        let claimed = storage
            .write_with(|tx| claim(tx, &config, 2000))
            .expect("claim");
        let mut ids: Vec<&str> = claimed.iter().map(|(r, _)| r.message_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"]
        );
        let untils: Vec<UnixMillis> = claimed.iter().map(|(_, c)| c.until).collect();
        assert_eq!(
            untils,
            [[33_000; IN_FLIGHT].as_slice(), &[34_000; 10 - IN_FLIGHT]].concat(),
            "the first {IN_FLIGHT} one deadline and the margin on, the rest a deadline later"
        );
        assert!(
            claimed
                .iter()
                .all(|(row, claim)| row.next_attempt_at == 1000
                    && claim.due_at == 1000
                    && row.attempts == 0),
            "the rows as they were before the claim"
        );
        assert!(
            storage
                .write_with(|tx| claim(tx, &config, 2000))
                .expect("claim")
                .is_empty(),
            "another pass finds nothing due"
        );
        let stored = storage
            .read_with(|tx| tx.delivery("m9"))
            .expect("read")
            .expect("row");
        assert_eq!(
            (stored.next_attempt_at, stored.updated_at),
            (34_000, 1000),
            "only the next attempt moved"
        );
        assert_eq!(
            storage
                .write_with(|tx| claim(tx, &config, 34_000))
                .expect("claim")
                .len(),
            11,
            "claims that ran out are due again, as is the row due at 9000"
        );
    }

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
