//! Sign-in and token rotation.
//!
//! An access token is short-lived and sent as `Authorization: Bearer`.
//! A refresh token is used once: refreshing returns a new pair, and
//! presenting an already-used refresh token revokes its whole family (it
//! was stolen, or a copy leaked), so every device of that sign-in must sign
//! in again. The platform allows a short grace period after the first use,
//! so a workstation that lost the answer on a dropped link can retry.

use serde::{Deserialize, Serialize};

use crate::entities::{AgentProfile, UnixMillis};

/// `POST /v1/sessions` body.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Agent code, e.g. `a1001`.
    pub agent: String,
    pub password: String,
    /// Stable id of this workstation install.
    pub device_id: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("agent", &self.agent)
            .field("password", &"<redacted>")
            .field("device_id", &self.device_id)
            .finish()
    }
}

/// `POST /v1/sessions/refresh` body.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    pub refresh_token: String,
}

impl std::fmt::Debug for Refresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refresh { refresh_token: <redacted> }")
    }
}

/// Answer to a sign-in or a refresh.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub access_token: String,
    pub access_expires_at: UnixMillis,
    pub refresh_token: String,
    pub refresh_expires_at: UnixMillis,
    pub agent: AgentProfile,
    /// The platform's clock, so the workstation can compute SLA countdowns
    /// against it rather than against a PC clock that may be wrong.
    pub server_time: UnixMillis,
    /// 256-bit secret (base64url, no padding) the platform keeps for this agent
    /// on this device (SignIn.device_id); the workstation wraps its store key with
    /// it too, so a reset password still opens the store after an online sign-in.
    /// Sent on sign-in only, `None` on refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_secret: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}
