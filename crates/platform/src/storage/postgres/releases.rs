//! SQL for published releases and their package chunks on PostgreSQL
//! (SQLite's migration 0007, in the baseline).

use tokio_postgres::Row;

use super::{PgTx, unsigned};
use crate::storage::releases::{RELEASE_CHUNK_BYTES, ReleaseRow, ReleaseTx};

const RELEASE_COLUMNS: &str = "id, target, version, file_name, size, signature, notes_zh, \
     notes_en, published_at FROM releases";

fn release_from(r: &Row) -> anyhow::Result<ReleaseRow> {
    Ok(ReleaseRow {
        id: r.get(0),
        target: r.get(1),
        version: r.get(2),
        file_name: r.get(3),
        size: unsigned(r.get(4), "release size")?,
        signature: r.get(5),
        notes_zh: r.get(6),
        notes_en: r.get(7),
        published_at: r.get(8),
    })
}

impl ReleaseTx for PgTx<'_> {
    fn insert_release(&mut self, row: &ReleaseRow, package: &[u8]) -> anyhow::Result<()> {
        anyhow::ensure!(
            u64::try_from(package.len())? == row.size,
            "release {}: {} bytes given for a package of {}",
            row.id,
            package.len(),
            row.size
        );
        self.execute(
            "INSERT INTO releases (id, target, version, file_name, size, signature, notes_zh, \
             notes_en, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &row.id,
                &row.target,
                &row.version,
                &row.file_name,
                &i64::try_from(row.size)?,
                &row.signature,
                &row.notes_zh,
                &row.notes_en,
                &row.published_at,
            ],
        )?;
        for (n, chunk) in package.chunks(RELEASE_CHUNK_BYTES).enumerate() {
            self.execute(
                "INSERT INTO release_chunks (release_id, n, bytes) VALUES ($1, $2, $3)",
                &[&row.id, &i64::try_from(n)?, &chunk],
            )?;
        }
        Ok(())
    }

    fn release(&mut self, id: &str) -> anyhow::Result<Option<ReleaseRow>> {
        self.query_opt(&format!("SELECT {RELEASE_COLUMNS} WHERE id = $1"), &[&id])?
            .as_ref()
            .map(release_from)
            .transpose()
    }

    fn releases(&mut self, target: Option<&str>) -> anyhow::Result<Vec<ReleaseRow>> {
        // SQLite breaks ties of `published_at` by rowid, the order of
        // insertion; this table has no such column here. Releases are
        // never updated or deleted and each is inserted by its own write
        // transaction, which all run one at a time under the write lock,
        // so the inserting transaction's id is the order of insertion:
        // `age(xmin)` is larger for older rows, across xid wraparound, for
        // rows less than 2^31 transactions old (VACUUM FREEZE keeps the
        // raw xmin this reads). Within one transaction, the place in the
        // heap (`ctid`) follows insertion. Only equal `published_at`s,
        // i.e. two releases in one millisecond, ever reach these keys.
        self.query(
            &format!(
                "SELECT {RELEASE_COLUMNS} WHERE $1::text IS NULL OR target = $1 \
                 ORDER BY published_at, age(xmin) DESC, ctid"
            ),
            &[&target],
        )?
        .iter()
        .map(release_from)
        .collect()
    }

    fn release_chunk(&mut self, id: &str, n: u64) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .query_opt(
                "SELECT bytes FROM release_chunks WHERE release_id = $1 AND n = $2",
                &[&id, &i64::try_from(n)?],
            )?
            .map(|r| r.get(0)))
    }
}
