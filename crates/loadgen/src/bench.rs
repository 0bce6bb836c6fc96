//! `bench`: the driver of scripts/bench-load.sh. For each step N it starts a
//! fresh platform (`serve --demo --demo-agents N`, a new data folder, and on
//! PostgreSQL a new database made with `psql`), runs the load against it
//! ([`crate::run`]), stops it, and rewrites the Markdown table after every
//! step, so a long bench that is cut short still leaves its figures. It
//! stops at the first step that misses the targets (unless
//! `--keep-going`): the next, larger one would miss them too.

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
    /// Agents per step, ascending, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "50,100,150,200,250,300,400,500,750,1000,1500,2000,3000,4000"
    )]
    steps: Vec<usize>,
    /// The table's heading [default: "SQLite, one instance" or "PostgreSQL, one instance"].
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
    for &n in &args.steps {
        args.load.check(n)?;
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
    let label = args.label.clone().unwrap_or_else(|| {
        if args.postgres.is_some() {
            "PostgreSQL, one instance".to_owned()
        } else {
            "SQLite, one instance".to_owned()
        }
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

/// One step: a fresh platform with `n` load agents, the load, the platform stopped.
async fn step(args: &BenchArgs, n: usize) -> anyhow::Result<RunResult> {
    let storage = if args.postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
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
    let mut platform = Platform::start(args, &dir, n, database.as_ref()).await?;
    let target = Target {
        urls: vec![platform.url.clone()],
        ca: dir.join("tls").join("ca.pem"),
        ingress_secret: read_secret(&dir.join("demo-adapter-secret"))?,
        platform_pids: vec![platform.pid],
        measure_names: if database.is_some() {
            vec!["postgres".to_owned()]
        } else {
            Vec::new()
        },
    };
    let result = run::run(&target, n, &args.load).await;
    platform.stop().await;
    if let Some((server, name)) = &database
        && let Err(err) = psql(
            server,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await
    {
        eprintln!("homedesk-loadgen bench: {err:#}");
    }
    // The data folder goes (its log stays beside it, DIR.log).
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A running `homedesk-platform serve`.
struct Platform {
    child: tokio::process::Child,
    pid: u32,
    url: reqwest::Url,
}

impl Platform {
    async fn start(
        args: &BenchArgs,
        dir: &Path,
        agents: usize,
        database: Option<&(String, String)>,
    ) -> anyhow::Result<Platform> {
        let log = std::fs::File::create(dir.with_extension("log"))?;
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
                    let log =
                        std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(20).collect();
                    bail!(
                        "the platform did not report ready; the end of its log ({}):\n{}",
                        dir.with_extension("log").display(),
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    );
                }
            }
        }
    }

    /// SIGTERM, then SIGKILL after 20 s.
    async fn stop(&mut self) {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
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

async fn psql(url: &str, statement: &str) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("psql")
        .args([
            "-X",
            "-q",
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
    Ok(())
}

/// The Markdown table (and the JSON) of the steps so far.
fn write_outputs(args: &BenchArgs, label: &str, results: &[RunResult]) -> anyhow::Result<()> {
    let load = &args.load;
    let mut md = format!(
        "### {label}\n\nSteps of {} agents (at most {MAX_AGENTS}); each on a fresh platform: \
         ramp (sign-in, first sync, presence), {} s warm-up, {} s measured; \
         {} new customer contacts per agent and minute, 1–3 messages each.\n\n{}\n",
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
