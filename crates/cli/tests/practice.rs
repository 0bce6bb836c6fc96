//! `homedesk-cli practice play`: the real binary plays a scenario from a
//! content folder with a replies file and prints the score report.

use std::path::Path;
use std::process::{Command, Output};

fn cli_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_homedesk-cli"))
        .current_dir(cwd)
        .args(args)
        .env_remove("HOMEDESK_DATA_DIR")
        .output()
        .expect("homedesk-cli runs")
}

const SCENARIO: &str = r#"
id = "sc-en-cli"
locale = "en"
title = "Where is my parcel"
level = "easy"
channel = "chat"
category = "delivery"
summary = "A parcel question for the CLI tests."
opening = "Where is my parcel?"

[customer]
name = "Ann"
phone = "13800000000"
persona = "Wants her parcel."
mood = "calm"

[patience]
nudge_after_secs = 60
nudge = "Hello?"
escalate_after_secs = 120
escalation = "I want a manager."

[[turn]]
id = "start"

[[turn.reaction]]
when = { keywords = ["order number"] }
say = "It is A123."
next = "told"

[[turn.reaction]]
when = { any_reply = true }
say = "Where is it?"

[[turn]]
id = "told"

[[turn.reaction]]
when = { disposition = "info_given" }
next = "done"

[[turn]]
id = "done"

[rubric]
pass_mark = 60
response_secs = 30
disposition = "info_given"

[[rubric.item]]
id = "asked_order"
description = "Ask for the order number."
points = 50
check = { did = { keywords = ["order number"] } }

[[rubric.item]]
id = "in_time"
description = "Reply within 30 seconds."
points = 25
check = { respond_in_time = true }

[[rubric.item]]
id = "disposition"
description = "Wrap up as info_given."
points = 25
check = { correct_disposition = true }
"#;

const GOOD: &str = r#"
[[step]]
at_secs = 10
reply = "What is your order number?"

[[step]]
at_secs = 20
wrap_up = "info_given"
"#;

/// A content folder with one scenario, and a replies file beside it.
fn fixture(replies: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenarios = dir.path().join("content/scenarios");
    std::fs::create_dir_all(&scenarios).expect("scenarios folder");
    std::fs::write(scenarios.join("sc-en-cli.toml"), SCENARIO).expect("scenario file");
    std::fs::write(dir.path().join("replies.toml"), replies).expect("replies file");
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn practice_play_prints_the_score_report_as_json() {
    let dir = fixture(GOOD);
    let content = dir.path().join("content");
    let out = cli_in(
        dir.path(),
        &[
            "practice",
            "play",
            "sc-en-cli",
            "--replies",
            "replies.toml",
            "--content",
            content.to_str().expect("utf-8"),
            "--json",
        ],
    );
    assert!(out.status.success(), "plays: {}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints the report as JSON");
    assert_eq!(report["scenarioId"], "sc-en-cli");
    assert_eq!(report["pointsGot"], 100);
    assert_eq!(report["percent"], 100);
    assert_eq!(report["passed"], true);
    assert_eq!(report["endTurn"], "done");
    assert_eq!(report["escalated"], false);
    assert_eq!(report["responseTimes"][0]["secs"], 10);
    assert_eq!(
        report["replay"]
            .as_array()
            .expect("a replay")
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or("?"))
            .collect::<Vec<_>>(),
        ["customer", "reply", "customer", "wrap_up"]
    );
}

#[test]
fn practice_play_reads_content_from_the_current_folder_and_prints_a_table() {
    let dir = fixture(
        r#"
[[step]]
at_secs = 150
reply = "Hi."
"#,
    );
    // No --content: ./content is used.
    let out = cli_in(
        dir.path(),
        &["practice", "play", "sc-en-cli", "--replies", "replies.toml"],
    );
    assert!(out.status.success(), "plays: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "Where is my parcel (sc-en-cli)",
        "score 0/100 = 0%, pass mark 60%: NOT PASSED",
        "the customer escalated",
        "MISSED  asked_order",
        "No reply mentioned “order number”",
        "The reply at 2:30 was late: the customer waited 150 s against a target of 30 s (120 s over)",
        "customer (escalates)",
    ] {
        assert!(text.contains(expected), "{expected:?} is in:\n{text}");
    }
}

#[test]
fn practice_play_finds_the_bundled_content_from_anywhere() {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/scenarios");
    let Some(id) = std::fs::read_dir(&bundled).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .min()
    }) else {
        return; // no bundled scenarios yet
    };
    // Run from a folder without content/: the binary's source tree is used.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("replies.toml"),
        "[[step]]\nat_secs = 5\nwrap_up = \"other\"\n",
    )
    .expect("replies file");
    let out = cli_in(
        dir.path(),
        &[
            "practice",
            "play",
            &id,
            "--replies",
            "replies.toml",
            "--json",
        ],
    );
    assert!(out.status.success(), "plays {id}: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["scenarioId"], id.as_str());
    assert_eq!(report["disposition"], "other");
}

#[test]
fn an_unknown_scenario_is_one_line_and_fails() {
    let dir = fixture(GOOD);
    let out = cli_in(
        dir.path(),
        &[
            "practice",
            "play",
            "sc-en-nope",
            "--replies",
            "replies.toml",
        ],
    );
    assert!(!out.status.success(), "an unknown scenario must fail");
    let err = stderr(&out);
    assert!(
        err.contains("no scenario \"sc-en-nope\"") && err.contains("there are: sc-en-cli"),
        "names the id and what exists: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(out.stdout.is_empty(), "no report for a failed run");
}

#[test]
fn a_bad_replies_file_names_its_line_and_fails() {
    let cases = [
        (
            "[[step]]\nat_secs = 5\nreplyy = \"hi\"\n",
            "replies.toml:3: unknown field `replyy`",
        ),
        (
            "[[step]]\nat_secs = 5\nreply = \"hi\"\n\n[[step]]\nat_secs = 9\nreply = \"a\"\nwrap_up = \"b\"\n",
            "replies.toml:5: step 2 does 2 things",
        ),
        (
            "[[step]]\nat_secs = 50\nreply = \"hi\"\n\n[[step]]\nat_secs = 9\nreply = \"a\"\n",
            "replies.toml:5: step 2: at_secs = 9 is earlier than the step before",
        ),
        ("# nothing\n", "replies.toml: no steps"),
        ("[[step]\n", "replies.toml:1:"),
    ];
    for (replies, expected) in cases {
        let dir = fixture(replies);
        let out = cli_in(
            dir.path(),
            &["practice", "play", "sc-en-cli", "--replies", "replies.toml"],
        );
        assert!(!out.status.success(), "{replies:?} must fail");
        let err = stderr(&out);
        assert!(err.contains(expected), "{expected:?} is in: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }

    let dir = fixture(GOOD);
    let out = cli_in(
        dir.path(),
        &["practice", "play", "sc-en-cli", "--replies", "missing.toml"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("missing.toml: cannot read the replies file"),
        "{}",
        stderr(&out)
    );
}
