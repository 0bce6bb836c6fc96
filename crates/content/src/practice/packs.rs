//! Packs (`scenarios/packs/*.toml`): a practice shift or an exam, several
//! scenarios in order with a pass mark. Owns the rule that a pack lists
//! existing scenarios of its own language, each once.

use std::collections::HashSet;
use std::path::Path;

use super::{KnownScenarios, check_pass_mark};
use crate::scenario::Pack;
use crate::toml_doc::TomlDoc;
use crate::validate::{IdRegistry, require_locale, require_text};
use crate::{LOCALES, Problems, read_text};

/// One pack file, parsed and checked; `None` when it cannot be read or
/// parsed (the problem is added).
pub(super) fn read_pack_file(
    path: &Path,
    known: &KnownScenarios<'_>,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Option<Pack> {
    let text = read_text(path, problems)?;
    let doc = TomlDoc::whole_file(path, &text);
    let (pack, spans) = doc.parse_with_spans::<Pack>(problems)?;
    let at = spans.root();

    let id = at.key("id").locate(&pack.id);
    let locale = at.key("locale").locate(&pack.locale);
    let context = format!("pack \"{}\"", id.value);
    ids.claim(path, &id, problems);
    require_text(problems, path, &context, "id", &id);
    require_locale(problems, path, &context, &locale);
    require_text(
        problems,
        path,
        &context,
        "title",
        &at.key("title").locate(&pack.title),
    );
    check_pass_mark(
        path,
        &context,
        pack.pass_mark,
        at.key("pass_mark").line(),
        problems,
    );

    let listed_at = at.key("scenarios");
    if pack.scenarios.is_empty() {
        problems.add(
            path,
            listed_at.line(),
            format!("{context}: scenarios = [] is empty; list the scenario ids of the pack"),
        );
    }
    let mut seen = HashSet::new();
    for (index, scenario_id) in pack.scenarios.iter().enumerate() {
        let scenario_id = scenario_id.as_str();
        let line = listed_at.item(index).line();
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
                if scenario.locale != locale.value && LOCALES.contains(&scenario.locale.as_str()) {
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
