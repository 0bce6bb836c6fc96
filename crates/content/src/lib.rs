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

pub mod scenario;
mod scenario_check;

pub use scenario_check::{
    ANSWERS_FOLDER, PACKS_FOLDER, ScenarioSet, check_scenarios, load_scenarios_dir,
};

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use homedesk_protocol::{
    BusinessHours, CannedReply, Channel, KbArticle, Placeholder, PlaceholderKind, Queue, Role,
    Scenario, Script, ScriptBranch, ScriptStep, UnixMillis,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;

/// The locales content may be written in.
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

/// The folders of a content directory, in the order they are loaded.
pub const KB_FOLDER: &str = "kb";
pub const CANNED_REPLIES_FOLDER: &str = "canned-replies";
pub const SCRIPTS_FOLDER: &str = "scripts";
pub const SCENARIOS_FOLDER: &str = "scenarios";

/// Longest canned-reply shortcut: it is typed after `/` in the composer.
const MAX_SHORTCUT_CHARS: usize = 16;

/// Demo queues without explicit hours are open 08:00–23:00 China time.
const DEFAULT_BUSINESS_HOURS: BusinessHours = BusinessHours {
    open_minute: 8 * 60,
    close_minute: 23 * 60,
    utc_offset_minutes: 8 * 60,
};

const MINUTES_PER_DAY: u16 = 24 * 60;

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

/// The demo world: queues, staff, customers and the kinds of contact the demo
/// traffic generator produces.
#[derive(Debug, Clone)]
pub struct World {
    pub queues: Vec<Queue>,
    pub agents: Vec<WorldAgent>,
    pub customers: Vec<WorldCustomer>,
    pub traffic: Vec<TrafficTemplate>,
}

#[derive(Debug, Clone)]
pub struct WorldAgent {
    pub code: String,
    pub name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub skills: Vec<String>,
    pub max_chats: u32,
}

#[derive(Debug, Clone)]
pub struct WorldCustomer {
    pub id: String,
    pub name: String,
    /// The full number; the platform masks it before any agent sees it.
    pub phone: String,
    pub city: String,
}

/// One kind of customer contact the demo traffic generator can produce.
#[derive(Debug, Clone)]
pub struct TrafficTemplate {
    pub channel: Channel,
    pub queue: String,
    pub category: String,
    pub skills: Vec<String>,
    pub subject: String,
    /// The customer's messages, in order; never empty.
    pub messages: Vec<String>,
    /// When set, the generator invents an order number starting with it.
    pub order_no_prefix: Option<String>,
}

/// KB from a directory of Markdown files (searched recursively) or from one
/// `.jsonl` file; `now` becomes every article's `updated_at`.
pub fn load_kb(source: &Path, now: UnixMillis) -> Result<Vec<KbArticle>, Vec<ContentError>> {
    let mut problems = Problems::default();
    let mut ids = IdRegistry::new("article");
    let articles = if source.is_dir() {
        read_markdown_kb(source, now, &mut ids, &mut problems)
    } else if source.is_file() && source.extension() == Some(OsStr::new("jsonl")) {
        read_jsonl_kb(source, now, &mut ids, &mut problems)
    } else if source.exists() {
        problems.add(
            source,
            None,
            "a KB source must be a directory of Markdown (.md) files or one .jsonl file",
        );
        Vec::new()
    } else {
        problems.add(source, None, "no such file or directory");
        Vec::new()
    };
    // Importing nothing from a source the user named is almost surely a wrong path.
    if articles.is_empty() && problems.is_empty() {
        problems.add(source, None, "no KB articles found here");
    }
    problems.into_result(articles)
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
        let mut ids = IdRegistry::new("article");
        set.kb = read_markdown_kb(&kb_dir, now, &mut ids, &mut problems);
    }
    let replies_dir = dir.join(CANNED_REPLIES_FOLDER);
    if replies_dir.is_dir() {
        set.canned_replies = read_canned_replies(&replies_dir, &mut problems);
    }
    let scripts_dir = dir.join(SCRIPTS_FOLDER);
    if scripts_dir.is_dir() {
        set.scripts = read_scripts(&scripts_dir, &mut problems);
    }
    let scenarios_dir = dir.join(SCENARIOS_FOLDER);
    if scenarios_dir.is_dir() {
        // Scenarios refer to articles and scripts; check those references
        // against the folders that are here.
        let references = scenario_check::References::new(
            kb_dir.is_dir().then_some(set.kb.as_slice()),
            scripts_dir.is_dir().then_some(set.scripts.as_slice()),
        );
        let practice =
            scenario_check::read_scenario_folder(&scenarios_dir, &references, &mut problems);
        set.scenarios = practice.records;
        set.scenario_docs = practice.docs;
        set.packs = practice.packs;
        set.plays = practice.plays;
    }
    problems.into_result(set)
}

/// The demo world file (`demo/world.toml`).
pub fn load_world(file: &Path) -> Result<World, Vec<ContentError>> {
    let mut problems = Problems::default();
    let world = read_world(file, &mut problems);
    problems.into_result(world)
}

// ---------------------------------------------------------------------------
// Shared machinery: collecting problems, reading files, locating lines.

/// Every problem found so far. Loaders keep going after a problem so the
/// author sees all of them at once.
#[derive(Default)]
struct Problems(Vec<ContentError>);

