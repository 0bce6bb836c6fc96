//! `bench`: the driver of scripts/bench-load.sh. For each step N it starts a
//! fresh platform (`serve --demo --demo-agents N`, a new data folder, and on
//! PostgreSQL a new database made with `psql`), runs the load against it
//! ([`crate::run`]), stops it, and rewrites the Markdown table after every
//! step, so a long bench that is cut short still leaves its figures. It
//! stops at the first step that misses the targets (unless
//! `--keep-going`): the next, larger one would miss them too.
//!
//! With `--instances K` (PostgreSQL only) each step starts K platform
//! processes on the step's database, one after the other, all on the same
//! data folder (so they share the development CA the load generator
//! trusts, the demo adapter's secret and the metrics token), each on a
//! port of its own. The second and later ones run `--demo` too, since it
//! is what enables the demo password; on a database that already holds the
//! demo its seeding is a no-op (records unchanged, agents present, the
//! adapter secret in the folder still valid). Agent i's event stream opens
//! on instance i mod K; its requests go to the instances in turn (as a
//! load balancer's; `--requests with-stream` keeps them on the stream's).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::report::{self, RunResult};
use crate::run::{self, Target};
use crate::{LoadArgs, MAX_AGENTS, read_secret};

/// The platform's variable for its database; the bench sets it or clears it.
const DATABASE_ENV: &str = "HOMEDESK_PLATFORM_DATABASE";

/// Most instances a step starts (they share the machine's cores).
const MAX_INSTANCES: usize = 8;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The platform binary (an optimised build).
    #[arg(long, default_value = "target/release/homedesk-platform")]
    platform: PathBuf,
    /// The content folder for `--demo`.
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// PostgreSQL: the URL of a server's `postgres` database (as
    /// scripts/with-postgres.sh exports it in HOMEDESK_TEST_POSTGRES); each
    /// step gets a database of its own. Without it: SQLite.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Platform instances per step, all on the step's database (more than
    /// one needs --postgres).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Agents per step, ascending, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "250,500,1000,1500,2000,2500,3000,4000"
    )]
    steps: Vec<usize>,
    /// The table's heading [default: "SQLite, one instance",
    /// "PostgreSQL, one instance", "PostgreSQL, 2 instances", …].
    #[arg(long)]
    label: Option<String>,
    /// Folder for the steps' data folders and platform logs.
    #[arg(long, default_value = "target/bench/load-work")]
    work_dir: PathBuf,
    /// The Markdown table.
    #[arg(long, default_value = "target/bench/load.md")]
    out: PathBuf,
    /// Every step's full results, as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Go on after a step that missed the targets.
    #[arg(long)]
    keep_going: bool,
    #[command(flatten)]
    load: LoadArgs,
}

pub async fn bench(args: BenchArgs) -> anyhow::Result<std::process::ExitCode> {
    if args.steps.is_empty() || args.steps.windows(2).any(|w| w[0] >= w[1]) {
        bail!("--steps: give ascending numbers of agents, e.g. 250,500,1000");
    }
    if !(1..=MAX_INSTANCES).contains(&args.instances) {
        bail!("--instances: give 1 to {MAX_INSTANCES}");
    }
    if args.instances > 1 && args.postgres.is_none() {
        bail!(
            "--instances {}: several instances share one PostgreSQL database; give --postgres",
            args.instances
        );
    }
    for &n in &args.steps {
        args.load.check(n, args.instances)?;
    }
    if !args.platform.exists() {
        bail!(
            "{} is missing: build it first (cargo build --profile bench -p homedesk-platform)",
            args.platform.display()
        );
    }
    if !args.content.join("demo").join("world.toml").exists() {
        bail!(
            "{}: no demo content there (--content)",
            args.content.display()
        );
    }
    let label =
        args.label
            .clone()
            .unwrap_or_else(|| match (args.postgres.is_some(), args.instances) {
                (false, _) => "SQLite, one instance".to_owned(),
                (true, 1) => "PostgreSQL, one instance".to_owned(),
                (true, k) => format!("PostgreSQL, {k} instances"),
            });
    std::fs::create_dir_all(&args.work_dir)
        .with_context(|| format!("making {}", args.work_dir.display()))?;
    let mut results: Vec<RunResult> = Vec::new();
    for &n in &args.steps {
        eprintln!("homedesk-loadgen bench: {label}, {n} agents");
        let result = step(&args, n).await?;
        println!("{}", report::text(&result));
        let passed = result.passed();
        results.push(result);
        write_outputs(&args, &label, &results)?;
        if !passed && !args.keep_going {
            break;
        }
    }
    eprintln!("homedesk-loadgen bench: wrote {}", args.out.display());
    Ok(std::process::ExitCode::SUCCESS)
}

