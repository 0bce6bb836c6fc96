//! `homedesk-cli`: the workstation core from a terminal, without a window.
//!
//! For support staff and engineers: inspect an installation, and (as the
//! product grows) import and search the knowledge base, look into the outbox
//! and sync state, run practice scenarios and benchmarks. Every subcommand is
//! a thin call into `homedesk-core`, so what it prints is what the app sees.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use homedesk_core::{Workstation, paths};

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
    let data_dir = paths::resolve_data_dir(cli.data_dir)?;
    let workstation = Workstation::open(&data_dir)
        .with_context(|| format!("opening the installation at {}", data_dir.display()))?;
    match cli.command {
        Command::Info => {
            let report = serde_json::json!({
                "app": workstation.app_info(),
                "connection": workstation.connection_status(),
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::SetLocale { tag } => {
            let info = workstation.set_locale(&tag)?;
            println!("{}", info.locale.tag());
        }
    }
    Ok(())
}
