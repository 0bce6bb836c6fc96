//! Updates of the app itself (docs/decisions/0028-how-and-when-the-app-updates.md):
//! when to look for one, what the agent sees of it, whether the app may
//! restart now, and the verified package kept in the data folder until it
//! is installed.
//!
//! The rules, all here and all tested with a fake clock:
//!
//! - **When to check**: at start, then every [`CHECK_EVERY`] (six hours;
//!   the shell may pass a shorter period for tests), [`RETRY_AFTER_FAILURE`]
//!   after a failed check, and whenever the agent asks. One check at a
//!   time; none at all when this build cannot update itself
//!   ([`UpdateSupport`]), and none once a package is ready (it installs at
//!   the next start anyway).
//! - **What the agent sees**: an [`UpdateStatus`] — none, checking,
//!   available (with the notes in the interface language), downloading
//!   (bytes of total), ready, or failed with a closed [`UpdateFailureCode`].
//! - **The package**: downloaded in the background, verified by the
//!   [`UpdateSource`] (the shell's adapter over the official Tauri
//!   updater, which checks the minisign signature), kept in `DATA/updates/`
//!   ([`kept`]); forgotten when it is stale (this build is as new or newer),
//!   damaged, fails verification, or the platform no longer offers anything
//!   newer.
//! - **At start**: a kept package newer than this build is installed before
//!   the desk opens, once ([`Updates::at_start`]); the shell verifies it
//!   again first.
//! - **Restart**: refused while a conversation is open or a reply waits in
//!   the outbox ([`restart_block`]; the workstation counts both).
//!
//! The core never talks to the updater plugin: the shell implements
//! [`UpdateSource`] and runs [`Updates::run`] on its runtime.

pub mod kept;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use homedesk_protocol::UnixMillis;
use serde::Serialize;
use ts_rs::TS;

use crate::clock::SharedClock;
use crate::desk::PlatformConfig;
use crate::{Error, Locale};

pub use kept::{Kept, KeptPackage};

/// How often the app looks for an update.
pub const CHECK_EVERY: Duration = Duration::from_secs(6 * 60 * 60);
/// How soon it looks again after a check failed (the village link was down).
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30 * 60);
/// The path of the platform's update manifest under its address, with the
/// updater's own placeholders (filled by the plugin).
pub const MANIFEST_PATH: &str =
    "/v1/updates/{{target}}/{{arch}}/{{current_version}}?bundle_type={{bundle_type}}";

/// The updater's endpoint for the platform at `platform_url`
/// (`https://host:port`, as the agent signed in with).
pub fn manifest_url(platform_url: &str) -> Result<String, Error> {
    let base = platform_url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(base)
        .map_err(|_| Error::InvalidAction(format!("{platform_url:?} is not a platform address")))?;
    if parsed.scheme() != "https" || parsed.host().is_none() {
        return Err(Error::InvalidAction(format!(
            "updates come only from an https:// platform ({platform_url})"
        )));
    }
    Ok(format!("{base}{MANIFEST_PATH}"))
}

/// How the updater's HTTP client trusts and talks to the platform, as the
/// sync client does: only the platform's CA file when one is configured
/// (else the system's roots), HTTPS only, a connect timeout and an idle
/// timeout but no total one (a package takes minutes on a village link),
/// and through a counting relay into `meter`, so an update shows in the data
/// used (the platform serves the manifest and the packages from its own
/// address: `releases::routes`). The shell hands this to the plugin's
/// `configure_client`.
pub fn platform_client(
    platform: &PlatformConfig,
    meter: &std::sync::Arc<crate::sync::WireMeter>,
) -> Result<impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static, Error>
{
    let certs = platform
        .ca_file
        .as_deref()
        .map(crate::sync::http::load_ca)
        .transpose()
        .map_err(|err| Error::Platform(err.to_string()))?;
    let http = crate::sync::HttpConfig::new(platform.url.clone());
    let url = url::Url::parse(&platform.url)
        .map_err(|_| Error::Platform(format!("{:?} is not a platform address", platform.url)))?;
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(Error::Platform(format!(
            "{:?} is not a platform address",
            platform.url
        )));
    };
    let relay = std::sync::Arc::new(
        crate::sync::wire::Relay::start(
            host,
            port,
            http.connect_timeout,
            std::sync::Arc::clone(meter),
        )
        .map_err(|err| Error::Platform(format!("cannot set up the connection: {err}")))?,
    );
    Ok(move |builder: reqwest::ClientBuilder| {
        let builder = builder
            .unix_socket(relay.socket())
            .https_only(true)
            .connect_timeout(http.connect_timeout)
            .read_timeout(http.idle_timeout);
        match &certs {
            Some(certs) => builder.tls_certs_only(certs.clone()),
            None => builder,
        }
    })
}

