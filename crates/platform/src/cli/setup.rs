//! Making a platform ready for work: `init` (an empty production data
//! folder), `queue add/set/list`, `agent add` and `agent disable/enable/reset-password`.
//!
//! Flags are read with the library's parsers (`homedesk_platform::queues`),
//! so a bad value is refused by the command line itself, naming the flag and
//! what it accepts, before anything is opened or written.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use homedesk_platform::admin::{AccountChange, NewAgent, add_agent, change_account};
use homedesk_platform::queues::{self, OpenHours, QueueChange};
use homedesk_platform::{config, now_ms, setup};
use homedesk_protocol::{LocalDate, Role, Weekdays};

use super::existing;

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The new platform's folder (made owner-only; must not hold a platform yet).
    #[arg(long)]
    data_dir: PathBuf,
    /// Address `serve` listens on, written into platform.toml.
    #[arg(long, default_value = config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Your server certificate chain (PEM); without it a development CA is made.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// PostgreSQL's URL (postgres://user:password@host:5432/name), written
    /// into platform.toml: the platform keeps its data there, and several
    /// instances may share it [default: SQLite in DATA_DIR].
    #[arg(long, value_name = "URL", env = homedesk_platform::storage::DATABASE_ENV)]
    database: Option<String>,
}

pub fn init(args: InitArgs) -> anyhow::Result<()> {
    let dir = &args.data_dir;
    let made = setup::init(
        dir,
        args.listen,
        args.cert.as_deref().zip(args.key.as_deref()),
        args.database.as_deref(),
    )?;
    let shown = dir.display();
    println!("A new Homedesk platform is ready in {shown}:");
    let database = match &args.database {
        Some(url) => homedesk_platform::storage::postgres::redact(url),
        None => format!("{shown}/platform.db"),
    };
    println!("  database  {database} (production: no demo accounts, `serve --demo` is refused)");
    println!(
        "  settings  {} (listen {}; see docs/platform.md, \"The config file\")",
        made.config_file.display(),
        args.listen
    );
    match (&made.dev_ca, &args.cert) {
        (Some(ca), _) => println!(
            "  TLS       a development CA: workstations trust {} (it names only localhost and \
             127.0.0.1; give your own certificate with cert/key in the settings for other machines)",
            ca.display()
        ),
        (None, Some(cert)) => println!("  TLS       your certificate {}", cert.display()),
        (None, None) => {}
    }
    println!();
    println!("Next:");
    println!(
        "  1. a queue:   homedesk-platform queue add --data-dir {shown} aftersales --name-zh 售后服务 \
         --name-en After-sales --days mon-fri --hours 09:00-18:00"
    );
    println!(
        "  2. an agent:  homedesk-platform agent add --data-dir {shown} --code a2001 --name 张敏 \
         --queues aftersales   (the password from stdin)"
    );
    println!("  3. start it:  homedesk-platform serve --data-dir {shown}");
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Add a queue. Unless given: open every day 00:00-24:00 at +08:00, no
    /// holidays, first response 60s, resolve 24h, the platform's offer timeout.
    Add {
        #[arg(long)]
        data_dir: PathBuf,
        /// Queue id, e.g. aftersales (a-z, 0-9, -, _; also its chat page /chat/ID).
        id: String,
        #[command(flatten)]
        flags: QueueFlags,
    },
    /// Change a queue: only the fields given change.
    Set {
        #[arg(long)]
        data_dir: PathBuf,
        id: String,
        #[command(flatten)]
        flags: QueueFlags,
    },
    /// List the queues with their hours, targets and skills.
    List {
        #[arg(long)]
        data_dir: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
pub struct QueueFlags {
    /// Name in Chinese, e.g. 售后服务 (required by add).
    #[arg(long)]
    name_zh: Option<String>,
    /// Name in English, e.g. "After-sales" (required by add).
    #[arg(long)]
    name_en: Option<String>,
    /// Days it opens: mon-fri, mon,wed,sat, or every-day.
    #[arg(long, value_parser = queues::parse_days)]
    days: Option<Weekdays>,
    /// Daily opening hours in local time, e.g. 09:00-18:00 (00:00-24:00: all day).
    #[arg(long, value_parser = queues::parse_hours)]
    hours: Option<OpenHours>,
    /// Local time against UTC, e.g. +08:00.
    #[arg(long, value_parser = queues::parse_utc_offset, allow_hyphen_values = true)]
    utc_offset: Option<i16>,
    /// Dates it stays closed, e.g. 2026-10-01 (repeat, or a comma list);
    /// with `set`, the new list replaces the old.
    #[arg(long = "holiday", value_name = "DATE", value_delimiter = ',', value_parser = queues::parse_holiday)]
    holidays: Vec<LocalDate>,
    /// With `set`: remove every holiday.
    #[arg(long, conflicts_with = "holidays")]
    no_holidays: bool,
    /// First-response target: seconds, or 90s, 15m, 24h, 2d (open time only).
    #[arg(long, value_name = "DURATION", value_parser = queues::parse_duration)]
    first_response: Option<u32>,
    /// Resolution target, like --first-response.
    #[arg(long, value_name = "DURATION", value_parser = queues::parse_duration)]
    resolve: Option<u32>,
    /// How long an agent has to accept an offer from this queue, like
    /// --first-response; `default` for the platform's setting.
    #[arg(long, value_name = "DURATION", value_parser = parse_offer_timeout)]
    offer_timeout: Option<OfferTimeout>,
    /// Skills an agent needs for this queue, comma-separated ('' for none).
    #[arg(long, value_delimiter = ',')]
    skills: Option<Vec<String>>,
}

/// `--offer-timeout`: seconds, or `None` for the platform's setting.
#[derive(Debug, Clone, Copy)]
struct OfferTimeout(Option<u32>);

fn parse_offer_timeout(text: &str) -> Result<OfferTimeout, String> {
    queues::parse_offer_timeout(text).map(OfferTimeout)
}

impl QueueFlags {
    fn change(self) -> QueueChange {
        QueueChange {
            name_zh: self.name_zh,
            name_en: self.name_en,
            days: self.days,
            hours: self.hours,
            utc_offset_minutes: self.utc_offset,
            holidays: if self.no_holidays {
                Some(Vec::new())
            } else {
                Some(self.holidays).filter(|h| !h.is_empty())
            },
            first_response_secs: self.first_response,
            resolve_secs: self.resolve,
            offer_timeout_secs: self.offer_timeout.map(|t| t.0),
            skills: self.skills.map(|skills| {
                skills
                    .into_iter()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
        }
    }
}

pub fn queue(command: QueueCommand) -> anyhow::Result<()> {
    match command {
        QueueCommand::Add {
            data_dir,
            id,
            flags,
        } => {
            anyhow::ensure!(
                flags.name_zh.is_some() && flags.name_en.is_some(),
                "queue add: give its names with --name-zh and --name-en"
            );
            let storage = existing(&data_dir)?;
            let queue = queues::add(&storage, &id, flags.change(), now_ms())?;
            println!("queue {} added", queue.id);
            println!(
                "{}",
                queues::describe(&queue, &platform_offer_timeout(&data_dir))
            );
        }
        QueueCommand::Set {
            data_dir,
            id,
            flags,
        } => {
            let storage = existing(&data_dir)?;
            let queue = queues::set(&storage, &id, flags.change(), now_ms())?;
            println!("queue {} saved", queue.id);
            println!(
                "{}",
                queues::describe(&queue, &platform_offer_timeout(&data_dir))
            );
        }
        QueueCommand::List { data_dir } => {
            let storage = existing(&data_dir)?;
            let all = queues::list(&storage)?;
            if all.is_empty() {
                println!(
                    "no queues yet; add one with `homedesk-platform queue add --data-dir {} ID \
                     --name-zh … --name-en …`",
                    data_dir.display()
                );
            }
            for queue in all {
                println!(
                    "{}",
                    queues::describe(&queue, &platform_offer_timeout(&data_dir))
                );
            }
        }
    }
    Ok(())
}

/// The platform's offer timeout as its config file in `data_dir` sets it
/// (`serve --offer-timeout` may still change it).
fn platform_offer_timeout(data_dir: &Path) -> String {
    let file = data_dir.join(config::FILE_NAME);
    let secs = config::ServeConfig::load(&file)
        .ok()
        .and_then(|c| c.offer_timeout)
        .unwrap_or(30);
    format!("{secs}s")
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
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
        /// Queues, comma-separated; each must exist (`queue add`).
        #[arg(long, value_delimiter = ',')]
        queues: Vec<String>,
        /// Skills, comma-separated.
        #[arg(long, value_delimiter = ',')]
        skills: Vec<String>,
        #[arg(long, default_value_t = 4)]
        max_chats: u32,
    },
    /// Stop an agent signing in, and end all their sign-ins and event streams now.
    Disable {
        #[arg(long)]
        data_dir: PathBuf,
        /// Agent code, e.g. a2001.
        code: String,
    },
    /// Let a disabled agent sign in again (their old sign-ins stay ended).
    Enable {
        #[arg(long)]
        data_dir: PathBuf,
        code: String,
    },
    /// Set a new password (from stdin or HOMEDESK_AGENT_PASSWORD), ending all
    /// the agent's sign-ins and event streams now.
    ResetPassword {
        #[arg(long)]
        data_dir: PathBuf,
        code: String,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    Agent,
    Trainee,
    Supervisor,
    Trainer,
}

pub fn agent(command: AgentCommand) -> anyhow::Result<()> {
    let (data_dir, code, change) = match command {
        AgentCommand::Add {
            data_dir,
            code,
            name,
            role,
            queues,
            skills,
            max_chats,
        } => {
            return agent_add(
                &data_dir,
                NewAgent {
                    code,
                    name,
                    role: match role {
                        RoleArg::Agent => Role::Agent,
                        RoleArg::Trainee => Role::Trainee,
                        RoleArg::Supervisor => Role::Supervisor,
                        RoleArg::Trainer => Role::Trainer,
                    },
                    queues,
                    skills,
                    max_chats,
                },
            );
        }
        AgentCommand::Disable { data_dir, code } => (data_dir, code, None),
        AgentCommand::Enable { data_dir, code } => (data_dir, code, Some(false)),
        AgentCommand::ResetPassword { data_dir, code } => (data_dir, code, Some(true)),
    };
    // `None`: disable; `Some(false)`: enable; `Some(true)`: a new password.
    let password = match change {
        Some(true) => Some(read_password()?),
        _ => None,
    };
    let change = match (change, password.as_deref()) {
        (None, _) => AccountChange::Disable,
        (Some(_), Some(password)) => AccountChange::ResetPassword(password),
        (Some(_), None) => AccountChange::Enable,
    };
    let storage = super::existing(&data_dir)?;
    let ended = change_account(&storage, &code, change, now_ms())?;
    let done = match change {
        AccountChange::Disable => "disabled: cannot sign in until `agent enable`",
        AccountChange::Enable => "enabled: can sign in again",
        AccountChange::ResetPassword(_) => "has a new password",
    };
    println!("agent {code} {done}; {ended} sign-in(s) ended");
    Ok(())
}

/// The password from HOMEDESK_AGENT_PASSWORD, else stdin (one line).
fn read_password() -> anyhow::Result<String> {
    Ok(match std::env::var("HOMEDESK_AGENT_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the password from stdin")?;
            input.trim_end_matches(['\r', '\n']).to_owned()
        }
    })
}

fn agent_add(data_dir: &Path, agent: NewAgent) -> anyhow::Result<()> {
    let password = read_password()?;
    let storage = homedesk_platform::storage::open_configured(data_dir)?;
    add_agent(&storage, &agent, &password, false, now_ms())?;
    println!("agent {} saved", agent.code);
    Ok(())
}
