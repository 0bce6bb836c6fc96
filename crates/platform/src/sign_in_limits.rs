//! Limits on guessing passwords: failed sign-ins slow down, then lock out,
//! each agent code and each client address; and only a few Argon2 hashes
//! run at once, so a flood of sign-ins cannot take the server's memory.
//!
//! The counters live in the database (`sign_in_counters`, migration 0011;
//! the rules are decision 0031's), so every platform instance on one
//! database counts the same failures: N instances behind a load balancer
//! give a guesser no more guesses than one (issue 19). A check is a read; a
//! failure, rare, is a write (after an Argon2 hash, so no faster than the
//! hashing gate lets it). A key's counter is forgotten once it has been
//! quiet for the lockout period (deleted when the next new counter is
//! made), and the oldest counters make room when the table holds
//! `max_entries`. The hashing gate stays in each process: it guards that
//! machine's memory.
//!
//! A throttled attempt is answered before the password is looked at, so
//! waiting is the only way on; a right password during a wait does not
//! help.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::HeaderMap;
use homedesk_protocol::UnixMillis;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::storage::{SignInCounter, Tx};

/// The settings of sign-in throttling (`[sign_in]` in `platform.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInLimits {
    /// Failed sign-ins for one agent code before any wait.
    pub free_failures: u32,
    /// At this many failures the agent code is locked out.
    pub lockout_after: u32,
    /// The same for one client address (a village shares one).
    pub ip_free_failures: u32,
    pub ip_lockout_after: u32,
    /// The first wait after the free failures; each further failure doubles it.
    pub first_delay_ms: i64,
    /// The longest wait before the lockout.
    pub max_delay_ms: i64,
    /// How long a lockout lasts; also how long a quiet counter is kept.
    pub lockout_ms: i64,
    /// Argon2 hashes that may run at once.
    pub hashing: usize,
    /// Sign-ins that may wait for a hashing slot; more are refused (503).
    pub hashing_queue: usize,
    /// Most counters kept (agent codes and addresses together).
    pub max_entries: usize,
    /// A header carrying the client's address from a reverse proxy, e.g.
    /// `X-Forwarded-For`; read only on connections from `trusted_proxies`.
    pub trusted_proxy_header: Option<String>,
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            free_failures: 5,
            lockout_after: 10,
            ip_free_failures: 20,
            ip_lockout_after: 100,
            first_delay_ms: 1000,
            max_delay_ms: 60_000,
            lockout_ms: 15 * 60_000,
            hashing: 4,
            hashing_queue: 32,
            max_entries: 100_000,
            trusted_proxy_header: None,
            trusted_proxies: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            ],
        }
    }
}

/// The stored `kind` of an agent code's counter.
const AGENT: &str = "agent";
/// The stored `kind` of a client address's counter.
const ADDRESS: &str = "address";

/// What a counter is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Agent(String),
    Address(IpAddr),
}

impl Key {
    /// The metric label of what was throttled; also the stored `kind`.
    pub fn label(&self) -> &'static str {
        match self {
            Key::Agent(_) => AGENT,
            Key::Address(_) => ADDRESS,
        }
    }

    /// The stored `subject`: the agent code, or the address.
    fn subject(&self) -> String {
        match self {
            Key::Agent(code) => code.clone(),
            Key::Address(address) => address.to_string(),
        }
    }
}

/// The rules of sign-in throttling over the counters in the database.
#[derive(Debug)]
pub struct Throttle {
    limits: SignInLimits,
}

/// A sign-in refused without checking the password: wait this long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    pub key: Key,
    pub retry_after_ms: i64,
}

impl Throttled {
    /// Whole seconds for `Retry-After`, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        u64::try_from((self.retry_after_ms.max(1) + 999) / 1000).unwrap_or(1)
    }
}

impl Throttle {
    pub fn new(limits: SignInLimits) -> Throttle {
        Throttle { limits }
    }

    pub fn limits(&self) -> &SignInLimits {
        &self.limits
    }

    fn thresholds(&self, key: &Key) -> (u32, u32) {
        match key {
            Key::Agent(_) => (self.limits.free_failures, self.limits.lockout_after),
            Key::Address(_) => (self.limits.ip_free_failures, self.limits.ip_lockout_after),
        }
    }

    /// The longest wait any of `keys` is in at `now`, if any (a read).
    pub fn check(
        &self,
        tx: &mut dyn Tx,
        keys: &[Key],
        now: UnixMillis,
    ) -> anyhow::Result<Option<Throttled>> {
        let mut longest: Option<Throttled> = None;
        for key in keys {
            let Some(counter) = tx.sign_in_counter(key.label(), &key.subject())? else {
                continue;
            };
            let wait = counter.wait_until - now;
            // On a tie the later key, as `max_by_key` chose before.
            if wait > 0 && longest.as_ref().is_none_or(|t| wait >= t.retry_after_ms) {
                longest = Some(Throttled {
                    key: key.clone(),
                    retry_after_ms: wait,
                });
            }
        }
        Ok(longest)
    }