/// Whether this build can update itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "UpdateSupport.ts")]
pub enum UpdateSupport {
    Yes,
    /// Built without the release public key (`plugins.updater.pubkey` is
    /// empty): it cannot trust any package, so it never looks.
    NoKey,
    /// Not installed from a package (a development build): it checks and
    /// downloads, but cannot install.
    NotPackaged,
}

/// Why a check, download or install failed; the UI words each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "UpdateFailureCode.ts")]
pub enum UpdateFailureCode {
    /// Nobody has signed in on this PC yet: no platform to ask.
    NoPlatform,
    /// The platform could not be reached (or the link dropped mid-download).
    Unreachable,
    /// The platform answered something that is not an update manifest.
    BadAnswer,
    /// The package's signature does not match the release key: refused.
    BadSignature,
    /// The package could not be kept on this PC (disk full, permissions).
    Storage,
    /// The system refused to install the package (password prompt
    /// cancelled, package manager error).
    InstallFailed,
    /// A development build cannot install packages.
    NotPackaged,
}

/// A failure with its detail (English, for the log and support).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateFailure {
    pub code: UpdateFailureCode,
    pub detail: String,
}

impl UpdateFailure {
    pub fn new(code: UpdateFailureCode, detail: impl Into<String>) -> Self {
        UpdateFailure {
            code,
            detail: detail.into(),
        }
    }
}

/// Why the app may not restart now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "RestartBlock.ts")]
pub enum RestartBlock {
    /// A conversation assigned to the agent is not wrapped up.
    ConversationOpen,
    /// A reply is still in the outbox, not yet with the platform.
    ReplyUnsent,
}

/// The restart rule: no open conversation and no unsent reply.
pub fn restart_block(open_conversations: usize, unsent_replies: usize) -> Option<RestartBlock> {
    if unsent_replies > 0 {
        Some(RestartBlock::ReplyUnsent)
    } else if open_conversations > 0 {
        Some(RestartBlock::ConversationOpen)
    } else {
        None
    }
}

/// What is new in a release, in both interface languages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notes {
    pub zh_cn: String,
    pub en: String,
}

impl Notes {
    /// Reads `notes_by_language` of the platform's manifest, falling back
    /// to its `notes` (the Chinese text) for a language it lacks.
    pub fn from_manifest(manifest: &serde_json::Value) -> Notes {
        let by = &manifest["notes_by_language"];
        let text = |v: &serde_json::Value| v.as_str().map(str::trim).unwrap_or("").to_owned();
        let plain = text(&manifest["notes"]);
        let zh_cn = Some(text(&by["zh-CN"]))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| plain.clone());
        let en = Some(text(&by["en"]))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| plain.clone());
        Notes { zh_cn, en }
    }

    /// The notes in `locale`, else in the other language.
    pub fn pick(&self, locale: Locale) -> String {
        let (first, other) = match locale {
            Locale::ZhCn => (&self.zh_cn, &self.en),
            Locale::En => (&self.en, &self.zh_cn),
        };
        if first.is_empty() { other } else { first }.clone()
    }
}

