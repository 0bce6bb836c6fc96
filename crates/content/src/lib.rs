//! Loading and validating Homedesk's content files: knowledge-base articles,
//! canned replies, call scripts, practice scenarios and the demo world.
//!
//! Shared by the platform (`kb import`, `content import`, `--demo`) and the
//! workstation (`homedesk-cli kb import`), so both accept the same files and
//! report the same problems with the same words.
//!
//! This crate owns the on-disk formats and their translation into protocol
//! types. Invariant: a loader returns either a complete, consistent set (unique
//! ids, supported locales, no empty required text, every placeholder declared
//! and used, every script step reachable and every branch target existing,
//! every queue an agent or traffic names defined, every scenario's turns
//! connected and its references to intents, articles, script steps, wrap-up
//! codes and rubric items resolved) or every problem it found,
//! each naming its file and, where it can, the line. Nothing half-valid ever
//! reaches the platform, and an author fixes all mistakes in one pass.
//!
//! One module per format, each saying in its first lines what it owns:
//! `kb` (Markdown and JSON-lines articles), `canned_replies`, `scripts`,
//! `world` (the demo world), [`scenario`] (the practice formats' types) and
//! `practice` (loading and checking `scenarios/`: scenario files, packs and
//! play-throughs). `toml_doc` parses TOML and finds lines with the parser's
//! spans; `validate` holds the checks every format shares. This file keeps
//! the error type, the content folder as a whole, reading files and walking
//! folders.

mod canned_replies;
mod kb;
mod practice;
pub mod scenario;
mod scripts;
mod toml_doc;
mod validate;
mod world;

#[cfg(test)]
mod test_support;

pub use kb::load_kb;
pub use practice::{
    ANSWERS_FOLDER, PACKS_FOLDER, ScenarioSet, check_scenarios, load_scenarios_dir,
};
pub use world::{TrafficTemplate, World, WorldAgent, WorldCustomer, load_world};

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use homedesk_protocol::{CannedReply, KbArticle, Scenario, Script, UnixMillis};

/// The locales content may be written in.
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

/// The folders of a content directory, in the order they are loaded.
pub const KB_FOLDER: &str = "kb";
pub const CANNED_REPLIES_FOLDER: &str = "canned-replies";
pub const SCRIPTS_FOLDER: &str = "scripts";
pub const SCENARIOS_FOLDER: &str = "scenarios";

/// One problem in one file. Display: `path:line: message` (or `path: message`
/// without a line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub file: PathBuf,
    /// 1-based line in `file`, when the problem can be pinned to one.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ContentError {}

/// Everything a content directory holds.
#[derive(Debug, Clone, Default)]
pub struct ContentSet {
    pub kb: Vec<KbArticle>,
    pub canned_replies: Vec<CannedReply>,
    /// The image file of each canned reply that has one, by reply id; the
    /// platform stores it as a photo at import and puts its record in the
    /// reply's `attachment`.
    pub canned_images: BTreeMap<String, PathBuf>,
    pub scripts: Vec<Script>,
    /// Practice scenarios as the platform stores and syncs them (the file
    /// text travels in `source`).
    pub scenarios: Vec<Scenario>,
    /// The same scenarios, parsed and checked; same order as `scenarios`.
    pub scenario_docs: Vec<scenario::ScenarioDoc>,
    /// Practice shifts and exams (`scenarios/packs/*.toml`).
    pub packs: Vec<scenario::Pack>,
    /// Scripted play-throughs (`scenarios/answers/<scenario-id>.toml`), by
    /// scenario id.
    pub plays: BTreeMap<String, scenario::PlayFile>,
}

/// A content directory with any of `kb/`, `canned-replies/`, `scripts/`,
/// `scenarios/` (each optional, but at least one must exist).
pub fn load_content_dir(dir: &Path, now: UnixMillis) -> Result<ContentSet, Vec<ContentError>> {
    let mut problems = Problems::default();
    let mut set = ContentSet::default();
    if !dir.is_dir() {
        problems.add(dir, None, "not a directory");
        return problems.into_result(set);
    }
    let folders = [
        KB_FOLDER,
        CANNED_REPLIES_FOLDER,
        SCRIPTS_FOLDER,
        SCENARIOS_FOLDER,
    ];
    if !folders.iter().any(|folder| dir.join(folder).is_dir()) {
        problems.add(
            dir,
            None,
            "no content found: expected at least one of the folders kb/, canned-replies/, scripts/, scenarios/",
        );
        return problems.into_result(set);
    }

    let kb_dir = dir.join(KB_FOLDER);
    if kb_dir.is_dir() {
        let mut ids = validate::IdRegistry::new("article");
        set.kb = kb::read_markdown_kb(&kb_dir, now, &mut ids, &mut problems);
    }
    let replies_dir = dir.join(CANNED_REPLIES_FOLDER);
    if replies_dir.is_dir() {
        (set.canned_replies, set.canned_images) =
            canned_replies::read_canned_replies(&replies_dir, &mut problems);
    }
    let scripts_dir = dir.join(SCRIPTS_FOLDER);
    if scripts_dir.is_dir() {
        set.scripts = scripts::read_scripts(&scripts_dir, &mut problems);
    }
    let scenarios_dir = dir.join(SCENARIOS_FOLDER);
    if scenarios_dir.is_dir() {
        // Scenarios refer to articles and scripts; check those references
        // against the folders that are here.
        let references = practice::References::new(
            kb_dir.is_dir().then_some(set.kb.as_slice()),
            scripts_dir.is_dir().then_some(set.scripts.as_slice()),
        );
        let practice = practice::read_scenario_folder(&scenarios_dir, &references, &mut problems);
        set.scenarios = practice.records;
        set.scenario_docs = practice.docs;
        set.packs = practice.packs;
        set.plays = practice.plays;
    }
    problems.into_result(set)
}

