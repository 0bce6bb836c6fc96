//! Loading and checking practice content (`scenarios/`): scenario files,
//! packs (`scenarios/packs/*.toml`) and scripted play-throughs
//! (`scenarios/answers/<scenario-id>.toml`), against the knowledge base and
//! the call scripts they refer to.
//!
//! Every file is parsed twice: once into the public types of
//! [`crate::scenario`], exactly as the app and the simulator parse a
//! scenario's `source` (so what passes here also parses there), and once into
//! span-carrying mirrors, so every problem found afterwards can name its line.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::OsStr;
use std::path::Path;

use homedesk_protocol::{DISPOSITIONS, KbArticle, Scenario, Script, UnixMillis};
use serde::Deserialize;
use toml::Spanned;

use crate::scenario::{Pack, PlayFile, ScenarioDoc, Trigger};
use crate::{
    ContentError, IdRegistry, KB_FOLDER, Located, Problems, SCENARIOS_FOLDER, SCRIPTS_FOLDER,
    TomlDoc, files_with_extension, read_markdown_kb, read_scripts, read_text, require_locale,
    require_no_empty_entries, require_text,
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
            kb = Some(read_markdown_kb(&kb_dir, now, &mut ids, &mut problems));
        }
        let scripts_dir = root.join(SCRIPTS_FOLDER);
        if scripts_dir.is_dir() {
            scripts = Some(read_scripts(&scripts_dir, &mut problems));
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

// ---------------------------------------------------------------------------
// What scenarios may refer to.

struct ScriptFacts<'a> {
    locale: &'a str,
    steps: HashSet<&'a str>,
}

/// The articles and scripts loaded beside the scenarios; `None` when that
/// kind of content was not loaded (then only the form of a reference is
/// checked).
pub(crate) struct References<'a> {
    /// Article id → locale.
    kb: Option<HashMap<&'a str, &'a str>>,
    scripts: Option<HashMap<&'a str, ScriptFacts<'a>>>,
}

impl<'a> References<'a> {
    pub(crate) fn new(kb: Option<&'a [KbArticle]>, scripts: Option<&'a [Script]>) -> Self {
        References {
            kb: kb.map(|articles| {
                articles
                    .iter()
                    .map(|article| (article.id.as_str(), article.locale.as_str()))
                    .collect()
            }),
            scripts: scripts.map(|scripts| {
                scripts
                    .iter()
                    .map(|script| {
                        let facts = ScriptFacts {
                            locale: script.locale.as_str(),
                            steps: script.steps.iter().map(|step| step.id.as_str()).collect(),
                        };
                        (script.id.as_str(), facts)
                    })
                    .collect()
            }),
        }
    }
}

/// Where a reference is made: the file, the scenario's locale, its intent
/// groups, and what exists to refer to.
struct Site<'s, 'r> {
    path: &'s Path,
    /// The scenario's locale when it is a supported one (articles and
    /// scripts must share it).
    locale: Option<&'s str>,
    /// `None` where intents cannot be used (play-throughs).
    intents: Option<&'s BTreeMap<String, Spanned<Vec<String>>>>,
    references: &'s References<'r>,
}

// ---------------------------------------------------------------------------
// Span-carrying mirrors of the public types. Lenient (no
// `deny_unknown_fields`): the public types, parsed first, decide what is
// allowed; these only add lines.

#[derive(Deserialize)]
struct ScenarioSpans {
    id: Spanned<String>,
    locale: Spanned<String>,
    title: Spanned<String>,
    category: Spanned<String>,
    summary: Spanned<String>,
    customer: CustomerSpans,
    opening: Spanned<String>,
    patience: PatienceSpans,
    #[serde(default)]
    intents: BTreeMap<String, Spanned<Vec<String>>>,
    #[serde(rename = "turn")]
    turns: Vec<Spanned<TurnSpans>>,
    rubric: RubricSpans,
}

#[derive(Deserialize)]
struct CustomerSpans {
    name: Spanned<String>,
    phone: Spanned<String>,
    persona: Spanned<String>,
    #[serde(default, rename = "order")]
    orders: Vec<OrderSpans>,
}

#[derive(Deserialize)]
struct OrderSpans {
    order_no: Spanned<String>,
    item: Spanned<String>,
    amount_fen: Spanned<i64>,
    status: Spanned<String>,
}

#[derive(Deserialize)]
struct PatienceSpans {
    nudge_after_secs: Spanned<u32>,
    nudge: Spanned<String>,
    escalate_after_secs: Spanned<u32>,
    escalation: Spanned<String>,
}

#[derive(Deserialize)]
struct TurnSpans {
    id: Spanned<String>,
    #[serde(default, rename = "reaction")]
    reactions: Vec<ReactionSpans>,
}

