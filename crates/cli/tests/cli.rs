//! Runs the real `homedesk-cli` binary against temporary data folders.

use std::process::{Command, Output};

fn cli(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_homedesk-cli"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("HOMEDESK_DATA_DIR")
        .output()
        .expect("homedesk-cli runs")
}

#[test]
fn info_reports_chinese_default_and_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = cli(dir.path(), &["info"]);
    assert!(
        out.status.success(),
        "info should succeed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("info prints JSON");
    assert_eq!(report["app"]["locale"], "zh-CN");
    assert_eq!(report["app"]["name"], "Homedesk");
    assert_eq!(report["connection"]["state"], "offline");
}

#[test]
fn set_locale_is_remembered_and_bad_tags_fail_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = cli(dir.path(), &["set-locale", "en"]);
    assert!(out.status.success());
    let report: serde_json::Value =
        serde_json::from_slice(&cli(dir.path(), &["info"]).stdout).expect("info prints JSON");
    assert_eq!(
        report["app"]["locale"], "en",
        "a later run sees the saved language"
    );

    let bad = cli(dir.path(), &["set-locale", "fr"]);
    assert!(!bad.status.success(), "an unknown language must fail");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("unknown interface language \"fr\""),
        "says what was wrong: {stderr}"
    );
}

/// The password of the stores these tests make (`kb import` seals a new
/// store with it).
const PASSWORD: &str = "cli-test-密码";

fn cli_plain(args: &[&str]) -> Output {
    cli_with_password(args, PASSWORD)
}

fn cli_with_password(args: &[&str], password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_homedesk-cli"))
        .args(args)
        .env_remove("HOMEDESK_DATA_DIR")
        .env("HOMEDESK_PASSWORD", password)
        .output()
        .expect("homedesk-cli runs")
}

#[test]
fn an_encrypted_store_needs_the_password_and_the_cli_keeps_the_unlock_throttle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("agent.sqlite");
    let db = db.to_str().expect("utf-8");
    assert!(
        cli_plain(&["kb", "import", "--db", db, &content_kb()])
            .status
            .success()
    );
    let bytes = std::fs::read(db).expect("store");
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "the store the CLI made is encrypted"
    );
    // The password on stdin works as well as in the environment.
    let mut child = Command::new(env!("CARGO_BIN_EXE_homedesk-cli"))
        .args(["kb", "search", "--db", db, "--json", "退款"])
        .env_remove("HOMEDESK_DATA_DIR")
        .env_remove("HOMEDESK_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{PASSWORD}").expect("password");
    }
    let out = child.wait_with_output().expect("ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        !hits.as_array().expect("array").is_empty(),
        "found in the encrypted store"
    );

    for n in 1..=5 {
        let out = cli_with_password(&["outbox", "list", "--db", db], "guess");
        assert!(!out.status.success(), "guess {n} refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("wrong password") || stderr.contains("try again in"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing of the store printed");
    }
    // Five wrong passwords: even the right one now waits.
    let out = cli_plain(&["outbox", "list", "--db", db]);
    assert!(!out.status.success(), "the throttle holds for the CLI too");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("try again in 30 s"), "{stderr}");
}

fn content_kb() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/kb").to_owned()
}

#[test]
fn kb_import_of_the_bundled_articles_then_search_in_chinese_pinyin_and_english() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("agent.sqlite");
    let db = db.to_str().expect("utf-8");
    let out = cli_plain(&["kb", "import", "--db", db, &content_kb()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported"));

    for query in ["退款", "tuikuan", "tk", "refund"] {
        let out = cli_plain(&["kb", "search", "--db", db, "--limit", "3", "--json", query]);
        assert!(
            out.status.success(),
            "{query}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hits: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON array");
        let hits = hits.as_array().expect("array");
        assert!(!hits.is_empty() && hits.len() <= 3, "{query}: {hits:?}");
        for hit in hits {
            for field in ["id", "title", "snippet", "score"] {
                assert!(
                    hit.get(field).is_some(),
                    "{query}: {field} missing in {hit}"
                );
            }
        }
    }

    // Batch evaluation: one JSON array per input line (the password then
    // comes from the environment: stdin holds the queries).
    let mut child = Command::new(env!("CARGO_BIN_EXE_homedesk-cli"))
        .args([
            "kb", "search", "--db", db, "--limit", "2", "--json", "--stdin",
        ])
        .env("HOMEDESK_PASSWORD", PASSWORD)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all("退款\n\nwhere is my parcel\n".as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success());
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf-8")
        .lines()
        .collect();
    assert_eq!(lines.len(), 3, "one line per query: {lines:?}");
    for line in lines {
        let _: Vec<serde_json::Value> = serde_json::from_str(line).expect("each line is an array");
    }
}

#[test]
fn kb_import_of_json_lines_reports_every_bad_line_and_imports_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("agent.sqlite");
    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        "{\"id\":\"kb-a\",\"locale\":\"zh-CN\",\"title\":\"七天无理由退货\",\"body\":\"签收后七天内可以申请\",\"tags\":[\"退货\"],\"category\":\"returns\"}\n",
    )
    .expect("write");
    let out = cli_plain(&[
        "kb",
        "import",
        "--db",
        db.to_str().expect("utf-8"),
        good.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\":\"kb-b\",\"locale\":\"zh-CN\",\"title\":\"x\"}\nnot json\n",
    )
    .expect("write");
    let out = cli_plain(&[
        "kb",
        "import",
        "--db",
        db.to_str().expect("utf-8"),
        bad.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success(), "bad input fails");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.jsonl:1") && stderr.contains("bad.jsonl:2"),
        "names each line: {stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    // What was there before is untouched.
    let out = cli_plain(&[
        "kb",
        "search",
        "--db",
        db.to_str().expect("utf-8"),
        "--json",
        "退货",
    ]);
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(hits[0]["id"], "kb-a");
}

#[test]
fn troubleshooting_commands_on_a_store_and_clear_errors_without_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.sqlite");
    let out = cli_plain(&["sync", "status", "--db", missing.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    assert!(stderr.contains("no local store"), "{stderr}");

    let db = dir.path().join("agent.sqlite");
    let db = db.to_str().expect("utf-8");
    assert!(
        cli_plain(&["kb", "import", "--db", db, &content_kb()])
            .status
            .success()
    );
    let out = cli_plain(&["sync", "status", "--db", db, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(status["pending_actions"], 0);
    assert_eq!(status["signed_in"], false);
    assert!(status["local"]["kb_articles"].as_i64().expect("count") > 50);
    let out = cli_plain(&["outbox", "list", "--db", db]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("empty"));

    let out = cli_plain(&["kb", "search", "--db", db, "--limit", "0", "退款"]);
    assert!(!out.status.success(), "--limit 0 is refused");
}
