//! SQL for session families, refresh children, disabled agents and device
//! secrets on PostgreSQL (SQLite's migration 0008, in the baseline).

use homedesk_protocol::UnixMillis;

use super::PgTx;
use crate::storage::sessions::{FamilyRow, SessionTx};

impl SessionTx for PgTx<'_> {
    fn insert_family(&mut self, row: &FamilyRow) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO session_families (family, agent, device_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &row.family,
                &row.agent,
                &row.device_id,
                &row.created_at,
                &row.expires_at,
            ],
        )?;
        Ok(())
    }

    fn family(&mut self, family: &str) -> anyhow::Result<Option<FamilyRow>> {
        Ok(self
            .query_opt(
                "SELECT family, agent, device_id, created_at, expires_at FROM session_families \
                 WHERE family = $1",
                &[&family],
            )?
            .map(|r| FamilyRow {
                family: r.get(0),
                agent: r.get(1),
                device_id: r.get(2),
                created_at: r.get(3),
                expires_at: r.get(4),
            }))
    }

    fn ended_families(
        &mut self,
        families: &[String],
        now: UnixMillis,
    ) -> anyhow::Result<Vec<String>> {
        if families.is_empty() {
            return Ok(Vec::new());
        }
        // One round trip for them all, in the order (and with the
        // repetitions) they were given, as SQLite's one query per family.
        Ok(self
            .query(
                "SELECT g.family FROM unnest($1::text[]) WITH ORDINALITY AS g (family, n) \
                 WHERE NOT EXISTS (SELECT 1 FROM session_families f \
                     WHERE f.family = g.family AND f.expires_at > $2 \
                     AND NOT EXISTS (SELECT 1 FROM revoked_families r WHERE r.family = f.family)) \
                 ORDER BY g.n",
                &[&families, &now],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn revoke_agent_families(
        &mut self,
        agent: &str,
        now: UnixMillis,
    ) -> anyhow::Result<Vec<String>> {
        // SQLite's UNION gives the families sorted (bytewise) and distinct.
        let families: Vec<String> = self
            .query(
                "SELECT family FROM (\
                     SELECT family FROM session_families WHERE agent = $1 \
                     UNION SELECT family FROM refresh_tokens WHERE agent = $1 \
                     UNION SELECT family FROM access_tokens WHERE agent = $1) f \
                 ORDER BY family COLLATE \"C\"",
                &[&agent],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if !families.is_empty() {
            self.execute(
                "INSERT INTO revoked_families (family, revoked_at) \
                 SELECT unnest($1::text[]), $2::bigint ON CONFLICT DO NOTHING",
                &[&families, &now],
            )?;
        }
        self.execute("DELETE FROM access_tokens WHERE agent = $1", &[&agent])?;
        Ok(families)
    }

    fn refresh_child(&mut self, refresh_hash: &str) -> anyhow::Result<Option<(String, String)>> {
        let row: Option<(Option<String>, Option<String>)> = self
            .query_opt(
                "SELECT child_refresh, child_access FROM refresh_tokens WHERE token_hash = $1",
                &[&refresh_hash],
            )?
            .map(|r| (r.get(0), r.get(1)));
        Ok(match row {
            Some((Some(refresh), Some(access))) => Some((refresh, access)),
            _ => None,
        })
    }

    fn set_refresh_child(
        &mut self,
        refresh_hash: &str,
        child_refresh: &str,
        child_access: &str,
    ) -> anyhow::Result<()> {
        self.execute(
            "UPDATE refresh_tokens SET child_refresh = $2, child_access = $3 WHERE token_hash = $1",
            &[&refresh_hash, &child_refresh, &child_access],
        )?;
        Ok(())
    }

    fn delete_pair(&mut self, refresh_hash: &str, access_hash: &str) -> anyhow::Result<()> {
        self.execute(
            "DELETE FROM refresh_tokens WHERE token_hash = $1",
            &[&refresh_hash],
        )?;
        self.execute(
            "DELETE FROM access_tokens WHERE token_hash = $1",
            &[&access_hash],
        )?;
        Ok(())
    }

    fn set_agent_disabled(
        &mut self,
        agent: &str,
        disabled_at: Option<UnixMillis>,
    ) -> anyhow::Result<bool> {
        let changed = self.execute(
            "UPDATE credentials SET disabled_at = $2 WHERE agent = $1",
            &[&agent, &disabled_at],
        )?;
        Ok(changed == 1)
    }

    fn agent_disabled(&mut self, agent: &str) -> anyhow::Result<bool> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM credentials WHERE agent = $1 AND disabled_at IS NOT NULL",
                &[&agent],
            )?
            .is_some())
    }

    fn device_secret(
        &mut self,
        agent: &str,
        device_id: &str,
        new_secret: &str,
        now: UnixMillis,
    ) -> anyhow::Result<String> {
        self.execute(
            "INSERT INTO device_secrets (agent, device_id, secret, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&agent, &device_id, &new_secret, &now],
        )?;
        Ok(self
            .query_one(
                "SELECT secret FROM device_secrets WHERE agent = $1 AND device_id = $2",
                &[&agent, &device_id],
            )?
            .get(0))
    }
}
