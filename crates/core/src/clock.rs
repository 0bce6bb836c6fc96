//! The workstation's wall clock in Unix milliseconds (the protocol's time unit).

use homedesk_protocol::UnixMillis;

pub fn now_ms() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
