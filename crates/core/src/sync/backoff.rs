//! Exponential backoff with jitter, so a thousand workstations that lost the
//! platform at the same moment do not all come back at the same moment.
//!
//! Two caps: a platform that answers that it cannot serve now (5xx, 429)
//! is given up to [`Backoff::max`] (a minute) to recover, while a platform
//! that cannot be reached at all (the village link is down: no TCP
//! connection, or it dropped mid-answer) is tried again at most every
//! [`Backoff::unreachable_max`] (10 s), so the desk is back within seconds
//! of the link. Such a try costs one TCP SYN: no TLS hello goes into a
//! link that has not connected (decision 0044).

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure (before jitter).
    pub base: Duration,
    /// Longest delay (before jitter).
    pub max: Duration,
    /// Longest delay (before jitter) while the platform cannot be reached.
    pub unreachable_max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            unreachable_max: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// Delay before attempt number `failures + 1`: `base * 2^(failures-1)`,
    /// capped at `max`, then a random point between half of it and all of it
    /// ("equal jitter": never zero, never longer than the cap).
    pub fn delay(&self, failures: u32) -> Duration {
        self.delay_under(failures, self.max)
    }

    /// [`Backoff::delay`] when the last failure was `unreachable` (no
    /// connection to the platform): capped at [`Backoff::unreachable_max`]
    /// (or `max`, if lower) instead of `max`.
    pub fn delay_after(&self, failures: u32, unreachable: bool) -> Duration {
        if unreachable {
            self.delay_under(failures, self.unreachable_max.min(self.max))
        } else {
            self.delay(failures)
        }
    }

    fn delay_under(&self, failures: u32, cap: Duration) -> Duration {
        let exponent = failures.saturating_sub(1).min(20);
        let full = self.base.saturating_mul(1 << exponent).min(cap);
        let half = full / 2;
        let jitter = rand::rng().random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_stays_under_the_cap() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(5),
            unreachable_max: Duration::from_secs(1),
        };
        for failures in 1..40 {
            let d = b.delay(failures);
            let full = Duration::from_millis(100)
                .saturating_mul(1 << (failures - 1).min(20))
                .min(Duration::from_secs(5));
            assert!(
                d >= full / 2 && d <= full,
                "{failures}: {d:?} not in [{:?}, {full:?}]",
                full / 2
            );
        }
    }

    #[test]
    fn an_unreachable_platform_is_tried_again_within_seconds_a_busy_one_after_a_minute() {
        let b = Backoff::default();
        for failures in 10..40 {
            let unreachable = b.delay_after(failures, true);
            assert!(
                unreachable >= Duration::from_secs(5) && unreachable <= Duration::from_secs(10),
                "{failures}: {unreachable:?}"
            );
            let busy = b.delay_after(failures, false);
            assert!(
                busy >= Duration::from_secs(30) && busy <= Duration::from_secs(60),
                "{failures}: {busy:?}"
            );
        }
        // Early failures grow from `base` either way.
        assert!(b.delay_after(1, true) <= Duration::from_millis(500));
        // A cap above `max` is not a cap.
        let short = Backoff {
            max: Duration::from_secs(2),
            ..b
        };
        assert!(short.delay_after(30, true) <= Duration::from_secs(2));
    }

    #[test]
    fn jitter_spreads_retries() {
        let b = Backoff::default();
        let delays: std::collections::HashSet<Duration> = (0..50).map(|_| b.delay(8)).collect();
        assert!(
            delays.len() > 10,
            "50 delays should not collapse to a few values"
        );
    }
}
