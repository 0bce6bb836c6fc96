//! The vault: the key that opens an agent's encrypted store, and who may
//! have it.
//!
//! Every agent store (`DATA/agents/<code>.sqlite`) is a SQLCipher file whose
//! key is a random 256-bit data key ([`StoreKey`]). The data key is never
//! stored as such: the key file beside the store (`<code>.key.json`, 0600,
//! see [`keyfile`]) holds it sealed (ChaCha20-Poly1305) with a key derived
//! from the agent's password (Argon2id, parameters in the file) and, when the
//! platform gave one, with the platform's device secret for this agent on this
//! PC, so that after a password reset an online sign-in with the new password
//! still opens the store (and reseals it for the new password).
//!
//! Invariants this module keeps:
//! - a password is checked only by unsealing the data key; a wrong one counts
//!   as a failure in the key file, and after [`throttle::FREE_TRIES`] failures
//!   a try is not checked at all until the wait (30 s, doubling) is over;
//!   the count survives restarts because it is in the key file;
//! - a store that does not open with its key is never moved, rewritten or
//!   replaced ([`crate::store::StoreError::Locked`]);
//! - a plain store made by an older version is converted only after the
//!   password was checked (online, or offline against its own verifier), and
//!   the plain file is removed only after the encrypted copy has been opened
//!   with the key and found to hold the same rows ([`crate::store::convert`]).
//!
//! The workstation ([`crate::Workstation`]) decides when to unlock; the CLI
//! goes through the same [`Vault::try_unlock`], throttle included.

pub mod keyfile;
pub mod throttle;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use homedesk_protocol::{AgentProfile, UnixMillis};
use rand::RngCore;
use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroize;

pub use keyfile::{KdfParams, KeyFile};

use crate::Error;
use crate::store::{Store, StoreError};

