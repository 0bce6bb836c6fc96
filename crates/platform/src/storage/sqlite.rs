//! SQLite implementation of [`Storage`]: one file `platform.db` in the data
//! folder, WAL journal, `synchronous=FULL` (a commit survives a power cut),
//! foreign keys on, and forward-only migrations embedded in the binary.
//!
//! One connection serves every request, behind a mutex and on blocking
//! threads (callers use `spawn_blocking`): SQLite allows one writer at a time
//! anyway, and on a 2-core county server this is both the simplest and fast
//! enough (see `docs/benchmarks.md`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};
use homedesk_protocol::{
    ActionResult, Attachment, CallRecord, Change, Conversation, ConversationStatus, EntityKind,
    Message, Record, UnixMillis, WrapUpRecord,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use super::{
    AccessTokenRow, Audience, KindFilter, OfferRow, OfferState, RefreshTokenRow, Storage,
    StoredActionKey, Tx, Viewer, WebchatCustomerRow, change_from_row, record_from_row, status_str,
};

/// Migrations, in order; entry `i` brings the schema to `user_version = i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_training.sql"),
    include_str!("migrations/0003_contact_records.sql"),
    include_str!("migrations/0004_attachments.sql"),
    include_str!("migrations/0005_channels_egress.sql"),
    include_str!("migrations/0006_webchat.sql"),
    include_str!("migrations/0007_releases.sql"),
    include_str!("migrations/0008_sessions.sql"),
    include_str!("migrations/0009_console.sql"),
    include_str!("migrations/0010_instances.sql"),
    include_str!("migrations/0011_sign_in_counters.sql"),
];

mod channels;
mod console;
mod limits;
mod links;
mod releases;
mod retention;
mod sessions;

