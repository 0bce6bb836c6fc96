//! Desktop notifications for a new offer, a customer message in a
//! conversation that is not in front, and a first reply about to miss its
//! SLA. What deserves one is decided in `homedesk_core::notice`; this module
//! only shows it: through the desktop's notification service (notify-rust,
//! D-Bus), or, when no service runs (common on minimal desktops and under
//! Xvfb), as a [`NOTICE_EVENT`] the app shows itself.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use homedesk_core::Workstation;
use homedesk_core::desk::DeskEvent;
use homedesk_core::notice::{self, Notice, SLA_WARNING_MS, Situation};
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// The event the app shows a notice on when the desktop cannot.
pub const NOTICE_EVENT: &str = "homedesk://notice";

/// How often the SLA watch looks at the queue.
const SLA_CHECK_EVERY: Duration = Duration::from_secs(15);

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

/// Watches the agent's conversations for first replies about to be late,
/// once per conversation, until the desk stops (sign-out).
pub fn watch_sla<R: Runtime>(app: &AppHandle<R>, workstation: &Workstation) {
    let Ok(desk) = workstation.desk_even_when_locked() else {
        return;
    };
    let desk = Arc::downgrade(&desk);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut warned: HashSet<String> = HashSet::new();
        loop {
            tokio::time::sleep(SLA_CHECK_EVERY).await;
            let Some(desk) = desk.upgrade() else { break };
            let at_risk = match desk.sla_at_risk(SLA_WARNING_MS) {
                Ok(items) => items,
                Err(err) => {
                    tracing::warn!("SLA watch could not read the queue: {err}");
                    continue;
                }
            };
            drop(desk);
            for item in at_risk {
                if warned.insert(item.id.clone())
                    && let Some(notice) = decide(&app, |s| notice::for_sla(&item, s))
                {
                    show(&app, notice);
                }
            }
        }
    });
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
