//! "Data used": the PC's bytes on the wire per local day and per calendar
//! month, and the monthly budget an agent on a capped phone hotspot sets.
//!
//! The bytes come from the [`WireMeter`] every connection to the platform is
//! counted into (`sync::wire`: TLS, headers, compressed bodies, the event
//! stream, sign-in and updates). [`DataUsage::book`] moves what the meter
//! counted since the last booking onto today's date. The totals are per
//! installation, not per agent (one PC, one data plan), and are kept in
//! `data-usage.json` in the data folder: saved atomically at most every
//! [`SAVE_EVERY_MS`] and when the app stops, so a power cut loses at most
//! that much counting, never the file. An unreadable file is moved aside and
//! counting starts afresh. Days older than [`KEEP_DAYS`] are dropped.
//!
//! The budget and metered mode are the agent's preferences
//! ([`crate::settings::Preferences`]); [`DataUsage::set_policy`] hands them
//! here, where the sync engine asks [`DataUsage::defer_bulk`] whether a big
//! knowledge-base update must wait. (docs/decisions/0036-data-on-the-wire.md)

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use homedesk_protocol::UnixMillis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::clock::SharedClock;
use crate::sync::WireMeter;

/// File name of the totals inside the data folder.
pub const DATA_USAGE_FILE: &str = "data-usage.json";
/// Totals are written at most this often while counting (and at stop).
pub const SAVE_EVERY_MS: i64 = 30_000;
/// Days of totals kept (a little over a year, for "this month last year").
pub const KEEP_DAYS: usize = 400;
/// The share of the monthly budget at which the agent is warned.
pub const WARN_AT_PERCENT: u64 = 80;

/// Bytes of one local day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayBytes {
    pub sent: u64,
    pub received: u64,
}

impl DayBytes {
    fn total(self) -> u64 {
        self.sent.saturating_add(self.received)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Ledger {
    /// `YYYY-MM-DD` (local date) → bytes.
    days: BTreeMap<String, DayBytes>,
}

/// What the status bar and Settings show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "DataUsed.ts")]
pub struct DataUsed {
    /// Bytes on the wire today (local day), both ways.
    #[ts(type = "number")]
    pub today: u64,
    /// Bytes on the wire this calendar month, both ways.
    #[ts(type = "number")]
    pub month: u64,
    /// The monthly budget in bytes; `null` when none is set.
    #[ts(type = "number | null")]
    pub budget: Option<u64>,
    /// The connection is metered (a phone hotspot): big knowledge-base
    /// updates wait until the agent allows them.
    pub metered: bool,
    /// This month has used [`WARN_AT_PERCENT`] % of the budget or more.
    pub warning: bool,
}

/// The budget and metered mode, from the agent's preferences.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataPolicy {
    pub monthly_budget_bytes: Option<u64>,
    pub metered: bool,
}

#[derive(Debug)]
struct Inner {
    ledger: Ledger,
    /// Meter readings already booked onto a day.
    booked_sent: u64,
    booked_received: u64,
    last_saved_at: UnixMillis,
    dirty: bool,
    policy: DataPolicy,
}

/// The PC's data counter; see the module comment.
#[derive(Debug)]
pub struct DataUsage {
    meter: Arc<WireMeter>,
    clock: SharedClock,
    /// `None`: in memory only (tests, the CLI).
    path: Option<PathBuf>,
    inner: Mutex<Inner>,
    /// The agent allowed the waiting knowledge-base update on this metered link.
    bulk_allowed: AtomicBool,
}

impl DataUsage {
    /// The totals kept in `dir` (read now, written as counting goes on).
    pub fn open(dir: &Path, clock: SharedClock) -> Arc<DataUsage> {
        let path = dir.join(DATA_USAGE_FILE);
        let ledger = read_ledger(&path);
        Arc::new(DataUsage::with(Some(path), ledger, clock))
    }

    /// Totals that are never saved.
    pub fn in_memory(clock: SharedClock) -> Arc<DataUsage> {
        Arc::new(DataUsage::with(None, Ledger::default(), clock))
    }

