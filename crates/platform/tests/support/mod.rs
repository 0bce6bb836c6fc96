//! The platform's test harness: [`harness`] (the real binary on loopback
//! TLS, shared with the workstation core's tests and the benches, which
//! include it by path) and what only the platform's own tests can name, its
//! library's storage.
//!
//! Storage: SQLite in each data folder, or PostgreSQL under
//! `scripts/with-postgres.sh` ([`on_postgres`]): then every platform the
//! harness starts for a data folder uses a database of that folder's own
//! ([`database_for`]), and [`open_storage`] opens the same one.

#![allow(dead_code, unused_imports)]

mod harness;

use std::path::Path;
use std::sync::Arc;

pub use harness::*;
use homedesk_platform::storage::Storage;

/// The storage a server for the data folder `dir` uses: SQLite in `dir`,
/// or the folder's PostgreSQL database ([`database_for`]); made when
/// missing, its schema brought up to date. Inside an async test, call the
/// storage's methods within [`blocking`] (PostgreSQL's driver cannot block
/// a thread that runs async tasks).
pub fn open_storage(dir: &Path) -> Arc<dyn Storage> {
    assert_eq!(
        DATABASE_ENV,
        homedesk_platform::storage::DATABASE_ENV,
        "the harness sets the variable the platform reads"
    );
    let database = database_for(dir);
    // Opening blocks on the driver too: on a thread of its own, so this
    // works in an async test as well.
    blocking(|| homedesk_platform::storage::open(dir, database.as_deref()))
        .unwrap_or_else(|err| panic!("the storage of {} opens: {err:#}", dir.display()))
}
