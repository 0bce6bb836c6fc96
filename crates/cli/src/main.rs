//! `homedesk-cli`: the workstation core from a terminal, without a window.
//!
//! For support staff and engineers: inspect an installation, import and
//! search a knowledge base, look into an agent's outbox and sync state. Every
//! subcommand is a thin call into `homedesk-core`, so what it prints is what
//! the app sees. Errors are one clear line each and a non-zero exit.
//!
//! Agent stores are encrypted: a command that reads one (`--db`) needs the
//! agent's password, from `HOMEDESK_PASSWORD` (scripts) or else one line on
//! stdin (typed without echo on a terminal). It goes through the same
//! unlock throttle as the app's lock screen, so the CLI is no way around it.
//! `kb import` into a new file makes a new encrypted store sealed with that
//! password.

mod practice;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use homedesk_core::search::{self, SearchOptions};
use homedesk_core::store::{Store, outbox, records, sync_state, views};
use homedesk_core::vault::{self, Unlock, Vault};
use homedesk_core::{Workstation, clock, paths};
use homedesk_protocol::Record;

#[derive(Parser, Debug)]
#[command(
    name = "homedesk-cli",
    version,
    about = "Homedesk workstation core, without a window"
)]
struct Cli {
    /// Data folder of the installation to use [default: the app's own; env HOMEDESK_DATA_DIR]
    #[arg(long, global = true, env = "HOMEDESK_DATA_DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show version, data folder, interface language and connection state as JSON.
    Info,
    /// Set the interface language (zh-CN or en) the app starts in.
    SetLocale {
        /// Language tag: zh-CN or en
        tag: String,
    },
    /// The knowledge base of a local store.
    #[command(subcommand)]
    Kb(KbCommand),
    /// Where a local store stands with the platform.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Agent actions waiting to be delivered.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Practice mode without a window: play scenarios with scripted replies.
    #[command(subcommand)]
    Practice(practice::PracticeCommand),
    /// Practice scenarios for the sandbox.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
}

#[derive(Args, Debug)]
struct DbArg {
    /// The local store (an agent's .sqlite file; created if missing for `kb import`)
    #[arg(long)]
    db: PathBuf,
}

