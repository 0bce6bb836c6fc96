//! SQLite's and PostgreSQL's schemas kept in step (issue 19): a fresh
//! database of each ends with the same tables and the same columns in each
//! table, and from migration 0010 on every migration exists for both
//! dialects under the same number (`src/storage/migrations/NNNN_*.sql` and
//! `src/storage/migrations/postgres/NNNN_*.sql`; PostgreSQL starts from
//! `0009_baseline.sql`, SQLite's 0001–0009 in one).
//!
//! The column check needs a PostgreSQL server: it runs under
//! `scripts/with-postgres.sh` (as `make unit` runs the platform's tests
//! there too) and says so when it cannot.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use homedesk_platform::storage::SqliteStorage;

/// Each table's column names.
type Schema = BTreeMap<String, BTreeSet<String>>;

/// Tables of a dialect's own bookkeeping, with no twin in the other:
/// SQLite's AUTOINCREMENT counters; PostgreSQL's migration version (SQLite
/// keeps it in `user_version`) and the change log's head (SQLite keeps it
/// in `sqlite_sequence`; 0009_baseline.sql says why).
const SQLITE_OWN: &[&str] = &["sqlite_sequence"];
const POSTGRES_OWN: &[&str] = &["schema_version", "change_log_head"];

/// The first migration both dialects must have.
const SHARED_FROM: u32 = 10;

fn migrations_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/storage/migrations")
}

/// The numbers of the `NNNN_*.sql` files in `dir`, each with its file name.
fn numbered(dir: &Path) -> BTreeMap<u32, Vec<String>> {
    let mut numbers: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display())) {
        let entry = entry.expect("a directory entry");
        if !entry.file_type().expect("file type").is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let number = stem
            .split_once('_')
            .and_then(|(n, _)| (n.len() == 4).then_some(n))
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("{}: a migration is named NNNN_what.sql", name));
        numbers.entry(number).or_default().push(name);
    }
    numbers
}

#[test]
fn both_dialects_have_every_migration_from_0010_on_under_the_same_number() {
    let sqlite = numbered(&migrations_dir());
    let postgres = numbered(&migrations_dir().join("postgres"));
    for (dialect, numbers) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        for (number, names) in numbers {
            assert_eq!(
                names.len(),
                1,
                "{dialect}: one migration per number, {number:04} has {names:?}"
            );
        }
    }
    assert!(
        postgres.keys().all(|n| *n >= SHARED_FROM - 1),
        "PostgreSQL starts from its baseline, 0009: {postgres:?}"
    );
    let from = |numbers: &BTreeMap<u32, Vec<String>>| -> BTreeSet<u32> {
        numbers
            .keys()
            .copied()
            .filter(|n| *n >= SHARED_FROM)
            .collect()
    };
    let (sqlite_only, postgres_only): (Vec<u32>, Vec<u32>) = (
        from(&sqlite)
            .difference(&from(&postgres))
            .copied()
            .collect(),
        from(&postgres)
            .difference(&from(&sqlite))
            .copied()
            .collect(),
    );
    assert!(
        sqlite_only.is_empty(),
        "SQLite migrations without a PostgreSQL twin in migrations/postgres/: {:?}",
        sqlite_only
            .iter()
            .map(|n| &sqlite[n][0])
            .collect::<Vec<_>>()
    );
    assert!(
        postgres_only.is_empty(),
        "PostgreSQL migrations without a SQLite twin in migrations/: {:?}",
        postgres_only
            .iter()
            .map(|n| &postgres[n][0])
            .collect::<Vec<_>>()
    );
}

/// The tables and columns of a fresh SQLite database, as the platform
/// makes it.
fn sqlite_schema() -> Schema {
    let tmp = tempfile::tempdir().expect("temp dir");
    drop(SqliteStorage::open(tmp.path()).expect("a fresh SQLite storage"));
    let db = rusqlite::Connection::open(tmp.path().join("platform.db")).expect("platform.db");
    let mut tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("tables");
    let tables: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("names");
    let mut schema = Schema::new();
    for table in tables {
        if SQLITE_OWN.contains(&table.as_str()) {
            continue;
        }
        let mut columns = db
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .expect("columns");
        let columns: BTreeSet<String> = columns
            .query_map([&table], |r| r.get(0))
            .expect("columns")
            .collect::<Result<_, _>>()
            .expect("names");
        schema.insert(table, columns);
    }
    schema
}

/// The tables and columns of a fresh PostgreSQL database, as the platform
/// makes it.
fn postgres_schema() -> Schema {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("platform");
    // Made empty by the harness; the platform brings it to its schema.
    drop(support::open_storage(&dir));
    let mut schema = Schema::new();
    for row in support::sql(
        &dir,
        "SELECT c.table_name, c.column_name FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'",
    ) {
        let [table, column] = row.as_slice() else {
            panic!("a table and a column: {row:?}");
        };
        if POSTGRES_OWN.contains(&table.as_str()) {
            continue;
        }
        schema
            .entry(table.clone())
            .or_default()
            .insert(column.clone());
    }
    schema
}

#[test]
fn a_fresh_database_of_either_dialect_has_the_same_tables_and_columns() {
    let sqlite = sqlite_schema();
    assert!(
        sqlite.contains_key("records") && sqlite.contains_key("changes"),
        "SQLite's schema is read: {sqlite:?}"
    );
    if !support::on_postgres() {
        // Past the test harness's capture, so it shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "schema_in_step: SQLite's schema read ({} tables); comparing it with \
             PostgreSQL's needs a server: run under scripts/with-postgres.sh",
            sqlite.len()
        );
        return;
    }
    let postgres = postgres_schema();
    let names = |schema: &Schema| schema.keys().cloned().collect::<BTreeSet<_>>();
    let (sqlite_tables, postgres_tables) = (names(&sqlite), names(&postgres));
    assert_eq!(
        sqlite_tables,
        postgres_tables,
        "the same tables; only SQLite: {:?}; only PostgreSQL: {:?}",
        sqlite_tables
            .difference(&postgres_tables)
            .collect::<Vec<_>>(),
        postgres_tables
            .difference(&sqlite_tables)
            .collect::<Vec<_>>()
    );
    let differing: Vec<String> = sqlite
        .iter()
        .filter(|(table, columns)| postgres.get(*table) != Some(columns))
        .map(|(table, columns)| {
            let other = &postgres[table];
            format!(
                "{table}: only SQLite {:?}, only PostgreSQL {:?}",
                columns.difference(other).collect::<Vec<_>>(),
                other.difference(columns).collect::<Vec<_>>()
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "the same columns in every table:\n{}",
        differing.join("\n")
    );
}
