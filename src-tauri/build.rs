//! Build script: embeds the UI, declares the app's own commands so they fall
//! under Tauri's permission system (a window may call a command only if a
//! capability in `capabilities/` grants `allow-<command>`), and fails the
//! build unless the main window's capability grants exactly those commands.
//!
//! The commands come from the one list in `src/command_list.rs`
//! (docs/decisions/0017-commands-declared-once.md).

use std::collections::BTreeSet;

#[path = "src/command_list.rs"]
mod command_list;

/// Every command's name, from `src/command_list.rs`.
const COMMANDS: &[&str] = {
    macro_rules! names {
        ($($name:ident),* $(,)?) => {
            &[$(stringify!($name)),*]
        };
    }
    command_list::with_commands!(names)
};

/// The main window's capability: it must grant every command, and no other
/// app permission.
const MAIN_CAPABILITY: &str = "capabilities/main.json";

fn main() {
    let index = std::path::Path::new("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !index.exists() {
        panic!(
            "ui/dist/index.html is missing: the app embeds the built UI. \
             Run `make ui` (or `npm --prefix ui run build`) first; `make run` and `make test` do it for you."
        );
    }
    println!("cargo:rerun-if-changed={MAIN_CAPABILITY}");
    let capability = std::fs::read_to_string(MAIN_CAPABILITY)
        .unwrap_or_else(|err| panic!("cannot read src-tauri/{MAIN_CAPABILITY}: {err}"));
    if let Err(problem) = check_capability(COMMANDS, &capability) {
        panic!(
            "the commands of src-tauri/src/command_list.rs and src-tauri/{MAIN_CAPABILITY} disagree: {problem}"
        );
    }
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(err) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {err:#}");
    }
}

/// `Ok` when the capability's app permissions (those without a `plugin:`
/// prefix such as `core:`) are exactly `allow-<command>` for each command,
/// and no command is listed twice.
fn check_capability(commands: &[&str], capability_json: &str) -> Result<(), String> {
    let mut wanted = BTreeSet::new();
    for command in commands {
        if !wanted.insert(format!("allow-{}", command.replace('_', "-"))) {
            return Err(format!("the command `{command}` is listed twice"));
        }
    }
    let capability: serde_json::Value =
        serde_json::from_str(capability_json).map_err(|err| format!("not valid JSON: {err}"))?;
    let permissions = capability["permissions"]
        .as_array()
        .ok_or("it has no `permissions` list")?;
    let granted: BTreeSet<String> = permissions
        .iter()
        .filter_map(|entry| entry.as_str().or_else(|| entry["identifier"].as_str()))
        .filter(|identifier| !identifier.contains(':'))
        .map(str::to_owned)
        .collect();
    let missing: Vec<&String> = wanted.difference(&granted).collect();
    let unknown: Vec<&String> = granted.difference(&wanted).collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "the main window is not granted {missing:?} (add them to its `permissions`)"
        ));
    }
    if !unknown.is_empty() {
        problems.push(format!(
            "it grants {unknown:?}, which are not `allow-<command>` of a declared command \
             (remove them, or declare the command)"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
