//! The update package kept in the data folder (`DATA/updates/`) between its
//! download and its install, so an update the agent did not install before
//! closing the app installs at the next start without downloading again.
//!
//! Two files: `package` (the bytes as downloaded and verified) and
//! `update.json` (the version, the platform's manifest, the package's
//! length and SHA-256, and whether the next start already tried to install
//! it). `update.json` is written last, each file through a temporary file
//! and a rename, so a crash or power cut mid-write leaves either a whole
//! package or none; a package whose bytes do not match `update.json` is
//! forgotten. The signature is checked again by the shell before any
//! install: this file only keeps what was verified once.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use homedesk_protocol::UnixMillis;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Offer;
use crate::Error;

/// The folder under the data folder.
pub const UPDATES_DIR: &str = "updates";
const PACKAGE_FILE: &str = "package";
const META_FILE: &str = "update.json";

/// What `update.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    version: String,
    manifest: serde_json::Value,
    bytes: u64,
    sha256: String,
    saved_at: UnixMillis,
    /// A start of the app already tried to install it (it is not tried at
    /// every start: a refused privilege prompt must not block the desk).
    start_attempted: bool,
}

/// A verified package waiting to be installed.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptPackage {
    /// The version it installs.
    pub version: String,
    /// The platform's manifest it came with (the updater rebuilds the
    /// update from it: URL, signature, notes).
    pub manifest: serde_json::Value,
    /// Where its bytes are.
    pub path: PathBuf,
    pub start_attempted: bool,
}

impl KeptPackage {
    /// The package's bytes.
    pub fn read(&self) -> Result<Vec<u8>, Error> {
        fs::read(&self.path).map_err(|source| Error::DataDir {
            path: self.path.clone(),
            source,
        })
    }
}

/// What is in `DATA/updates/`.
#[derive(Debug, Clone, PartialEq)]
pub enum Kept {
    Nothing,
    Package(KeptPackage),
    /// Something unreadable or not matching its record (a crash mid-write,
    /// a damaged disk); the reason, for the log.
    Damaged(String),
}

fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join(UPDATES_DIR)
}

/// Reads the kept package, checking its bytes against the record.
pub fn load(data_dir: &Path) -> Kept {
    let dir = dir(data_dir);
    let meta_path = dir.join(META_FILE);
    let text = match fs::read_to_string(&meta_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return if dir.join(PACKAGE_FILE).exists() {
                Kept::Damaged("a package without its record".into())
            } else {
                Kept::Nothing
            };
        }
        Err(err) => return Kept::Damaged(format!("cannot read {}: {err}", meta_path.display())),
    };
    let meta: Meta = match serde_json::from_str(&text) {
        Ok(meta) => meta,
        Err(err) => return Kept::Damaged(format!("{}: {err}", meta_path.display())),
    };
    let path = dir.join(PACKAGE_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) => return Kept::Damaged(format!("cannot read {}: {err}", path.display())),
    };
    if bytes.len() as u64 != meta.bytes || sha256_hex(&bytes) != meta.sha256 {
        return Kept::Damaged(format!(
            "the package of {} is not the one downloaded ({} bytes, {} recorded)",
            meta.version,
            bytes.len(),
            meta.bytes
        ));
    }
    Kept::Package(KeptPackage {
        version: meta.version,
        manifest: meta.manifest,
        path,
        start_attempted: meta.start_attempted,
    })
}

/// Keeps a verified package (replacing any other).
pub fn save(
    data_dir: &Path,
    offer: &Offer,
    bytes: &[u8],
    now: UnixMillis,
) -> Result<KeptPackage, Error> {
    let dir = dir(data_dir);
    forget(data_dir)?;
    fs::create_dir_all(&dir).map_err(|source| Error::DataDir {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(PACKAGE_FILE);
    write_whole(&path, bytes)?;
    let meta = Meta {
        version: offer.version.clone(),
        manifest: offer.manifest.clone(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
        saved_at: now,
        start_attempted: false,
    };
    write_meta(&dir, &meta)?;
    Ok(KeptPackage {
        version: meta.version,
        manifest: meta.manifest,
        path,
        start_attempted: false,
    })
}

/// Records that a start tried to install the kept package.
pub fn mark_start_attempted(data_dir: &Path) -> Result<(), Error> {
    let dir = dir(data_dir);
    let meta_path = dir.join(META_FILE);
    let text = fs::read_to_string(&meta_path).map_err(|source| Error::DataDir {
        path: meta_path.clone(),
        source,
    })?;
    let mut meta: Meta = serde_json::from_str(&text)
        .map_err(|err| Error::Store(format!("{}: {err}", meta_path.display())))?;
    meta.start_attempted = true;
    write_meta(&dir, &meta)
}

/// Removes the kept package, if any.
pub fn forget(data_dir: &Path) -> Result<(), Error> {
    let dir = dir(data_dir);
    match fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::DataDir { path: dir, source }),
    }
}

fn write_meta(dir: &Path, meta: &Meta) -> Result<(), Error> {
    let text = serde_json::to_vec_pretty(meta)
        .map_err(|err| Error::Store(format!("update record: {err}")))?;
    write_whole(&dir.join(META_FILE), &text)
}

/// Writes `path` through a temporary file and a rename, synced to disk.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::DataDir {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("partial");
    let mut file = fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&tmp, path).map_err(io)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
