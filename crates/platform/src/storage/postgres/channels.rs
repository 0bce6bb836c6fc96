//! SQL for channel adapters, the conversation → adapter table and egress
//! deliveries on PostgreSQL (SQLite's migration 0005, in the baseline).

use anyhow::Context;
use homedesk_protocol::UnixMillis;
use tokio_postgres::Row;

use super::{Params, PgTx, unsigned};
use crate::storage::channels::{AdapterRow, ChannelTx, DeliveryRow, DeliveryUpdate, EgressState};

const ADAPTER_COLUMNS: &str =
    "id, token_hash, signing_key, webhook_url, created_at, rotated_at FROM channel_adapters";

fn adapter_from(r: &Row) -> AdapterRow {
    AdapterRow {
        id: r.get(0),
        token_hash: r.get(1),
        signing_key: r.get(2),
        webhook_url: r.get(3),
        created_at: r.get(4),
        rotated_at: r.get(5),
    }
}

const DELIVERY_COLUMNS: &str = "id, message_id, conversation_id, adapter, state, attempts, \
     next_attempt_at, round_started_at, last_error, created_at, updated_at";

fn delivery_from(r: &Row) -> anyhow::Result<DeliveryRow> {
    let state: &str = r.get(4);
    Ok(DeliveryRow {
        id: r.get(0),
        message_id: r.get(1),
        conversation_id: r.get(2),
        adapter: r.get(3),
        state: EgressState::parse(state)
            .with_context(|| format!("unknown egress state {state:?}"))?,
        attempts: unsigned(r.get(5), "delivery attempts")?,
        next_attempt_at: r.get(6),
        round_started_at: r.get(7),
        last_error: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
    })
}

impl PgTx<'_> {
    fn query_deliveries(
        &mut self,
        sql: &str,
        args: &Params<'_>,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        self.query(sql, args)?.iter().map(delivery_from).collect()
    }
}

impl ChannelTx for PgTx<'_> {
    fn insert_adapter(&mut self, row: &AdapterRow) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO channel_adapters \
             (id, token_hash, signing_key, webhook_url, created_at, rotated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &row.id,
                &row.token_hash,
                &row.signing_key,
                &row.webhook_url,
                &row.created_at,
                &row.rotated_at,
            ],
        )?;
        Ok(())
    }

    fn adapter(&mut self, id: &str) -> anyhow::Result<Option<AdapterRow>> {
        Ok(self
            .query_opt(&format!("SELECT {ADAPTER_COLUMNS} WHERE id = $1"), &[&id])?
            .as_ref()
            .map(adapter_from))
    }

    fn adapter_by_token_hash(&mut self, hash: &str) -> anyhow::Result<Option<AdapterRow>> {
        Ok(self
            .query_opt(
                &format!("SELECT {ADAPTER_COLUMNS} WHERE token_hash = $1"),
                &[&hash],
            )?
            .as_ref()
            .map(adapter_from))
    }

    fn adapters(&mut self) -> anyhow::Result<Vec<AdapterRow>> {
        Ok(self
            .query(
                &format!("SELECT {ADAPTER_COLUMNS} ORDER BY id COLLATE \"C\""),
                &[],
            )?
            .iter()
            .map(adapter_from)
            .collect())
    }

    fn rotate_adapter(
        &mut self,
        id: &str,
        token_hash: &str,
        signing_key: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.execute(
            "UPDATE channel_adapters SET token_hash = $2, signing_key = $3, rotated_at = $4 \
             WHERE id = $1",
            &[&id, &token_hash, &signing_key, &now],
        )?;
        Ok(())
    }

    fn set_adapter_webhook(&mut self, id: &str, url: Option<&str>) -> anyhow::Result<()> {
        self.execute(
            "UPDATE channel_adapters SET webhook_url = $2 WHERE id = $1",
            &[&id, &url],
        )?;
        Ok(())
    }

    fn set_conversation_adapter(
        &mut self,
        conversation_id: &str,
        adapter: &str,
    ) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO conversation_adapters (conversation_id, adapter) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            &[&conversation_id, &adapter],
        )?;
        Ok(())
    }

    fn conversation_adapter(&mut self, conversation_id: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT adapter FROM conversation_adapters WHERE conversation_id = $1",
                &[&conversation_id],
            )?
            .map(|r| r.get(0)))
    }

    fn insert_delivery(
        &mut self,
        message_id: &str,
        conversation_id: &str,
        adapter: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO egress_deliveries (message_id, conversation_id, adapter, state, attempts, \
             next_attempt_at, round_started_at, created_at, updated_at) \
             VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4, $4)",
            &[&message_id, &conversation_id, &adapter, &now],
        )?;
        Ok(())
    }

    fn delivery(&mut self, message_id: &str) -> anyhow::Result<Option<DeliveryRow>> {
        let rows = self.query_deliveries(
            &format!("SELECT {DELIVERY_COLUMNS} FROM egress_deliveries WHERE message_id = $1"),
            &[&message_id],
        )?;
        Ok(rows.into_iter().next())
    }

    fn pending_heads(&mut self, limit: usize) -> anyhow::Result<Vec<DeliveryRow>> {
        self.query_deliveries(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM egress_deliveries d \
                 WHERE d.state = 'pending' AND NOT EXISTS (\
                     SELECT 1 FROM egress_deliveries e WHERE e.state = 'pending' \
                     AND e.conversation_id = d.conversation_id AND e.id < d.id) \
                 ORDER BY d.next_attempt_at, d.id LIMIT $1"
            ),
            &[&i64::try_from(limit)?],
        )
    }

    fn deliveries(
        &mut self,
        state: Option<EgressState>,
        limit: usize,
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        self.query_deliveries(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM egress_deliveries \
                 WHERE $1::text IS NULL OR state = $1 ORDER BY id DESC LIMIT $2"
            ),
            &[&state.map(EgressState::as_str), &i64::try_from(limit)?],
        )
    }

    fn update_delivery(
        &mut self,
        message_id: &str,
        from: EgressState,
        update: &DeliveryUpdate,
    ) -> anyhow::Result<bool> {
        let changed = self.execute(
            "UPDATE egress_deliveries SET state = $3, attempts = $4, next_attempt_at = $5, \
             round_started_at = $6, last_error = $7, updated_at = $8 \
             WHERE message_id = $1 AND state = $2",
            &[
                &message_id,
                &from.as_str(),
                &update.state.as_str(),
                &i64::from(update.attempts),
                &update.next_attempt_at,
                &update.round_started_at,
                &update.last_error,
                &update.now,
            ],
        )?;
        Ok(changed == 1)
    }

    fn move_next_attempt(
        &mut self,
        message_id: &str,
        from: UnixMillis,
        to: UnixMillis,
    ) -> anyhow::Result<bool> {
        let changed = self.execute(
            "UPDATE egress_deliveries SET next_attempt_at = $3 \
             WHERE message_id = $1 AND state = 'pending' AND next_attempt_at = $2",
            &[&message_id, &from, &to],
        )?;
        Ok(changed == 1)
    }
}