pub struct SqliteStorage {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl SqliteStorage {
    /// Opens (creating if needed) `dir/platform.db` and brings its schema up to date.
    pub fn open(dir: &Path) -> anyhow::Result<SqliteStorage> {
        crate::owner_only::create_dir(dir)?;
        let path = dir.join("platform.db");
        // Customers' messages and token hashes: owner-only before SQLite
        // first writes (its -wal and -shm take the database file's mode).
        crate::owner_only::touch(&path)?;
        for side in ["platform.db-wal", "platform.db-shm"] {
            crate::owner_only::restrict(&dir.join(side))?;
        }
        let mut conn = Connection::open(&path)
            .with_context(|| format!("opening the database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            bail!(
                "the database {} is damaged ({check}); restore it from a backup or move it aside",
                path.display()
            );
        }
        migrate(&mut conn).with_context(|| format!("migrating {}", path.display()))?;
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn run(
        &self,
        behavior: TransactionBehavior,
        work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        // A panic while the lock was held rolled its transaction back when
        // the transaction dropped, so the connection is still consistent.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(behavior)?;
        let mut sql_tx = SqliteTx {
            tx: &tx,
            logged_for: Audience::new(),
        };
        work(&mut sql_tx)?;
        tx.commit()?;
        Ok(())
    }
}

impl Storage for SqliteStorage {
    fn write(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()> {
        self.run(TransactionBehavior::Immediate, work)
    }

    fn read(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()> {
        self.run(TransactionBehavior::Deferred, work)
    }
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > MIGRATIONS.len() {
        bail!(
            "the database is at schema version {current}, newer than this build knows ({}); \
             use a newer homedesk-platform",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("applying migration {}", i + 1))?;
        tx.pragma_update(None, "user_version", i + 1)?;
        if i == 0 {
            let instance = crate::auth::random_token(12);
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('instance_id', ?1)",
                [instance],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    /// Everyone who may see a change logged in this transaction.
    logged_for: Audience,
}

fn conversation_from(data: &str) -> anyhow::Result<Conversation> {
    Ok(serde_json::from_str(data)?)
}

impl SqliteTx<'_> {
    fn append_change(
        &mut self,
        kind: EntityKind,
        id: &str,
        data: Option<&str>,
        audience: &Audience,
        now: UnixMillis,
    ) -> anyhow::Result<u64> {
        if audience.is_empty() {
            bail!("a change of {kind:?} {id} has nobody to see it");
        }
        self.tx.execute(
            "INSERT INTO changes (kind, id, deleted, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind.as_str(), id, data.is_none(), data, now],
        )?;
        let seq = self.tx.last_insert_rowid();
        self.logged_for.extend(audience.iter().cloned());
        {
            let mut insert = self
                .tx
                .prepare_cached("INSERT INTO change_audience (seq, who) VALUES (?1, ?2)")?;
            for viewer in audience {
                insert.execute(params![seq, viewer.encode()])?;
            }
        }
        self.compact(kind, id, seq, audience)?;
        Ok(u64::try_from(seq)?)
    }

    /// Drops older entries of the same record whose audience the new entry
    /// covers: everyone who could read them will read the newer one.
    fn compact(
        &mut self,
        kind: EntityKind,
        id: &str,
        newest: i64,
        audience: &Audience,
    ) -> anyhow::Result<()> {
        let older: Vec<i64> = {
            let mut stmt = self.tx.prepare_cached(
                "SELECT seq FROM changes WHERE kind = ?1 AND id = ?2 AND seq < ?3",
            )?;
            stmt.query_map(params![kind.as_str(), id, newest], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        for seq in older {
            let covered = {
                let mut stmt = self
                    .tx
                    .prepare_cached("SELECT who FROM change_audience WHERE seq = ?1")?;
                let whos: Vec<String> = stmt
                    .query_map([seq], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                whos.iter()
                    .all(|who| Viewer::decode(who).is_some_and(|viewer| audience.contains(&viewer)))
            };
            if covered {
                self.tx
                    .execute("DELETE FROM changes WHERE seq = ?1", [seq])?;
            }
        }
        Ok(())
    }
}

impl Tx for SqliteTx<'_> {
    fn instance_id(&mut self) -> anyhow::Result<String> {
        Ok(self.tx.query_row(
            "SELECT value FROM meta WHERE key = 'instance_id'",
            [],
            |r| r.get(0),
        )?)
    }

    fn meta(&mut self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    fn get(&mut self, kind: EntityKind, id: &str) -> anyhow::Result<Option<Record>> {
        let data: Option<String> = self
            .tx
            .prepare_cached("SELECT data FROM records WHERE kind = ?1 AND id = ?2")?
            .query_row(params![kind.as_str(), id], |r| r.get(0))
            .optional()?;
        data.map(|d| record_from_row(kind.as_str(), &d)).transpose()
    }

    fn list(&mut self, kind: EntityKind) -> anyhow::Result<Vec<Record>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT data FROM records WHERE kind = ?1 ORDER BY id")?;
        let rows: Vec<String> = stmt
            .query_map([kind.as_str()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter()
            .map(|d| record_from_row(kind.as_str(), d))
            .collect()
    }

    // `ORDER BY +id` (not `id`) in these two: ordering by the primary key
    // makes SQLite's planner walk every record in key order and parse its
    // JSON instead of using the status/assignee index; routing asks once
    // per agent, so that was most of the platform's CPU under load
    // (docs/benchmarks.md, "Load"). The `+` only keeps the planner off it.
    fn conversations_with_status(
        &mut self,
        status: ConversationStatus,
    ) -> anyhow::Result<Vec<Conversation>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT data FROM records WHERE kind = 'conversation' \
             AND json_extract(data, '$.status') = ?1 ORDER BY +id",
        )?;
        let rows: Vec<String> = stmt
            .query_map([status_str(status)?], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter().map(|d| conversation_from(d)).collect()
    }

    fn conversations_assigned_to(&mut self, agent: &str) -> anyhow::Result<Vec<Conversation>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT data FROM records WHERE kind = 'conversation' \
             AND json_extract(data, '$.assigned_to') = ?1 \
             AND json_extract(data, '$.status') <> 'resolved' ORDER BY +id",
        )?;
        let rows: Vec<String> = stmt
            .query_map([agent], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter().map(|d| conversation_from(d)).collect()
    }

    fn messages_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<Message>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT data FROM records WHERE kind = 'message' \
             AND json_extract(data, '$.conversation_id') = ?1 \
             ORDER BY json_extract(data, '$.sent_at'), id",
        )?;
        let rows: Vec<String> = stmt
            .query_map([conversation_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter().map(|d| Ok(serde_json::from_str(d)?)).collect()
    }

    fn conversations_of_customer(
        &mut self,
        customer_id: &str,
    ) -> anyhow::Result<Vec<Conversation>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT data FROM records WHERE kind = 'conversation' \
             AND json_extract(data, '$.customer_id') = ?1 \
             ORDER BY json_extract(data, '$.created_at'), id",
        )?;
        let rows: Vec<String> = stmt
            .query_map([customer_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        rows.iter().map(|d| conversation_from(d)).collect()
    }

    fn put(
        &mut self,
        record: &Record,
        audience: &Audience,
        now: UnixMillis,
    ) -> anyhow::Result<u64> {
        let kind = record.kind();
        let data = serde_json::to_string(&record.to_json())?;
        self.tx
            .prepare_cached(
                "INSERT INTO records (kind, id, data) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
            )?
            .execute(params![kind.as_str(), record.id(), data])?;
        self.append_change(kind, record.id(), Some(&data), audience, now)
    }

    fn delete(
        &mut self,
        kind: EntityKind,
        id: &str,
        audience: &Audience,
        now: UnixMillis,
    ) -> anyhow::Result<u64> {
        self.tx.execute(
            "DELETE FROM records WHERE kind = ?1 AND id = ?2",
            params![kind.as_str(), id],
        )?;
        self.append_change(kind, id, None, audience, now)
    }

    fn logged_for(&self) -> Audience {
        self.logged_for.clone()
    }

    fn latest_seq(&mut self) -> anyhow::Result<u64> {
        // AUTOINCREMENT keeps the highest seq ever given out in
        // sqlite_sequence, even when compaction deleted that row.
        let seq: Option<i64> = self
            .tx
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(u64::try_from(seq.unwrap_or(0))?)
    }

    fn changes_after(
        &mut self,
        after: u64,
        viewers: &[Viewer],
        kinds: &KindFilter,
        limit: usize,
    ) -> anyhow::Result<Vec<Change>> {
        if viewers.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; viewers.len()].join(", ");
        let mut kind_clause = String::new();
        let mut kind_list: Vec<EntityKind> = Vec::new();
        if let Some(only) = &kinds.only {
            kind_clause += &format!(" AND c.kind IN ({})", vec!["?"; only.len()].join(", "));
            kind_list.extend(only);
        }
        if !kinds.except.is_empty() {
            let marks = vec!["?"; kinds.except.len()].join(", ");
            kind_clause += &format!(" AND c.kind NOT IN ({marks})");
            kind_list.extend(&kinds.except);
        }
        let sql = format!(
            "SELECT c.seq, c.kind, c.id, c.data FROM changes c \
             WHERE c.seq > ?{kind_clause} AND EXISTS (SELECT 1 FROM change_audience a \
                 WHERE a.seq = c.seq AND a.who IN ({placeholders})) \
             ORDER BY c.seq LIMIT ?"
        );
        let mut values: Vec<rusqlite::types::Value> =
            Vec::with_capacity(viewers.len() + kind_list.len() + 2);
        values.push(i64::try_from(after)?.into());
        values.extend(kind_list.iter().map(|k| k.as_str().to_owned().into()));
        values.extend(viewers.iter().map(|v| v.encode().into()));
        values.push(i64::try_from(limit)?.into());
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows: Vec<(i64, String, String, Option<String>)> = stmt
            .query_map(params_from_iter(values), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(seq, kind, id, data)| {
                change_from_row(u64::try_from(seq)?, &kind, id, data.as_deref())
            })
            .collect()
    }

    fn entries_between(
        &mut self,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<(Change, Audience)>> {
        if upto <= after || limit == 0 {
            return Ok(Vec::new());
        }
        let mut stmt = self.tx.prepare_cached(
            "SELECT c.seq, c.kind, c.id, c.data, \
                 (SELECT json_group_array(a.who) FROM change_audience a WHERE a.seq = c.seq) \
             FROM changes c WHERE c.seq > ?1 AND c.seq <= ?2 ORDER BY c.seq LIMIT ?3",
        )?;
        let rows: Vec<(i64, String, String, Option<String>, String)> = stmt
            .query_map(
                params![
                    i64::try_from(after)?,
                    i64::try_from(upto)?,
                    i64::try_from(limit)?
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(seq, kind, id, data, whos)| {
                let change = change_from_row(u64::try_from(seq)?, &kind, id, data.as_deref())?;
                let whos: Vec<String> = serde_json::from_str(&whos)
                    .with_context(|| format!("the audience of change {seq}"))?;
                Ok((
                    change,
                    whos.iter().filter_map(|w| Viewer::decode(w)).collect(),
                ))
            })
            .collect()
    }

    fn count_changes(
        &mut self,
        after: u64,
        upto: u64,
        viewers: &[Viewer],
        kinds: &[EntityKind],
    ) -> anyhow::Result<(u64, u64)> {
        if viewers.is_empty() || kinds.is_empty() || upto <= after {
            return Ok((0, 0));
        }
        let sql = format!(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(c.data AS BLOB))), 0) FROM changes c \
             WHERE c.seq > ? AND c.seq <= ? AND c.kind IN ({}) \
             AND EXISTS (SELECT 1 FROM change_audience a \
                 WHERE a.seq = c.seq AND a.who IN ({}))",
            vec!["?"; kinds.len()].join(", "),
            vec!["?"; viewers.len()].join(", ")
        );
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        values.push(i64::try_from(after)?.into());
        values.push(i64::try_from(upto)?.into());
        values.extend(kinds.iter().map(|k| k.as_str().to_owned().into()));
        values.extend(viewers.iter().map(|v| v.encode().into()));
        let (count, bytes): (i64, i64) = self
            .tx
            .prepare_cached(&sql)?
            .query_row(params_from_iter(values), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((u64::try_from(count)?, u64::try_from(bytes)?))
    }

    fn password_hash(&mut self, agent: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT password_hash FROM credentials WHERE agent = ?1",
                [agent],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn set_password_hash(&mut self, agent: &str, hash: &str) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO credentials (agent, password_hash) VALUES (?1, ?2) \
             ON CONFLICT (agent) DO UPDATE SET password_hash = excluded.password_hash",
            params![agent, hash],
        )?;
        Ok(())
    }

    fn insert_access_token(&mut self, hash: &str, row: &AccessTokenRow) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO access_tokens (token_hash, family, agent, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash, row.family, row.agent, row.expires_at],
        )?;
        Ok(())
    }

    fn access_token(&mut self, hash: &str) -> anyhow::Result<Option<AccessTokenRow>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT family, agent, expires_at FROM access_tokens WHERE token_hash = ?1",
            )?
            .query_row([hash], |r| {
                Ok(AccessTokenRow {
                    family: r.get(0)?,
                    agent: r.get(1)?,
                    expires_at: r.get(2)?,
                })
            })
            .optional()?)
    }