// ---------------------------------------------------------------------------
// Shared machinery: collecting problems, reading files, walking folders.

/// Every problem found so far. Loaders keep going after a problem so the
/// author sees all of them at once.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<ContentError>);

impl Problems {
    pub(crate) fn add(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.0.push(ContentError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_result<T>(self, value: T) -> Result<T, Vec<ContentError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// Reads a file as UTF-8 text, dropping a byte-order mark some editors write.
pub(crate) fn read_text(path: &Path, problems: &mut Problems) -> Option<String> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            problems.add(path, None, format!("cannot read the file: {err}"));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => match text.strip_prefix('\u{feff}') {
            Some(without_bom) => Some(without_bom.to_owned()),
            None => Some(text),
        },
        Err(err) => {
            let valid_prefix = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let line = 1 + valid_prefix.iter().filter(|&&b| b == b'\n').count();
            problems.add(
                path,
                Some(line),
                "the file is not valid UTF-8 text; save it with UTF-8 encoding",
            );
            None
        }
    }
}

/// Files in `dir` (and, when `recursive`, in its subfolders) whose name ends
/// in `.extension`, sorted by path so results do not depend on the order the
/// file system lists them in. Hidden files are skipped: editors and macOS
/// leave lock and metadata files (`.#a.md`, `._a.md`) next to real content.
pub(crate) fn files_with_extension(
    dir: &Path,
    extension: &str,
    recursive: bool,
    problems: &mut Problems,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = match fs::read_dir(&current) {
            Ok(entries) => entries,
            Err(err) => {
                problems.add(&current, None, format!("cannot list the folder: {err}"));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    problems.add(&current, None, format!("cannot list the folder: {err}"));
                    continue;
                }
            };
            let path = entry.path();
            let hidden = path
                .file_name()
                .and_then(OsStr::to_str)
                .is_some_and(|name| name.starts_with('.'));
            if hidden {
                continue;
            }
            // `file_type` does not follow symbolic links, so a link back to a
            // parent folder cannot make the walk loop forever.
            let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
            if is_dir {
                if recursive {
                    pending.push(path);
                }
            } else if path.extension() == Some(OsStr::new(extension)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{
        ARTICLE_EN, ARTICLE_ZH, NOW, REPLIES_ZH, SCRIPT, assert_single_error, write,
    };
    use tempfile::TempDir;

    #[test]
    fn content_dir_loads_every_folder_and_needs_one() {
        let dir = TempDir::new().expect("temp dir");
        let errors = load_content_dir(dir.path(), NOW).expect_err("empty dir");
        assert_single_error(
            &errors,
            "",
            None,
            &["kb/", "canned-replies/", "scripts/", "scenarios/"],
        );

        write(dir.path(), "kb/en/refund.md", ARTICLE_EN);
        write(dir.path(), "kb/zh-CN/refund.md", ARTICLE_ZH);
        write(dir.path(), "canned-replies/zh-CN.toml", REPLIES_ZH);
        write(dir.path(), "scripts/verify.toml", SCRIPT);
        crate::practice::tests::write_practice(dir.path());
        let set = load_content_dir(dir.path(), NOW).expect("valid content");
        assert_eq!(set.kb.len(), 2);
        assert_eq!(set.canned_replies.len(), 2);
        assert_eq!(set.scripts.len(), 1);
        assert_eq!(set.scenarios.len(), 1);
        assert_eq!(set.scenario_docs.len(), 1);
        assert_eq!(set.packs.len(), 1);
        assert_eq!(set.plays.len(), 1);
    }

    /// The shipped content must always import: the demo and the tests rely
    /// on it.
    #[test]
    fn shipped_content_is_valid() {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../content"));
        let set = load_content_dir(root, NOW).unwrap_or_else(|errors| {
            let report: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("content/ does not validate:\n{}", report.join("\n"))
        });
        assert!(set.kb.len() >= 60, "only {} KB articles", set.kb.len());
        assert!(
            set.canned_replies.len() >= 25,
            "only {} canned replies",
            set.canned_replies.len()
        );
        assert!(set.scripts.len() >= 6, "only {} scripts", set.scripts.len());
        let in_locale = |locale: &str| {
            set.scenario_docs
                .iter()
                .filter(|doc| doc.locale == locale)
                .count()
        };
        assert!(
            in_locale("zh-CN") >= 12,
            "only {} zh-CN scenarios",
            in_locale("zh-CN")
        );
        assert!(
            in_locale("en") >= 6,
            "only {} en scenarios",
            in_locale("en")
        );
        assert!(
            set.packs.iter().any(|pack| pack.exam),
            "an exam pack is shipped"
        );

        let world = load_world(&root.join("demo/world.toml")).unwrap_or_else(|errors| {
            let report: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("demo/world.toml does not validate:\n{}", report.join("\n"))
        });
        for code in ["a1001", "a1002", "a1003", "a1004", "a1005", "t2001"] {
            assert!(
                world.agents.iter().any(|agent| agent.code == code),
                "demo world lacks agent {code}"
            );
        }
    }
}
