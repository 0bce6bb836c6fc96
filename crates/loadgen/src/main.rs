//! `homedesk-loadgen`: the load test of issue 19.
//!
//! - `run` simulates N agents against one or more running platform
//!   instances (agent i opens its event stream on URL i mod k; its requests
//!   go to the URLs in turn, or with `--requests with-stream` to its
//!   stream's) over the real protocol and TLS, with customers arriving
//!   through the demo channel adapter, and reports action latency, event
//!   delivery, errors, and the CPU and memory of the platform processes
//!   (`--platform-pid`) and of itself.
//! - `bench` is the driver `make bench` runs (scripts/bench-load.sh): for
//!   each step N it starts a fresh `homedesk-platform serve --demo
//!   --demo-agents N` (or `--instances K` of them on one PostgreSQL
//!   database), runs the load against it, stops it, and writes a Markdown
//!   table with the largest N that met the targets.
//!
//! Loopback only, and bounded: at most [`MAX_AGENTS`] agents, runs of at most
//! [`MAX_SECONDS`] seconds per phase. What is measured, precisely, is written
//! in `docs/benchmarks.md` ("Load: agents per machine") and in
//! [`report::DEFINITIONS`].

mod agent;
mod bench;
mod customers;
mod net;
mod procstat;
mod report;
mod run;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

/// Most agents one run simulates (the platform's `--demo-agents` cap).
pub const MAX_AGENTS: usize = 20_000;
/// Longest ramp, warm-up or measured window, in seconds.
pub const MAX_SECONDS: u64 = 1800;
/// Most customer contacts per agent and minute.
pub const MAX_CONTACT_RATE: f64 = 10.0;

#[derive(Parser, Debug)]
#[command(name = "homedesk-loadgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate agents and customers against running platforms.
    Run(RunArgs),
    /// Step the number of agents up, a fresh platform per step; write a
    /// Markdown table (`make bench`, scripts/bench-load.sh).
    Bench(bench::BenchArgs),
}

/// The load's shape, shared by `run` and `bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct LoadArgs {
    /// Seconds of measured steady traffic, after the ramp and the warm-up.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Seconds of traffic after the ramp before measuring starts
    /// (conversations build up).
    #[arg(long, default_value_t = 30)]
    warmup: u64,
    /// Give up if not every agent is signed in, synced and available after
    /// this many seconds.
    #[arg(long, default_value_t = 600)]
    ramp_timeout: u64,
    /// New customer contacts per agent and minute (the arrival rate is this
    /// times the number of agents, Poisson).
    #[arg(long, default_value_t = 0.5)]
    contacts_per_agent_minute: f64,
    /// Sign-ins at once during the ramp. The platform checks at most 4
    /// passwords at once (`[sign_in] hashing`) and queues 32 more before it
    /// answers 503; 4 keeps the queue empty.
    #[arg(long, default_value_t = 4)]
    sign_in_concurrency: usize,
    /// First syncs at once during the ramp.
    #[arg(long, default_value_t = 16)]
    sync_concurrency: usize,
    /// The agents' password (the demo's).
    #[arg(long, default_value = "homedesk-demo")]
    password: String,
    /// With several instances: where an agent's requests go. Its event
    /// stream always stays on one instance (agent i: URL i mod k).
    #[arg(long, value_enum, default_value_t = Requests::Alternate)]
    requests: Requests,
}

/// Where an agent's requests go when there are several instances.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requests {
    /// To each instance in turn, as a load balancer that balances
    /// requests; the stream stays where it opened.
    Alternate,
    /// All to the instance holding the agent's event stream (sticky).
    WithStream,
}

impl LoadArgs {
    /// Checks the load's shape for `agents` agents on `instances` instances.
    fn check(&self, agents: usize, instances: usize) -> anyhow::Result<()> {
        if agents == 0 || agents > MAX_AGENTS {
            bail!("--agents: give 1 to {MAX_AGENTS} agents (got {agents})");
        }
        for (name, value) in [
            ("--duration", self.duration),
            ("--warmup", self.warmup),
            ("--ramp-timeout", self.ramp_timeout),
        ] {
            if value > MAX_SECONDS {
                bail!("{name}: at most {MAX_SECONDS} seconds (got {value})");
            }
        }
        if self.duration == 0 || self.ramp_timeout == 0 {
            bail!("--duration and --ramp-timeout must be at least 1 second");
        }
        if !(0.0..=MAX_CONTACT_RATE).contains(&self.contacts_per_agent_minute) {
            bail!(
                "--contacts-per-agent-minute: give 0 to {MAX_CONTACT_RATE} (got {})",
                self.contacts_per_agent_minute
            );
        }
        if !(1..=32).contains(&self.sign_in_concurrency) {
            bail!("--sign-in-concurrency: give 1 to 32");
        }
        if !(1..=256).contains(&self.sync_concurrency) {
            bail!("--sync-concurrency: give 1 to 256");
        }
        check_open_files(agents, self.connections_per_agent(instances))
    }

