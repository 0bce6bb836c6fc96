//! The change log under concurrent writers (issue 19, decision 0041): a
//! reader paging all the while, as a workstation does, never passes an
//! entry that commits later. On PostgreSQL every writer has its own
//! connection and holds its transaction open a little while after taking
//! its position, so if positions could commit out of order, a reader would
//! sooner or later read past one; with the write lock they cannot. Runs on
//! SQLite always and on PostgreSQL under `scripts/with-postgres.sh`.
//!
//! The reader follows the cursor rule of `GET /v1/changes`
//! (`pages::page_for`): in one read transaction, up to `limit` entries after
//! the cursor; the next cursor is the last entry read when more follow,
//! else the log's latest position.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use homedesk_platform::storage::{KindFilter, Storage, Viewer, everyone};
use homedesk_protocol::{ChangeBody, KbArticle, Record};
use proptest::prelude::*;

/// One writer's transaction: store an article, then keep the transaction
/// open `hold_us` before it commits.
fn write_article(storage: &dyn Storage, id: &str, hold_us: u64) {
    let article = Record::KbArticle(KbArticle {
        id: id.to_owned(),
        locale: "zh-CN".into(),
        title: format!("并发 {id}"),
        body: "退货须知".into(),
        tags: Vec::new(),
        category: "test".into(),
        updated_at: 1,
    });
    storage
        .write_with(|tx| {
            tx.put(&article, &everyone(), 1)?;
            std::thread::sleep(Duration::from_micros(hold_us));
            Ok(())
        })
        .expect("a write commits");
}

/// Pages from `cursor` while `writing`, then once more; every id read, in
/// order, with the positions checked to rise.
fn page_along(
    storage: &dyn Storage,
    mut cursor: u64,
    limit: usize,
    writing: &AtomicBool,
) -> Vec<String> {
    let viewers = [Viewer::Everyone];
    let mut seen = Vec::new();
    loop {
        let done = !writing.load(Ordering::SeqCst);
        let (page, latest) = storage
            .read_with(|tx| {
                let latest = tx.latest_seq()?;
                let page = tx.changes_after(cursor, &viewers, &KindFilter::default(), limit + 1)?;
                Ok((page, latest))
            })
            .expect("a page reads");
        let has_more = page.len() > limit;
        for change in page.into_iter().take(limit) {
            assert!(
                change.seq > cursor,
                "positions rise: {} after {cursor}",
                change.seq
            );
            cursor = change.seq;
            if let ChangeBody::Upsert(record) = change.body {
                seen.push(record.id().to_owned());
            }
        }
        if !has_more {
            cursor = latest;
            // The writers had all committed before this page was read.
            if done {
                return seen;
            }
        }
    }
}

fn run_case(
    storage: Arc<dyn Storage>,
    case: u64,
    writers: usize,
    per_writer: usize,
    limit: usize,
    hold_us: u64,
) {
    let start = storage.read_with(|tx| tx.latest_seq()).expect("latest");
    let writing = Arc::new(AtomicBool::new(true));
    let reader = {
        let storage = Arc::clone(&storage);
        let writing = Arc::clone(&writing);
        std::thread::spawn(move || page_along(storage.as_ref(), start, limit, &writing))
    };
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let storage = Arc::clone(&storage);
            std::thread::spawn(move || {
                for j in 0..per_writer {
                    // Uneven holds: a later position may finish first.
                    let hold = if (w + j) % 3 == 0 { hold_us } else { 0 };
                    write_article(storage.as_ref(), &format!("c{case}-w{w}-{j}"), hold);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a writer finishes");
    }
    writing.store(false, Ordering::SeqCst);
    let seen = reader.join().expect("the reader finishes");
    let written: BTreeSet<String> = (0..writers)
        .flat_map(|w| (0..per_writer).map(move |j| format!("c{case}-w{w}-{j}")))
        .collect();
    let seen_set: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), seen_set.len(), "no entry read twice");
    let missed: Vec<_> = written.difference(&seen_set).collect();
    assert!(
        missed.is_empty(),
        "the reader passed {} entries: {missed:?}",
        missed.len()
    );
    assert_eq!(
        seen_set, written,
        "the reader read exactly what was written"
    );
}

fn storage_for_test() -> (tempfile::TempDir, Arc<dyn Storage>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("platform");
    let storage = support::open_storage(&data);
    (dir, storage)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_paging_reader_never_passes_an_entry_of_concurrent_writers(
        writers in 2usize..=6,
        per_writer in 5usize..=25,
        limit in 1usize..=8,
        hold_us in 0u64..=3000,
    ) {
        let (_dir, storage) = storage_for_test();
        let case = u64::try_from(writers * 1000 + per_writer * 10 + limit).unwrap_or(0);
        run_case(storage, case, writers, per_writer, limit, hold_us);
    }
}

/// The log's head never goes back, even when compaction deletes the newest
/// entry's predecessors, and two writers on two connections never get the
/// same position.
#[test]
fn positions_are_unique_and_the_head_only_rises() {
    let (_dir, storage) = storage_for_test();
    let before = storage.read_with(|tx| tx.latest_seq()).expect("latest");
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let storage = Arc::clone(&storage);
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| {
                        // The same record each time: older entries are compacted.
                        let article = Record::KbArticle(KbArticle {
                            id: format!("same-{w}"),
                            locale: "en".into(),
                            title: "t".into(),
                            body: "b".into(),
                            tags: Vec::new(),
                            category: "c".into(),
                            updated_at: 1,
                        });
                        storage
                            .write_with(|tx| tx.put(&article, &everyone(), 1))
                            .expect("put")
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("writer"))
        .collect();
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count, "every write got its own position");
    let after = storage.read_with(|tx| tx.latest_seq()).expect("latest");
    assert_eq!(
        after,
        before + 80,
        "the head counts every position given out"
    );
    let left = storage
        .read_with(|tx| tx.changes_after(before, &[Viewer::Everyone], &KindFilter::default(), 1000))
        .expect("changes");
    assert_eq!(left.len(), 4, "only each record's newest entry is left");
}