/// An update the platform offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub version: String,
    pub notes: Notes,
    /// The manifest as the platform sent it (kept with the package).
    pub manifest: serde_json::Value,
}

impl Offer {
    pub fn new(version: impl Into<String>, manifest: serde_json::Value) -> Offer {
        Offer {
            version: version.into(),
            notes: Notes::from_manifest(&manifest),
            manifest,
        }
    }
}

/// A future an [`UpdateSource`] returns.
pub type SourceFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Download progress: bytes so far, total when the platform said it.
pub type ProgressFn<'a> = &'a (dyn Fn(u64, Option<u64>) + Send + Sync);

/// Where updates come from: the shell's adapter over the Tauri updater.
pub trait UpdateSource: Send + Sync {
    /// Asks the platform for a release newer than this build.
    fn check(&self) -> SourceFuture<'_, Result<Option<Offer>, UpdateFailure>>;
    /// Downloads the package of `offer` (the last check's) and verifies its
    /// signature; a package that fails is never returned.
    fn download<'a>(
        &'a self,
        offer: &'a Offer,
        progress: ProgressFn<'a>,
    ) -> SourceFuture<'a, Result<Vec<u8>, UpdateFailure>>;
    /// Verifies kept bytes against the signature in `manifest`.
    fn verify(&self, manifest: &serde_json::Value, bytes: &[u8]) -> Result<(), UpdateFailure>;
}

/// Where the update stands, as the Settings section shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export_to = "UpdatePhase.ts")]
pub enum UpdatePhase {
    /// Nothing newer (or not looked yet).
    None,
    Checking,
    /// A newer version exists; its download starts at once.
    Available {
        version: String,
        notes: String,
    },
    Downloading {
        version: String,
        #[ts(type = "number")]
        bytes: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
    /// Downloaded and verified: installs on the agent's say-so or at the
    /// next start.
    Ready {
        version: String,
        notes: String,
    },
    /// The last step failed; the installed version keeps working.
    Failed {
        code: UpdateFailureCode,
        message: String,
    },
}

/// Everything the Settings section and the agent bar show about updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "UpdateStatus.ts")]
pub struct UpdateStatus {
    /// The version running now.
    pub installed_version: String,
    pub support: UpdateSupport,
    /// When the platform last answered a check (workstation clock, Unix ms).
    pub last_checked_at: Option<UnixMillis>,
    pub phase: UpdatePhase,
    /// Why "install and restart" is not possible now, if it is not.
    pub restart_blocked: Option<RestartBlock>,
}

/// The phase with the notes in both languages (rendered per locale).
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    None,
    Checking,
    Available(Offer),
    Downloading {
        offer: Offer,
        bytes: u64,
        total: Option<u64>,
    },
    Ready {
        version: String,
        notes: Notes,
    },
    Failed(UpdateFailure),
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    last_checked_at: Option<UnixMillis>,
    /// When the last check started, and whether it failed.
    last_attempt: Option<(UnixMillis, bool)>,
}

/// The app's updates for one data folder; see the module comment.
#[derive(Debug)]
pub struct Updates {
    data_dir: PathBuf,
    installed: semver::Version,
    support: UpdateSupport,
    period: Duration,
    clock: SharedClock,
    inner: Mutex<Inner>,
    wake: tokio::sync::Notify,
}

impl Updates {
    /// `installed` is this build's version (the app's package version);
    /// `period` is [`CHECK_EVERY`] unless a test shortens it. A kept
    /// package that is stale or damaged is forgotten here; a good one makes
    /// the status "ready".
    pub fn new(
        data_dir: impl Into<PathBuf>,
        installed: &str,
        support: UpdateSupport,
        period: Duration,
        clock: SharedClock,
    ) -> Result<Updates, Error> {
        let installed = parse_version(installed)
            .ok_or_else(|| Error::InvalidAction(format!("{installed:?} is not a version")))?;
        let updates = Updates {
            data_dir: data_dir.into(),
            installed,
            support,
            period,
            clock,
            inner: Mutex::new(Inner {
                phase: Phase::None,
                last_checked_at: None,
                last_attempt: None,
            }),
            wake: tokio::sync::Notify::new(),
        };
        if let Some(package) = updates.kept() {
            updates.lock().phase = Phase::Ready {
                version: package.version.clone(),
                notes: Notes::from_manifest(&package.manifest),
            };
        }
        Ok(updates)
    }

