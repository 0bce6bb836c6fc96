//! `homedesk-cli scenario check DIR`, run as the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn check(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_homedesk-cli"))
        .args(["scenario", "check"])
        .arg(dir)
        .env_remove("HOMEDESK_DATA_DIR")
        .output()
        .expect("homedesk-cli runs")
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

const ARTICLE: &str = "+++\nid = \"kb-en-late\"\nlocale = \"en\"\ntitle = \"Late parcels\"\n\
    category = \"delivery\"\n+++\nAsk for the order number, then check the tracking.\n";

const SCENARIO: &str = r#"id = "sc-en-late"
locale = "en"
title = "Where is my parcel?"
level = "easy"
channel = "chat"
category = "delivery"
summary = "A parcel has not moved for three days."
opening = "Hi, my parcel hasn't moved in three days."

[customer]
name = "Sam Lee"
phone = "13800000042"
persona = "A student in Chengdu, polite but in a hurry."
mood = "calm"

[patience]
nudge_after_secs = 60
nudge = "Hello?"
escalate_after_secs = 180
escalation = "Nobody answers. I'll leave a bad review."

[[turn]]
id = "start"

[[turn.reaction]]
when = { keywords = ["order number"] }
say = "It's TB1234."
next = "done"

[[turn]]
id = "done"

[rubric]
pass_mark = 60
response_secs = 60
disposition = "info_given"
helpful_article = "kb-en-late"

[[rubric.item]]
id = "asked_order"
description = "Ask for the order number."
points = 50
check = { did = { keywords = ["order number"] } }

[[rubric.item]]
id = "wrap_up"
description = "Wrap up as info_given."
points = 50
check = { correct_disposition = true }
"#;

const PLAYS: &str = r#"[[play]]
name = "good"
expect_pass = true

[[play.step]]
at_secs = 10
reply = "Could you give me your order number?"

[[play.step]]
at_secs = 30
wrap_up = "info_given"
"#;

const PACK: &str = r#"id = "pack-en-start"
locale = "en"
title = "First shift"
pass_mark = 60
scenarios = ["sc-en-late"]
"#;

fn good_content(root: &Path) {
    write(root, "kb/en/kb-en-late.md", ARTICLE);
    write(root, "scenarios/sc-en-late.toml", SCENARIO);
    write(root, "scenarios/answers/sc-en-late.toml", PLAYS);
    write(root, "scenarios/packs/start.toml", PACK);
}

#[test]
fn a_good_folder_passes_given_as_content_or_scenarios_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    good_content(dir.path());
    for given in [dir.path().to_path_buf(), dir.path().join("scenarios")] {
        let out = check(&given);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("1 scenario(s), 1 pack(s), 1 play-through file(s) checked"),
            "{stdout}"
        );
    }
}

#[test]
fn a_bad_folder_lists_every_problem_with_file_and_line_and_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    good_content(dir.path());
    write(
        dir.path(),
        "scenarios/sc-en-late.toml",
        &SCENARIO
            .replace("next = \"done\"", "next = \"finished\"")
            .replace(
                "helpful_article = \"kb-en-late\"",
                "helpful_article = \"kb-en-gone\"",
            ),
    );
    write(
        dir.path(),
        "scenarios/packs/start.toml",
        &PACK.replace("[\"sc-en-late\"]", "[\"sc-en-late\", \"sc-en-lost\"]"),
    );
    let out = check(dir.path());
    assert_eq!(out.status.code(), Some(1), "problems fail the check");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let scenario = dir.path().join("scenarios/sc-en-late.toml");
    let pack = dir.path().join("scenarios/packs/start.toml");
    let expected = [
        format!(
            "{}:28: turn \"start\", reaction 1: next = \"finished\" is not a turn of this scenario",
            scenario.display()
        ),
        format!(
            "{}:31: turn \"done\" cannot be reached from the first turn \"start\"",
            scenario.display()
        ),
        format!(
            "{}:37: rubric: helpful_article = \"kb-en-gone\": no knowledge-base article has this id",
            scenario.display()
        ),
        format!(
            "{}:5: pack \"pack-en-start\": scenario \"sc-en-lost\" does not exist",
            pack.display()
        ),
    ];
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{stderr}");
    for (line, expected) in lines.iter().zip(&expected) {
        assert!(
            line.starts_with(expected.as_str()),
            "{line}\nexpected {expected}"
        );
    }
    assert!(
        lines[expected.len()].contains("4 problem(s) in 2 file(s)"),
        "a one-line summary: {stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_folder_is_one_clear_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = check(&dir.path().join("nowhere"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nowhere: no such folder"), "{stderr}");
}

/// The bundled scenarios pass the same check the platform's import makes.
#[test]
fn the_shipped_content_passes() {
    let content = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../content"));
    let out = check(content);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