#[derive(Deserialize)]
struct ReactionSpans {
    when: Spanned<Trigger>,
    #[serde(default)]
    next: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct RubricSpans {
    pass_mark: Spanned<u8>,
    response_secs: Spanned<u32>,
    disposition: Spanned<String>,
    #[serde(default)]
    helpful_article: Option<Spanned<String>>,
    #[serde(rename = "item")]
    items: Vec<Spanned<ItemSpans>>,
}

#[derive(Deserialize)]
struct ItemSpans {
    id: Spanned<String>,
    description: Spanned<String>,
    points: Spanned<u32>,
    check: Spanned<CheckSpans>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum CheckSpans {
    Did(Spanned<Trigger>),
    Avoid(AvoidSpans),
    RespondInTime(bool),
    NoEscalation(bool),
    CorrectDisposition(bool),
}

#[derive(Deserialize)]
struct AvoidSpans {
    phrases: Spanned<Vec<String>>,
    #[serde(default)]
    unless_after: Option<Spanned<String>>,
    reason: Spanned<String>,
}

#[derive(Deserialize)]
struct PackSpans {
    id: Spanned<String>,
    locale: Spanned<String>,
    title: Spanned<String>,
    pass_mark: Spanned<u8>,
    scenarios: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
struct PlayFileSpans {
    #[serde(rename = "play")]
    plays: Vec<Spanned<PlaySpans>>,
}

#[derive(Deserialize)]
struct PlaySpans {
    name: Spanned<String>,
    #[serde(default)]
    expect_missed: Vec<Spanned<String>>,
    #[serde(default)]
    expect_end_turn: Option<Spanned<String>>,
    #[serde(rename = "step")]
    steps: Vec<Spanned<StepSpans>>,
}

#[derive(Deserialize)]
struct StepSpans {
    at_secs: Spanned<u32>,
    #[serde(default)]
    reply: Option<Spanned<String>>,
    #[serde(default)]
    article: Option<Spanned<String>>,
    #[serde(default)]
    script_step: Option<Spanned<String>>,
    #[serde(default)]
    wrap_up: Option<Spanned<String>>,
}

// ---------------------------------------------------------------------------
// The folder.

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
        match read_scenario_file(&path, references, &mut ids, &mut local) {
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
            if let Some(pack) = read_pack_file(&path, &known, &mut pack_ids, &mut local) {
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
            if let Some(file) = read_play_file(&path, &known, references, &mut local) {
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

fn line_of<T>(doc: &TomlDoc<'_>, spanned: &Spanned<T>) -> Option<usize> {
    Some(doc.line_at(spanned.span().start))
}

fn locate_ref(doc: &TomlDoc<'_>, spanned: &Spanned<String>) -> Located<String> {
    Located {
        value: spanned.get_ref().clone(),
        line: line_of(doc, spanned),
    }
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

// ---------------------------------------------------------------------------
// Scenario files.

fn read_scenario_file(
    path: &Path,
    references: &References<'_>,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Option<(Scenario, ScenarioDoc)> {
    let text = read_text(path, problems)?;
    let doc = TomlDoc::whole_file(path, &text);
    let scenario: ScenarioDoc = doc.parse(problems)?;
    let spans: ScenarioSpans = doc.parse(problems)?;
    check_scenario(doc, &spans, references, ids, problems);
    let record = Scenario {
        id: scenario.id.clone(),
        locale: scenario.locale.clone(),
        title: scenario.title.clone(),
        source: text.clone(),
    };
    Some((record, scenario))
}

fn check_scenario(
    doc: TomlDoc<'_>,
    scenario: &ScenarioSpans,
    references: &References<'_>,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) {
    let path = doc.path;
    let id = locate_ref(&doc, &scenario.id);
    let locale = locate_ref(&doc, &scenario.locale);
    let context = format!("scenario \"{}\"", id.value);

    ids.claim(path, &id, problems);
    require_text(problems, path, &context, "id", &id);
    require_locale(problems, path, &context, &locale);
    check_scenario_id(path, &id, &locale.value, problems);
    for (key, field) in [
        ("title", &scenario.title),
        ("category", &scenario.category),
        ("summary", &scenario.summary),
        ("opening", &scenario.opening),
    ] {
        require_text(problems, path, &context, key, &locate_ref(&doc, field));
    }
    check_customer(doc, &scenario.customer, problems);
    check_patience(doc, &scenario.patience, problems);
    check_intents(doc, &scenario.intents, problems);

    let site = Site {
        path,
        locale: crate::LOCALES
            .contains(&locale.value.as_str())
            .then_some(locale.value.as_str()),
        intents: Some(&scenario.intents),
        references,
    };
    check_turns(doc, &context, &scenario.turns, &site, problems);
    check_rubric(doc, &scenario.rubric, &site, problems);
}

/// `sc-<language>-<name>`, lowercase, and the file is named after it.
fn check_scenario_id(path: &Path, id: &Located<String>, locale: &str, problems: &mut Problems) {
    if id.value.trim().is_empty() {
        return;
    }
    let stem = file_stem(path);
    if stem != id.value {
        problems.add(
            path,
            id.line,
            format!(
                "scenario id \"{}\" does not match the file name \"{stem}.toml\"; name the file \
                 \"{}.toml\" or change the id",
                id.value, id.value
            ),
        );
    }
    if crate::LOCALES.contains(&locale) {
        let prefix = format!("sc-{}-", language_of(locale));
        let named = id
            .value
            .strip_prefix(&prefix)
            .is_some_and(|rest| !rest.is_empty());
        if !named {
            problems.add(
                path,
                id.line,
                format!(
                    "scenario id \"{}\" must start with \"{prefix}\" (sc-, the language of \
                     locale \"{locale}\", then a short name)",
                    id.value
                ),
            );
        }
    }
    if !is_slug(&id.value) {
        problems.add(
            path,
            id.line,
            format!(
                "scenario id \"{}\" may only use lowercase letters, digits and \"-\"",
                id.value
            ),
        );
    }
}

fn check_customer(doc: TomlDoc<'_>, customer: &CustomerSpans, problems: &mut Problems) {
    let path = doc.path;
    for (key, field) in [
        ("name", &customer.name),
        ("phone", &customer.phone),
        ("persona", &customer.persona),
    ] {
        require_text(problems, path, "customer", key, &locate_ref(&doc, field));
    }
    let mut order_numbers = IdRegistry::with_noun("order", "number");
    for order in &customer.orders {
        let order_no = locate_ref(&doc, &order.order_no);
        let context = format!("customer order \"{}\"", order_no.value);
        require_text(problems, path, &context, "order_no", &order_no);
        order_numbers.claim(path, &order_no, problems);
        require_text(
            problems,
            path,
            &context,
            "item",
            &locate_ref(&doc, &order.item),
        );
        require_text(
            problems,
            path,
            &context,
            "status",
            &locate_ref(&doc, &order.status),
        );
        let amount = *order.amount_fen.get_ref();
        if amount <= 0 {
            problems.add(
                path,
                line_of(&doc, &order.amount_fen),
                format!(
                    "{context}: amount_fen = {amount} must be more than 0 (the price in fen: \
                     ¥12.50 is 1250)"
                ),
            );
        }
    }
}

fn check_patience(doc: TomlDoc<'_>, patience: &PatienceSpans, problems: &mut Problems) {
    let path = doc.path;
    let nudge_after = *patience.nudge_after_secs.get_ref();
    let escalate_after = *patience.escalate_after_secs.get_ref();
    if nudge_after == 0 {
        problems.add(
            path,
            line_of(&doc, &patience.nudge_after_secs),
            "patience: nudge_after_secs must be more than 0 (seconds without a reply before \
             the customer nudges)",
        );
    }
    if escalate_after == 0 {
        problems.add(
            path,
            line_of(&doc, &patience.escalate_after_secs),
            "patience: escalate_after_secs must be more than 0 (seconds without a reply \
             before the customer escalates)",
        );
    } else if nudge_after >= escalate_after {
        problems.add(
            path,
            line_of(&doc, &patience.escalate_after_secs),
            format!(
                "patience: escalate_after_secs ({escalate_after}) must be more than \
                 nudge_after_secs ({nudge_after}): the customer nudges first and escalates later"
            ),
        );
    }
    require_text(
        problems,
        path,
        "patience",
        "nudge",
        &locate_ref(&doc, &patience.nudge),
    );
    require_text(
        problems,
        path,
        "patience",
        "escalation",
        &locate_ref(&doc, &patience.escalation),
    );
}

fn check_intents(
    doc: TomlDoc<'_>,
    intents: &BTreeMap<String, Spanned<Vec<String>>>,
    problems: &mut Problems,
) {
    let path = doc.path;
    for (name, words) in intents {
        let line = line_of(&doc, words);
        let context = format!("intent \"{name}\"");
        if name.trim().is_empty() {
            problems.add(path, line, "an intent group has an empty name");
        }
        if words.get_ref().is_empty() {
            problems.add(
                path,
                line,
                format!("{context} has no words, so it can never match; list at least one"),
            );
        }
        let located = Located {
            value: words.get_ref().clone(),
            line,
        };
        require_no_empty_entries(problems, path, &context, "words", &located);
    }
}

fn check_turns(
    doc: TomlDoc<'_>,
    context: &str,
    turns: &[Spanned<TurnSpans>],
    site: &Site<'_, '_>,
    problems: &mut Problems,
) {
    let path = doc.path;
    if turns.is_empty() {
        problems.add(
            path,
            None,
            format!("{context} has no turns: add [[turn]] tables"),
        );
        return;
    }
    let mut turn_ids = IdRegistry::new("turn");
    for turn in turns {
        let id = locate_ref(&doc, &turn.get_ref().id);
        turn_ids.claim(path, &id, problems);
        require_text(problems, path, "turn", "id", &id);
    }
    let existing: Vec<&str> = turns
        .iter()
        .map(|turn| turn.get_ref().id.get_ref().as_str())
        .collect();

    for turn in turns {
        let turn_id = turn.get_ref().id.get_ref();
        let mut catch_all: Option<usize> = None;
        for (index, reaction) in turn.get_ref().reactions.iter().enumerate() {
            let number = index + 1;
            let reaction_context = format!("turn \"{turn_id}\", reaction {number}");
            let when_line = line_of(&doc, &reaction.when);
            check_trigger(
                site,
                &reaction_context,
                reaction.when.get_ref(),
                when_line,
                problems,
            );
            let is_reply_trigger = matches!(
                reaction.when.get_ref(),
                Trigger::Keywords(_) | Trigger::Intent(_) | Trigger::AnyReply(true)
            );
            if let Some(earlier) = catch_all
                && is_reply_trigger
            {
                problems.add(
                    path,
                    when_line,
                    format!(
                        "{reaction_context} can never fire: reaction {earlier} before it \
                         (any_reply = true) already answers every reply; move the any_reply \
                         reaction last"
                    ),
                );
            }
            if catch_all.is_none() && matches!(reaction.when.get_ref(), Trigger::AnyReply(true)) {
                catch_all = Some(number);
            }
            if let Some(next) = &reaction.next
                && !existing.contains(&next.get_ref().as_str())
            {
                problems.add(
                    path,
                    line_of(&doc, next),
                    format!(
                        "{reaction_context}: next = \"{}\" is not a turn of this scenario; the \
                         turns are {}",
                        next.get_ref(),
                        quoted_list(existing.iter().copied())
                    ),
                );
            }
        }
    }

    if !turns.iter().any(|turn| turn.get_ref().reactions.is_empty()) {
        problems.add(
            path,
            None,
            format!(
                "{context} has no end turn: every turn has reactions, so the customer never \
                 finishes; leave at least one [[turn]] without [[turn.reaction]]"
            ),
        );
    }

    // One problem per part of the conversation that cannot be reached: the
    // first unreachable turn of it (in file order) names the turns behind it.
    let first = turns[0].get_ref().id.get_ref().as_str();
    let reachable = turns_reachable_from(first, turns);
    let mut covered: HashSet<&str> = HashSet::new();
    for turn in turns {
        let id = turn.get_ref().id.get_ref().as_str();
        if reachable.contains(id) || covered.contains(id) {
            continue;
        }
        let behind_it = turns_reachable_from(id, turns);
        let followers: Vec<&str> = existing
            .iter()
            .copied()
            .filter(|other| {
                *other != id
                    && behind_it.contains(other)
                    && !reachable.contains(other)
                    && !covered.contains(other)
            })
            .collect();
        covered.extend(behind_it);
        let also = if followers.is_empty() {
            String::new()
        } else {
            format!(" (so neither can {})", quoted_list(followers))
        };
        problems.add(
            path,
            line_of(&doc, &turn.get_ref().id),
            format!(
                "turn \"{id}\" cannot be reached from the first turn \"{first}\"{also}; add a \
                 reaction with next = \"{id}\" or remove the turn"
            ),
        );
    }
}

fn turns_reachable_from<'a>(first: &'a str, turns: &'a [Spanned<TurnSpans>]) -> HashSet<&'a str> {
    let mut reachable = HashSet::from([first]);
    let mut pending = VecDeque::from([first]);
    while let Some(current) = pending.pop_front() {
        let nexts = turns
            .iter()
            .map(Spanned::get_ref)
            .filter(|turn| turn.id.get_ref() == current)
            .flat_map(|turn| &turn.reactions)
            .filter_map(|reaction| reaction.next.as_ref());
        for next in nexts {
            let next = next.get_ref().as_str();
            if reachable.insert(next) {
                pending.push_back(next);
            }
        }
    }
    reachable
}

fn check_trigger(
    site: &Site<'_, '_>,
    context: &str,
    trigger: &Trigger,
    line: Option<usize>,
    problems: &mut Problems,
) {
    let path = site.path;
    match trigger {
        Trigger::Keywords(words) => {
            check_keywords(path, context, "keywords", words, line, problems)
        }
        Trigger::Intent(name) => check_intent_name(site, context, name, line, problems),
        Trigger::Article(id) => check_article(site, context, "article", id, line, problems),
        Trigger::ScriptStep(step) => check_script_step(site, context, step, line, problems),
        Trigger::Disposition(code) => {
            check_disposition(path, context, "disposition", code, line, problems);
        }
        Trigger::AnyReply(true) => {}
        Trigger::AnyReply(false) => problems.add(
            path,
            line,
            format!("{context}: any_reply = false never fires; write any_reply = true"),
        ),
    }
}

fn check_keywords(
    path: &Path,
    context: &str,
    key: &str,
    words: &[String],
    line: Option<usize>,
    problems: &mut Problems,
) {
    if words.is_empty() {
        problems.add(
            path,
            line,
            format!("{context}: {key} = [] can never match; list at least one word or phrase"),
        );
    } else if words.iter().any(|word| word.trim().is_empty()) {
        problems.add(
            path,
            line,
            format!("{context}: \"{key}\" contains an empty entry"),
        );
    }
}

fn check_intent_name(
    site: &Site<'_, '_>,
    context: &str,
    name: &str,
    line: Option<usize>,
    problems: &mut Problems,
) {
    let Some(intents) = site.intents else {
        return;
    };
    if intents.contains_key(name) {
        return;
    }
    let defined = if intents.is_empty() {
        "this scenario has no [intents] table".to_owned()
    } else {
        format!(
            "the groups are {}",
            quoted_list(intents.keys().map(String::as_str))
        )
    };
    problems.add(
        site.path,
        line,
        format!(
            "{context}: intent \"{name}\" is not defined; add a group {name} = [\"…\"] under \
             [intents] ({defined})"
        ),
    );
}

fn check_article(
    site: &Site<'_, '_>,
    context: &str,
    key: &str,
    id: &str,
    line: Option<usize>,
    problems: &mut Problems,
) {
    let path = site.path;
    match &site.references.kb {
        None => {
            if !crate::is_kb_id(id) {
                problems.add(
                    path,
                    line,
                    format!(
                        "{context}: {key} = \"{id}\" is not a knowledge-base article id (those \
                         are \"kb-\" followed by lowercase letters, digits and \"-\")"
                    ),
                );
            }
        }
        Some(kb) => match kb.get(id) {
            None => problems.add(
                path,
                line,
                format!("{context}: {key} = \"{id}\": no knowledge-base article has this id"),
            ),
            Some(article_locale) => {
                if let Some(locale) = site.locale
                    && *article_locale != locale
                {
                    problems.add(
                        path,
                        line,
                        format!(
                            "{context}: {key} = \"{id}\" is a \"{article_locale}\" article but \
                             this scenario is \"{locale}\"; use an article in the scenario's \
                             language"
                        ),
                    );
                }
            }
        },
    }
}

fn check_script_step(
    site: &Site<'_, '_>,
    context: &str,
    reference: &str,
    line: Option<usize>,
    problems: &mut Problems,
) {
    let path = site.path;
    let parts = reference
        .split_once('#')
        .filter(|(script, step)| !script.is_empty() && !step.is_empty() && !step.contains('#'));
    let Some((script_id, step_id)) = parts else {
        problems.add(
            path,
            line,
            format!(
                "{context}: script_step = \"{reference}\" must be written \"script-id#step-id\" \
                 (the call script's id, \"#\", then the id of one of its steps)"
            ),
        );
        return;
    };
    let Some(scripts) = &site.references.scripts else {
        return;
    };
    match scripts.get(script_id) {
        None => problems.add(
            path,
            line,
            format!(
                "{context}: script_step = \"{reference}\": there is no call script \"{script_id}\""
            ),
        ),
        Some(script) => {
            if !script.steps.contains(step_id) {
                let mut steps: Vec<&str> = script.steps.iter().copied().collect();
                steps.sort_unstable();
                problems.add(
                    path,
                    line,
                    format!(
                        "{context}: script_step = \"{reference}\": script \"{script_id}\" has no \
                         step \"{step_id}\"; its steps are {}",
                        quoted_list(steps)
                    ),
                );
            }
            if let Some(locale) = site.locale
                && script.locale != locale
            {
                problems.add(
                    path,
                    line,
                    format!(
                        "{context}: script_step = \"{reference}\": script \"{script_id}\" is \
                         \"{}\" but this scenario is \"{locale}\"; use a script in the \
                         scenario's language",
                        script.locale
                    ),
                );
            }
        }
    }
}

fn check_disposition(
    path: &Path,
    context: &str,
    key: &str,
    code: &str,
    line: Option<usize>,
    problems: &mut Problems,
) {
    if !DISPOSITIONS.contains(&code) {
        problems.add(
            path,
            line,
            format!(
                "{context}: {key} = \"{code}\" is not a wrap-up code; use one of {}",
                DISPOSITIONS.join(", ")
            ),
        );
    }
}

fn check_rubric(
    doc: TomlDoc<'_>,
    rubric: &RubricSpans,
    site: &Site<'_, '_>,
    problems: &mut Problems,
) {
    let path = doc.path;
    check_pass_mark(path, "rubric", &doc, &rubric.pass_mark, problems);
    if *rubric.response_secs.get_ref() == 0 {
        problems.add(
            path,
            line_of(&doc, &rubric.response_secs),
            "rubric: response_secs must be more than 0 (the target time for a reply, in seconds)",
        );
    }
    check_disposition(
        path,
        "rubric",
        "disposition",
        rubric.disposition.get_ref(),
        line_of(&doc, &rubric.disposition),
        problems,
    );
    if let Some(article) = &rubric.helpful_article {
        check_article(
            site,
            "rubric",
            "helpful_article",
            article.get_ref(),
            line_of(&doc, article),
            problems,
        );
    }
    if rubric.items.is_empty() {
        problems.add(
            path,
            None,
            "the rubric has no items, so nothing can be scored: add [[rubric.item]] tables",
        );
        return;
    }

    let mut item_ids = IdRegistry::new("rubric item");
    for item in &rubric.items {
        let id = locate_ref(&doc, &item.get_ref().id);
        item_ids.claim(path, &id, problems);
        require_text(problems, path, "rubric item", "id", &id);
    }
    let existing: Vec<&str> = rubric
        .items
        .iter()
        .map(|item| item.get_ref().id.get_ref().as_str())
        .collect();

    for item in &rubric.items {
        let item = item.get_ref();
        let id = item.id.get_ref();
        let context = format!("rubric item \"{id}\"");
        require_text(
            problems,
            path,
            &context,
            "description",
            &locate_ref(&doc, &item.description),
        );
        if *item.points.get_ref() == 0 {
            problems.add(
                path,
                line_of(&doc, &item.points),
                format!("{context}: points must be more than 0"),
            );
        }
        let check_line = line_of(&doc, &item.check);
        match item.check.get_ref() {
            CheckSpans::Did(trigger) => {
                check_trigger(
                    site,
                    &context,
                    trigger.get_ref(),
                    line_of(&doc, trigger),
                    problems,
                );
            }
            CheckSpans::Avoid(avoid) => {
                check_avoid(doc, &context, id, avoid, &existing, site, problems);
            }
            CheckSpans::RespondInTime(flag) => {
                require_true(
                    path,
                    &context,
                    "respond_in_time",
                    *flag,
                    check_line,
                    problems,
                );
            }
            CheckSpans::NoEscalation(flag) => {
                require_true(path, &context, "no_escalation", *flag, check_line, problems);
            }
            CheckSpans::CorrectDisposition(flag) => {
                require_true(
                    path,
                    &context,
                    "correct_disposition",
                    *flag,
                    check_line,
                    problems,
                );
            }
        }
    }
}

/// `respond_in_time = false` and the like check nothing: surely a slip.
fn require_true(
    path: &Path,
    context: &str,
    key: &str,
    flag: bool,
    line: Option<usize>,
    problems: &mut Problems,
) {
    if !flag {
        problems.add(
            path,
            line,
            format!("{context}: {key} = false checks nothing; write {key} = true"),
        );
    }
}

fn check_avoid(
    doc: TomlDoc<'_>,
    context: &str,
    item_id: &str,
    avoid: &AvoidSpans,
    items: &[&str],
    site: &Site<'_, '_>,
    problems: &mut Problems,
) {
    let path = doc.path;
    let phrases_line = line_of(&doc, &avoid.phrases);
    let phrases = avoid.phrases.get_ref();
    check_keywords(path, context, "phrases", phrases, phrases_line, problems);
    for phrase in phrases {
        if let Some(name) = phrase.strip_prefix("intent:") {
            check_intent_name(site, context, name.trim(), phrases_line, problems);
        }
    }
    if let Some(after) = &avoid.unless_after {
        let after_id = after.get_ref();
        let line = line_of(&doc, after);
        if after_id == item_id {
            problems.add(
                path,
                line,
                format!(
                    "{context}: unless_after = \"{after_id}\" names this item itself; name the \
                     item that must be met first"
                ),
            );
        } else if !items.contains(&after_id.as_str()) {
            problems.add(
                path,
                line,
                format!(
                    "{context}: unless_after = \"{after_id}\" is not a rubric item of this \
                     scenario; the items are {}",
                    quoted_list(items.iter().copied())
                ),
            );
        }
    }
    require_text(
        problems,
        path,
        context,
        "reason",
        &locate_ref(&doc, &avoid.reason),
    );
}

fn check_pass_mark(
    path: &Path,
    context: &str,
    doc: &TomlDoc<'_>,
    pass_mark: &Spanned<u8>,
    problems: &mut Problems,
) {
    let value = *pass_mark.get_ref();
    if !(1..=100).contains(&value) {
        problems.add(
            path,
            line_of(doc, pass_mark),
            format!(
                "{context}: pass_mark = {value} must be 1 to 100 (the percentage of the points \
                 needed to pass)"
            ),
        );
    }
}

// ---------------------------------------------------------------------------
// Packs.

fn read_pack_file(
    path: &Path,
    known: &KnownScenarios<'_>,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Option<Pack> {
    let text = read_text(path, problems)?;
    let doc = TomlDoc::whole_file(path, &text);
    let pack: Pack = doc.parse(problems)?;
    let spans: PackSpans = doc.parse(problems)?;

    let id = locate_ref(&doc, &spans.id);
    let locale = locate_ref(&doc, &spans.locale);
    let context = format!("pack \"{}\"", id.value);
    ids.claim(path, &id, problems);
    require_text(problems, path, &context, "id", &id);
    require_locale(problems, path, &context, &locale);
    require_text(
        problems,
        path,
        &context,
        "title",
        &locate_ref(&doc, &spans.title),
    );
    check_pass_mark(path, &context, &doc, &spans.pass_mark, problems);

    let listed = spans.scenarios.get_ref();
    if listed.is_empty() {
        problems.add(
            path,
            line_of(&doc, &spans.scenarios),
            format!("{context}: scenarios = [] is empty; list the scenario ids of the pack"),
        );
    }
    let mut seen = HashSet::new();
    for entry in listed {
        let scenario_id = entry.get_ref().as_str();
        let line = line_of(&doc, entry);
        if !seen.insert(scenario_id) {
            problems.add(
                path,
                line,
                format!("{context}: scenario \"{scenario_id}\" is listed twice"),
            );
            continue;
        }
        match known.parsed.get(scenario_id) {
            Some(scenario) => {
                if scenario.locale != locale.value
                    && crate::LOCALES.contains(&scenario.locale.as_str())
                {
                    problems.add(
                        path,
                        line,
                        format!(
                            "{context}: scenario \"{scenario_id}\" is \"{}\" but the pack is \
                             \"{}\"; a pack holds scenarios of its own language",
                            scenario.locale, locale.value
                        ),
                    );
                }
            }
            None if known.unparsed.contains(scenario_id) => {}
            None => problems.add(
                path,
                line,
                format!(
                    "{context}: scenario \"{scenario_id}\" does not exist (no scenario file has \
                     this id)"
                ),
            ),
        }
    }
    Some(pack)
}

// ---------------------------------------------------------------------------
// Play-throughs.

fn read_play_file(
    path: &Path,
    known: &KnownScenarios<'_>,
    references: &References<'_>,
    problems: &mut Problems,
) -> Option<PlayFile> {
    let text = read_text(path, problems)?;
    let doc = TomlDoc::whole_file(path, &text);
    let file: PlayFile = doc.parse(problems)?;
    let spans: PlayFileSpans = doc.parse(problems)?;

    let scenario_id = file_stem(path);
    let scenario = known.parsed.get(scenario_id.as_str()).copied();
    if scenario.is_none() && !known.unparsed.contains(&scenario_id) {
        problems.add(
            path,
            None,
            format!(
                "there is no scenario \"{scenario_id}\" for these play-throughs; a play-through \
                 file is named after the id of the scenario it plays \
                 (answers/<scenario-id>.toml)"
            ),
        );
    }
    if spans.plays.is_empty() {
        problems.add(path, None, "no play-throughs here: add [[play]] tables");
    }
    let site = Site {
        path,
        locale: scenario
            .map(|scenario| scenario.locale.as_str())
            .filter(|locale| crate::LOCALES.contains(locale)),
        intents: None,
        references,
    };
    let mut names = IdRegistry::with_noun("play", "name");
    for play in &spans.plays {
        let play = play.get_ref();
        let name = locate_ref(&doc, &play.name);
        names.claim(path, &name, problems);
        require_text(problems, path, "play", "name", &name);
        let context = format!("play \"{}\"", name.value);
        check_play_steps(doc, &context, &play.steps, &site, problems);
        if let Some(scenario) = scenario {
            check_play_expectations(doc, &context, play, scenario, problems);
        }
    }
    Some(file)
}

fn check_play_steps(
    doc: TomlDoc<'_>,
    context: &str,
    steps: &[Spanned<StepSpans>],
    site: &Site<'_, '_>,
    problems: &mut Problems,
) {
    let path = doc.path;
    if steps.is_empty() {
        problems.add(
            path,
            None,
            format!("{context} has no steps: add [[play.step]] tables"),
        );
        return;
    }
    let mut previous_at: Option<u32> = None;
    let mut wrapped_up_at: Option<usize> = None;
    for (index, step) in steps.iter().enumerate() {
        let number = index + 1;
        let step_context = format!("{context}, step {number}");
        let step = step.get_ref();
        let at_line = line_of(&doc, &step.at_secs);
        let at = *step.at_secs.get_ref();

        if let Some(before) = previous_at
            && at < before
        {
            problems.add(
                path,
                at_line,
                format!(
                    "{step_context}: at_secs = {at} is earlier than the step before \
                     (at_secs = {before}); steps must be in time order"
                ),
            );
        }
        previous_at = Some(at);
        if let Some(wrap_step) = wrapped_up_at {
            problems.add(
                path,
                at_line,
                format!(
                    "{step_context} comes after the wrap-up in step {wrap_step}, which ends the \
                     contact; remove it or move the wrap-up last"
                ),
            );
        }

        let actions: Vec<(&str, &Spanned<String>)> = [
            ("reply", &step.reply),
            ("article", &step.article),
            ("script_step", &step.script_step),
            ("wrap_up", &step.wrap_up),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.as_ref().map(|value| (key, value)))
        .collect();
        match actions.as_slice() {
            [] => problems.add(
                path,
                at_line,
                format!(
                    "{step_context} does nothing: give it one of reply, article, script_step or \
                     wrap_up"
                ),
            ),
            [_] => {}
            [_, second, ..] => {
                let keys: Vec<&str> = actions.iter().map(|(key, _)| *key).collect();
                problems.add(
                    path,
                    line_of(&doc, second.1),
                    format!(
                        "{step_context} does {} at once; a step does exactly one thing, so \
                         split it into {} steps",
                        keys.join(" and "),
                        keys.len()
                    ),
                );
            }
        }
        for (key, value) in &actions {
            let line = line_of(&doc, value);
            let value = value.get_ref();
            match *key {
                "reply" => require_text(
                    problems,
                    path,
                    &step_context,
                    "reply",
                    &Located {
                        value: value.clone(),
                        line,
                    },
                ),
                "article" => check_article(site, &step_context, "article", value, line, problems),
                "script_step" => check_script_step(site, &step_context, value, line, problems),
                _ => {
                    check_disposition(path, &step_context, "wrap_up", value, line, problems);
                    wrapped_up_at.get_or_insert(number);
                }
            }
        }
    }
}

fn check_play_expectations(
    doc: TomlDoc<'_>,
    context: &str,
    play: &PlaySpans,
    scenario: &ScenarioDoc,
    problems: &mut Problems,
) {
    let path = doc.path;
    let items: Vec<&str> = scenario
        .rubric
        .items
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    for missed in &play.expect_missed {
        let missed_id = missed.get_ref();
        if !items.contains(&missed_id.as_str()) {
            problems.add(
                path,
                line_of(&doc, missed),
                format!(
                    "{context}: expect_missed names \"{missed_id}\", which is not a rubric item \
                     of scenario \"{}\"; the items are {}",
                    scenario.id,
                    quoted_list(items.iter().copied())
                ),
            );
        }
    }
    if let Some(end_turn) = &play.expect_end_turn {
        let turn_id = end_turn.get_ref();
        let turns: Vec<&str> = scenario.turns.iter().map(|turn| turn.id.as_str()).collect();
        if !turns.contains(&turn_id.as_str()) {
            problems.add(
                path,
                line_of(&doc, end_turn),
                format!(
                    "{context}: expect_end_turn = \"{turn_id}\" is not a turn of scenario \
                     \"{}\"; the turns are {}",
                    scenario.id,
                    quoted_list(turns)
                ),
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fs;

    use tempfile::TempDir;

    use super::*;
    use crate::load_content_dir;
    use crate::scenario::{Check, Level, Mood};
    use crate::tests::{ARTICLE_ZH, NOW, SCRIPT, assert_error, assert_single_error, write};

    pub(crate) const SCENARIO: &str = r#"id = "sc-zh-late-parcel"
locale = "zh-CN"
title = "包裹三天没更新"
level = "easy"
channel = "chat"
category = "delivery"
summary = "客户的包裹物流三天没有更新，想知道到哪了。"
opening = "你好，我的快递三天没动了，怎么回事？"

[customer]
name = "张阿姨"
phone = "13800001234"
city = "赣州"
persona = "六十多岁，第一次网购，打字慢。"
mood = "anxious"

[[customer.order]]
order_no = "TB20240601001"
item = "脐橙 5 斤"
amount_fen = 3990
status = "shipped"
placed_days_ago = 4

[patience]
nudge_after_secs = 60
nudge = "在吗？"
escalate_after_secs = 180
escalation = "怎么没人理我，我要投诉！"

[intents]
apology = ["抱歉", "不好意思", "对不起"]
check = ["查一下", "帮您查", "核实"]
promise = ["赔偿", "包赔"]

[[turn]]
id = "waiting"

[[turn.reaction]]
when = { intent = "check" }
say = "好的，订单号是 TB20240601001。"
next = "checked"

[[turn.reaction]]
when = { any_reply = true }
say = "我就想知道快递到哪了。"

[[turn]]
id = "checked"

[[turn.reaction]]
when = { article = "kb-zh-refund" }
say = "哦，那就好。"
next = "done"

[[turn.reaction]]
when = { script_step = "sc-zh-verify#verify" }
next = "done"
mood = "calm"

[[turn.reaction]]
when = { disposition = "info_given" }
next = "done"

[[turn]]
id = "done"

[rubric]
pass_mark = 70
response_secs = 60
disposition = "info_given"
helpful_article = "kb-zh-refund"

[[rubric.item]]
id = "apologise"
description = "先向客户致歉"
points = 20
check = { did = { intent = "apology" } }

[[rubric.item]]
id = "checked-order"
description = "核实订单后再答复"
points = 30
check = { did = { keywords = ["订单号"] } }

[[rubric.item]]
id = "no-early-promise"
description = "核实前不要承诺赔偿"
points = 20

[rubric.item.check.avoid]
phrases = ["intent:promise", "退钱"]
unless_after = "checked-order"
reason = "还没核实订单就承诺赔偿"

[[rubric.item]]
id = "in-time"
description = "每次回复都在一分钟内"
points = 15
check = { respond_in_time = true }

[[rubric.item]]
id = "wrap-up"
description = "结束时选择“已告知信息”"
points = 15
check = { correct_disposition = true }
"#;

    pub(crate) const PLAYS: &str = r#"[[play]]
name = "good"
expect_pass = true
expect_end_turn = "done"

[[play.step]]
at_secs = 10
reply = "不好意思让您久等了，我帮您查一下"

[[play.step]]
at_secs = 30
article = "kb-zh-refund"

[[play.step]]
at_secs = 40
script_step = "sc-zh-verify#verify"

[[play.step]]
at_secs = 60
wrap_up = "info_given"

[[play]]
name = "slow"
expect_pass = false
expect_missed = ["in-time"]
expect_escalated = true

[[play.step]]
at_secs = 200
reply = "您好"
"#;

    pub(crate) const PACK: &str = r#"id = "pack-zh-basics"
locale = "zh-CN"
title = "基础练习"
exam = true
pass_mark = 80
arrival_secs = 30
scenarios = ["sc-zh-late-parcel"]
"#;

    const SCENARIO_FILE: &str = "scenarios/sc-zh-late-parcel.toml";
    const PLAYS_FILE: &str = "scenarios/answers/sc-zh-late-parcel.toml";
    const PACK_FILE: &str = "scenarios/packs/zh-basics.toml";

    /// A valid scenario, its play-throughs and a pack under `root/scenarios`.
    pub(crate) fn write_practice(root: &Path) {
        write(root, SCENARIO_FILE, SCENARIO);
        write(root, PLAYS_FILE, PLAYS);
        write(root, PACK_FILE, PACK);
    }

    /// A content folder with the KB article and the script the scenario
    /// refers to, and the practice files (each replaced when given).
    fn content(scenario: &str, plays: &str, pack: &str) -> TempDir {
        let dir = TempDir::new().expect("temp dir");
        write(dir.path(), "kb/zh-CN/refund.md", ARTICLE_ZH);
        write(dir.path(), "scripts/verify.toml", SCRIPT);
        write(dir.path(), SCENARIO_FILE, scenario);
        write(dir.path(), PLAYS_FILE, plays);
        write(dir.path(), PACK_FILE, pack);
        dir
    }

    fn errors_of(scenario: &str, plays: &str, pack: &str) -> Vec<ContentError> {
        let dir = content(scenario, plays, pack);
        load_content_dir(dir.path(), NOW).expect_err("problems expected")
    }

    fn scenario_errors(scenario: &str) -> Vec<ContentError> {
        errors_of(scenario, PLAYS, PACK)
    }

    /// 1-based line of the first line of `text` containing `needle`.
    fn line_with(text: &str, needle: &str) -> Option<usize> {
        let index = text
            .lines()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in the text"));
        Some(index + 1)
    }

    fn replaced(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "{from:?} not in the text");
        text.replacen(from, to, 1)
    }

    #[test]
    fn a_full_scenario_pack_and_plays_load() {
        let dir = content(SCENARIO, PLAYS, PACK);
        let set = load_content_dir(dir.path(), NOW).unwrap_or_else(|errors| {
            panic!(
                "{}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        assert_eq!(set.scenarios.len(), 1);
        assert_eq!(set.scenarios[0].id, "sc-zh-late-parcel");
        assert_eq!(set.scenarios[0].title, "包裹三天没更新");
        assert_eq!(set.scenarios[0].source, SCENARIO);

        let doc = &set.scenario_docs[0];
        assert_eq!(doc.level, Level::Easy);
        assert_eq!(doc.customer.mood, Mood::Anxious);
        assert_eq!(doc.customer.orders[0].amount_fen, 3990);
        assert_eq!(doc.turns.len(), 3);
        assert_eq!(
            doc.turns[0].reactions[0].when,
            Trigger::Intent("check".into())
        );
        assert_eq!(doc.turns[1].reactions[1].mood, Some(Mood::Calm));
        assert!(matches!(doc.rubric.items[2].check, Check::Avoid(_)));

        assert_eq!(set.packs[0].id, "pack-zh-basics");
        assert!(set.packs[0].exam);
        let plays = &set.plays["sc-zh-late-parcel"];
        assert_eq!(plays.plays.len(), 2);
        assert_eq!(plays.plays[1].expect_missed, vec!["in-time".to_owned()]);
    }

    #[test]
    fn check_scenarios_takes_a_content_folder_or_its_scenarios_folder() {
        let dir = content(SCENARIO, PLAYS, PACK);
        for given in [dir.path().to_path_buf(), dir.path().join("scenarios")] {
            let set = check_scenarios(&given, NOW).expect("valid");
            assert_eq!(
                (set.docs.len(), set.packs.len(), set.plays.len()),
                (1, 1, 1)
            );
        }
        // The KB beside the scenarios is what articles are checked against.
        fs::remove_file(dir.path().join("kb/zh-CN/refund.md")).expect("rm");
        write(
            dir.path(),
            "kb/zh-CN/other.md",
            &ARTICLE_ZH.replace("kb-zh-refund", "kb-zh-other"),
        );
        let errors = check_scenarios(&dir.path().join("scenarios"), NOW).expect_err("no article");
        // The scenario's trigger and helpful_article, and a play's step.
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(
            errors
                .iter()
                .all(|e| e.message.contains("\"kb-zh-refund\""))
        );

        let empty = TempDir::new().expect("temp dir");
        let errors = check_scenarios(empty.path(), NOW).expect_err("nothing");
        assert_single_error(&errors, "", None, &["no scenario files"]);
    }

    #[test]
    fn load_scenarios_dir_without_kb_or_scripts_checks_only_the_form() {
        let dir = content(SCENARIO, PLAYS, PACK);
        let scenarios = dir.path().join("scenarios");
        let set = load_scenarios_dir(&scenarios, None, None).expect("valid");
        assert_eq!(set.records.len(), 1);

        write(
            dir.path(),
            SCENARIO_FILE,
            &replaced(
                SCENARIO,
                "helpful_article = \"kb-zh-refund\"",
                "helpful_article = \"退款\"",
            ),
        );
        let errors = load_scenarios_dir(&scenarios, None, None).expect_err("bad id");
        assert_single_error(
            &errors,
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "helpful_article"),
            &["\"退款\"", "not a knowledge-base article id"],
        );

        let empty = TempDir::new().expect("temp dir");
        let errors = load_scenarios_dir(empty.path(), None, None).expect_err("nothing");
        assert_single_error(&errors, "", None, &["no scenario files"]);
    }

    #[test]
    fn unknown_next_turn_is_reported_on_its_line() {
        let text = replaced(SCENARIO, "next = \"checked\"", "next = \"chekced\"");
        let errors = scenario_errors(&text);
        // "checked", and "done" behind it, are now unreachable as well;
        // problems come in line order.
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "next = \"checked\""),
            &[
                "turn \"waiting\", reaction 1: next = \"chekced\" is not a turn of this scenario",
                "\"waiting\", \"checked\", \"done\"",
            ],
        );
        assert_error(
            &errors[1],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "id = \"checked\""),
            &[
                "turn \"checked\" cannot be reached from the first turn \"waiting\" (so \
                 neither can \"done\")",
            ],
        );
    }

    #[test]
    fn unreachable_turn() {
        let text = replaced(
            SCENARIO,
            "[[turn]]\nid = \"done\"\n",
            "[[turn]]\nid = \"done\"\n\n[[turn]]\nid = \"orphan\"\n",
        );
        let errors = scenario_errors(&text);
        assert_single_error(
            &errors,
            "sc-zh-late-parcel.toml",
            line_with(&text, "id = \"orphan\""),
            &["turn \"orphan\" cannot be reached", "next = \"orphan\""],
        );
    }

    #[test]
    fn no_end_turn_and_unreachable_catch_all() {
        let text = replaced(
            SCENARIO,
            "[[turn]]\nid = \"done\"\n",
            "[[turn]]\nid = \"done\"\n\n[[turn.reaction]]\nwhen = { any_reply = true }\n\n\
             [[turn.reaction]]\nwhen = { keywords = [\"再见\"] }\n",
        );
        let errors = scenario_errors(&text);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "sc-zh-late-parcel.toml",
            line_with(&text, "再见"),
            &["turn \"done\", reaction 2 can never fire", "reaction 1"],
        );
        assert_error(
            &errors[1],
            "sc-zh-late-parcel.toml",
            None,
            &["no end turn", "[[turn]] without [[turn.reaction]]"],
        );
    }

    #[test]
    fn undefined_intent_in_a_trigger_and_in_avoided_phrases() {
        let text = replaced(
            SCENARIO,
            "when = { intent = \"check\" }",
            "when = { intent = \"chek\" }",
        );
        let text = replaced(&text, "\"intent:promise\"", "\"intent:promises\"");
        let errors = scenario_errors(&text);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "intent = \"check\""),
            &[
                "turn \"waiting\", reaction 1: intent \"chek\" is not defined",
                "\"apology\", \"check\", \"promise\"",
            ],
        );
        assert_error(
            &errors[1],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "phrases = "),
            &[
                "rubric item \"no-early-promise\"",
                "intent \"promises\" is not defined",
            ],
        );
    }

    #[test]
    fn bad_dispositions_in_trigger_rubric_and_wrap_up() {
        let text = replaced(
            SCENARIO,
            "when = { disposition = \"info_given\" }",
            "when = { disposition = \"done\" }",
        );
        let text = replaced(
            &text,
            "disposition = \"info_given\"\nhelpful",
            "disposition = \"refunded\"\nhelpful",
        );
        let plays = replaced(PLAYS, "wrap_up = \"info_given\"", "wrap_up = \"Resolved\"");
        let errors = errors_of(&text, &plays, PACK);
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert_error(
            &errors[0],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "when = { disposition"),
            &[
                "disposition = \"done\" is not a wrap-up code",
                "resolved, refund_issued",
            ],
        );
        assert_error(
            &errors[1],
            "sc-zh-late-parcel.toml",
            line_with(&text, "\"refunded\""),
            &["rubric: disposition = \"refunded\" is not a wrap-up code"],
        );
        assert_error(
            &errors[2],
            "answers/sc-zh-late-parcel.toml",
            line_with(PLAYS, "wrap_up"),
            &["play \"good\", step 4: wrap_up = \"Resolved\" is not a wrap-up code"],
        );
    }

    #[test]
    fn duplicate_scenario_id_across_files_names_both() {
        let dir = content(SCENARIO, PLAYS, PACK);
        // Sorted after the first file, so it is the one reported.
        write(dir.path(), "scenarios/sc-zh-zz-copy.toml", SCENARIO);
        let errors = load_content_dir(dir.path(), NOW).expect_err("duplicate");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        let first = format!("{}:1", dir.path().join(SCENARIO_FILE).display());
        assert_error(
            &errors[0],
            "sc-zh-zz-copy.toml",
            Some(1),
            &[
                "scenario id \"sc-zh-late-parcel\" is already used at",
                &first,
            ],
        );
        assert_error(
            &errors[1],
            "sc-zh-zz-copy.toml",
            Some(1),
            &["does not match the file name \"sc-zh-zz-copy.toml\""],
        );
    }

    #[test]
    fn scenario_id_must_fit_locale_and_file() {
        let dir = content(SCENARIO, PLAYS, PACK);
        fs::remove_file(dir.path().join(SCENARIO_FILE)).expect("rm");
        fs::remove_file(dir.path().join(PLAYS_FILE)).expect("rm");
        fs::remove_file(dir.path().join(PACK_FILE)).expect("rm");
        write(
            dir.path(),
            "scenarios/sc-en-Late.toml",
            &replaced(
                SCENARIO,
                "id = \"sc-zh-late-parcel\"",
                "id = \"sc-en-Late\"",
            ),
        );
        let errors = load_content_dir(dir.path(), NOW).expect_err("bad id");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "sc-en-Late.toml",
            Some(1),
            &["must start with \"sc-zh-\"", "\"zh-CN\""],
        );
        assert_error(
            &errors[1],
            "sc-en-Late.toml",
            Some(1),
            &["lowercase letters"],
        );
    }

