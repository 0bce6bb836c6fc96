//! Durable state of the platform, behind a narrow interface.
//!
//! The HTTP layer and the domain rules (`actions`, `routing`, `auth`) talk to
//! a [`Storage`] and run their work inside one transaction through a [`Tx`];
//! they never see SQL. Two implementations: SQLite in the data folder
//! ([`sqlite::SqliteStorage`], the default, one machine) and PostgreSQL
//! ([`postgres::PgStorage`], several instances sharing one database);
//! [`open`] picks one from the settings.
//!
//! Invariant: [`Storage::write`] returns only after the transaction is
//! durable, so a response sent after it never acknowledges data a crash or
//! power cut could lose.

pub mod channels;
pub mod console;
pub mod limits;
pub mod links;
pub mod postgres;
pub mod releases;
pub mod retention;
pub mod sessions;
pub mod sqlite;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use homedesk_protocol::{
    ActionResult, Attachment, CallRecord, Change, ChangeBody, Conversation, ConversationStatus,
    EntityKind, Message, Record, UnixMillis, WrapUpRecord,
};

pub use channels::{AdapterRow, ChannelTx, DeliveryRow, DeliveryUpdate, EgressState};
pub use console::{ConsoleTx, HandledContact};
pub use limits::{LimitTx, SignInCounter};
pub use links::{AgentLink, LinkTx};
pub use postgres::PgStorage;
pub use releases::{RELEASE_CHUNK_BYTES, ReleaseRow, ReleaseTx};
pub use retention::RetentionTx;
pub use sessions::{FamilyRow, SessionTx};
pub use sqlite::SqliteStorage;

/// The environment variable that names the database (a `postgres://` URL)
/// for every command; it wins over `database` in `platform.toml`.
pub const DATABASE_ENV: &str = "HOMEDESK_PLATFORM_DATABASE";

/// Checks a `database` setting: PostgreSQL's URL, parsed.
pub fn check_database_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim();
    anyhow::ensure!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "database: give a postgres:// URL (postgres://user:password@host:5432/name); \
         without the setting the platform keeps SQLite in its data folder"
    );
    url.parse::<tokio_postgres::Config>().map_err(|e| {
        anyhow::anyhow!(
            "database: {} is not a usable URL: {e}",
            postgres::redact(url)
        )
    })?;
    Ok(url.to_owned())
}

/// Opens the platform's database: PostgreSQL at `database` when given,
/// else SQLite in `data_dir` (made when missing). Either way its schema is
/// brought up to date.
pub fn open(data_dir: &Path, database: Option<&str>) -> anyhow::Result<Arc<dyn Storage>> {
    Ok(match database {
        Some(url) => {
            // The folder still holds the TLS files and tokens.
            crate::owner_only::create_dir(data_dir)?;
            Arc::new(PgStorage::open(&check_database_url(url)?)?)
        }
        None => Arc::new(SqliteStorage::open(data_dir)?),
    })
}

/// The database an administration command works on: [`DATABASE_ENV`], else
/// `database` in the folder's `platform.toml`, else SQLite in the folder.
pub fn configured_database(data_dir: &Path) -> anyhow::Result<Option<String>> {
    if let Some(url) = std::env::var(DATABASE_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return Ok(Some(check_database_url(&url)?));
    }
    let file = data_dir.join(crate::config::FILE_NAME);
    if !file.exists() {
        return Ok(None);
    }
    crate::config::ServeConfig::load(&file)?
        .database
        .map(|url| check_database_url(&url))
        .transpose()
}

/// Opens the database the folder is configured for ([`configured_database`]),
/// making it when missing.
pub fn open_configured(data_dir: &Path) -> anyhow::Result<Arc<dyn Storage>> {
    open(data_dir, configured_database(data_dir)?.as_deref())
}

/// Opens the database of an existing platform (administration never makes
/// a new one): refuses a folder with neither a SQLite database nor a
/// configured PostgreSQL one.
pub fn open_existing(data_dir: &Path) -> anyhow::Result<Arc<dyn Storage>> {
    match configured_database(data_dir)? {
        Some(url) => Ok(Arc::new(PgStorage::open_existing(&url)?)),
        None => {
            anyhow::ensure!(
                data_dir.join("platform.db").exists(),
                "{} holds no platform database; make one with `homedesk-platform init --data-dir {}`",
                data_dir.display(),
                data_dir.display()
            );
            Ok(Arc::new(SqliteStorage::open(data_dir)?))
        }
    }
}

/// A stored record from its kind and JSON (both dialects keep the wire shape).
pub(crate) fn record_from_row(kind: &str, data: &str) -> anyhow::Result<Record> {
    let kind =
        EntityKind::parse(kind).ok_or_else(|| anyhow::anyhow!("unknown stored kind {kind:?}"))?;
    let value: serde_json::Value = serde_json::from_str(data)?;
    Record::from_json(kind, value).map_err(|e| anyhow::anyhow!("stored {kind:?} is invalid: {e}"))
}

