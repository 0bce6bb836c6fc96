//! What the platform keeps of the agent's work on a conversation besides the
//! conversation itself: each wrap-up (note and after-contact work) and each
//! call logged from the call screen. Supervisors read them with
//! `GET /v1/conversations/{id}`; they never travel in the change log.
//!
//! The checks on these values live here, once, so the workstation refuses
//! what the platform would refuse before it waits in the outbox, and both
//! say why with the same code.

use serde::{Deserialize, Serialize};

use crate::actions::{
    ActionCode, MAX_AFTER_CONTACT_SECS, MAX_CALL_SECS, MAX_MESSAGE_CHARS, RefusalParams,
};
use crate::entities::{Conversation, Customer, Message, UnixMillis};

/// One wrap-up of a conversation, as the platform stored it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrapUpRecord {
    /// Agent code of who wrapped up.
    pub agent: String,
    pub disposition: String,
    #[serde(default)]
    pub note: Option<String>,
    pub after_contact_secs: i64,
    /// Platform clock.
    pub wrapped_at: UnixMillis,
}

/// One call logged from the call screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRecord {
    pub agent: String,
    /// Workstation clock, as the agent's PC saw it.
    pub started_at: UnixMillis,
    pub ended_at: UnixMillis,
    /// `ended_at - started_at`, in whole seconds.
    pub duration_secs: i64,
    /// Platform clock, when the log arrived.
    pub logged_at: UnixMillis,
}

/// `GET /v1/conversations/{id}` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationRecord {
    pub conversation: Conversation,
    /// Oldest first.
    pub wrap_ups: Vec<WrapUpRecord>,
    /// Oldest first.
    pub calls: Vec<CallRecord>,
    /// The thread, oldest first: what a workstation shows when it opens a
    /// conversation outside its sync scope (older history, on demand).
    #[serde(default)]
    pub messages: Vec<Message>,
    /// The conversation's customer, when the platform still has them.
    #[serde(default)]
    pub customer: Option<Customer>,
}

/// Why a wrap-up or call log cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecord {
    pub code: ActionCode,
    pub params: RefusalParams,
    /// For people reading logs; the interface says it from `code`.
    pub message: String,
}

fn invalid(code: ActionCode, field: &str, limit: i64, message: String) -> InvalidRecord {
    InvalidRecord {
        code,
        params: RefusalParams {
            field: Some(field.to_owned()),
            limit: Some(limit),
            ..RefusalParams::default()
        },
        message,
    }
}

/// A wrap-up's note and after-contact work: a note of at most
/// [`MAX_MESSAGE_CHARS`] characters, 0 to [`MAX_AFTER_CONTACT_SECS`] seconds.
pub fn check_wrap_up(note: Option<&str>, after_contact_secs: i64) -> Result<(), InvalidRecord> {
    if note.is_some_and(|n| n.chars().count() > MAX_MESSAGE_CHARS) {
        return Err(invalid(
            ActionCode::TooLong,
            "note",
            MAX_MESSAGE_CHARS as i64,
            format!("note: longer than {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    if !(0..=MAX_AFTER_CONTACT_SECS).contains(&after_contact_secs) {
        return Err(invalid(
            ActionCode::InvalidDuration,
            "after_contact_secs",
            MAX_AFTER_CONTACT_SECS,
            format!(
                "after_contact_secs: {after_contact_secs} is not between 0 and {MAX_AFTER_CONTACT_SECS}"
            ),
        ));
    }
    Ok(())
}

/// A call's times; returns its duration in whole seconds. The call must
/// start after 1970, end at or after its start, and last at most
/// [`MAX_CALL_SECS`].
pub fn check_call(started_at: UnixMillis, ended_at: UnixMillis) -> Result<i64, InvalidRecord> {
    if started_at <= 0 {
        return Err(invalid(
            ActionCode::InvalidDuration,
            "started_at",
            MAX_CALL_SECS,
            format!("started_at: {started_at} is not a time"),
        ));
    }
    if ended_at < started_at {
        return Err(invalid(
            ActionCode::InvalidDuration,
            "ended_at",
            MAX_CALL_SECS,
            "ended_at: the call ends before it starts".to_owned(),
        ));
    }
    let secs = (ended_at - started_at) / 1000;
    if secs > MAX_CALL_SECS {
        return Err(invalid(
            ActionCode::InvalidDuration,
            "ended_at",
            MAX_CALL_SECS,
            format!("ended_at: a call of {secs} s is longer than {MAX_CALL_SECS} s"),
        ));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrap_up_within_limits_is_kept() {
        assert_eq!(check_wrap_up(Some("回访已约"), 95), Ok(()));
        assert_eq!(check_wrap_up(None, 0), Ok(()));
        assert_eq!(check_wrap_up(None, MAX_AFTER_CONTACT_SECS), Ok(()));
    }

    #[test]
    fn negative_or_absurd_after_contact_work_is_refused_with_its_limit() {
        for secs in [-1, MAX_AFTER_CONTACT_SECS + 1, i64::MAX] {
            let err = check_wrap_up(None, secs).expect_err("refused");
            assert_eq!(err.code, ActionCode::InvalidDuration);
            assert_eq!(err.params.limit, Some(MAX_AFTER_CONTACT_SECS));
            assert_eq!(err.params.field.as_deref(), Some("after_contact_secs"));
        }
    }

    #[test]
    fn a_note_over_the_limit_is_too_long() {
        let note = "字".repeat(MAX_MESSAGE_CHARS + 1);
        let err = check_wrap_up(Some(&note), 10).expect_err("refused");
        assert_eq!(err.code, ActionCode::TooLong);
        assert_eq!(err.params.limit, Some(MAX_MESSAGE_CHARS as i64));
        assert!(check_wrap_up(Some(&"字".repeat(MAX_MESSAGE_CHARS)), 10).is_ok());
    }

    #[test]
    fn a_call_ends_after_it_starts_and_lasts_at_most_four_hours() {
        let start = 1_795_968_000_000;
        assert_eq!(check_call(start, start + 65_400), Ok(65));
        assert_eq!(check_call(start, start), Ok(0));
        for (s, e) in [
            (start, start - 1),
            (0, 1000),
            (-5, 1000),
            (start, start + (MAX_CALL_SECS + 1) * 1000),
        ] {
            let err = check_call(s, e).expect_err("refused");
            assert_eq!(err.code, ActionCode::InvalidDuration, "{s}..{e}");
        }
    }
}