    #[test]
    fn unknown_article_and_article_of_another_language() {
        let text = replaced(
            SCENARIO,
            "when = { article = \"kb-zh-refund\" }",
            "when = { article = \"kb-zh-refnd\" }",
        );
        let text = replaced(
            &text,
            "helpful_article = \"kb-zh-refund\"",
            "helpful_article = \"kb-en-refund\"",
        );
        let dir = content(&text, PLAYS, PACK);
        write(dir.path(), "kb/en/refund.md", crate::tests::ARTICLE_EN);
        let errors = load_content_dir(dir.path(), NOW).expect_err("articles");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "when = { article"),
            &["article = \"kb-zh-refnd\": no knowledge-base article has this id"],
        );
        assert_error(
            &errors[1],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "helpful_article"),
            &[
                "helpful_article = \"kb-en-refund\" is a \"en\" article",
                "\"zh-CN\"",
            ],
        );
    }

    #[test]
    fn script_steps_must_name_a_script_and_its_step() {
        let text = replaced(
            SCENARIO,
            "\"sc-zh-verify#verify\"",
            "\"sc-zh-verify#check\"",
        );
        let plays = replaced(PLAYS, "\"sc-zh-verify#verify\"", "\"verify\"");
        let errors = errors_of(&text, &plays, PACK);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "script_step"),
            &[
                "script \"sc-zh-verify\" has no step \"check\"",
                "\"end\", \"greet\", \"verify\"",
            ],
        );
        assert_error(
            &errors[1],
            "answers/sc-zh-late-parcel.toml",
            line_with(PLAYS, "script_step"),
            &["script_step = \"verify\" must be written \"script-id#step-id\""],
        );

        let text = replaced(
            SCENARIO,
            "\"sc-zh-verify#verify\"",
            "\"script-zh-nope#verify\"",
        );
        let errors = scenario_errors(&text);
        assert_single_error(
            &errors,
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "script_step"),
            &["there is no call script \"script-zh-nope\""],
        );
    }

    #[test]
    fn step_with_two_actions_and_other_play_mistakes() {
        let plays = replaced(
            PLAYS,
            "at_secs = 30\narticle = \"kb-zh-refund\"",
            "at_secs = 30\nreply = \"请稍等\"\narticle = \"kb-zh-refund\"",
        );
        let plays = replaced(&plays, "at_secs = 40", "at_secs = 20");
        let plays = replaced(
            &plays,
            "expect_missed = [\"in-time\"]",
            "expect_missed = [\"fast\"]",
        );
        let plays = format!("{plays}\n[[play.step]]\nat_secs = 300\n");
        let errors = errors_of(SCENARIO, &plays, PACK);
        assert_eq!(errors.len(), 4, "{errors:#?}");
        let file = "answers/sc-zh-late-parcel.toml";
        assert_error(
            &errors[0],
            file,
            line_with(&plays, "article = \"kb-zh-refund\""),
            &[
                "play \"good\", step 2 does reply and article at once",
                "split it into 2 steps",
            ],
        );
        assert_error(
            &errors[1],
            file,
            line_with(&plays, "at_secs = 20"),
            &["step 3: at_secs = 20 is earlier than the step before (at_secs = 30)"],
        );
        assert_error(
            &errors[2],
            file,
            line_with(&plays, "expect_missed"),
            &["\"fast\", which is not a rubric item", "\"in-time\""],
        );
        assert_error(
            &errors[3],
            file,
            line_with(&plays, "at_secs = 300"),
            &["play \"slow\", step 2 does nothing"],
        );
    }

    #[test]
    fn steps_after_the_wrap_up_and_plays_of_a_missing_scenario() {
        let plays = format!(
            "{PLAYS}\n[[play.step]]\nat_secs = 300\nwrap_up = \"resolved\"\n\n[[play.step]]\nat_secs = 301\nreply = \"还在吗\"\n"
        );
        let dir = content(SCENARIO, &plays, PACK);
        write(dir.path(), "scenarios/answers/sc-zh-gone.toml", PLAYS);
        let errors = load_content_dir(dir.path(), NOW).expect_err("plays");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(
            &errors[0],
            "answers/sc-zh-gone.toml",
            None,
            &["no scenario \"sc-zh-gone\"", "answers/<scenario-id>.toml"],
        );
        assert_error(
            &errors[1],
            "answers/sc-zh-late-parcel.toml",
            Some(plays.lines().count() - 1),
            &["play \"slow\", step 3 comes after the wrap-up in step 2"],
        );
    }

    #[test]
    fn pack_naming_a_missing_scenario_or_another_language() {
        let pack = replaced(
            PACK,
            "scenarios = [\"sc-zh-late-parcel\"]",
            "scenarios = [\n  \"sc-zh-late-parcel\",\n  \"sc-zh-missing\",\n  \"sc-zh-late-parcel\",\n]",
        );
        let pack = replaced(&pack, "pass_mark = 80", "pass_mark = 0");
        let errors = errors_of(SCENARIO, PLAYS, &pack);
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert_error(
            &errors[0],
            "packs/zh-basics.toml",
            line_with(&pack, "pass_mark"),
            &["pack \"pack-zh-basics\": pass_mark = 0 must be 1 to 100"],
        );
        assert_error(
            &errors[1],
            "packs/zh-basics.toml",
            line_with(&pack, "sc-zh-missing"),
            &["pack \"pack-zh-basics\": scenario \"sc-zh-missing\" does not exist"],
        );
        assert_error(
            &errors[2],
            "packs/zh-basics.toml",
            Some(10),
            &["listed twice"],
        );

        let pack = replaced(PACK, "locale = \"zh-CN\"", "locale = \"en\"");
        let errors = errors_of(SCENARIO, PLAYS, &pack);
        assert_single_error(
            &errors,
            "packs/zh-basics.toml",
            line_with(PACK, "scenarios"),
            &["scenario \"sc-zh-late-parcel\" is \"zh-CN\" but the pack is \"en\""],
        );
    }

    #[test]
    fn an_unparsable_scenario_is_reported_once() {
        let text = replaced(SCENARIO, "level = \"easy\"", "level = \"simple\"");
        let errors = scenario_errors(&text);
        // The pack and the play-throughs naming it add nothing.
        assert_single_error(
            &errors,
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "level"),
            &["simple", "easy"],
        );
    }

    #[test]
    fn trigger_with_two_keys_says_so_plainly() {
        let text = replaced(
            SCENARIO,
            "when = { intent = \"check\" }",
            "when = { intent = \"check\", keywords = [\"查\"] }",
        );
        let errors = scenario_errors(&text);
        assert_single_error(
            &errors,
            "sc-zh-late-parcel.toml",
            line_with(SCENARIO, "intent = \"check\""),
            &["exactly one key", "several"],
        );
    }

    #[test]
    fn numbers_texts_and_rubric_rules() {
        let text = replaced(SCENARIO, "nudge_after_secs = 60", "nudge_after_secs = 200");
        let text = replaced(&text, "amount_fen = 3990", "amount_fen = 0");
        let text = replaced(
            &text,
            "persona = \"六十多岁，第一次网购，打字慢。\"",
            "persona = \" \"",
        );
        let text = replaced(&text, "pass_mark = 70", "pass_mark = 101");
        let text = replaced(&text, "points = 30", "points = 0");
        let text = replaced(
            &text,
            "unless_after = \"checked-order\"",
            "unless_after = \"check-order\"",
        );
        let text = replaced(&text, "id = \"in-time\"", "id = \"apologise\"");
        let text = replaced(
            &text,
            "check = { correct_disposition = true }",
            "check = { correct_disposition = false }",
        );
        let text = replaced(&text, "keywords = [\"订单号\"]", "keywords = []");
        let text = replaced(
            &text,
            "check = [\"查一下\", \"帮您查\", \"核实\"]",
            "check = []",
        );
        let errors = scenario_errors(&text);
        let file = "sc-zh-late-parcel.toml";
        let first_apologise = line_with(&text, "id = \"apologise\"").expect("line");
        let second_apologise = text
            .lines()
            .enumerate()
            .filter(|(_, line)| line.contains("id = \"apologise\""))
            .nth(1)
            .map(|(index, _)| index + 1);
        let duplicate = format!("{file}:{first_apologise}; ids must be unique");
        let duplicate_words = [
            "rubric item id \"apologise\" is already used at",
            &duplicate,
        ];
        let expected: Vec<(Option<usize>, &[&str])> = vec![
            (
                line_with(&text, "persona = "),
                &["customer: \"persona\" is empty"],
            ),
            (
                line_with(&text, "amount_fen"),
                &["customer order \"TB20240601001\": amount_fen = 0 must be more than 0"],
            ),
            (
                line_with(&text, "escalate_after_secs"),
                &["escalate_after_secs (180) must be more than nudge_after_secs (200)"],
            ),
            (
                line_with(&text, "check = []"),
                &["intent \"check\" has no words"],
            ),
            (
                line_with(&text, "pass_mark"),
                &["rubric: pass_mark = 101 must be 1 to 100"],
            ),
            (
                line_with(&text, "points = 0"),
                &["rubric item \"checked-order\": points must be more than 0"],
            ),
            (
                line_with(&text, "keywords = []"),
                &["keywords = [] can never match"],
            ),
            (
                line_with(&text, "unless_after"),
                &[
                    "unless_after = \"check-order\" is not a rubric item",
                    "are \"apologise\", \"checked-order\", \"no-early-promise\", \"wrap-up\"",
                ],
            ),
            (second_apologise, &duplicate_words),
            (
                line_with(&text, "correct_disposition = false"),
                &["correct_disposition = false checks nothing"],
            ),
        ];
        // And the play-through expecting to miss the renamed "in-time".
        assert_eq!(errors.len(), expected.len() + 1, "{errors:#?}");
        for (error, (line, words)) in errors.iter().zip(expected) {
            assert_error(error, file, line, words);
        }
        assert_error(
            &errors[errors.len() - 1],
            "answers/sc-zh-late-parcel.toml",
            line_with(PLAYS, "expect_missed"),
            &["\"in-time\", which is not a rubric item"],
        );
    }

    /// The TOML block after each `<!-- example: KIND [ID] -->` marker of
    /// `docs/scenarios.md`, with its kind and id.
    fn doc_examples(markdown: &str) -> Vec<(String, String)> {
        let mut examples = Vec::new();
        let mut rest = markdown;
        while let Some(start) = rest.find("<!-- example: ") {
            let after = &rest[start + "<!-- example: ".len()..];
            let end = after.find(" -->").expect("marker closes");
            let label = after[..end].to_owned();
            let block = &after[after.find("```toml\n").expect("a toml block") + 8..];
            let close = block.find("\n```").expect("block closes");
            examples.push((label, block[..=close].to_owned()));
            rest = &block[close..];
        }
        examples
    }

    /// The examples in the authors' documentation are valid against the
    /// shipped knowledge base and scripts.
    #[test]
    fn documented_examples_pass_the_check() {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let markdown = fs::read_to_string(root.join("docs/scenarios.md")).expect("docs");
        let examples = doc_examples(&markdown);
        assert_eq!(examples.len(), 3, "scenario, pack and play examples");
        let dir = TempDir::new().expect("temp dir");
        // The pack example also lists shipped scenarios.
        for entry in fs::read_dir(root.join("content/scenarios")).expect("shipped scenarios") {
            let path = entry.expect("entry").path();
            if path.extension() == Some(OsStr::new("toml")) {
                let name = path.file_name().expect("name");
                fs::copy(&path, dir.path().join(name)).expect("copy");
            }
        }
        for (label, text) in &examples {
            let relative = match label.split_once(' ') {
                Some(("scenario", id)) => format!("{id}.toml"),
                Some(("play", id)) => format!("answers/{id}.toml"),
                _ => "packs/example.toml".to_owned(),
            };
            write(dir.path(), &relative, text);
        }
        let kb = crate::load_kb(&root.join("content/kb"), NOW).expect("shipped KB");
        let mut problems = Problems::default();
        let scripts = read_scripts(&root.join("content/scripts"), &mut problems);
        assert!(problems.is_empty(), "shipped scripts: {:#?}", problems.0);
        let set =
            load_scenarios_dir(dir.path(), Some(&kb), Some(&scripts)).unwrap_or_else(|errors| {
                let report: Vec<String> = errors.iter().map(ToString::to_string).collect();
                panic!("docs/scenarios.md examples:\n{}", report.join("\n"))
            });
        assert!(set.docs.iter().any(|doc| doc.id == "sc-zh-peaches-gift"));
        assert_eq!((set.packs.len(), set.plays.len()), (1, 1));
    }

    /// A scenario file, parsed by the public type alone (as the app parses a
    /// synced scenario's `source`), equals what the loader returns.
    #[test]
    fn source_parses_to_the_same_document() {
        let dir = content(SCENARIO, PLAYS, PACK);
        let set = load_content_dir(dir.path(), NOW).expect("valid");
        let reparsed: ScenarioDoc = toml::from_str(&set.scenarios[0].source).expect("parses");
        assert_eq!(reparsed, set.scenario_docs[0]);
    }
}
