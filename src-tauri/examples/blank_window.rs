//! A blank Tauri window: the baseline of the desktop benchmark
//! (`tests/e2e/tests/desktop_bench.rs`, figures in docs/benchmarks.md).
//!
//! It is what any Tauri 2 app on this machine costs before it does anything:
//! the same `tauri` crate with the same features (this example is built in
//! the same cargo invocation as the app), so the same wry and WebKitGTK and
//! the same processes (this one, a WebKitWebProcess, a WebKitNetworkProcess);
//! one window of the app's size with the app's CSP; started the same way by
//! the benchmark (tauri-driver and WebKitWebDriver). It has none of what the
//! app adds: no page content (`blank_window/dist/index.html` is an empty
//! document), no commands, no workstation core (SQLite store, sync engine,
//! search), no data.
//!
//! `cargo run -p homedesk --example blank_window` opens it.

fn main() -> std::process::ExitCode {
    let context = tauri::generate_context!("examples/blank_window/tauri.conf.json");
    match tauri::Builder::default().run(context) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("blank_window: the window could not start: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