/// The 256-bit data key of one store. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// A fresh random key (a new store, the practice working file).
    pub fn random() -> StoreKey {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        StoreKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        StoreKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The value of `PRAGMA key`: SQLCipher's raw-key form `x'<64 hex>'`
    /// (no key derivation inside SQLCipher: the key already is random).
    pub(crate) fn pragma_value(&self) -> zeroize::Zeroizing<String> {
        let mut text = String::with_capacity(67);
        text.push_str("x'");
        for b in self.0 {
            text.push_str(&format!("{b:02x}"));
        }
        text.push('\'');
        zeroize::Zeroizing::new(text)
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// An agent with a store on this PC, for the "another person" (换人) screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "KnownAgent.ts")]
pub struct KnownAgent {
    pub code: String,
    pub name: String,
    /// A session is kept: the store opens offline with the password.
    pub saved_session: bool,
}

/// What the lock screen shows of an agent before their store is open (kept
/// beside the sealed key: not secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockScreen {
    pub code: String,
    pub name: String,
    pub queues: Vec<String>,
    pub saved_session: bool,
}

/// The outcome of a try with a password.
#[derive(Debug)]
pub enum Unlock {
    /// The password opened the data key.
    Opened(StoreKey),
    /// Wrong password, or a try during the wait (then not checked at all).
    Refused { failures: u32, retry_after_ms: u64 },
}

impl Unlock {
    /// The key, if the password opened it.
    pub fn opened(self) -> Option<StoreKey> {
        match self {
            Unlock::Opened(key) => Some(key),
            Unlock::Refused { .. } => None,
        }
    }
}

/// The key files of one data folder, with the key derivation new seals use.
#[derive(Debug, Clone)]
pub struct Vault {
    kdf: KdfParams,
}

impl Default for Vault {
    fn default() -> Self {
        Vault::new(KdfParams::default())
    }
}

impl Vault {
    pub fn new(kdf: KdfParams) -> Vault {
        Vault { kdf }
    }

    /// The key file of the store at `db`: `<code>.key.json` beside `<code>.sqlite`.
    pub fn key_path(db: &Path) -> PathBuf {
        let stem = db
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        db.with_file_name(format!("{stem}.key.json"))
    }

    /// The agents with a store in `agents_dir`, by code.
    pub fn known_agents(agents_dir: &Path) -> Vec<KnownAgent> {
        let Ok(entries) = std::fs::read_dir(agents_dir) else {
            return Vec::new();
        };
        let mut agents: Vec<KnownAgent> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let code = name.strip_suffix(".sqlite")?;
                let screen = Vault::lock_screen(&entry.path()).ok().flatten()?;
                Some(KnownAgent {
                    code: code.to_owned(),
                    name: screen.name,
                    saved_session: screen.saved_session,
                })
            })
            .collect();
        agents.sort_by(|a, b| a.code.cmp(&b.code));
        agents
    }

    /// What the lock screen shows for the store at `db`, without its key:
    /// from the key file, or (a plain store of an older version, not yet
    /// converted) from the plain store itself. `None` without a store.
    pub fn lock_screen(db: &Path) -> Result<Option<LockScreen>, Error> {
        let code = db
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(file) = keyfile::read(&Vault::key_path(db))? {
            return Ok(Some(LockScreen {
                code: file.agent,
                name: file.name,
                queues: file.queues,
                saved_session: file.saved_session,
            }));
        }
        if !db.exists() {
            return Ok(None);
        }
        if !crate::store::convert::is_plain(db) {
            // An encrypted store whose key file is gone: nothing opens it.
            return Err(Error::StoreLocked(db.to_owned()));
        }
        let profile = crate::store::convert::plain_profile(db).map_err(store_error)?;
        Ok(Some(match profile {
            Some(p) => LockScreen {
                code: p.code,
                name: p.name,
                queues: p.queues,
                saved_session: true,
            },
            None => LockScreen {
                name: code.clone(),
                code,
                queues: Vec::new(),
                saved_session: false,
            },
        }))
    }

    /// Tries `password` on the store at `db` at `now` (offline): the
    /// throttle first, then the seal. A plain store of an older version
    /// (no key file yet) is checked against its own verifier and, if right,
    /// gets a new data key and key file ([`open_agent_store`] then converts
    /// it). Err only when the key file cannot be read or written, or there is
    /// nothing to unlock.
    pub fn try_unlock(&self, db: &Path, password: &str, now: UnixMillis) -> Result<Unlock, Error> {
        let path = Vault::key_path(db);
        let Some(mut file) = keyfile::read(&path)? else {
            return self.first_unlock_of_plain(db, password);
        };
        let remaining = throttle::remaining_ms(file.failures, file.wait_until_ms, now);
        if remaining > 0 {
            return Ok(Unlock::Refused {
                failures: file.failures,
                retry_after_ms: remaining,
            });
        }
        match file.open_by_password(password) {
            Some(key) => {
                if file.failures != 0 || file.wait_until_ms != 0 {
                    file.failures = 0;
                    file.wait_until_ms = 0;
                    keyfile::write(&path, &file)?;
                }
                Ok(Unlock::Opened(key))
            }
            None => {
                file.failures = file.failures.saturating_add(1);
                let wait = throttle::wait_after(file.failures);
                file.wait_until_ms = if wait > 0 { now + wait as i64 } else { 0 };
                keyfile::write(&path, &file)?;
                Ok(Unlock::Refused {
                    failures: file.failures,
                    retry_after_ms: wait,
                })
            }
        }
    }

    fn first_unlock_of_plain(&self, db: &Path, password: &str) -> Result<Unlock, Error> {
        if !crate::store::convert::is_plain(db) {
            return Err(Error::NotSignedIn);
        }
        // A plain file is readable without any password: a throttle here
        // would protect nothing, so wrong tries are only answered.
        if !crate::store::convert::plain_password_ok(db, password).map_err(store_error)? {
            return Ok(Unlock::Refused {
                failures: 1,
                retry_after_ms: 0,
            });
        }
        let profile = crate::store::convert::plain_profile(db).map_err(store_error)?;
        let code = db
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let saved_session = profile.is_some();
        let (name, queues) = profile
            .map(|p| (p.name, p.queues))
            .unwrap_or_else(|| (code.clone(), Vec::new()));
        let key = StoreKey::random();
        let mut file = KeyFile::seal(&key, &code, (&name, &queues), password, None, &self.kdf)?;
        file.saved_session = saved_session;
        keyfile::write(&Vault::key_path(db), &file)?;
        Ok(Unlock::Opened(key))
    }

    /// After an online sign-in with `password` (the platform checked it):
    /// the data key of the store at `db`, opened with the password, or else
    /// with the device secret (the password was reset on the platform) and
    /// then resealed for the new password; a new key for a new or plain
    /// store. The throttle starts over. [`Error::StoreLocked`] when neither
    /// opens it: nothing is changed then.
    pub fn key_after_sign_in(
        &self,
        db: &Path,
        password: &str,
        device_secret: Option<&str>,
        profile: &AgentProfile,
    ) -> Result<StoreKey, Error> {
        let path = Vault::key_path(db);
        let secret = device_secret.and_then(decode_secret);
        let code = profile.code.clone();
        let Some(mut file) = keyfile::read(&path)? else {
            if db.exists() && !crate::store::convert::is_plain(db) {
                // An encrypted store whose key file is gone: nothing opens it.
                return Err(Error::StoreLocked(db.to_owned()));
            }
            let key = StoreKey::random();
            let mut file = KeyFile::seal(
                &key,
                &code,
                (&profile.name, &profile.queues),
                password,
                secret.as_deref(),
                &self.kdf,
            )?;
            file.saved_session = true;
            keyfile::write(&path, &file)?;
            return Ok(key);
        };
        let key = match file.open_by_password(password) {
            Some(key) => key,
            None => {
                let by_device = secret.as_deref().and_then(|s| file.open_by_device(s));
                let Some(key) = by_device else {
                    return Err(Error::StoreLocked(db.to_owned()));
                };
                tracing::info!(agent = %code, "store key resealed for a new password");
                key
            }
        };
        let mut fresh = KeyFile::seal(
            &key,
            &code,
            (&profile.name, &profile.queues),
            password,
            secret.as_deref(),
            &self.kdf,
        )?;
        if secret.is_none() {
            // Keep the device seal we had: the platform sends the secret at
            // sign-in only, and an older platform not at all.
            fresh.by_device = file.by_device.take();
        }
        fresh.saved_session = true;
        keyfile::write(&path, &fresh)?;
        Ok(key)
    }

    /// A data key for a new store at `db` (e.g. the CLI's `kb import` into
    /// a new file), sealed with `password`. Refused when a store or a key
    /// file is there already.
    pub fn create_key(&self, db: &Path, password: &str) -> Result<StoreKey, Error> {
        let path = Vault::key_path(db);
        if db.exists() || path.exists() {
            return Err(Error::InvalidAction(format!(
                "{} has a store or key already; it is opened, never made again",
                db.display()
            )));
        }
        let code = db
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = StoreKey::random();
        let file = KeyFile::seal(&key, &code, (&code, &[]), password, None, &self.kdf)?;
        keyfile::write(&path, &file)?;
        Ok(key)
    }

    /// Records whether a session is kept (sign-out: no), and the name and
    /// queues the lock screen shows.
    pub fn note_session(
        db: &Path,
        saved_session: bool,
        profile: Option<&AgentProfile>,
    ) -> Result<(), Error> {
        let path = Vault::key_path(db);
        let Some(mut file) = keyfile::read(&path)? else {
            return Ok(());
        };
        file.saved_session = saved_session;
        if let Some(p) = profile {
            file.name.clone_from(&p.name);
            file.queues.clone_from(&p.queues);
        }
        keyfile::write(&path, &file)
    }
}

