//! Desktop notifications for a new offer, a customer message in a
//! conversation that is not in front, and a first reply about to miss its
//! SLA. What deserves one is decided in `homedesk_core::notice`, and which
//! SLAs are at risk in `homedesk_core::host`; this module only shows it:
//! through the desktop's notification service (notify-rust, D-Bus), or,
//! when no service runs (common on minimal desktops and under Xvfb), as a
//! [`NOTICE_EVENT`] the app shows itself.

use std::sync::Mutex;

use homedesk_core::Workstation;
use homedesk_core::desk::{DeskEvent, QueueItem};
use homedesk_core::notice::{self, Notice, Situation};
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// The event the app shows a notice on when the desktop cannot.
pub const NOTICE_EVENT: &str = "homedesk://notice";

/// The conversation open in the app (managed state, set by the UI).
#[derive(Debug, Default)]
pub struct Focus(Mutex<Option<String>>);

impl Focus {
    pub fn set(&self, conversation_id: Option<String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = conversation_id;
    }

    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Raises the notification a desk event deserves, if any.
pub fn on_event<R: Runtime>(app: &AppHandle<R>, event: &DeskEvent) {
    if let Some(notice) = decide(app, |situation| notice::for_event(event, situation)) {
        show(app, notice);
    }
}

/// Raises the notification for a first reply about to be late (the core's
/// SLA watch says which, once each).
pub fn on_sla<R: Runtime>(app: &AppHandle<R>, item: &QueueItem) {
    if let Some(notice) = decide(app, |situation| notice::for_sla(item, situation)) {
        show(app, notice);
    }
}

fn decide<R: Runtime>(
    app: &AppHandle<R>,
    choose: impl FnOnce(&Situation<'_>) -> Option<Notice>,
) -> Option<Notice> {
    let workstation = app.state::<Workstation>();
    let preferences = workstation.preferences();
    let window_focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    let open = app.state::<Focus>().get();
    let situation = Situation {
        preferences: &preferences,
        locale: workstation.app_info().locale,
        locked: workstation.is_locked(),
        in_front: open.as_deref().filter(|_| window_focused),
    };
    choose(&situation)
}

/// Shows `notice` on the desktop; falls back to the app when that fails.
fn show<R: Runtime>(app: &AppHandle<R>, notice: Notice) {
    let sound = app.state::<Workstation>().preferences().sound;
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname("Homedesk")
            .summary(&notice.title)
            .body(&notice.body)
            .timeout(notify_rust::Timeout::Milliseconds(10_000));
        if sound {
            notification.sound_name("message-new-instant");
        }
        if let Err(err) = notification.show() {
            tracing::info!("no desktop notification service ({err}); showing it in the app");
            if let Err(err) = app.emit(NOTICE_EVENT, &notice) {
                tracing::warn!("could not pass a notice to the window: {err}");
            }
        }
    });
}
