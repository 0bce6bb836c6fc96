//! The app's IPC commands, declared once
//! (docs/decisions/0017-commands-declared-once.md).
//!
//! `with_commands!(then)` calls the macro `then!` with every command's name.
//! Everything else that names commands is built from it or checked against it:
//!
//! - `build.rs` includes this file: the names become the app manifest (one
//!   `allow-<name>` permission each), and the build fails unless
//!   `capabilities/main.json` grants exactly those permissions;
//! - `commands::handler` builds the invoke handler from it, so a name without
//!   a `#[tauri::command]` function does not compile, and a command function
//!   missing here is dead code (a clippy error in `make unit`);
//! - the shell tests (`tests.rs`) check that the main window may call every
//!   command, that other windows are refused by the ACL, and that the
//!   TypeScript host (`ui/src/lib/host/tauri.ts`) invokes exactly these names,
//!   each with the argument names of its function in `commands.rs`.

/// Calls `$then! { name, name, … }` with every command, in one list.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            app_info,
            set_locale,
            connection_status,
            sign_in_defaults,
            signed_in,
            sign_in,
            sign_out,
            queue,
            claim,
            conversation,
            open_conversation,
            reply,
            attach_photo,
            remove_photo,
            attach_canned_photo,
            save_draft,
            wrap_up,
            log_call,
            search_articles,
            article,
            release,
            search_canned_replies,
            reply_template,
            presence,
            set_presence,
            note,
            accept_offer,
            decline_offer,
            scripts,
            transfer_targets,
            transfer,
            set_agent_presence,
            console_team,
            console_trainees,
            console_reports,
            console_export_reports,
            console_promote,
            my_day,
            preferences,
            set_preferences,
            allow_kb_update,
            lock,
            unlock,
            unlock_as,
            switch_user,
            known_agents,
            set_focused_conversation,
            conflicts,
            dismiss_conflict,
            recent_articles,
            open_link,
            practice_catalog,
            start_practice,
            stop_practice,
            practice_status,
            practice_report,
            practice_history,
            practice_mark,
            update_status,
            check_for_update,
            install_update,
        }
    };
}
pub(crate) use with_commands;
