//! `homedesk-platform`: the reference central platform.
//!
//! `serve` runs the HTTPS server; `agent add`, `kb import`,
//! `content import`, `channel …`, `egress …` and `release …` administer a data folder
//! (safe while the server runs).
//! The work itself lives in the library; this file only reads the command
//! line, sets up logging and signals, and reports errors in plain words.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use homedesk_platform::admin::{NewAgent, add_agent, import_records};
use homedesk_platform::auth::{AuthConfig, DEMO_PASSWORD};
use homedesk_platform::egress::EgressConfig;
use homedesk_platform::storage::{SqliteStorage, Storage};
use homedesk_platform::{Platform, Settings, channels, content, demo, egress, now_ms, server, tls};
use homedesk_protocol::{PROTOCOL_VERSION, Record, Role};

#[derive(Parser, Debug)]
#[command(
    name = "homedesk-platform",
    version,
    about = "Homedesk reference central platform: HTTPS sync server, routing, demo data"
)]
struct Cli {
    /// Print the sync protocol version this build speaks and exit.
    #[arg(long)]
    protocol_version: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTPS server.
    Serve(ServeArgs),
    /// Manage agent accounts.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Manage the knowledge base.
    #[command(subcommand)]
    Kb(KbCommand),
    /// Import canned replies, call scripts and practice scenarios.
    #[command(subcommand)]
    Content(ContentCommand),
    /// Trainees' practice results (training records).
    #[command(subcommand)]
    Training(TrainingCommand),
    /// Channel adapters: their secrets and webhooks.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Replies on their way to adapters' webhooks.
    #[command(subcommand)]
    Egress(EgressCommand),
    /// Desktop packages the workstations update to.
    #[command(subcommand)]
    Release(homedesk_platform::releases::cli::ReleaseCommand),
}

