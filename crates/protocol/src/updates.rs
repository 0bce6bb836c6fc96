//! The update manifest: what `GET /v1/updates/{target}/{arch}/{current_version}`
//! answers when the platform holds a newer desktop package.
//!
//! Its shape is the "static" manifest of the official Tauri updater
//! (`tauri-plugin-updater` 2.x reads `version`, `notes`, `pub_date` and
//! `platforms`, and ignores what else is there), plus `notes_by_language`,
//! which the workstation reads so it shows what is new in the interface
//! language. Keys of `platforms` are the updater's `{os}-{arch}-{bundle}`
//! targets, e.g. `linux-x86_64-deb`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The languages release notes are kept in, as `notes_by_language` keys.
pub const NOTES_LANGUAGES: [&str; 2] = ["zh-CN", "en"];

/// A newer release for the asking workstation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateManifest {
    /// Semantic version of the release (no leading `v`).
    pub version: String,
    /// What is new: the Chinese notes, or the English ones when there are
    /// no Chinese ones; absent when the release has no notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// When it was published, RFC 3339 in UTC (`2026-12-03T10:37:05Z`).
    pub pub_date: String,
    /// The package for the asking target, under its updater key.
    pub platforms: BTreeMap<String, UpdatePackage>,
    /// The notes in each language they were published in (`zh-CN`, `en`).
    #[serde(default)]
    pub notes_by_language: BTreeMap<String, String>,
}

/// Where one package is downloaded from and its minisign signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePackage {
    /// Absolute `https` URL of `GET /v1/updates/packages/{id}`.
    pub url: String,
    /// Base64 of the minisign signature text (what `tauri signer sign`
    /// writes into the `.sig` file).
    pub signature: String,
}
