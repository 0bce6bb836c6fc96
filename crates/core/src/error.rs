//! Errors of the workstation core, and the one shape they take at a boundary.
//!
//! Inside the crate an [`Error`] carries the detail (paths, causes). At the
//! IPC boundary it becomes an [`ErrorBody`] `{ "code": ..., "message": ... }`:
//! `code` is a closed [`ErrorCode`] the UI may branch on, `message` is for
//! people and is never matched by code.

use std::path::PathBuf;

use serde::Serialize;
use ts_rs::TS;

/// Everything that can go wrong in a core use-case.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown interface language {0:?}: choose one of {choices}", choices = crate::Locale::TAGS.join(", "))]
    UnknownLocale(String),

    #[error("cannot use the data folder {}: {source}", path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{0:?} is not an agent code (letters, digits, - and _, at most 64)")]
    InvalidAgentCode(String),

    #[error("cannot find a data folder for this user; set HOMEDESK_DATA_DIR to choose one")]
    NoDataDir,

    #[error("wrong agent code or password ({0})")]
    WrongPassword(String),

    #[error("too many failed sign-ins for this agent code or from this address; {}", match .retry_after_secs {
        Some(secs) => format!("the platform takes the next try in {secs} s"),
        None => "try again later".to_owned(),
    })]
    TooManyAttempts { retry_after_secs: Option<u64> },

    #[error("the platform cannot be reached: {0}")]
    Unreachable(String),

    #[error(
        "the platform's certificate is not trusted (check the platform address and its CA file): {0}"
    )]
    UntrustedCertificate(String),

    #[error("platform: {0}")]
    Platform(String),

    #[error("sync: {0}")]
    Sync(String),

    #[error("local store: {0}")]
    Store(String),

    #[error("this agent's data on this PC ({}) does not open with this key; nothing was changed", .0.display())]
    StoreLocked(PathBuf),

    #[error("{0}")]
    InvalidAction(String),

    #[error("this photo is too large: {0}")]
    PhotoTooLarge(String),

    #[error("this file cannot be sent as a photo: {0}")]
    PhotoUnsupported(String),

    #[error("nobody is signed in on this workstation")]
    NotSignedIn,

    #[error("the screen is locked: unlock it with the password first")]
    Locked,

    #[error("{}", match .0 {
        crate::updates::RestartBlock::ConversationOpen =>
            "the app does not restart for an update while a conversation is open: wrap it up first",
        crate::updates::RestartBlock::ReplyUnsent =>
            "the app does not restart for an update while a reply waits to be sent",
    })]
    RestartNotAllowed(crate::updates::RestartBlock),

    #[error("the update was not installed ({code:?}): {detail}; this version keeps working", code = .0.code, detail = .0.detail)]
    UpdateFailed(crate::updates::UpdateFailure),

    #[error("the platform has no such conversation, or it is not one you may read: {0}")]
    NotFound(String),

    #[error("a newer search was asked for before this one finished; its results were dropped")]
    Superseded,

    #[error("the platform refused: {0}")]
    Forbidden(String),

    #[error("cannot save settings to {}: {source}", path.display())]
    SaveSettings {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What kind of failure an [`Error`] is, for code that must react to it.
///
/// Closed on purpose: adding a variant is a change the UI must handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "ErrorCode.ts")]
pub enum ErrorCode {
    /// The caller sent something the core cannot accept; nothing was changed.
    InvalidInput,
    /// The local disk refused a read or write (full, read-only, permissions),
    /// or the local store is damaged.
    Storage,
    /// Sign-in refused: wrong agent code or password, or the session ended.
    WrongPassword,
    /// The call needs a signed-in agent and there is none.
    NotSignedIn,
    /// The platform takes no sign-in for this agent code (or from this
    /// address) for a while after too many failed ones; `retryAfterSeconds`
    /// says how long when the platform said.
    TooManyAttempts,
    /// No answer from the platform (network down, wrong address).
    Unreachable,
    /// The platform's TLS certificate is not trusted.
    UntrustedCertificate,
    /// The platform answered in a way the workstation cannot use.
    Platform,
    /// The screen lock is on; unlock first.
    Locked,
    /// A photo over the size limits (5 MB, 40 megapixels); nothing was kept.
    PhotoTooLarge,
    /// A file that is not a JPEG, PNG or WebP photo (or is empty or
    /// damaged); nothing was kept.
    PhotoUnsupported,
    /// The app may not restart now (an open conversation, an unsent
    /// reply); nothing was installed.
    RestartNotAllowed,
    /// An update could not be installed; the installed version keeps
    /// running (the update status says why).
    UpdateFailed,
    /// This agent's data on this PC does not open with this key (a wrong
    /// key, or damage); the file was left exactly as it was.
    StoreLocked,
    /// The platform has no such conversation, or it is not one this agent
    /// may read (another queue's); nothing was kept.
    NotFound,
    /// A search stopped because a newer one (the next keystroke) was asked
    /// for; the newer one answers. Not a failure to show.
    Superseded,
    /// The platform refused what this agent's role may not do (a console
    /// screen for someone who is not a supervisor or trainer, a promotion
    /// without a passed exam); nothing was changed. The message says why.
    Forbidden,
}

/// The boundary shape of an error: `{ "code": "...", "message": "..." }`,
/// with `retryAfterSeconds` only for `too_many_attempts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ErrorBody.ts")]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// How long until the platform takes another sign-in (seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub retry_after_seconds: Option<u32>,
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::UnknownLocale(_) | Error::InvalidAgentCode(_) | Error::InvalidAction(_) => {
                ErrorCode::InvalidInput
            }
            Error::DataDir { .. }
            | Error::NoDataDir
            | Error::SaveSettings { .. }
            | Error::Store(_) => ErrorCode::Storage,
            Error::WrongPassword(_) => ErrorCode::WrongPassword,
            Error::NotSignedIn => ErrorCode::NotSignedIn,
            Error::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            Error::Locked => ErrorCode::Locked,
            Error::Unreachable(_) => ErrorCode::Unreachable,
            Error::UntrustedCertificate(_) => ErrorCode::UntrustedCertificate,
            Error::Platform(_) | Error::Sync(_) => ErrorCode::Platform,
            Error::PhotoTooLarge(_) => ErrorCode::PhotoTooLarge,
            Error::PhotoUnsupported(_) => ErrorCode::PhotoUnsupported,
            Error::RestartNotAllowed(_) => ErrorCode::RestartNotAllowed,
            Error::UpdateFailed(_) => ErrorCode::UpdateFailed,
            Error::StoreLocked(_) => ErrorCode::StoreLocked,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Superseded => ErrorCode::Superseded,
            Error::Forbidden(_) => ErrorCode::Forbidden,
        }
    }
}

