//! Build script: embeds the UI and declares the app's own commands, so they
//! fall under Tauri's permission system (a window may call a command only if
//! a capability in `capabilities/` grants `allow-<command>`).

/// Every `#[tauri::command]` in src/commands.rs, by name.
const COMMANDS: &[&str] = &[
    "app_info",
    "set_locale",
    "connection_status",
    "sign_in_defaults",
    "signed_in",
    "sign_in",
    "sign_out",
    "queue",
    "claim",
    "conversation",
    "reply",
    "save_draft",
    "wrap_up",
    "log_call",
    "search_articles",
    "article",
    "release",
    "search_canned_replies",
    "reply_template",
    "presence",
    "set_presence",
    "note",
    "accept_offer",
    "decline_offer",
    "scripts",
    "transfer_targets",
    "transfer",
    "my_day",
    "preferences",
    "set_preferences",
    "lock",
    "unlock",
    "set_focused_conversation",
    "conflicts",
    "dismiss_conflict",
    "recent_articles",
    "practice_catalog",
    "start_practice",
    "stop_practice",
    "practice_status",
    "practice_report",
    "practice_history",
    "practice_mark",
];

fn main() {
    let index = std::path::Path::new("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    if !index.exists() {
        panic!(
            "ui/dist/index.html is missing: the app embeds the built UI. \
             Run `make ui` (or `npm --prefix ui run build`) first; `make run` and `make test` do it for you."
        );
    }
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(err) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {err:#}");
    }
}
