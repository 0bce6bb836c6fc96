//! PostgreSQL implementation of [`Storage`], for several platform instances
//! sharing one database (issue 19, decision 0041). SQLite stays the default
//! for one machine; the domain code cannot tell the two apart.
//!
//! Transactions: every write transaction first takes one advisory lock
//! ([`WRITE_LOCK`]) and holds it to its commit, so writes run one at a time
//! across all instances, as they do on SQLite. That keeps every domain rule
//! that reads and then writes (a claim, an offer, a wrap-up) as safe as it
//! is on SQLite without retry loops, and it makes the change log gap-safe:
//! positions are given out under the lock, so they commit in order and a
//! reader never passes a position that becomes visible later. Reads run in
//! REPEATABLE READ snapshots, concurrently with each other and with the
//! writer.
//!
//! The trait is synchronous (callers are on blocking threads), the driver
//! asynchronous: the storage owns a small runtime that drives the pool's
//! connections, and each statement is `block_on` there ([`PgTx`]).

use anyhow::{Context, bail};
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use homedesk_protocol::{
    ActionResult, Attachment, CallRecord, Change, Conversation, ConversationStatus, EntityKind,
    Message, Record, UnixMillis, WrapUpRecord,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::hub::Peers;

use super::{
    AccessTokenRow, Audience, KindFilter, OfferRow, OfferState, RefreshTokenRow, Storage,
    StoredActionKey, Tx, Viewer, WebchatCustomerRow, change_from_row, record_from_row, status_str,
};

mod channels;
mod console;
mod limits;
mod links;
mod peers;
mod releases;
mod retention;
mod sessions;

/// Migrations, in order, with the schema version each brings the database
/// to. PostgreSQL starts at SQLite's version 9 (the baseline holds all of
/// 0001–0009); from 0010 on both dialects have every migration.
const MIGRATIONS: &[(i64, &str)] = &[
    (9, include_str!("migrations/postgres/0009_baseline.sql")),
    (10, include_str!("migrations/postgres/0010_instances.sql")),
    (
        11,
        include_str!("migrations/postgres/0011_sign_in_counters.sql"),
    ),
];

/// The advisory lock key every write transaction holds (any constant; this
/// one spells "homedesk" in ASCII).
pub const WRITE_LOCK: i64 = 0x686f_6d65_6465_736b;

/// Connections per instance: reads run in parallel on them, writes queue
/// on the lock anyway.
const POOL_SIZE: usize = 16;

pub struct PgStorage {
    pool: Pool,
    /// Always `Some` until dropped (taken in [`Drop`]).
    runtime: Option<tokio::runtime::Runtime>,
    url: String,
    /// The other instances on this database, started when first asked.
    peers: std::sync::OnceLock<Arc<peers::PgPeers>>,
}

impl PgStorage {
    /// Connects to `url` (`postgres://user:password@host:port/database`)
    /// and brings its schema up to date; an empty database becomes a
    /// platform's.
    pub fn open(url: &str) -> anyhow::Result<PgStorage> {
        PgStorage::connect(url, true)
    }

    /// Like [`PgStorage::open`], but refuses a database that holds no
    /// platform yet (administration commands never make one).
    pub fn open_existing(url: &str) -> anyhow::Result<PgStorage> {
        PgStorage::connect(url, false)
    }

    fn connect(url: &str, create: bool) -> anyhow::Result<PgStorage> {
        let config: tokio_postgres::Config = url
            .parse()
            .with_context(|| format!("{} is not a PostgreSQL URL", redact(url)))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("postgres")
            .enable_all()
            .build()
            .context("starting the database driver's runtime")?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .context("building the database pool")?;
        let storage = PgStorage {
            pool,
            runtime: Some(runtime),
            url: url.to_owned(),
            peers: std::sync::OnceLock::new(),
        };
        if !create {
            let client = storage.client()?;
            let mut tx = PgTx {
                runtime: storage.runtime(),
                client: &client,
                logged_for: Audience::new(),
            };
            let found: Option<String> = tx
                .query_one("SELECT to_regclass('public.schema_version')::text", &[])?
                .get(0);
            anyhow::ensure!(
                found.is_some(),
                "the database {} holds no platform; make one with \
                 `homedesk-platform init --database URL --data-dir DIR`",
                redact(url)
            );
        }
        storage
            .migrate()
            .with_context(|| format!("preparing the database {}", redact(url)))?;
        Ok(storage)
    }

    /// The URL without its password, for messages and logs.
    pub fn display_url(&self) -> String {
        redact(&self.url)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the storage")
    }

    fn client(&self) -> anyhow::Result<deadpool_postgres::Object> {
        self.runtime()
            .block_on(self.pool.get())
            .map_err(|e| anyhow::anyhow!("could not reach the database {}: {e}", redact(&self.url)))
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let client = self.client()?;
        let mut tx = PgTx {
            runtime: self.runtime(),
            client: &client,
            logged_for: Audience::new(),
        };
        tx.batch("BEGIN")?;
        // One instance migrates at a time; the others wait and then find
        // the schema current.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        tx.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let current: i64 = match tx.query_opt("SELECT version FROM schema_version", &[])? {
            Some(row) => row.get(0),
            None => 0,
        };
        let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
        if current > newest {
            tx.batch("ROLLBACK")?;
            bail!(
                "the database is at schema version {current}, newer than this build knows \
                 ({newest}); use a newer homedesk-platform"
            );
        }
        for (version, sql) in MIGRATIONS {
            if *version <= current {
                continue;
            }
            tx.batch(sql)
                .with_context(|| format!("applying migration {version}"))?;
        }
        if current == 0 {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('instance_id', $1)",
                &[&crate::auth::random_token(12)],
            )?;
        }
        tx.execute("DELETE FROM schema_version", &[])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&newest],
        )?;
        tx.batch("COMMIT")?;
        Ok(())
    }

    fn run(
        &self,
        begin: &str,
        work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let client = self.client()?;
        let mut tx = PgTx {
            runtime: self.runtime(),
            client: &client,
            logged_for: Audience::new(),
        };
        // A panic in `work` must not hand the pool a connection that is
        // still inside this transaction: a write's would keep the write lock
        // and stop every instance's writes. The connection is then closed
        // instead (the server rolls back and releases the lock).
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tx.batch(begin)
                .and_then(|()| work(&mut tx))
                .and_then(|()| tx.batch("COMMIT"))
        }));
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => {
                // Back to the pool clean; if even the rollback fails the
                // connection is broken and is closed, not pooled.
                if tx.batch("ROLLBACK").is_err() {
                    drop(deadpool_postgres::Object::take(client));
                }
                Err(error)
            }
            Err(panic) => {
                drop(deadpool_postgres::Object::take(client));
                std::panic::resume_unwind(panic)
            }
        }
    }
}

