//! The `homedesk` desktop binary. All wiring lives in the library (`lib.rs`)
//! so the mock-runtime tests exercise the same code.

// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    javascript_without_jit();
    homedesk_lib::run()
}

/// Runs the window's JavaScript without JavaScriptCore's JIT compilers
/// (WebKitGTK on Linux; WebKit's web process inherits the environment).
/// The desk's own JavaScript is light, and the JIT's code and compiler
/// cost the web process about 11 MiB on a family PC that has little to
/// spare; fewer compilers also mean less for hostile text to aim at.
/// Measured and decided in docs/decisions/0050-javascript-without-jit.md.
/// Setting `JSC_useJIT` in the environment (`true`) overrides it.
fn javascript_without_jit() {
    const JIT: &str = "JSC_useJIT";
    if cfg!(target_os = "linux") && std::env::var_os(JIT).is_none() {
        // SAFETY: the first thing `main` does, before any thread exists,
        // so nothing can read the environment while it changes.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(JIT, "false");
        }
    }
}
