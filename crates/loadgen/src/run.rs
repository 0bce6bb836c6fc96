//! One run: the phases and the measuring.
//!
//! 1. Ramp: every agent signs in (a few at a time, so the platform's
//!    password-hashing gate never refuses them), opens its stream, syncs and
//!    becomes available; the run fails if that takes longer than
//!    `--ramp-timeout`.
//! 2. Warm-up: customers start arriving; conversations build up; nothing
//!    is measured.
//! 3. The window (`--duration`): samples of actions sent and customer
//!    messages sent within it count; the CPU time of each process over it,
//!    its largest RSS (sampled each second) and the machine's busy share.
//! 4. The end: customers stop, agents work on for a few seconds so the
//!    window's last messages can arrive, then everything stops. A message
//!    of the window no agent has by then is "undelivered".

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Url;
use tokio::sync::{mpsc, watch};

use crate::agent::{Agent, Shared};
use crate::customers::Customers;
use crate::report::{self, Errors, InstanceWork, ProcUsage, Recorder, RunResult, Series};
use crate::{LoadArgs, Requests, net, procstat};

/// The demo world's queues, over which `--demo-agents` spreads the agents.
const DEMO_QUEUES: f64 = 4.0;

/// After the window: how long agents go on so the last messages arrive.
const GRACE: Duration = Duration::from_secs(5);

/// Where the load goes.
pub struct Target {
    pub urls: Vec<Url>,
    pub ca: PathBuf,
    pub ingress_secret: String,
    pub platform_pids: Vec<u32>,
    /// Other programs to measure by command name (`postgres`).
    pub measure_names: Vec<String>,
    /// The instances' metrics token: each one's `GET /metrics` is read at
    /// the window's start and end (what each did).
    pub metrics_token: Option<String>,
    /// The PostgreSQL database the instances share: its transactions in
    /// the window are counted (`pg_stat_database`).
    pub database: Option<String>,
}

/// The code of agent `i` (from 1), as `serve --demo --demo-agents` names them.
fn agent_code(i: usize) -> String {
    format!("l{i:05}")
}

/// CPU and memory readings of the platform processes and of this one.
struct Usage {
    pids: Vec<Option<u32>>,
    start: Vec<procstat::Reading>,
    ramp_end: Vec<procstat::Reading>,
    window_start: Vec<procstat::Reading>,
    window_end: Vec<procstat::Reading>,
    rss_max: Vec<u64>,
    threads_max: Vec<u64>,
}

impl Usage {
    fn new(platform_pids: &[u32]) -> Usage {
        let mut pids: Vec<Option<u32>> = platform_pids.iter().copied().map(Some).collect();
        pids.push(None);
        let mut usage = Usage {
            start: Vec::new(),
            ramp_end: Vec::new(),
            window_start: Vec::new(),
            window_end: Vec::new(),
            rss_max: vec![0; pids.len()],
            threads_max: vec![0; pids.len()],
            pids,
        };
        usage.start = usage.read(None);
        usage
    }

    /// Reads every process; a process that has ended reads as zeros and is
    /// an error.
    fn read(&self, rec: Option<&Recorder>) -> Vec<procstat::Reading> {
        self.pids
            .iter()
            .map(|pid| match procstat::read(*pid) {
                Ok(reading) => reading,
                Err(err) => {
                    if let Some(rec) = rec {
                        rec.error("platform process", format!("{err:#}"));
                    }
                    procstat::Reading::default()
                }
            })
            .collect()
    }

    fn sample_peaks(&mut self, rec: &Recorder) {
        for (i, reading) in self.read(Some(rec)).into_iter().enumerate() {
            self.rss_max[i] = self.rss_max[i].max(reading.rss_kib);
            self.threads_max[i] = self.threads_max[i].max(reading.threads);
        }
    }