#[derive(Subcommand, Debug)]
enum ChannelCommand {
    /// Add an adapter; prints its secret once.
    Add {
        #[arg(long)]
        data_dir: PathBuf,
        /// Adapter id, e.g. taobao (a-z, 0-9, -; at most 32).
        id: String,
        /// Where agents' replies are POSTed (https, or http to this machine).
        #[arg(long)]
        webhook: Option<String>,
    },
    /// Give an adapter a new secret (printed once); the old one stops working.
    Rotate {
        #[arg(long)]
        data_dir: PathBuf,
        id: String,
    },
    /// Set an adapter's webhook URL, or remove it when no URL is given.
    Webhook {
        #[arg(long)]
        data_dir: PathBuf,
        id: String,
        url: Option<String>,
    },
    /// List the adapters (never their secrets).
    List {
        #[arg(long)]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum EgressCommand {
    /// Replies being pushed to adapters, newest first.
    List {
        #[arg(long)]
        data_dir: PathBuf,
        /// Only the ones that failed (given up, or reported failed by the adapter).
        #[arg(long)]
        failed: bool,
    },
    /// Try a failed reply again from now (or a pending one at once), by message id.
    Retry {
        #[arg(long)]
        data_dir: PathBuf,
        message_id: String,
    },
}

#[derive(Subcommand, Debug)]
enum TrainingCommand {
    /// Who is ready: each trainee's practice results, newest first, with
    /// their average and the exams they passed.
    List {
        #[arg(long)]
        data_dir: PathBuf,
        /// Only this trainee.
        #[arg(long)]
        trainee: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Folder for the database and TLS files (and the demo adapter's secret).
    #[arg(long, env = "HOMEDESK_PLATFORM_DATA")]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Seed the demo world from the content folder; enables the demo password.
    #[arg(long)]
    demo: bool,
    /// With --demo: about this many customer contacts a minute.
    #[arg(long, value_name = "PER_MINUTE")]
    demo_traffic: Option<f64>,
    /// Content folder for --demo.
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// Server certificate chain (PEM) instead of the development CA.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Seconds an agent has to accept an offered contact.
    #[arg(long, default_value_t = 30)]
    offer_timeout: u64,
    /// Lifetime of an access token, in seconds.
    #[arg(long, default_value_t = 900)]
    access_ttl: u64,
    /// Seconds after a refresh during which the same refresh token may be
    /// presented again (a retry after a lost answer) without revoking the sign-in.
    #[arg(long, default_value_t = 30)]
    refresh_grace: u64,
    /// Egress: the first retry of a reply an adapter refused waits 1/2 to 1
    /// times this; each further one doubles, up to --egress-retry-cap-ms.
    #[arg(long, default_value_t = 1000)]
    egress_retry_base_ms: u64,
    /// Egress: the longest wait between two attempts.
    #[arg(long, default_value_t = 300_000)]
    egress_retry_cap_ms: u64,
    /// Egress: a reply not accepted by its adapter this long fails (24 h).
    #[arg(long, default_value_t = 86_400)]
    egress_give_up_after: u64,
    /// Egress: seconds one attempt may take.
    #[arg(long, default_value_t = 10)]
    egress_timeout: u64,
    /// Egress: how often to look for retries asked with `egress retry`.
    #[arg(long, default_value_t = 2000)]
    egress_poll_ms: u64,
    /// Web chat: messages and photos one customer may send a minute (also
    /// the burst allowed after a quiet minute).
    #[arg(long, default_value_t = 20, value_name = "PER_MINUTE")]
    chat_customer_rate: u32,
    /// Web chat: requests one IP address may make a minute (new customers,
    /// messages, photos, event streams); everyone behind one address shares it.
    #[arg(long, default_value_t = 120, value_name = "PER_MINUTE")]
    chat_ip_rate: u32,
}

#[derive(Subcommand, Debug)]
enum AgentCommand {
    /// Create an agent or update one (password from stdin or HOMEDESK_AGENT_PASSWORD).
    Add {
        #[arg(long)]
        data_dir: PathBuf,
        /// Sign-in code, e.g. a2001.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "agent")]
        role: RoleArg,
        /// Queues, comma-separated.
        #[arg(long, value_delimiter = ',')]
        queues: Vec<String>,
        /// Skills, comma-separated.
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
        #[arg(long, default_value_t = 4)]
        max_chats: u32,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum RoleArg {
    Agent,
    Trainee,
    Supervisor,
}

#[derive(Subcommand, Debug)]
enum KbCommand {
    /// Import articles from a folder of Markdown files or a .jsonl file.
    Import {
        #[arg(long)]
        data_dir: PathBuf,
        source: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum ContentCommand {
    /// Import a content folder (kb/, canned-replies/, scripts/, scenarios/).
    Import {
        #[arg(long)]
        data_dir: PathBuf,
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.protocol_version {
        println!("{PROTOCOL_VERSION}");
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Some(command) = cli.command else {
        eprintln!("homedesk-platform: say what to do, e.g. `serve --data-dir DIR`; see --help");
        return ExitCode::from(2);
    };
    let result = match command {
        Command::Serve(args) => serve(args),
        Command::Agent(AgentCommand::Add {
            data_dir,
            code,
            name,
            role,
            queues,
            skills,
            max_chats,
        }) => agent_add(
            &data_dir,
            NewAgent {
                code,
                name,
                role: match role {
                    RoleArg::Agent => Role::Agent,
                    RoleArg::Trainee => Role::Trainee,
                    RoleArg::Supervisor => Role::Supervisor,
                },
                queues,
                skills,
                max_chats,
            },
        ),
        Command::Kb(KbCommand::Import { data_dir, source }) => kb_import(&data_dir, &source),
        Command::Content(ContentCommand::Import { data_dir, dir }) => {
            content_import(&data_dir, &dir)
        }
        Command::Training(TrainingCommand::List { data_dir, trainee }) => {
            training_list(&data_dir, trainee.as_deref())
        }
        Command::Channel(command) => channel(command),
        Command::Egress(command) => egress_command(command),
        Command::Release(command) => homedesk_platform::releases::cli::run(command, now_ms()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("homedesk-platform: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn agent_add(data_dir: &Path, agent: NewAgent) -> anyhow::Result<()> {
    let password = match std::env::var("HOMEDESK_AGENT_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the password from stdin")?;
            input.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let storage = SqliteStorage::open(data_dir)?;
    add_agent(&storage, &agent, &password, false, now_ms())?;
    println!("agent {} saved", agent.code);
    Ok(())
}

fn report_content_errors(errors: Vec<content::ContentError>) -> anyhow::Error {
    for error in &errors {
        eprintln!("{error}");
    }
    anyhow::anyhow!("{} problem(s) found; nothing was imported", errors.len())
}

fn kb_import(data_dir: &Path, source: &Path) -> anyhow::Result<()> {
    let articles = content::load_kb(source, now_ms()).map_err(report_content_errors)?;
    let storage = SqliteStorage::open(data_dir)?;
    let report = import_records(
        &storage,
        articles.into_iter().map(Record::KbArticle).collect(),
        now_ms(),
    )?;
    println!("knowledge base: {report}");
    Ok(())
}

fn content_import(data_dir: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut set = content::load_content_dir(dir, now_ms()).map_err(report_content_errors)?;
    let storage = SqliteStorage::open(data_dir)?;
    homedesk_platform::admin::store_canned_images(
        &storage,
        &mut set.canned_replies,
        &set.canned_images,
        now_ms(),
    )?;
    let mut records: Vec<Record> = set.kb.into_iter().map(Record::KbArticle).collect();
    records.extend(set.canned_replies.into_iter().map(Record::CannedReply));
    records.extend(set.scripts.into_iter().map(Record::Script));
    records.extend(set.scenarios.into_iter().map(Record::Scenario));
    let report = import_records(&storage, records, now_ms())?;
    println!("content: {report}");
    Ok(())
}

fn training_list(data_dir: &Path, trainee: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(
        data_dir.join("platform.db").exists(),
        "{} holds no platform database",
        data_dir.display()
    );
    let storage = SqliteStorage::open(data_dir)?;
    let storage: &dyn homedesk_platform::storage::Storage = &storage;
    let rows = storage.read_with(|tx| {
        tx.training_records(trainee, homedesk_platform::training::MAX_RECORDS_READ)
    })?;
    if rows.is_empty() {
        println!("no practice results yet");
        return Ok(());
    }
    let mut by_trainee: std::collections::BTreeMap<String, Vec<homedesk_protocol::TrainingRecord>> =
        std::collections::BTreeMap::new();
    for (who, _, data) in rows {
        let record: homedesk_protocol::TrainingRecord = serde_json::from_str(&data)?;
        by_trainee.entry(who).or_default().push(record);
    }
    for (who, records) in &by_trainee {
        let average = records.iter().map(|r| u32::from(r.percent)).sum::<u32>()
            / u32::try_from(records.len()).unwrap_or(1);
        let exams_passed = records.iter().filter(|r| r.exam && r.passed).count();
        println!(
            "{who}: {} results, average {average}%, {exams_passed} exam contacts passed",
            records.len()
        );
        for r in records {
            println!(
                "  {:>3}%  {:<6} {}{}  ({})",
                r.percent,
                if r.passed { "passed" } else { "failed" },
                r.scenario_title,
                if r.exam { " [exam]" } else { "" },
                r.scenario_id
            );
        }
    }
    Ok(())
}

/// Opens an existing data folder (administration never makes a new one).
fn existing(data_dir: &Path) -> anyhow::Result<SqliteStorage> {
    anyhow::ensure!(
        data_dir.join("platform.db").exists(),
        "{} holds no platform database",
        data_dir.display()
    );
    SqliteStorage::open(data_dir)
}

fn channel(command: ChannelCommand) -> anyhow::Result<()> {
    let now = now_ms();
    match command {
        ChannelCommand::Add {
            data_dir,
            id,
            webhook,
        } => {
            let storage: &dyn Storage = &SqliteStorage::open(&data_dir)?;
            let secret = storage
                .write_with(|tx| channels::add(tx, &id, webhook.as_deref(), now))?
                .map_err(anyhow::Error::msg)?;
            print_secret(&id, &secret, "added");
        }
        ChannelCommand::Rotate { data_dir, id } => {
            let storage: &dyn Storage = &existing(&data_dir)?;
            let secret = storage
                .write_with(|tx| channels::rotate(tx, &id, now))?
                .map_err(anyhow::Error::msg)?;
            print_secret(&id, &secret, "rotated; its old secret no longer works");
        }
        ChannelCommand::Webhook { data_dir, id, url } => {
            let storage: &dyn Storage = &existing(&data_dir)?;
            storage
                .write_with(|tx| channels::set_webhook(tx, &id, url.as_deref()))?
                .map_err(anyhow::Error::msg)?;
            match url {
                Some(url) => println!("adapter {id}: replies go to {url}"),
                None => println!("adapter {id}: no webhook; its replies stay queued"),
            }
        }
        ChannelCommand::List { data_dir } => {
            let storage: &dyn Storage = &existing(&data_dir)?;
            let adapters = storage.read_with(|tx| tx.adapters())?;
            if adapters.is_empty() {
                println!("no channel adapters yet; add one with `channel add ID --webhook URL`");
            }
            for a in adapters {
                println!(
                    "{}  webhook {}  added {}{}",
                    a.id,
                    a.webhook_url.as_deref().unwrap_or("(none)"),
                    utc(a.created_at),
                    a.rotated_at
                        .map(|at| format!("  secret rotated {}", utc(at)))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn print_secret(id: &str, secret: &str, what: &str) {
    println!("adapter {id} {what}");
    println!("secret: {secret}");
    println!(
        "Give the secret to the adapter now; it is not shown again. The adapter sends it as \
         `Authorization: Bearer <secret>` and checks webhook signatures with the key derived \
         from it (docs/protocol.md, section 9b)."
    );
}

fn egress_command(command: EgressCommand) -> anyhow::Result<()> {
    match command {
        EgressCommand::List { data_dir, failed } => {
            let storage = existing(&data_dir)?;
            let rows = egress::list(&storage, failed)?;
            if rows.is_empty() {
                println!(
                    "{}",
                    if failed {
                        "no failed deliveries"
                    } else {
                        "no replies have gone to adapters' webhooks yet"
                    }
                );
            }
            for row in rows {
                println!(
                    "{}  {}  {}  adapter {}  conversation {}  {} attempts  since {}{}",
                    row.message_id,
                    row.state.as_str(),
                    utc(row.updated_at),
                    row.adapter,
                    row.conversation_id,
                    row.attempts,
                    utc(row.created_at),
                    row.last_error
                        .map(|e| format!("\n    {e}"))
                        .unwrap_or_default()
                );
            }
        }
        EgressCommand::Retry {
            data_dir,
            message_id,
        } => {
            let storage: &dyn Storage = &existing(&data_dir)?;
            let was = storage
                .write_with(|tx| egress::retry(tx, &message_id, now_ms()))?
                .map_err(anyhow::Error::msg)?;
            println!(
                "reply {message_id} ({}) will be tried again within a few seconds by the running platform",
                was.as_str()
            );
        }
    }
    Ok(())
}

/// `2026-12-03 10:37:05 UTC`.
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.demo_traffic.is_some() && !args.demo {
        bail!("--demo-traffic needs --demo");
    }
    if args
        .demo_traffic
        .is_some_and(|rate| !(0.0..=600.0).contains(&rate))
    {
        bail!("--demo-traffic: give 0 to 600 contacts a minute");
    }
    if args.offer_timeout == 0 || args.access_ttl == 0 {
        bail!("--offer-timeout and --access-ttl must be at least 1 second");
    }
    if args.egress_retry_base_ms == 0
        || args.egress_retry_cap_ms < args.egress_retry_base_ms
        || args.egress_give_up_after == 0
        || args.egress_timeout == 0
        || args.egress_poll_ms == 0
    {
        bail!(
            "--egress-*: every setting must be above 0, and the retry cap at least the retry base"
        );
    }
    let storage = Arc::new(SqliteStorage::open(&args.data_dir)?);
    let (cert, key, ca) = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone(), None),
        _ => {
            let dev = tls::ensure_dev_certificates(&args.data_dir)?;
            (dev.cert, dev.key, Some(dev.ca))
        }
    };
    let tls_config = tls::server_config(&cert, &key)?;
    if args.data_dir.join("ingress-token").exists() {
        tracing::warn!(
            "{}: the shared ingress token is no longer used; each channel adapter has its own \
             secret now (`homedesk-platform channel add ID`)",
            args.data_dir.join("ingress-token").display()
        );
    }

    let demo = if args.demo {
        let demo = demo::seed(
            storage.as_ref(),
            &args.content,
            args.demo_traffic.is_some_and(|rate| rate > 0.0),
            now_ms(),
        )?;
        tracing::info!("demo content: {}", demo.report);
        channels::demo_secret(storage.as_ref(), &args.data_dir, now_ms())?;
        Some(demo)
    } else {
        None
    };

    let settings = Settings {
        auth: AuthConfig {
            access_ttl_ms: i64::try_from(args.access_ttl)?.saturating_mul(1000),
            refresh_ttl_ms: 30 * 24 * 3600 * 1000,
            refresh_grace_ms: i64::try_from(args.refresh_grace)?.saturating_mul(1000),
            demo: args.demo,
        },
        offer_timeout_ms: i64::try_from(args.offer_timeout)?.saturating_mul(1000),
        webchat: homedesk_platform::webchat::ChatLimits {
            customer_per_minute: args.chat_customer_rate,
            ip_per_minute: args.chat_ip_rate,
        },
        egress: EgressConfig {
            backoff_base_ms: i64::try_from(args.egress_retry_base_ms)?,
            backoff_cap_ms: i64::try_from(args.egress_retry_cap_ms)?,
            give_up_after_ms: i64::try_from(args.egress_give_up_after)?.saturating_mul(1000),
            attempt_timeout_ms: args.egress_timeout.saturating_mul(1000),
            poll_ms: args.egress_poll_ms,
        },
    };
    let storage: Arc<dyn Storage> = storage;
    let platform = Arc::new(Platform::new(storage, settings));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let address = listener.local_addr()?;
        tokio::spawn(Arc::clone(&platform).run_routing());
        tokio::spawn(upkeep(Arc::clone(&platform)));
        let worker = egress::worker::Worker::new(Arc::clone(&platform), platform.settings.egress)?;
        tokio::spawn(worker.run());
        if let (Some(demo), Some(rate)) = (demo.as_ref(), args.demo_traffic) {
            tokio::spawn(demo::run_traffic(
                Arc::clone(&platform),
                demo.world.clone(),
                rate,
            ));
        }
        let trust = match &ca {
            Some(ca) => format!("clients trust {}", ca.display()),
            None => format!("certificate {}", cert.display()),
        };
        if demo.is_some() {
            println!(
                "DEMO ONLY: agents a1001-a1005, trainee t2001 and supervisor s3001 sign in with the password {DEMO_PASSWORD:?}"
            );
            println!(
                "DEMO customer chat page: https://{address}/chat/aftersales (open it in a browser and write as a customer; agents a1001-a1004 work that queue)"
            );
            println!(
                "DEMO ONLY: channel adapter {:?} posts customer messages to https://{address}/v1/ingress/chat with the secret in {}",
                channels::DEMO_ADAPTER,
                args.data_dir.join(channels::DEMO_SECRET_FILE).display()
            );
        }
        // One line a script can wait for, printed last (a script may stop
        // reading here); on stdout as well as logged.
        println!("homedesk-platform ready at https://{address} ({trust})");
        tracing::info!("ready at https://{address} ({trust})");
        server::serve(Arc::clone(&platform), listener, tls_config, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok::<(), anyhow::Error>(())
    })
}

/// Purges expired tokens and old idempotency keys at start and daily.
async fn upkeep(platform: Arc<Platform>) {
    let mut stop = platform.shutting_down.subscribe();
    loop {
        if let Err(err) = platform.blocking(|p| p.purge_once()).await {
            tracing::warn!("upkeep failed: {err:#}");
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            tracing::warn!("cannot watch SIGTERM: {err}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}
