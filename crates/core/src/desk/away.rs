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
use rusqlite::{OptionalExtension, params};

use super::{Desk, DeskEvent, store_error};
use crate::Error;
use crate::store::{StoreError, from_json, to_json};
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
            .write(|tx| {
                tx.execute(
                    "UPDATE sync_state SET presence_before_lock = ?1
                     WHERE id = 1 AND presence_before_lock IS NULL",
                    params![to_json(&current)],
                )
            })
            .map_err(|e| store_error(StoreError::Sql(e)))?;
        if remembered == 1 && current != AWAY {
            self.act(Action::Presence { presence: AWAY })?;
        }
        Ok(())
    }

    /// The screen was unlocked: the presence chosen before the lock comes
    /// back.
    pub fn restore_presence(&self) -> Result<(), Error> {
        let before: Option<String> = self
            .store()
            .write(|tx| {
                let before = tx
                    .query_row(
                        "SELECT presence_before_lock FROM sync_state WHERE id = 1",
                        [],
                        |row| row.get::<_, Option<String>>(0),
                    )
                    .optional()?
                    .flatten();
                tx.execute(
                    "UPDATE sync_state SET presence_before_lock = NULL WHERE id = 1",
                    [],
                )?;
                Ok(before)
            })
            .map_err(|e: rusqlite::Error| store_error(StoreError::Sql(e)))?;
        let Some(json) = before else {
            return Ok(());
        };
        let before: Presence = from_json("sync_state", &json).map_err(store_error)?;
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
