//! The host interface: what runs in the background for a desk, and what of
//! it reaches the window. The desktop shell implements [`Host`] with plain
//! adapters (spawn a task, emit an event, show a notification) and calls
//! [`desk_started`] and [`report_read`]; every decision is made here:
//!
//! - **Which desk talks to the window**: only the desk in front. A live
//!   desk syncing behind practice stays quiet (no live offers in the
//!   sandbox) and speaks again when practice ends; an offer that arrives
//!   while the screen is locked is declined, never shown
//!   ([`for_window`]).
//! - **The SLA watch**: every [`SLA_CHECK_EVERY`], the agent's unanswered
//!   conversations whose first reply is due within
//!   [`crate::notice::SLA_WARNING_MS`] (by the desk's [`crate::clock::Clock`]
//!   and the platform's offset) are reported, once per conversation
//!   ([`SlaWatch`]).
//! - **When training records upload**: after a live sign-in or resume, and
//!   when a practice contact's report is read once it is over
//!   ([`DeskStarted::uploads_training`], [`training_upload_due`]).
//!
//! Nothing here sleeps in a test: the SLA rule runs on the desk's clock (a
//! fake one in tests) and the watch's period is a parameter.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError};

use crate::desk::{Desk, DeskEvent, QueueItem};
use crate::notice::SLA_WARNING_MS;
use crate::practice::ScoreReport;
use crate::sync::SyncEvent;
use crate::{Error, Workstation};

/// How often the SLA watch looks at the queue.
pub const SLA_CHECK_EVERY: Duration = Duration::from_secs(15);

/// A background task the host runs on its async runtime.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What the shell provides: adapters only, no decisions.
pub trait Host: Clone + Send + Sync + 'static {
    /// The workstation the host manages.
    fn workstation(&self) -> &Workstation;
    /// Runs `task` in the background (inside the host's tokio runtime).
    fn spawn(&self, task: Task);
    /// Passes a desk event to the window (and raises the notification it
    /// deserves, see [`crate::notice::for_event`]).
    fn desk_event(&self, event: &DeskEvent);
    /// A conversation of mine whose first reply is about to be late
    /// (called once per conversation; see [`crate::notice::for_sla`]).
    fn sla_at_risk(&self, item: &QueueItem);
}

/// How the desk in front came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskStarted {
    /// The agent signed in with their password.
    SignedIn,
    /// The last agent's saved session was continued at start.
    Resumed,
    /// The practice sandbox.
    Practice,
}

impl DeskStarted {
    /// A live session starting is the moment practice results done offline
    /// (or before this sign-in) go to the platform; the sandbox itself
    /// uploads nothing.
    pub fn uploads_training(self) -> bool {
        !matches!(self, DeskStarted::Practice)
    }
}

/// A practice report once the contact is over (wrapped up) is the moment
/// its result can go to the platform.
pub fn training_upload_due(report: Option<&ScoreReport>) -> bool {
    report.is_some_and(|r| r.disposition.is_some())
}

/// Starts the background work for the desk now in front: its events to the
/// window, the SLA watch, and (for a live session) the training upload.
/// Each stops by itself when the desk does (sign-out, end of practice).
/// Call after every sign-in, resume and start of practice.
pub fn desk_started<H: Host>(host: &H, how: DeskStarted) {
    let Ok(desk) = host.workstation().desk_even_when_locked() else {
        return;
    };
    // Subscribed now, before anything the desk does next can be missed.
    let events = desk.subscribe();
    let mine = Arc::downgrade(&desk);
    drop(desk);
    host.spawn(Box::pin(watch_sla(
        host.clone(),
        Weak::clone(&mine),
        SLA_CHECK_EVERY,
    )));
    host.spawn(Box::pin(forward_events(host.clone(), mine, events)));
    if how.uploads_training() {
        host.spawn(Box::pin(upload_training(host.clone())));
    }
}

