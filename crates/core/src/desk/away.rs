//! Presence follows the agent: a locked screen means nobody is at the desk.
//!
//! Locking sets the agent's presence to [`AWAY`] and keeps the presence they
//! had chosen in the store (`sync_state.presence_before_lock`), so unlocking
//! restores it — also after the app was closed and started again while
//! locked. Locking twice keeps the first choice, not the away of the first
//! lock. The platform offers contacts only to available agents; an offer
//! that still arrives while the screen is locked (it crossed the presence
//! change on the wire) is declined here, never shown.

use homedesk_protocol::{Action, Presence};

use super::{Desk, DeskEvent, store_error};
use crate::Error;
use crate::store::sync_state;
use crate::sync::SyncEvent;

/// The presence of an agent whose screen is locked: on a break, so the
/// platform routes nothing to them and colleagues see they are away.
pub const AWAY: Presence = Presence::OnBreak;

impl Desk {
    /// The screen was locked: remember the agent's presence and show them
    /// away. Nothing to do on a practice desk (no platform routes to it).
    pub fn lock_presence(&self) -> Result<(), Error> {
        if self.is_practice() {
            return Ok(());
        }
        let current = self.presence()?;
        let remembered = self
            .store()
            .write(|tx| sync_state::remember_presence_before_lock(tx, current))
            .map_err(store_error)?;
        if remembered && current != AWAY {
            self.act(Action::Presence { presence: AWAY })?;
        }
        Ok(())
    }

    /// The screen was unlocked: the presence chosen before the lock comes
    /// back.
    pub fn restore_presence(&self) -> Result<(), Error> {
        let before = self
            .store()
            .write(|tx| sync_state::take_presence_before_lock(tx))
            .map_err(store_error)?;
        let Some(before) = before else {
            return Ok(());
        };
        // Sent even if the local copy already shows it: just after the away
        // was delivered the local profile can still be the old one until
        // the next pull, and a presence the platform already has is a no-op.
        self.act(Action::Presence { presence: before })?;
        Ok(())
    }

    /// What the window should hear of a sync event. While the screen is
    /// locked an offer is declined at once and not shown: nobody is there
    /// to take it, and a colleague can.
    pub fn screen_event(&self, event: SyncEvent, locked: bool) -> Option<DeskEvent> {
        match event {
            SyncEvent::Offer(offer) if locked => {
                if let Err(err) = self.act(Action::DeclineOffer {
                    offer_id: offer.offer_id.clone(),
                }) {
                    tracing::warn!("could not decline an offer while locked: {err}");
                }
                None
            }
            other => Some(DeskEvent::from(other)),
        }
    }
}