    /// Counts a failed sign-in against each of `keys` (in a write
    /// transaction: instances count one after another).
    pub fn failed(&self, tx: &mut dyn Tx, keys: &[Key], now: UnixMillis) -> anyhow::Result<()> {
        for key in keys {
            let (kind, subject) = (key.label(), key.subject());
            let kept = tx.sign_in_counter(kind, &subject)?;
            if kept.is_none() {
                self.make_room(tx, now)?;
            }
            let mut counter = match kept {
                Some(counter) if !self.forgotten(&counter, now) => counter,
                _ => SignInCounter {
                    failures: 0,
                    last_failure: now,
                    wait_until: 0,
                },
            };
            let (free, lockout_after) = self.thresholds(key);
            counter.failures = counter.failures.saturating_add(1);
            counter.last_failure = now;
            counter.wait_until = if counter.failures >= lockout_after {
                now + self.limits.lockout_ms
            } else if counter.failures > free {
                let doublings = (counter.failures - free - 1).min(30);
                now + (self.limits.first_delay_ms << doublings).min(self.limits.max_delay_ms)
            } else {
                0
            };
            tx.put_sign_in_counter(kind, &subject, &counter)?;
        }
        Ok(())
    }

    /// A successful sign-in: the agent code starts again. (An address's
    /// counter is kept: one account of one's own must not buy more guesses
    /// at others'.)
    pub fn succeeded(&self, tx: &mut dyn Tx, agent: &str) -> anyhow::Result<()> {
        forget_agent(tx, agent)
    }

    /// Quiet for a lockout period and not waiting: the failures no longer count.
    fn forgotten(&self, counter: &SignInCounter, now: UnixMillis) -> bool {
        counter.wait_until <= now && now - counter.last_failure >= self.limits.lockout_ms
    }

    /// Before a new counter: drops the forgotten ones, and if the table is
    /// still full, the ones whose last failure is oldest.
    fn make_room(&self, tx: &mut dyn Tx, now: UnixMillis) -> anyhow::Result<()> {
        tx.forget_sign_in_counters(now - self.limits.lockout_ms, now)?;
        let kept = tx.sign_in_counters()?;
        let max = u64::try_from(self.limits.max_entries.max(1))?;
        if kept >= max {
            tx.drop_oldest_sign_in_counters(kept - max + 1)?;
        }
        Ok(())
    }
}

/// Forgets the failures of agent code `agent`: a successful sign-in, and
/// `agent reset-password` (which lifts a lockout someone's guessing caused;
/// a restart no longer does, the counters being in the database).
pub fn forget_agent(tx: &mut dyn Tx, agent: &str) -> anyhow::Result<()> {
    tx.delete_sign_in_counter(AGENT, agent)?;
    Ok(())
}

/// The client's address: the connection's peer, or, when the peer is a
/// trusted proxy and a proxy header is configured, the last address in that
/// header (the one the proxy itself added; earlier ones the client may have
/// written).
pub fn client_address(
    limits: &SignInLimits,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let peer = peer?.ip();
    let Some(header) = &limits.trusted_proxy_header else {
        return Some(peer);
    };
    if !limits.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all(header.as_str())
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .next_back();
    Some(forwarded.unwrap_or(peer))
}

/// The few Argon2 hashes allowed at once, and a bounded line for them.
#[derive(Debug)]
pub struct HashingGate {
    slots: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
}

/// Holds a hashing slot (and a place in line until then).
pub struct HashingSlot<'a> {
    _permit: SemaphorePermit<'a>,
}

