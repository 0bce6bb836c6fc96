//! The checks on an agent action that need no server state, made before it
//! enters the outbox so an obviously invalid one never waits there. They are
//! the platform's own first checks ([`homedesk_protocol::rules::check`]), so
//! both refuse the same actions and say why the same way.

use homedesk_protocol::Action;
use homedesk_protocol::rules;

use crate::Error;

/// The checks the platform would make that need no server state.
pub(super) fn check_action(action: &Action) -> Result<(), Error> {
    rules::check(action).map_err(|refusal| Error::InvalidAction(refusal.message))
}
