//! [`Workstation`]: the use-cases the shell and the CLI call.
//!
//! One `Workstation` per data folder. It is `Send + Sync` so the Tauri shell
//! can `manage()` it directly. It holds the settings and, once an agent has
//! signed in or unlocked their store, that agent's [`Desk`]. The async
//! use-cases never hold a std lock across an `.await`.
//!
//! Start locked: [`Workstation::resume`] opens nothing; it names the last
//! agent (from their key file, not secret) and the lock screen asks for the
//! password, which opens the store offline ([`Workstation::unlock`], with the
//! throttle of [`crate::vault::throttle`]). "Another person" (换人):
//! [`Workstation::switch_user`] closes the desk and forgets the key, then
//! another agent signs in or unlocks their own store
//! ([`Workstation::unlock_as`]); nothing of the first agent stays open.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use homedesk_protocol::{AgentProfile, Role};
use serde::Serialize;
use ts_rs::TS;

use crate::app_info::PRODUCT_NAME;
use crate::clock::SharedClock;
use crate::data_usage::DataUsage;
use crate::desk::{Desk, PlatformConfig};
use crate::practice::session::{PracticeCatalog, PracticeChoice, PracticeResult};
use crate::settings::{self, Preferences, Settings};
use crate::store::{Store, StoreKey};
use crate::vault::{KdfParams, KnownAgent, LockScreen, Unlock, Vault};
use crate::{AppInfo, ConnectionStatus, Error, Locale, paths};

/// What the sign-in screen offers before the agent types anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "SignInDefaults.ts")]
pub struct SignInDefaults {
    /// The platform address used last time (or the one this installation
    /// was started with).
    pub platform_url: Option<String>,
    pub agent: Option<String>,
}

/// The signed-in agent, as the top bar shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "SignedInAgent.ts")]
pub struct SignedInAgent {
    pub code: String,
    pub name: String,
    pub queues: Vec<String>,
    /// The screen lock is on (it survives a restart).
    pub locked: bool,
    /// This is the practice sandbox, not live work.
    pub practice: bool,
    /// What the desk opens on: the queue for agents and trainees, the team
    /// console for supervisors and trainers. `None` while the lock screen
    /// hides a desk whose store is not open yet (unlocking tells).
    pub role: Option<Role>,
}

/// The answer to a password typed on the lock screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "UnlockAnswer.ts")]
pub struct UnlockAnswer {
    pub unlocked: bool,
    /// The agent whose desk is open now (when unlocked).
    pub agent: Option<SignedInAgent>,
    /// Wrong passwords in a row.
    pub failures: u32,
    /// 0 until the fifth wrong password; then how long until a try is
    /// checked again (30 s, doubling). A try during the wait is not checked.
    pub retry_after_ms: u64,
}

impl UnlockAnswer {
    fn opened(agent: SignedInAgent) -> Self {
        UnlockAnswer {
            unlocked: true,
            agent: Some(agent),
            failures: 0,
            retry_after_ms: 0,
        }
    }
}

impl SignedInAgent {
    fn locked(screen: LockScreen) -> Self {
        SignedInAgent {
            code: screen.code,
            name: screen.name,
            queues: screen.queues,
            locked: true,
            practice: false,
            role: None,
        }
    }

    fn new(p: &AgentProfile, locked: bool) -> Self {
        SignedInAgent {
            code: p.code.clone(),
            name: p.name.clone(),
            queues: p.queues.clone(),
            locked,
            practice: false,
            role: Some(p.role),
        }
    }

    fn of(desk: &Desk, locked: bool) -> Self {
        SignedInAgent {
            practice: desk.is_practice(),
            ..SignedInAgent::new(desk.profile(), locked && !desk.is_practice())
        }
    }
}