#[derive(Subcommand, Debug)]
enum KbCommand {
    /// Import articles: a folder of Markdown files with TOML front matter, or
    /// a JSON-lines file of {id, locale, title, body, tags, category}.
    Import {
        #[command(flatten)]
        db: DbArg,
        source: PathBuf,
    },
    /// Search articles (Chinese, pinyin or English), best first.
    Search {
        #[command(flatten)]
        db: DbArg,
        /// Most results to show
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Only articles in this language (zh-CN or en)
        #[arg(long)]
        locale: Option<String>,
        /// Print a JSON array of {id, title, snippet, score}
        #[arg(long)]
        json: bool,
        /// Read one query per line from stdin, print one JSON array per line
        #[arg(long, conflicts_with = "query", requires = "json")]
        stdin: bool,
        /// What to look for
        #[arg(required_unless_present = "stdin")]
        query: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum SyncCommand {
    /// Cursor, last sync, session, pending actions, conflicts and local counts.
    Status {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ScenarioCommand {
    /// Check scenario files, packs and play-throughs; print every problem as
    /// file:line: message. Exit status 1 when there is any.
    Check {
        /// A content folder (holding scenarios/, with kb/ and scripts/ the
        /// scenarios refer to) or its scenarios/ folder
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum OutboxCommand {
    /// Pending actions, oldest first, with attempts and the last error.
    List {
        #[command(flatten)]
        db: DbArg,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("homedesk-cli: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Info | Command::SetLocale { .. } => {
            let data_dir = paths::resolve_data_dir(cli.data_dir)?;
            let workstation = Workstation::open(&data_dir)
                .with_context(|| format!("opening the installation at {}", data_dir.display()))?;
            if let Command::SetLocale { tag } = cli.command {
                let info = workstation.set_locale(&tag)?;
                println!("{}", info.locale.tag());
            } else {
                let report = serde_json::json!({
                    "app": workstation.app_info(),
                    "connection": workstation.connection_status(),
                });
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(())
        }
        Command::Kb(KbCommand::Import { db, source }) => kb_import(&db.db, &source),
        Command::Kb(KbCommand::Search {
            db,
            limit,
            locale,
            json,
            stdin,
            query,
        }) => {
            let store = open_existing(&db.db)?;
            if limit == 0 || limit > 1000 {
                bail!("--limit: give 1 to 1000");
            }
            let options = SearchOptions { limit, locale };
            if stdin {
                let out = std::io::stdout();
                let mut out = out.lock();
                for line in std::io::stdin().lock().lines() {
                    let line = line.context("reading queries from stdin")?;
                    let hits = store.read(|c| search::search_articles(c, &line, &options))?;
                    writeln!(out, "{}", serde_json::to_string(&hits)?)?;
                }
                return Ok(());
            }
            let query = query.unwrap_or_default();
            let hits = store.read(|c| search::search_articles(c, &query, &options))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&hits)?);
            } else if hits.is_empty() {
                println!("nothing found for {query:?}");
            } else {
                for (rank, hit) in hits.iter().enumerate() {
                    println!(
                        "{:>2}. {}  [{}]  {:.2}",
                        rank + 1,
                        hit.title,
                        hit.id,
                        hit.score
                    );
                    println!("    {}", plain_snippet(&hit.snippet));
                }
            }
            Ok(())
        }
        Command::Sync(SyncCommand::Status { db, json }) => sync_status(&db.db, json),
        Command::Practice(command) => practice::run(command),
        Command::Scenario(ScenarioCommand::Check { dir }) => scenario_check(&dir),
        Command::Outbox(OutboxCommand::List { db, limit, json }) => {
            let store = open_existing(&db.db)?;
            let entries = store.read(|c| outbox::list(c, limit))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else if entries.is_empty() {
                println!("the outbox is empty: every action was delivered");
            } else {
                for e in &entries {
                    let kind = e.action["type"].as_str().unwrap_or("?");
                    println!(
                        "#{} {} {} conversation={} attempts={}{}",
                        e.seq,
                        e.key,
                        kind,
                        e.conversation_id.as_deref().unwrap_or("-"),
                        e.attempts,
                        e.last_error
                            .as_deref()
                            .map(|err| format!(" last error: {err}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
    }
}

fn open_existing(db: &Path) -> anyhow::Result<Store> {
    if !db.exists() {
        bail!("no local store at {}", db.display());
    }
    let password = password()?;
    match Vault::default().try_unlock(db, &password, clock::now_ms())? {
        Unlock::Opened(key) => Ok(vault::open_agent_store(db, &key)?),
        Unlock::Refused {
            failures,
            retry_after_ms: 0,
        } => bail!(
            "wrong password for {} ({failures} wrong in a row; after 5 the store waits before it checks again)",
            db.display()
        ),
        Unlock::Refused { retry_after_ms, .. } => bail!(
            "too many wrong passwords for {}: try again in {} s",
            db.display(),
            retry_after_ms.div_ceil(1000)
        ),
    }
}

/// Opens the store at `db`, or makes a new encrypted one there sealed with
/// the password.
fn open_or_create(db: &Path) -> anyhow::Result<Store> {
    if db.exists() || Vault::key_path(db).exists() {
        return open_existing(db);
    }
    let password = password()?;
    let key = Vault::default().create_key(db, &password)?;
    Ok(vault::open_agent_store(db, &key)?)
}

/// The agent's password: `HOMEDESK_PASSWORD`, else one line from stdin.
fn password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("HOMEDESK_PASSWORD") {
        return Ok(password);
    }
    use std::io::IsTerminal;
    let terminal = std::io::stdin().is_terminal();
    let stty = |arg: &str| {
        let _ = std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status();
    };
    if terminal {
        eprint!("password: ");
        stty("-echo");
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if terminal {
        stty("echo");
        eprintln!();
    }
    read.context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!(
            "this store is encrypted: give the agent's password on stdin or in HOMEDESK_PASSWORD"
        );
    }
    Ok(password)
}

fn kb_import(db: &Path, source: &Path) -> anyhow::Result<()> {
    let articles = homedesk_content::load_kb(source, clock::now_ms()).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "{} has {} problem(s); nothing was imported:\n{}",
            source.display(),
            lines.len(),
            lines.join("\n")
        )
    })?;
    let store = open_or_create(db)?;
    let count = articles.len();
    store.write(|tx| {
        for article in articles {
            records::upsert_record(tx, &Record::KbArticle(article), "")?;
        }
        Ok::<_, homedesk_core::store::StoreError>(())
    })?;
    println!("imported {count} articles into {}", db.display());
    Ok(())
}

/// The same checks as the platform's `content import` and the app: every
/// problem on its own line (stderr), then a one-line summary.
fn scenario_check(dir: &Path) -> anyhow::Result<()> {
    match homedesk_content::check_scenarios(dir, clock::now_ms()) {
        Ok(set) => {
            println!(
                "{}: {} scenario(s), {} pack(s), {} play-through file(s) checked, no problems",
                dir.display(),
                set.docs.len(),
                set.packs.len(),
                set.plays.len()
            );
            Ok(())
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            let files: std::collections::BTreeSet<&Path> = problems
                .iter()
                .map(|problem| problem.file.as_path())
                .collect();
            bail!(
                "{} problem(s) in {} file(s) under {}; fix them and check again",
                problems.len(),
                files.len(),
                dir.display()
            )
        }
    }
}

fn sync_status(db: &Path, json: bool) -> anyhow::Result<()> {
    let store = open_existing(db)?;
    let state = store.read(sync_state::get)?;
    let session = store.read(sync_state::session)?;
    let pending = store.read(outbox::count)?;
    let conflicts = store.read(views::conflicts)?;
    let counts = store.read(views::counts)?;
    let report = serde_json::json!({
        "db": db.display().to_string(),
        "agent": session.as_ref().map(|s| s.agent.code.clone()),
        "signed_in": session.is_some(),
        "session_refresh_expires_at": session.as_ref().map(|s| s.refresh_expires_at),
        "cursor": state.cursor,
        "last_sync_at": state.last_sync_at,
        "server_offset_ms": state.server_offset_ms,
        "skipped_changes": state.skipped_changes,
        "pending_actions": pending,
        "open_conflicts": conflicts.len(),
        "local": counts.iter().map(|(t, n)| (t.to_string(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("local store      {}", db.display());
    println!(
        "agent            {}",
        session
            .as_ref()
            .map(|s| s.agent.code.as_str())
            .unwrap_or("(not signed in)")
    );
    println!(
        "last sync        {}",
        state
            .last_sync_at
            .map(|t| format!("{} s ago", (clock::now_ms() - t) / 1000))
            .unwrap_or_else(|| "never".into())
    );
    println!(
        "cursor           {}",
        state.cursor.as_deref().unwrap_or("(start)")
    );
    println!("pending actions  {pending}");
    println!("open conflicts   {}", conflicts.len());
    println!("skipped changes  {}", state.skipped_changes);
    for (table, n) in counts {
        println!("{table:<16} {n}");
    }
    Ok(())
}

/// A search snippet for a terminal: matches in [brackets], entities decoded.
fn plain_snippet(html: &str) -> String {
    html.replace("<mark>", "[")
        .replace("</mark>", "]")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
