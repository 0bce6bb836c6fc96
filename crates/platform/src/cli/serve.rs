//! `serve`: the HTTPS server. Its settings come from the flags, then the
//! config file (`--config FILE`, else `DATA_DIR/platform.toml` when there
//! is one), then the defaults (`homedesk_platform::config`). `--demo` seeds
//! the demo world, and is refused on a data folder made by `init`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use homedesk_platform::auth::DEMO_PASSWORD;
use homedesk_platform::config::{self, ServeConfig};
use homedesk_platform::storage::Storage;
use homedesk_platform::{Platform, channels, demo, egress, metrics, now_ms, server, setup, tls};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Folder for the database and TLS files (and the demo adapter's secret).
    #[arg(long, env = "HOMEDESK_PLATFORM_DATA")]
    data_dir: PathBuf,
    /// PostgreSQL's URL (postgres://user:password@host:5432/name), for
    /// several instances sharing one database [default: SQLite in DATA_DIR].
    #[arg(long, value_name = "URL", env = homedesk_platform::storage::DATABASE_ENV)]
    database: Option<String>,
    /// Config file (TOML); without it, DATA_DIR/platform.toml when present.
    /// Flags win over the file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port) [default: 127.0.0.1:8443].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Seed the demo world from the content folder; enables the demo password.
    /// Refused on a data folder made by `init`.
    #[arg(long)]
    demo: bool,
    /// With --demo: about this many customer contacts a minute.
    #[arg(long, value_name = "PER_MINUTE")]
    demo_traffic: Option<f64>,
    /// With --demo: this many extra agents l00001, l00002, … (demo
    /// password, spread over the demo's queues) for the load test
    /// (`homedesk-loadgen`, issue 19); at most 20000.
    #[arg(long, value_name = "N", default_value_t = 0)]
    demo_agents: usize,
    /// Content folder for --demo.
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// Server certificate chain (PEM) instead of the development CA.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Seconds an agent has to accept an offered contact, unless the queue
    /// sets its own [default: 30].
    #[arg(long)]
    offer_timeout: Option<u64>,
    /// Lifetime of an access token, in seconds [default: 900].
    #[arg(long)]
    access_ttl: Option<u64>,
    /// Seconds after a refresh during which the same refresh token may be
    /// presented again (a retry after a lost answer) without revoking the
    /// sign-in [default: 30].
    #[arg(long)]
    refresh_grace: Option<u64>,
    /// Days after its resolution a conversation stays on agents' PCs; then
    /// the platform tells the workstations to delete it (it keeps it for
    /// supervisors) [default: 90].
    #[arg(long, value_name = "DAYS")]
    retention_days: Option<u64>,
    /// Days an agent's own resolved conversations stay in their PC's sync
    /// scope; older history is fetched when opened [default: 14].
    #[arg(long, value_name = "DAYS")]
    sync_resolved_days: Option<u64>,
    /// Token `GET /metrics` requires (Authorization: Bearer TOKEN)
    /// [default: the one in DATA_DIR/metrics-token, made at first start].
    #[arg(long, value_name = "TOKEN", env = "HOMEDESK_METRICS_TOKEN")]
    metrics_token: Option<String>,
    /// Egress: the first retry of a reply an adapter refused waits 1/2 to 1
    /// times this; each further one doubles, up to --egress-retry-cap-ms
    /// [default: 1000].
    #[arg(long)]
    egress_retry_base_ms: Option<u64>,
    /// Egress: the longest wait between two attempts [default: 300000].
    #[arg(long)]
    egress_retry_cap_ms: Option<u64>,
    /// Egress: a reply not accepted by its adapter this long fails, in
    /// seconds [default: 86400].
    #[arg(long)]
    egress_give_up_after: Option<u64>,
    /// Egress: seconds one attempt may take [default: 10].
    #[arg(long)]
    egress_timeout: Option<u64>,
    /// Egress: how often to look for retries asked with `egress retry`
    /// [default: 2000].
    #[arg(long)]
    egress_poll_ms: Option<u64>,
    /// Web chat: messages and photos one customer may send a minute (also
    /// the burst allowed after a quiet minute) [default: 20].
    #[arg(long, value_name = "PER_MINUTE")]
    chat_customer_rate: Option<u32>,
    /// Web chat: requests one IP address may make a minute (new customers,
    /// messages, photos, event streams); everyone behind one address shares
    /// it [default: 120].
    #[arg(long, value_name = "PER_MINUTE")]
    chat_ip_rate: Option<u32>,
    /// Behind a reverse proxy: the header carrying the client's address
    /// (e.g. X-Forwarded-For), read only on connections from
    /// --trusted-proxy addresses [default: none, the connection's address].
    #[arg(long, value_name = "HEADER")]
    trusted_proxy_header: Option<String>,
    /// An address of the reverse proxy (repeat for several)
    /// [default: 127.0.0.1 and ::1].
    #[arg(long, value_name = "IP")]
    trusted_proxy: Vec<std::net::IpAddr>,
}

