//! `homedesk-platform`: the reference central platform.
//!
//! It will own the server side of the sync protocol (`homedesk-protocol`):
//! HTTPS with rustls, sign-in, the per-agent change log, idempotent actions,
//! routing of customer contacts and demo traffic (see issue "Sync protocol
//! and the reference central platform"). For now it only reports the protocol
//! version it speaks, so scripts can check which build they have.

use clap::Parser;
use homedesk_protocol::PROTOCOL_VERSION;

#[derive(Parser, Debug)]
#[command(
    name = "homedesk-platform",
    version,
    about = "Homedesk reference central platform"
)]
struct Cli {
    /// Print the sync protocol version this build speaks and exit.
    #[arg(long)]
    protocol_version: bool,
}

fn main() {
    let cli = Cli::parse();
    if cli.protocol_version {
        println!("{PROTOCOL_VERSION}");
        return;
    }
    eprintln!(
        "homedesk-platform {}: the server is not built yet; see `--help`.",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