    fn usage(&self, i: usize, ramp: Duration, window: Duration) -> ProcUsage {
        let pct = |from: &[procstat::Reading], to: &[procstat::Reading], over: Duration| match (
            from.get(i),
            to.get(i),
        ) {
            (Some(a), Some(b)) if over.as_secs_f64() > 0.0 => {
                (b.cpu_secs - a.cpu_secs).max(0.0) / over.as_secs_f64() * 100.0
            }
            _ => 0.0,
        };
        let last = self
            .window_end
            .get(i)
            .or_else(|| self.ramp_end.get(i))
            .copied()
            .unwrap_or_default();
        ProcUsage {
            pid: self.pids[i].unwrap_or_else(std::process::id),
            cpu_ramp_pct: pct(&self.start, &self.ramp_end, ramp),
            cpu_window_pct: pct(&self.window_start, &self.window_end, window),
            rss_window_max_mib: self.rss_max[i] as f64 / 1024.0,
            rss_peak_mib: last.hwm_kib as f64 / 1024.0,
            threads_max: self.threads_max[i],
        }
    }
}

/// A short random id for this run.
fn run_id() -> String {
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
        .collect()
}

pub async fn run(target: &Target, agents: usize, load: &LoadArgs) -> anyhow::Result<RunResult> {
    let certs = net::load_ca(&target.ca)?;
    let probe = net::client(&certs, Duration::from_secs(30))?;
    for url in &target.urls {
        net::check_health(&probe, url).await?;
    }
    let (notes_tx, notes_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        rec: Recorder::new(),
        run_id: run_id(),
        certs,
        password: load.password.clone(),
        messages: std::sync::Mutex::new(Default::default()),
        notes: notes_tx,
        sign_ins: tokio::sync::Semaphore::new(load.sign_in_concurrency),
        syncs: tokio::sync::Semaphore::new(load.sync_concurrency),
        // The demo's 4 queues share the agents evenly.
        claim_chance: (crate::agent::CLAIMERS_PER_QUEUE * DEMO_QUEUES / agents as f64).min(1.0),
    });
    let rec = &shared.rec;
    let mut usage = Usage::new(&target.platform_pids);

    // 1. Ramp.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<Vec<String>, String>>();
    let ramp_start = Instant::now();
    let deadline = ramp_start + Duration::from_secs(load.ramp_timeout);
    let mut handles = Vec::with_capacity(agents);
    let k = target.urls.len();
    for i in 0..agents {
        let shared = Arc::clone(&shared);
        // The stream on instance i mod k; requests in turn from there, or
        // all there.
        let stream_url = target.urls[i % k].clone();
        let request_urls: Vec<Url> = match load.requests {
            Requests::Alternate => (0..k).map(|j| target.urls[(i + j) % k].clone()).collect(),
            Requests::WithStream => vec![stream_url.clone()],
        };
        let ready = ready_tx.clone();
        let stop = stop_rx.clone();
        handles.push(tokio::spawn(async move {
            let mut agent = match Agent::new(shared, agent_code(i + 1), stream_url, request_urls) {
                Ok(agent) => agent,
                Err(err) => {
                    let _ = ready.send(Err(format!("{err:#}")));
                    return;
                }
            };
            match agent.bring_up(deadline).await {
                Ok(queues) => {
                    let _ = ready.send(Ok(queues));
                    agent.run(stop).await;
                }
                Err(err) => {
                    let _ = ready.send(Err(err));
                }
            }
        }));
    }
    drop(ready_tx);
    let mut ready = 0;
    let mut queues = BTreeSet::new();
    loop {
        match tokio::time::timeout_at(deadline.into(), ready_rx.recv()).await {
            Ok(Some(Ok(agent_queues))) => {
                ready += 1;
                queues.extend(agent_queues);
            }
            Ok(Some(Err(err))) => rec.error("agent did not come up", err),
            Ok(None) => break,
            Err(_) => {
                rec.error(
                    "ramp timed out",
                    format!(
                        "{ready} of {agents} agents ready after {} s",
                        load.ramp_timeout
                    ),
                );
                break;
            }
        }
        if ready == agents {
            break;
        }
    }
    let ramp = ramp_start.elapsed();
    usage.ramp_end = usage.read(Some(rec));
    let mut result = RunResult {
        agents,
        urls: target
            .urls
            .iter()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
            .collect(),
        requests: Some(load.requests),
        ready_agents: ready,
        ramp_completed: ready == agents,
        ramp_secs: ramp.as_secs_f64(),
        contacts_per_minute: load.contacts_per_agent_minute * agents as f64,
        definitions: report::DEFINITIONS.to_owned(),
        ..RunResult::default()
    };
    eprintln!(
        "homedesk-loadgen: {ready} of {agents} agents ready after {}",
        crate::secs(ramp)
    );
    if !result.ramp_completed || queues.is_empty() {
        let _ = stop_tx.send(true);
        finish(handles).await;
        let snapshot = rec.snapshot();
        result.errors = Errors {
            window: snapshot.errors.clone(),
            total: snapshot.errors,
            examples: rec.examples(),
        };
        result.platform = (0..target.platform_pids.len())
            .map(|i| usage.usage(i, ramp, Duration::ZERO))
            .collect();
        result.loadgen = usage.usage(target.platform_pids.len(), ramp, Duration::ZERO);
        return Ok(result);
    }

    // 2. Customers, warm-up.
    let (customers_stop_tx, customers_stop_rx) = watch::channel(false);
    let customers = Customers {
        shared: Arc::clone(&shared),
        client: net::client(&shared.certs, Duration::from_secs(30))?,
        urls: target.urls.clone(),
        secret: target.ingress_secret.clone(),
        queues: queues.into_iter().collect(),
        rate: result.contacts_per_minute / 60.0,
    };
    let customers = tokio::spawn(customers.run(notes_rx, customers_stop_rx));
    tokio::time::sleep(Duration::from_secs(load.warmup)).await;
    result.warmup_secs = load.warmup as f64;

    // 3. The window.
    let metrics_start = instance_metrics(&probe, target, rec).await;
    let transactions_start = transactions(target, rec).await;
    let window_start = Instant::now();
    let counters_start = rec.snapshot();
    usage.window_start = usage.read(Some(rec));
    let names_start: Vec<f64> = target
        .measure_names
        .iter()
        .map(|name| procstat::by_name(name))
        .collect();
    let machine_window_start = procstat::machine()?;
    let window_end = window_start + Duration::from_secs(load.duration);
    while Instant::now() < window_end {
        usage.sample_peaks(rec);
        let left = window_end.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
    }
    let window_end = Instant::now();
    let counters_end = rec.snapshot();
    usage.window_end = usage.read(Some(rec));
    let names_end: Vec<f64> = target
        .measure_names
        .iter()
        .map(|name| procstat::by_name(name))
        .collect();
    let machine_window_end = procstat::machine()?;
    let window = window_end - window_start;
    let metrics_end = instance_metrics(&probe, target, rec).await;
    let transactions_end = transactions(target, rec).await;

    // 4. The end.
    let _ = customers_stop_tx.send(true);
    let _ = customers.await;
    tokio::time::sleep(GRACE).await;
    let _ = stop_tx.send(true);
    finish(handles).await;

    result.window_secs = window.as_secs_f64();
    result.actions = rec.latency(Series::Action, window_start, window_end);
    result.delivery = rec.latency(Series::DeliveryFirst, window_start, window_end);
    result.delivery_all_receivers = rec.latency(Series::DeliveryAll, window_start, window_end);
    result.ingress = rec.latency(Series::Ingress, window_start, window_end);
    {
        let messages = shared.messages.lock().unwrap_or_else(|e| e.into_inner());
        let in_window = messages
            .values()
            .filter(|m| m.accepted && (window_start..window_end).contains(&m.at));
        for m in in_window {
            result.customer_messages += 1;
            if !m.delivered {
                result.undelivered += 1;
            }
        }
    }
    let in_window = counters_end.since(&counters_start);
    result.counts = in_window.counts;
    result.errors = Errors {
        window: in_window.errors,
        total: rec.snapshot().errors,
        examples: rec.examples(),
    };
    result.platform = (0..target.platform_pids.len())
        .map(|i| usage.usage(i, ramp, window))
        .collect();
    result.loadgen = usage.usage(target.platform_pids.len(), ramp, window);
    result.instances = target
        .urls
        .iter()
        .zip(metrics_start.iter().zip(&metrics_end))
        .filter_map(|(url, (a, b))| {
            let (a, b) = (a.as_ref()?, b.as_ref()?);
            Some(InstanceWork {
                url: url.as_str().trim_end_matches('/').to_owned(),
                http_requests: b.http_requests.saturating_sub(a.http_requests),
                offers_made: b.offers_made.saturating_sub(a.offers_made),
                changes_served: b.changes_served.saturating_sub(a.changes_served),
                event_streams: b.event_streams,
            })
        })
        .collect();
    if let (Some(a), Some(b)) = (transactions_start, transactions_end) {
        result.database_transactions_per_sec =
            Some(b.saturating_sub(a) as f64 / window.as_secs_f64());
    }
    result.machine = machine_usage(&machine_window_start, &machine_window_end);
    result.others = target
        .measure_names
        .iter()
        .zip(names_start.iter().zip(&names_end))
        .map(|(name, (a, b))| report::NamedUsage {
            name: name.clone(),
            cpu_window_pct: (b - a).max(0.0) / window.as_secs_f64() * 100.0,
        })
        .collect();
    Ok(result)
}

