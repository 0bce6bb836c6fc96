//! SQL for instances, their event streams and agents' links ([`LinkTx`]).

use homedesk_protocol::UnixMillis;
use rusqlite::{OptionalExtension, Row, params};

use super::SqliteTx;
use crate::storage::links::{AgentLink, LinkTx};

const LINK_COLUMNS: &str = "l.agent, l.degraded, l.state_since, l.gone_since, l.last_offered, \
     l.missed_in_a_row, \
     (SELECT COALESCE(SUM(s.streams), 0) FROM agent_streams s WHERE s.agent = l.agent)";

const ALL_LINK_COLUMNS: &str = "l.agent, l.degraded, l.state_since, l.gone_since, l.last_offered, \
     l.missed_in_a_row, COALESCE(s.streams, 0)";

fn link_from(r: &Row<'_>) -> rusqlite::Result<AgentLink> {
    Ok(AgentLink {
        agent: r.get(0)?,
        degraded: r.get(1)?,
        state_since: r.get(2)?,
        gone_since: r.get(3)?,
        last_offered: r.get(4)?,
        missed_in_a_row: r.get(5)?,
        streams: r.get(6)?,
    })
}

impl LinkTx for SqliteTx<'_> {
    fn beat(&mut self, id: &str, started_at: UnixMillis, now: UnixMillis) -> anyhow::Result<bool> {
        let updated = self
            .tx
            .prepare_cached("UPDATE instances SET seen_at = ?2 WHERE id = ?1")?
            .execute(params![id, now])?;
        if updated == 0 {
            self.tx
                .prepare_cached(
                    "INSERT INTO instances (id, started_at, seen_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![id, started_at, now])?;
        }
        Ok(updated > 0)
    }

    fn instances_seen_before(
        &mut self,
        seen_before: UnixMillis,
    ) -> anyhow::Result<Vec<(String, UnixMillis)>> {
        let mut statement = self
            .tx
            .prepare_cached("SELECT id, seen_at FROM instances WHERE seen_at < ?1 ORDER BY id")?;
        let rows = statement.query_map([seen_before], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn earliest_start(&mut self, seen_since: UnixMillis) -> anyhow::Result<Option<UnixMillis>> {
        Ok(self
            .tx
            .prepare_cached("SELECT MIN(started_at) FROM instances WHERE seen_at >= ?1")?
            .query_row([seen_since], |r| r.get(0))?)
    }

    fn forget_instance(&mut self, id: &str) -> anyhow::Result<Vec<String>> {
        let agents: Vec<String> = {
            let mut statement = self
                .tx
                .prepare_cached("SELECT agent FROM agent_streams WHERE instance = ?1")?;
            let rows = statement.query_map([id], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        self.tx
            .prepare_cached("DELETE FROM agent_streams WHERE instance = ?1")?
            .execute([id])?;
        self.tx
            .prepare_cached("DELETE FROM instances WHERE id = ?1")?
            .execute([id])?;
        Ok(agents)
    }

    fn set_streams(&mut self, instance: &str, agent: &str, streams: u32) -> anyhow::Result<()> {
        if streams == 0 {
            self.tx
                .prepare_cached("DELETE FROM agent_streams WHERE instance = ?1 AND agent = ?2")?
                .execute(params![instance, agent])?;
        } else {
            self.tx
                .prepare_cached(
                    "INSERT INTO agent_streams (instance, agent, streams) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (instance, agent) DO UPDATE SET streams = excluded.streams",
                )?
                .execute(params![instance, agent, streams])?;
        }
        Ok(())
    }

    fn links(&mut self) -> anyhow::Result<Vec<AgentLink>> {
        let mut statement = self.tx.prepare_cached(&format!(
            "SELECT {ALL_LINK_COLUMNS} FROM agent_links l LEFT JOIN \
             (SELECT agent, SUM(streams) AS streams FROM agent_streams GROUP BY agent) s \
             ON s.agent = l.agent ORDER BY l.agent"
        ))?;
        let rows = statement.query_map([], link_from)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn link(&mut self, agent: &str) -> anyhow::Result<Option<AgentLink>> {
        Ok(self
            .tx
            .prepare_cached(&format!(
                "SELECT {LINK_COLUMNS} FROM agent_links l WHERE l.agent = ?1"
            ))?
            .query_row([agent], link_from)
            .optional()?)
    }

    fn put_link(&mut self, link: &AgentLink) -> anyhow::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO agent_links (agent, degraded, state_since, gone_since, \
                 last_offered, missed_in_a_row) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (agent) DO UPDATE SET degraded = excluded.degraded, \
                 state_since = excluded.state_since, gone_since = excluded.gone_since, \
                 last_offered = excluded.last_offered, missed_in_a_row = excluded.missed_in_a_row",
            )?
            .execute(params![
                link.agent,
                link.degraded,
                link.state_since,
                link.gone_since,
                link.last_offered,
                link.missed_in_a_row
            ])?;
        Ok(())
    }

    fn assigned_counts(&mut self) -> anyhow::Result<Vec<(String, u32)>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT json_extract(data, '$.assigned_to') AS agent, COUNT(*) FROM records \
             WHERE kind = 'conversation' AND json_extract(data, '$.assigned_to') IS NOT NULL \
             AND json_extract(data, '$.status') <> 'resolved' GROUP BY agent",
        )?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn degraded_agents(&mut self) -> anyhow::Result<Vec<String>> {
        let mut statement = self
            .tx
            .prepare_cached("SELECT agent FROM agent_links WHERE degraded = 1 ORDER BY agent")?;
        let rows = statement.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
