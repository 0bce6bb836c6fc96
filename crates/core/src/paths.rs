//! Where the workstation keeps its files.
//!
//! One data folder per installation: settings, one local store per agent
//! who signs in on this PC, and a separate store for practice. The default
//! follows the platform convention
//! (`~/.local/share/cn.homedesk.workstation` on Linux, `%APPDATA%\…` on
//! Windows); an explicit folder, e.g. from `HOMEDESK_DATA_DIR`, wins so tests
//! and shared PCs can keep separate profiles.

use std::path::{Path, PathBuf};

use crate::Error;

/// Reverse-DNS identifier of the desktop app; also the data folder's name.
pub const APP_IDENTIFIER: &str = "cn.homedesk.workstation";

/// Picks the data folder: `explicit` if given and non-empty, else the
/// per-user default.
pub fn resolve_data_dir(explicit: Option<PathBuf>) -> Result<PathBuf, Error> {
    match explicit.filter(|p| !p.as_os_str().is_empty()) {
        Some(path) => Ok(path),
        None => dirs::data_dir()
            .map(|base| base.join(APP_IDENTIFIER))
            .ok_or(Error::NoDataDir),
    }
}

/// The local store of one agent: `DATA/agents/<agent>.sqlite`. Agent codes
/// are checked so a code can never name a path outside that folder.
pub fn agent_db(data_dir: &Path, agent: &str) -> Result<PathBuf, Error> {
    let safe = !agent.is_empty()
        && agent.len() <= 64
        && agent
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !safe {
        return Err(Error::InvalidAgentCode(agent.to_owned()));
    }
    Ok(data_dir.join("agents").join(format!("{agent}.sqlite")))
}

/// The practice store, never the same file as any agent's:
/// `DATA/sandbox/practice.sqlite`.
pub fn sandbox_db(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox").join("practice.sqlite")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_has_a_file_and_practice_has_its_own() {
        let data = Path::new("/data");
        assert_eq!(
            agent_db(data, "a1001").expect("ok"),
            PathBuf::from("/data/agents/a1001.sqlite")
        );
        assert_ne!(agent_db(data, "sandbox").expect("ok"), sandbox_db(data));
        for bad in ["", "../a1001", "a/b", "a1001.sqlite\\x", "名字"] {
            assert!(agent_db(data, bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn explicit_folder_wins() {
        let chosen = PathBuf::from("/tmp/homedesk-profile");
        assert_eq!(
            resolve_data_dir(Some(chosen.clone())).expect("resolves"),
            chosen
        );
    }

    #[test]
    fn empty_explicit_folder_falls_back_to_default() {
        // `HOMEDESK_DATA_DIR=` (set but empty) must not mean "the current directory".
        if let Ok(path) = resolve_data_dir(Some(PathBuf::new())) {
            assert!(
                path.ends_with(APP_IDENTIFIER),
                "default folder ends with the app id: {path:?}"
            );
        }
    }
}
