//! What a run measured: the [`Recorder`] every agent and customer writes
//! into while the run goes, and the [`RunResult`] made of it, as text, JSON
//! and a Markdown table row.
//!
//! Samples carry the time they were taken (milliseconds since the run
//! began), so the result keeps only those of the measured window; counters
//! are snapshots at the window's start and end.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// The definitions the figures follow (also in docs/benchmarks.md).
pub const DEFINITIONS: &str = "\
action latency: one `POST /v1/actions` round trip (one action per request, with `?cursor=` \
as the workstation sends it), from just before the request is sent until its whole answer is \
read, for every answer with an HTTP status; requests without an answer are errors. \
Event delivery: for each customer message, from just before its `POST /v1/ingress/{channel}` \
is sent until the first simulated agent holds the message record: the `changes` event that \
carries it inline has been read off the agent's stream, or the answer of the pull \
(`GET /v1/changes`, made because a poke said the log grew) or of the agent's own push that \
carries it has been read. A new conversation's first message is counted when its first queue \
agent has it; a later message when its assignee has it (no one else sees it). \
Samples of the measured window only: actions sent and messages sent within it.";

/// Where samples and counters go during a run (one per run, shared).
pub struct Recorder {
    epoch: Instant,
    inner: Mutex<Samples>,
}

#[derive(Default)]
struct Samples {
    /// (taken at, latency), both in microseconds / milliseconds as named.
    actions: Vec<(u32, u32)>,
    delivery_first: Vec<(u32, u32)>,
    delivery_all: Vec<(u32, u32)>,
    ingress: Vec<(u32, u32)>,
    counts: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    /// The first few error messages, to tell what went wrong.
    examples: Vec<String>,
}

const EXAMPLES: usize = 20;

#[derive(Clone, Copy)]
pub enum Series {
    Action,
    DeliveryFirst,
    DeliveryAll,
    Ingress,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            epoch: Instant::now(),
            inner: Mutex::new(Samples::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Samples> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Milliseconds since the run began.
    pub fn at(&self, when: Instant) -> u32 {
        when.saturating_duration_since(self.epoch).as_millis() as u32
    }

    /// A latency sample of `series`, taken at `start` (a request sent, a
    /// message sent).
    pub fn sample(&self, series: Series, start: Instant, latency: Duration) {
        let entry = (
            self.at(start),
            latency.as_micros().min(u32::MAX as u128) as u32,
        );
        let mut s = self.lock();
        match series {
            Series::Action => s.actions.push(entry),
            Series::DeliveryFirst => s.delivery_first.push(entry),
            Series::DeliveryAll => s.delivery_all.push(entry),
            Series::Ingress => s.ingress.push(entry),
        }
    }

    /// Something that happened (not an error): an applied action, a
    /// conflict, a pull.
    pub fn count(&self, what: &str) {
        *self.lock().counts.entry(what.to_owned()).or_default() += 1;
    }

    /// An error: counted under `kind`, the first few kept with `detail`.
    pub fn error(&self, kind: &str, detail: impl std::fmt::Display) {
        let mut s = self.lock();
        *s.errors.entry(kind.to_owned()).or_default() += 1;
        if s.examples.len() < EXAMPLES {
            let at = self.at(Instant::now()) as f64 / 1000.0;
            s.examples.push(format!("{at:.1} s: {kind}: {detail}"));
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let s = self.lock();
        Snapshot {
            counts: s.counts.clone(),
            errors: s.errors.clone(),
        }
    }

    /// The latencies of `series` whose start lies in `[from, to)`.
    pub fn latency(&self, series: Series, from: Instant, to: Instant) -> Latency {
        let (from, to) = (self.at(from), self.at(to));
        let s = self.lock();
        let samples = match series {
            Series::Action => &s.actions,
            Series::DeliveryFirst => &s.delivery_first,
            Series::DeliveryAll => &s.delivery_all,
            Series::Ingress => &s.ingress,
        };
        Latency::of(
            samples
                .iter()
                .filter(|(at, _)| (from..to).contains(at))
                .map(|(_, us)| *us)
                .collect(),
        )
    }

    pub fn examples(&self) -> Vec<String> {
        self.lock().examples.clone()
    }
}

/// Counters at one moment.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub counts: BTreeMap<String, u64>,
    pub errors: BTreeMap<String, u64>,
}

impl Snapshot {
    /// What happened between `earlier` and this one.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let diff = |now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            now.iter()
                .map(|(k, v)| (k.clone(), v - then.get(k).copied().unwrap_or(0)))
                .filter(|(_, v)| *v > 0)
                .collect()
        };
        Snapshot {
            counts: diff(&self.counts, &earlier.counts),
            errors: diff(&self.errors, &earlier.errors),
        }
    }
}

