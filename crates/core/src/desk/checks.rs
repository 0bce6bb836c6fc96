//! The checks on an agent action that need no server state, made before it
//! enters the outbox so an obviously invalid one never waits there. The
//! platform makes the same checks (and more); the shared ones live in
//! `homedesk_protocol` so both say the same.

use homedesk_protocol::{
    Action, ConversationStatus, DISPOSITIONS, MAX_MESSAGE_CHARS, check_call, check_wrap_up,
};

use crate::Error;

/// The checks the platform would make that need no server state.
pub(super) fn check_action(action: &Action) -> Result<(), Error> {
    let invalid = |why: String| Err(Error::InvalidAction(why));
    match action {
        Action::Reply { body, .. } | Action::InternalNote { body, .. } => {
            if body.trim().is_empty() {
                return invalid("the message is empty".into());
            }
            if body.chars().count() > MAX_MESSAGE_CHARS {
                return invalid(format!(
                    "a message has at most {MAX_MESSAGE_CHARS} characters"
                ));
            }
        }
        Action::WrapUp {
            disposition,
            note,
            after_contact_secs,
            ..
        } => {
            if !DISPOSITIONS.contains(&disposition.as_str()) {
                return invalid(format!(
                    "unknown disposition {disposition:?}; choose one of {}",
                    DISPOSITIONS.join(", ")
                ));
            }
            if let Err(e) = check_wrap_up(note.as_deref(), *after_contact_secs) {
                return invalid(e.message);
            }
        }
        Action::CallLog {
            started_at,
            ended_at,
            ..
        } => {
            if let Err(e) = check_call(*started_at, *ended_at) {
                return invalid(e.message);
            }
        }
        Action::SetStatus { status, .. }
            if !matches!(
                status,
                ConversationStatus::Active | ConversationStatus::Pending
            ) =>
        {
            return invalid("status: active or pending (resolve with a wrap-up)".into());
        }
        _ => {}
    }
    Ok(())
}
