//! Core events to the UI: everything the signed-in agent's desk reports
//! reaches the webview as one typed event, [`DESK_EVENT`], carrying a
//! `DeskEvent` (generated TypeScript in `ui/src/lib/host/bindings/`).

use homedesk_core::Workstation;
use homedesk_core::desk::DeskEvent;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;

/// The one event name the UI listens to.
pub const DESK_EVENT: &str = "homedesk://desk";

/// Starts forwarding the current desk's events; ends when that desk does
/// (sign-out). Call after every sign-in or resume.
pub fn forward<R: Runtime>(app: &AppHandle<R>, workstation: &Workstation) {
    crate::notifier::watch_sla(app, workstation);
    let Ok(desk) = workstation.desk_even_when_locked() else {
        return;
    };
    let mut events = desk.subscribe();
    let app = app.clone();
    let desk = std::sync::Arc::downgrade(&desk);
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => {
                    let Some(mine) = desk.upgrade() else { break };
                    // A locked desk declines offers instead of showing them.
                    match app.state::<Workstation>().screen_event(&mine, event) {
                        Some(event) => event,
                        None => continue,
                    }
                }
                // Missed some: the UI re-reads everything on `changed`.
                Err(RecvError::Lagged(_)) => DeskEvent::Changed,
                Err(RecvError::Closed) => break,
            };
            // Only the desk in front talks to the window: a live desk
            // syncing behind practice stays quiet (no live offers in the
            // sandbox), and speaks again when practice ends.
            let in_front = app
                .state::<Workstation>()
                .desk_even_when_locked()
                .ok()
                .zip(desk.upgrade())
                .is_some_and(|(current, mine)| std::sync::Arc::ptr_eq(&current, &mine));
            if !in_front {
                continue;
            }
            crate::notifier::on_event(&app, &event);
            if let Err(err) = app.emit(DESK_EVENT, &event) {
                tracing::warn!("could not pass an event to the window: {err}");
            }
        }
    });
}
