//! SQL for the failed sign-in counters on PostgreSQL (migration 0011).

use homedesk_protocol::UnixMillis;

use super::{PgTx, unsigned};
use crate::storage::limits::{LimitTx, SignInCounter};

impl LimitTx for PgTx<'_> {
    fn sign_in_counter(
        &mut self,
        kind: &str,
        subject: &str,
    ) -> anyhow::Result<Option<SignInCounter>> {
        self.query_opt(
            "SELECT failures, last_failure, wait_until FROM sign_in_counters \
             WHERE kind = $1 AND subject = $2",
            &[&kind, &subject],
        )?
        .map(|r| {
            Ok(SignInCounter {
                failures: unsigned(r.get(0), "sign-in failures")?,
                last_failure: r.get(1),
                wait_until: r.get(2),
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
        self.execute(
            "INSERT INTO sign_in_counters (kind, subject, failures, last_failure, wait_until) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind, subject) DO UPDATE SET failures = excluded.failures, \
             last_failure = excluded.last_failure, wait_until = excluded.wait_until",
            &[
                &kind,
                &subject,
                &i64::from(counter.failures),
                &counter.last_failure,
                &counter.wait_until,
            ],
        )?;
        Ok(())
    }

    fn delete_sign_in_counter(&mut self, kind: &str, subject: &str) -> anyhow::Result<bool> {
        Ok(self.execute(
            "DELETE FROM sign_in_counters WHERE kind = $1 AND subject = $2",
            &[&kind, &subject],
        )? > 0)
    }

    fn sign_in_counters(&mut self) -> anyhow::Result<u64> {
        let count: i64 = self
            .query_one("SELECT COUNT(*) FROM sign_in_counters", &[])?
            .get(0);
        unsigned(count, "sign-in counter count")
    }

    fn forget_sign_in_counters(
        &mut self,
        quiet_since: UnixMillis,
        now: UnixMillis,
    ) -> anyhow::Result<u64> {
        self.execute(
            "DELETE FROM sign_in_counters WHERE last_failure <= $1 AND wait_until <= $2",
            &[&quiet_since, &now],
        )
    }

    fn drop_oldest_sign_in_counters(&mut self, count: u64) -> anyhow::Result<u64> {
        self.execute(
            "DELETE FROM sign_in_counters WHERE (kind, subject) IN (\
                 SELECT kind, subject FROM sign_in_counters \
                 ORDER BY last_failure, kind COLLATE \"C\", subject COLLATE \"C\" LIMIT $1)",
            &[&i64::try_from(count)?],
        )
    }
}
