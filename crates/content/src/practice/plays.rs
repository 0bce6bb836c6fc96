//! Scripted play-throughs (`scenarios/answers/<scenario-id>.toml`): trainee
//! actions in time order and what they must lead to. Owns the rules that a
//! play can be replayed (each step does exactly one thing, in time order,
//! nothing after the wrap-up) and that its expectations name rubric items
//! and turns of the scenario it plays.

use std::path::Path;

use super::references::{References, Site, check_article, check_disposition, check_script_step};
use super::{KnownScenarios, file_stem, quoted_list};
use crate::scenario::{Play, PlayFile, PlayStep, ScenarioDoc};
use crate::toml_doc::{Located, Place, TomlDoc};
use crate::validate::{IdRegistry, require_text};
use crate::{LOCALES, Problems, read_text};

/// One play-through file, parsed and checked; `None` when it cannot be read
/// or parsed (the problem is added).
pub(super) fn read_play_file(
    path: &Path,
    known: &KnownScenarios<'_>,
    references: &References<'_>,
    problems: &mut Problems,
) -> Option<PlayFile> {
    let text = read_text(path, problems)?;
    let doc = TomlDoc::whole_file(path, &text);
    let (file, spans) = doc.parse_with_spans::<PlayFile>(problems)?;
    let plays_at = spans.root().key("play");

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
    if file.plays.is_empty() {
        problems.add(path, None, "no play-throughs here: add [[play]] tables");
    }
    let site = Site {
        path,
        locale: scenario
            .map(|scenario| scenario.locale.as_str())
            .filter(|locale| LOCALES.contains(locale)),
        intents: None,
        references,
    };
    let mut names = IdRegistry::with_noun("play", "name");
    for (index, play) in file.plays.iter().enumerate() {
        let play_at = plays_at.item(index);
        let name = play_at.key("name").locate(&play.name);
        names.claim(path, &name, problems);
        require_text(problems, path, "play", "name", &name);
        let context = format!("play \"{}\"", name.value);
        check_play_steps(&context, &play.steps, play_at.key("step"), &site, problems);
        if let Some(scenario) = scenario {
            check_play_expectations(&context, play, play_at, scenario, problems);
        }
    }
    Some(file)
}

/// `at` is the play's `[[play.step]]` array.
fn check_play_steps(
    context: &str,
    steps: &[PlayStep],
    at: Place<'_, '_>,
    site: &Site<'_, '_>,
    problems: &mut Problems,
) {
    let path = at.path();
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
        let step_at = at.item(index);
        let at_line = step_at.key("at_secs").line();
        let at = step.at_secs;

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

        let actions: Vec<(&str, &String)> = [
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
            [_, (second, _), ..] => {
                let keys: Vec<&str> = actions.iter().map(|(key, _)| *key).collect();
                problems.add(
                    path,
                    step_at.key(second).line(),
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
            let line = step_at.key(key).line();
            match *key {
                "reply" => require_text(
                    problems,
                    path,
                    &step_context,
                    "reply",
                    &Located {
                        value: (*value).clone(),
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

/// `at` is the play's table.
fn check_play_expectations(
    context: &str,
    play: &Play,
    at: Place<'_, '_>,
    scenario: &ScenarioDoc,
    problems: &mut Problems,
) {
    let path = at.path();
    let items: Vec<&str> = scenario
        .rubric
        .items
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    for (index, missed_id) in play.expect_missed.iter().enumerate() {
        if !items.contains(&missed_id.as_str()) {
            problems.add(
                path,
                at.key("expect_missed").item(index).line(),
                format!(
                    "{context}: expect_missed names \"{missed_id}\", which is not a rubric item \
                     of scenario \"{}\"; the items are {}",
                    scenario.id,
                    quoted_list(items.iter().copied())
                ),
            );
        }
    }
    if let Some(turn_id) = &play.expect_end_turn {
        let turns: Vec<&str> = scenario.turns.iter().map(|turn| turn.id.as_str()).collect();
        if !turns.contains(&turn_id.as_str()) {
            problems.add(
                path,
                at.key("expect_end_turn").line(),
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