/// A change-log entry from its stored columns (`data` `None`: a tombstone).
pub(crate) fn change_from_row(
    seq: u64,
    kind: &str,
    id: String,
    data: Option<&str>,
) -> anyhow::Result<Change> {
    let body = match data {
        Some(data) => ChangeBody::Upsert(record_from_row(kind, data)?),
        None => ChangeBody::Delete {
            entity: EntityKind::parse(kind)
                .ok_or_else(|| anyhow::anyhow!("unknown stored kind {kind:?}"))?,
            id,
        },
    };
    Ok(Change { seq, body })
}

/// A conversation status as its JSON string, the form queries compare.
pub(crate) fn status_str(status: ConversationStatus) -> anyhow::Result<String> {
    match serde_json::to_value(status)? {
        serde_json::Value::String(s) => Ok(s),
        other => anyhow::bail!("status serialized as {other}"),
    }
}

/// Who may see a change-log entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Viewer {
    Everyone,
    Queue(String),
    Agent(String),
}

impl Viewer {
    /// The stored form: `*`, `q:<queue>`, `a:<agent>`.
    pub fn encode(&self) -> String {
        match self {
            Viewer::Everyone => "*".to_owned(),
            Viewer::Queue(q) => format!("q:{q}"),
            Viewer::Agent(a) => format!("a:{a}"),
        }
    }

    pub fn decode(s: &str) -> Option<Viewer> {
        if s == "*" {
            Some(Viewer::Everyone)
        } else if let Some(q) = s.strip_prefix("q:") {
            Some(Viewer::Queue(q.to_owned()))
        } else {
            s.strip_prefix("a:").map(|a| Viewer::Agent(a.to_owned()))
        }
    }
}

/// Everyone who may see one change.
pub type Audience = BTreeSet<Viewer>;

/// The log's position after a write, and who may see what the write
/// logged (empty: it logged nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub latest: u64,
    pub viewers: Audience,
}

