//! Desktop releases the platform serves to its workstations' updater
//! (decision 0027): `release publish` stores a signed package, and
//! `GET /v1/updates/{target}/{arch}/{current_version}` answers the Tauri
//! updater's manifest for the newest one, so fifty PCs update from their
//! county's platform instead of the internet.
//!
//! Invariants: a stored release is a `.deb` or `.rpm` for its target, with a
//! well-formed minisign signature (checked against the release key when one
//! is given, and naming the same version when it names one); its version is
//! newer than every other release of its target; and its bytes are stored in
//! one transaction and checked against their SHA-256 before each download.
//! A refused publish stores nothing.

pub mod cli;
pub mod package;
pub mod routes;
pub mod signature;

use std::collections::BTreeMap;

use homedesk_protocol::{UnixMillis, UpdateManifest, UpdatePackage};
use semver::Version;
use sha2::{Digest, Sha256};

use crate::storage::{ReleaseRow, Storage};
pub use package::{ARCHES, Bundle};

/// Largest package `release publish` takes (the desktop .deb is under 10 MB).
pub const MAX_PACKAGE_BYTES: u64 = 200 * 1024 * 1024;
/// Longest release notes, per language, in bytes of UTF-8.
pub const MAX_NOTES_BYTES: usize = 16 * 1024;

/// An updater target: `{os}-{arch}-{bundle}`, e.g. `linux-x86_64-deb`, the
/// key the updater looks for in the manifest's `platforms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub arch: &'static str,
    pub bundle: Bundle,
}

impl Target {
    /// The only operating system whose packages the platform serves.
    pub const OS: &'static str = "linux";

    pub fn key(&self) -> String {
        format!("{}-{}-{}", Self::OS, self.arch, self.bundle.as_str())
    }

    pub fn parse(text: &str) -> Result<Target, String> {
        let bad = || {
            format!(
                "--target {text:?}: write linux-ARCH-deb or linux-ARCH-rpm, ARCH one of {}",
                ARCHES.join(", ")
            )
        };
        let rest = text.strip_prefix("linux-").ok_or_else(bad)?;
        let (arch, bundle) = rest.rsplit_once('-').ok_or_else(bad)?;
        let arch = ARCHES.iter().find(|a| **a == arch).ok_or_else(bad)?;
        let bundle = Bundle::parse(bundle).ok_or_else(bad)?;
        Ok(Target { arch, bundle })
    }
}

/// Release notes in the languages they were written in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    pub zh: Option<String>,
    pub en: Option<String>,
}

/// Reads a notes file: TOML with `zh-CN = """…"""` and/or `en = """…"""`,
/// or any other text, which then is the notes of both languages.
pub fn parse_notes(text: &str) -> Result<Notes, String> {
    if text.trim().is_empty() {
        return Err(
            "the notes file is empty; leave out --notes for a release without notes".into(),
        );
    }
    let notes = match toml::from_str::<toml::Table>(text) {
        Ok(table) if !table.is_empty() => {
            let mut notes = Notes::default();
            for (key, value) in table {
                let Some(value) = value.as_str() else {
                    return Err(format!(
                        "the notes file is TOML, but {key} is not text; write zh-CN = \"\"\"…\"\"\" and en = \"\"\"…\"\"\""
                    ));
                };
                let value = value.trim().to_owned();
                match key.as_str() {
                    "zh-CN" => notes.zh = Some(value),
                    "en" => notes.en = Some(value),
                    other => {
                        return Err(format!(
                            "the notes file is TOML, but {other:?} is not a language it takes (zh-CN, en)"
                        ));
                    }
                }
            }
            notes
        }
        _ => Notes {
            zh: Some(text.trim().to_owned()),
            en: Some(text.trim().to_owned()),
        },
    };
    for (language, text) in [("zh-CN", &notes.zh), ("en", &notes.en)] {
        match text {
            Some(text) if text.is_empty() => {
                return Err(format!("the notes file: the {language} notes are empty"));
            }
            Some(text) if text.len() > MAX_NOTES_BYTES => {
                return Err(format!(
                    "the notes file: the {language} notes are {} bytes; keep them under {MAX_NOTES_BYTES}",
                    text.len()
                ));
            }
            _ => {}
        }
    }
    Ok(notes)
}

