//! Token buckets for the web chat's abuse limits: one bucket per key (a
//! customer, an IP address), `per_minute` tokens deep, refilled evenly over
//! a minute. A request takes one token or is refused with the seconds until
//! one is back (the page says "wait a moment", the `Retry-After` header
//! says how long).
//!
//! Time comes from the caller (milliseconds), so tests move it by hand.
//! Buckets live in memory: a restart forgives everyone, which is fine for
//! limits measured in seconds. The map forgets full buckets when it grows
//! large, so a flood of one-off addresses cannot grow it without bound.

use std::collections::HashMap;
use std::sync::Mutex;

use homedesk_protocol::UnixMillis;

/// Buckets past this many are pruned of the ones that are full again.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: UnixMillis,
}

/// One limit (`per_minute`) applied to many keys.
#[derive(Debug)]
pub struct Buckets {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    /// `per_minute` requests a minute per key, all of them at once if the
    /// key was quiet for a minute. 0 refuses everything.
    pub fn new(per_minute: u32) -> Buckets {
        Buckets {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    /// Tokens a bucket regains per millisecond.
    fn refill_per_ms(&self) -> f64 {
        self.capacity() / 60_000.0
    }

    fn level(&self, bucket: Bucket, now: UnixMillis) -> f64 {
        let elapsed = (now - bucket.at).max(0) as f64;
        (bucket.tokens + elapsed * self.refill_per_ms()).min(self.capacity())
    }

    /// Takes a token for `key` at `now`: `Ok(())`, or `Err(seconds)` until
    /// the next token (at least 1).
    pub fn take(&self, key: &str, now: UnixMillis) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Err(60);
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| self.level(*b, now) < self.capacity());
        }
        let full = Bucket {
            tokens: self.capacity(),
            at: now,
        };
        let bucket = buckets.entry(key.to_owned()).or_insert(full);
        let tokens = self.level(*bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            let wait_ms = (1.0 - tokens) / self.refill_per_ms();
            Err(((wait_ms / 1000.0).ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Buckets;

    #[test]
    fn a_burst_up_to_the_limit_passes_and_the_next_waits_for_a_refill() {
        let limit = Buckets::new(3);
        for i in 0..3 {
            assert_eq!(limit.take("c1", 1_000), Ok(()), "request {i} of the burst");
        }
        // One token comes back every 20 s at 3 a minute.
        assert_eq!(limit.take("c1", 1_000), Err(20));
        assert_eq!(limit.take("c1", 11_000), Err(10));
        assert_eq!(limit.take("c1", 21_000), Ok(()));
        assert_eq!(limit.take("c1", 21_000), Err(20));
    }

    #[test]
    fn keys_do_not_share_a_bucket() {
        let limit = Buckets::new(1);
        assert_eq!(limit.take("a", 0), Ok(()));
        assert!(limit.take("a", 0).is_err());
        assert_eq!(limit.take("b", 0), Ok(()), "another customer is not slowed");
    }

    #[test]
    fn a_quiet_minute_refills_no_more_than_the_limit() {
        let limit = Buckets::new(2);
        assert_eq!(limit.take("a", 0), Ok(()));
        // Ten quiet minutes still give a burst of 2, not 20.
        for _ in 0..2 {
            assert_eq!(limit.take("a", 600_000), Ok(()));
        }
        assert!(limit.take("a", 600_000).is_err());
    }

    #[test]
    fn zero_refuses_everything() {
        assert_eq!(Buckets::new(0).take("a", 0), Err(60));
    }
}