impl Problems {
    fn add(&mut self, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.0.push(ContentError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_result<T>(self, value: T) -> Result<T, Vec<ContentError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

/// A value read from a file and the line it was written on, so checks made
/// after parsing can still point the author at it.
#[derive(Debug, Clone)]
struct Located<T> {
    value: T,
    line: Option<usize>,
}

/// 1-based line of a byte offset in `text`.
fn line_at(text: &str, byte_offset: usize) -> usize {
    let end = byte_offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Reads a file as UTF-8 text, dropping a byte-order mark some editors write.
fn read_text(path: &Path, problems: &mut Problems) -> Option<String> {
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
fn files_with_extension(
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

/// A TOML document inside a file: the whole file, or the front matter of a
/// Markdown file. Spans reported by the `toml` crate are relative to the
/// document; this turns them into lines of the file.
#[derive(Clone, Copy)]
struct TomlDoc<'a> {
    path: &'a Path,
    file_text: &'a str,
    /// Byte offset of the document in `file_text`.
    start: usize,
    /// Byte offset just past the document in `file_text`.
    end: usize,
}

impl<'a> TomlDoc<'a> {
    fn whole_file(path: &'a Path, file_text: &'a str) -> Self {
        TomlDoc {
            path,
            file_text,
            start: 0,
            end: file_text.len(),
        }
    }

    fn text(&self) -> &'a str {
        &self.file_text[self.start..self.end]
    }

    fn line_at(&self, doc_offset: usize) -> usize {
        line_at(self.file_text, self.start + doc_offset)
    }

    fn parse<T: DeserializeOwned>(&self, problems: &mut Problems) -> Option<T> {
        match toml::from_str(self.text()) {
            Ok(value) => Some(value),
            Err(err) => {
                let line = err.span().map(|span| self.line_at(span.start));
                problems.add(self.path, line, plain_toml_message(err.message().trim()));
                None
            }
        }
    }

    fn locate<T>(&self, spanned: Spanned<T>) -> Located<T> {
        let line = Some(self.line_at(spanned.span().start));
        Located {
            value: spanned.into_inner(),
            line,
        }
    }

    /// Line of the first `needle` inside the document span `within` (e.g. a
    /// `{name}` inside a reply body), or of the start of `within`.
    fn line_of_text(&self, within: &Range<usize>, needle: &str) -> usize {
        let region = self
            .text()
            .get(within.clone())
            .and_then(|region| region.find(needle));
        match region {
            Some(found) => self.line_at(within.start + found),
            None => self.line_at(within.start),
        }
    }
}

/// The `toml` crate's words for a table that must hold exactly one key (a
/// scenario trigger or rubric check) are serde's internals; say it the way an
/// author writes the file.
fn plain_toml_message(message: &str) -> String {
    match message {
        "wanted exactly 1 element, more than 1 element" => {
            "this table must hold exactly one key (one kind of trigger or check), but it has \
             several; split it into separate reactions or rubric items"
                .to_owned()
        }
        "wanted exactly 1 element, found 0 elements" => {
            "this table is empty; it must hold exactly one key (one kind of trigger or check, \
             e.g. keywords = [\"退款\"])"
                .to_owned()
        }
        "invalid type: unit variant, expected newtype variant" => {
            "write this as a table with exactly one key and its value, e.g. \
             { keywords = [\"退款\"] } or { no_escalation = true }, not a bare name"
                .to_owned()
        }
        other => other.to_owned(),
    }
}

/// The first place each id was seen, so a duplicate is reported with both
/// locations.
struct IdRegistry {
    /// What the ids name, for messages: "article", "reply", "step", ...
    kind: &'static str,
    /// What the unique value is called: "id", or e.g. "name", "number".
    noun: &'static str,
    first_seen: HashMap<String, (PathBuf, Option<usize>)>,
}

impl IdRegistry {
    fn new(kind: &'static str) -> Self {
        Self::with_noun(kind, "id")
    }

    /// For unique values that are not called ids: `with_noun("play",
    /// "name")` reports "play name "x" is already used …".
    fn with_noun(kind: &'static str, noun: &'static str) -> Self {
        IdRegistry {
            kind,
            noun,
            first_seen: HashMap::new(),
        }
    }

    fn claim(&mut self, path: &Path, id: &Located<String>, problems: &mut Problems) {
        // An empty id is reported on its own; it is no duplicate of another.
        if id.value.trim().is_empty() {
            return;
        }
        match self.first_seen.get(&id.value) {
            Some((first_path, first_line)) => problems.add(
                path,
                id.line,
                format!(
                    "{} {} \"{}\" is already used at {}; {}s must be unique",
                    self.kind,
                    self.noun,
                    id.value,
                    describe_location(first_path, *first_line),
                    self.noun
                ),
            ),
            None => {
                self.first_seen
                    .insert(id.value.clone(), (path.to_path_buf(), id.line));
            }
        }
    }
}

fn describe_location(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    }
}

/// `context` names the record for the message, e.g. `reply "greet"`.
fn require_text(
    problems: &mut Problems,
    path: &Path,
    context: &str,
    key: &str,
    field: &Located<String>,
) {
    if field.value.trim().is_empty() {
        problems.add(path, field.line, format!("{context}: \"{key}\" is empty"));
    }
}

fn require_no_empty_entries(
    problems: &mut Problems,
    path: &Path,
    context: &str,
    key: &str,
    field: &Located<Vec<String>>,
) {
    if field.value.iter().any(|item| item.trim().is_empty()) {
        problems.add(
            path,
            field.line,
            format!("{context}: \"{key}\" contains an empty entry"),
        );
    }
}

fn require_locale(problems: &mut Problems, path: &Path, context: &str, field: &Located<String>) {
    if !LOCALES.contains(&field.value.as_str()) {
        problems.add(
            path,
            field.line,
            format!(
                "{context}: locale \"{}\" is not supported; use \"zh-CN\" or \"en\"",
                field.value
            ),
        );
    }
}

/// `snake_case`: a lowercase ASCII letter, then lowercase letters, digits or `_`.
fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

// ---------------------------------------------------------------------------
// Knowledge base.

/// An article as read from Markdown or JSON lines, before validation.
struct KbDraft {
    id: Located<String>,
    locale: Located<String>,
    title: Located<String>,
    category: Located<String>,
    tags: Located<Vec<String>>,
    body: Located<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbFrontMatter {
    id: Spanned<String>,
    locale: Spanned<String>,
    title: Spanned<String>,
    #[serde(default)]
    tags: Option<Spanned<Vec<String>>>,
    category: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbJsonLine {
    id: String,
    locale: String,
    title: String,
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    /// Optional in JSON lines (exports from other help desks rarely have one).
    #[serde(default = "uncategorised")]
    category: String,
}

fn uncategorised() -> String {
    "general".to_owned()
}

fn read_markdown_kb(
    dir: &Path,
    now: UnixMillis,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Vec<KbArticle> {
    let mut articles = Vec::new();
    for path in files_with_extension(dir, "md", true, problems) {
        let Some(text) = read_text(&path, problems) else {
            continue;
        };
        if let Some(draft) = parse_markdown_article(&path, &text, problems) {
            articles.push(check_kb_draft(&path, draft, now, ids, problems));
        }
    }
    articles
}

fn read_jsonl_kb(
    path: &Path,
    now: UnixMillis,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Vec<KbArticle> {
    let Some(text) = read_text(path, problems) else {
        return Vec::new();
    };
    let mut articles = Vec::new();
    for (index, line_text) in text.lines().enumerate() {
        let line = Some(index + 1);
        if line_text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<KbJsonLine>(line_text) {
            Ok(record) => {
                let at_line = |value| Located { value, line };
                let draft = KbDraft {
                    id: at_line(record.id),
                    locale: at_line(record.locale),
                    title: at_line(record.title),
                    category: at_line(record.category),
                    tags: Located {
                        value: record.tags,
                        line,
                    },
                    body: at_line(record.body),
                };
                articles.push(check_kb_draft(path, draft, now, ids, problems));
            }
            Err(err) => problems.add(path, line, json_error_message(&err)),
        }
    }
    articles
}

/// serde_json appends "at line 1 column N" to its messages; each JSON-lines
/// record is parsed alone, so the line would always read 1. Keep the column.
fn json_error_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match full.strip_suffix(&position) {
        Some(message) => format!("{message} (column {})", err.column()),
        None => full,
    }
}

/// Where the front matter and the body of a Markdown article are.
struct FrontMatterSplit {
    toml: Range<usize>,
    body: Range<usize>,
}

const FRONT_MATTER_FENCE: &str = "+++";

/// Finds the TOML front matter between a first line `+++` and the next line
/// `+++`; the error message explains what is wrong.
fn split_front_matter(text: &str) -> Result<FrontMatterSplit, String> {
    let mut lines = text.split_inclusive('\n');
    let opens = lines
        .next()
        .is_some_and(|first| first.trim_end() == FRONT_MATTER_FENCE);
    if !opens {
        return Err(
            "missing front matter: the file must start with a line \"+++\", then the \
             TOML keys (id, locale, title, category, optional tags), then a closing \
             \"+++\" line"
                .to_owned(),
        );
    }
    let toml_start = text.find('\n').map_or(text.len(), |newline| newline + 1);
    let mut offset = toml_start;
    for line in lines {
        let next_offset = offset + line.len();
        if line.trim_end() == FRONT_MATTER_FENCE {
            return Ok(FrontMatterSplit {
                toml: toml_start..offset,
                body: next_offset..text.len(),
            });
        }
        offset = next_offset;
    }
    Err(
        "the front matter opened by \"+++\" on line 1 is never closed: add a line \"+++\" \
         after the last key"
            .to_owned(),
    )
}

fn parse_markdown_article(path: &Path, text: &str, problems: &mut Problems) -> Option<KbDraft> {
    let split = match split_front_matter(text) {
        Ok(split) => split,
        Err(message) => {
            problems.add(path, Some(1), message);
            return None;
        }
    };
    let doc = TomlDoc {
        path,
        file_text: text,
        start: split.toml.start,
        end: split.toml.end,
    };
    let front: KbFrontMatter = doc.parse(problems)?;

    let raw_body = &text[split.body.clone()];
    let body = raw_body.trim();
    let leading_blank = raw_body.len() - raw_body.trim_start().len();
    // An empty body is reported on the closing fence's line.
    let body_line = if body.is_empty() {
        line_at(text, split.body.start.saturating_sub(1))
    } else {
        line_at(text, split.body.start + leading_blank)
    };
    let tags = match front.tags {
        Some(tags) => doc.locate(tags),
        None => Located {
            value: Vec::new(),
            line: None,
        },
    };
    Some(KbDraft {
        id: doc.locate(front.id),
        locale: doc.locate(front.locale),
        title: doc.locate(front.title),
        category: doc.locate(front.category),
        tags,
        body: Located {
            value: body.to_owned(),
            line: Some(body_line),
        },
    })
}

/// KB ids are `kb-` followed by lowercase ASCII letters, digits and `-`.
fn is_kb_id(id: &str) -> bool {
    id.strip_prefix("kb-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    })
}

fn check_kb_draft(
    path: &Path,
    draft: KbDraft,
    now: UnixMillis,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> KbArticle {
    let context = format!("article \"{}\"", draft.id.value);
    if !is_kb_id(&draft.id.value) {
        problems.add(
            path,
            draft.id.line,
            format!(
                "article id \"{}\" must be \"kb-\" followed by lowercase letters, digits and \"-\"",
                draft.id.value
            ),
        );
    }
    ids.claim(path, &draft.id, problems);
    require_locale(problems, path, &context, &draft.locale);
    require_text(problems, path, &context, "title", &draft.title);
    require_text(problems, path, &context, "category", &draft.category);
    require_no_empty_entries(problems, path, &context, "tags", &draft.tags);
    if draft.body.value.trim().is_empty() {
        problems.add(
            path,
            draft.body.line,
            format!("{context}: the body is empty; write the article text after the front matter"),
        );
    }
    KbArticle {
        id: draft.id.value,
        locale: draft.locale.value,
        title: draft.title.value,
        body: draft.body.value.trim().to_owned(),
        tags: draft.tags.value,
        category: draft.category.value,
        updated_at: now,
    }
}

// ---------------------------------------------------------------------------
// Canned replies.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedRepliesFile {
    #[serde(default)]
    reply: Vec<CannedReplyDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedReplyDoc {
    id: Spanned<String>,
    /// Optional: the file name already says the locale.
    #[serde(default)]
    locale: Option<Spanned<String>>,
    title: Spanned<String>,
    shortcut: Spanned<String>,
    category: Spanned<String>,
    body: Spanned<String>,
    #[serde(default)]
    placeholders: Vec<PlaceholderDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceholderDoc {
    name: Spanned<String>,
    kind: PlaceholderKind,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    fallback: Option<String>,
}

/// Where a shortcut was first used, to report a clash with both replies.
struct ShortcutOwner {
    reply_id: String,
    path: PathBuf,
    line: Option<usize>,
}

fn read_canned_replies(dir: &Path, problems: &mut Problems) -> Vec<CannedReply> {
    let mut replies = Vec::new();
    let mut ids = IdRegistry::new("reply");
    // Keyed by (locale, shortcut): agents of one locale share one composer.
    let mut shortcuts: HashMap<(String, String), ShortcutOwner> = HashMap::new();
    for path in files_with_extension(dir, "toml", false, problems) {
        let file_locale = path
            .file_stem()
            .and_then(OsStr::to_str)
            .unwrap_or_default()
            .to_owned();
        if !LOCALES.contains(&file_locale.as_str()) {
            problems.add(
                &path,
                None,
                format!(
                    "canned-reply files are named after their locale (zh-CN.toml or en.toml); \
                     \"{file_locale}\" is not a supported locale"
                ),
            );
        }
        let Some(text) = read_text(&path, problems) else {
            continue;
        };
        let doc = TomlDoc::whole_file(&path, &text);
        let Some(file) = doc.parse::<CannedRepliesFile>(problems) else {
            continue;
        };
        if file.reply.is_empty() {
            problems.add(&path, None, "no replies here: add [[reply]] tables");
        }
        for reply_doc in file.reply {
            let reply = check_canned_reply(doc, &file_locale, reply_doc, &mut ids, problems);
            claim_shortcut(&path, &reply, &mut shortcuts, problems);
            replies.push(reply.value);
        }
    }
    replies
}

fn claim_shortcut(
    path: &Path,
    reply: &Located<CannedReply>,
    shortcuts: &mut HashMap<(String, String), ShortcutOwner>,
    problems: &mut Problems,
) {
    let key = (reply.value.locale.clone(), reply.value.shortcut.clone());
    match shortcuts.get(&key) {
        Some(owner) => problems.add(
            path,
            reply.line,
            format!(
                "reply \"{}\": shortcut \"{}\" is already used by reply \"{}\" at {}; \
                 shortcuts must be unique per locale",
                reply.value.id,
                reply.value.shortcut,
                owner.reply_id,
                describe_location(&owner.path, owner.line)
            ),
        ),
        None => {
            shortcuts.insert(
                key,
                ShortcutOwner {
                    reply_id: reply.value.id.clone(),
                    path: path.to_path_buf(),
                    line: reply.line,
                },
            );
        }
    }
}

/// Checks one reply; the returned line is that of its shortcut, for clashes.
fn check_canned_reply(
    doc: TomlDoc<'_>,
    file_locale: &str,
    reply: CannedReplyDoc,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Located<CannedReply> {
    let path = doc.path;
    let body_span = reply.body.span();
    let id = doc.locate(reply.id);
    let title = doc.locate(reply.title);
    let shortcut = doc.locate(reply.shortcut);
    let category = doc.locate(reply.category);
    let body = doc.locate(reply.body);
    let context = format!("reply \"{}\"", id.value);

    ids.claim(path, &id, problems);
    require_text(problems, path, &context, "id", &id);
    require_text(problems, path, &context, "title", &title);
    require_text(problems, path, &context, "category", &category);
    require_text(problems, path, &context, "body", &body);
    if let Some(locale) = reply.locale.map(|locale| doc.locate(locale))
        && locale.value != file_locale
    {
        problems.add(
            path,
            locale.line,
            format!(
                "{context}: locale \"{}\" does not match the file, which holds \"{file_locale}\" replies",
                locale.value
            ),
        );
    }
    let shortcut_is_valid = (1..=MAX_SHORTCUT_CHARS).contains(&shortcut.value.len())
        && shortcut
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !shortcut_is_valid {
        problems.add(
            path,
            shortcut.line,
            format!(
                "{context}: shortcut \"{}\" must be 1 to {MAX_SHORTCUT_CHARS} lowercase letters or digits",
                shortcut.value
            ),
        );
    }

    let mut placeholders = Vec::new();
    let mut declared: HashMap<String, Option<usize>> = HashMap::new();
    for placeholder in reply.placeholders {
        let name = doc.locate(placeholder.name);
        if !is_snake_case(&name.value) {
            problems.add(
                path,
                name.line,
                format!(
                    "{context}: placeholder name \"{}\" must be snake_case (lowercase letters, \
                     digits and \"_\", starting with a letter)",
                    name.value
                ),
            );
        }
        if declared.insert(name.value.clone(), name.line).is_some() {
            problems.add(
                path,
                name.line,
                format!(
                    "{context}: placeholder \"{}\" is declared twice",
                    name.value
                ),
            );
        }
        placeholders.push(Placeholder {
            name: name.value,
            kind: placeholder.kind,
            required: placeholder.required,
            fallback: placeholder.fallback,
        });
    }

    let used = placeholder_references(&body.value);
    for name in &used {
        if !declared.contains_key(*name) {
            let line = doc.line_of_text(&body_span, &format!("{{{name}}}"));
            problems.add(
                path,
                Some(line),
                format!(
                    "{context}: the body uses {{{name}}} but no placeholder \"{name}\" is \
                     declared; add a [[reply.placeholders]] table with name = \"{name}\""
                ),
            );
        }
    }
    for placeholder in &placeholders {
        if !used.contains(&placeholder.name.as_str()) {
            let line = declared.get(&placeholder.name).copied().flatten();
            problems.add(
                path,
                line,
                format!(
                    "{context}: placeholder \"{0}\" is declared but the body never uses it; \
                     write {{{0}}} in the body or remove the placeholder",
                    placeholder.name
                ),
            );
        }
    }

    Located {
        line: shortcut.line,
        value: CannedReply {
            id: id.value,
            locale: file_locale.to_owned(),
            title: title.value,
            shortcut: shortcut.value,
            category: category.value,
            // Trailing newlines of a TOML multi-line string would end up in
            // the composer.
            body: body.value.trim().to_owned(),
            placeholders,
        },
    }
}

/// The distinct `{name}` placeholders a body uses, in order of first use.
/// Braces around anything but a snake_case identifier are ordinary text.
fn placeholder_references(body: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    let mut open: Option<usize> = None;
    for (index, c) in body.char_indices() {
        match c {
            '{' => open = Some(index),
            '}' => {
                if let Some(start) = open.take() {
                    let name = &body[start + 1..index];
                    if is_snake_case(name) && !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            _ => {}
        }
    }
    names
}

// ---------------------------------------------------------------------------
// Call scripts.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptDoc {
    id: Spanned<String>,
    locale: Spanned<String>,
    title: Spanned<String>,
    category: Spanned<String>,
    #[serde(default)]
    keywords: Option<Spanned<Vec<String>>>,
    start: Spanned<String>,
    #[serde(default)]
    step: Vec<StepDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDoc {
    id: Spanned<String>,
    text: Spanned<String>,
    #[serde(default)]
    checkpoint: bool,
    #[serde(default)]
    branch: Vec<BranchDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BranchDoc {
    label: Spanned<String>,
    next: Spanned<String>,
}

struct StepDraft {
    id: Located<String>,
    text: Located<String>,
    checkpoint: bool,
    branches: Vec<BranchDraft>,
}

struct BranchDraft {
    label: Located<String>,
    next: Located<String>,
}

fn read_scripts(dir: &Path, problems: &mut Problems) -> Vec<Script> {
    let mut scripts = Vec::new();
    let mut ids = IdRegistry::new("script");
    for path in files_with_extension(dir, "toml", false, problems) {
        let Some(text) = read_text(&path, problems) else {
            continue;
        };
        let doc = TomlDoc::whole_file(&path, &text);
        if let Some(script) = doc.parse::<ScriptDoc>(problems) {
            scripts.push(check_script(doc, script, &mut ids, problems));
        }
    }
    scripts
}

fn check_script(
    doc: TomlDoc<'_>,
    script: ScriptDoc,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Script {
    let path = doc.path;
    let id = doc.locate(script.id);
    let locale = doc.locate(script.locale);
    let title = doc.locate(script.title);
    let category = doc.locate(script.category);
    let start = doc.locate(script.start);
    let keywords = match script.keywords {
        Some(keywords) => doc.locate(keywords),
        None => Located {
            value: Vec::new(),
            line: None,
        },
    };
    let context = format!("script \"{}\"", id.value);

    ids.claim(path, &id, problems);
    require_text(problems, path, &context, "id", &id);
    require_locale(problems, path, &context, &locale);
    require_text(problems, path, &context, "title", &title);
    require_text(problems, path, &context, "category", &category);
    require_no_empty_entries(problems, path, &context, "keywords", &keywords);

    let steps: Vec<StepDraft> = script
        .step
        .into_iter()
        .map(|step| StepDraft {
            id: doc.locate(step.id),
            text: doc.locate(step.text),
            checkpoint: step.checkpoint,
            branches: step
                .branch
                .into_iter()
                .map(|branch| BranchDraft {
                    label: doc.locate(branch.label),
                    next: doc.locate(branch.next),
                })
                .collect(),
        })
        .collect();
    check_steps(path, &context, &start, &steps, problems);

    Script {
        id: id.value,
        locale: locale.value,
        title: title.value,
        category: category.value,
        keywords: keywords.value,
        start: start.value,
        steps: steps
            .into_iter()
            .map(|step| ScriptStep {
                id: step.id.value,
                text: step.text.value.trim().to_owned(),
                checkpoint: step.checkpoint,
                branches: step
                    .branches
                    .into_iter()
                    .map(|branch| ScriptBranch {
                        label: branch.label.value,
                        next: branch.next.value,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The script must be a walkable call: every step reachable from `start`,
/// every branch leading to another existing step, and some step that ends it.
fn check_steps(
    path: &Path,
    context: &str,
    start: &Located<String>,
    steps: &[StepDraft],
    problems: &mut Problems,
) {
    if steps.is_empty() {
        problems.add(
            path,
            None,
            format!("{context} has no steps: add [[step]] tables"),
        );
        return;
    }
    let mut step_ids = IdRegistry::new("step");
    for step in steps {
        step_ids.claim(path, &step.id, problems);
        let step_context = format!("step \"{}\"", step.id.value);
        require_text(problems, path, &step_context, "id", &step.id);
        require_text(problems, path, &step_context, "text", &step.text);
    }
    let existing: HashSet<&str> = steps.iter().map(|step| step.id.value.as_str()).collect();

    let start_exists = existing.contains(start.value.as_str());
    if !start_exists {
        problems.add(
            path,
            start.line,
            format!(
                "{context}: start = \"{}\" is not a step in this script",
                start.value
            ),
        );
    }
    for step in steps {
        let mut labels = HashSet::new();
        for branch in &step.branches {
            let step_context = format!("step \"{}\"", step.id.value);
            require_text(problems, path, &step_context, "label", &branch.label);
            if !labels.insert(branch.label.value.as_str()) {
                problems.add(
                    path,
                    branch.label.line,
                    format!(
                        "{step_context}: two branches are labelled \"{}\"; the agent could not tell them apart",
                        branch.label.value
                    ),
                );
            }
            if branch.next.value == step.id.value {
                problems.add(
                    path,
                    branch.next.line,
                    format!(
                        "{step_context}: branch \"{}\" goes back to \"{}\" itself; a step cannot \
                         branch to itself",
                        branch.label.value, branch.next.value
                    ),
                );
            } else if !existing.contains(branch.next.value.as_str()) {
                problems.add(
                    path,
                    branch.next.line,
                    format!(
                        "{step_context}: branch \"{}\" goes to \"{}\", which is not a step in this script",
                        branch.label.value, branch.next.value
                    ),
                );
            }
        }
    }

    if !steps.iter().any(|step| step.branches.is_empty()) {
        problems.add(
            path,
            None,
            format!(
                "{context} has no end step: every step has branches, so the call can never \
                 finish; leave at least one step without [[step.branch]]"
            ),
        );
    }

    // Reachability only means something from a start that exists.
    if start_exists {
        let reachable = steps_reachable_from(&start.value, steps);
        let mut reported = HashSet::new();
        for step in steps {
            let id = step.id.value.as_str();
            if !reachable.contains(id) && reported.insert(id) {
                problems.add(
                    path,
                    step.id.line,
                    format!(
                        "step \"{id}\" cannot be reached from the start step \"{}\"; \
                         add a branch that leads to it or remove it",
                        start.value
                    ),
                );
            }
        }
    }
}

fn steps_reachable_from<'a>(start: &'a str, steps: &'a [StepDraft]) -> HashSet<&'a str> {
    let mut reachable = HashSet::from([start]);
    let mut pending = VecDeque::from([start]);
    while let Some(current) = pending.pop_front() {
        let branches = steps
            .iter()
            .filter(|step| step.id.value == current)
            .flat_map(|step| &step.branches);
        for branch in branches {
            let next = branch.next.value.as_str();
            if reachable.insert(next) {
                pending.push_back(next);
            }
        }
    }
    reachable
}

// ---------------------------------------------------------------------------
// Practice scenarios: see `scenario_check.rs`.

// ---------------------------------------------------------------------------
// Demo world.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldDoc {
    #[serde(default)]
    queue: Vec<QueueDoc>,
    #[serde(default)]
    agent: Vec<AgentDoc>,
    #[serde(default)]
    customer: Vec<CustomerDoc>,
    #[serde(default)]
    traffic: Vec<TrafficDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueDoc {
    id: Spanned<String>,
    name_zh: Spanned<String>,
    name_en: Spanned<String>,
    first_response_secs: Spanned<u32>,
    resolve_secs: u32,
    #[serde(default)]
    skills: Vec<String>,
    #[serde(default)]
    business_hours: Option<Spanned<BusinessHours>>,
    #[serde(default)]
    vanished_grace_secs: Option<u32>,
    #[serde(default)]
    away_after_missed_offers: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentDoc {
    code: Spanned<String>,
    name: Spanned<String>,
    role: Role,
    queues: Vec<Spanned<String>>,
    skills: Vec<String>,
    max_chats: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerDoc {
    id: Spanned<String>,
    name: Spanned<String>,
    phone: Spanned<String>,
    city: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrafficDoc {
    channel: Channel,
    queue: Spanned<String>,
    category: Spanned<String>,
    #[serde(default)]
    skills: Vec<String>,
    subject: Spanned<String>,
    messages: Spanned<Vec<String>>,
    #[serde(default)]
    order_no_prefix: Option<String>,
}

fn read_world(path: &Path, problems: &mut Problems) -> World {
    let mut world = World {
        queues: Vec::new(),
        agents: Vec::new(),
        customers: Vec::new(),
        traffic: Vec::new(),
    };
    let Some(text) = read_text(path, problems) else {
        return world;
    };
    let doc = TomlDoc::whole_file(path, &text);
    let Some(world_doc) = doc.parse::<WorldDoc>(problems) else {
        return world;
    };
    if world_doc.queue.is_empty() {
        problems.add(path, None, "the world has no queues: add [[queue]] tables");
    }
    if world_doc.agent.is_empty() {
        problems.add(path, None, "the world has no agents: add [[agent]] tables");
    }

    let mut queue_ids = IdRegistry::new("queue");
    for queue in world_doc.queue {
        world
            .queues
            .push(check_queue(doc, queue, &mut queue_ids, problems));
    }
    let known_queues: HashSet<String> = world.queues.iter().map(|q| q.id.clone()).collect();

    let mut agent_codes = IdRegistry::new("agent");
    for agent in world_doc.agent {
        let code = doc.locate(agent.code);
        let name = doc.locate(agent.name);
        let context = format!("agent \"{}\"", code.value);
        agent_codes.claim(path, &code, problems);
        require_text(problems, path, &context, "code", &code);
        require_text(problems, path, &context, "name", &name);
        let mut queues = Vec::new();
        for queue in agent.queues {
            let queue = doc.locate(queue);
            if !known_queues.contains(&queue.value) {
                problems.add(
                    path,
                    queue.line,
                    format!(
                        "{context}: queue \"{}\" is not a [[queue]] of this world",
                        queue.value
                    ),
                );
            }
            queues.push(queue.value);
        }
        world.agents.push(WorldAgent {
            code: code.value,
            name: name.value,
            role: agent.role,
            queues,
            skills: agent.skills,
            max_chats: agent.max_chats,
        });
    }

    let mut customer_ids = IdRegistry::new("customer");
    for customer in world_doc.customer {
        let id = doc.locate(customer.id);
        let name = doc.locate(customer.name);
        let phone = doc.locate(customer.phone);
        let city = doc.locate(customer.city);
        let context = format!("customer \"{}\"", id.value);
        customer_ids.claim(path, &id, problems);
        require_text(problems, path, &context, "id", &id);
        require_text(problems, path, &context, "name", &name);
        require_text(problems, path, &context, "phone", &phone);
        require_text(problems, path, &context, "city", &city);
        world.customers.push(WorldCustomer {
            id: id.value,
            name: name.value,
            phone: phone.value,
            city: city.value,
        });
    }

    for traffic in world_doc.traffic {
        let queue = doc.locate(traffic.queue);
        let category = doc.locate(traffic.category);
        let subject = doc.locate(traffic.subject);
        let messages = doc.locate(traffic.messages);
        let context = format!("traffic \"{}\"", subject.value);
        if !known_queues.contains(&queue.value) {
            problems.add(
                path,
                queue.line,
                format!(
                    "{context}: queue \"{}\" is not a [[queue]] of this world",
                    queue.value
                ),
            );
        }
        require_text(problems, path, &context, "category", &category);
        require_text(problems, path, &context, "subject", &subject);
        if messages.value.is_empty() {
            problems.add(
                path,
                messages.line,
                format!("{context}: \"messages\" is empty; give at least one customer message"),
            );
        }
        require_no_empty_entries(problems, path, &context, "messages", &messages);
        world.traffic.push(TrafficTemplate {
            channel: traffic.channel,
            queue: queue.value,
            category: category.value,
            skills: traffic.skills,
            subject: subject.value,
            messages: messages.value,
            order_no_prefix: traffic.order_no_prefix,
        });
    }
    world
}

fn check_queue(
    doc: TomlDoc<'_>,
    queue: QueueDoc,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Queue {
    let path = doc.path;
    let id = doc.locate(queue.id);
    let name_zh = doc.locate(queue.name_zh);
    let name_en = doc.locate(queue.name_en);
    let first_response_secs = doc.locate(queue.first_response_secs);
    let context = format!("queue \"{}\"", id.value);
    ids.claim(path, &id, problems);
    require_text(problems, path, &context, "id", &id);
    require_text(problems, path, &context, "name_zh", &name_zh);
    require_text(problems, path, &context, "name_en", &name_en);
    if first_response_secs.value == 0 || first_response_secs.value > queue.resolve_secs {
        problems.add(
            path,
            first_response_secs.line,
            format!(
                "{context}: first_response_secs ({}) must be more than 0 and at most resolve_secs ({})",
                first_response_secs.value, queue.resolve_secs
            ),
        );
    }
    let business_hours = match queue.business_hours {
        Some(hours) => {
            let hours = doc.locate(hours);
            check_business_hours(path, &context, &hours, problems);
            hours.value
        }
        None => DEFAULT_BUSINESS_HOURS,
    };
    Queue {
        id: id.value,
        name_zh: name_zh.value,
        name_en: name_en.value,
        first_response_secs: first_response_secs.value,
        resolve_secs: queue.resolve_secs,
        skills: queue.skills,
        business_hours,
        vanished_grace_secs: queue
            .vanished_grace_secs
            .unwrap_or(homedesk_protocol::DEFAULT_VANISHED_GRACE_SECS),
        away_after_missed_offers: queue
            .away_after_missed_offers
            .unwrap_or(homedesk_protocol::DEFAULT_AWAY_AFTER_MISSED_OFFERS),
    }
}

fn check_business_hours(
    path: &Path,
    context: &str,
    hours: &Located<BusinessHours>,
    problems: &mut Problems,
) {
    let BusinessHours {
        open_minute,
        close_minute,
        utc_offset_minutes,
    } = hours.value;
    if open_minute >= close_minute || close_minute > MINUTES_PER_DAY {
        problems.add(
            path,
            hours.line,
            format!(
                "{context}: business hours must open before they close, within one day \
                 (0 to {MINUTES_PER_DAY} minutes); found open_minute = {open_minute}, \
                 close_minute = {close_minute}"
            ),
        );
    }
    // Real time zones run from UTC-12:00 to UTC+14:00.
    if !(-12 * 60..=14 * 60).contains(&utc_offset_minutes) {
        problems.add(
            path,
            hours.line,
            format!(
                "{context}: utc_offset_minutes = {utc_offset_minutes} is not a real time zone \
                 offset (-720 to 840)"
            ),
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tempfile::TempDir;

    pub(crate) const NOW: UnixMillis = 1_700_000_000_000;

    pub(crate) fn write(dir: &Path, relative: &str, text: &str) -> PathBuf {
        let path = dir.join(relative);
        let parent = path.parent().expect("relative path has a parent");
        fs::create_dir_all(parent).expect("create parent folders");
        fs::write(&path, text).expect("write test file");
        path
    }

    /// Asserts exactly one problem, in the file ending with `file_name`, on
    /// `line`, whose message contains every one of `needles`.
    pub(crate) fn assert_single_error(
        errors: &[ContentError],
        file_name: &str,
        line: Option<usize>,
        needles: &[&str],
    ) {
        assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
        assert_error(&errors[0], file_name, line, needles);
    }

    pub(crate) fn assert_error(
        error: &ContentError,
        file_name: &str,
        line: Option<usize>,
        needles: &[&str],
    ) {
        assert!(
            error.file.ends_with(file_name),
            "error should name {file_name}: {error}"
        );
        assert_eq!(error.line, line, "wrong line in: {error}");
        for needle in needles {
            assert!(
                error.message.contains(needle),
                "message should contain {needle:?}: {error}"
            );
        }
    }

    pub(crate) const ARTICLE_ZH: &str = "+++\n\
        id = \"kb-zh-refund\"\n\
        locale = \"zh-CN\"\n\
        title = \"退款多久到账\"\n\
        tags = [\"退款\"]\n\
        category = \"refunds\"\n\
        +++\n\
        \n\
        原路退回，一般 1-3 个工作日到账。\n\n";

    pub(crate) const ARTICLE_EN: &str = "+++\n\
        id = \"kb-en-refund\"\n\
        locale = \"en\"\n\
        title = \"Refund timeline\"\n\
        category = \"refunds\"\n\
        +++\n\
        Refunds go back to the original payment method.\n";

    #[test]
    fn markdown_kb_is_read_recursively_in_path_order() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "zh-CN/refund.md", ARTICLE_ZH);
        write(dir.path(), "en/refund.md", ARTICLE_EN);
        write(dir.path(), "en/notes.txt", "not an article");

        let articles = load_kb(dir.path(), NOW).expect("valid KB");
        assert_eq!(articles.len(), 2);
        let en = &articles[0];
        assert_eq!(en.id, "kb-en-refund");
        assert!(en.tags.is_empty());
        assert_eq!(en.updated_at, NOW);
        let zh = &articles[1];
        assert_eq!(zh.locale, "zh-CN");
        assert_eq!(zh.tags, vec!["退款".to_owned()]);
        assert_eq!(zh.body, "原路退回，一般 1-3 个工作日到账。");
    }

    #[test]
    fn jsonl_kb_skips_blank_lines() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(
            dir.path(),
            "kb.jsonl",
            "{\"id\":\"kb-a\",\"locale\":\"en\",\"title\":\"A\",\"body\":\" Body A \",\"category\":\"c\"}\n\
             \n\
             {\"id\":\"kb-b\",\"locale\":\"zh-CN\",\"title\":\"B\",\"body\":\"正文\",\"tags\":[\"t\"],\"category\":\"c\"}\n",
        );
        let articles = load_kb(&file, NOW).expect("valid KB");
        assert_eq!(articles.len(), 2);
        assert_eq!(articles[0].body, "Body A");
        assert_eq!(articles[1].tags, vec!["t".to_owned()]);
    }

    #[test]
    fn jsonl_bad_line_reports_its_line() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(
            dir.path(),
            "kb.jsonl",
            "{\"id\":\"kb-a\",\"locale\":\"en\",\"title\":\"A\",\"body\":\"B\",\"category\":\"c\"}\n\
             \n\
             {\"id\":\"kb-b\",\"locale\":\"en\",\"title\":\"B\",\"body\":\"B\",\"category\":\"c\",\"author\":\"x\"}\n\
             {not json\n",
        );
        let errors = load_kb(&file, NOW).expect_err("bad lines");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "kb.jsonl", Some(3), &["author"]);
        assert_error(&errors[1], "kb.jsonl", Some(4), &["column"]);
        assert!(!errors[1].message.contains("line 1"), "{}", errors[1]);
    }

    #[test]
    fn missing_front_matter() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "plain.md", "# Just a title\n\nText.\n");
        let errors = load_kb(dir.path(), NOW).expect_err("no front matter");
        assert_single_error(&errors, "plain.md", Some(1), &["missing front matter"]);
    }

    #[test]
    fn unclosed_front_matter() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "open.md",
            "+++\nid = \"kb-open\"\nlocale = \"en\"\n\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("unclosed");
        assert_single_error(&errors, "open.md", Some(1), &["never closed"]);
    }

    #[test]
    fn bad_toml_in_front_matter_reports_the_markdown_line() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "bad.md",
            "+++\nid = \"kb-bad\"\nlocale = \"en\"\ntitle = \"unterminated\ncategory = \"c\"\n+++\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("bad TOML");
        assert_single_error(&errors, "bad.md", Some(4), &[]);
        assert!(
            errors[0]
                .to_string()
                .starts_with(&format!("{}:4: ", dir.path().join("bad.md").display()))
        );
    }

    #[test]
    fn unknown_front_matter_key_is_named() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "extra.md",
            "+++\nid = \"kb-extra\"\nlocale = \"en\"\ntitle = \"T\"\ncategory = \"c\"\nauthor = \"me\"\n+++\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("unknown key");
        assert_single_error(&errors, "extra.md", Some(6), &["author"]);
    }

    #[test]
    fn duplicate_id_across_two_files_names_both() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "a.md", ARTICLE_EN);
        write(dir.path(), "b.md", ARTICLE_EN);
        let errors = load_kb(dir.path(), NOW).expect_err("duplicate");
        assert_single_error(&errors, "b.md", Some(2), &["kb-en-refund", "a.md:2"]);
    }

    #[test]
    fn bad_locale_and_bad_id() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "x.md",
            "+++\nid = \"KB_Upper\"\nlocale = \"zh-cn\"\ntitle = \"T\"\ncategory = \"c\"\n+++\nBody\n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("bad locale");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "x.md", Some(2), &["\"KB_Upper\"", "kb-"]);
        assert_error(&errors[1], "x.md", Some(3), &["\"zh-cn\"", "zh-CN"]);
    }

    #[test]
    fn empty_body_and_empty_title() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "empty.md",
            "+++\nid = \"kb-empty\"\nlocale = \"en\"\ntitle = \"  \"\ncategory = \"c\"\n+++\n\n  \n",
        );
        let errors = load_kb(dir.path(), NOW).expect_err("empty body");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "empty.md", Some(4), &["\"title\" is empty"]);
        assert_error(&errors[1], "empty.md", Some(6), &["body is empty"]);
    }

    #[test]
    fn non_utf8_file_is_an_error() {
        let dir = TempDir::new().expect("temp dir");
        let path = dir.path().join("gbk.md");
        let mut bytes = b"+++\nid = \"kb-gbk\"\ntitle = \"".to_vec();
        bytes.extend_from_slice(&[0xcd, 0xcb, 0xbf, 0xee]); // "退款" in GBK
        bytes.extend_from_slice(b"\"\n+++\n");
        fs::write(&path, bytes).expect("write");
        let errors = load_kb(dir.path(), NOW).expect_err("not UTF-8");
        assert_single_error(&errors, "gbk.md", Some(3), &["UTF-8"]);
    }

    #[test]
    fn problems_in_every_file_are_collected() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "a.md", "no front matter");
        write(dir.path(), "b.md", ARTICLE_EN);
        write(dir.path(), "c.md", "+++\nid = 1\n");
        let errors = load_kb(dir.path(), NOW).expect_err("two bad files");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].file.ends_with("a.md"));
        assert!(errors[1].file.ends_with("c.md"));
    }

    #[test]
    fn kb_source_that_is_missing_or_empty() {
        let dir = TempDir::new().expect("temp dir");
        let missing = dir.path().join("nowhere");
        let errors = load_kb(&missing, NOW).expect_err("missing");
        assert_single_error(&errors, "nowhere", None, &["no such file"]);
        assert_eq!(
            errors[0].to_string(),
            format!("{}: no such file or directory", missing.display())
        );
        let errors = load_kb(dir.path(), NOW).expect_err("empty");
        assert_single_error(&errors, "", None, &["no KB articles"]);
    }

    const REPLIES_ZH: &str = r#"
[[reply]]
id = "cr-zh-refund-eta"
title = "退款到账时间"
shortcut = "tk"
category = "refunds"
body = """
您好，订单 {order_no} 的退款已原路退回，预计 {eta} 前到账。
"""

[[reply.placeholders]]
name = "order_no"
kind = "order_no"
required = true

[[reply.placeholders]]
name = "eta"
kind = "date"
fallback = "3 个工作日"

[[reply]]
id = "cr-zh-greet"
locale = "zh-CN"
title = "问候"
shortcut = "hi"
category = "general"
body = "您好，请问有什么可以帮您？{ 不是占位符 }"
"#;

    #[test]
    fn canned_replies_happy_path() {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "canned-replies/zh-CN.toml", REPLIES_ZH);
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-en-hi\"\ntitle = \"Hi\"\nshortcut = \"hi\"\ncategory = \"general\"\nbody = \"Hello!\"\n",
        );
        let set = load_content_dir(dir.path(), NOW).expect("valid replies");
        assert_eq!(set.canned_replies.len(), 3);
        let en = &set.canned_replies[0];
        assert_eq!((en.id.as_str(), en.locale.as_str()), ("cr-en-hi", "en"));
        let refund = &set.canned_replies[1];
        assert_eq!(refund.locale, "zh-CN");
        assert!(!refund.body.ends_with('\n'));
        assert_eq!(refund.placeholders.len(), 2);
        assert_eq!(refund.placeholders[0].kind, PlaceholderKind::OrderNo);
        assert!(refund.placeholders[0].required);
        assert_eq!(
            refund.placeholders[1].fallback.as_deref(),
            Some("3 个工作日")
        );
        assert!(set.kb.is_empty() && set.scripts.is_empty() && set.scenarios.is_empty());
    }

    #[test]
    fn undeclared_placeholder() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-en-ship\"\ntitle = \"Shipped\"\nshortcut = \"ship\"\ncategory = \"delivery\"\nbody = \"\"\"\nHello,\nyour order {order_no} has shipped.\n\"\"\"\n",
        );
        let errors = load_content_dir(dir.path(), NOW).expect_err("undeclared");
        assert_single_error(&errors, "en.toml", Some(8), &["{order_no}", "cr-en-ship"]);
    }

