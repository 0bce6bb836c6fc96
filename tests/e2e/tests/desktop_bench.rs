//! Desktop benchmark: how long the real app takes from process start until
//! its queue is interactive, and how much memory its whole process tree
//! holds after idling with 500 conversations in the queue; each beside the
//! same figures for a blank Tauri window (`src-tauri/examples/blank_window.rs`)
//! measured in the same run. Medians over several runs, ratios to the blank
//! window. Figures and method: docs/benchmarks.md.
//!
//! Ignored in `make test`; `make bench` builds the optimised app and blank
//! window and runs it:
//!
//! ```sh
//! HOMEDESK_E2E_PROFILE=release cargo test -p homedesk-e2e --test desktop_bench -- --ignored --nocapture
//! ```
//!
//! `HOMEDESK_BENCH_RUNS` sets the number of measured runs (default 5).
//! Prints a Markdown table and writes it to `target/bench/desktop.md`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use homedesk_e2e::procfs::{self, Memory};
use homedesk_e2e::{
    AppOptions, AppSession, DEMO_PASSWORD, Desktop, Platform, app_binary, built_binary, target_dir,
};

const CONVERSATIONS: usize = 500;
/// How long each window idles, once interactive, before its memory is read.
const IDLE: Duration = Duration::from_secs(10);
/// One unmeasured start of each binary first, so that no measured run pays
/// for reading the binaries and WebKit's libraries from disk.
const WARM_UP: usize = 1;

/// The app is interactive once every queue row is rendered and each has its
/// enabled claim (unassigned) or open (mine) button. `ROWS` stands for the
/// number of conversations.
const APP_PROBE: &str = r#"
const rows = document.querySelectorAll('[data-testid=queue-row]');
let ready = rows.length >= ROWS;
for (const row of rows) {
  const button = row.querySelector('[data-testid=queue-claim], [data-testid=queue-open]');
  if (!button || button.disabled) { ready = false; break; }
}
return { ready, rows: rows.length };
"#;

/// The blank window is interactive once its (empty) document has loaded.
const BLANK_PROBE: &str = r#"
return { ready: document.readyState === 'complete', rows: 0 };
"#;

/// One WebDriver call (an async script) that runs `PROBE` in the page every
/// 10 ms until it holds or 1 s has passed, and answers with its result, the
/// page's clock at its first check and at that moment, how many checks it
/// made, and when the page's load event ended (Navigation Timing, page clock).
const POLL: &str = r#"
const done = arguments[arguments.length - 1];
const probe = () => { PROBE };
const began = Date.now();
let checks = 0;
const check = () => {
  const state = probe();
  checks += 1;
  const now = Date.now();
  if (state.ready || now - began >= 1000) {
    const nav = performance.getEntriesByType('navigation')[0];
    const loaded = nav && nav.loadEventEnd > 0 ? performance.timeOrigin + nav.loadEventEnd : null;
    done(Object.assign(state, { began, now, checks, spent: now - began, loaded }));
  } else {
    setTimeout(check, 10);
  }
};
check();
"#;

/// The polling script for a probe.
fn poll(probe: &str, rows: usize) -> String {
    POLL.replace("PROBE", &probe.replace("ROWS", &rows.to_string()))
}

/// One start of one binary. Times are seconds from the process's start.
struct Sample {
    /// The first check in the page: the earliest moment this method can see
    /// anything (the WebDriver session exists and the page has loaded).
    first_check: f64,
    /// The page's load event, read from its own Navigation Timing.
    load_event: f64,
    /// The poll that first saw the window interactive (page clock).
    interactive: f64,
    /// WebDriver calls and checks in the page until interactive, and the
    /// mean time between two checks.
    calls: usize,
    checks: f64,
    check_interval_ms: f64,
    /// Every process of the tree after [`IDLE`], the binary's own first.
    memory: Vec<Memory>,
}