    /// The connections one agent holds: its event stream, and one for
    /// requests to each instance it sends them to.
    fn connections_per_agent(&self, instances: usize) -> u64 {
        match self.requests {
            Requests::Alternate => 1 + instances.max(1) as u64,
            Requests::WithStream => 2,
        }
    }
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// A platform's URL, https on a loopback address; repeat for several
    /// instances on one database (agent i opens its event stream on URL
    /// i mod k, see --requests for its requests; customers alternate).
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// The CA certificate (PEM) to trust, e.g. DATA_DIR/tls/ca.pem.
    #[arg(long)]
    ca: PathBuf,
    /// The demo channel adapter's secret: the file `serve --demo` writes
    /// (DATA_DIR/demo-adapter-secret).
    #[arg(long, value_name = "FILE")]
    ingress_secret_file: PathBuf,
    /// Agents to simulate: l00001 … (`serve --demo --demo-agents N`).
    #[arg(long)]
    agents: usize,
    #[command(flatten)]
    load: LoadArgs,
    /// A platform process to measure (CPU time, peak RSS); repeatable.
    #[arg(long = "platform-pid")]
    platform_pids: Vec<u32>,
    /// Also measure the CPU of every process with this command name (e.g.
    /// `postgres`); repeatable.
    #[arg(long, value_name = "NAME")]
    measure: Vec<String>,
    /// Also write the results as JSON here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The instances' metrics token (DATA_DIR/metrics-token): with it, each
    /// instance's `GET /metrics` is read at the window's start and end, to
    /// show how the work was shared (requests, offers made, changes served).
    #[arg(long, value_name = "FILE")]
    metrics_token_file: Option<PathBuf>,
    /// The PostgreSQL database the instances share (the URL they were given,
    /// with its name): its transactions in the window are counted (needs
    /// `psql`).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("homedesk-loadgen: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn real_main(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Command::Run(args) => {
            args.load.check(args.agents, args.urls.len())?;
            let urls = net::check_urls(&args.urls)?;
            let secret = read_secret(&args.ingress_secret_file)?;
            let metrics_token = args
                .metrics_token_file
                .as_deref()
                .map(read_secret)
                .transpose()?;
            for pid in &args.platform_pids {
                procstat::check_pid(*pid)?;
            }
            let target = run::Target {
                urls,
                ca: args.ca,
                ingress_secret: secret,
                platform_pids: args.platform_pids,
                measure_names: args.measure,
                metrics_token,
                database: args.postgres,
            };
            let result = runtime.block_on(run::run(&target, args.agents, &args.load))?;
            println!("{}", report::text(&result));
            if let Some(path) = &args.json {
                let json = serde_json::to_string_pretty(&result)?;
                std::fs::write(path, json)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            // Errors are reported above, never hidden; the exit status says
            // whether there were any.
            Ok(if result.errors.total() == 0 {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            })
        }
        Command::Bench(args) => runtime.block_on(bench::bench(args)),
    }
}

/// A secret (the adapter's, the metrics token) from its file, trimmed.
pub fn read_secret(path: &std::path::Path) -> anyhow::Result<String> {
    let secret = std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret {}", path.display()))?;
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        bail!("{} is empty: no secret", path.display());
    }
    Ok(secret)
}

/// Each agent holds `per_agent` connections (its requests and its event
/// stream, as a workstation does; requests to several instances hold one
/// each): refuse a run the open-file limit cannot hold.
fn check_open_files(agents: usize, per_agent: u64) -> anyhow::Result<()> {
    let needed = per_agent * agents as u64 + 256;
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(soft) = soft
        && soft < needed
    {
        bail!(
            "{agents} agents need about {needed} open files, but the limit is {soft}: \
             raise it first (ulimit -n {needed})"
        );
    }
    Ok(())
}

/// `d` in seconds with milliseconds, for messages.
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}
