//! SQL for published releases and their package chunks (migration 0007).

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteTx;
use crate::storage::releases::{RELEASE_CHUNK_BYTES, ReleaseRow, ReleaseTx};

const RELEASE_COLUMNS: &str = "id, target, version, file_name, size, signature, notes_zh, \
     notes_en, published_at FROM releases";

fn release_from(r: &Row<'_>) -> rusqlite::Result<ReleaseRow> {
    Ok(ReleaseRow {
        id: r.get(0)?,
        target: r.get(1)?,
        version: r.get(2)?,
        file_name: r.get(3)?,
        size: r.get(4)?,
        signature: r.get(5)?,
        notes_zh: r.get(6)?,
        notes_en: r.get(7)?,
        published_at: r.get(8)?,
    })
}

impl ReleaseTx for SqliteTx<'_> {
    fn insert_release(&mut self, row: &ReleaseRow, package: &[u8]) -> anyhow::Result<()> {
        anyhow::ensure!(
            u64::try_from(package.len())? == row.size,
            "release {}: {} bytes given for a package of {}",
            row.id,
            package.len(),
            row.size
        );
        self.tx.execute(
            "INSERT INTO releases (id, target, version, file_name, size, signature, notes_zh, \
             notes_en, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                row.id,
                row.target,
                row.version,
                row.file_name,
                row.size,
                row.signature,
                row.notes_zh,
                row.notes_en,
                row.published_at
            ],
        )?;
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO release_chunks (release_id, n, bytes) VALUES (?1, ?2, ?3)",
        )?;
        for (n, chunk) in package.chunks(RELEASE_CHUNK_BYTES).enumerate() {
            insert.execute(params![row.id, i64::try_from(n)?, chunk])?;
        }
        Ok(())
    }

    fn release(&mut self, id: &str) -> anyhow::Result<Option<ReleaseRow>> {
        Ok(self
            .tx
            .prepare_cached(&format!("SELECT {RELEASE_COLUMNS} WHERE id = ?1"))?
            .query_row([id], release_from)
            .optional()?)
    }

    fn releases(&mut self, target: Option<&str>) -> anyhow::Result<Vec<ReleaseRow>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {RELEASE_COLUMNS} WHERE ?1 IS NULL OR target = ?1 \
             ORDER BY published_at, rowid"
        ))?;
        let rows = stmt
            .query_map([target], release_from)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn release_chunk(&mut self, id: &str, n: u64) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self
            .tx
            .prepare_cached("SELECT bytes FROM release_chunks WHERE release_id = ?1 AND n = ?2")?
            .query_row(params![id, i64::try_from(n)?], |r| r.get(0))
            .optional()?)
    }
}
