//! The unlock throttle: after [`FREE_TRIES`] wrong passwords in a row the
//! lock waits [`FIRST_WAIT_MS`], doubling with each further wrong password.
//! The count and the end of the wait live in the key file, so closing the
//! app does not reset them.

use homedesk_protocol::UnixMillis;

/// Wrong passwords answered at once.
pub const FREE_TRIES: u32 = 5;
/// The first wait, after the fifth wrong password.
pub const FIRST_WAIT_MS: u64 = 30_000;
/// The doubling stops here (30 s × 2¹² ≈ 34 h).
const MAX_DOUBLINGS: u32 = 12;

/// How long the lock waits after `failures` wrong passwords in a row.
pub fn wait_after(failures: u32) -> u64 {
    if failures < FREE_TRIES {
        return 0;
    }
    FIRST_WAIT_MS << (failures - FREE_TRIES).min(MAX_DOUBLINGS)
}

/// How much of the wait is left at `now`. A clock set back cannot make it
/// longer than the wait itself.
pub fn remaining_ms(failures: u32, wait_until_ms: UnixMillis, now: UnixMillis) -> u64 {
    let left = u64::try_from(wait_until_ms.saturating_sub(now)).unwrap_or(0);
    left.min(wait_after(failures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_free_tries_then_thirty_seconds_doubling() {
        let waits: Vec<u64> = (1..=8).map(wait_after).collect();
        assert_eq!(
            waits,
            vec![0, 0, 0, 0, 30_000, 60_000, 120_000, 240_000],
            "the wait the agent docs promise"
        );
        assert!(wait_after(u32::MAX) < 40 * 3_600_000, "capped, no overflow");
    }

    #[test]
    fn the_remaining_wait_counts_down_and_a_clock_set_back_does_not_lengthen_it() {
        assert_eq!(remaining_ms(5, 130_000, 100_000), 30_000);
        assert_eq!(remaining_ms(5, 130_000, 129_000), 1_000);
        assert_eq!(remaining_ms(5, 130_000, 130_000), 0);
        assert_eq!(remaining_ms(5, 130_000, -5_000_000), 30_000);
        assert_eq!(remaining_ms(0, 0, 100), 0);
    }
}