/// One step: a fresh platform (or `--instances` of them on one database)
/// with `n` load agents, the load, the platform stopped.
async fn step(args: &BenchArgs, n: usize) -> anyhow::Result<RunResult> {
    let storage = match (&args.postgres, args.instances) {
        (None, _) => "sqlite".to_owned(),
        (Some(_), 1) => "postgres".to_owned(),
        (Some(_), k) => format!("postgres{k}"),
    };
    let dir = args.work_dir.join(format!("{storage}-{n}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let database = match &args.postgres {
        Some(server) => {
            let name = format!("hd_load_{n}_{}", std::process::id());
            psql(server, &format!("DROP DATABASE IF EXISTS {name}")).await?;
            psql(server, &format!("CREATE DATABASE {name}")).await?;
            Some((server.clone(), name))
        }
        None => None,
    };
    let result = match start_instances(args, &dir, n, database.as_ref()).await {
        Ok(mut platforms) => {
            let database_url = database
                .as_ref()
                .map(|(server, name)| with_database(server, name));
            let result = load_on(args, &dir, n, &platforms, database_url).await;
            stop_all(&mut platforms).await;
            result
        }
        Err(err) => Err(err),
    };
    if let Some((server, name)) = &database
        && let Err(err) = psql(
            server,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await
    {
        eprintln!("homedesk-loadgen bench: {err:#}");
    }
    // The data folder goes (the logs stay beside it, DIR.log, DIR-2.log, …).
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Starts the step's instances one after the other (the first seeds the
/// demo; the others find it there), each logging to its own file; stops
/// those already started if one fails.
async fn start_instances(
    args: &BenchArgs,
    dir: &Path,
    agents: usize,
    database: Option<&(String, String)>,
) -> anyhow::Result<Vec<Platform>> {
    let mut platforms: Vec<Platform> = Vec::with_capacity(args.instances);
    for i in 1..=args.instances {
        match Platform::start(args, dir, &instance_log(dir, i), agents, database).await {
            Ok(platform) => platforms.push(platform),
            Err(err) => {
                stop_all(&mut platforms).await;
                return Err(err.context(format!("starting instance {i} of {}", args.instances)));
            }
        }
    }
    Ok(platforms)
}

/// The log of instance `i` (from 1): DIR.log, DIR-2.log, …
fn instance_log(dir: &Path, i: usize) -> PathBuf {
    if i == 1 {
        dir.with_extension("log")
    } else {
        let name = dir.file_name().map_or_else(
            || "platform".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        dir.with_file_name(format!("{name}-{i}.log"))
    }
}

/// The load against running instances.
async fn load_on(
    args: &BenchArgs,
    dir: &Path,
    n: usize,
    platforms: &[Platform],
    database: Option<String>,
) -> anyhow::Result<RunResult> {
    let token = dir.join("metrics-token");
    let target = Target {
        urls: platforms.iter().map(|p| p.url.clone()).collect(),
        ca: dir.join("tls").join("ca.pem"),
        ingress_secret: read_secret(&dir.join("demo-adapter-secret"))?,
        platform_pids: platforms.iter().map(|p| p.pid).collect(),
        measure_names: if database.is_some() {
            vec!["postgres".to_owned()]
        } else {
            Vec::new()
        },
        database,
        metrics_token: if token.exists() {
            Some(read_secret(&token)?)
        } else {
            None
        },
    };
    run::run(&target, n, &args.load).await
}

/// SIGTERM to every instance at once, then SIGKILL to those still running
/// after 20 s.
async fn stop_all(platforms: &mut [Platform]) {
    for platform in platforms.iter() {
        platform.terminate().await;
    }
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    for platform in platforms.iter_mut() {
        if tokio::time::timeout_at(until, platform.child.wait())
            .await
            .is_err()
        {
            let _ = platform.child.kill().await;
        }
    }
}

/// A running `homedesk-platform serve`.
struct Platform {
    child: tokio::process::Child,
    pid: u32,
    url: reqwest::Url,
}

impl Platform {
    /// `serve --demo` on data folder `dir`, a free port, logging to `log`.
    async fn start(
        args: &BenchArgs,
        dir: &Path,
        log_path: &Path,
        agents: usize,
        database: Option<&(String, String)>,
    ) -> anyhow::Result<Platform> {
        let log = std::fs::File::create(log_path)
            .with_context(|| format!("making {}", log_path.display()))?;
        let mut command = tokio::process::Command::new(&args.platform);
        command
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .arg("--demo-agents")
            .arg(agents.to_string())
            .arg("--data-dir")
            .arg(dir)
            .arg("--content")
            .arg(&args.content)
            .env_remove(DATABASE_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true);
        if let Some((server, name)) = database {
            command.env(DATABASE_ENV, with_database(server, name));
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", args.platform.display()))?;
        let pid = child.id().context("the platform has a pid")?;
        let stdout = child.stdout.take().context("the platform's stdout")?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // Keep reading after the ready line: a closed pipe would make the
        // platform's next line on stdout fail.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
        // Seeding 20,000 agents into PostgreSQL takes a while.
        let until = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(line)) => {
                    if let Some(rest) = line.strip_prefix("homedesk-platform ready at ") {
                        let url = rest.split_whitespace().next().unwrap_or_default();
                        let url = reqwest::Url::parse(url)
                            .with_context(|| format!("the ready line's URL {url:?}"))?;
                        return Ok(Platform { child, pid, url });
                    }
                }
                Ok(None) | Err(_) => {
                    let _ = child.kill().await;
                    let log = std::fs::read_to_string(log_path).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(20).collect();
                    bail!(
                        "the platform did not report ready; the end of its log ({}):\n{}",
                        log_path.display(),
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    );
                }
            }
        }
    }

    /// SIGTERM (it stops in order: takes its streams out of the database).
    async fn terminate(&self) {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
    }
}

/// `server` (a `postgres://…/postgres` URL) naming the database `name`.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |at| scheme_end + at);
    format!("{}/{name}{query}", &base[..authority_end])
}

/// Runs one statement with `psql` on database `url`; its output (`-At`:
/// unaligned, tuples only), trimmed.
pub async fn psql(url: &str, statement: &str) -> anyhow::Result<String> {
    let out = tokio::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            statement,
        ])
        .stdin(Stdio::null())
        .output()
        .await
        .context("running psql (scripts/with-postgres.sh needs Debian's postgresql)")?;
    if !out.status.success() {
        bail!(
            "psql: {statement}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The Markdown table (and the JSON) of the steps so far.
fn write_outputs(args: &BenchArgs, label: &str, results: &[RunResult]) -> anyhow::Result<()> {
    let load = &args.load;
    let instances = if args.instances > 1 {
        format!(
            " {} platform instances on one PostgreSQL database (agent i's event stream on \
             instance i mod {}, {}; customers' ingress in turn); platform CPU and RSS: \
             their sum, then each's.",
            args.instances,
            args.instances,
            match load.requests {
                crate::Requests::Alternate => "its requests to the instances in turn",
                crate::Requests::WithStream => "its requests to the same instance",
            }
        )
    } else {
        String::new()
    };
    let mut md = format!(
        "### {label}\n\nSteps of {} agents (at most {MAX_AGENTS}); each on a fresh platform: \
         ramp (sign-in, first sync, presence), {} s warm-up, {} s measured; \
         {} new customer contacts per agent and minute, 1–3 messages each.{instances}\n\n{}\n",
        args.steps
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        load.warmup,
        load.duration,
        load.contacts_per_agent_minute,
        report::TABLE_HEADER
    );
    for result in results {
        md.push_str(&report::markdown_row(result));
        md.push('\n');
    }
    let best = results
        .iter()
        .filter(|r| r.passed())
        .map(|r| r.agents)
        .max();
    md.push_str(&match best {
        Some(n) => format!(
            "\nLargest N meeting the targets (p95 action < 300 ms, p95 delivery < 1 s, \
             no error, no message lost): **{n}**.\n"
        ),
        None => "\nNo step met the targets.\n".to_owned(),
    });
    let per_instance: Vec<String> = results.iter().flat_map(report::instance_rows).collect();
    if !per_instance.is_empty() {
        md.push_str(
            "\nEach instance in the measured window (HTTP requests, offers its routing passes \
             made and change-log entries it sent, from its `GET /metrics`; event streams open \
             at the window's end):\n\n",
        );
        md.push_str(report::INSTANCE_TABLE_HEADER);
        md.push('\n');
        for row in per_instance {
            md.push_str(&row);
            md.push('\n');
        }
    }
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, md).with_context(|| format!("writing {}", args.out.display()))?;
    if let Some(json) = &args.json {
        std::fs::write(json, serde_json::to_string_pretty(results)?)
            .with_context(|| format!("writing {}", json.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instance_logs_to_its_own_file() {
        let dir = Path::new("target/bench/load-work/postgres2-200");
        assert_eq!(
            instance_log(dir, 1),
            Path::new("target/bench/load-work/postgres2-200.log")
        );
        assert_eq!(
            instance_log(dir, 2),
            Path::new("target/bench/load-work/postgres2-200-2.log")
        );
    }

    #[test]
    fn a_database_in_the_server_url() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/postgres", "x"),
            "postgres://u:p@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