    #[test]
    fn unused_placeholder() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-en-hi\"\ntitle = \"Hi\"\nshortcut = \"hi\"\ncategory = \"general\"\nbody = \"Hello!\"\n\n[[reply.placeholders]]\nname = \"customer_name\"\nkind = \"text\"\n",
        );
        let errors = load_content_dir(dir.path(), NOW).expect_err("unused");
        assert_single_error(
            &errors,
            "en.toml",
            Some(9),
            &["\"customer_name\"", "never uses"],
        );
    }

    #[test]
    fn reply_rules_shortcut_locale_and_file_name() {
        let dir = TempDir::new().expect("temp dir");
        write(
            dir.path(),
            "canned-replies/en.toml",
            "[[reply]]\nid = \"cr-1\"\ntitle = \"A\"\nshortcut = \"hi\"\ncategory = \"c\"\nbody = \"A\"\n\n\
             [[reply]]\nid = \"cr-2\"\nlocale = \"zh-CN\"\ntitle = \"B\"\nshortcut = \"hi\"\ncategory = \"c\"\nbody = \"B\"\n\n\
             [[reply]]\nid = \"cr-3\"\ntitle = \"C\"\nshortcut = \"Bad-Cut\"\ncategory = \"c\"\nbody = \"C\"\n",
        );
        write(dir.path(), "canned-replies/fr.toml", "");
        let errors = load_content_dir(dir.path(), NOW).expect_err("bad replies");
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert_error(
            &errors[0],
            "en.toml",
            Some(10),
            &["\"zh-CN\"", "does not match"],
        );
        assert_error(
            &errors[1],
            "en.toml",
            Some(12),
            &["\"hi\"", "cr-1", "en.toml:4"],
        );
        assert_error(&errors[2], "en.toml", Some(19), &["\"Bad-Cut\""]);
        assert_error(&errors[3], "fr.toml", None, &["\"fr\""]);
        assert_error(&errors[4], "fr.toml", None, &["[[reply]]"]);
    }

    pub(crate) const SCRIPT: &str = r#"id = "sc-zh-verify"
