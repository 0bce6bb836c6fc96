//! The window stays the app (docs/decisions/0034-links-open-outside-the-app.md):
//! a navigation guard on every webview refuses any address that is not one of
//! the app's own pages, and `open_link` hands a confirmed web address to the
//! system browser. Which addresses are which is decided in
//! `homedesk_core::links`; this module only wires it to Tauri and to
//! `xdg-open` (the desktop's own choice of browser).

use std::process::{Command, Stdio};

use homedesk_core::Error;
use homedesk_core::links::stays_in_app;
use tauri::plugin::TauriPlugin;
use tauri::{Runtime, Url};

/// The plugin whose navigation hook guards every webview of the app,
/// including the main window made from the config.
pub fn navigation_guard<R: Runtime>() -> TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_webview, url| allow_navigation(url))
        .build()
}

/// The guard's answer for `url` (logged when it refuses).
pub fn allow_navigation(url: &Url) -> bool {
    let allowed = stays_in_app(url);
    if !allowed {
        tracing::warn!(
            scheme = url.scheme(),
            "refused to navigate the window away from the app"
        );
    }
    allowed
}

/// The program that opens a web address in the desktop's browser.
#[cfg(target_os = "linux")]
const OPENER: &str = "xdg-open";
#[cfg(target_os = "macos")]
const OPENER: &str = "open";
#[cfg(target_os = "windows")]
const OPENER: &str = "explorer";

/// Starts the system browser on `url` (already checked by
/// `homedesk_core::links::external_link`) and does not wait for it.
pub fn open_in_browser(url: &Url) -> Result<(), Error> {
    let mut child = Command::new(OPENER)
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| {
            Error::InvalidAction(format!("no web browser could be started ({OPENER}: {err})"))
        })?;
    // Reap it when it ends, so no zombie stays behind.
    std::thread::spawn(move || child.wait());
    Ok(())
}
