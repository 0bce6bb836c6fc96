//! The `homedesk-platform` binary as scripts see it.

use std::process::Command;

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