/// Each instance's `GET /metrics`, when there is a token (`None` for one
/// that could not be read: an error of the run).
async fn instance_metrics(
    client: &reqwest::Client,
    target: &Target,
    rec: &Recorder,
) -> Vec<Option<net::InstanceMetrics>> {
    let Some(token) = &target.metrics_token else {
        return Vec::new();
    };
    let mut readings = Vec::with_capacity(target.urls.len());
    for url in &target.urls {
        readings.push(match net::instance_metrics(client, url, token).await {
            Ok(m) => Some(m),
            Err(err) => {
                rec.error(&format!("metrics: {}", err.kind()), format!("{url}: {err}"));
                None
            }
        });
    }
    readings
}

/// The transactions the shared PostgreSQL database has committed or rolled
/// back so far (`pg_stat_database`; PostgreSQL updates it within a second
/// of each transaction's end), when there is one.
async fn transactions(target: &Target, rec: &Recorder) -> Option<u64> {
    let url = target.database.as_ref()?;
    let query = "SELECT xact_commit + xact_rollback FROM pg_stat_database \
                 WHERE datname = current_database()";
    match crate::bench::psql(url, query).await {
        Ok(text) => match text.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                rec.error("database statistics", format!("not a number: {text:?}"));
                None
            }
        },
        Err(err) => {
            rec.error("database statistics", format!("{err:#}"));
            None
        }
    }
}

/// The machine's CPU between two readings, percent of all cores.
fn machine_usage(a: &procstat::Machine, b: &procstat::Machine) -> report::MachineUsage {
    let total = b.total().saturating_sub(a.total()) as f64;
    let pct = |x: u64, y: u64| {
        if total > 0.0 {
            y.saturating_sub(x) as f64 / total * 100.0
        } else {
            0.0
        }
    };
    let user = pct(a.user, b.user);
    let system = pct(a.system, b.system);
    let irq = pct(a.irq, b.irq);
    report::MachineUsage {
        busy_pct: user + system + irq,
        user_pct: user,
        system_pct: system,
        irq_pct: irq,
        steal_pct: pct(a.steal, b.steal),
    }
}

/// Waits for the agents to stop (each finishes the request it is in);
/// whoever is still busy after 20 s is cut off.
async fn finish(handles: Vec<tokio::task::JoinHandle<()>>) {
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    for handle in handles {
        let abort = handle.abort_handle();
        if tokio::time::timeout_at(until, handle).await.is_err() {
            abort.abort();
        }
    }
}
