//! `homedesk-platform release publish|list`: the command line of releases,
//! kept here so `main.rs` only dispatches to it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use super::{NewRelease, Target};
use crate::storage::Storage;

#[derive(Subcommand, Debug)]
pub enum ReleaseCommand {
    /// Store a signed desktop package the workstations then update to.
    Publish {
        #[arg(long)]
        data_dir: PathBuf,
        /// The .deb or .rpm `make dist` (or `tauri build`) made.
        package: PathBuf,
        /// Its signature: the .sig file `tauri signer sign` wrote.
        signature: PathBuf,
        /// The package's version, e.g. 1.4.0; newer than any published for its target.
        #[arg(long)]
        version: String,
        /// What is new: TOML with zh-CN = """…""" and/or en = """…""", or
        /// plain text for both languages.
        #[arg(long)]
        notes: Option<PathBuf>,
        /// The updater target, e.g. linux-x86_64-deb; read from the package when left out.
        #[arg(long)]
        target: Option<String>,
        /// The release key's public half (the KEY.pub `tauri signer
        /// generate` wrote): the signature must verify against it.
        #[arg(long)]
        pubkey: Option<PathBuf>,
    },
    /// The published releases, oldest first.
    List {
        #[arg(long)]
        data_dir: PathBuf,
    },
}

fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading {what} {}", path.display()))?;
    String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{what} {} is not UTF-8 text", path.display()))
}

/// Opens an existing data folder (a release is never published into a new one).
fn existing(data_dir: &Path) -> anyhow::Result<std::sync::Arc<dyn Storage>> {
    crate::storage::open_existing(data_dir)
}

pub fn run(command: ReleaseCommand, now: homedesk_protocol::UnixMillis) -> anyhow::Result<()> {
    match command {
        ReleaseCommand::Publish {
            data_dir,
            package,
            signature,
            version,
            notes,
            target,
            pubkey,
        } => {
            // Everything is read and checked before the database is opened.
            let target = target
                .as_deref()
                .map(Target::parse)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let notes = match notes {
                Some(path) => super::parse_notes(&read_text(&path, "the notes file")?)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                None => super::Notes::default(),
            };
            let public_key = match pubkey {
                Some(path) => Some(
                    super::signature::parse_public_key(&read_text(&path, "the public key")?)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                ),
                None => None,
            };
            let size = std::fs::metadata(&package)
                .with_context(|| format!("reading the package {}", package.display()))?
                .len();
            anyhow::ensure!(
                size <= super::MAX_PACKAGE_BYTES,
                "{} is {size} bytes; a release may be at most {}",
                package.display(),
                super::MAX_PACKAGE_BYTES
            );
            let bytes = std::fs::read(&package)
                .with_context(|| format!("reading the package {}", package.display()))?;
            let file_name = package
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let signature = read_text(&signature, "the signature")?;
            let storage = existing(&data_dir)?;
            let checked = public_key.is_some();
            let row = super::publish(
                storage.as_ref(),
                NewRelease {
                    package: bytes,
                    file_name,
                    signature,
                    version,
                    notes,
                    target,
                    public_key,
                },
                now,
            )?;
            println!(
                "release {} for {} published ({} bytes, sha256 {}){}",
                row.version,
                row.target,
                row.size,
                row.id,
                if checked {
                    "; its signature verifies against the public key given"
                } else {
                    "; its signature was NOT checked against a key (give --pubkey)"
                }
            );
            println!(
                "Workstations on an older version find it at their next check \
                 (GET /v1/updates/linux/ARCH/VERSION?bundle_type=deb|rpm)."
            );
        }
        ReleaseCommand::List { data_dir } => {
            let storage = existing(&data_dir)?;
            let storage: &dyn Storage = storage.as_ref();
            let rows = storage.read_with(|tx| tx.releases(None))?;
            if rows.is_empty() {
                println!("no releases published yet; publish one with `release publish`");
            }
            for row in rows {
                let languages: Vec<&str> = [("zh-CN", &row.notes_zh), ("en", &row.notes_en)]
                    .into_iter()
                    .filter(|(_, notes)| notes.is_some())
                    .map(|(language, _)| language)
                    .collect();
                println!(
                    "{}  {}  {}  {} bytes  published {}  notes: {}  sha256 {}",
                    row.version,
                    row.target,
                    row.file_name,
                    row.size,
                    super::rfc3339(row.published_at),
                    if languages.is_empty() {
                        "none".to_owned()
                    } else {
                        languages.join(", ")
                    },
                    row.id
                );
            }
        }
    }
    Ok(())
}