    fn with(path: Option<PathBuf>, ledger: Ledger, clock: SharedClock) -> DataUsage {
        let now = clock.now_ms();
        DataUsage {
            meter: WireMeter::new(),
            clock,
            path,
            inner: Mutex::new(Inner {
                ledger,
                booked_sent: 0,
                booked_received: 0,
                last_saved_at: now,
                dirty: false,
                policy: DataPolicy::default(),
            }),
            bulk_allowed: AtomicBool::new(false),
        }
    }

    /// The meter the transports and the updater count into.
    pub fn meter(&self) -> &Arc<WireMeter> {
        &self.meter
    }

    pub fn set_policy(&self, policy: DataPolicy) {
        let mut inner = self.lock();
        if !policy.metered {
            self.bulk_allowed.store(false, Ordering::Relaxed);
        }
        inner.policy = policy;
    }

    pub fn policy(&self) -> DataPolicy {
        self.lock().policy
    }

    /// The agent allows the waiting knowledge-base update on this metered
    /// link (until metered mode is switched off and on again).
    pub fn allow_bulk(&self) {
        self.bulk_allowed.store(true, Ordering::Relaxed);
    }

    /// The allowed update has arrived: the next big one asks again.
    pub fn bulk_fetched(&self) {
        self.bulk_allowed.store(false, Ordering::Relaxed);
    }

    /// Whether a big knowledge-base update must wait: the link is metered
    /// and the agent has not allowed it.
    pub fn defer_bulk(&self) -> bool {
        self.lock().policy.metered && !self.bulk_allowed.load(Ordering::Relaxed)
    }

    /// Books what the meter counted since the last booking onto today and
    /// saves when the last save is [`SAVE_EVERY_MS`] old (or `force`).
    pub fn book(&self, force: bool) {
        let now = self.clock.now_ms();
        let mut inner = self.lock();
        let sent = self.meter.sent();
        let received = self.meter.received();
        let new_sent = sent.saturating_sub(inner.booked_sent);
        let new_received = received.saturating_sub(inner.booked_received);
        if new_sent > 0 || new_received > 0 {
            let day = inner.ledger.days.entry(local_date(now)).or_default();
            day.sent = day.sent.saturating_add(new_sent);
            day.received = day.received.saturating_add(new_received);
            inner.booked_sent = sent;
            inner.booked_received = received;
            inner.dirty = true;
            while inner.ledger.days.len() > KEEP_DAYS {
                inner.ledger.days.pop_first();
            }
        }
        let due = force || now - inner.last_saved_at >= SAVE_EVERY_MS;
        if inner.dirty
            && due
            && let Some(path) = &self.path
        {
            match write_ledger(path, &inner.ledger) {
                Ok(()) => {
                    inner.dirty = false;
                    inner.last_saved_at = now;
                }
                Err(err) => tracing::warn!("cannot save the data counter: {err}"),
            }
        }
    }

