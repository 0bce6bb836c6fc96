//! SQL for channel adapters, the conversation → adapter table and egress
//! deliveries (migration 0005).

use anyhow::Context;
use homedesk_protocol::UnixMillis;
use rusqlite::{OptionalExtension, Row, params};

use super::SqliteTx;
use crate::storage::channels::{AdapterRow, ChannelTx, DeliveryRow, DeliveryUpdate, EgressState};

const ADAPTER_COLUMNS: &str =
    "id, token_hash, signing_key, webhook_url, created_at, rotated_at FROM channel_adapters";

fn adapter_from(r: &Row<'_>) -> rusqlite::Result<AdapterRow> {
    Ok(AdapterRow {
        id: r.get(0)?,
        token_hash: r.get(1)?,
        signing_key: r.get(2)?,
        webhook_url: r.get(3)?,
        created_at: r.get(4)?,
        rotated_at: r.get(5)?,
    })
}

const DELIVERY_COLUMNS: &str = "id, message_id, conversation_id, adapter, state, attempts, \
     next_attempt_at, round_started_at, last_error, created_at, updated_at";

type RawDelivery = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
    i64,
);

fn raw_delivery(r: &Row<'_>) -> rusqlite::Result<RawDelivery> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn delivery_from(raw: RawDelivery) -> anyhow::Result<DeliveryRow> {
    let (
        id,
        message_id,
        conversation_id,
        adapter,
        state,
        attempts,
        next_attempt_at,
        round_started_at,
        last_error,
        created_at,
        updated_at,
    ) = raw;
    Ok(DeliveryRow {
        id,
        message_id,
        conversation_id,
        adapter,
        state: EgressState::parse(&state)
            .with_context(|| format!("unknown egress state {state:?}"))?,
        attempts: u32::try_from(attempts)?,
        next_attempt_at,
        round_started_at,
        last_error,
        created_at,
        updated_at,
    })
}

impl SqliteTx<'_> {
    fn query_deliveries(
        &mut self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> anyhow::Result<Vec<DeliveryRow>> {
        let mut stmt = self.tx.prepare_cached(sql)?;
        let rows: Vec<RawDelivery> = stmt
            .query_map(args, raw_delivery)?
            .collect::<Result<_, _>>()?;
        rows.into_iter().map(delivery_from).collect()
    }
}

impl ChannelTx for SqliteTx<'_> {
    fn insert_adapter(&mut self, row: &AdapterRow) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO channel_adapters \
             (id, token_hash, signing_key, webhook_url, created_at, rotated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                row.id,
                row.token_hash,
                row.signing_key,
                row.webhook_url,
                row.created_at,
                row.rotated_at
            ],
        )?;
        Ok(())
    }

    fn adapter(&mut self, id: &str) -> anyhow::Result<Option<AdapterRow>> {
        Ok(self
            .tx
            .prepare_cached(&format!("SELECT {ADAPTER_COLUMNS} WHERE id = ?1"))?
            .query_row([id], adapter_from)
            .optional()?)
    }

    fn adapter_by_token_hash(&mut self, hash: &str) -> anyhow::Result<Option<AdapterRow>> {
        Ok(self
            .tx
            .prepare_cached(&format!("SELECT {ADAPTER_COLUMNS} WHERE token_hash = ?1"))?
            .query_row([hash], adapter_from)
            .optional()?)
    }

    fn adapters(&mut self) -> anyhow::Result<Vec<AdapterRow>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!("SELECT {ADAPTER_COLUMNS} ORDER BY id"))?;
        let rows = stmt
            .query_map([], adapter_from)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn rotate_adapter(
        &mut self,
        id: &str,
        token_hash: &str,
        signing_key: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.tx.execute(
            "UPDATE channel_adapters SET token_hash = ?2, signing_key = ?3, rotated_at = ?4 \
             WHERE id = ?1",
            params![id, token_hash, signing_key, now],
        )?;
        Ok(())
    }

    fn set_adapter_webhook(&mut self, id: &str, url: Option<&str>) -> anyhow::Result<()> {
        self.tx.execute(
            "UPDATE channel_adapters SET webhook_url = ?2 WHERE id = ?1",
            params![id, url],
        )?;
        Ok(())
    }

    fn set_conversation_adapter(
        &mut self,
        conversation_id: &str,
        adapter: &str,
    ) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO conversation_adapters (conversation_id, adapter) VALUES (?1, ?2)",
            params![conversation_id, adapter],
        )?;
        Ok(())
    }

    fn conversation_adapter(&mut self, conversation_id: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT adapter FROM conversation_adapters WHERE conversation_id = ?1")?
            .query_row([conversation_id], |r| r.get(0))
            .optional()?)
    }

    fn insert_delivery(
        &mut self,
        message_id: &str,
        conversation_id: &str,
        adapter: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO egress_deliveries (message_id, conversation_id, adapter, state, attempts, \
             next_attempt_at, round_started_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'pending', 0, ?4, ?4, ?4, ?4)",
            params![message_id, conversation_id, adapter, now],
        )?;
        Ok(())
    }

    fn delivery(&mut self, message_id: &str) -> anyhow::Result<Option<DeliveryRow>> {
        let rows = self.query_deliveries(
            &format!("SELECT {DELIVERY_COLUMNS} FROM egress_deliveries WHERE message_id = ?1"),
            params![message_id],
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
                 ORDER BY d.next_attempt_at, d.id LIMIT ?1"
            ),
            params![i64::try_from(limit)?],
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
                 WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2"
            ),
            params![state.map(EgressState::as_str), i64::try_from(limit)?],
        )
    }

    fn update_delivery(
        &mut self,
        message_id: &str,
        from: EgressState,
        update: &DeliveryUpdate,
    ) -> anyhow::Result<bool> {
        let changed = self.tx.execute(
            "UPDATE egress_deliveries SET state = ?3, attempts = ?4, next_attempt_at = ?5, \
             round_started_at = ?6, last_error = ?7, updated_at = ?8 \
             WHERE message_id = ?1 AND state = ?2",
            params![
                message_id,
                from.as_str(),
                update.state.as_str(),
                update.attempts,
                update.next_attempt_at,
                update.round_started_at,
                update.last_error,
                update.now
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
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE egress_deliveries SET next_attempt_at = ?3 \
                 WHERE message_id = ?1 AND state = 'pending' AND next_attempt_at = ?2",
            )?
            .execute(params![message_id, from, to])?;
        Ok(changed == 1)
    }
}
