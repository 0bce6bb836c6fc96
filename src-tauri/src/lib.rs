//! The Homedesk desktop shell: a thin Tauri v2 layer over `homedesk-core`.
//!
//! It owns windows (and the guard that keeps them on the app, `links`), IPC
//! commands, events, notifications, the media scheme the webview shows photos
//! through, and the updater plugin (`updater`); nothing else.
//! Every decision lives in the core, which this crate `manage()`s as one
//! [`Workstation`]; background work for a desk (events to the window, the
//! SLA watch, training uploads) is decided in `homedesk_core::host`, and
//! `events` adapts it to Tauri.

mod command_list;
mod commands;
mod events;
mod links;
mod media;
mod notifier;
mod updater;

use std::path::PathBuf;
use std::process::ExitCode;

use homedesk_core::desk::PlatformConfig;
use homedesk_core::{Workstation, paths};
use tauri::{Builder, Env, Manager, Runtime};

/// Environment variable that picks the data folder (tests, shared PCs).
pub const DATA_DIR_ENV: &str = "HOMEDESK_DATA_DIR";
/// The platform offered on the sign-in screen (`make run` sets it).
pub const PLATFORM_URL_ENV: &str = "HOMEDESK_PLATFORM_URL";
/// A CA file (PEM) to trust for that platform (a county centre's own CA, the
/// development CA of `make run`).
pub const PLATFORM_CA_ENV: &str = "HOMEDESK_PLATFORM_CA";
/// The content folder practice mode reads (scenarios, knowledge base,
/// scripts, canned replies), overriding the one installed with the app.
pub const CONTENT_DIR_ENV: &str = "HOMEDESK_CONTENT_DIR";
/// The folder of practice content among the app's resources
/// (`bundle.resources` in tauri.conf.json; `/usr/lib/Homedesk/content` from
/// the .deb).
const CONTENT_RESOURCE: &str = "content";

/// Where practice content is, first found: the folder `HOMEDESK_CONTENT_DIR`
/// names; in a debug build, the repository's `content/` ([`source_tree_content`]);
/// else the `content/` folder installed among the app's resources. `None`
/// when none is known (practice mode then says no content is installed).
fn content_dir(
    env_override: Option<std::ffi::OsString>,
    source_tree: Option<PathBuf>,
    resource_dir: Option<PathBuf>,
) -> Option<PathBuf> {
    env_override
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or(source_tree)
        .or_else(|| resource_dir.map(|dir| dir.join(CONTENT_RESOURCE)))
}

/// Debug builds (`make run`, `make e2e`) read the repository's `content/`
/// directly, so an edited scenario shows without a rebuild. Release builds
/// have no path into the source tree: they read only what the package
/// installed.
#[cfg(debug_assertions)]
fn source_tree_content() -> Option<PathBuf> {
    Some(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../content"
    )))
}

#[cfg(not(debug_assertions))]
fn source_tree_content() -> Option<PathBuf> {
    None
}

/// Registers state and commands on a builder. Shared by [`run`] and the
/// mock-runtime tests so they exercise the same wiring.
pub fn setup<R: Runtime>(builder: Builder<R>, workstation: Workstation) -> Builder<R> {
    builder
        .manage(workstation)
        .manage(notifier::Focus::default())
        .plugin(links::navigation_guard())
        .plugin(updater::plugin())
        .setup(|app| {
            // Updates first: a package kept from the last run installs
            // before the desk opens (and restarts), then checks begin.
            updater::manage(app.handle())?;
            updater::install_at_start(app.handle());
            updater::start_checks(app.handle());
            // The last agent's kept session shows locked: their store is
            // encrypted and opens with their password (`unlock`, which
            // starts the desk's background work then).
            match app.state::<Workstation>().resume() {
                Ok(Some(agent)) => {
                    tracing::info!(agent = %agent.code, "a kept session waits for its password")
                }
                Ok(None) => {}
                Err(err) => tracing::warn!("could not read the kept session: {err}"),
            }
            Ok(())
        })
        .register_asynchronous_uri_scheme_protocol(media::MEDIA_SCHEME, media::serve)
        .invoke_handler(commands::handler())
}

/// Starts the desktop app; returns when the last window closes.
pub fn run() -> ExitCode {
    init_logging();
    let explicit = std::env::var_os(DATA_DIR_ENV).map(PathBuf::from);
    let workstation = match paths::resolve_data_dir(explicit).and_then(Workstation::open) {
        Ok(workstation) => workstation,
        Err(err) => {
            eprintln!("homedesk: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(data_dir = %workstation.data_dir().display(), "starting Homedesk");
    let context = tauri::generate_context!();
    // The package's version (`make dist` may set it), not the crate's.
    workstation.set_app_version(context.package_info().version.to_string());
    // The resource folder as `app.path().resource_dir()` computes it, before
    // the app is built (the workstation needs it first).
    let resources = tauri::utils::platform::resource_dir(context.package_info(), &Env::default());
    match content_dir(
        std::env::var_os(CONTENT_DIR_ENV),
        source_tree_content(),
        resources.ok(),
    ) {
        Some(dir) => {
            tracing::info!(content_dir = %dir.display(), "practice content");
            workstation.set_content_dir(dir);
        }
        None => {
            tracing::warn!("no practice content: no resource folder and {CONTENT_DIR_ENV} unset")
        }
    }
    if let Some(url) = std::env::var_os(PLATFORM_URL_ENV).filter(|v| !v.is_empty()) {
        workstation.set_platform_defaults(PlatformConfig {
            url: url.to_string_lossy().into_owned(),
            ca_file: std::env::var_os(PLATFORM_CA_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            allow_insecure_loopback: false,
        });
    }
    if !has_display() {
        eprintln!(
            "homedesk: no display found (DISPLAY and WAYLAND_DISPLAY are unset).\n\
             On a machine without a screen, run it under a virtual display:\n\
             \x20   xvfb-run -a dbus-run-session -- target/debug/homedesk\n\
             or use `make run`, which does this for you."
        );
        return ExitCode::from(2);
    }
    match setup(Builder::default(), workstation).build(context) {
        Ok(app) => {
            app.run(|handle, event| {
                if let tauri::RunEvent::Exit = event {
                    // The data counter's last 30 s, before the process ends.
                    handle.state::<Workstation>().data_usage().book(true);
                }
            });
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("homedesk: the window could not start: {err}");
            ExitCode::FAILURE
        }
    }
}

fn has_display() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests;