    /// Today's and this month's totals (after booking what was counted).
    pub fn used(&self) -> DataUsed {
        self.book(false);
        let now = self.clock.now_ms();
        let today = local_date(now);
        let month = &today[..7];
        let inner = self.lock();
        let today_bytes = inner.ledger.days.get(&today).copied().unwrap_or_default();
        let month_bytes = inner
            .ledger
            .days
            .range(format!("{month}-00")..=format!("{month}-99"))
            .map(|(_, day)| day.total())
            .fold(0u64, u64::saturating_add);
        let budget = inner.policy.monthly_budget_bytes;
        DataUsed {
            today: today_bytes.total(),
            month: month_bytes,
            budget,
            metered: inner.policy.metered,
            warning: budget.is_some_and(|b| {
                month_bytes.saturating_mul(100) >= b.saturating_mul(WARN_AT_PERCENT)
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for DataUsage {
    fn drop(&mut self) {
        self.book(true);
    }
}

/// The local calendar date of `at`, `YYYY-MM-DD`.
fn local_date(at: UnixMillis) -> String {
    use chrono::{Local, TimeZone};
    match Local.timestamp_millis_opt(at).earliest() {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => "1970-01-01".to_owned(),
    }
}

fn read_ledger(path: &Path) -> Ledger {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ledger::default(),
        Err(err) => {
            tracing::warn!("cannot read {}: {err}; counting afresh", path.display());
            return Ledger::default();
        }
    };
    match serde_json::from_slice::<Ledger>(&bytes) {
        Ok(ledger) => ledger,
        Err(err) => {
            let aside = path.with_extension(format!("json.unreadable-{}", crate::clock::now_ms()));
            let _ = fs::rename(path, &aside);
            tracing::warn!(
                "{} was unreadable ({err}); moved to {}, counting afresh",
                path.display(),
                aside.display()
            );
            Ledger::default()
        }
    }
}

fn write_ledger(path: &Path, ledger: &Ledger) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut json = serde_json::to_vec_pretty(ledger).map_err(std::io::Error::other)?;
    json.push(b'\n');
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(&json)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;

    const DAY: i64 = 86_400_000;

    fn count(usage: &DataUsage, sent: u64, received: u64) {
        usage.meter().add_for_test(sent, received);
    }

    #[test]
    fn bytes_are_booked_on_the_local_day_and_summed_over_the_month() {
        // Noon on 2026-03-10 in any time zone within ±11 h.
        let clock = FakeClock::at(1_773_144_000_000);
        let usage = DataUsage::in_memory(clock.clone());
        count(&usage, 1_000, 9_000);
        assert_eq!(usage.used().today, 10_000);
        clock.advance(DAY);
        count(&usage, 500, 500);
        let used = usage.used();
        assert_eq!(used.today, 1_000, "a new day starts at zero");
        assert_eq!(used.month, 11_000, "the month sums its days");
        clock.advance(25 * DAY);
        assert_eq!(usage.used().month, 0, "a new month starts at zero");
    }

    #[test]
    fn totals_survive_a_restart_and_an_unreadable_file_is_moved_aside() {
        let dir = tempfile::tempdir().expect("dir");
        let clock = FakeClock::at(1_773_144_000_000);
        {
            let usage = DataUsage::open(dir.path(), clock.clone());
            count(&usage, 100, 200);
            // Dropping saves (the app stopping).
        }
        let usage = DataUsage::open(dir.path(), clock.clone());
        assert_eq!(usage.used().today, 300);
        drop(usage);

        fs::write(dir.path().join(DATA_USAGE_FILE), b"{ not json").expect("write");
        let usage = DataUsage::open(dir.path(), clock);
        assert_eq!(usage.used().today, 0, "an unreadable file counts afresh");
        let aside = fs::read_dir(dir.path())
            .expect("list")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().contains("unreadable"));
        assert!(aside, "the unreadable file is kept aside for support");
    }

    #[test]
    fn saves_wait_for_the_interval_unless_forced() {
        let dir = tempfile::tempdir().expect("dir");
        let clock = FakeClock::at(1_773_144_000_000);
        let usage = DataUsage::open(dir.path(), clock.clone());
        let path = dir.path().join(DATA_USAGE_FILE);
        count(&usage, 10, 10);
        usage.book(false);
        assert!(!path.exists(), "not saved before the interval");
        clock.advance(SAVE_EVERY_MS);
        usage.book(false);
        assert!(path.exists(), "saved once the interval passed");
    }

    #[test]
    fn the_warning_comes_at_eighty_percent_of_the_budget() {
        let clock = FakeClock::at(1_773_144_000_000);
        let usage = DataUsage::in_memory(clock);
        usage.set_policy(DataPolicy {
            monthly_budget_bytes: Some(1_000),
            metered: false,
        });
        count(&usage, 0, 799);
        assert!(!usage.used().warning);
        count(&usage, 0, 1);
        let used = usage.used();
        assert!(used.warning, "{used:?}");
        assert_eq!(used.budget, Some(1_000));
    }

    #[test]
    fn metered_mode_defers_bulk_updates_until_allowed() {
        let usage = DataUsage::in_memory(FakeClock::at(0));
        assert!(!usage.defer_bulk(), "not metered: nothing waits");
        usage.set_policy(DataPolicy {
            monthly_budget_bytes: None,
            metered: true,
        });
        assert!(usage.defer_bulk());
        usage.allow_bulk();
        assert!(!usage.defer_bulk(), "allowed by the agent");
        usage.set_policy(DataPolicy::default());
        usage.set_policy(DataPolicy {
            monthly_budget_bytes: None,
            metered: true,
        });
        assert!(
            usage.defer_bulk(),
            "switching metered off and on asks again"
        );
    }
}
