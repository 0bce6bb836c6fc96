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
