//! The shell's side of `homedesk_core::updates`: the official Tauri updater
//! (`tauri-plugin-updater`) as the core's [`UpdateSource`], the background
//! check task, the install at start and on the agent's say-so, and the
//! status passed to the window as one event, [`UPDATE_EVENT`].
//!
//! When to check, what to keep, when a restart is allowed: all decided in
//! the core. Here: build the plugin's updater for the agent's platform (its
//! endpoint and CA, `configure_client`), translate the plugin's errors into
//! the core's failure codes, install, restart. The plugin's own JavaScript
//! commands are not granted to any window: the UI calls the app's commands.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use homedesk_core::updates::{
    self, KeptPackage, Offer, ProgressFn, SourceFuture, UpdateFailure, UpdateFailureCode,
    UpdateSource, UpdateStatus, UpdateSupport, Updates,
};
use homedesk_core::{Error, Workstation};
use tauri::utils::config::BundleType;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_updater::{Update, UpdaterExt};

/// The event carrying every change of the [`UpdateStatus`].
pub const UPDATE_EVENT: &str = "homedesk://update";
/// Shortens the six hours between checks (tests).
pub const CHECK_SECS_ENV: &str = "HOMEDESK_UPDATE_CHECK_SECS";
/// The endpoint the updater is built with when it only restores a kept
/// update (never contacted: the plugin refuses to build without one).
const NO_ENDPOINT: &str = "https://localhost/no-request";

/// The plugin, with the key and settings of `tauri.conf.json`
/// (`plugins.updater`).
pub fn plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R, tauri_plugin_updater::Config> {
    tauri_plugin_updater::Builder::new().build()
}

/// Whether this build can update itself: a release key compiled in, and
/// installed from a package the updater knows how to replace.
fn support<R: Runtime>(app: &AppHandle<R>) -> UpdateSupport {
    let key = app
        .config()
        .plugins
        .0
        .get("updater")
        .and_then(|updater| updater.get("pubkey"))
        .and_then(|key| key.as_str())
        .unwrap_or_default();
    if key.trim().is_empty() {
        UpdateSupport::NoKey
    } else if matches!(
        tauri::utils::platform::bundle_type(),
        Some(BundleType::Deb | BundleType::Rpm)
    ) {
        UpdateSupport::Yes
    } else {
        UpdateSupport::NotPackaged
    }
}

/// The check period: six hours, or `HOMEDESK_UPDATE_CHECK_SECS`.
fn period() -> Duration {
    std::env::var(CHECK_SECS_ENV)
        .ok()
        .and_then(|secs| secs.trim().parse::<u64>().ok())
        .filter(|secs| *secs > 0)
        .map_or(updates::CHECK_EVERY, Duration::from_secs)
}

/// Makes and manages the app's [`Updates`] (in `setup`, before anything
/// else of the updater).
pub fn manage<R: Runtime>(app: &AppHandle<R>) -> Result<(), Error> {
    let workstation = app.state::<Workstation>();
    let support = support(app);
    let installed = app.package_info().version.to_string();
    tracing::info!(%installed, ?support, "updates: this build");
    let updates = Updates::new(
        workstation.data_dir(),
        &installed,
        support,
        period(),
        Arc::clone(workstation.clock()),
    )?;
    app.manage(updates);
    Ok(())
}

/// The status as the window shows it, in the interface language.
pub fn status(workstation: &Workstation, updates: &Updates) -> UpdateStatus {
    updates.status(workstation.app_info().locale, workstation.restart_block())
}

/// Passes the current status to the window.
pub fn emit<R: Runtime>(app: &AppHandle<R>) {
    let status = status(&app.state::<Workstation>(), &app.state::<Updates>());
    if let Err(err) = app.emit(UPDATE_EVENT, status) {
        tracing::warn!("could not pass the update status to the window: {err}");
    }
}

/// Starts the background checks (at once, then as the core schedules).
pub fn start_checks<R: Runtime>(app: &AppHandle<R>) {
    if app.state::<Updates>().support() == UpdateSupport::NoKey {
        tracing::info!(
            "updates: this build has no release key (plugins.updater.pubkey) and never checks"
        );
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let source = PluginSource {
            app: app.clone(),
            last: Mutex::default(),
        };
        let on_change = || emit(&app);
        app.state::<Updates>().run(&source, &on_change).await;
    });
}

/// At start, before the desk opens: installs a kept package (if its
/// signature still verifies) and restarts. Returns when there is none, or
/// when the install failed (the installed version then opens as usual).
pub fn install_at_start<R: Runtime>(app: &AppHandle<R>) {
    let updates = app.state::<Updates>();
    let Some(package) = updates.at_start() else {
        return;
    };
    match install(app, &package) {
        Ok(()) => {
            tracing::info!(version = %package.version, "updates: installed at start, restarting");
            app.restart();
        }
        Err(failure) => updates.install_failed(failure),
    }
}

/// Installs the ready package on the agent's say-so; the caller restarts.
/// A failure is recorded in the status (and passed to the window).
pub async fn install_now<R: Runtime>(
    app: &AppHandle<R>,
    package: KeptPackage,
) -> Result<(), Error> {
    let handle = app.clone();
    let version = package.version.clone();
    let result = tauri::async_runtime::spawn_blocking(move || install(&handle, &package))
        .await
        .unwrap_or_else(|err| {
            Err(UpdateFailure::new(
                UpdateFailureCode::InstallFailed,
                err.to_string(),
            ))
        });
    match result {
        Ok(()) => {
            tracing::info!(%version, "updates: installed, restarting");
            Ok(())
        }
        Err(failure) => {
            app.state::<Updates>().install_failed(failure.clone());
            emit(app);
            Err(Error::UpdateFailed(failure))
        }
    }
}

