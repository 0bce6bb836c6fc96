//! SQL for the retention sweep on PostgreSQL: due conversations and
//! tombstones that keep the row ([`RetentionTx`]).

use homedesk_protocol::{Conversation, EntityKind, UnixMillis};

use super::{PgTx, conversations};
use crate::storage::retention::RetentionTx;
use crate::storage::{Audience, Viewer};

impl RetentionTx for PgTx<'_> {
    fn resolved_before(&mut self, cutoff: UnixMillis) -> anyhow::Result<Vec<Conversation>> {
        let rows = self.query(
            "SELECT r.data FROM records r \
             JOIN changes c ON c.seq = (SELECT MAX(seq) FROM changes \
                 WHERE kind = 'conversation' AND id = r.id) \
             WHERE r.kind = 'conversation' \
               AND ((r.data::jsonb) ->> 'status') = 'resolved' \
               AND NOT c.deleted AND c.created_at < $1 \
             ORDER BY c.seq",
            &[&cutoff],
        )?;
        conversations(rows)
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
        let audience: Audience = self
            .query(
                "SELECT DISTINCT a.who FROM change_audience a JOIN changes c ON c.seq = a.seq \
                 WHERE c.kind = $1 AND c.id = $2",
                &[&kind.as_str(), &id],
            )?
            .iter()
            .filter_map(|r| Viewer::decode(r.get(0)))
            .collect();
        if audience.is_empty() {
            return Ok(None);
        }
        // The earlier entries are covered by this one and compacted away:
        // a workstation syncing from the start gets the tombstone alone.
        self.append_change(kind, id, None, &audience, now).map(Some)
    }

    fn tombstoned(&mut self, kind: EntityKind, id: &str) -> anyhow::Result<bool> {
        let deleted: Option<bool> = self
            .query_opt(
                "SELECT deleted FROM changes WHERE kind = $1 AND id = $2 \
                 ORDER BY seq DESC LIMIT 1",
                &[&kind.as_str(), &id],
            )?
            .map(|r| r.get(0));
        Ok(deleted.unwrap_or(false))
    }
}
