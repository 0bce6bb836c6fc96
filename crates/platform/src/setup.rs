//! A production data folder: what `homedesk-platform init` makes, and the
//! mark that keeps demo data out of it.
//!
//! `init` makes the folder (owner-only), the database with every migration,
//! the TLS files (the development CA unless the administrator brings a
//! certificate), and a commented `platform.toml`, and marks the database
//! `mode = production` in its `meta` table. The mark lives in the database,
//! not in a file beside it, so it travels with every backup and restore;
//! `serve --demo` reads it and refuses before seeding anything, so demo
//! accounts and their public password never enter a real platform.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config;
use crate::storage::Storage;

const MODE_KEY: &str = "mode";
const PRODUCTION: &str = "production";

/// Whether the database was made by `init`.
pub fn is_production(storage: &dyn Storage) -> anyhow::Result<bool> {
    Ok(storage.read_with(|tx| tx.meta(MODE_KEY))?.as_deref() == Some(PRODUCTION))
}

/// What `init` made.
#[derive(Debug, Clone)]
pub struct Initialized {
    pub config_file: PathBuf,
    /// The CA workstations trust, when the development CA was made.
    pub dev_ca: Option<PathBuf>,
}

/// Makes an empty production platform in `dir`. Refuses a folder that
/// already holds a platform (its database or config file). A certificate
/// and key are checked before anything is written.
pub fn init(
    dir: &Path,
    listen: SocketAddr,
    cert_key: Option<(&Path, &Path)>,
    database: Option<&str>,
) -> anyhow::Result<Initialized> {
    let database = database
        .map(crate::storage::check_database_url)
        .transpose()?;
    for existing in ["platform.db", config::FILE_NAME] {
        anyhow::ensure!(
            !dir.join(existing).exists(),
            "{} already holds a platform ({existing}); init makes a new one only. \
             Start it with `homedesk-platform serve --data-dir {}`",
            dir.display(),
            dir.display()
        );
    }
    let cert_key = match cert_key {
        Some((cert, key)) => {
            let (cert, key) = (absolute(cert)?, absolute(key)?);
            crate::tls::server_config(&cert, &key)?;
            Some((cert, key))
        }
        None => None,
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} readable by its owner only", dir.display()))?;
    }
    let storage = crate::storage::open(dir, database.as_deref())?;
    let storage: &dyn Storage = storage.as_ref();
    // A PostgreSQL database outlives the folder: refuse one that another
    // platform (or a demo) already uses.
    let taken = storage.read_with(|tx| Ok(tx.meta(MODE_KEY)?.is_some() || tx.latest_seq()? > 0))?;
    anyhow::ensure!(
        !taken,
        "the database already holds a platform; init makes a new one only. Give an empty \
         database, or start the existing platform with `homedesk-platform serve`"
    );
    storage.write_with(|tx| tx.set_meta(MODE_KEY, PRODUCTION))?;
    let dev_ca = match cert_key {
        Some(_) => None,
        None => Some(crate::tls::ensure_dev_certificates(dir)?.ca),
    };
    let config_file = dir.join(config::FILE_NAME);
    let text = config::template(
        listen,
        cert_key
            .as_ref()
            .map(|(cert, key)| (cert.as_path(), key.as_path())),
        database.as_deref(),
    );
    // Owner-only: it may hold the metrics token.
    crate::owner_only::write(&config_file, text.as_bytes())?;
    Ok(Initialized {
        config_file,
        dev_ca,
    })
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("finding {}", path.display()))
}