/// A semantic version as `release publish --version` and the updater's
/// `{{current_version}}` give it (no leading `v`).
pub fn parse_version(text: &str) -> Result<Version, String> {
    Version::parse(text)
        .map_err(|e| format!("{text:?} is not a semantic version like 1.4.0 or 1.5.0-rc.1 ({e})"))
}

/// What `release publish` was given, read and parsed.
pub struct NewRelease {
    pub package: Vec<u8>,
    pub file_name: String,
    /// The `.sig` file's text.
    pub signature: String,
    pub version: String,
    pub notes: Notes,
    /// When not given, read from the package.
    pub target: Option<Target>,
    /// The release key's public half, to check the signature with.
    pub public_key: Option<minisign_verify::PublicKey>,
}

/// Checks a release and stores it; an error says what is wrong, and then
/// nothing was stored.
pub fn publish(
    storage: &dyn Storage,
    release: NewRelease,
    now: UnixMillis,
) -> anyhow::Result<ReleaseRow> {
    let refuse = |why: String| anyhow::anyhow!(why);
    let version = parse_version(&release.version).map_err(|e| refuse(format!("--version: {e}")))?;
    if release.package.is_empty() {
        anyhow::bail!("{} is empty", release.file_name);
    }
    if release.package.len() as u64 > MAX_PACKAGE_BYTES {
        anyhow::bail!(
            "{} is {} bytes; a release may be at most {MAX_PACKAGE_BYTES}",
            release.file_name,
            release.package.len()
        );
    }
    let found = package::inspect(&release.package, &release.file_name).map_err(refuse)?;
    let target = match release.target {
        Some(target) => {
            if target.bundle != found.bundle {
                anyhow::bail!(
                    "{} is a .{} package, but the target {} takes .{} packages",
                    release.file_name,
                    found.bundle.as_str(),
                    target.key(),
                    target.bundle.as_str()
                );
            }
            if let Some(arch) = found.arch
                && arch != target.arch
            {
                anyhow::bail!(
                    "{} is built for {arch}, but the target {} is {}",
                    release.file_name,
                    target.key(),
                    target.arch
                );
            }
            target
        }
        None => Target {
            arch: found.arch.ok_or_else(|| {
                refuse(format!(
                    "{} does not say which processor it is for; give --target, e.g. linux-x86_64-{}",
                    release.file_name,
                    found.bundle.as_str()
                ))
            })?,
            bundle: found.bundle,
        },
    };
    let signature = signature::parse_signature(&release.signature).map_err(refuse)?;
    if let Some(signed) = signature::signed_version(&signature.signature) {
        let same = Version::parse(signed.trim_start_matches('v')).is_ok_and(|v| v == version);
        if !same {
            anyhow::bail!(
                "the signature was made for version {signed}, not {version}; the updater would \
                 refuse the package (sign it again with --app-version {version})"
            );
        }
    }
    if let Some(key) = &release.public_key {
        signature::verify(key, &release.package, &signature.signature).map_err(refuse)?;
    }
    let id = hex(&Sha256::digest(&release.package));
    let row = ReleaseRow {
        id,
        target: target.key(),
        version: version.to_string(),
        file_name: release.file_name,
        size: release.package.len() as u64,
        signature: signature.updater_form,
        notes_zh: release.notes.zh,
        notes_en: release.notes.en,
        published_at: now,
    };
    storage.write_with(|tx| {
        if let Some(same) = tx.release(&row.id)? {
            anyhow::bail!(
                "this package is already published, as version {} for {}",
                same.version,
                same.target
            );
        }
        for other in tx.releases(Some(&row.target))? {
            let published = Version::parse(&other.version)?;
            if published.cmp_precedence(&version) != std::cmp::Ordering::Less {
                let what = if published.cmp_precedence(&version) == std::cmp::Ordering::Equal {
                    "is already published"
                } else {
                    "is older than one already published"
                };
                anyhow::bail!(
                    "version {version} {what} for {} ({}); publish a newer version",
                    row.target,
                    other.version
                );
            }
        }
        tx.insert_release(&row, &release.package)?;
        Ok(())
    })?;
    Ok(row)
}

