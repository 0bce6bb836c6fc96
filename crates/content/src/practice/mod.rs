//! Practice content (`scenarios/`): scenario files, packs
//! (`scenarios/packs/*.toml`) and scripted play-throughs
//! (`scenarios/answers/<scenario-id>.toml`), loaded into the public types of
//! [`crate::scenario`] and checked against each other and against the
//! knowledge base and call scripts they refer to.
//!
//! Each file is parsed once, by the `toml` parser, into the public type
//! (exactly as the app and the simulator parse a scenario's `source`, so what
//! passes here also parses there) and into the parser's span tree; every
//! problem found afterwards takes its line from that tree
//! ([`crate::toml_doc::Place`]). There is no second, span-carrying copy of
//! the formats.
//!
//! This file owns the folder and the entry points; `scenario_file`, `packs`
//! and `plays` check one kind of file each; `references` checks what they
//! refer to (intents, articles, script steps, wrap-up codes).

mod packs;
mod plays;
mod references;
mod scenario_file;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::path::Path;

use homedesk_protocol::{KbArticle, Scenario, Script, UnixMillis};

pub(crate) use references::References;

use crate::scenario::{Pack, PlayFile, ScenarioDoc};
use crate::validate::IdRegistry;
use crate::{
    ContentError, KB_FOLDER, Problems, SCENARIOS_FOLDER, SCRIPTS_FOLDER, files_with_extension, kb,
    scripts,
};

/// Sub-folder of `scenarios/` holding packs (practice shifts and exams).
pub const PACKS_FOLDER: &str = "packs";
/// Sub-folder of `scenarios/` holding scripted play-throughs.
pub const ANSWERS_FOLDER: &str = "answers";

/// The practice content of one `scenarios/` folder, parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct ScenarioSet {
    /// One record per scenario file, as the platform stores and syncs it
    /// (`source` is the file's text). Same order as `docs`.
    pub records: Vec<Scenario>,
    /// The scenarios, parsed; in file-name order.
    pub docs: Vec<ScenarioDoc>,
    /// Practice shifts and exams, in file-name order.
    pub packs: Vec<Pack>,
    /// Play-through files, by the id of the scenario they play.
    pub plays: BTreeMap<String, PlayFile>,
}

/// Loads and checks a `scenarios/` folder: its scenario files, `packs/` and
/// `answers/`. References to knowledge articles (`article`,
/// `helpful_article`) are checked against `kb` and references to call
/// scripts (`script_step`) against `scripts` when given; with `None`, only
/// their form is checked. A folder without any scenario file is a problem.
pub fn load_scenarios_dir(
    dir: &Path,
    kb: Option<&[KbArticle]>,
    scripts: Option<&[Script]>,
) -> Result<ScenarioSet, Vec<ContentError>> {
    let mut problems = Problems::default();
    if !dir.is_dir() {
        problems.add(dir, None, "not a folder of scenario files");
        return problems.into_result(ScenarioSet::default());
    }
    let references = References::new(kb, scripts);
    let set = read_scenario_folder(dir, &references, &mut problems);
    if set.records.is_empty() && problems.is_empty() {
        problems.add(
            dir,
            None,
            "no scenario files found here: scenarios are the .toml files directly in this folder",
        );
    }
    problems.into_result(set)
}

/// What `homedesk-cli scenario check DIR` checks. `dir` is a content folder
/// (holding `scenarios/`) or a `scenarios/` folder itself. The knowledge base
/// (`kb/`) and call scripts (`scripts/`) of the content folder are loaded
/// too, so references to them are checked; their own problems are reported
/// with the scenarios' (they would stop `content import` just the same).
pub fn check_scenarios(dir: &Path, now: UnixMillis) -> Result<ScenarioSet, Vec<ContentError>> {
    let mut problems = Problems::default();
    if !dir.is_dir() {
        let message = if dir.exists() {
            "not a folder: give a content folder or its scenarios/ folder"
        } else {
            "no such folder"
        };
        problems.add(dir, None, message);
        return problems.into_result(ScenarioSet::default());
    }
    let (root, scenarios_dir) = if dir.join(SCENARIOS_FOLDER).is_dir() {
        (Some(dir), dir.join(SCENARIOS_FOLDER))
    } else if dir.file_name() == Some(OsStr::new(SCENARIOS_FOLDER)) {
        (dir.parent(), dir.to_path_buf())
    } else {
        (None, dir.to_path_buf())
    };

    let mut kb = None;
    let mut scripts = None;
    if let Some(root) = root {
        let kb_dir = root.join(KB_FOLDER);
        if kb_dir.is_dir() {
            let mut ids = IdRegistry::new("article");
            kb = Some(kb::read_markdown_kb(&kb_dir, now, &mut ids, &mut problems));
        }
        let scripts_dir = root.join(SCRIPTS_FOLDER);
        if scripts_dir.is_dir() {
            scripts = Some(scripts::read_scripts(&scripts_dir, &mut problems));
        }
    }
    let references = References::new(kb.as_deref(), scripts.as_deref());
    let set = read_scenario_folder(&scenarios_dir, &references, &mut problems);
    if set.records.is_empty() && problems.is_empty() {
        problems.add(
            &scenarios_dir,
            None,
            "no scenario files found: give a content folder with a scenarios/ folder, or a \
             folder of scenario .toml files",
        );
    }
    problems.into_result(set)
}

