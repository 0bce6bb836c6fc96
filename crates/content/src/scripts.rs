//! Guided call scripts (`scripts/*.toml`): steps an agent reads out, with
//! branches for the customer's answers. Owns the rule that a script is a
//! walkable call: it starts at a step that exists, every branch leads to
//! another existing step, every step can be reached, and some step ends it.

use std::collections::{HashSet, VecDeque};
use std::path::Path;

use homedesk_protocol::{Script, ScriptBranch, ScriptStep};
use serde::Deserialize;
use toml::Spanned;

use crate::toml_doc::{Located, TomlDoc};
use crate::validate::{IdRegistry, require_locale, require_no_empty_entries, require_text};
use crate::{Problems, files_with_extension, read_text};

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

pub(crate) fn read_scripts(dir: &Path, problems: &mut Problems) -> Vec<Script> {
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

#[cfg(test)]
mod tests {
    use tempfile::TempDir;

    use crate::test_support::{NOW, SCRIPT, assert_error, assert_single_error, write};
    use crate::{ContentError, ContentSet, load_content_dir};

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
}
