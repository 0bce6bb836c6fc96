//! SQL for the retention sweep: due conversations and tombstones that keep
//! the row ([`RetentionTx`]).

use homedesk_protocol::{Conversation, EntityKind, UnixMillis};
use rusqlite::{OptionalExtension, params};

use super::{SqliteTx, conversation_from};
use crate::storage::retention::RetentionTx;
use crate::storage::{Audience, Viewer};

impl RetentionTx for SqliteTx<'_> {
    fn resolved_before(&mut self, cutoff: UnixMillis) -> anyhow::Result<Vec<Conversation>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT r.data FROM records r \
             JOIN changes c ON c.seq = (SELECT MAX(seq) FROM changes \
                 WHERE kind = 'conversation' AND id = r.id) \
             WHERE r.kind = 'conversation' \
               AND json_extract(r.data, '$.status') = 'resolved' \
               AND c.deleted = 0 AND c.created_at < ?1 \
             ORDER BY c.seq",
        )?;
        let rows: Vec<String> = stmt
            .query_map([cutoff], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter().map(|d| conversation_from(d)).collect()
    }

    fn tombstone(
        &mut self,
        kind: EntityKind,
        id: &str,
        now: UnixMillis,
    ) -> anyhow::Result<Option<u64>> {
        if self.tombstoned(kind, id)? {
            return Ok(None);
        }
        let audience: Audience = {
            let mut stmt = self.tx.prepare_cached(
                "SELECT DISTINCT a.who FROM change_audience a JOIN changes c ON c.seq = a.seq \
                 WHERE c.kind = ?1 AND c.id = ?2",
            )?;
            let whos: Vec<String> = stmt
                .query_map(params![kind.as_str(), id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            whos.iter().filter_map(|who| Viewer::decode(who)).collect()
        };
        if audience.is_empty() {
            return Ok(None);
        }
        // The earlier entries are covered by this one and compacted away:
        // a workstation syncing from the start gets the tombstone alone.
        self.append_change(kind, id, None, &audience, now).map(Some)
    }

    fn tombstoned(&mut self, kind: EntityKind, id: &str) -> anyhow::Result<bool> {
        let deleted: Option<bool> = self
            .tx
            .prepare_cached(
                "SELECT deleted FROM changes WHERE kind = ?1 AND id = ?2 \
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row(params![kind.as_str(), id], |r| r.get(0))
            .optional()?;
        Ok(deleted.unwrap_or(false))
    }
}
