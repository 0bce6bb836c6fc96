//! Administration on a platform data folder: adding agents and importing
//! knowledge, canned replies, scripts, scenarios and queues.
//!
//! A canned reply's image is stored as a photo before the reply, which then
//! names the platform's record of it ([`store_canned_images`]).
//!
//! Imports are upserts that skip unchanged records, so running one twice
//! (or restarting with `--demo`) does not flood every workstation with
//! changes. Everything is checked before anything is written: one bad file
//! means nothing is imported.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use homedesk_protocol::{
    AgentProfile, CannedReply, EntityKind, Presence, Record, Role, UnixMillis,
};

use crate::auth::{DEMO_PASSWORD, hash_password};
use crate::storage::{Storage, everyone};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} added, {} updated, {} unchanged",
            self.added, self.updated, self.unchanged
        )
    }
}

/// Same record apart from its `updated_at` stamp.
fn same_content(old: &Record, new: &Record) -> bool {
    match (old, new) {
        (Record::KbArticle(a), Record::KbArticle(b)) => {
            let mut b = b.clone();
            b.updated_at = a.updated_at;
            *a == b
        }
        _ => old == new,
    }
}

/// Upserts records everyone may see (knowledge, scripts, queues, …).
pub fn import_records(
    storage: &dyn Storage,
    records: Vec<Record>,
    now: UnixMillis,
) -> anyhow::Result<ImportReport> {
    storage.write_with(|tx| {
        let mut report = ImportReport::default();
        for record in records {
            match tx.get(record.kind(), record.id())? {
                Some(old) if same_content(&old, &record) => report.unchanged += 1,
                Some(_) => {
                    tx.put(&record, &everyone(), now)?;
                    report.updated += 1;
                }
                None => {
                    tx.put(&record, &everyone(), now)?;
                    report.added += 1;
                }
            }
        }
        Ok(report)
    })
}

