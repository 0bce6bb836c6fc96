//! The workstation's clock, in Unix milliseconds (the protocol's time unit).
//!
//! Everything in the core that depends on the time of day takes a
//! [`Clock`]: the desk (through its sync engine), the SLA watch and the
//! practice simulator share one, so a test drives them all with a
//! [`FakeClock`] and never sleeps to make time pass. [`SystemClock`] is the
//! real one; [`now_ms`] reads the wall clock directly, for callers outside
//! the core such as the CLI (see
//! docs/decisions/0019-clock-and-policy-in-core.md).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use homedesk_protocol::UnixMillis;

/// Where the time comes from.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> UnixMillis;
}

impl std::fmt::Debug for dyn Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now_ms())
    }
}

/// One clock shared by the parts of a desk.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> UnixMillis {
        now_ms()
    }
}

/// The wall clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that moves only when told: tests set it and advance it.
#[derive(Debug, Default)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    /// A fake clock standing at `at`.
    pub fn at(at: UnixMillis) -> Arc<FakeClock> {
        Arc::new(FakeClock(AtomicI64::new(at)))
    }

    pub fn set(&self, at: UnixMillis) {
        self.0.store(at, Ordering::SeqCst);
    }

    pub fn advance(&self, by_ms: i64) {
        self.0.fetch_add(by_ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> UnixMillis {
        self.0.load(Ordering::SeqCst)
    }
}

/// Any `Fn() -> UnixMillis` is a clock (a test's closure over its own
/// counter, or [`now_ms`] itself).
impl<F: Fn() -> UnixMillis + Send + Sync> Clock for F {
    fn now_ms(&self) -> UnixMillis {
        self()
    }
}

/// The wall clock, read directly.
pub fn now_ms() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The workstation's local calendar day containing `at`: `[start, end)` in
/// Unix milliseconds (a day is not always 24 hours where clocks change).
pub fn local_day(at: UnixMillis) -> (UnixMillis, UnixMillis) {
    use chrono::{Days, Local, TimeZone};
    let Some(now) = Local.timestamp_millis_opt(at).earliest() else {
        return (at, at + 1);
    };
    let start_of = |date: chrono::NaiveDate| {
        date.and_hms_opt(0, 0, 0)
            .and_then(|midnight| Local.from_local_datetime(&midnight).earliest())
            .map(|t| t.timestamp_millis())
    };
    let today = now.date_naive();
    let start = start_of(today).unwrap_or(at - 86_400_000);
    let end = today
        .checked_add_days(Days::new(1))
        .and_then(start_of)
        .unwrap_or(start + 86_400_000);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::{Clock, FakeClock};

    #[test]
    fn a_fake_clock_moves_only_when_told() {
        let clock = FakeClock::at(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(10);
        assert_eq!(clock.now_ms(), 10, "set goes back too (a clock change)");
    }
    #[test]
    fn the_local_day_contains_the_moment() {
        let now = super::now_ms();
        let (start, end) = super::local_day(now);
        assert!(start <= now && now < end);
        assert!((23 * 3_600_000..=25 * 3_600_000).contains(&(end - start)));
    }
}