locale = "zh-CN"
title = "核实身份"
category = "security"
keywords = ["身份"]
start = "greet"

[[step]]
id = "greet"
text = "您好，这里是客服中心。"

[[step.branch]]
label = "是本人"
next = "verify"

[[step.branch]]
label = "不是本人"
next = "end"

[[step]]
id = "verify"
text = "请提供订单号后四位。"
checkpoint = true

[[step.branch]]
label = "已核实"
next = "end"

[[step]]
id = "end"
text = "感谢来电。"
"#;

    fn load_script(text: &str) -> Result<ContentSet, Vec<ContentError>> {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "scripts/verify.toml", text);
        load_content_dir(dir.path(), NOW)
    }

    #[test]
    fn script_happy_path() {
        let set = load_script(SCRIPT).expect("valid script");
        let script = &set.scripts[0];
        assert_eq!(script.start, "greet");
        assert_eq!(script.keywords, vec!["身份".to_owned()]);
        assert_eq!(script.steps.len(), 3);
        assert!(script.steps[1].checkpoint);
        assert_eq!(script.steps[0].branches[0].next, "verify");
        assert!(script.steps[2].branches.is_empty());
    }

    #[test]
    fn script_with_dangling_next() {
        let errors = load_script(&SCRIPT.replace("next = \"verify\"", "next = \"verfy\""))
            .expect_err("dangling");
        // "verify" is now also unreachable; the dangling branch comes first.
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "verify.toml",
            Some(14),
            &[
                r#"step "greet": branch "是本人" goes to "verfy", which is not a step in this script"#,
            ],
        );
        assert_error(
            &errors[1],
            "verify.toml",
            Some(21),
            &["\"verify\"", "cannot be reached"],
        );
    }

    #[test]
    fn script_with_dangling_start() {
        let errors = load_script(&SCRIPT.replace("start = \"greet\"", "start = \"hello\""))
            .expect_err("start");
        assert_single_error(&errors, "verify.toml", Some(6), &["\"hello\"", "start"]);
    }

    #[test]
    fn script_with_unreachable_step() {
        let text = format!("{SCRIPT}\n[[step]]\nid = \"orphan\"\ntext = \"没人来这里\"\n");
        let errors = load_script(&text).expect_err("unreachable");
        assert_single_error(
            &errors,
            "verify.toml",
            Some(34),
            &["\"orphan\"", "cannot be reached"],
        );
    }

    #[test]
    fn script_without_end_step() {
        let text = format!("{SCRIPT}\n[[step.branch]]\nlabel = \"再来\"\nnext = \"greet\"\n");
        let errors = load_script(&text).expect_err("no end");
        assert_single_error(
            &errors,
            "verify.toml",
            None,
            &["sc-zh-verify", "no end step"],
        );
    }

    #[test]
    fn script_with_self_loop() {
        let text = SCRIPT.replace(
            "label = \"已核实\"\nnext = \"end\"",
            "label = \"已核实\"\nnext = \"end\"\n\n[[step.branch]]\nlabel = \"再问一次\"\nnext = \"verify\"",
        );
        let errors = load_script(&text).expect_err("self loop");
        assert_single_error(&errors, "verify.toml", Some(31), &["\"verify\"", "itself"]);
    }

    #[test]
    fn script_with_duplicate_step_id() {
        let text = SCRIPT.replace("id = \"end\"", "id = \"verify\"");
        let errors = load_script(&text).expect_err("duplicate step");
        assert!(
            errors
                .iter()
                .any(|e| e.line == Some(30) && e.message.contains("step id \"verify\"")),
            "{errors:#?}"
        );
    }

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
        crate::scenario_check::tests::write_practice(dir.path());
        let set = load_content_dir(dir.path(), NOW).expect("valid content");
        assert_eq!(set.kb.len(), 2);
        assert_eq!(set.canned_replies.len(), 2);
        assert_eq!(set.scripts.len(), 1);
        assert_eq!(set.scenarios.len(), 1);
        assert_eq!(set.scenario_docs.len(), 1);
        assert_eq!(set.packs.len(), 1);
        assert_eq!(set.plays.len(), 1);
    }

    const WORLD: &str = r#"
