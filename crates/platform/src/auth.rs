//! Sign-in, token rotation and request authentication.
//!
//! Passwords are hashed with Argon2id. Tokens are 256-bit random strings;
//! only their SHA-256 is stored, so a copy of the database does not let
//! anyone sign in. A refresh token works once: using it issues a new pair in
//! the same *family*, and presenting it again revokes the family (someone
//! holds a copy) — except within a short grace period after its first use,
//! when it is a workstation retrying a refresh whose answer a dropped link
//! swallowed; the retry's pair then replaces the lost one, so a family is
//! always one chain. Access tokens are short-lived and die with their
//! family, and no token outlives its family's absolute expiry (fixed at
//! sign-in). Sign-out, `agent disable`, `agent reset-password` and a reused
//! refresh token revoke families; `sessions` ends their event streams.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use homedesk_protocol::{
    AgentProfile, EntityKind, ErrorCode, Record, Refresh, Session, SignIn, UnixMillis,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::storage::{AccessTokenRow, FamilyRow, RefreshTokenRow, Tx};
use axum::http::StatusCode;

/// The password of the demo agents. It only works on a platform started
/// with `--demo`, and `agent add` refuses it for real agents.
pub const DEMO_PASSWORD: &str = "homedesk-demo";

#[derive(Debug, Clone, Copy)]
pub struct AuthConfig {
    pub access_ttl_ms: i64,
    pub refresh_ttl_ms: i64,
    /// A refresh token presented again this soon after its first use is
    /// treated as a retry (the answer was lost on a flaky link), not theft.
    pub refresh_grace_ms: i64,
    /// Started with `--demo`: the demo password is accepted.
    pub demo: bool,
}

/// An authenticated agent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub agent: String,
    pub family: String,
}

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// What the database stores instead of a token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// Checks a password; an unknown agent still costs one hash, so timing does
/// not tell which agent codes exist.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match stored {
        Some(hash) => hash,
        None => DUMMY.get_or_init(|| hash_password("no such agent").unwrap_or_default()),
    };
    let matches = PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    });
    matches && stored.is_some()
}

fn wrong_credentials() -> ApiError {
    ApiError::unauthorized("wrong agent code or password")
}

/// Checks the request before any hashing: field sizes (in characters, as
/// `docs/openapi.yaml` states them), demo password.
pub fn check_sign_in(config: &AuthConfig, req: &SignIn) -> Result<(), ApiError> {
    if req.agent.trim().is_empty() || req.agent.chars().count() > 64 {
        return Err(ApiError::invalid(
            "agent: give the agent code, e.g. a1001 (at most 64 characters)",
        ));
    }
    if req.device_id.trim().is_empty() || req.device_id.chars().count() > 128 {
        return Err(ApiError::invalid(
            "device_id: give a stable id of this workstation (1 to 128 characters)",
        ));
    }
    if req.password.chars().count() > 1024 {
        return Err(ApiError::invalid("password: longer than 1024 characters"));
    }
    if req.password == DEMO_PASSWORD && !config.demo {
        return Err(ApiError::unauthorized(
            "the demo password only works on a platform started with --demo",
        ));
    }
    Ok(())
}

fn profile(tx: &mut dyn Tx, agent: &str) -> anyhow::Result<Option<AgentProfile>> {
    Ok(match tx.get(EntityKind::AgentProfile, agent)? {
        Some(Record::AgentProfile(p)) => Some(p),
        _ => None,
    })
}

/// The token hashes of a pair just issued.
struct Issued {
    session: Session,
    refresh_hash: String,
    access_hash: String,
}

/// Issues a fresh access + refresh pair in `family`; neither outlives it.
fn issue(
    tx: &mut dyn Tx,
    config: &AuthConfig,
    agent: AgentProfile,
    family: &FamilyRow,
    now: UnixMillis,
) -> anyhow::Result<Issued> {
    // 128 bits: an access token lives 15 minutes (`access_ttl`) and is
    // checked by its hash; HTTP/2 sends `authorization` in full with every
    // request (HPACK never indexes it), so each byte is paid per request
    // on a village link (decision 0048). The refresh token, sent once per
    // access token, keeps 256.
    let access_token = random_token(16);
    let refresh_token = random_token(32);
    let access_expires_at = (now + config.access_ttl_ms).min(family.expires_at);
    let refresh_expires_at = (now + config.refresh_ttl_ms).min(family.expires_at);
    let access_hash = token_hash(&access_token);
    let refresh_hash = token_hash(&refresh_token);
    tx.insert_access_token(
        &access_hash,
        &AccessTokenRow {
            family: family.family.clone(),
            agent: agent.code.clone(),
            expires_at: access_expires_at,
        },
    )?;
    tx.insert_refresh_token(
        &refresh_hash,
        &RefreshTokenRow {
            family: family.family.clone(),
            agent: agent.code.clone(),
            device_id: family.device_id.clone(),
            expires_at: refresh_expires_at,
            used_at: None,
        },
    )?;
    Ok(Issued {
        session: Session {
            access_token,
            access_expires_at,
            refresh_token,
            refresh_expires_at,
            agent,
            server_time: now,
            device_secret: None,
        },
        refresh_hash,
        access_hash,
    })
}