impl Drop for PgStorage {
    fn drop(&mut self) {
        // Dropping a runtime on an async thread panics; the pool's
        // connections need no orderly goodbye.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Storage for PgStorage {
    fn write(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()> {
        self.run(
            &format!(
                "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            ),
            work,
        )
    }

    fn read(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()> {
        self.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", work)
    }

    fn peers(&self) -> Option<Arc<dyn Peers>> {
        let peers = self.peers.get_or_init(|| {
            peers::PgPeers::start(self.runtime().handle(), self.pool.clone(), self.url.clone())
        });
        Some(Arc::clone(peers) as Arc<dyn Peers>)
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(a database URL that does not parse)".to_owned(),
    }
}

/// One transaction's statements on one pooled connection, run to
/// completion on the storage's runtime. Statements are prepared once per
/// connection and cached by the pool.
pub(crate) struct PgTx<'a> {
    runtime: &'a tokio::runtime::Runtime,
    client: &'a deadpool_postgres::Object,
    /// Everyone who may see a change logged in this transaction.
    logged_for: Audience,
}

/// Parameters of a statement.
pub(crate) type Params<'p> = [&'p (dyn ToSql + Sync)];

impl PgTx<'_> {
    /// Runs SQL text without parameters (several statements allowed).
    pub(crate) fn batch(&mut self, sql: &str) -> anyhow::Result<()> {
        self.runtime
            .block_on(self.client.batch_execute(sql))
            .map_err(pg_error)
    }

    pub(crate) fn query(&mut self, sql: &str, params: &Params<'_>) -> anyhow::Result<Vec<Row>> {
        self.runtime.block_on(async {
            let statement = self.client.prepare_cached(sql).await.map_err(pg_error)?;
            self.client
                .query(&statement, params)
                .await
                .map_err(pg_error)
        })
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> anyhow::Result<Option<Row>> {
        let mut rows = self.query(sql, params)?;
        if rows.len() > 1 {
            bail!("expected at most one row, got {}: {sql}", rows.len());
        }
        Ok(rows.pop())
    }

    pub(crate) fn query_one(&mut self, sql: &str, params: &Params<'_>) -> anyhow::Result<Row> {
        self.query_opt(sql, params)?
            .with_context(|| format!("expected one row: {sql}"))
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &Params<'_>) -> anyhow::Result<u64> {
        self.runtime.block_on(async {
            let statement = self.client.prepare_cached(sql).await.map_err(pg_error)?;
            self.client
                .execute(&statement, params)
                .await
                .map_err(pg_error)
        })
    }
}

/// The server's own message (with its detail and hint) rather than the
/// driver's "db error".
fn pg_error(error: tokio_postgres::Error) -> anyhow::Error {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("PostgreSQL: {} ({})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text += &format!("; {detail}");
            }
            anyhow::anyhow!(text)
        }
        None => anyhow::Error::new(error).context("PostgreSQL"),
    }
}