impl From<&Error> for ErrorBody {
    fn from(err: &Error) -> Self {
        let retry_after_seconds = match err {
            Error::TooManyAttempts { retry_after_secs } => {
                retry_after_secs.map(|secs| u32::try_from(secs).unwrap_or(u32::MAX))
            }
            _ => None,
        };
        ErrorBody {
            code: err.code(),
            message: err.to_string(),
            retry_after_seconds,
        }
    }
}

impl From<Error> for ErrorBody {
    fn from(err: Error) -> Self {
        ErrorBody::from(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_json_shape_is_pinned() {
        let body = ErrorBody::from(Error::UnknownLocale("fr".into()));
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "code": "invalid_input",
                "message": "unknown interface language \"fr\": choose one of zh-CN, en"
            }),
            "the UI branches on this exact shape; changing it breaks the host module"
        );
    }

    #[test]
    fn a_throttled_sign_in_carries_its_wait_to_the_ui() {
        let body = ErrorBody::from(Error::TooManyAttempts {
            retry_after_secs: Some(900),
        });
        let json = serde_json::to_value(&body).expect("serializes");
        assert_eq!(json["code"], "too_many_attempts");
        assert_eq!(json["retryAfterSeconds"], 900);
        let unknown = ErrorBody::from(Error::TooManyAttempts {
            retry_after_secs: None,
        });
        let json = serde_json::to_value(&unknown).expect("serializes");
        assert!(json.get("retryAfterSeconds").is_none(), "{json}");
    }

    #[test]
    fn storage_failures_map_to_the_storage_code() {
        let err = Error::SaveSettings {
            path: "/read-only/settings.json".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(ErrorBody::from(&err).code, ErrorCode::Storage);
        assert!(
            err.to_string().contains("/read-only/settings.json"),
            "message names the file"
        );
    }
}