    fn insert_refresh_token(&mut self, hash: &str, row: &RefreshTokenRow) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO refresh_tokens (token_hash, family, agent, device_id, expires_at, used_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![hash, row.family, row.agent, row.device_id, row.expires_at, row.used_at],
        )?;
        Ok(())
    }

    fn refresh_token(&mut self, hash: &str) -> anyhow::Result<Option<RefreshTokenRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT family, agent, device_id, expires_at, used_at FROM refresh_tokens \
                 WHERE token_hash = ?1",
                [hash],
                |r| {
                    Ok(RefreshTokenRow {
                        family: r.get(0)?,
                        agent: r.get(1)?,
                        device_id: r.get(2)?,
                        expires_at: r.get(3)?,
                        used_at: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn mark_refresh_used(&mut self, hash: &str, now: UnixMillis) -> anyhow::Result<()> {
        self.tx.execute(
            "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1",
            params![hash, now],
        )?;
        Ok(())
    }

    fn revoke_family(&mut self, family: &str, now: UnixMillis) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO revoked_families (family, revoked_at) VALUES (?1, ?2)",
            params![family, now],
        )?;
        self.tx
            .execute("DELETE FROM access_tokens WHERE family = ?1", [family])?;
        Ok(())
    }

    fn family_revoked(&mut self, family: &str) -> anyhow::Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM revoked_families WHERE family = ?1")?
            .exists([family])?)
    }

    fn purge(&mut self, now: UnixMillis, keys_before: UnixMillis) -> anyhow::Result<()> {
        self.tx
            .execute("DELETE FROM access_tokens WHERE expires_at < ?1", [now])?;
        self.tx
            .execute("DELETE FROM refresh_tokens WHERE expires_at < ?1", [now])?;
        self.tx
            .execute("DELETE FROM session_families WHERE expires_at < ?1", [now])?;
        self.tx.execute(
            "DELETE FROM action_keys WHERE created_at < ?1",
            [keys_before],
        )?;
        self.tx.execute(
            "DELETE FROM ingress_keys WHERE created_at < ?1",
            [keys_before],
        )?;
        Ok(())
    }

    fn action_key(&mut self, agent: &str, key: &str) -> anyhow::Result<Option<StoredActionKey>> {
        let row: Option<(String, String)> = self
            .tx
            .prepare_cached(
                "SELECT action_hash, result FROM action_keys WHERE agent = ?1 AND key = ?2",
            )?
            .query_row(params![agent, key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(action_hash, result)| {
            let result: ActionResult = serde_json::from_str(&result)?;
            Ok(StoredActionKey {
                action_hash,
                result,
            })
        })
        .transpose()
    }

    fn put_action_key(
        &mut self,
        agent: &str,
        key: &str,
        stored: &StoredActionKey,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO action_keys (agent, key, action_hash, result, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                agent,
                key,
                stored.action_hash,
                serde_json::to_string(&stored.result)?,
                now
            ])?;
        Ok(())
    }

    fn ingress_key(&mut self, external_id: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT result FROM ingress_keys WHERE external_id = ?1",
                [external_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn put_ingress_key(
        &mut self,
        external_id: &str,
        result: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO ingress_keys (external_id, result, created_at) VALUES (?1, ?2, ?3)",
            params![external_id, result, now],
        )?;
        Ok(())
    }

    fn insert_offer(&mut self, offer: &OfferRow) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO offers (offer_id, conversation_id, agent, state, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                offer.offer_id,
                offer.conversation_id,
                offer.agent,
                offer.state.as_str(),
                offer.created_at,
                offer.expires_at
            ],
        )?;
        Ok(())
    }

    fn offer(&mut self, offer_id: &str) -> anyhow::Result<Option<OfferRow>> {
        let rows = self.query_offers("WHERE offer_id = ?1", params![offer_id])?;
        Ok(rows.into_iter().next())
    }

    fn set_offer_state(&mut self, offer_id: &str, state: OfferState) -> anyhow::Result<()> {
        self.tx.execute(
            "UPDATE offers SET state = ?2 WHERE offer_id = ?1",
            params![offer_id, state.as_str()],
        )?;
        Ok(())
    }

    fn offers_for_conversation(&mut self, conversation_id: &str) -> anyhow::Result<Vec<OfferRow>> {
        self.query_offers("WHERE conversation_id = ?1", params![conversation_id])
    }

    fn open_offers(&mut self) -> anyhow::Result<Vec<OfferRow>> {
        self.query_offers("WHERE state = 'open'", params![])
    }

    fn insert_training_record(
        &mut self,
        trainee: &str,
        id: &str,
        data: &str,
        now: UnixMillis,
    ) -> anyhow::Result<bool> {
        let inserted = self.tx.execute(
            "INSERT OR IGNORE INTO training_records (trainee, id, received_at, data)
             VALUES (?1, ?2, ?3, ?4)",
            params![trainee, id, now, data],
        )?;
        Ok(inserted == 1)
    }

    fn training_records(
        &mut self,
        trainee: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Vec<(String, UnixMillis, String)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT trainee, received_at, data FROM training_records
             WHERE ?1 IS NULL OR trainee = ?1
             ORDER BY received_at DESC, id LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![trainee, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn insert_wrap_up(&mut self, conversation_id: &str, w: &WrapUpRecord) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO wrap_ups (conversation_id, agent, disposition, note, after_contact_secs, wrapped_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                conversation_id,
                w.agent,
                w.disposition,
                w.note,
                w.after_contact_secs,
                w.wrapped_at
            ],
        )?;
        Ok(())
    }

    fn insert_call(&mut self, conversation_id: &str, c: &CallRecord) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO calls (conversation_id, agent, started_at, ended_at, duration_secs, logged_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                conversation_id,
                c.agent,
                c.started_at,
                c.ended_at,
                c.duration_secs,
                c.logged_at
            ],
        )?;
        Ok(())
    }

    fn wrap_ups_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<WrapUpRecord>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT agent, disposition, note, after_contact_secs, wrapped_at FROM wrap_ups
             WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![conversation_id], |r| {
                Ok(WrapUpRecord {
                    agent: r.get(0)?,
                    disposition: r.get(1)?,
                    note: r.get(2)?,
                    after_contact_secs: r.get(3)?,
                    wrapped_at: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn calls_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<CallRecord>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT agent, started_at, ended_at, duration_secs, logged_at FROM calls
             WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![conversation_id], |r| {
                Ok(CallRecord {
                    agent: r.get(0)?,
                    started_at: r.get(1)?,
                    ended_at: r.get(2)?,
                    duration_secs: r.get(3)?,
                    logged_at: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn insert_attachment(
        &mut self,
        attachment: &Attachment,
        image: &[u8],
        thumbnail: &[u8],
        now: UnixMillis,
    ) -> anyhow::Result<bool> {
        let inserted = self.tx.execute(
            "INSERT OR IGNORE INTO attachments
             (id, media_type, bytes, width, height, stored_at, thumbnail, image)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                attachment.id,
                attachment.media_type,
                attachment.bytes,
                attachment.width,
                attachment.height,
                now,
                thumbnail,
                image
            ],
        )?;
        Ok(inserted == 1)
    }

    fn attachment(&mut self, id: &str) -> anyhow::Result<Option<Attachment>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, media_type, bytes, width, height FROM attachments WHERE id = ?1",
        )?;
        Ok(stmt
            .query_row(params![id], |r| {
                Ok(Attachment {
                    id: r.get(0)?,
                    media_type: r.get(1)?,
                    bytes: r.get(2)?,
                    width: r.get(3)?,
                    height: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn attachment_bytes(&mut self, id: &str, thumbnail: bool) -> anyhow::Result<Option<Vec<u8>>> {
        let sql = if thumbnail {
            "SELECT thumbnail FROM attachments WHERE id = ?1"
        } else {
            "SELECT image FROM attachments WHERE id = ?1"
        };
        let mut stmt = self.tx.prepare_cached(sql)?;
        Ok(stmt.query_row(params![id], |r| r.get(0)).optional()?)
    }

    fn insert_webchat_customer(
        &mut self,
        token_hash: &str,
        row: &WebchatCustomerRow,
    ) -> anyhow::Result<()> {
        self.tx.execute(
            "INSERT INTO webchat_customers (token_hash, customer_id, name, created_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                token_hash,
                row.customer_id,
                row.name,
                row.created_at,
                row.last_seen_at
            ],
        )?;
        Ok(())
    }

    fn webchat_customer(&mut self, token_hash: &str) -> anyhow::Result<Option<WebchatCustomerRow>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT customer_id, name, created_at, last_seen_at FROM webchat_customers
                 WHERE token_hash = ?1",
            )?
            .query_row([token_hash], |r| {
                Ok(WebchatCustomerRow {
                    customer_id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                    last_seen_at: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn touch_webchat_customer(
        &mut self,
        token_hash: &str,
        name: Option<&str>,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.tx.execute(
            "UPDATE webchat_customers SET last_seen_at = ?2, name = coalesce(?3, name)
             WHERE token_hash = ?1",
            params![token_hash, now, name],
        )?;
        Ok(())
    }
}

impl SqliteTx<'_> {
    fn query_offers(
        &mut self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> anyhow::Result<Vec<OfferRow>> {
        let sql = format!(
            "SELECT offer_id, conversation_id, agent, state, created_at, expires_at FROM offers \
             {filter} ORDER BY created_at, offer_id"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows: Vec<(String, String, String, String, i64, i64)> = stmt
            .query_map(args, |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(
                |(offer_id, conversation_id, agent, state, created_at, expires_at)| {
                    Ok(OfferRow {
                        offer_id,
                        conversation_id,
                        agent,
                        state: OfferState::parse(&state)
                            .with_context(|| format!("unknown offer state {state:?}"))?,
                        created_at,
                        expires_at,
                    })
                },
            )
            .collect()
    }
}