/// Verifies the kept bytes against their signature, then hands them to the
/// system's package manager (through `pkexec`, else a password prompt and
/// `sudo`, as the plugin does). Blocking.
fn install<R: Runtime>(app: &AppHandle<R>, package: &KeptPackage) -> Result<(), UpdateFailure> {
    let update = restore(app, &package.manifest)?;
    let bytes = package
        .read()
        .map_err(|err| UpdateFailure::new(UpdateFailureCode::Storage, err.to_string()))?;
    tracing::info!(version = %package.version, path = %package.path.display(), "updates: installing");
    update
        .verify(&bytes)
        .map_err(|err| failure(Stage::Download, err))?;
    update
        .install(&bytes)
        .map_err(|err| failure(Stage::Install, err))
}

/// The plugin's update, rebuilt from a kept manifest (no request).
fn restore<R: Runtime>(
    app: &AppHandle<R>,
    manifest: &serde_json::Value,
) -> Result<Update, UpdateFailure> {
    let endpoint = NO_ENDPOINT
        .parse()
        .map_err(|_| UpdateFailure::new(UpdateFailureCode::BadAnswer, "endpoint"))?;
    app.updater_builder()
        .endpoints(vec![endpoint])
        .and_then(|builder| builder.build())
        .and_then(|updater| updater.restore_update(manifest.clone()))
        .map_err(|err| failure(Stage::Check, err))?
        .ok_or_else(|| {
            UpdateFailure::new(
                UpdateFailureCode::BadAnswer,
                "the kept update is not newer than this build",
            )
        })
}

/// The Tauri updater as the core's source of updates.
struct PluginSource<R: Runtime> {
    app: AppHandle<R>,
    /// The update the last check found (its download URL and signature).
    last: Mutex<Option<Update>>,
}

impl<R: Runtime> PluginSource<R> {
    fn updater(&self) -> Result<tauri_plugin_updater::Updater, UpdateFailure> {
        let workstation = self.app.state::<Workstation>();
        let Some(platform) = workstation.update_platform() else {
            return Err(UpdateFailure::new(
                UpdateFailureCode::NoPlatform,
                "nobody has signed in to a platform on this PC yet",
            ));
        };
        let endpoint = updates::manifest_url(&platform.url)
            .map_err(|err| UpdateFailure::new(UpdateFailureCode::BadAnswer, err.to_string()))?;
        let client = updates::platform_client(&platform, workstation.data_usage().meter())
            .map_err(|err| UpdateFailure::new(UpdateFailureCode::Unreachable, err.to_string()))?;
        tracing::info!(%endpoint, ca_file = ?platform.ca_file, "updates: asking the platform");
        let endpoint = endpoint
            .parse()
            .map_err(|err| UpdateFailure::new(UpdateFailureCode::BadAnswer, format!("{err}")))?;
        self.app
            .updater_builder()
            .endpoints(vec![endpoint])
            .map(|builder| builder.configure_client(client))
            .and_then(|builder| builder.build())
            .map_err(|err| failure(Stage::Check, err))
    }
}

impl<R: Runtime> UpdateSource for PluginSource<R> {
    fn check(&self) -> SourceFuture<'_, Result<Option<Offer>, UpdateFailure>> {
        Box::pin(async move {
            let updater = self.updater()?;
            let found = updater
                .check()
                .await
                .map_err(|err| failure(Stage::Check, err))?;
            let offer = found
                .as_ref()
                .map(|update| Offer::new(update.version.clone(), update.raw_json.clone()));
            *self.last.lock().unwrap_or_else(|p| p.into_inner()) = found;
            Ok(offer)
        })
    }

    fn download<'a>(
        &'a self,
        offer: &'a Offer,
        progress: ProgressFn<'a>,
    ) -> SourceFuture<'a, Result<Vec<u8>, UpdateFailure>> {
        Box::pin(async move {
            let update = self
                .last
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .filter(|update| update.version == offer.version)
                .ok_or_else(|| {
                    UpdateFailure::new(UpdateFailureCode::BadAnswer, "no update to download")
                })?;
            tracing::info!(version = %update.version, url = %update.download_url, "updates: downloading");
            let mut received = 0u64;
            // `download` verifies the signature before it returns the bytes.
            update
                .download(
                    |chunk, total| {
                        received += chunk as u64;
                        progress(received, total);
                    },
                    || {},
                )
                .await
                .map_err(|err| failure(Stage::Download, err))
        })
    }

    fn verify(&self, manifest: &serde_json::Value, bytes: &[u8]) -> Result<(), UpdateFailure> {
        restore(&self.app, manifest)?
            .verify(bytes)
            .map_err(|err| failure(Stage::Download, err))
    }
}

/// Which step a plugin error came from.
#[derive(Clone, Copy)]
enum Stage {
    Check,
    Download,
    Install,
}

/// The core's failure code for a plugin error.
fn failure(stage: Stage, err: tauri_plugin_updater::Error) -> UpdateFailure {
    use tauri_plugin_updater::Error as E;
    let code = match (&err, stage) {
        (
            E::Minisign(_)
            | E::Base64(_)
            | E::SignatureUtf8(_)
            | E::SignedVersionMismatch { .. }
            | E::MissingSignedVersion,
            _,
        ) => UpdateFailureCode::BadSignature,
        (E::Reqwest(_) | E::Network(_), _) => UpdateFailureCode::Unreachable,
        (_, Stage::Install) => UpdateFailureCode::InstallFailed,
        (E::Io(_), Stage::Download) => UpdateFailureCode::Unreachable,
        _ => UpdateFailureCode::BadAnswer,
    };
    UpdateFailure::new(code, format_error(&err))
}

/// The error with its causes (reqwest hides the TLS reason in its source).
fn format_error(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