impl Sample {
    fn pss_kib(&self) -> u64 {
        self.memory.iter().map(|m| m.pss_kib).sum()
    }
    fn rss_kib(&self) -> u64 {
        self.memory.iter().map(|m| m.rss_kib).sum()
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Starts `binary`, polls `probe` until it holds, idles, reads the memory of
/// the process tree and closes the window.
async fn measure(
    desktop: &Desktop,
    binary: &std::path::Path,
    options: AppOptions<'_>,
    probe: &str,
    rows: usize,
) -> anyhow::Result<Sample> {
    let session = AppSession::start_application(desktop, binary, options).await?;
    let pid = session.app_pid()?;
    let started = procfs::started_at(pid)?;
    // The page's clock (Unix time) on the boot clock of `started`.
    let page_to_boot = procfs::uptime()? - epoch_seconds();

    let script = poll(probe, rows);
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut calls, mut checks, mut spent_ms) = (0, 0.0, 0.0);
    let mut first_check = None;
    let (interactive, load_event) = loop {
        let state = session.eval_async(&script).await?;
        let at = |key: &str| {
            state[key]
                .as_f64()
                .map(|ms| ms / 1000.0 + page_to_boot - started)
        };
        if first_check.is_none() {
            first_check = Some(at("began").context("no page time")?);
        }
        calls += 1;
        checks += state["checks"].as_f64().unwrap_or(0.0);
        spent_ms += state["spent"].as_f64().unwrap_or(0.0);
        if state["ready"] == true {
            break (
                at("now").context("no page time")?,
                at("loaded").context("no load event")?,
            );
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} was not interactive after 120 s (last poll: {state})",
            binary.display()
        );
    };

    // Idle, as an agent's desk would between contacts.
    tokio::time::sleep(IDLE).await;
    let memory = procfs::tree_memory(pid);
    let names: Vec<&str> = memory.iter().map(|m| m.name.as_str()).collect();
    anyhow::ensure!(
        names.iter().any(|n| n.starts_with("WebKitWebProces"))
            && names.iter().any(|n| n.starts_with("WebKitNetworkP")),
        "expected the WebKit web and network processes under {}, found {names:?}",
        binary.display()
    );
    session.close().await?;
    Ok(Sample {
        first_check: first_check.unwrap_or(f64::NAN),
        load_event,
        interactive,
        calls,
        checks,
        // Each call's checks are `checks - 1` intervals apart.
        check_interval_ms: if checks > calls as f64 {
            spent_ms / (checks - calls as f64)
        } else {
            f64::NAN
        },
        memory,
    })
}

/// Waits until the app's queue shows `rows` rows (the first sync can take a while).
async fn wait_for_rows(app: &AppSession, rows: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let state = app.eval_async(&poll(APP_PROBE, rows)).await?;
        if state["ready"] == true {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the queue did not fill up: {state}"
        );
    }
}