/// The newest release of `target` when it is newer than `current`
/// (by semantic-version precedence: build metadata does not count).
pub fn newest_after(
    storage: &dyn Storage,
    target: &str,
    current: &Version,
) -> anyhow::Result<Option<ReleaseRow>> {
    let releases = storage.read_with(|tx| tx.releases(Some(target)))?;
    let mut newest: Option<(Version, ReleaseRow)> = None;
    for row in releases {
        let version = Version::parse(&row.version)?;
        if newest
            .as_ref()
            .is_none_or(|(best, _)| version.cmp_precedence(best).is_gt())
        {
            newest = Some((version, row));
        }
    }
    Ok(newest
        .filter(|(version, _)| version.cmp_precedence(current).is_gt())
        .map(|(_, row)| row))
}

/// The updater's manifest for `row`, its package at `package_url`.
pub fn manifest(row: &ReleaseRow, package_url: String) -> UpdateManifest {
    let mut notes_by_language = BTreeMap::new();
    if let Some(zh) = &row.notes_zh {
        notes_by_language.insert("zh-CN".to_owned(), zh.clone());
    }
    if let Some(en) = &row.notes_en {
        notes_by_language.insert("en".to_owned(), en.clone());
    }
    UpdateManifest {
        version: row.version.clone(),
        notes: row.notes_zh.clone().or_else(|| row.notes_en.clone()),
        pub_date: rfc3339(row.published_at),
        platforms: BTreeMap::from([(
            row.target.clone(),
            UpdatePackage {
                url: package_url,
                signature: row.signature.clone(),
            },
        )]),
        notes_by_language,
    }
}

/// `2026-12-03T10:37:05Z`: whole seconds, UTC.
pub fn rfc3339(ms: UnixMillis) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_updaters_keys() {
        let target = Target::parse("linux-x86_64-deb").expect("valid");
        assert_eq!(target.key(), "linux-x86_64-deb");
        assert_eq!(
            Target::parse("linux-aarch64-rpm").map(|t| t.key()),
            Ok("linux-aarch64-rpm".into())
        );
        for bad in [
            "linux-x86_64",
            "windows-x86_64-nsis",
            "linux-amd64-deb",
            "linux-x86_64-appimage",
            "",
        ] {
            assert!(
                Target::parse(bad).is_err(),
                "{bad} is no target the platform serves"
            );
        }
    }

    #[test]
    fn notes_are_toml_by_language_or_one_text_for_both() {
        let both = parse_notes("zh-CN = \"\"\"\n修复了消息重复\n\"\"\"\nen = \"\"\"\nFixed duplicate messages\n\"\"\"\n")
            .expect("TOML notes");
        assert_eq!(both.zh.as_deref(), Some("修复了消息重复"));
        assert_eq!(both.en.as_deref(), Some("Fixed duplicate messages"));
        let english = parse_notes("en = \"Faster search\"").expect("English only");
        assert_eq!(
            (english.zh, english.en.as_deref()),
            (None, Some("Faster search"))
        );
        let plain =
            parse_notes("修复了消息重复。\nFixed duplicate messages.\n").expect("plain text");
        assert_eq!(plain.zh, plain.en);
        assert_eq!(
            plain.zh.as_deref(),
            Some("修复了消息重复。\nFixed duplicate messages.")
        );
        assert!(
            parse_notes("zh_CN = \"typo\"").is_err(),
            "a misspelt language is refused"
        );
        assert!(parse_notes("en = 3").is_err(), "notes are text");
        assert!(parse_notes(" \n").is_err(), "an empty file is refused");
        assert!(
            parse_notes(&"x".repeat(MAX_NOTES_BYTES + 1)).is_err(),
            "too long"
        );
    }

    #[test]
    fn pub_date_is_rfc3339_in_whole_seconds() {
        assert_eq!(rfc3339(1_796_304_736_789), "2026-12-03T13:32:16Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