/// The audience of records every agent may see.
pub fn everyone() -> Audience {
    BTreeSet::from([Viewer::Everyone])
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRow {
    pub family: String,
    pub agent: String,
    pub expires_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRow {
    pub family: String,
    pub agent: String,
    pub device_id: String,
    pub expires_at: UnixMillis,
    pub used_at: Option<UnixMillis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    Open,
    Accepted,
    Declined,
    Expired,
    /// Ended because someone claimed the conversation another way.
    Withdrawn,
}

impl OfferState {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Open => "open",
            OfferState::Accepted => "accepted",
            OfferState::Declined => "declined",
            OfferState::Expired => "expired",
            OfferState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<OfferState> {
        [
            OfferState::Open,
            OfferState::Accepted,
            OfferState::Declined,
            OfferState::Expired,
            OfferState::Withdrawn,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRow {
    pub offer_id: String,
    pub conversation_id: String,
    pub agent: String,
    pub state: OfferState,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// A web chat customer's token (its hash) and who it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebchatCustomerRow {
    pub customer_id: String,
    pub name: String,
    pub created_at: UnixMillis,
    pub last_seen_at: UnixMillis,
}

/// The verdict remembered for an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredActionKey {
    /// Hash of the action first sent with this key.
    pub action_hash: String,
    pub result: ActionResult,
}

/// Which kinds of entries a read of the change log returns (`only` and
/// `except` of `GET /v1/changes`): the kinds in `only` (every kind when
/// `None`) that are not in `except`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KindFilter {
    pub only: Option<Vec<EntityKind>>,
    pub except: Vec<EntityKind>,
}

impl KindFilter {
    /// The kinds `except` leaves out that `only` would have let through.
    pub fn left_out(&self) -> Vec<EntityKind> {
        self.except
            .iter()
            .copied()
            .filter(|k| self.only.as_ref().is_none_or(|only| only.contains(k)))
            .collect()
    }
}
/// Work inside one transaction. Every method may fail with a storage error;
/// the transaction then rolls back as a whole. Channel adapters and egress
/// deliveries are in [`ChannelTx`], published releases in [`ReleaseTx`],
/// sign-ins' lifetimes, disabled agents and device secrets in [`SessionTx`],
/// the retention sweep's in [`RetentionTx`], the team console's
/// assignments, handled contacts and role changes in [`ConsoleTx`], failed
/// sign-in counters in [`LimitTx`].
pub trait Tx:
    ChannelTx + ConsoleTx + LimitTx + LinkTx + ReleaseTx + SessionTx + RetentionTx
{
    /// A random id fixed when the database was created; cursors carry it so a
    /// cursor from another database (e.g. after a reset) is recognised.
    fn instance_id(&mut self) -> anyhow::Result<String>;
    /// A setting of this data folder kept in the database (e.g. `mode`).
    fn meta(&mut self, key: &str) -> anyhow::Result<Option<String>>;
    fn set_meta(&mut self, key: &str, value: &str) -> anyhow::Result<()>;

    fn get(&mut self, kind: EntityKind, id: &str) -> anyhow::Result<Option<Record>>;
    fn list(&mut self, kind: EntityKind) -> anyhow::Result<Vec<Record>>;
    fn conversations_with_status(
        &mut self,
        status: ConversationStatus,
    ) -> anyhow::Result<Vec<Conversation>>;
    /// Unresolved conversations assigned to `agent`.
    fn conversations_assigned_to(&mut self, agent: &str) -> anyhow::Result<Vec<Conversation>>;
    fn messages_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<Message>>;
    /// Every conversation of one customer, resolved ones too, oldest first.
    fn conversations_of_customer(&mut self, customer_id: &str)
    -> anyhow::Result<Vec<Conversation>>;

    /// Stores the record's new state and appends it to the change log for
    /// `audience`, dropping older log entries of the same record that this one
    /// supersedes. Returns the new entry's sequence number.
    fn put(&mut self, record: &Record, audience: &Audience, now: UnixMillis)
    -> anyhow::Result<u64>;
    /// Removes a record and logs a tombstone for `audience`.
    fn delete(
        &mut self,
        kind: EntityKind,
        id: &str,
        audience: &Audience,
        now: UnixMillis,
    ) -> anyhow::Result<u64>;
    fn latest_seq(&mut self) -> anyhow::Result<u64>;
    /// Everyone who may see a change this transaction logged so far.
    fn logged_for(&self) -> Audience;
    /// Where the log stands, and for whom this transaction wrote to it:
    /// what a poke after the commit says (`Platform::poke_head`).
    fn head(&mut self) -> anyhow::Result<Head> {
        Ok(Head {
            latest: self.latest_seq()?,
            viewers: self.logged_for(),
        })
    }
    /// Up to `limit` changes after `after` that any of `viewers` may see
    /// and `kinds` lets through, in order.
    fn changes_after(
        &mut self,
        after: u64,
        viewers: &[Viewer],
        kinds: &KindFilter,
        limit: usize,
    ) -> anyhow::Result<Vec<Change>>;
    /// Up to `limit` entries of the log in `(after, upto]`, each with everyone
    /// who may see it, in order: what an instance reads once for all its
    /// event streams (`crate::tail`).
    fn entries_between(
        &mut self,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<(Change, Audience)>>;
    /// How many changes of `kinds` in `(after, upto]` any of `viewers` may
    /// see, and their stored size in bytes (what `except` left out).
    fn count_changes(
        &mut self,
        after: u64,
        upto: u64,
        viewers: &[Viewer],
        kinds: &[EntityKind],
    ) -> anyhow::Result<(u64, u64)>;

    fn password_hash(&mut self, agent: &str) -> anyhow::Result<Option<String>>;
    fn set_password_hash(&mut self, agent: &str, hash: &str) -> anyhow::Result<()>;

    fn insert_access_token(&mut self, hash: &str, row: &AccessTokenRow) -> anyhow::Result<()>;
    fn access_token(&mut self, hash: &str) -> anyhow::Result<Option<AccessTokenRow>>;
    fn insert_refresh_token(&mut self, hash: &str, row: &RefreshTokenRow) -> anyhow::Result<()>;
    fn refresh_token(&mut self, hash: &str) -> anyhow::Result<Option<RefreshTokenRow>>;
    fn mark_refresh_used(&mut self, hash: &str, now: UnixMillis) -> anyhow::Result<()>;
    fn revoke_family(&mut self, family: &str, now: UnixMillis) -> anyhow::Result<()>;
    fn family_revoked(&mut self, family: &str) -> anyhow::Result<bool>;
    /// Forgets tokens past their expiry and idempotency keys older than `keys_before`.
    fn purge(&mut self, now: UnixMillis, keys_before: UnixMillis) -> anyhow::Result<()>;

    fn action_key(&mut self, agent: &str, key: &str) -> anyhow::Result<Option<StoredActionKey>>;
    fn put_action_key(
        &mut self,
        agent: &str,
        key: &str,
        stored: &StoredActionKey,
        now: UnixMillis,
    ) -> anyhow::Result<()>;
    fn ingress_key(&mut self, external_id: &str) -> anyhow::Result<Option<String>>;
    fn put_ingress_key(
        &mut self,
        external_id: &str,
        result: &str,
        now: UnixMillis,
    ) -> anyhow::Result<()>;

    fn insert_offer(&mut self, offer: &OfferRow) -> anyhow::Result<()>;
    fn offer(&mut self, offer_id: &str) -> anyhow::Result<Option<OfferRow>>;
    fn set_offer_state(&mut self, offer_id: &str, state: OfferState) -> anyhow::Result<()>;
    fn offers_for_conversation(&mut self, conversation_id: &str) -> anyhow::Result<Vec<OfferRow>>;
    fn open_offers(&mut self) -> anyhow::Result<Vec<OfferRow>>;

    /// Stores a training record; `false` when (trainee, id) was already there.
    fn insert_training_record(
        &mut self,
        trainee: &str,
        id: &str,
        data: &str,
        now: UnixMillis,
    ) -> anyhow::Result<bool>;
    /// (trainee, received_at, record JSON), newest first; all trainees when
    /// `trainee` is `None`.
    fn training_records(
        &mut self,
        trainee: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Vec<(String, UnixMillis, String)>>;

    /// Keeps a wrap-up's note and after-contact work (contact records).
    fn insert_wrap_up(
        &mut self,
        conversation_id: &str,
        wrap_up: &WrapUpRecord,
    ) -> anyhow::Result<()>;
    /// Keeps a call logged from the call screen.
    fn insert_call(&mut self, conversation_id: &str, call: &CallRecord) -> anyhow::Result<()>;
    /// A conversation's wrap-ups, oldest first.
    fn wrap_ups_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<WrapUpRecord>>;
    /// A conversation's calls, oldest first.
    fn calls_of(&mut self, conversation_id: &str) -> anyhow::Result<Vec<CallRecord>>;

    /// Keeps a new web chat customer under the hash of their token.
    fn insert_webchat_customer(
        &mut self,
        token_hash: &str,
        row: &WebchatCustomerRow,
    ) -> anyhow::Result<()>;
    fn webchat_customer(&mut self, token_hash: &str) -> anyhow::Result<Option<WebchatCustomerRow>>;
    /// Notes the customer came back, and their new name when given.
    fn touch_webchat_customer(
        &mut self,
        token_hash: &str,
        name: Option<&str>,
        now: UnixMillis,
    ) -> anyhow::Result<()>;
    /// Stores a checked photo and its thumbnail under `attachment.id` (the
    /// hex SHA-256 of `image`); `false`, and nothing written, when that id
    /// is stored already.
    fn insert_attachment(
        &mut self,
        attachment: &Attachment,
        image: &[u8],
        thumbnail: &[u8],
        now: UnixMillis,
    ) -> anyhow::Result<bool>;
    /// A stored photo's record, without its bytes.
    fn attachment(&mut self, id: &str) -> anyhow::Result<Option<Attachment>>;
    /// A stored photo's bytes, or its JPEG thumbnail's when `thumbnail`.
    fn attachment_bytes(&mut self, id: &str, thumbnail: bool) -> anyhow::Result<Option<Vec<u8>>>;
}

/// A database the platform can run transactions on.
pub trait Storage: Send + Sync {
    /// Runs `work` in a write transaction and commits it durably. If `work`
    /// fails, nothing it did is kept.
    fn write(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()>;
    /// Runs `work` in a read transaction (a consistent snapshot).
    fn read(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()>;
    /// The other platform instances that may share this database (`None`:
    /// it has only ever one, SQLite in one process's data folder).
    fn peers(&self) -> Option<Arc<dyn crate::hub::Peers>> {
        None
    }
}

/// A shared storage is a storage: `&Arc<dyn Storage>` goes where a
/// `&dyn Storage` is asked for.
impl<S: Storage + ?Sized> Storage for Arc<S> {
    fn write(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()> {
        (**self).write(work)
    }

    fn read(&self, work: &mut dyn FnMut(&mut dyn Tx) -> anyhow::Result<()>) -> anyhow::Result<()> {
        (**self).read(work)
    }

    fn peers(&self) -> Option<Arc<dyn crate::hub::Peers>> {
        (**self).peers()
    }
}

impl dyn Storage + '_ {
    /// [`Storage::write`] for work that returns a value.
    pub fn write_with<R>(
        &self,
        work: impl FnOnce(&mut dyn Tx) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        let mut work = Some(work);
        let mut out = None;
        self.write(&mut |tx| {
            if let Some(work) = work.take() {
                out = Some(work(tx)?);
            }
            Ok(())
        })?;
        out.ok_or_else(|| anyhow::anyhow!("the transaction ran no work"))
    }

    /// [`Storage::read`] for work that returns a value.
    pub fn read_with<R>(
        &self,
        work: impl FnOnce(&mut dyn Tx) -> anyhow::Result<R>,
    ) -> anyhow::Result<R> {
        let mut work = Some(work);
        let mut out = None;
        self.read(&mut |tx| {
            if let Some(work) = work.take() {
                out = Some(work(tx)?);
            }
            Ok(())
        })?;
        out.ok_or_else(|| anyhow::anyhow!("the transaction ran no work"))
    }
}