/// Percentiles of one series, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(mut micros: Vec<u32>) -> Latency {
        if micros.is_empty() {
            return Latency::default();
        }
        micros.sort_unstable();
        // Nearest rank: the smallest sample with at least p% at or below it.
        let rank = |p: f64| {
            let i = ((p / 100.0) * micros.len() as f64).ceil() as usize;
            micros[i.clamp(1, micros.len()) - 1] as f64 / 1000.0
        };
        Latency {
            count: micros.len(),
            p50_ms: rank(50.0),
            p95_ms: rank(95.0),
            p99_ms: rank(99.0),
            max_ms: micros[micros.len() - 1] as f64 / 1000.0,
        }
    }
}

/// CPU and memory of one process over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcUsage {
    pub pid: u32,
    /// CPU time over the ramp, as a percentage of one core (200 = both cores).
    pub cpu_ramp_pct: f64,
    /// CPU time over the measured window, the same way.
    pub cpu_window_pct: f64,
    /// Largest resident set seen during the window (sampled each second).
    pub rss_window_max_mib: f64,
    /// The kernel's peak resident set since the process started (VmHWM).
    pub rss_peak_mib: f64,
    /// Most threads seen during the window.
    pub threads_max: u64,
}

/// What one platform instance did in the measured window, from its
/// `GET /metrics` at the window's start and end.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InstanceWork {
    pub url: String,
    /// HTTP requests it answered (the event streams', the agents', the
    /// customers' ingress).
    pub http_requests: u64,
    /// Offers its routing passes made.
    pub offers_made: u64,
    /// Change-log entries it sent to workstations (pulls, push answers,
    /// inline pages).
    pub changes_served: u64,
    /// Event streams open on it at the window's end.
    pub event_streams: u64,
}

/// The CPU of the processes of one name over the window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NamedUsage {
    pub name: String,
    /// Percent of one core (200 = both).
    pub cpu_window_pct: f64,
}

/// The machine's CPU over the window, percent of all its cores.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MachineUsage {
    /// Everything but idle and steal.
    pub busy_pct: f64,
    pub user_pct: f64,
    pub system_pct: f64,
    /// Interrupts and softirqs (loopback networking runs there).
    pub irq_pct: f64,
    /// Taken by other virtual machines on the same cores.
    pub steal_pct: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Errors {
    /// Errors of the measured window, by kind.
    pub window: BTreeMap<String, u64>,
    /// Errors of the whole run (ramp, warm-up, window, the end), by kind.
    pub total: BTreeMap<String, u64>,
    /// The first few, with their messages.
    pub examples: Vec<String>,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.total.values().sum()
    }

    pub fn in_window(&self) -> u64 {
        self.window.values().sum()
    }
}

/// What one run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunResult {
    pub agents: usize,
    pub urls: Vec<String>,
    /// Where the agents' requests went (several instances: in turn, or to
    /// the instance of the agent's stream).
    pub requests: Option<crate::Requests>,
    /// Agents signed in, synced and available when the ramp ended.
    pub ready_agents: usize,
    pub ramp_completed: bool,
    pub ramp_secs: f64,
    pub warmup_secs: f64,
    pub window_secs: f64,
    /// New contacts a minute (all customers).
    pub contacts_per_minute: f64,
    pub actions: Latency,
    pub delivery: Latency,
    /// Every agent that received a customer message, not only the first
    /// (a new conversation reaches all agents of its queue).
    pub delivery_all_receivers: Latency,
    pub ingress: Latency,
    /// Customer messages sent in the window (ingress accepted).
    pub customer_messages: u64,
    /// Of those, how many no agent had received when the run ended (a few
    /// seconds after the window).
    pub undelivered: u64,
    /// What happened in the window, by kind (applied actions, conflicts,
    /// pulls, …).
    pub counts: BTreeMap<String, u64>,
    pub errors: Errors,
    /// One per platform instance, in the order of `urls`.
    pub platform: Vec<ProcUsage>,
    /// Each instance's work in the window (when its metrics could be read).
    pub instances: Vec<InstanceWork>,
    pub loadgen: ProcUsage,
    /// The whole machine's CPU during the window (all processes), percent
    /// of all cores.
    pub machine: MachineUsage,
    /// Other programs measured by name (PostgreSQL's processes).
    pub others: Vec<NamedUsage>,
    /// PostgreSQL: transactions a second the database ran in the window
    /// (every instance's, committed or rolled back).
    pub database_transactions_per_sec: Option<f64>,
    pub definitions: String,
}

/// The targets of issue 19.
pub const TARGET_ACTION_P95_MS: f64 = 300.0;
pub const TARGET_DELIVERY_P95_MS: f64 = 1000.0;

