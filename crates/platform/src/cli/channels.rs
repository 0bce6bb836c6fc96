//! `channel …` and `egress …`: channel adapters' secrets and webhooks, and
//! the replies on their way to them.

use std::path::PathBuf;

use clap::Subcommand;
use homedesk_platform::storage::Storage;
use homedesk_platform::{channels, egress, now_ms};

use super::existing;

#[derive(Subcommand, Debug)]
pub enum ChannelCommand {
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
pub enum EgressCommand {
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

pub fn channel(command: ChannelCommand) -> anyhow::Result<()> {
    let now = now_ms();
    match command {
        ChannelCommand::Add {
            data_dir,
            id,
            webhook,
        } => {
            let storage = homedesk_platform::storage::open_configured(&data_dir)?;
            let storage: &dyn Storage = storage.as_ref();
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

pub fn egress(command: EgressCommand) -> anyhow::Result<()> {
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