/// Median Pss in KiB, per kind of process, over the runs.
fn median_pss_of(samples: &[Sample], kind: impl Fn(&Memory, usize) -> bool) -> f64 {
    median(
        samples
            .iter()
            .map(|s| {
                s.memory
                    .iter()
                    .enumerate()
                    .filter(|(i, m)| kind(m, *i))
                    .map(|(_, m)| m.pss_kib as f64)
                    .sum()
            })
            .collect(),
    )
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

#[tokio::test]
#[ignore = "benchmark, minutes long: `make bench` runs it"]
async fn desktop_start_and_memory_against_a_blank_tauri_window() -> anyhow::Result<()> {
    let runs: usize = std::env::var("HOMEDESK_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let app = app_binary()?;
    let blank = built_binary("examples/blank_window")?;

    // 500 customers write in to a queue demo agent a1002 works, through the
    // platform's real ingress.
    let platform = Platform::start()?;
    let client = platform.client()?;
    let seeding = Instant::now();
    for i in 0..CONVERSATIONS {
        let customer = format!("bench-{i:03}");
        platform
            .ingress(
                &client,
                &format!("bench-{i}"),
                (&customer, &format!("顾客{i:03}")),
                &format!("第{i}号订单的桃子收到就坏了，怎么办？"),
            )
            .await?;
    }
    println!(
        "seeded {CONVERSATIONS} conversations in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    // Sign in once and let the first sync bring all 500 down; every
    // measured start then resumes that session from the data folder, as an
    // agent's desk does each morning.
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let first = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    first.sign_in("a1002", DEMO_PASSWORD).await?;
    wait_for_rows(&first, CONVERSATIONS).await?;
    first.close().await?;

    let mut app_samples = Vec::new();
    let mut blank_samples = Vec::new();
    for run in 0..WARM_UP + runs {
        // Alternate the order, so neither always starts on a warmer machine.
        let order = if run % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for is_app in order {
            let (binary, ready, rows) = if is_app {
                (&app, APP_PROBE, CONVERSATIONS)
            } else {
                (&blank, BLANK_PROBE, 0)
            };
            let sample = measure(
                &desktop,
                binary,
                platform.app_options(data.path()),
                ready,
                rows,
            )
            .await?;
            println!(
                "run {run}{} {}: interactive {:.2} s (first check {:.2} s, load event {:.2} s; {} calls, {} checks {:.1} ms apart), Pss {} ({} processes), RSS {}",
                if run < WARM_UP { " (warm-up)" } else { "" },
                if is_app { "app  " } else { "blank" },
                sample.interactive,
                sample.first_check,
                sample.load_event,
                sample.calls,
                sample.checks,
                sample.check_interval_ms,
                mib(sample.pss_kib() as f64),
                sample.memory.len(),
                mib(sample.rss_kib() as f64),
            );
            if run >= WARM_UP {
                if is_app {
                    app_samples.push(sample);
                } else {
                    blank_samples.push(sample);
                }
            }
        }
    }

    let table = report(&app_samples, &blank_samples, runs);
    println!("\n{table}");
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("desktop.md"), &table)?;
    Ok(())
}

/// The Markdown table of medians and ratios.
fn report(app: &[Sample], blank: &[Sample], runs: usize) -> String {
    type Measure = fn(&Sample) -> f64;
    let seconds: [(&str, Measure); 3] = [
        ("process start → queue / page interactive (s)", |s| {
            s.interactive
        }),
        ("process start → first check in the page (s)", |s| {
            s.first_check
        }),
        ("process start → page load event (s)", |s| s.load_event),
    ];
    let mut out = format!(
        "Desktop: medians of {runs} runs; app with {CONVERSATIONS} conversations in the queue, \
         blank Tauri window as baseline\n\n\
         | measure | app | blank window | ratio |\n|---|---:|---:|---:|\n"
    );
    for (name, measure) in seconds {
        let a = median(app.iter().map(measure).collect());
        let b = median(blank.iter().map(measure).collect());
        out.push_str(&format!("| {name} | {a:.2} | {b:.2} | {:.2} |\n", a / b));
    }
    let memory: [(&str, Measure); 2] = [
        ("Pss of the process tree after 10 s idle", |s| {
            s.pss_kib() as f64
        }),
        (
            "RSS of the process tree after 10 s idle (shared pages counted per process)",
            |s| s.rss_kib() as f64,
        ),
    ];
    for (name, measure) in memory {
        let a = median(app.iter().map(measure).collect());
        let b = median(blank.iter().map(measure).collect());
        out.push_str(&format!(
            "| {name} | {} | {} | {:.2} |\n",
            mib(a),
            mib(b),
            a / b
        ));
    }
    type Kind = fn(&Memory, usize) -> bool;
    let kinds: [(&str, Kind); 3] = [
        ("Pss: the binary's own process", |_, i| i == 0),
        ("Pss: WebKitWebProcess", |m, _| {
            m.name.starts_with("WebKitWebProces")
        }),
        ("Pss: WebKitNetworkProcess", |m, _| {
            m.name.starts_with("WebKitNetworkP")
        }),
    ];
    for (name, kind) in kinds {
        let a = median_pss_of(app, kind);
        let b = median_pss_of(blank, kind);
        out.push_str(&format!(
            "| {name} | {} | {} | {:.2} |\n",
            mib(a),
            mib(b),
            a / b
        ));
    }
    let checks = |samples: &[Sample]| {
        (
            median(samples.iter().map(|s| s.check_interval_ms).collect()),
            median(samples.iter().map(|s| s.checks).collect()),
            median(samples.iter().map(|s| s.calls as f64).collect()),
        )
    };
    let (app_interval, app_checks, app_calls) = checks(app);
    let (_, blank_checks, _) = checks(blank);
    let processes: Vec<String> = app
        .first()
        .map(|s| s.memory.iter().map(|m| m.name.clone()).collect())
        .unwrap_or_default();
    out.push_str(&format!(
        "\nPolling (medians): the app's queue was checked {app_checks:.0} times in the page, \
         {app_interval:.1} ms apart, in {app_calls:.0} WebDriver call(s), until interactive; \
         the blank window passed its check {blank_checks:.0} time(s), i.e. at the first check. \
         Processes measured for the app: {}.\n",
        processes.join(", ")
    ));
    out
}