/// The workstation for one data folder.
#[derive(Debug)]
pub struct Workstation {
    data_dir: PathBuf,
    /// Held only while reading or writing settings, never across I/O waits
    /// other than the settings file itself.
    settings: Mutex<Settings>,
    /// How to reach and trust the platform when the agent does not say
    /// otherwise (set by the shell, e.g. from `make run`).
    platform: Mutex<PlatformConfig>,
    desk: Mutex<Option<Arc<Desk>>>,
    /// The live desk, kept (and syncing) while the practice desk is in front.
    live: Mutex<Option<Arc<Desk>>>,
    /// Where practice scenarios, the knowledge base and scripts for the
    /// sandbox are read from (set by the shell).
    content_dir: Mutex<Option<PathBuf>>,
    /// The version [`Self::app_info`] reports: the package's, once the shell says.
    app_version: Mutex<String>,
    /// The one clock of this workstation's desks, SLA watch and practice.
    clock: SharedClock,
    /// The agent whose lock screen shows while no desk is open (at start,
    /// or after [`Workstation::unlock_as`] named them).
    on_screen: Mutex<Option<String>>,
    /// How new seals of store keys derive the password's key.
    kdf: Mutex<KdfParams>,
    /// Practice history without a signed-in trainee: in memory only.
    anonymous_history: Mutex<Option<Arc<Store>>>,
    /// The PC's bytes on the wire and data budget (every desk and the
    /// updater count into it).
    data: Arc<DataUsage>,
}

impl Workstation {
    /// Opens (creating if needed) the data folder and reads the settings.
    pub fn open(data_dir: impl Into<PathBuf>) -> Result<Self, Error> {
        Workstation::open_with_clock(data_dir, crate::clock::system())
    }