/// Opens an agent's store with its data key, converting a plain store of an
/// older version first (the caller has checked the password).
pub fn open_agent_store(db: &Path, key: &StoreKey) -> Result<Store, StoreError> {
    if crate::store::convert::is_plain(db) {
        crate::store::convert::to_encrypted(db, key)?;
    }
    Store::open(db, key)
}

fn decode_secret(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.trim())
        .ok()
        .filter(|b| b.len() >= 16)
}

fn store_error(err: StoreError) -> Error {
    crate::desk::store_error(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(code: &str) -> AgentProfile {
        AgentProfile {
            code: code.into(),
            name: "陈建国".into(),
            role: homedesk_protocol::Role::Agent,
            queues: vec!["aftersales".into()],
            skills: Vec::new(),
            max_chats: 4,
            presence: homedesk_protocol::Presence::Offline,
            presence_reason: None,
        }
    }

    fn vault() -> Vault {
        Vault::new(KdfParams::cheap_for_tests())
    }

    const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA";

    #[test]
    fn after_a_password_reset_the_device_secret_opens_the_store_and_reseals_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("agents").join("a1001.sqlite");
        let vault = vault();
        let key = vault
            .key_after_sign_in(&db, "old-password", Some(SECRET), &profile("a1001"))
            .expect("new key");
        drop(open_agent_store(&db, &key).expect("store made"));
        // The supervisor reset the password; the agent signs in online with
        // the new one and the platform sends the device secret again.
        let again = vault
            .key_after_sign_in(&db, "new-password", Some(SECRET), &profile("a1001"))
            .expect("opened by the device secret");
        assert_eq!(again.bytes(), key.bytes(), "the same store key");
        open_agent_store(&db, &again).expect("the store opens");
        assert!(
            vault
                .try_unlock(&db, "new-password", 0)
                .expect("checks")
                .opened()
                .is_some(),
            "offline, the new password opens it now"
        );
        assert!(
            vault
                .try_unlock(&db, "old-password", 0)
                .expect("checks")
                .opened()
                .is_none(),
            "the old password no longer does"
        );
    }

    #[test]
    fn without_the_password_or_the_device_secret_nothing_opens_and_nothing_changes() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("agents").join("a1001.sqlite");
        let vault = vault();
        let key = vault
            .key_after_sign_in(&db, "pw", Some(SECRET), &profile("a1001"))
            .expect("new key");
        drop(open_agent_store(&db, &key).expect("store made"));
        let key_file = std::fs::read(Vault::key_path(&db)).expect("key file");
        let store = std::fs::read(&db).expect("store");
        for secret in [None, Some("b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXI")] {
            let err = vault
                .key_after_sign_in(&db, "other", secret, &profile("a1001"))
                .expect_err("refused");
            assert!(matches!(err, Error::StoreLocked(_)), "{err:?}");
        }
        assert_eq!(std::fs::read(Vault::key_path(&db)).expect("kept"), key_file);
        assert_eq!(std::fs::read(&db).expect("kept"), store);
    }

    #[test]
    fn the_throttle_counts_in_the_key_file_and_a_try_during_the_wait_is_not_checked() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("agents").join("a1001.sqlite");
        let vault = vault();
        drop(
            vault
                .key_after_sign_in(&db, "right", None, &profile("a1001"))
                .expect("key"),
        );
        let refused = |u: Unlock| match u {
            Unlock::Refused {
                failures,
                retry_after_ms,
            } => (failures, retry_after_ms),
            Unlock::Opened(_) => panic!("opened"),
        };
        let mut now = 1_000_000;
        for n in 1..=4 {
            let answer = refused(vault.try_unlock(&db, "wrong", now).expect("checks"));
            assert_eq!(answer, (n, 0), "try {n} answered at once");
        }
        let answer = refused(vault.try_unlock(&db, "wrong", now).expect("checks"));
        assert_eq!(answer, (5, 30_000), "the fifth starts a 30 s wait");
        now += 10_000;
        let answer = refused(vault.try_unlock(&db, "right", now).expect("checks"));
        assert_eq!(
            answer,
            (5, 20_000),
            "during the wait even the right one is not checked"
        );
        // A fresh vault (a restart) reads the same count from the file.
        let restarted = Vault::new(KdfParams::cheap_for_tests());
        let answer = refused(restarted.try_unlock(&db, "right", now).expect("checks"));
        assert_eq!(answer, (5, 20_000), "the wait survives a restart");
        now += 20_000;
        let answer = refused(restarted.try_unlock(&db, "wrong", now).expect("checks"));
        assert_eq!(answer, (6, 60_000), "doubling");
        now += 60_000;
        assert!(
            restarted
                .try_unlock(&db, "right", now)
                .expect("checks")
                .opened()
                .is_some()
        );
        let file = keyfile::read(&Vault::key_path(&db))
            .expect("reads")
            .expect("there");
        assert_eq!((file.failures, file.wait_until_ms), (0, 0), "starts over");
    }
}
