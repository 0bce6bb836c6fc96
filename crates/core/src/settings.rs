//! Per-installation preferences, kept in `settings.json` in the data folder.
//!
//! Invariants: a save is atomic (write to a temporary file in the same folder,
//! flush to disk, rename), so a power cut leaves either the old or the new
//! file, never half of one. An unreadable file is moved aside (never
//! overwritten) and defaults are used, so one bad file cannot keep an agent
//! from working, and support can still look at what was there.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Error, Locale};

/// File name of the settings inside the data folder.
pub const SETTINGS_FILE: &str = "settings.json";

/// Preferences that survive a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub locale: Locale,
    /// The platform address last signed in to, offered again on the
    /// sign-in screen.
    pub platform_url: Option<String>,
    /// The agent who signed in last on this PC (their session is resumed at
    /// start, offline too).
    pub last_agent: Option<String>,
    /// This installation's id, sent at sign-in; made once.
    pub device_id: Option<String>,
    /// How the app looks and when it locks itself.
    pub preferences: Preferences,
    /// The screen lock is on: it stays on across a restart, so closing the
    /// app is no way around it on a shared family PC.
    pub locked: bool,
}

/// Text size of the whole interface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "TextSize.ts")]
pub enum TextSize {
    #[default]
    Normal,
    Large,
    Larger,
}

/// Which key sends the reply (or internal note) from the reply box.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "SendKey.ts")]
pub enum SendKey {
    /// Enter sends and Shift+Enter starts a new line, as in WeChat and 千牛.
    #[default]
    Enter,
    /// Ctrl+Enter sends and Enter starts a new line.
    CtrlEnter,
}

/// The agent's display, lock, notification and reply-key choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export_to = "Preferences.ts")]
pub struct Preferences {
    pub text_size: TextSize,
    pub high_contrast: bool,
    /// No animation, on top of the system's own reduced-motion setting.
    pub reduced_motion: bool,
    /// Lock the screen after this many idle minutes; 0 = never.
    pub lock_after_minutes: u32,
    /// Desktop notifications for offers, customer messages and SLAs at risk.
    pub notifications: bool,
    /// With a sound.
    pub sound: bool,
    /// The key that sends from the reply box; a settings file from before
    /// this choice existed reads as Enter.
    pub send_key: SendKey,
    /// The PC's monthly data budget in MB (1 MB = 1024 × 1024 bytes, as
    /// Chinese carriers and the status bar count); 0 = no budget. The
    /// status bar warns at 80 %.
    pub monthly_data_budget_mb: u32,
    /// The connection is metered (a phone hotspot): big knowledge-base
    /// updates wait until the agent allows them.
    pub metered: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            text_size: TextSize::Normal,
            high_contrast: false,
            reduced_motion: false,
            lock_after_minutes: 5,
            notifications: true,
            sound: true,
            send_key: SendKey::Enter,
            monthly_data_budget_mb: 0,
            metered: false,
        }
    }
}

impl Preferences {
    /// The longest idle time before the lock: four hours.
    pub const MAX_LOCK_AFTER_MINUTES: u32 = 240;

    /// The largest monthly data budget: 10 TB, far above any data plan.
    pub const MAX_MONTHLY_DATA_BUDGET_MB: u32 = 10_000_000;

    /// The budget and metered mode for [`crate::data_usage::DataUsage`].
    pub fn data_policy(&self) -> crate::data_usage::DataPolicy {
        crate::data_usage::DataPolicy {
            monthly_budget_bytes: (self.monthly_data_budget_mb > 0)
                .then(|| u64::from(self.monthly_data_budget_mb) * 1024 * 1024),
            metered: self.metered,
        }
    }

    pub fn check(&self) -> Result<(), Error> {
        if self.monthly_data_budget_mb > Self::MAX_MONTHLY_DATA_BUDGET_MB {
            return Err(Error::InvalidAction(format!(
                "a monthly data budget of at most {} MB (0 = none), not {}",
                Self::MAX_MONTHLY_DATA_BUDGET_MB,
                self.monthly_data_budget_mb
            )));
        }
        if self.lock_after_minutes > Self::MAX_LOCK_AFTER_MINUTES {
            return Err(Error::InvalidAction(format!(
                "lock after at most {} minutes (0 = never), not {}",
                Self::MAX_LOCK_AFTER_MINUTES,
                self.lock_after_minutes
            )));
        }
        Ok(())
    }
}

/// What [`load`] found on disk.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    /// The file was read.
    Read(Settings),
    /// There was no file yet: first start.
    Missing,
    /// The file could not be read; it was moved to the given path.
    MovedAside(PathBuf),
}

impl Loaded {
    pub fn into_settings(self) -> Settings {
        match self {
            Loaded::Read(settings) => settings,
            Loaded::Missing | Loaded::MovedAside(_) => Settings::default(),
        }
    }
}

/// Reads the settings from `dir`, moving an unreadable file aside.
pub fn load(dir: &Path) -> Result<Loaded, Error> {
    let path = dir.join(SETTINGS_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Missing),
        Err(source) => return Err(Error::DataDir { path, source }),
    };
    match serde_json::from_slice::<Settings>(&bytes) {
        Ok(settings) => Ok(Loaded::Read(settings)),
        Err(parse_error) => {
            let stamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let aside = dir.join(format!("{SETTINGS_FILE}.unreadable-{stamp}"));
            fs::rename(&path, &aside).map_err(|source| Error::DataDir { path, source })?;
            tracing::warn!(
                %parse_error,
                moved_to = %aside.display(),
                "settings file was unreadable; using defaults"
            );
            Ok(Loaded::MovedAside(aside))
        }
    }
}