/// A change-log entry from a row of `seq, kind, id, data`.
fn change_of_row(row: &Row) -> anyhow::Result<Change> {
    let seq: i64 = row.get(0);
    let kind: &str = row.get(1);
    change_from_row(
        unsigned(seq, "change position")?,
        kind,
        row.get(2),
        row.get(3),
    )
}

/// A stored integer that must fit the Rust side's unsigned type.
pub(crate) fn unsigned<T: TryFrom<i64>>(value: i64, what: &str) -> anyhow::Result<T> {
    T::try_from(value).map_err(|_| anyhow::anyhow!("stored {what} {value} is out of range"))
}

fn conversations(rows: Vec<Row>) -> anyhow::Result<Vec<Conversation>> {
    rows.iter()
        .map(|r| Ok(serde_json::from_str(r.get::<_, &str>(0))?))
        .collect()
}

impl PgTx<'_> {
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
        // Under the write lock (taken at BEGIN): the next position, in
        // commit order.
        let seq: i64 = self
            .query_one(
                "UPDATE change_log_head SET seq = seq + 1 RETURNING seq",
                &[],
            )?
            .get(0);
        self.execute(
            "INSERT INTO changes (seq, kind, id, deleted, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&seq, &kind.as_str(), &id, &data.is_none(), &data, &now],
        )?;
        self.logged_for.extend(audience.iter().cloned());
        let whos: Vec<String> = audience.iter().map(Viewer::encode).collect();
        self.execute(
            "INSERT INTO change_audience (seq, who) SELECT $1, unnest($2::text[])",
            &[&seq, &whos],
        )?;
        self.compact(kind, id, seq, audience)?;
        unsigned(seq, "change position")
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
        let rows = self.query(
            "SELECT c.seq, array_agg(a.who) FROM changes c \
             JOIN change_audience a ON a.seq = c.seq \
             WHERE c.kind = $1 AND c.id = $2 AND c.seq < $3 GROUP BY c.seq",
            &[&kind.as_str(), &id, &newest],
        )?;
        let covered: Vec<i64> = rows
            .iter()
            .filter(|row| {
                row.get::<_, Vec<String>>(1)
                    .iter()
                    .all(|who| Viewer::decode(who).is_some_and(|viewer| audience.contains(&viewer)))
            })
            .map(|row| row.get(0))
            .collect();
        if !covered.is_empty() {
            self.execute("DELETE FROM changes WHERE seq = ANY($1)", &[&covered])?;
        }
        Ok(())
    }

    fn query_offers(&mut self, filter: &str, args: &Params<'_>) -> anyhow::Result<Vec<OfferRow>> {
        let sql = format!(
            "SELECT offer_id, conversation_id, agent, state, created_at, expires_at FROM offers \
             {filter} ORDER BY created_at, offer_id"
        );
        self.query(&sql, args)?
            .iter()
            .map(|r| {
                let state: &str = r.get(3);
                Ok(OfferRow {
                    offer_id: r.get(0),
                    conversation_id: r.get(1),
                    agent: r.get(2),
                    state: OfferState::parse(state)
                        .with_context(|| format!("unknown offer state {state:?}"))?,
                    created_at: r.get(4),
                    expires_at: r.get(5),
                })
            })
            .collect()
    }
}

