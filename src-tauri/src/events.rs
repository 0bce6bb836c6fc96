//! The shell's side of the core's host interface ([`homedesk_core::host`]):
//! plain adapters that run the core's background tasks on Tauri's runtime,
//! pass desk events to the webview as one typed event, [`DESK_EVENT`]
//! (a `DeskEvent`, generated TypeScript in `ui/src/lib/host/bindings/`),
//! and show notifications. Which desk talks to the window, the SLA watch
//! and when training records upload are decided in the core.

use homedesk_core::Workstation;
use homedesk_core::desk::{DeskEvent, QueueItem};
use homedesk_core::host::{self, DeskStarted, Host, Task};
use homedesk_core::practice::ScoreReport;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// The one event name the UI listens to.
pub const DESK_EVENT: &str = "homedesk://desk";

/// The app as the core's [`Host`].
pub struct TauriHost<R: Runtime>(AppHandle<R>);

impl<R: Runtime> Clone for TauriHost<R> {
    fn clone(&self) -> Self {
        TauriHost(self.0.clone())
    }
}

impl<R: Runtime> Host for TauriHost<R> {
    fn workstation(&self) -> &Workstation {
        self.0.state::<Workstation>().inner()
    }

    fn spawn(&self, task: Task) {
        tauri::async_runtime::spawn(task);
    }

    fn desk_event(&self, event: &DeskEvent) {
        crate::notifier::on_event(&self.0, event);
        if let Err(err) = self.0.emit(DESK_EVENT, event) {
            tracing::warn!("could not pass an event to the window: {err}");
        }
    }

    fn sla_at_risk(&self, item: &QueueItem) {
        crate::notifier::on_sla(&self.0, item);
    }
}

/// A desk came to the front: the core starts its background work. Call
/// after every sign-in, resume and start of practice.
pub fn desk_started<R: Runtime>(app: &AppHandle<R>, how: DeskStarted) {
    host::desk_started(&TauriHost(app.clone()), how);
}

/// A password on the lock screen (of `agent` after 换人): the core opens the
/// lock or the store, and starts a newly opened desk's background work.
pub fn unlock<R: Runtime>(
    app: &AppHandle<R>,
    agent: Option<&str>,
    password: &str,
) -> Result<homedesk_core::UnlockAnswer, homedesk_core::Error> {
    host::unlock(&TauriHost(app.clone()), agent, password)
}

/// The UI read a practice report: the core uploads it if it is due.
pub fn report_read<R: Runtime>(app: &AppHandle<R>, report: Option<&ScoreReport>) {
    host::report_read(&TauriHost(app.clone()), report);
}
