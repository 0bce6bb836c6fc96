//! Limits on guessing passwords: failed sign-ins slow down, then lock out,
//! each agent code and each client address; and only a few Argon2 hashes
//! run at once, so a flood of sign-ins cannot take the server's memory.
//!
//! The counters live in memory, in one bounded map (decision 0031): the
//! platform runs as one process today, a restart forgets them (an attacker
//! who can restart the server needs no guessing), and issue 19 moves such
//! state to the database when there are several instances. A key's counter
//! is forgotten once it has been quiet for the lockout period, and the
//! oldest entries make room when the map is full.
//!
//! A throttled attempt is answered before the password is looked at, so
//! waiting is the only way on; a right password during a wait does not
//! help.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::HeaderMap;
use homedesk_protocol::UnixMillis;
use tokio::sync::{Semaphore, SemaphorePermit};

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

/// What a counter is kept for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Agent(String),
    Address(IpAddr),
}

impl Key {
    /// The metric label of what was throttled.
    pub fn label(&self) -> &'static str {
        match self {
            Key::Agent(_) => "agent",
            Key::Address(_) => "address",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: UnixMillis,
    wait_until: UnixMillis,
}

/// The failure counters of one platform.
#[derive(Debug)]
pub struct Throttle {
    limits: SignInLimits,
    entries: Mutex<HashMap<Key, Entry>>,
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
        Throttle {
            limits,
            entries: Mutex::new(HashMap::new()),
        }
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

    /// The longest wait any of `keys` is in at `now`, if any.
    pub fn check(&self, keys: &[Key], now: UnixMillis) -> Option<Throttled> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter()
            .filter_map(|key| {
                let entry = entries.get(key)?;
                (entry.wait_until > now).then(|| Throttled {
                    key: key.clone(),
                    retry_after_ms: entry.wait_until - now,
                })
            })
            .max_by_key(|t| t.retry_after_ms)
    }

    /// Counts a failed sign-in against each of `keys`.
    pub fn failed(&self, keys: &[Key], now: UnixMillis) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if !entries.contains_key(key) && entries.len() >= self.limits.max_entries {
                self.make_room(&mut entries, now);
            }
            let (free, lockout_after) = self.thresholds(key);
            let entry = entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last_failure: now,
                wait_until: 0,
            });
            if self.forgotten(entry, now) {
                *entry = Entry {
                    failures: 0,
                    last_failure: now,
                    wait_until: 0,
                };
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure = now;
            entry.wait_until = if entry.failures >= lockout_after {
                now + self.limits.lockout_ms
            } else if entry.failures > free {
                let doublings = (entry.failures - free - 1).min(30);
                now + (self.limits.first_delay_ms << doublings).min(self.limits.max_delay_ms)
            } else {
                0
            };
        }
    }

    /// A successful sign-in: the agent code starts again. (An address's
    /// counter is kept: one account of one's own must not buy more guesses
    /// at others'.)
    pub fn succeeded(&self, agent: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&Key::Agent(agent.to_owned()));
    }

    /// Quiet for a lockout period and not waiting: the failures no longer count.
    fn forgotten(&self, entry: &Entry, now: UnixMillis) -> bool {
        entry.wait_until <= now && now - entry.last_failure >= self.limits.lockout_ms
    }

    /// Drops forgotten counters; if none were, the one whose last failure is oldest.
    fn make_room(&self, entries: &mut HashMap<Key, Entry>, now: UnixMillis) {
        entries.retain(|_, entry| !self.forgotten(entry, now));
        if entries.len() >= self.limits.max_entries
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.last_failure)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
    }

    /// Counters kept now (for tests of the bound).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
    use super::*;

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

    #[test]
    fn waits_double_up_to_the_cap_then_lock_out() {
        let throttle = Throttle::new(limits());
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
    fn the_cap_holds_and_quiet_counters_are_forgotten() {
        let throttle = Throttle::new(SignInLimits {
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
    fn the_map_is_bounded() {
        let throttle = Throttle::new(limits());
        for i in 0..10u8 {
            throttle.failed(&[Key::Address(IpAddr::from([10, 0, 0, i]))], i64::from(i));
        }
        assert_eq!(throttle.len(), 3, "no more than max_entries counters");
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