/// Writes the settings to `dir` atomically and durably.
pub fn save(dir: &Path, settings: &Settings) -> Result<(), Error> {
    let path = dir.join(SETTINGS_FILE);
    let fail = |source| Error::SaveSettings {
        path: path.clone(),
        source,
    };
    let mut json = serde_json::to_vec_pretty(settings)
        .map_err(std::io::Error::other)
        .map_err(fail)?;
    json.push(b'\n');
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    file.write_all(&json).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(&path).map_err(|e| fail(e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Flushes the folder entry so the rename itself survives a power cut.
/// Best effort: not every platform can open a directory for syncing.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_budget_is_whole_mb_within_reason_and_becomes_a_policy() {
        let mut preferences = Preferences::default();
        assert_eq!(
            preferences.data_policy().monthly_budget_bytes,
            None,
            "0 = none"
        );
        preferences.monthly_data_budget_mb = 500;
        preferences.metered = true;
        preferences.check().expect("a 500 MB plan");
        let policy = preferences.data_policy();
        assert_eq!(policy.monthly_budget_bytes, Some(500 * 1024 * 1024));
        assert!(policy.metered);
        preferences.monthly_data_budget_mb = Preferences::MAX_MONTHLY_DATA_BUDGET_MB + 1;
        assert!(preferences.check().is_err(), "refused, not clamped");
    }

    #[test]
    fn a_settings_file_from_before_the_data_budget_reads_as_no_budget() {
        let old = r#"{"locale":"zh-CN","preferences":{"textSize":"large","highContrast":false,"reducedMotion":false,"lockAfterMinutes":5,"notifications":true,"sound":true,"sendKey":"enter"}}"#;
        let settings: Settings = serde_json::from_str(old).expect("reads");
        assert_eq!(settings.preferences.monthly_data_budget_mb, 0);
        assert!(!settings.preferences.metered);
    }

    #[test]
    fn first_start_has_no_file_and_defaults_to_chinese() {
        let dir = tempfile::tempdir().expect("temp dir");
        let loaded = load(dir.path()).expect("loads");
        assert_eq!(loaded, Loaded::Missing);
        assert_eq!(loaded.into_settings().locale, Locale::ZhCn);
    }

    #[test]
    fn saved_settings_are_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        save(
            dir.path(),
            &Settings {
                locale: Locale::En,
                ..Settings::default()
            },
        )
        .expect("saves");
        assert_eq!(
            load(dir.path()).expect("loads"),
            Loaded::Read(Settings {
                locale: Locale::En,
                ..Settings::default()
            })
        );
    }

    #[test]
    fn unknown_fields_from_a_newer_version_are_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(
            dir.path().join(SETTINGS_FILE),
            r#"{"locale":"en","fontScale":1.5}"#,
        )
        .expect("write");
        assert_eq!(
            load(dir.path()).expect("loads"),
            Loaded::Read(Settings {
                locale: Locale::En,
                ..Settings::default()
            })
        );
    }

    #[test]
    fn the_send_key_is_kept_and_an_older_file_without_it_means_enter() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(
            dir.path().join(SETTINGS_FILE),
            r#"{"preferences":{"textSize":"large","sound":false}}"#,
        )
        .expect("write");
        let read = load(dir.path()).expect("loads").into_settings();
        assert_eq!(read.preferences.send_key, SendKey::Enter, "the default");
        assert_eq!(read.preferences.text_size, TextSize::Large);

        let mut chosen = read.clone();
        chosen.preferences.send_key = SendKey::CtrlEnter;
        save(dir.path(), &chosen).expect("saves");
        let text = fs::read_to_string(dir.path().join(SETTINGS_FILE)).expect("read");
        assert!(text.contains(r#""sendKey": "ctrl_enter""#), "{text}");
        assert_eq!(load(dir.path()).expect("loads"), Loaded::Read(chosen));
    }

    #[test]
    fn an_unknown_send_key_is_refused_at_the_boundary() {
        let refused = serde_json::from_str::<Preferences>(r#"{"sendKey":"alt_enter"}"#);
        assert!(refused.is_err(), "only enter and ctrl_enter exist");
    }

    #[test]
    fn corrupt_file_is_moved_aside_with_its_bytes_intact() {
        let dir = tempfile::tempdir().expect("temp dir");
        let garbage = b"{\"locale\": \"en\"\x00\xff truncated by a power cut";
        fs::write(dir.path().join(SETTINGS_FILE), garbage).expect("write");

        let Loaded::MovedAside(aside) = load(dir.path()).expect("a bad file is not fatal") else {
            panic!("a corrupt file must be moved aside, not read or deleted");
        };
        assert_eq!(
            fs::read(&aside).expect("aside file exists"),
            garbage,
            "nothing is lost"
        );
        assert!(
            !dir.path().join(SETTINGS_FILE).exists(),
            "the bad file no longer blocks start-up"
        );
    }

    #[test]
    fn wrong_type_is_treated_as_corrupt() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(SETTINGS_FILE), r#"{"locale": 42}"#).expect("write");
        assert!(matches!(
            load(dir.path()).expect("loads"),
            Loaded::MovedAside(_)
        ));
    }

    #[test]
    fn save_leaves_no_temporary_files_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        save(dir.path(), &Settings::default()).expect("saves");
        save(
            dir.path(),
            &Settings {
                locale: Locale::En,
                ..Settings::default()
            },
        )
        .expect("saves again");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![SETTINGS_FILE.to_owned()]);
    }
}
