//! The `homedesk` desktop binary. All wiring lives in the library (`lib.rs`)
//! so the mock-runtime tests exercise the same code.

// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    homedesk_lib::run()
}