impl Tx for PgTx<'_> {
    fn instance_id(&mut self) -> anyhow::Result<String> {
        Ok(self
            .query_one("SELECT value FROM meta WHERE key = 'instance_id'", &[])?
            .get(0))
    }

    fn meta(&mut self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
            .map(|r| r.get(0)))
    }

    fn set_meta(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn get(&mut self, kind: EntityKind, id: &str) -> anyhow::Result<Option<Record>> {
        self.query_opt(
            "SELECT data FROM records WHERE kind = $1 AND id = $2",
            &[&kind.as_str(), &id],
        )?
        .map(|r| record_from_row(kind.as_str(), r.get(0)))
        .transpose()
    }

    fn list(&mut self, kind: EntityKind) -> anyhow::Result<Vec<Record>> {
        self.query(
            "SELECT data FROM records WHERE kind = $1 ORDER BY id COLLATE \"C\"",
            &[&kind.as_str()],
        )?
        .iter()
        .map(|r| record_from_row(kind.as_str(), r.get(0)))
        .collect()
    }

    fn conversations_with_status(
        &mut self,
        status: ConversationStatus,
    ) -> anyhow::Result<Vec<Conversation>> {
        let rows = self.query(
            "SELECT data FROM records WHERE kind = 'conversation' \
             AND ((data::jsonb) ->> 'status') = $1 ORDER BY id COLLATE \"C\"",
            &[&status_str(status)?],
        )?;
        conversations(rows)
    }

    fn conversations_assigned_to(&mut self, agent: &str) -> anyhow::Result<Vec<Conversation>> {
        let rows = self.query(
            "SELECT data FROM records WHERE kind = 'conversation' \
             AND ((data::jsonb) ->> 'assigned_to') = $1 \
             AND ((data::jsonb) ->> 'status') <> 'resolved' ORDER BY id COLLATE \"C\"",
            &[&agent],
        )?;
        conversations(rows)
    }

    fn messages_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<Message>> {
        self.query(
            "SELECT data FROM records WHERE kind = 'message' \
             AND ((data::jsonb) ->> 'conversation_id') = $1 \
             ORDER BY ((data::jsonb) -> 'sent_at'), id COLLATE \"C\"",
            &[&conversation_id],
        )?
        .iter()
        .map(|r| Ok(serde_json::from_str(r.get::<_, &str>(0))?))
        .collect()
    }

    fn conversations_of_customer(
        &mut self,
        customer_id: &str,
    ) -> anyhow::Result<Vec<Conversation>> {
        let rows = self.query(
            "SELECT data FROM records WHERE kind = 'conversation' \
             AND ((data::jsonb) ->> 'customer_id') = $1 \
             ORDER BY ((data::jsonb) -> 'created_at'), id COLLATE \"C\"",
            &[&customer_id],
        )?;
        conversations(rows)
    }

    fn put(
        &mut self,
        record: &Record,
        audience: &Audience,
        now: UnixMillis,
    ) -> anyhow::Result<u64> {
        let kind = record.kind();
        let data = serde_json::to_string(&record.to_json())?;
        self.execute(
            "INSERT INTO records (kind, id, data) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
            &[&kind.as_str(), &record.id(), &data],
        )?;
        self.append_change(kind, record.id(), Some(&data), audience, now)
    }

    fn delete(
        &mut self,
        kind: EntityKind,
        id: &str,
        audience: &Audience,
        now: UnixMillis,
    ) -> anyhow::Result<u64> {
        self.execute(
            "DELETE FROM records WHERE kind = $1 AND id = $2",
            &[&kind.as_str(), &id],
        )?;
        self.append_change(kind, id, None, audience, now)
    }

    fn logged_for(&self) -> Audience {
        self.logged_for.clone()
    }

    fn latest_seq(&mut self) -> anyhow::Result<u64> {
        let seq: i64 = self
            .query_one("SELECT seq FROM change_log_head", &[])?
            .get(0);
        unsigned(seq, "change position")
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
        let whos: Vec<String> = viewers.iter().map(Viewer::encode).collect();
        let only: Option<Vec<&str>> = kinds
            .only
            .as_ref()
            .map(|only| only.iter().map(|k| k.as_str()).collect());
        let except: Vec<&str> = kinds.except.iter().map(|k| k.as_str()).collect();
        let after = i64::try_from(after)?;
        let limit = i64::try_from(limit)?;
        let rows = self.query(
            "SELECT c.seq, c.kind, c.id, c.data FROM changes c \
             WHERE c.seq > $1 \
               AND ($2::text[] IS NULL OR c.kind = ANY($2)) \
               AND NOT (c.kind = ANY($3)) \
               AND EXISTS (SELECT 1 FROM change_audience a \
                   WHERE a.seq = c.seq AND a.who = ANY($4)) \
             ORDER BY c.seq LIMIT $5",
            &[&after, &only, &except, &whos, &limit],
        )?;
        rows.iter().map(change_of_row).collect()
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
        let (after, upto, limit) = (
            i64::try_from(after)?,
            i64::try_from(upto)?,
            i64::try_from(limit)?,
        );
        let rows = self.query(
            "SELECT c.seq, c.kind, c.id, c.data, \
                 ARRAY(SELECT a.who FROM change_audience a WHERE a.seq = c.seq) \
             FROM changes c WHERE c.seq > $1 AND c.seq <= $2 ORDER BY c.seq LIMIT $3",
            &[&after, &upto, &limit],
        )?;
        rows.iter()
            .map(|row| {
                let whos: Vec<String> = row.get(4);
                let audience = whos.iter().filter_map(|w| Viewer::decode(w)).collect();
                Ok((change_of_row(row)?, audience))
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
        let whos: Vec<String> = viewers.iter().map(Viewer::encode).collect();
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let row = self.query_one(
            "SELECT COUNT(*), COALESCE(SUM(octet_length(c.data)), 0)::bigint FROM changes c \
             WHERE c.seq > $1 AND c.seq <= $2 AND c.kind = ANY($3) \
             AND EXISTS (SELECT 1 FROM change_audience a \
                 WHERE a.seq = c.seq AND a.who = ANY($4))",
            &[&i64::try_from(after)?, &i64::try_from(upto)?, &kinds, &whos],
        )?;
        Ok((
            unsigned(row.get(0), "count")?,
            unsigned(row.get(1), "size")?,
        ))
    }

    fn password_hash(&mut self, agent: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT password_hash FROM credentials WHERE agent = $1",
                &[&agent],
            )?
            .map(|r| r.get(0)))
    }

    fn set_password_hash(&mut self, agent: &str, hash: &str) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO credentials (agent, password_hash) VALUES ($1, $2) \
             ON CONFLICT (agent) DO UPDATE SET password_hash = excluded.password_hash",
            &[&agent, &hash],
        )?;
        Ok(())
    }

    fn insert_access_token(&mut self, hash: &str, row: &AccessTokenRow) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO access_tokens (token_hash, family, agent, expires_at) \
             VALUES ($1, $2, $3, $4)",
            &[&hash, &row.family, &row.agent, &row.expires_at],
        )?;
        Ok(())
    }

    fn access_token(&mut self, hash: &str) -> anyhow::Result<Option<AccessTokenRow>> {
        Ok(self
            .query_opt(
                "SELECT family, agent, expires_at FROM access_tokens WHERE token_hash = $1",
                &[&hash],
            )?
            .map(|r| AccessTokenRow {
                family: r.get(0),
                agent: r.get(1),
                expires_at: r.get(2),
            }))
    }

    fn insert_refresh_token(&mut self, hash: &str, row: &RefreshTokenRow) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO refresh_tokens (token_hash, family, agent, device_id, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &hash,
                &row.family,
                &row.agent,
                &row.device_id,
                &row.expires_at,
                &row.used_at,
            ],
        )?;
        Ok(())
    }

    fn refresh_token(&mut self, hash: &str) -> anyhow::Result<Option<RefreshTokenRow>> {
        Ok(self
            .query_opt(
                "SELECT family, agent, device_id, expires_at, used_at FROM refresh_tokens \
                 WHERE token_hash = $1",
                &[&hash],
            )?
            .map(|r| RefreshTokenRow {
                family: r.get(0),
                agent: r.get(1),
                device_id: r.get(2),
                expires_at: r.get(3),
                used_at: r.get(4),
            }))
    }

    fn mark_refresh_used(&mut self, hash: &str, now: UnixMillis) -> anyhow::Result<()> {
        self.execute(
            "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1",
            &[&hash, &now],
        )?;
        Ok(())
    }

    fn revoke_family(&mut self, family: &str, now: UnixMillis) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO revoked_families (family, revoked_at) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            &[&family, &now],
        )?;
        self.execute("DELETE FROM access_tokens WHERE family = $1", &[&family])?;
        Ok(())
    }

    fn family_revoked(&mut self, family: &str) -> anyhow::Result<bool> {
        Ok(self
            .query_opt(
                "SELECT 1 FROM revoked_families WHERE family = $1",
                &[&family],
            )?
            .is_some())
    }

    fn purge(&mut self, now: UnixMillis, keys_before: UnixMillis) -> anyhow::Result<()> {
        self.execute("DELETE FROM access_tokens WHERE expires_at < $1", &[&now])?;
        self.execute("DELETE FROM refresh_tokens WHERE expires_at < $1", &[&now])?;
        self.execute(
            "DELETE FROM session_families WHERE expires_at < $1",
            &[&now],
        )?;
        self.execute(
            "DELETE FROM action_keys WHERE created_at < $1",
            &[&keys_before],
        )?;
        self.execute(
            "DELETE FROM ingress_keys WHERE created_at < $1",
            &[&keys_before],
        )?;
        Ok(())
    }

    fn action_key(&mut self, agent: &str, key: &str) -> anyhow::Result<Option<StoredActionKey>> {
        self.query_opt(
            "SELECT action_hash, result FROM action_keys WHERE agent = $1 AND key = $2",
            &[&agent, &key],
        )?
        .map(|r| {
            let result: ActionResult = serde_json::from_str(r.get::<_, &str>(1))?;
            Ok(StoredActionKey {
                action_hash: r.get(0),
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
        self.execute(
            "INSERT INTO action_keys (agent, key, action_hash, result, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &agent,
                &key,
                &stored.action_hash,
                &serde_json::to_string(&stored.result)?,
                &now,
            ],
        )?;
        Ok(())
    }

    fn ingress_key(&mut self, external_id: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT result FROM ingress_keys WHERE external_id = $1",
                &[&external_id],
            )?
            .map(|r| r.get(0)))
    }

    fn put_ingress_key(
        &mut self,
        external_id: &str,
        result: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO ingress_keys (external_id, result, created_at) VALUES ($1, $2, $3)",
            &[&external_id, &result, &now],
        )?;
        Ok(())
    }

    fn insert_offer(&mut self, offer: &OfferRow) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO offers (offer_id, conversation_id, agent, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &offer.offer_id,
                &offer.conversation_id,
                &offer.agent,
                &offer.state.as_str(),
                &offer.created_at,
                &offer.expires_at,
            ],
        )?;
        Ok(())
    }

    fn offer(&mut self, offer_id: &str) -> anyhow::Result<Option<OfferRow>> {
        let rows = self.query_offers("WHERE offer_id = $1", &[&offer_id])?;
        Ok(rows.into_iter().next())
    }

    fn set_offer_state(&mut self, offer_id: &str, state: OfferState) -> anyhow::Result<()> {
        self.execute(
            "UPDATE offers SET state = $2 WHERE offer_id = $1",
            &[&offer_id, &state.as_str()],
        )?;
        Ok(())
    }

    fn offers_for_conversation(&mut self, conversation_id: &str) -> anyhow::Result<Vec<OfferRow>> {
        self.query_offers("WHERE conversation_id = $1", &[&conversation_id])
    }

    fn open_offers(&mut self) -> anyhow::Result<Vec<OfferRow>> {
        self.query_offers("WHERE state = 'open'", &[])
    }

    fn insert_training_record(
        &mut self,
        trainee: &str,
        id: &str,
        data: &str,
        now: UnixMillis,
    ) -> anyhow::Result<bool> {
        let inserted = self.execute(
            "INSERT INTO training_records (trainee, id, received_at, data) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&trainee, &id, &now, &data],
        )?;
        Ok(inserted == 1)
    }

    fn training_records(
        &mut self,
        trainee: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Vec<(String, UnixMillis, String)>> {
        Ok(self
            .query(
                "SELECT trainee, received_at, data FROM training_records \
                 WHERE $1::text IS NULL OR trainee = $1 \
                 ORDER BY received_at DESC, id COLLATE \"C\" LIMIT $2",
                &[&trainee, &i64::try_from(limit)?],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    fn insert_wrap_up(&mut self, conversation_id: &str, w: &WrapUpRecord) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO wrap_ups (conversation_id, agent, disposition, note, after_contact_secs, wrapped_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &conversation_id,
                &w.agent,
                &w.disposition,
                &w.note,
                &w.after_contact_secs,
                &w.wrapped_at,
            ],
        )?;
        Ok(())
    }

    fn insert_call(&mut self, conversation_id: &str, c: &CallRecord) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO calls (conversation_id, agent, started_at, ended_at, duration_secs, logged_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &conversation_id,
                &c.agent,
                &c.started_at,
                &c.ended_at,
                &c.duration_secs,
                &c.logged_at,
            ],
        )?;
        Ok(())
    }

    fn wrap_ups_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<WrapUpRecord>> {
        self.query(
            "SELECT agent, disposition, note, after_contact_secs, wrapped_at FROM wrap_ups \
             WHERE conversation_id = $1 ORDER BY id",
            &[&conversation_id],
        )?
        .iter()
        .map(|r| {
            Ok(WrapUpRecord {
                agent: r.get(0),
                disposition: r.get(1),
                note: r.get(2),
                after_contact_secs: r.get(3),
                wrapped_at: r.get(4),
            })
        })
        .collect()
    }

    fn calls_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<CallRecord>> {
        self.query(
            "SELECT agent, started_at, ended_at, duration_secs, logged_at FROM calls \
             WHERE conversation_id = $1 ORDER BY id",
            &[&conversation_id],
        )?
        .iter()
        .map(|r| {
            Ok(CallRecord {
                agent: r.get(0),
                started_at: r.get(1),
                ended_at: r.get(2),
                duration_secs: r.get(3),
                logged_at: r.get(4),
            })
        })
        .collect()
    }

    fn insert_attachment(
        &mut self,
        attachment: &Attachment,
        image: &[u8],
        thumbnail: &[u8],
        now: UnixMillis,
    ) -> anyhow::Result<bool> {
        let inserted = self.execute(
            "INSERT INTO attachments \
             (id, media_type, bytes, width, height, stored_at, thumbnail, image) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                &attachment.id,
                &attachment.media_type,
                &i64::from(attachment.bytes),
                &i64::from(attachment.width),
                &i64::from(attachment.height),
                &now,
                &thumbnail,
                &image,
            ],
        )?;
        Ok(inserted == 1)
    }

    fn attachment(&mut self, id: &str) -> anyhow::Result<Option<Attachment>> {
        self.query_opt(
            "SELECT id, media_type, bytes, width, height FROM attachments WHERE id = $1",
            &[&id],
        )?
        .map(|r| {
            Ok(Attachment {
                id: r.get(0),
                media_type: r.get(1),
                bytes: unsigned(r.get(2), "photo size")?,
                width: unsigned(r.get(3), "photo width")?,
                height: unsigned(r.get(4), "photo height")?,
            })
        })
        .transpose()
    }

    fn attachment_bytes(&mut self, id: &str, thumbnail: bool) -> anyhow::Result<Option<Vec<u8>>> {
        let sql = if thumbnail {
            "SELECT thumbnail FROM attachments WHERE id = $1"
        } else {
            "SELECT image FROM attachments WHERE id = $1"
        };
        Ok(self.query_opt(sql, &[&id])?.map(|r| r.get(0)))
    }

    fn insert_webchat_customer(
        &mut self,
        token_hash: &str,
        row: &WebchatCustomerRow,
    ) -> anyhow::Result<()> {
        self.execute(
            "INSERT INTO webchat_customers (token_hash, customer_id, name, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &token_hash,
                &row.customer_id,
                &row.name,
                &row.created_at,
                &row.last_seen_at,
            ],
        )?;
        Ok(())
    }

    fn webchat_customer(&mut self, token_hash: &str) -> anyhow::Result<Option<WebchatCustomerRow>> {
        Ok(self
            .query_opt(
                "SELECT customer_id, name, created_at, last_seen_at FROM webchat_customers \
                 WHERE token_hash = $1",
                &[&token_hash],
            )?
            .map(|r| WebchatCustomerRow {
                customer_id: r.get(0),
                name: r.get(1),
                created_at: r.get(2),
                last_seen_at: r.get(3),
            }))
    }

    fn touch_webchat_customer(
        &mut self,
        token_hash: &str,
        name: Option<&str>,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        self.execute(
            "UPDATE webchat_customers SET last_seen_at = $2, name = coalesce($3, name) \
             WHERE token_hash = $1",
            &[&token_hash, &now, &name],
        )?;
        Ok(())
    }
}