/// Second half of a sign-in, after the password was verified: a new family,
/// which ends `refresh_ttl_ms` from now however often it is refreshed, and
/// this device's secret. A disabled agent (perhaps disabled while the
/// password was being checked) gets the wrong-password answer.
pub fn open_session(
    tx: &mut dyn Tx,
    config: &AuthConfig,
    req: &SignIn,
    now: UnixMillis,
) -> anyhow::Result<Result<Session, ApiError>> {
    let Some(agent) = profile(tx, &req.agent)? else {
        return Ok(Err(wrong_credentials()));
    };
    if tx.agent_disabled(&agent.code)? {
        return Ok(Err(wrong_credentials()));
    }
    let family = FamilyRow {
        family: random_token(16),
        agent: agent.code.clone(),
        device_id: req.device_id.clone(),
        created_at: now,
        expires_at: now + config.refresh_ttl_ms,
    };
    tx.insert_family(&family)?;
    let secret = tx.device_secret(&agent.code, &req.device_id, &random_token(32), now)?;
    let mut session = issue(tx, config, agent, &family, now)?.session;
    session.device_secret = Some(secret);
    Ok(Ok(session))
}

/// The password hash to verify a sign-in against (read outside the hashing):
/// `None` for an unknown or disabled agent, who then costs the same hash
/// and gets the same answer as a wrong password.
pub fn stored_hash(tx: &mut dyn Tx, agent: &str) -> anyhow::Result<StoredHash> {
    Ok(match tx.password_hash(agent)? {
        None => StoredHash::UnknownAgent,
        Some(_) if tx.agent_disabled(agent)? => StoredHash::Disabled,
        Some(hash) => StoredHash::Hash(hash),
    })
}

/// What a sign-in is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredHash {
    UnknownAgent,
    Disabled,
    Hash(String),
}

impl StoredHash {
    pub fn hash(&self) -> Option<&str> {
        match self {
            StoredHash::Hash(hash) => Some(hash),
            _ => None,
        }
    }
}

pub fn sign_in_failed() -> ApiError {
    wrong_credentials()
}

/// Rotates a refresh token. The outer `Result` is a storage failure (roll
/// back); the inner one is the answer — a reuse must *commit* the
/// revocation even though the caller gets an error.
pub fn rotate(
    tx: &mut dyn Tx,
    config: &AuthConfig,
    req: &Refresh,
    now: UnixMillis,
) -> anyhow::Result<Result<Session, ApiError>> {
    let hash = token_hash(&req.refresh_token);
    let Some(row) = tx.refresh_token(&hash)? else {
        return Ok(Err(ApiError::unauthorized(
            "unknown refresh token; sign in again",
        )));
    };
    if tx.family_revoked(&row.family)? {
        return Ok(Err(ApiError::unauthorized(
            "this sign-in was ended; sign in again",
        )));
    }
    let family = match tx.family(&row.family)? {
        Some(family) if family.expires_at > now => family,
        _ => {
            return Ok(Err(ApiError::unauthorized(
                "this sign-in reached its end (it lasts a fixed time from signing in); sign in again",
            )));
        }
    };
    let retry_in_grace = row
        .used_at
        .is_some_and(|used| now - used <= config.refresh_grace_ms);
    if row.used_at.is_some() && !retry_in_grace {
        tx.revoke_family(&row.family, now)?;
        tracing::warn!(agent = %row.agent, "refresh token reused; its sign-in is revoked");
        return Ok(Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TokenReused,
            "this refresh token was already used, so every token of this sign-in is revoked; sign in again",
        )));
    }
    if row.expires_at <= now {
        return Ok(Err(ApiError::unauthorized(
            "the refresh token expired; sign in again",
        )));
    }
    let Some(agent) = profile(tx, &row.agent)? else {
        return Ok(Err(ApiError::unauthorized("the agent no longer exists")));
    };
    if row.used_at.is_none() {
        tx.mark_refresh_used(&hash, now)?;
    } else if let Some((child_refresh, child_access)) = tx.refresh_child(&hash)? {
        // A retry: the first answer never arrived. Its pair is replaced, not
        // kept beside the new one, so the sign-in stays one chain of tokens.
        // If that answer did arrive and was used, this is a second holder.
        if tx
            .refresh_token(&child_refresh)?
            .is_some_and(|child| child.used_at.is_some())
        {
            tx.revoke_family(&row.family, now)?;
            tracing::warn!(agent = %row.agent, "a refresh token was retried after its answer was used; its sign-in is revoked");
            return Ok(Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::TokenReused,
                "this refresh token was already used, so every token of this sign-in is revoked; sign in again",
            )));
        }
        tx.delete_pair(&child_refresh, &child_access)?;
    }
    let issued = issue(tx, config, agent, &family, now)?;
    tx.set_refresh_child(&hash, &issued.refresh_hash, &issued.access_hash)?;
    Ok(Ok(issued.session))
}

/// Ends the sign-in `token` belongs to, whether it is an access or a
/// refresh token, expired or not; the family, if the token was known.
pub fn end_session(
    tx: &mut dyn Tx,
    token: &str,
    now: UnixMillis,
) -> anyhow::Result<Option<String>> {
    let hash = token_hash(token);
    let family = match tx.access_token(&hash)? {
        Some(row) => Some(row.family),
        None => tx.refresh_token(&hash)?.map(|row| row.family),
    };
    if let Some(family) = &family {
        tx.revoke_family(family, now)?;
    }
    Ok(family)
}

/// Who is calling, from `Authorization: Bearer <access token>`.
pub fn authenticate(
    tx: &mut dyn Tx,
    token: &str,
    now: UnixMillis,
) -> anyhow::Result<Result<Caller, ApiError>> {
    let Some(row) = tx.access_token(&token_hash(token))? else {
        return Ok(Err(ApiError::unauthorized(
            "unknown access token; sign in again",
        )));
    };
    if row.expires_at <= now {
        return Ok(Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TokenExpired,
            "the access token expired; refresh it",
        )));
    }
    if tx.family_revoked(&row.family)? {
        return Ok(Err(ApiError::unauthorized(
            "this sign-in was ended; sign in again",
        )));
    }
    Ok(Ok(Caller {
        agent: row.agent,
        family: row.family,
    }))
}
