//! SQL for session families, refresh children, disabled agents and device
//! secrets (migration 0008).

use homedesk_protocol::UnixMillis;
use rusqlite::{OptionalExtension, params};

use super::SqliteTx;
use crate::storage::sessions::{FamilyRow, SessionTx};

impl SessionTx for SqliteTx<'_> {
    fn insert_family(&mut self, row: &FamilyRow) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO session_families (family, agent, device_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                row.family,
                row.agent,
                row.device_id,
                row.created_at,
                row.expires_at
            ],
        )?;
        Ok(())
    }

    fn family(&mut self, family: &str) -> anyhow::Result<Option<FamilyRow>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT family, agent, device_id, created_at, expires_at FROM session_families \
                 WHERE family = ?1",
            )?
            .query_row([family], |r| {
                Ok(FamilyRow {
                    family: r.get(0)?,
                    agent: r.get(1)?,
                    device_id: r.get(2)?,
                    created_at: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn ended_families(
        &mut self,
        families: &[String],
        now: UnixMillis,
    ) -> anyhow::Result<Vec<String>> {
        let mut live = self.tx.prepare_cached(
            "SELECT 1 FROM session_families f WHERE f.family = ?1 AND f.expires_at > ?2 \
             AND NOT EXISTS (SELECT 1 FROM revoked_families r WHERE r.family = f.family)",
        )?;
        let mut ended = Vec::new();
        for family in families {
            if !live.exists(params![family, now])? {
                ended.push(family.clone());
            }
        }
        Ok(ended)
    }

    fn revoke_agent_families(
        &mut self,
        agent: &str,
        now: UnixMillis,
    ) -> anyhow::Result<Vec<String>> {
        let families: Vec<String> = self
            .tx
            .prepare(
                "SELECT family FROM session_families WHERE agent = ?1 \
                 UNION SELECT family FROM refresh_tokens WHERE agent = ?1 \
                 UNION SELECT family FROM access_tokens WHERE agent = ?1",
            )?
            .query_map([agent], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for family in &families {
            self.tx.execute(
                "INSERT OR IGNORE INTO revoked_families (family, revoked_at) VALUES (?1, ?2)",
                params![family, now],
            )?;
        }
        self.tx
            .execute("DELETE FROM access_tokens WHERE agent = ?1", [agent])?;
        Ok(families)
    }

    fn refresh_child(&mut self, refresh_hash: &str) -> anyhow::Result<Option<(String, String)>> {
        let row: Option<(Option<String>, Option<String>)> = self
            .tx
            .query_row(
                "SELECT child_refresh, child_access FROM refresh_tokens WHERE token_hash = ?1",
                [refresh_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
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
        self.tx.execute(
            "UPDATE refresh_tokens SET child_refresh = ?2, child_access = ?3 WHERE token_hash = ?1",
            params![refresh_hash, child_refresh, child_access],
        )?;
        Ok(())
    }

    fn delete_pair(&mut self, refresh_hash: &str, access_hash: &str) -> anyhow::Result<()> {
        self.tx.execute(
            "DELETE FROM refresh_tokens WHERE token_hash = ?1",
            [refresh_hash],
        )?;
        self.tx.execute(
            "DELETE FROM access_tokens WHERE token_hash = ?1",
            [access_hash],
        )?;
        Ok(())
    }

    fn set_agent_disabled(
        &mut self,
        agent: &str,
        disabled_at: Option<UnixMillis>,
    ) -> anyhow::Result<bool> {
        let changed = self.tx.execute(
            "UPDATE credentials SET disabled_at = ?2 WHERE agent = ?1",
            params![agent, disabled_at],
        )?;
        Ok(changed == 1)
    }

    fn agent_disabled(&mut self, agent: &str) -> anyhow::Result<bool> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT 1 FROM credentials WHERE agent = ?1 AND disabled_at IS NOT NULL",
            )?
            .exists([agent])?)
    }

    fn device_secret(
        &mut self,
        agent: &str,
        device_id: &str,
        new_secret: &str,
        now: UnixMillis,
    ) -> anyhow::Result<String> {
        self.tx.execute(
            "INSERT OR IGNORE INTO device_secrets (agent, device_id, secret, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![agent, device_id, new_secret, now],
        )?;
        Ok(self.tx.query_row(
            "SELECT secret FROM device_secrets WHERE agent = ?1 AND device_id = ?2",
            params![agent, device_id],
            |r| r.get(0),
        )?)
    }
}
