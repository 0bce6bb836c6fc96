//! What practice content may refer to, and the checks of each reference:
//! intent groups of the scenario, knowledge-base articles and call-script
//! steps loaded beside the scenarios (in the scenario's language), and
//! wrap-up codes. Scenario files and play-throughs share these, so a bad
//! reference reads the same wherever it is.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use homedesk_protocol::{DISPOSITIONS, KbArticle, Script};

use super::quoted_list;
use crate::Problems;
use crate::kb::is_kb_id;
use crate::scenario::Trigger;

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
pub(super) struct Site<'s, 'r> {
    pub(super) path: &'s Path,
    /// The scenario's locale when it is a supported one (articles and
    /// scripts must share it).
    pub(super) locale: Option<&'s str>,
    /// `None` where intents cannot be used (play-throughs).
    pub(super) intents: Option<&'s BTreeMap<String, Vec<String>>>,
    pub(super) references: &'s References<'r>,
}

pub(super) fn check_trigger(
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

pub(super) fn check_keywords(
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

pub(super) fn check_intent_name(
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

pub(super) fn check_article(
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
            if !is_kb_id(id) {
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

pub(super) fn check_script_step(
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

pub(super) fn check_disposition(
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