/// A password typed on the lock screen: of the agent on screen, or (after
/// 换人) of `agent`. When it opened a store (at start, or another agent's),
/// that desk's background work starts as for a resumed session. Call inside
/// the host's tokio runtime (the desk starts syncing).
pub fn unlock<H: Host>(
    host: &H,
    agent: Option<&str>,
    password: &str,
) -> Result<crate::UnlockAnswer, Error> {
    let workstation = host.workstation();
    let before = workstation.desk_even_when_locked().ok();
    let answer = match agent {
        Some(agent) => workstation.unlock_as(agent, password)?,
        None => workstation.unlock(password)?,
    };
    let after = workstation.desk_even_when_locked().ok();
    let opened = match (&before, &after) {
        (Some(before), Some(after)) => !Arc::ptr_eq(before, after),
        (None, Some(_)) => true,
        _ => false,
    };
    drop((before, after));
    if answer.unlocked && opened {
        desk_started(host, DeskStarted::Resumed);
    }
    Ok(answer)
}

/// After the UI read a practice report: uploads the result when the
/// contact is over.
pub fn report_read<H: Host>(host: &H, report: Option<&ScoreReport>) {
    if training_upload_due(report) {
        host.spawn(Box::pin(upload_training(host.clone())));
    }
}

/// What the window hears of `desk`'s sync event: nothing unless `desk` is
/// the one in front, and nothing of an offer while the screen is locked
/// (it is declined, in front or not).
pub fn for_window(
    workstation: &Workstation,
    desk: &Arc<Desk>,
    event: SyncEvent,
) -> Option<DeskEvent> {
    let event = workstation.screen_event(desk, event)?;
    in_front(workstation, desk).then_some(event)
}

/// `desk` is the one the window shows.
pub fn in_front(workstation: &Workstation, desk: &Arc<Desk>) -> bool {
    workstation
        .desk_even_when_locked()
        .is_ok_and(|current| Arc::ptr_eq(&current, desk))
}

/// Passes the desk's events to the window while it is in front; ends with
/// the desk.
pub async fn forward_events<H: Host>(
    host: H,
    desk: Weak<Desk>,
    mut events: broadcast::Receiver<SyncEvent>,
) {
    loop {
        let event = match events.recv().await {
            Ok(event) => {
                let Some(mine) = desk.upgrade() else { break };
                match for_window(host.workstation(), &mine, event) {
                    Some(event) => event,
                    None => continue,
                }
            }
            // Missed some: the UI re-reads everything on `changed`.
            Err(RecvError::Lagged(_)) => {
                let Some(mine) = desk.upgrade() else { break };
                if !in_front(host.workstation(), &mine) {
                    continue;
                }
                DeskEvent::Changed
            }
            Err(RecvError::Closed) => break,
        };
        host.desk_event(&event);
    }
}

/// Remembers which conversations were already reported at risk, so each is
/// reported once.
#[derive(Debug, Default)]
pub struct SlaWatch {
    warned: HashSet<String>,
}

impl SlaWatch {
    /// My unanswered conversations whose first reply is due within
    /// [`SLA_WARNING_MS`] now (the desk's clock), not reported before.
    pub fn check(&mut self, desk: &Desk) -> Result<Vec<QueueItem>, Error> {
        Ok(desk
            .sla_at_risk(SLA_WARNING_MS)?
            .into_iter()
            .filter(|item| self.warned.insert(item.id.clone()))
            .collect())
    }
}

/// Looks every `every` for first replies about to be late; ends with the
/// desk.
pub async fn watch_sla<H: Host>(host: H, desk: Weak<Desk>, every: Duration) {
    let mut watch = SlaWatch::default();
    loop {
        tokio::time::sleep(every).await;
        let Some(desk) = desk.upgrade() else { break };
        let at_risk = match watch.check(&desk) {
            Ok(items) => items,
            Err(err) => {
                tracing::warn!("SLA watch could not read the queue: {err}");
                continue;
            }
        };
        drop(desk);
        for item in &at_risk {
            host.sla_at_risk(item);
        }
    }
}

/// Practice results to the platform as training records, when a live
/// session exists (otherwise they wait).
pub async fn upload_training<H: Host>(host: H) {
    match host.workstation().sync_training().await {
        Ok(0) => {}
        Ok(n) => tracing::info!("sent {n} practice results as training records"),
        Err(err) => tracing::info!("practice results wait for the platform: {err}"),
    }
}