impl RunResult {
    /// Whether the run met the targets: every agent came up, p95 action
    /// latency under 300 ms, p95 event delivery under 1 s, no error and no
    /// lost message in the window, and there was traffic to judge.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    /// Why it did not pass.
    pub fn failures(&self) -> Vec<String> {
        let mut why = Vec::new();
        if !self.ramp_completed {
            why.push(format!(
                "ramp: {} of {} agents ready",
                self.ready_agents, self.agents
            ));
            return why;
        }
        if self.actions.count == 0 || self.delivery.count == 0 {
            why.push("no traffic measured".to_owned());
        }
        if self.actions.p95_ms >= TARGET_ACTION_P95_MS {
            why.push(format!("action p95 {:.0} ms", self.actions.p95_ms));
        }
        if self.delivery.p95_ms >= TARGET_DELIVERY_P95_MS {
            why.push(format!("delivery p95 {:.0} ms", self.delivery.p95_ms));
        }
        if self.errors.in_window() > 0 {
            why.push(format!("{} errors", self.errors.in_window()));
        }
        if self.undelivered > 0 {
            why.push(format!("{} undelivered", self.undelivered));
        }
        why
    }
}

fn lat(l: &Latency) -> String {
    format!(
        "{} × p50 {:.1} / p95 {:.1} / p99 {:.1} / max {:.1} ms",
        l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
    )
}

/// The human-readable report of one run.
pub fn text(r: &RunResult) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!(
        "{} agents on {}{}; ramp {:.1} s ({} ready), warm-up {:.0} s, window {:.0} s, {:.1} contacts/min",
        r.agents,
        r.urls.join(", "),
        match r.requests {
            Some(crate::Requests::Alternate) if r.urls.len() > 1 => " (requests in turn)",
            Some(crate::Requests::WithStream) if r.urls.len() > 1 => " (requests with the stream)",
            _ => "",
        },
        r.ramp_secs,
        r.ready_agents,
        r.warmup_secs,
        r.window_secs,
        r.contacts_per_minute
    ));
    line(format!("action latency:  {}", lat(&r.actions)));
    line(format!("event delivery:  {}", lat(&r.delivery)));
    line(format!(
        "  (all receivers {})",
        lat(&r.delivery_all_receivers)
    ));
    line(format!("ingress:         {}", lat(&r.ingress)));
    line(format!(
        "customer messages in the window: {}, undelivered at the end: {}",
        r.customer_messages, r.undelivered
    ));
    for (what, n) in &r.counts {
        line(format!("  {what}: {n}"));
    }
    line(format!(
        "errors: {} in the window, {} in the whole run",
        r.errors.in_window(),
        r.errors.total()
    ));
    for (what, n) in &r.errors.total {
        line(format!("  {what}: {n}"));
    }
    for example in &r.errors.examples {
        line(format!("  e.g. {example}"));
    }
    for p in &r.platform {
        line(format!(
            "platform pid {}: CPU {:.0}% in the ramp, {:.0}% in the window (of one core); RSS max {:.0} MiB in the window, peak {:.0} MiB; {} threads",
            p.pid,
            p.cpu_ramp_pct,
            p.cpu_window_pct,
            p.rss_window_max_mib,
            p.rss_peak_mib,
            p.threads_max
        ));
    }
    for (i, w) in r.instances.iter().enumerate() {
        line(format!(
            "instance {} ({}): {} HTTP requests, {} offers made, {} changes served in the window; {} event streams open",
            i + 1,
            w.url,
            w.http_requests,
            w.offers_made,
            w.changes_served,
            w.event_streams
        ));
    }
    line(format!(
        "load generator: CPU {:.0}% in the ramp, {:.0}% in the window; peak RSS {:.0} MiB",
        r.loadgen.cpu_ramp_pct, r.loadgen.cpu_window_pct, r.loadgen.rss_peak_mib
    ));
    for other in &r.others {
        line(format!(
            "{} processes: CPU {:.0}% in the window (of one core)",
            other.name, other.cpu_window_pct
        ));
    }
    if let Some(t) = r.database_transactions_per_sec {
        line(format!(
            "database: {t:.0} transactions a second in the window"
        ));
    }
    let m = &r.machine;
    line(format!(
        "machine in the window (% of both cores): {:.0}% busy (user {:.0}, system {:.0}, interrupts {:.0}), {:.0}% stolen by other VMs",
        m.busy_pct, m.user_pct, m.system_pct, m.irq_pct, m.steal_pct
    ));
    let failures = r.failures();
    line(if failures.is_empty() {
        "targets (p95 action < 300 ms, p95 delivery < 1 s, no errors): met".to_owned()
    } else {
        format!("targets not met: {}", failures.join("; "))
    });
    out
}