    pub fn support(&self) -> UpdateSupport {
        self.support
    }

    /// The status in the interface language; `restart_blocked` comes from
    /// the workstation ([`crate::Workstation::restart_block`]).
    pub fn status(&self, locale: Locale, restart_blocked: Option<RestartBlock>) -> UpdateStatus {
        let inner = self.lock();
        let phase = match &inner.phase {
            Phase::None => UpdatePhase::None,
            Phase::Checking => UpdatePhase::Checking,
            Phase::Available(offer) => UpdatePhase::Available {
                version: offer.version.clone(),
                notes: offer.notes.pick(locale),
            },
            Phase::Downloading {
                offer,
                bytes,
                total,
            } => UpdatePhase::Downloading {
                version: offer.version.clone(),
                bytes: *bytes,
                total: *total,
            },
            Phase::Ready { version, notes } => UpdatePhase::Ready {
                version: version.clone(),
                notes: notes.pick(locale),
            },
            Phase::Failed(failure) => UpdatePhase::Failed {
                code: failure.code,
                message: failure.detail.clone(),
            },
        };
        UpdateStatus {
            installed_version: self.installed.to_string(),
            support: self.support,
            last_checked_at: inner.last_checked_at,
            phase,
            restart_blocked,
        }
    }

    /// How long until the next scheduled check; `None` when none is
    /// scheduled (this build cannot update, or a package is ready).
    pub fn next_check_in(&self) -> Option<Duration> {
        if self.support == UpdateSupport::NoKey {
            return None;
        }
        let inner = self.lock();
        if matches!(inner.phase, Phase::Ready { .. }) {
            return None;
        }
        let Some((at, failed)) = inner.last_attempt else {
            return Some(Duration::ZERO);
        };
        let wait = if failed {
            RETRY_AFTER_FAILURE.min(self.period)
        } else {
            self.period
        };
        let due = at.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        let left = due.saturating_sub(self.clock.now_ms()).max(0);
        Some(Duration::from_millis(u64::try_from(left).unwrap_or(0)))
    }

    /// The agent asked to check now. `false` when no check will run: this
    /// build cannot update, or one is running, or a package is ready.
    pub fn request_check(&self) -> bool {
        if self.support == UpdateSupport::NoKey {
            return false;
        }
        let busy = matches!(
            self.lock().phase,
            Phase::Checking | Phase::Downloading { .. } | Phase::Ready { .. }
        );
        if !busy {
            self.wake.notify_one();
        }
        !busy
    }