impl HashingGate {
    pub fn new(slots: usize, queue: usize) -> HashingGate {
        HashingGate {
            slots: Semaphore::new(slots.max(1)),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// A slot, waiting in line for one; `None` when the line is full.
    pub async fn enter(&self) -> Option<HashingSlot<'_>> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Some(HashingSlot { _permit: permit });
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let permit = self.slots.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.ok().map(|permit| HashingSlot { _permit: permit })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::storage::{SqliteStorage, Storage};

    fn limits() -> SignInLimits {
        SignInLimits {
            free_failures: 2,
            lockout_after: 5,
            first_delay_ms: 1000,
            max_delay_ms: 3000,
            lockout_ms: 60_000,
            max_entries: 3,
            ..SignInLimits::default()
        }
    }

    /// A throttle over the counters of a fresh SQLite database (the
    /// platform's tests run the same rules over PostgreSQL too).
    struct Counters {
        throttle: Throttle,
        storage: Arc<dyn Storage>,
        _tmp: tempfile::TempDir,
    }

    impl Counters {
        fn new(limits: SignInLimits) -> Counters {
            let tmp = tempfile::tempdir().expect("tmp");
            let storage = Arc::new(SqliteStorage::open(tmp.path()).expect("storage"));
            Counters {
                throttle: Throttle::new(limits),
                storage,
                _tmp: tmp,
            }
        }

        fn failed(&self, keys: &[Key], now: UnixMillis) {
            self.storage
                .write_with(|tx| self.throttle.failed(tx, keys, now))
                .expect("counted");
        }

        fn check(&self, keys: &[Key], now: UnixMillis) -> Option<Throttled> {
            self.storage
                .read_with(|tx| self.throttle.check(tx, keys, now))
                .expect("checked")
        }

        fn succeeded(&self, agent: &str) {
            self.storage
                .write_with(|tx| self.throttle.succeeded(tx, agent))
                .expect("cleared");
        }

        fn kept(&self, key: &Key) -> bool {
            self.storage
                .read_with(|tx| tx.sign_in_counter(key.label(), &key.subject()))
                .expect("read")
                .is_some()
        }

        fn len(&self) -> u64 {
            self.storage
                .read_with(|tx| tx.sign_in_counters())
                .expect("counted")
        }
    }

    #[test]
    fn waits_double_up_to_the_cap_then_lock_out() {
        let throttle = Counters::new(limits());
        let key = [Key::Agent("a1".into())];
        let mut waits = Vec::new();
        let mut now = 0;
        for _ in 0..5 {
            throttle.failed(&key, now);
            waits.push(throttle.check(&key, now).map_or(0, |t| t.retry_after_ms));
            now += waits.last().copied().unwrap_or(0);
        }
        assert_eq!(
            waits,
            [0, 0, 1000, 2000, 60_000],
            "free, free, 1 s, 2 s, lockout"
        );
        throttle.succeeded("a1");
        assert!(
            throttle.check(&key, now).is_none(),
            "a success starts again"
        );
    }

    #[test]
    fn the_longest_wait_of_the_keys_is_the_answer() {
        let throttle = Counters::new(SignInLimits {
            ip_free_failures: 0,
            ..limits()
        });
        let agent = Key::Agent("a1".into());
        let address = Key::Address(IpAddr::from([10, 0, 0, 1]));
        let both = [agent.clone(), address.clone()];
        for _ in 0..4 {
            throttle.failed(std::slice::from_ref(&agent), 0);
        }
        throttle.failed(std::slice::from_ref(&address), 0);
        assert_eq!(
            throttle.check(&both, 0),
            Some(Throttled {
                key: agent,
                retry_after_ms: 2000,
            }),
            "the agent code waits 2 s, the address 1 s"
        );
        for _ in 0..2 {
            throttle.failed(std::slice::from_ref(&address), 0);
        }
        assert_eq!(
            throttle.check(&both, 500),
            Some(Throttled {
                key: address,
                retry_after_ms: 2500,
            }),
            "now the address waits longer (3 s, the cap)"
        );
        throttle.succeeded("a1");
        assert_eq!(throttle.len(), 1, "a success keeps the address's counter");
    }

    #[test]
    fn the_cap_holds_and_quiet_counters_are_forgotten() {
        let throttle = Counters::new(SignInLimits {
            ip_free_failures: 2,
            ip_lockout_after: 50,
            ..limits()
        });
        let key = [Key::Address(IpAddr::from([10, 0, 0, 1]))];
        for _ in 0..10 {
            throttle.failed(&key, 0);
        }
        assert_eq!(
            throttle.check(&key, 0).map(|t| t.retry_after_ms),
            Some(3000)
        );
        throttle.failed(&key, 60_000 + 3000);
        assert_eq!(
            throttle.check(&key, 63_000),
            None,
            "after a quiet lockout period the count starts again"
        );
    }

    #[test]
    fn the_table_is_bounded_and_quiet_counters_go_first() {
        let throttle = Counters::new(limits());
        let address = |i: u8| Key::Address(IpAddr::from([10, 0, 0, i]));
        let kept = |throttle: &Counters| -> Vec<u8> {
            (0..10).filter(|i| throttle.kept(&address(*i))).collect()
        };
        for i in 0..10u8 {
            throttle.failed(&[address(i)], i64::from(i));
        }
        assert_eq!(throttle.len(), 3, "no more than max_entries counters");
        assert_eq!(kept(&throttle), [7, 8, 9], "the oldest made room");
        throttle.failed(&[Key::Agent("a1".into())], 60_000 + 8);
        assert_eq!(
            kept(&throttle),
            [9],
            "counters quiet for the lockout period go when a new one is made"
        );
        assert!(throttle.kept(&Key::Agent("a1".into())));
        assert_eq!(throttle.len(), 2);
    }

    #[test]
    fn a_proxy_header_counts_only_from_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "1.2.3.4, 5.6.7.8".parse().expect("value"),
        );
        let proxy: SocketAddr = "127.0.0.1:4000".parse().expect("addr");
        let stranger: SocketAddr = "9.9.9.9:4000".parse().expect("addr");
        let plain = SignInLimits::default();
        assert_eq!(
            client_address(&plain, Some(proxy), &headers),
            Some(proxy.ip()),
            "no header configured: the peer"
        );
        let behind = SignInLimits {
            trusted_proxy_header: Some("X-Forwarded-For".into()),
            ..SignInLimits::default()
        };
        assert_eq!(
            client_address(&behind, Some(proxy), &headers),
            Some("5.6.7.8".parse().expect("ip")),
            "the address the proxy added (the last)"
        );
        assert_eq!(
            client_address(&behind, Some(stranger), &headers),
            Some(stranger.ip()),
            "anyone else's header is ignored"
        );
    }
}
