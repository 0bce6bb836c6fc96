//! SQL for the team console on PostgreSQL: assignments, handled contacts
//! and the audit of role changes ([`ConsoleTx`]).

use anyhow::Context;
use homedesk_protocol::{Channel, Role, RoleChange, UnixMillis};

use super::{PgTx, unsigned};
use crate::storage::console::{ConsoleTx, HandledContact};

fn channel_from(text: &str) -> anyhow::Result<Channel> {
    [Channel::Chat, Channel::Phone, Channel::Ticket]
        .into_iter()
        .find(|c| c.as_str() == text)
        .with_context(|| format!("unknown stored channel {text:?}"))
}

fn role_str(role: Role) -> anyhow::Result<String> {
    match serde_json::to_value(role)? {
        serde_json::Value::String(s) => Ok(s),
        other => anyhow::bail!("role serialized as {other}"),
    }
}

impl ConsoleTx for PgTx<'_> {
    fn set_assignment(
        &mut self,
        conversation_id: &str,
        agent: &str,
        assigned_at: UnixMillis,
    ) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO assignments (conversation_id, agent, assigned_at) VALUES ($1, $2, $3) \
             ON CONFLICT (conversation_id) DO UPDATE \
             SET agent = excluded.agent, assigned_at = excluded.assigned_at",
            &[&conversation_id, &agent, &assigned_at],
        )?;
        Ok(())
    }

    fn assignment(
        &mut self,
        conversation_id: &str,
    ) -> anyhow::Result<Option<(String, UnixMillis)>> {
        Ok(self
            .query_opt(
                "SELECT agent, assigned_at FROM assignments WHERE conversation_id = $1",
                &[&conversation_id],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn insert_handled_contact(&mut self, c: &HandledContact) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO handled_contacts (conversation_id, agent, queue, channel, created_at, \
             assigned_at, first_response_at, first_response_due, resolve_due, resolved_at, \
             after_contact_secs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &c.conversation_id,
                &c.agent,
                &c.queue,
                &c.channel.as_str(),
                &c.created_at,
                &c.assigned_at,
                &c.first_response_at,
                &c.first_response_due,
                &c.resolve_due,
                &c.resolved_at,
                &c.after_contact_secs,
            ],
        )?;
        Ok(())
    }

    fn handled_contacts(
        &mut self,
        from: UnixMillis,
        until: UnixMillis,
    ) -> anyhow::Result<Vec<HandledContact>> {
        self.query(
            "SELECT conversation_id, agent, queue, channel, created_at, assigned_at, \
             first_response_at, first_response_due, resolve_due, resolved_at, after_contact_secs \
             FROM handled_contacts WHERE resolved_at >= $1 AND resolved_at < $2 \
             ORDER BY resolved_at, id",
            &[&from, &until],
        )?
        .iter()
        .map(|r| {
            Ok(HandledContact {
                conversation_id: r.get(0),
                agent: r.get(1),
                queue: r.get(2),
                channel: channel_from(r.get(3))?,
                created_at: r.get(4),
                assigned_at: r.get(5),
                first_response_at: r.get(6),
                first_response_due: r.get(7),
                resolve_due: r.get(8),
                resolved_at: r.get(9),
                after_contact_secs: r.get(10),
            })
        })
        .collect()
    }

    fn handled_counts_since(&mut self, since: UnixMillis) -> anyhow::Result<Vec<(String, u32)>> {
        self.query(
            "SELECT agent, COUNT(*) FROM handled_contacts WHERE resolved_at >= $1 \
             GROUP BY agent ORDER BY agent COLLATE \"C\"",
            &[&since],
        )?
        .iter()
        .map(|r| Ok((r.get(0), unsigned(r.get(1), "count of handled contacts")?)))
        .collect()
    }

    fn insert_role_change(&mut self, change: &RoleChange) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO role_changes (agent, from_role, to_role, queues, changed_by, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &change.agent,
                &role_str(change.from)?,
                &role_str(change.to)?,
                &serde_json::to_string(&change.queues)?,
                &change.changed_by,
                &change.changed_at,
            ],
        )?;
        Ok(())
    }
}
