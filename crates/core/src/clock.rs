//! The workstation's wall clock in Unix milliseconds (the protocol's time unit).

use homedesk_protocol::UnixMillis;

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
    #[test]
    fn the_local_day_contains_the_moment() {
        let now = super::now_ms();
        let (start, end) = super::local_day(now);
        assert!(start <= now && now < end);
        assert!((23 * 3_600_000..=25 * 3_600_000).contains(&(end - start)));
    }
}