/// Reads everything in a `scenarios/` folder, adding every problem found.
/// Problems of one file are reported in line order.
pub(crate) fn read_scenario_folder(
    dir: &Path,
    references: &References<'_>,
    problems: &mut Problems,
) -> ScenarioSet {
    let mut set = ScenarioSet::default();
    // Scenario files that exist but could not be parsed, by file stem: a
    // pack or play-through naming one gets no second, misleading problem.
    let mut unparsed: HashSet<String> = HashSet::new();
    let mut ids = IdRegistry::new("scenario");
    for path in files_with_extension(dir, "toml", false, problems) {
        let mut local = Problems::default();
        match scenario_file::read_scenario_file(&path, references, &mut ids, &mut local) {
            Some((record, doc)) => {
                set.records.push(record);
                set.docs.push(doc);
            }
            None => {
                unparsed.insert(file_stem(&path));
            }
        }
        append_in_line_order(problems, local);
    }

    let scenarios: HashMap<&str, &ScenarioDoc> =
        set.docs.iter().map(|doc| (doc.id.as_str(), doc)).collect();
    let known = KnownScenarios {
        parsed: &scenarios,
        unparsed: &unparsed,
    };

    let packs_dir = dir.join(PACKS_FOLDER);
    let mut packs = Vec::new();
    if packs_dir.is_dir() {
        let mut pack_ids = IdRegistry::new("pack");
        for path in files_with_extension(&packs_dir, "toml", false, problems) {
            let mut local = Problems::default();
            if let Some(pack) = packs::read_pack_file(&path, &known, &mut pack_ids, &mut local) {
                packs.push(pack);
            }
            append_in_line_order(problems, local);
        }
    }

    let answers_dir = dir.join(ANSWERS_FOLDER);
    let mut plays = BTreeMap::new();
    if answers_dir.is_dir() {
        for path in files_with_extension(&answers_dir, "toml", false, problems) {
            let mut local = Problems::default();
            if let Some(file) = plays::read_play_file(&path, &known, references, &mut local) {
                plays.insert(file_stem(&path), file);
            }
            append_in_line_order(problems, local);
        }
    }
    set.packs = packs;
    set.plays = plays;
    set
}

struct KnownScenarios<'a> {
    parsed: &'a HashMap<&'a str, &'a ScenarioDoc>,
    unparsed: &'a HashSet<String>,
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .and_then(OsStr::to_str)
        .unwrap_or_default()
        .to_owned()
}

/// Moves one file's problems into `problems`, sorted by line (problems of
/// the whole file last), so an author can fix them top to bottom.
fn append_in_line_order(problems: &mut Problems, mut local: Problems) {
    local
        .0
        .sort_by_key(|error| error.line.unwrap_or(usize::MAX));
    problems.0.extend(local.0);
}

/// `"a", "b", "c"`, each item once, in order of first appearance.
fn quoted_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(*item))
        .map(|item| format!("\"{item}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The language part of a locale tag, as ids use it: `zh-CN` → `zh`.
fn language_of(locale: &str) -> &str {
    locale.split('-').next().unwrap_or(locale)
}

/// A scenario's or a pack's pass mark: a percentage of the points.
fn check_pass_mark(
    path: &Path,
    context: &str,
    value: u8,
    line: Option<usize>,
    problems: &mut Problems,
) {
    if !(1..=100).contains(&value) {
        problems.add(
            path,
            line,
            format!(
                "{context}: pass_mark = {value} must be 1 to 100 (the percentage of the points \
                 needed to pass)"
            ),
        );
    }
}