[[queue]]
id = "presale"
name_zh = "售前"
name_en = "Pre-sale"
first_response_secs = 60
resolve_secs = 1800

[[queue]]
id = "aftersale"
name_zh = "售后"
name_en = "After-sale"
first_response_secs = 120
resolve_secs = 86400
skills = ["refunds"]
business_hours = { open_minute = 540, close_minute = 1320, utc_offset_minutes = 480 }

[[agent]]
code = "a1001"
name = "王芳"
role = "agent"
queues = ["presale", "aftersale"]
skills = ["refunds"]
max_chats = 4

[[agent]]
code = "t2001"
name = "李明"
role = "trainee"
queues = ["presale"]
skills = []
max_chats = 2

[[customer]]
id = "c-001"
name = "张伟"
phone = "13812345678"
city = "杭州"

[[traffic]]
channel = "chat"
queue = "aftersale"
category = "refunds"
skills = ["refunds"]
subject = "退款什么时候到账"
messages = ["你好", "我的退款还没到"]
order_no_prefix = "JD"
"#;

    #[test]
    fn world_happy_path() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(dir.path(), "world.toml", WORLD);
        let world = load_world(&file).expect("valid world");
        assert_eq!(world.queues.len(), 2);
        assert_eq!(world.queues[0].business_hours, DEFAULT_BUSINESS_HOURS);
        assert_eq!(world.queues[1].business_hours.open_minute, 540);
        assert_eq!(world.agents[1].role, Role::Trainee);
        assert_eq!(world.customers[0].city, "杭州");
        assert_eq!(world.traffic[0].channel, Channel::Chat);
        assert_eq!(world.traffic[0].order_no_prefix.as_deref(), Some("JD"));
    }

    #[test]
    fn world_with_agent_in_unknown_queue() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(
            dir.path(),
            "world.toml",
            &WORLD.replace(
                "queues = [\"presale\"]\n",
                "queues = [\"presale\",\n  \"vip\"]\n",
            ),
        );
        let errors = load_world(&file).expect_err("unknown queue");
        assert_single_error(&errors, "world.toml", Some(31), &["t2001", "\"vip\""]);
    }

    #[test]
    fn world_rules_traffic_queue_duplicates_and_hours() {
        let dir = TempDir::new().expect("temp dir");
        let text = WORLD
            .replace("code = \"t2001\"", "code = \"a1001\"")
            .replace("queue = \"aftersale\"", "queue = \"refund\"")
            .replace("messages = [\"你好\", \"我的退款还没到\"]", "messages = []")
            .replace("open_minute = 540", "open_minute = 1400")
            .replace("role = \"trainee\"", "role = \"boss\"");
        let file = write(dir.path(), "world.toml", &text);
        // An unknown role is a parse error, reported alone with its line.
        let errors = load_world(&file).expect_err("bad role");
        assert_single_error(&errors, "world.toml", Some(29), &["boss"]);

        let file = write(
            dir.path(),
            "world.toml",
            &text.replace("role = \"boss\"", "role = \"supervisor\""),
        );
        let errors = load_world(&file).expect_err("bad world");
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert_error(&errors[0], "world.toml", Some(16), &["open_minute = 1400"]);
        assert_error(
            &errors[1],
            "world.toml",
            Some(27),
            &["agent id \"a1001\"", ":19"],
        );
        assert_error(&errors[2], "world.toml", Some(42), &["\"refund\""]);
        assert_error(&errors[3], "world.toml", Some(46), &["messages"]);
    }

    #[test]
    fn placeholder_references_only_snake_case_identifiers() {
        assert_eq!(
            placeholder_references("{a} {b_2} {a} {Not} {} {x y} {{c}} {9d}"),
            vec!["a", "b_2", "c"]
        );
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