    /// The background loop: checks when [`Self::next_check_in`] says and
    /// when the agent asks, one at a time; `on_change` runs after every
    /// change of the status (the shell passes it to the window). Never
    /// returns; the shell spawns it once.
    pub async fn run<S: UpdateSource>(&self, source: &S, on_change: &(dyn Fn() + Send + Sync)) {
        if self.support == UpdateSupport::NoKey {
            return;
        }
        loop {
            match self.next_check_in() {
                Some(wait) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.wake.notified() => {}
                    }
                }
                None => self.wake.notified().await,
            }
            self.check_once(source, on_change).await;
        }
    }

    /// One check: ask, download what is offered (or reuse the kept package
    /// of that version if it still verifies), keep it. Does nothing when
    /// this build cannot update, a check is running or a package is ready.
    pub async fn check_once<S: UpdateSource>(
        &self,
        source: &S,
        on_change: &(dyn Fn() + Send + Sync),
    ) {
        if self.support == UpdateSupport::NoKey {
            return;
        }
        {
            let mut inner = self.lock();
            if matches!(
                inner.phase,
                Phase::Checking | Phase::Downloading { .. } | Phase::Ready { .. }
            ) {
                return;
            }
            inner.phase = Phase::Checking;
            inner.last_attempt = Some((self.clock.now_ms(), false));
        }
        on_change();
        tracing::info!(installed = %self.installed, "updates: checking the platform");
        let offer = match source.check().await {
            Ok(offer) => offer,
            Err(failure) => return self.fail(failure, on_change),
        };
        self.lock().last_checked_at = Some(self.clock.now_ms());
        let Some(offer) = offer.filter(|o| self.is_newer(&o.version)) else {
            tracing::info!("updates: nothing newer than {}", self.installed);
            // A kept package the platform no longer offers is withdrawn.
            self.forget("the platform offers nothing newer");
            self.set(Phase::None, on_change);
            return;
        };
        tracing::info!(version = %offer.version, "updates: the platform offers a newer version");
        self.set(Phase::Available(offer.clone()), on_change);
        if let Some(package) = self.kept().filter(|p| p.version == offer.version) {
            match package
                .read()
                .map(|bytes| source.verify(&offer.manifest, &bytes))
            {
                Ok(Ok(())) => {
                    tracing::info!(version = %offer.version, "updates: the kept package still verifies");
                    return self.ready(&offer, on_change);
                }
                Ok(Err(failure)) => {
                    tracing::warn!(
                        "updates: the kept package fails verification: {}",
                        failure.detail
                    );
                    self.forget("it fails verification");
                }
                Err(err) => tracing::warn!("updates: cannot read the kept package: {err}"),
            }
        }
        let progress = Progress::new(&offer, self, on_change);
        let report = |bytes, total| progress.report(bytes, total);
        match source.download(&offer, &report).await {
            Ok(bytes) => {
                tracing::info!(version = %offer.version, bytes = bytes.len(), "updates: downloaded and verified");
                match kept::save(&self.data_dir, &offer, &bytes, self.clock.now_ms()) {
                    Ok(_) => self.ready(&offer, on_change),
                    Err(err) => {
                        self.forget("it could not be written whole");
                        self.fail(
                            UpdateFailure::new(UpdateFailureCode::Storage, err.to_string()),
                            on_change,
                        );
                    }
                }
            }
            Err(failure) => self.fail(failure, on_change),
        }
    }

    /// The package to install now, on the agent's say-so: refused while
    /// `blocked` (from [`crate::Workstation::restart_block`]), or when none
    /// is ready.
    pub fn package_to_install(&self, blocked: Option<RestartBlock>) -> Result<KeptPackage, Error> {
        if let Some(block) = blocked {
            return Err(Error::RestartNotAllowed(block));
        }
        self.ready_package()
    }

    /// The package that is ready, if this build can install it.
    pub fn ready_package(&self) -> Result<KeptPackage, Error> {
        if !matches!(self.lock().phase, Phase::Ready { .. }) {
            return Err(Error::InvalidAction(
                "no update is downloaded and ready to install".into(),
            ));
        }
        if self.support == UpdateSupport::NotPackaged {
            return Err(Error::InvalidAction(
                "this build was not installed from a package and cannot install updates".into(),
            ));
        }
        self.kept()
            .ok_or_else(|| Error::InvalidAction("the downloaded update is gone".into()))
    }

    /// What to do at start, before the desk opens: the kept package to
    /// install (once; this marks it tried), if it is newer than this build.
    pub fn at_start(&self) -> Option<KeptPackage> {
        if self.support != UpdateSupport::Yes {
            return None;
        }
        let package = self.kept().filter(|p| !p.start_attempted)?;
        if let Err(err) = kept::mark_start_attempted(&self.data_dir) {
            tracing::warn!("updates: cannot record the install attempt, not installing: {err}");
            return None;
        }
        tracing::info!(version = %package.version, "updates: installing the kept package at start");
        Some(package)
    }

    /// An install failed: the installed version keeps running. A package
    /// that fails its signature is forgotten; one the system refused stays
    /// for the next try.
    pub fn install_failed(&self, failure: UpdateFailure) {
        tracing::warn!(code = ?failure.code, "updates: install refused: {}", failure.detail);
        let mut inner = self.lock();
        if failure.code == UpdateFailureCode::BadSignature {
            drop(inner);
            self.forget("it fails verification");
            inner = self.lock();
        }
        inner.phase = Phase::Failed(failure);
    }

    /// The kept package, if it is whole and newer than this build; a stale
    /// or damaged one is forgotten.
    fn kept(&self) -> Option<KeptPackage> {
        match kept::load(&self.data_dir) {
            Kept::Nothing => None,
            Kept::Damaged(why) => {
                tracing::warn!("updates: forgetting a damaged package: {why}");
                self.forget("it is damaged");
                None
            }
            Kept::Package(package) if !self.is_newer(&package.version) => {
                tracing::info!(version = %package.version, installed = %self.installed, "updates: forgetting the installed (stale) package");
                self.forget("it is not newer than this build");
                None
            }
            Kept::Package(package) => Some(package),
        }
    }

    fn is_newer(&self, version: &str) -> bool {
        parse_version(version).is_some_and(|v| v > self.installed)
    }

    fn forget(&self, why: &str) {
        if matches!(kept::load(&self.data_dir), Kept::Nothing) {
            return;
        }
        tracing::info!("updates: forgetting the kept package: {why}");
        if let Err(err) = kept::forget(&self.data_dir) {
            tracing::warn!("updates: cannot remove the kept package: {err}");
        }
    }

    fn ready(&self, offer: &Offer, on_change: &(dyn Fn() + Send + Sync)) {
        tracing::info!(version = %offer.version, "updates: ready to install");
        self.set(
            Phase::Ready {
                version: offer.version.clone(),
                notes: offer.notes.clone(),
            },
            on_change,
        );
    }

    fn fail(&self, failure: UpdateFailure, on_change: &(dyn Fn() + Send + Sync)) {
        tracing::warn!(code = ?failure.code, "updates: {}", failure.detail);
        {
            let mut inner = self.lock();
            if let Some((at, _)) = inner.last_attempt {
                inner.last_attempt = Some((at, true));
            }
            inner.phase = Phase::Failed(failure);
        }
        on_change();
    }

    fn set(&self, phase: Phase, on_change: &(dyn Fn() + Send + Sync)) {
        self.lock().phase = phase;
        on_change();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Download progress, passed on in steps: each whole percent of a known
/// total, or every [`PROGRESS_STEP_BYTES`] when the total is unknown, so a
/// slow link does not flood the window with events.
struct Progress<'a> {
    offer: &'a Offer,
    updates: &'a Updates,
    on_change: &'a (dyn Fn() + Send + Sync),
    last_step: std::sync::atomic::AtomicU64,
}

/// Progress step when the platform does not say the package's size.
pub const PROGRESS_STEP_BYTES: u64 = 256 * 1024;

impl<'a> Progress<'a> {
    fn new(
        offer: &'a Offer,
        updates: &'a Updates,
        on_change: &'a (dyn Fn() + Send + Sync),
    ) -> Self {
        Progress {
            offer,
            updates,
            on_change,
            last_step: std::sync::atomic::AtomicU64::new(u64::MAX),
        }
    }

    fn report(&self, bytes: u64, total: Option<u64>) {
        let step = match total {
            Some(total) if total > 0 => bytes.saturating_mul(100) / total,
            _ => bytes / PROGRESS_STEP_BYTES,
        };
        let last = self
            .last_step
            .swap(step, std::sync::atomic::Ordering::SeqCst);
        if last == step {
            return;
        }
        self.updates.lock().phase = Phase::Downloading {
            offer: self.offer.clone(),
            bytes,
            total,
        };
        (self.on_change)();
    }
}

fn parse_version(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text.trim().trim_start_matches('v')).ok()
}

#[cfg(test)]
mod tests;
