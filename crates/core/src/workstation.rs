//! [`Workstation`]: the use-cases the shell and the CLI call.
//!
//! One `Workstation` per data folder. It is `Send + Sync` so the Tauri shell
//! can `manage()` it directly. Use-cases are synchronous for now; the ones
//! that touch the network (sync, sign-in) will be `async` and never hold a
//! lock across an `.await`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::app_info::PRODUCT_NAME;
use crate::settings::{self, Settings};
use crate::{AppInfo, ConnectionStatus, Error, Locale};

/// The workstation for one data folder.
#[derive(Debug)]
pub struct Workstation {
    data_dir: PathBuf,
    /// Held only while reading or writing settings, never across I/O waits
    /// other than the settings file itself.
    settings: Mutex<Settings>,
}

impl Workstation {
    /// Opens (creating if needed) the data folder and reads the settings.
    pub fn open(data_dir: impl Into<PathBuf>) -> Result<Self, Error> {
        let data_dir = data_dir.into();
        fs::create_dir_all(&data_dir).map_err(|source| Error::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let data_dir = fs::canonicalize(&data_dir).map_err(|source| Error::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let settings = settings::load(&data_dir)?.into_settings();
        Ok(Workstation {
            data_dir,
            settings: Mutex::new(settings),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Name, version, data folder and chosen language.
    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            name: PRODUCT_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: self.data_dir.display().to_string(),
            locale: self.lock_settings().locale,
        }
    }

    /// Changes the interface language and remembers it across restarts.
    ///
    /// An unknown tag is refused and nothing is written.
    pub fn set_locale(&self, tag: &str) -> Result<AppInfo, Error> {
        let locale: Locale = tag.parse()?;
        {
            let mut current = self.lock_settings();
            let mut updated = current.clone();
            updated.locale = locale;
            settings::save(&self.data_dir, &updated)?;
            *current = updated;
        }
        Ok(self.app_info())
    }

    /// Where the workstation stands with the platform. Until sync exists
    /// (see issue "Workstation core") there is no platform to talk to.
    pub fn connection_status(&self) -> ConnectionStatus {
        ConnectionStatus::not_connected()
    }

    fn lock_settings(&self) -> MutexGuard<'_, Settings> {
        // A panic while holding the lock cannot leave `Settings` half-written
        // (it is replaced whole), so a poisoned lock is still safe to use.
        self.settings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnectionState, ErrorCode};

    #[test]
    fn fresh_folder_opens_in_chinese() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ws = Workstation::open(dir.path().join("new-profile")).expect("opens");
        let info = ws.app_info();
        assert_eq!(info.name, "Homedesk");
        assert_eq!(info.locale, Locale::ZhCn);
        assert!(
            info.data_dir.ends_with("new-profile"),
            "data dir is the one given: {}",
            info.data_dir
        );
        assert!(!info.version.is_empty());
    }

    #[test]
    fn chosen_language_survives_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ws = Workstation::open(dir.path()).expect("opens");
        assert_eq!(ws.set_locale("en").expect("accepted").locale, Locale::En);
        drop(ws);
        let reopened = Workstation::open(dir.path()).expect("reopens");
        assert_eq!(
            reopened.app_info().locale,
            Locale::En,
            "the agent should not have to choose again"
        );
    }

    #[test]
    fn unknown_language_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ws = Workstation::open(dir.path()).expect("opens");
        let err = ws.set_locale("klingon").expect_err("must be refused");
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(ws.app_info().locale, Locale::ZhCn, "language unchanged");
        assert!(
            !dir.path().join(settings::SETTINGS_FILE).exists(),
            "no file written for a refused change"
        );
    }

    #[test]
    fn data_folder_that_is_a_file_gives_a_storage_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("not-a-folder");
        fs::write(&file, b"x").expect("write");
        let err = Workstation::open(&file).expect_err("a file is not a data folder");
        assert_eq!(err.code(), ErrorCode::Storage);
        assert!(
            err.to_string().contains("not-a-folder"),
            "message names the path: {err}"
        );
    }

    #[test]
    fn starts_offline_with_nothing_pending() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ws = Workstation::open(dir.path()).expect("opens");
        let status = ws.connection_status();
        assert_eq!(status.state, ConnectionState::Offline);
        assert_eq!(status.pending_actions, 0);
    }
}
