//! SQL for the failed sign-in counters (migration 0011).

use homedesk_protocol::UnixMillis;
use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::storage::limits::{LimitTx, SignInCounter};

impl LimitTx for SqliteTx<'_> {
    fn sign_in_counter(
        &mut self,
        kind: &str,
        subject: &str,
    ) -> anyhow::Result<Option<SignInCounter>> {
        let row: Option<(i64, i64, i64)> = self
            .tx
            .prepare_cached(
                "SELECT failures, last_failure, wait_until FROM sign_in_counters \
                 WHERE kind = ?1 AND subject = ?2",
            )?
            .query_row(params![kind, subject], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        row.map(|(failures, last_failure, wait_until)| {
            Ok(SignInCounter {
                failures: u32::try_from(failures)?,
                last_failure,
                wait_until,
            })
        })
        .transpose()
    }

    fn put_sign_in_counter(
        &mut self,
        kind: &str,
        subject: &str,
        counter: &SignInCounter,
    ) -> anyhow::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sign_in_counters (kind, subject, failures, last_failure, wait_until) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (kind, subject) DO UPDATE SET failures = excluded.failures, \
                 last_failure = excluded.last_failure, wait_until = excluded.wait_until",
            )?
            .execute(params![
                kind,
                subject,
                counter.failures,
                counter.last_failure,
                counter.wait_until
            ])?;
        Ok(())
    }

    fn delete_sign_in_counter(&mut self, kind: &str, subject: &str) -> anyhow::Result<bool> {
        let deleted = self
            .tx
            .prepare_cached("DELETE FROM sign_in_counters WHERE kind = ?1 AND subject = ?2")?
            .execute(params![kind, subject])?;
        Ok(deleted > 0)
    }

    fn sign_in_counters(&mut self) -> anyhow::Result<u64> {
        let count: i64 = self
            .tx
            .prepare_cached("SELECT COUNT(*) FROM sign_in_counters")?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(count)?)
    }

    fn forget_sign_in_counters(
        &mut self,
        quiet_since: UnixMillis,
        now: UnixMillis,
    ) -> anyhow::Result<u64> {
        let deleted = self
            .tx
            .prepare_cached(
                "DELETE FROM sign_in_counters WHERE last_failure <= ?1 AND wait_until <= ?2",
            )?
            .execute(params![quiet_since, now])?;
        Ok(u64::try_from(deleted)?)
    }

    fn drop_oldest_sign_in_counters(&mut self, count: u64) -> anyhow::Result<u64> {
        let deleted = self
            .tx
            .prepare_cached(
                "DELETE FROM sign_in_counters WHERE (kind, subject) IN (\
                     SELECT kind, subject FROM sign_in_counters \
                     ORDER BY last_failure, kind, subject LIMIT ?1)",
            )?
            .execute(params![i64::try_from(count)?])?;
        Ok(u64::try_from(deleted)?)
    }
}
