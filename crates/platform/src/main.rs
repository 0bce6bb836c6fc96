//! `homedesk-platform`: the reference central platform.
//!
//! `init` makes a production data folder, `serve` runs the HTTPS server;
//! `queue …`, `agent add`, `kb import`, `content import`, `channel …`,
//! `egress …` and `release …` administer a data folder (safe while the server runs).
//! The work itself lives in the library; the command line is in `cli/`
//! (one file per group of commands), and this file only sets up logging and
//! turns an error into plain words and an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use homedesk_protocol::PROTOCOL_VERSION;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
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
    match cli::run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("homedesk-platform: {err:#}");
            ExitCode::FAILURE
        }
    }
}
