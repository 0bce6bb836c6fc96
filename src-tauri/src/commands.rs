//! Tauri commands: one-line adapters from IPC to `homedesk-core` use-cases.
//!
//! Each takes the managed [`Workstation`], calls one use-case and maps the
//! error to the boundary shape [`ErrorBody`]. No business rules here. Adding
//! a command means: list it in `build.rs`, grant `allow-<name>` in
//! `capabilities/`, and add it to `ui/src/lib/host/tauri.ts`.

use homedesk_core::{AppInfo, ConnectionStatus, ErrorBody, Workstation};
use tauri::State;

#[tauri::command]
pub fn app_info(workstation: State<'_, Workstation>) -> AppInfo {
    workstation.app_info()
}

#[tauri::command]
pub fn set_locale(
    workstation: State<'_, Workstation>,
    locale: String,
) -> Result<AppInfo, ErrorBody> {
    workstation.set_locale(&locale).map_err(ErrorBody::from)
}

#[tauri::command]
pub fn connection_status(workstation: State<'_, Workstation>) -> ConnectionStatus {
    workstation.connection_status()
}