    /// [`Workstation::open`] with another clock (tests: a fake one).
    pub fn open_with_clock(
        data_dir: impl Into<PathBuf>,
        clock: SharedClock,
    ) -> Result<Self, Error> {
        let data_dir = data_dir.into();
        fs::create_dir_all(&data_dir).map_err(|source| Error::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let data_dir = fs::canonicalize(&data_dir).map_err(|source| Error::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        // Agents' stores and key files live below: owner-only.
        crate::store::owner_only_dir(&data_dir).map_err(|source| Error::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let settings = settings::load(&data_dir)?.into_settings();
        let data = DataUsage::open(&data_dir, Arc::clone(&clock));
        data.set_policy(settings.preferences.data_policy());
        let platform = PlatformConfig {
            url: settings.platform_url.clone().unwrap_or_default(),
            ca_file: None,
            allow_insecure_loopback: false,
        };
        Ok(Workstation {
            data_dir,
            settings: Mutex::new(settings),
            platform: Mutex::new(platform),
            desk: Mutex::new(None),
            live: Mutex::new(None),
            content_dir: Mutex::new(None),
            app_version: Mutex::new(env!("CARGO_PKG_VERSION").to_owned()),
            clock,
            on_screen: Mutex::new(None),
            kdf: Mutex::new(KdfParams::default()),
            anonymous_history: Mutex::new(None),
            data,
        })
    }

    /// The PC's data counter (the updater's client counts into its meter).
    pub fn data_usage(&self) -> &Arc<DataUsage> {
        &self.data
    }

    /// Allows the knowledge-base update waiting on a metered link, and
    /// starts it.
    pub fn allow_bulk_update(&self) {
        self.data.allow_bulk();
        if let Some(desk) = lock(&self.desk).as_ref() {
            desk.engine().wake();
        }
    }

    /// The key derivation for new seals of store keys (tests: cheap ones;
    /// a key file records its own, so either kind opens later).
    pub fn set_key_derivation(&self, kdf: KdfParams) {
        *lock(&self.kdf) = kdf;
    }

    fn vault(&self) -> Vault {
        Vault::new(*lock(&self.kdf))
    }

    fn agent_db(&self, agent: &str) -> Result<std::path::PathBuf, Error> {
        paths::agent_db(&self.data_dir, agent)
    }

    /// The platform to use unless the agent types another address, and the
    /// CA file to trust for it.
    pub fn set_platform_defaults(&self, platform: PlatformConfig) {
        *lock(&self.platform) = platform;
    }

    pub fn sign_in_defaults(&self) -> SignInDefaults {
        let settings = self.lock_settings().clone();
        let fallback = lock(&self.platform).url.clone();
        SignInDefaults {
            platform_url: settings
                .platform_url
                .or((!fallback.is_empty()).then_some(fallback)),
            agent: settings.last_agent,
        }
    }

    /// Signs `agent` in to the platform at `platform_url` and starts their
    /// desk. Call inside a tokio runtime.
    pub async fn sign_in(
        &self,
        platform_url: &str,
        agent: &str,
        password: &str,
    ) -> Result<SignedInAgent, Error> {
        let platform = {
            let mut platform = lock(&self.platform).clone();
            if platform.url != platform_url.trim() {
                // Another address than the configured one: trust the system's roots.
                platform.url = platform_url.trim().to_owned();
                platform.ca_file = None;
            }
            platform
        };
        let device_id = self.device_id()?;
        let vault = self.vault();
        let desk = Desk::sign_in_with(
            &vault,
            &self.data_dir,
            &platform,
            &device_id,
            agent,
            password,
            Arc::clone(&self.clock),
            &self.data,
        )
        .await?;
        let signed_in = SignedInAgent::new(desk.profile(), false);
        self.adopt_legacy_history(&desk);
        // Signing in with the password also opens the screen lock.
        self.update_settings(|s| {
            s.platform_url = Some(platform.url.clone());
            s.last_agent = Some(signed_in.code.clone());
            s.locked = false;
        })?;
        // The lock is open: the presence chosen before it comes back.
        desk.restore_presence()?;
        // A previous agent's desk (or practice) stops here; their session
        // stays on disk.
        *lock(&self.live) = None;
        *lock(&self.desk) = Some(Arc::new(desk));
        *lock(&self.on_screen) = Some(signed_in.code.clone());
        Ok(signed_in)
    }

    fn adopt_legacy_history(&self, desk: &Desk) {
        if let Err(err) =
            crate::practice::session::adopt_legacy_history(&self.data_dir, desk.shared_store())
        {
            tracing::warn!("the practice history of an older version stays where it is: {err}");
        }
    }

    /// At start: the last agent, if their session is kept on this PC,
    /// with `locked: true`. Opens nothing (the store needs the password:
    /// [`Self::unlock`]); until then [`Self::desk`] answers `Locked`.
    pub fn resume(&self) -> Result<Option<SignedInAgent>, Error> {
        let Some(agent) = self.lock_settings().last_agent.clone() else {
            return Ok(None);
        };
        let db = self.agent_db(&agent)?;
        match Vault::lock_screen(&db)? {
            Some(screen) if screen.saved_session => {
                *lock(&self.on_screen) = Some(agent);
                Ok(Some(SignedInAgent::locked(screen)))
            }
            _ => Ok(None),
        }
    }

    pub fn signed_in(&self) -> Option<SignedInAgent> {
        let locked = self.lock_settings().locked;
        if let Some(desk) = lock(&self.desk).as_ref() {
            return Some(SignedInAgent::of(desk, locked));
        }
        let agent = lock(&self.on_screen).clone()?;
        let db = self.agent_db(&agent).ok()?;
        Vault::lock_screen(&db)
            .ok()
            .flatten()
            .map(SignedInAgent::locked)
    }

    /// The agents with data on this PC, for the "another person" screen.
    pub fn known_agents(&self) -> Vec<KnownAgent> {
        Vault::known_agents(&self.data_dir.join("agents"))
    }

    /// "Another person" (换人): closes the desk in front and behind
    /// (syncing stops, the store closes and its key is forgotten). The
    /// agent's session and outbox stay in their encrypted file for their
    /// next unlock. Afterwards nobody is signed in.
    pub fn switch_user(&self) -> Result<(), Error> {
        *lock(&self.live) = None;
        *lock(&self.desk) = None;
        *lock(&self.on_screen) = None;
        self.update_settings(|s| s.locked = false)
    }

    /// Opens the lock of the agent on screen with `password`, offline: the
    /// screen lock of an open desk, or (at start, after 换人) their store,
    /// whose desk then starts (syncing). Wrong passwords are counted and
    /// throttled (see [`UnlockAnswer`]), across restarts too. Call inside a
    /// tokio runtime.
    pub fn unlock(&self, password: &str) -> Result<UnlockAnswer, Error> {
        // In practice, the live agent's password opens the lock.
        let open = match lock(&self.live).clone() {
            Some(live) => Some(live),
            None => lock(&self.desk).clone(),
        };
        if let Some(desk) = &open
            && desk.is_practice()
        {
            return Err(Error::InvalidAction(
                "practice without signing in has no lock to open".into(),
            ));
        }
        let agent = match &open {
            Some(desk) => desk.profile().code.clone(),
            None => lock(&self.on_screen).clone().ok_or(Error::NotSignedIn)?,
        };
        let db = self.agent_db(&agent)?;
        let key = match self
            .vault()
            .try_unlock(&db, password, self.clock.now_ms())?
        {
            Unlock::Opened(key) => key,
            Unlock::Refused {
                failures,
                retry_after_ms,
            } => {
                return Ok(UnlockAnswer {
                    unlocked: false,
                    agent: None,
                    failures,
                    retry_after_ms,
                });
            }
        };
        if let Some(desk) = open {
            drop(key);
            self.update_settings(|s| s.locked = false)?;
            desk.restore_presence()?;
            return Ok(UnlockAnswer::opened(
                self.signed_in()
                    .unwrap_or_else(|| SignedInAgent::of(&desk, false)),
            ));
        }
        let desk = self.open_desk(&agent, &key)?;
        drop(key);
        let signed_in = SignedInAgent::new(desk.profile(), false);
        self.update_settings(|s| {
            s.last_agent = Some(agent.clone());
            s.locked = false;
        })?;
        desk.restore_presence()?;
        *lock(&self.live) = None;
        *lock(&self.desk) = Some(Arc::new(desk));
        Ok(UnlockAnswer::opened(signed_in))
    }

    fn open_desk(&self, agent: &str, key: &StoreKey) -> Result<Desk, Error> {
        let platform = lock(&self.platform).clone();
        let device_id = self.device_id()?;
        let desk = Desk::resume(
            &self.data_dir,
            &platform,
            &device_id,
            agent,
            key,
            Arc::clone(&self.clock),
            &self.data,
        )?
        .ok_or(Error::NotSignedIn)?;
        self.adopt_legacy_history(&desk);
        Ok(desk)
    }

    /// Offline unlock of another agent known on this PC (after 换人):
    /// closes whatever desk is open first, then as [`Self::unlock`].
    pub fn unlock_as(&self, agent: &str, password: &str) -> Result<UnlockAnswer, Error> {
        let db = self.agent_db(agent)?;
        if Vault::lock_screen(&db)?.is_none() {
            return Err(Error::InvalidAction(format!(
                "agent {agent} has no data on this PC: sign in with the platform"
            )));
        }
        self.switch_user()?;
        *lock(&self.on_screen) = Some(agent.to_owned());
        self.unlock(password)
    }

    /// The version this build is: the package's, which `make dist` may set
    /// apart from the crate's (`tauri build --config`), and which the
    /// updater compares. The status bar and support read it from
    /// [`Self::app_info`]; until the shell says, it is the crate's.
    pub fn set_app_version(&self, version: String) {
        *lock(&self.app_version) = version;
    }

    /// Where the sandbox reads its scenarios, knowledge base and scripts.
    pub fn set_content_dir(&self, dir: PathBuf) {
        *lock(&self.content_dir) = Some(dir);
    }

    fn content(&self) -> Result<homedesk_content::ContentSet, Error> {
        let dir = lock(&self.content_dir).clone().ok_or_else(|| {
            Error::InvalidAction("no practice content is installed with this app".into())
        })?;
        homedesk_content::load_content_dir(&dir, self.clock.now_ms()).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            Error::InvalidAction(format!(
                "the practice content has problems:\n{}",
                lines.join("\n")
            ))
        })
    }

    /// The scenarios and packs in the interface language.
    pub fn practice_catalog(&self) -> Result<PracticeCatalog, Error> {
        let locale = self.lock_settings().locale;
        Ok(crate::practice::session::catalog(
            &self.content()?,
            locale.tag(),
        ))
    }

    /// Switches to the sandbox: signed in or not, no platform needed. The
    /// live desk (if any) keeps syncing its own file in the background.
    /// Call inside a tokio runtime.
    pub async fn start_practice(&self, choice: &PracticeChoice) -> Result<SignedInAgent, Error> {
        if self.is_locked() {
            return Err(Error::Locked);
        }
        let content = self.content()?;
        let current = lock(&self.desk).clone();
        let live = match current {
            Some(desk) if desk.is_practice() => lock(&self.live).clone(),
            other => other,
        };
        let zh = self.lock_settings().locale == Locale::ZhCn;
        let (code, name) = match &live {
            Some(desk) => (desk.profile().code.clone(), desk.profile().name.clone()),
            None => (
                "trainee".to_owned(),
                if zh { "练习学员" } else { "Trainee" }.to_owned(),
            ),
        };
        let history = match &live {
            Some(desk) => Arc::clone(desk.shared_store()),
            None => self.anonymous_history()?,
        };
        let desk = Desk::practice(
            &self.data_dir,
            history,
            &content,
            choice,
            (&code, &name),
            Arc::clone(&self.clock),
        )
        .await?;
        let signed_in = SignedInAgent::of(&desk, false);
        *lock(&self.live) = live;
        *lock(&self.desk) = Some(Arc::new(desk));
        Ok(signed_in)
    }

    /// Leaves the sandbox: back to the live desk, or to nobody.
    pub fn stop_practice(&self) -> Option<SignedInAgent> {
        let live = lock(&self.live).take();
        let mut desk = lock(&self.desk);
        if desk.as_ref().is_some_and(|d| d.is_practice()) {
            *desk = live;
        }
        let locked = self.lock_settings().locked;
        desk.as_ref().map(|d| SignedInAgent::of(d, locked))
    }

    /// Practice without a signed-in trainee keeps its history here, in
    /// memory (encrypted with a key never kept), for this run of the app.
    fn anonymous_history(&self) -> Result<Arc<Store>, Error> {
        let mut slot = lock(&self.anonymous_history);
        if let Some(store) = slot.as_ref() {
            return Ok(Arc::clone(store));
        }
        let store =
            Arc::new(Store::in_memory(&StoreKey::random()).map_err(crate::desk::store_error)?);
        *slot = Some(Arc::clone(&store));
        Ok(store)
    }

    /// The live desk: the one in front, or the one behind practice.
    fn live_desk(&self) -> Option<Arc<Desk>> {
        let current = lock(&self.desk).clone();
        match current {
            Some(desk) if desk.is_practice() => lock(&self.live).clone(),
            other => other,
        }
    }

    /// The trainee's finished practice contacts, newest first: the signed-in
    /// agent's (in their store), or this run's practice without signing in.
    pub fn practice_history(&self) -> Result<Vec<PracticeResult>, Error> {
        if self.is_locked() {
            return Err(Error::Locked);
        }
        let store = match self.live_desk() {
            Some(desk) => Arc::clone(desk.shared_store()),
            None => match lock(&self.anonymous_history).clone() {
                Some(store) => store,
                None => return Ok(Vec::new()),
            },
        };
        crate::practice::session::history(&store)
    }

    /// Sends practice results the platform does not have yet as training
    /// records, with the live agent's session; nothing without one (offline
    /// practice waits for the next sign-in). Returns how many it took.
    pub async fn sync_training(&self) -> Result<usize, Error> {
        let Some(live) = self.live_desk() else {
            return Ok(0);
        };
        let mut sent = 0;
        loop {
            let records = crate::practice::session::pending_uploads(
                live.shared_store(),
                homedesk_protocol::MAX_TRAINING_RECORDS_PER_UPLOAD,
            )?;
            if records.is_empty() {
                return Ok(sent);
            }
            let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
            live.engine()
                .upload_training(&homedesk_protocol::TrainingUpload { records })
                .await
                .map_err(|e| Error::Sync(e.to_string()))?;
            crate::practice::session::mark_uploaded(
                live.shared_store(),
                &ids,
                self.clock.now_ms(),
            )?;
            sent += ids.len();
        }
    }

    /// The signed-in agent's desk, for what the agent does and sees;
    /// refused while the screen is locked (also at start, before the
    /// password opened the store).
    pub fn desk(&self) -> Result<Arc<Desk>, Error> {
        if self.is_locked() {
            return Err(Error::Locked);
        }
        self.desk_even_when_locked()
    }

    /// The desk for background work that shows no customer data (syncing,
    /// forwarding events, the lock itself).
    pub fn desk_even_when_locked(&self) -> Result<Arc<Desk>, Error> {
        lock(&self.desk).clone().ok_or(Error::NotSignedIn)
    }

    /// Why the app may not restart for an update now: an open conversation
    /// or an unsent reply on the desk in front or the live desk behind
    /// practice ([`crate::updates::restart_block`]). A desk whose store
    /// cannot be read blocks too: better no restart than a lost reply.
    pub fn restart_block(&self) -> Option<crate::updates::RestartBlock> {
        let desks = [lock(&self.desk).clone(), lock(&self.live).clone()];
        let (mut open, mut replies) = (0, 0);
        for desk in desks.into_iter().flatten() {
            match desk.unfinished_work() {
                Ok((o, r)) => {
                    open += o;
                    replies += r;
                }
                Err(err) => {
                    tracing::warn!("cannot tell whether work is unfinished: {err}");
                    replies += 1;
                }
            }
        }
        crate::updates::restart_block(open, replies)
    }

    /// The platform the app asks for updates: the address the agent last
    /// signed in to (with the CA file configured for it), else the one this
    /// installation was started with; `None` before either is known.
    pub fn update_platform(&self) -> Option<PlatformConfig> {
        let defaults = lock(&self.platform).clone();
        let Some(url) = self.lock_settings().platform_url.clone() else {
            return (!defaults.url.is_empty()).then_some(defaults);
        };
        if url == defaults.url {
            return Some(defaults);
        }
        Some(PlatformConfig {
            url,
            ca_file: None,
            allow_insecure_loopback: false,
        })
    }

    /// Turns the screen lock on (idle timeout or the agent's choice); the
    /// live agent shows as away until it opens (see [`crate::desk::away`]).
    pub fn lock(&self) -> Result<(), Error> {
        let desk = self.desk_even_when_locked()?;
        let live = lock(&self.live).clone();
        if desk.is_practice() && live.is_none() {
            return Err(Error::InvalidAction(
                "practice without signing in has no password to lock the screen with".into(),
            ));
        }
        self.update_settings(|s| s.locked = true)?;
        live.unwrap_or(desk).lock_presence()
    }

    /// What the window hears of `desk`'s sync event: nothing of an offer
    /// while the screen is locked (it is declined).
    pub fn screen_event(
        &self,
        desk: &Desk,
        event: crate::sync::SyncEvent,
    ) -> Option<crate::desk::DeskEvent> {
        desk.screen_event(event, self.is_locked())
    }

    /// The screen lock is on, or an agent's lock screen shows and their
    /// store is not open yet.
    pub fn is_locked(&self) -> bool {
        self.lock_settings().locked
            || (lock(&self.desk).is_none() && lock(&self.on_screen).is_some())
    }

    pub fn preferences(&self) -> Preferences {
        self.lock_settings().preferences.clone()
    }

    /// Saves the agent's preferences; out-of-range values are refused and
    /// nothing is written.
    pub fn set_preferences(&self, preferences: Preferences) -> Result<Preferences, Error> {
        if self.is_locked() {
            return Err(Error::Locked);
        }
        preferences.check()?;
        self.update_settings(|s| s.preferences = preferences.clone())?;
        self.data.set_policy(preferences.data_policy());
        if let Some(desk) = lock(&self.desk).as_ref() {
            // The status bar shows the new budget; a released update starts.
            desk.engine().wake();
        }
        Ok(preferences)
    }

    /// Signs out: ends the session on the platform (offline: at the
    /// agent's next online sign-in), closes the store and forgets its key;
    /// actions not yet sent wait in the agent's outbox. From a lock screen
    /// whose store is not open, it only leaves that screen (the session
    /// stays until the agent unlocks and signs out).
    pub async fn sign_out(&self) -> Result<(), Error> {
        // Signing out ends practice too, and signs the live agent out.
        let live = lock(&self.live).take();
        let current = lock(&self.desk).take();
        *lock(&self.on_screen) = None;
        let desk = match current {
            Some(desk) if desk.is_practice() => live,
            other => other,
        };
        if let Some(desk) = desk {
            desk.sign_out().await?;
            let db = self.agent_db(&desk.profile().code)?;
            Vault::note_session(&db, false, None)?;
        }
        // The next agent signs in with a password anyway.
        self.update_settings(|s| s.locked = false)
    }

    fn device_id(&self) -> Result<String, Error> {
        if let Some(id) = self.lock_settings().device_id.clone() {
            return Ok(id);
        }
        let id = format!(
            "ws-{}",
            crate::store::outbox::new_key().trim_start_matches("act-")
        );
        self.update_settings(|s| s.device_id = Some(id.clone()))?;
        Ok(id)
    }

    fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<(), Error> {
        let mut current = self.lock_settings();
        let mut updated = current.clone();
        change(&mut updated);
        settings::save(&self.data_dir, &updated)?;
        *current = updated;
        Ok(())
    }

    /// The workstation's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Name, version, data folder and chosen language.
    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            name: PRODUCT_NAME.to_owned(),
            version: lock(&self.app_version).clone(),
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

    /// Answers the webview's request for a photo under the media scheme
    /// ([`crate::photos::MEDIA_SCHEME`]; `path` is the URL's path, e.g.
    /// `/thumb/{id}`): refused while the screen is locked or nobody is
    /// signed in, like every read of customer data.
    pub async fn media(&self, path: &str) -> crate::photos::MediaAnswer {
        let result = async {
            let request = crate::photos::MediaRequest::parse(path)?;
            let desk = self.desk()?;
            desk.media(&request).await
        }
        .await;
        crate::photos::MediaAnswer::of(result)
    }

    /// Where the workstation stands with the platform: the signed-in
    /// agent's sync status, or offline when nobody is signed in.
    pub fn connection_status(&self) -> ConnectionStatus {
        match lock(&self.desk).as_ref() {
            Some(desk) => desk.status(),
            None => ConnectionStatus::not_connected(),
        }
    }

    fn lock_settings(&self) -> MutexGuard<'_, Settings> {
        lock(&self.settings)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the value
    // half-written (each is replaced whole), so a poisoned lock is safe.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    fn the_version_reported_is_the_one_the_shell_gives() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ws = Workstation::open(dir.path()).expect("opens");
        assert_eq!(ws.app_info().version, env!("CARGO_PKG_VERSION"));
        // A package built as 0.1.7 from this code says 0.1.7 everywhere.
        ws.set_app_version("0.1.7".into());
        assert_eq!(ws.app_info().version, "0.1.7");
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