/// Stores each canned reply's image (`images`: reply id → file) as a photo,
/// checked and re-encoded like any upload, and puts the platform's record of
/// it in the reply's `attachment` (workstations send it with the reply, no
/// upload needed). Every image is checked before any is stored: one bad
/// file means nothing is imported. Storing the same image again changes
/// nothing (photos are kept by content).
pub fn store_canned_images(
    storage: &dyn Storage,
    replies: &mut [CannedReply],
    images: &BTreeMap<String, PathBuf>,
    now: UnixMillis,
) -> anyhow::Result<()> {
    let mut prepared = Vec::new();
    for reply in replies.iter() {
        let Some(file) = images.get(&reply.id) else {
            continue;
        };
        let bytes = std::fs::read(file).with_context(|| {
            format!(
                "canned reply {:?}: cannot read {}",
                reply.id,
                file.display()
            )
        })?;
        let photo = crate::attachments::prepare(&bytes).map_err(|refused| {
            anyhow::anyhow!(
                "canned reply {:?}: the image {} is refused: {}",
                reply.id,
                file.display(),
                refused.message
            )
        })?;
        prepared.push((reply.id.clone(), photo));
    }
    let stored = storage.write_with(|tx| {
        prepared
            .iter()
            .map(|(id, photo)| {
                Ok((
                    id.clone(),
                    crate::attachments::store(tx, photo, now)?.attachment,
                ))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    for (id, attachment) in stored {
        if let Some(reply) = replies.iter_mut().find(|r| r.id == id) {
            reply.attachment = Some(attachment);
        }
    }
    Ok(())
}

/// A new or changed agent account.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub code: String,
    pub name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub skills: Vec<String>,
    pub max_chats: u32,
}

/// Checks an account before it is written; the message says what to fix.
pub fn check_agent(
    agent: &NewAgent,
    password: &str,
    allow_demo_password: bool,
) -> Result<(), String> {
    let code_ok = (2..=32).contains(&agent.code.len())
        && agent
            .code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !code_ok {
        return Err(format!(
            "agent code {:?}: use 2 to 32 lowercase letters, digits, - or _ (e.g. a1001)",
            agent.code
        ));
    }
    if agent.name.trim().is_empty() {
        return Err("name: must not be empty".into());
    }
    if agent.max_chats == 0 || agent.max_chats > 20 {
        return Err(format!("max chats {}: choose 1 to 20", agent.max_chats));
    }
    if password == DEMO_PASSWORD && !allow_demo_password {
        return Err(format!(
            "{DEMO_PASSWORD:?} is the public demo password; choose a real password for a real agent"
        ));
    }
    if password.chars().count() < 8 {
        return Err("password: at least 8 characters".into());
    }
    Ok(())
}

/// Creates or updates an agent and sets their password. Queues must exist.
pub fn add_agent(
    storage: &dyn Storage,
    agent: &NewAgent,
    password: &str,
    allow_demo_password: bool,
    now: UnixMillis,
) -> anyhow::Result<()> {
    check_agent(agent, password, allow_demo_password).map_err(anyhow::Error::msg)?;
    let hash = hash_password(password)?;
    storage.write_with(|tx| {
        for queue in &agent.queues {
            if tx.get(EntityKind::Queue, queue)?.is_none() {
                anyhow::bail!(
                    "queue {queue:?} does not exist; add it first with \
                     `homedesk-platform queue add {queue} --name-zh … --name-en …`"
                );
            }
        }
        let (presence, presence_reason) = match tx.get(EntityKind::AgentProfile, &agent.code)? {
            Some(Record::AgentProfile(p)) => (p.presence, p.presence_reason),
            _ => (Presence::Offline, None),
        };
        let profile = AgentProfile {
            code: agent.code.clone(),
            name: agent.name.clone(),
            role: agent.role,
            queues: agent.queues.clone(),
            skills: agent.skills.clone(),
            max_chats: agent.max_chats,
            presence,
            presence_reason,
        };
        let record = Record::AgentProfile(profile);
        if tx.get(EntityKind::AgentProfile, &agent.code)?.as_ref() != Some(&record) {
            tx.put(&record, &everyone(), now)?;
        }
        tx.set_password_hash(&agent.code, &hash)?;
        Ok(())
    })
}

/// What `agent disable`, `agent enable` and `agent reset-password` do besides
/// their own change: every sign-in of the agent ends (its tokens stop
/// working at once; a running platform closes its event streams within a
/// second, `Platform::run_session_watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange<'a> {
    Disable,
    Enable,
    ResetPassword(&'a str),
}

/// Applies `change` to agent `code` and ends all their sign-ins; returns how
/// many sign-ins were ended. An unknown agent is an error and changes nothing.
pub fn change_account(
    storage: &dyn Storage,
    code: &str,
    change: AccountChange<'_>,
    now: UnixMillis,
) -> anyhow::Result<usize> {
    let hash = match change {
        AccountChange::ResetPassword(password) => {
            if password == DEMO_PASSWORD {
                anyhow::bail!(
                    "{DEMO_PASSWORD:?} is the public demo password; choose a real password"
                );
            }
            if password.chars().count() < 8 {
                anyhow::bail!("password: at least 8 characters");
            }
            Some(hash_password(password)?)
        }
        _ => None,
    };
    storage.write_with(|tx| {
        if tx.password_hash(code)?.is_none() {
            anyhow::bail!(
                "no agent {code:?} on this platform (add one with `homedesk-platform agent add`)"
            );
        }
        match change {
            AccountChange::Disable => {
                tx.set_agent_disabled(code, Some(now))?;
            }
            AccountChange::Enable => {
                tx.set_agent_disabled(code, None)?;
            }
            AccountChange::ResetPassword(_) => {
                if let Some(hash) = &hash {
                    tx.set_password_hash(code, hash)?;
                }
                // The new password is not what was guessed at: the code's
                // wait or lockout ends.
                crate::sign_in_limits::forget_agent(tx, code)?;
            }
        }
        Ok(tx.revoke_agent_families(code, now)?.len())
    })
}
