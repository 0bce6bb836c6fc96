//! SQL for instances, their event streams and agents' links on PostgreSQL
//! ([`LinkTx`]).

use homedesk_protocol::UnixMillis;
use tokio_postgres::Row;

use super::{PgTx, unsigned};
use crate::storage::links::{AgentLink, LinkTx};

const LINK_COLUMNS: &str = "l.agent, l.degraded, l.state_since, l.gone_since, l.last_offered, \
     l.missed_in_a_row, \
     (SELECT COALESCE(SUM(s.streams), 0)::BIGINT FROM agent_streams s WHERE s.agent = l.agent)";

const ALL_LINK_COLUMNS: &str = "l.agent, l.degraded, l.state_since, l.gone_since, l.last_offered, \
     l.missed_in_a_row, COALESCE(s.streams, 0)::BIGINT";

fn link_from(r: &Row) -> anyhow::Result<AgentLink> {
    Ok(AgentLink {
        agent: r.get(0),
        degraded: r.get::<_, i64>(1) != 0,
        state_since: r.get(2),
        gone_since: r.get(3),
        last_offered: r.get(4),
        missed_in_a_row: unsigned(r.get(5), "missed offers")?,
        streams: unsigned(r.get(6), "stream count")?,
    })
}

impl LinkTx for PgTx<'_> {
    fn beat(&mut self, id: &str, started_at: UnixMillis, now: UnixMillis) -> anyhow::Result<bool> {
        let updated = self.execute(
            "UPDATE instances SET seen_at = $2 WHERE id = $1",
            &[&id, &now],
        )?;
        if updated == 0 {
            self.execute(
                "INSERT INTO instances (id, started_at, seen_at) VALUES ($1, $2, $3)",
                &[&id, &started_at, &now],
            )?;
        }
        Ok(updated > 0)
    }

    fn instances_seen_before(
        &mut self,
        seen_before: UnixMillis,
    ) -> anyhow::Result<Vec<(String, UnixMillis)>> {
        Ok(self
            .query(
                "SELECT id, seen_at FROM instances WHERE seen_at < $1 ORDER BY id COLLATE \"C\"",
                &[&seen_before],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn earliest_start(&mut self, seen_since: UnixMillis) -> anyhow::Result<Option<UnixMillis>> {
        Ok(self
            .query_one(
                "SELECT MIN(started_at) FROM instances WHERE seen_at >= $1",
                &[&seen_since],
            )?
            .get(0))
    }

    fn forget_instance(&mut self, id: &str) -> anyhow::Result<Vec<String>> {
        let agents = self
            .query(
                "DELETE FROM agent_streams WHERE instance = $1 RETURNING agent",
                &[&id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        self.execute("DELETE FROM instances WHERE id = $1", &[&id])?;
        Ok(agents)
    }

    fn set_streams(&mut self, instance: &str, agent: &str, streams: u32) -> anyhow::Result<()> {
        if streams == 0 {
            self.execute(
                "DELETE FROM agent_streams WHERE instance = $1 AND agent = $2",
                &[&instance, &agent],
            )?;
        } else {
            self.execute(
                "INSERT INTO agent_streams (instance, agent, streams) VALUES ($1, $2, $3) \
                 ON CONFLICT (instance, agent) DO UPDATE SET streams = excluded.streams",
                &[&instance, &agent, &i64::from(streams)],
            )?;
        }
        Ok(())
    }

    fn links(&mut self) -> anyhow::Result<Vec<AgentLink>> {
        self.query(
            &format!(
                "SELECT {ALL_LINK_COLUMNS} FROM agent_links l LEFT JOIN \
             (SELECT agent, SUM(streams) AS streams FROM agent_streams GROUP BY agent) s \
             ON s.agent = l.agent ORDER BY l.agent COLLATE \"C\""
            ),
            &[],
        )?
        .iter()
        .map(link_from)
        .collect()
    }

    fn link(&mut self, agent: &str) -> anyhow::Result<Option<AgentLink>> {
        self.query_opt(
            &format!("SELECT {LINK_COLUMNS} FROM agent_links l WHERE l.agent = $1"),
            &[&agent],
        )?
        .as_ref()
        .map(link_from)
        .transpose()
    }

    fn put_link(&mut self, link: &AgentLink) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO agent_links (agent, degraded, state_since, gone_since, \
             last_offered, missed_in_a_row) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (agent) DO UPDATE SET degraded = excluded.degraded, \
             state_since = excluded.state_since, gone_since = excluded.gone_since, \
             last_offered = excluded.last_offered, missed_in_a_row = excluded.missed_in_a_row",
            &[
                &link.agent,
                &i64::from(link.degraded),
                &link.state_since,
                &link.gone_since,
                &link.last_offered,
                &i64::from(link.missed_in_a_row),
            ],
        )?;
        Ok(())
    }

    fn assigned_counts(&mut self) -> anyhow::Result<Vec<(String, u32)>> {
        self.query(
            "SELECT ((data::jsonb) ->> 'assigned_to') AS agent, COUNT(*) FROM records \
             WHERE kind = 'conversation' AND ((data::jsonb) ->> 'assigned_to') IS NOT NULL \
             AND ((data::jsonb) ->> 'status') <> 'resolved' GROUP BY 1",
            &[],
        )?
        .iter()
        .map(|r| Ok((r.get(0), unsigned(r.get(1), "assigned conversations")?)))
        .collect()
    }

    fn degraded_agents(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT agent FROM agent_links WHERE degraded = 1 ORDER BY agent COLLATE \"C\"",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}
