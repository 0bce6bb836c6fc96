//! All SQL of the workstation lives in `store/` (one module per table or
//! concern) and, for its own index tables, `search/`: the desk, practice,
//! sync and the rest call named store functions. This test fails when a
//! query is written anywhere else.

use std::path::{Path, PathBuf};

/// Calls that run SQL on a rusqlite connection.
const SQL_CALLS: [&str; 5] = [
    ".execute(",
    ".execute_batch(",
    ".query_row(",
    ".prepare(",
    ".prepare_cached(",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_sql_outside_the_store_and_the_search_index() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "the core's sources were found");
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        if relative.starts_with("store") || relative.starts_with("search") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            if SQL_CALLS.iter().any(|call| line.contains(call)) {
                found.push(format!("{}:{}: {}", relative.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL belongs in a store/ module (call it by name):\n{}",
        found.join("\n")
    );
}