/// The Markdown table's header (see [`markdown_row`]). With several
/// instances the platform's CPU and RSS are their sum, then each's.
pub const TABLE_HEADER: &str = "\
| agents | ramp | actions in window | action p50 / p95 / p99 | messages | delivery p50 / p95 / p99 | delivery p95, all receivers | errors (window / run) | platform CPU (100% = 1 core) | database CPU | database transactions/s | platform RSS peak | loadgen CPU | machine busy (steal) | targets |
|---:|---:|---:|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|";

/// One row of the bench's table.
pub fn markdown_row(r: &RunResult) -> String {
    let ms = |v: f64| {
        if v >= 1000.0 {
            format!("{:.2} s", v / 1000.0)
        } else {
            format!("{v:.0} ms")
        }
    };
    // Several instances: the sum, then each.
    let cpu = sum_and_each(
        &r.platform
            .iter()
            .map(|p| p.cpu_window_pct)
            .collect::<Vec<_>>(),
        "%",
    );
    let rss = sum_and_each(
        &r.platform
            .iter()
            .map(|p| p.rss_peak_mib)
            .collect::<Vec<_>>(),
        " MiB",
    );
    let failures = r.failures();
    format!(
        "| {} | {:.0} s | {} | {} / {} / {} | {} ({} lost) | {} / {} / {} | {} | {} / {} | {} | {} | {} | {} | {:.0}% | {:.0}% ({:.0}%) | {} |",
        r.agents,
        r.ramp_secs,
        r.actions.count,
        ms(r.actions.p50_ms),
        ms(r.actions.p95_ms),
        ms(r.actions.p99_ms),
        r.customer_messages,
        r.undelivered,
        ms(r.delivery.p50_ms),
        ms(r.delivery.p95_ms),
        ms(r.delivery.p99_ms),
        ms(r.delivery_all_receivers.p95_ms),
        r.errors.in_window(),
        r.errors.total(),
        cpu,
        if r.others.is_empty() {
            "–".to_owned()
        } else {
            r.others
                .iter()
                .map(|o| format!("{:.0}%", o.cpu_window_pct))
                .collect::<Vec<_>>()
                .join(" + ")
        },
        r.database_transactions_per_sec
            .map_or_else(|| "–".to_owned(), |t| format!("{t:.0}")),
        rss,
        r.loadgen.cpu_window_pct,
        r.machine.busy_pct,
        r.machine.steal_pct,
        if failures.is_empty() {
            "met".to_owned()
        } else {
            format!("**not met**: {}", failures.join("; "))
        }
    )
}

/// `v` as one figure, or with several their sum and then each:
/// `97% (49 + 48)`.
fn sum_and_each(v: &[f64], unit: &str) -> String {
    match v {
        [] => "–".to_owned(),
        [one] => format!("{one:.0}{unit}"),
        several => format!(
            "{:.0}{unit} ({})",
            several.iter().sum::<f64>(),
            several
                .iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(" + ")
        ),
    }
}

/// The header of the per-instance table (see [`instance_rows`]).
pub const INSTANCE_TABLE_HEADER: &str = "\
| agents | instance | event streams | CPU in the window (100% = 1 core) | RSS peak | HTTP requests | offers made | changes served |
|---:|---:|---:|---:|---:|---:|---:|---:|";

/// One row per instance of a run on several: what each did in the window.
pub fn instance_rows(r: &RunResult) -> Vec<String> {
    if r.platform.len() < 2 {
        return Vec::new();
    }
    r.platform
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let work = r.instances.get(i);
            let n =
                |f: fn(&InstanceWork) -> u64| work.map_or("–".to_owned(), |w| f(w).to_string());
            format!(
                "| {} | {} | {} | {:.0}% | {:.0} MiB | {} | {} | {} |",
                r.agents,
                i + 1,
                n(|w| w.event_streams),
                p.cpu_window_pct,
                p.rss_peak_mib,
                n(|w| w.http_requests),
                n(|w| w.offers_made),
                n(|w| w.changes_served),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_instances_show_the_sum_then_each() {
        assert_eq!(sum_and_each(&[45.4], "%"), "45%");
        assert_eq!(sum_and_each(&[49.2, 48.1], "%"), "97% (49 + 48)");
        assert_eq!(sum_and_each(&[], " MiB"), "–");
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let l = Latency::of((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!(l.count, 100);
        assert_eq!(l.p50_ms, 50.0);
        assert_eq!(l.p95_ms, 95.0);
        assert_eq!(l.p99_ms, 99.0);
        assert_eq!(l.max_ms, 100.0);
        assert_eq!(Latency::of(vec![7000]).p95_ms, 7.0);
        assert_eq!(Latency::of(Vec::new()).count, 0);
    }
}