impl ServeArgs {
    /// The settings the flags give, in the config file's shape.
    fn flags(&self) -> ServeConfig {
        ServeConfig {
            database: self.database.clone(),
            listen: self.listen,
            cert: self.cert.clone(),
            key: self.key.clone(),
            offer_timeout: self.offer_timeout,
            access_ttl: self.access_ttl,
            refresh_grace: self.refresh_grace,
            metrics_token: self.metrics_token.clone(),
            retention: config::Retention {
                conversation_days: self.retention_days,
                ..config::Retention::default()
            },
            sync: config::Sync {
                resolved_days: self.sync_resolved_days,
            },
            egress: config::Egress {
                retry_base_ms: self.egress_retry_base_ms,
                retry_cap_ms: self.egress_retry_cap_ms,
                give_up_after: self.egress_give_up_after,
                timeout: self.egress_timeout,
                poll_ms: self.egress_poll_ms,
            },
            webchat: config::Webchat {
                customer_rate: self.chat_customer_rate,
                ip_rate: self.chat_ip_rate,
            },
            sign_in: config::SignIn {
                trusted_proxy_header: self.trusted_proxy_header.clone(),
                trusted_proxies: (!self.trusted_proxy.is_empty())
                    .then(|| self.trusted_proxy.clone()),
                ..config::SignIn::default()
            },
        }
    }

    /// The config file: `--config`, else the data folder's when present.
    fn file(&self) -> anyhow::Result<ServeConfig> {
        match &self.config {
            Some(file) => ServeConfig::load(file),
            None => {
                let file = self.data_dir.join(config::FILE_NAME);
                if file.exists() {
                    ServeConfig::load(&file)
                } else {
                    Ok(ServeConfig::default())
                }
            }
        }
    }
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.demo_traffic.is_some() && !args.demo {
        bail!("--demo-traffic needs --demo");
    }
    if args
        .demo_traffic
        .is_some_and(|rate| !(0.0..=600.0).contains(&rate))
    {
        bail!("--demo-traffic: give 0 to 600 contacts a minute");
    }
    if args.demo_agents > 0 && !args.demo {
        bail!("--demo-agents needs --demo");
    }
    if args.demo_agents > demo::MAX_LOAD_AGENTS {
        bail!("--demo-agents: give 0 to {} agents", demo::MAX_LOAD_AGENTS);
    }
    let mut resolved = args.flags().over(args.file()?).resolve(args.demo)?;
    let storage = homedesk_platform::storage::open(&args.data_dir, resolved.database.as_deref())?;
    if resolved.settings.metrics_token.is_none() {
        resolved.settings.metrics_token = Some(metrics::folder_token(&args.data_dir)?);
    }
    // Before anything is seeded or made: a refused --demo changes nothing.
    if args.demo && setup::is_production(storage.as_ref())? {
        bail!(
            "{} is a production platform (made by `init`): --demo would add demo accounts \
             with a public password to it. Run the demo with another --data-dir",
            args.data_dir.display()
        );
    }
    let (cert, key, ca) = match &resolved.cert_key {
        Some((cert, key)) => (cert.clone(), key.clone(), None),
        None => {
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
        let added =
            demo::seed_load_agents(storage.as_ref(), &demo.world, args.demo_agents, now_ms())?;
        if added > 0 {
            tracing::info!("demo: {added} load-test agents added");
        }
        channels::demo_secret(storage.as_ref(), &args.data_dir, now_ms())?;
        Some(demo)
    } else {
        None
    };

    let storage: Arc<dyn Storage> = storage;
    let platform = Arc::new(Platform::new(storage, resolved.settings));
    let listen = resolved.listen;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let address = listener.local_addr()?;
        tokio::spawn(Arc::clone(&platform).run_routing());
        let links = tokio::spawn(Arc::clone(&platform).run_links());
        tokio::spawn(Arc::clone(&platform).run_peers());
        tokio::spawn(upkeep(Arc::clone(&platform)));
        tokio::spawn(Arc::clone(&platform).run_session_watch());
        let worker = egress::worker::Worker::new(Arc::clone(&platform), platform.settings.egress)?;
        let egress_worker = tokio::spawn(worker.run());
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
                "DEMO ONLY: agents a1001-a1005, trainee t2001, supervisor s3001 and trainer r4001 sign in with the password {DEMO_PASSWORD:?}"
            );
            if args.demo_agents > 0 {
                println!(
                    "DEMO ONLY: load-test agents {}-{} sign in with the same password",
                    demo::load_agent_code(1),
                    demo::load_agent_code(args.demo_agents)
                );
            }
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
        // The links task takes this instance's streams out as it ends.
        let _ = links.await;
        // The egress worker gives back the replies it was still sending, so
        // the next instance (or this one restarted) need not wait for its
        // claims to run out.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), egress_worker).await;
        tracing::info!("stopped");
        Ok::<(), anyhow::Error>(())
    })
}

/// Purges expired tokens and old idempotency keys, and sweeps resolved
/// conversations past their retention off agents' PCs, at start and daily.
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
