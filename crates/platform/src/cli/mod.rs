//! The command line of `homedesk-platform`: every command and its flags
//! (clap), and which function runs it.
//!
//! One file per group: `serve.rs` (the server and its settings), `setup.rs`
//! (`init`, `queue …`, `agent add`: making a platform ready for work),
//! `content.rs` (`kb import`, `content import`, `training list`),
//! `channels.rs` (`channel …`, `egress …`); `release …` is the library's
//! own (`homedesk_platform::releases::cli`). Each only reads its flags, calls
//! the library and prints the outcome; the rules live in the library.

mod channels;
mod content;
mod serve;
mod setup;

use std::path::Path;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "homedesk-platform",
    version,
    about = "Homedesk reference central platform: HTTPS sync server, routing, administration"
)]
pub struct Cli {
    /// Print the sync protocol version this build speaks and exit.
    #[arg(long)]
    pub protocol_version: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make an empty production platform in a new data folder.
    Init(setup::InitArgs),
    /// Run the HTTPS server.
    Serve(Box<serve::ServeArgs>),
    /// Manage queues: add, change, list.
    #[command(subcommand)]
    Queue(setup::QueueCommand),
    /// Manage agent accounts.
    #[command(subcommand)]
    Agent(setup::AgentCommand),
    /// Manage the knowledge base.
    #[command(subcommand)]
    Kb(content::KbCommand),
    /// Import canned replies, call scripts and practice scenarios.
    #[command(subcommand)]
    Content(content::ContentCommand),
    /// Trainees' practice results (training records).
    #[command(subcommand)]
    Training(content::TrainingCommand),
    /// Channel adapters: their secrets and webhooks.
    #[command(subcommand)]
    Channel(channels::ChannelCommand),
    /// Replies on their way to adapters' webhooks.
    #[command(subcommand)]
    Egress(channels::EgressCommand),
    /// Desktop packages the workstations update to.
    #[command(subcommand)]
    Release(homedesk_platform::releases::cli::ReleaseCommand),
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init(args) => setup::init(args),
        Command::Serve(args) => serve::serve(*args),
        Command::Queue(command) => setup::queue(command),
        Command::Agent(command) => setup::agent(command),
        Command::Kb(command) => content::kb(command),
        Command::Content(command) => content::content(command),
        Command::Training(command) => content::training(command),
        Command::Channel(command) => channels::channel(command),
        Command::Egress(command) => channels::egress(command),
        Command::Release(command) => {
            homedesk_platform::releases::cli::run(command, homedesk_platform::now_ms())
        }
    }
}

/// Opens an existing data folder (administration never makes a new one).
fn existing(
    data_dir: &Path,
) -> anyhow::Result<std::sync::Arc<dyn homedesk_platform::storage::Storage>> {
    homedesk_platform::storage::open_existing(data_dir)
}
