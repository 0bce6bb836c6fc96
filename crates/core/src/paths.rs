//! Where the workstation keeps its files.
//!
//! One data folder per installation (settings now; the agent and sandbox
//! databases later). The default follows the platform convention
//! (`~/.local/share/cn.homedesk.workstation` on Linux, `%APPDATA%\…` on
//! Windows); an explicit folder, e.g. from `HOMEDESK_DATA_DIR`, wins so tests
//! and shared PCs can keep separate profiles.

use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::*;

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
