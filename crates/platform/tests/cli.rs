//! The `homedesk-platform` binary as scripts see it. A production platform
//! made with `init`, `queue` and `agent` is tested in `platform_setup.rs`.

mod support;

use std::process::Command;

use support::cli_with_input as platform;

#[test]
fn reports_the_protocol_version_it_speaks() {
    let out = Command::new(env!("CARGO_BIN_EXE_homedesk-platform"))
        .arg("--protocol-version")
        .output()
        .expect("homedesk-platform runs");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1.0");
}

#[test]
fn without_a_subcommand_it_says_what_to_do_and_fails() {
    let out = Command::new(env!("CARGO_BIN_EXE_homedesk-platform"))
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "scripts must not mistake this for a running server"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("serve --data-dir"));
}

fn content() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../content").to_owned()
}

#[test]
fn agent_add_refuses_the_demo_password_and_unknown_queues() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().to_str().expect("utf-8");
    let out = platform(
        &[
            "agent",
            "add",
            "--data-dir",
            data,
            "--code",
            "a2001",
            "--name",
            "张敏",
        ],
        "homedesk-demo\n",
    );
    assert!(
        !out.status.success(),
        "a real agent must not get the public demo password"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("demo password"));

    let out = platform(
        &[
            "agent",
            "add",
            "--data-dir",
            data,
            "--code",
            "a2001",
            "--name",
            "张敏",
            "--queues",
            "presales",
        ],
        "a-real-secret\n",
    );
    assert!(!out.status.success(), "queues must exist first");
    assert!(String::from_utf8_lossy(&out.stderr).contains("presales"));

    let out = platform(
        &[
            "agent",
            "add",
            "--data-dir",
            data,
            "--code",
            "A 2001",
            "--name",
            "x",
        ],
        "a-real-secret\n",
    );
    assert!(!out.status.success(), "agent codes are checked");

    let out = platform(
        &[
            "agent",
            "add",
            "--data-dir",
            data,
            "--code",
            "a2001",
            "--name",
            "张敏",
        ],
        "a-real-secret\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kb_import_reports_every_bad_file_with_its_line_and_imports_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let kb = dir.path().join("kb");
    std::fs::create_dir_all(&kb).expect("mkdir");
    std::fs::write(
        kb.join("kb-good.md"),
        "+++\nid = \"kb-good\"\nlocale = \"zh-CN\"\ntitle = \"退款多久到账\"\ncategory = \"refunds\"\n+++\n\n原路退回，一般1-3个工作日到账。\n",
    )
    .expect("write");
    std::fs::write(
        kb.join("kb-bad.md"),
        "+++\nid = \"kb-bad\"\nlocale = \"zh-CN\"\ntitle = 12\ncategory = \"refunds\"\n+++\n\n正文\n",
    )
    .expect("write");
    let out = platform(
        &[
            "kb",
            "import",
            "--data-dir",
            data.to_str().expect("utf-8"),
            kb.to_str().expect("utf-8"),
        ],
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("kb-bad.md:4"),
        "the file and line of the problem: {stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    std::fs::remove_file(kb.join("kb-bad.md")).expect("rm");
    let out = platform(
        &[
            "kb",
            "import",
            "--data-dir",
            data.to_str().expect("utf-8"),
            kb.to_str().expect("utf-8"),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 added"));
    let again = platform(
        &[
            "kb",
            "import",
            "--data-dir",
            data.to_str().expect("utf-8"),
            kb.to_str().expect("utf-8"),
        ],
        "",
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("1 unchanged"),
        "re-importing the same article changes nothing"
    );
}

#[test]
fn content_import_takes_the_shipped_content() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = platform(
        &[
            "content",
            "import",
            "--data-dir",
            dir.path().to_str().expect("utf-8"),
            &content(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let added: usize = stdout
        .split_whitespace()
        .skip_while(|w| *w != "content:")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a count of added records");
    assert!(
        added >= 60 + 25 + 6,
        "articles, canned replies and scripts: {stdout}"
    );
}

/// `content import` checks scenarios exactly as `homedesk-cli scenario
/// check` does (both call homedesk-content) and imports nothing when one is
/// invalid.
#[test]
fn content_import_refuses_an_invalid_scenario_with_its_file_and_line() {
    let scenario = r#"id = "sc-en-hello"
locale = "en"
title = "Hello"
level = "easy"
channel = "chat"
category = "general"
summary = "A customer says hello."
opening = "Hello?"

[customer]
name = "Sam Lee"
phone = "13800000042"
persona = "Polite."
mood = "calm"

[patience]
nudge_after_secs = 60
nudge = "Hello??"
escalate_after_secs = 180
escalation = "Nobody is there."

[[turn]]
id = "start"

[[turn.reaction]]
when = { disposition = "sorted" }
next = "done"

[[turn]]
id = "done"

[rubric]
pass_mark = 50
response_secs = 60
disposition = "resolved"

[[rubric.item]]
id = "wrap_up"
description = "Wrap up as resolved."
points = 10
check = { correct_disposition = true }
"#;
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let content_dir = dir.path().join("content");
    let file = content_dir.join("scenarios/sc-en-hello.toml");
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, scenario).expect("write");
    let import = || {
        platform(
            &[
                "content",
                "import",
                "--data-dir",
                data.to_str().expect("utf-8"),
                content_dir.to_str().expect("utf-8"),
            ],
            "",
        )
    };

    let out = import();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let expected = format!(
        "{}:26: turn \"start\", reaction 1: disposition = \"sorted\" is not a wrap-up code",
        file.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");

    std::fs::write(&file, scenario.replace("\"sorted\"", "\"resolved\"")).expect("write");
    let out = import();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 added"));
}
