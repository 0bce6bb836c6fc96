//! The agent's desk: what the app does for one signed-in agent.
//!
//! A [`Desk`] owns the agent's local store and the sync engine running over
//! it. Everything a screen shows is read from the local store, and every
//! action goes through the outbox (one transaction, then a wake-up for the
//! engine), so the desk works the same with the village link up or down.
//! The UI never talks to the network itself.
//!
//! Sign-in needs the platform; [`Desk::resume`] continues a saved session
//! without it, given the store's key (the [`crate::vault`] opens it with the
//! password, offline too). What the lock does to presence is in [`away`];
//! photos (attaching one to a reply, showing them) in `photos`.
//! The shapes the screens get are in `types`; every read and
//! write of the store goes through named functions of [`crate::store`]
//! (no SQL here). Time comes from the desk's clock, shared with its sync
//! engine ([`crate::clock`]).

pub mod away;
mod checks;
pub mod console;
mod photos;
mod types;

pub use types::{
    ConversationDetail, DeskEvent, QueueItem, QueueScope, ReplyField, ReplyTemplate, TransferAgent,
    TransferQueue, TransferTargets, render_reply,
};

use checks::check_action;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use homedesk_protocol::{
    Action, ActionEnvelope, AgentProfile, Author, CannedReply, ConversationStatus,
    MAX_MESSAGE_CHARS, PlaceholderKind, Presence, Script, TransferTarget, UnixMillis,
};
use rand::RngCore;
use tokio::sync::{broadcast, watch};

use crate::clock::SharedClock;
use crate::data_usage::DataUsage;
use crate::practice::ScoreReport;
use crate::practice::session::{PracticeChoice, PracticeMark, PracticeSession, PracticeStatus};
use crate::scripts::{self, ScriptChoice, ScriptContext};
use crate::search::{self, CannedHit, SearchHit, SearchOptions};
use crate::store::views::{self, ArticleView, ConflictView};
use crate::store::worklog::{self, MyDay, RecentArticle};
use crate::store::{Store, StoreError, outbox, reference, sync_state};
use crate::sync::{
    DeskTransport, HttpConfig, HttpTransport, SyncConfig, SyncEngine, SyncError, SyncEvent,
    Transport, TransportError,
};
use crate::vault::{StoreKey, Vault};
use crate::{ConnectionStatus, Error, clock, paths};

/// Where the platform is and how to trust it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformConfig {
    /// `https://host:port`.
    pub url: String,
    /// The platform's CA (PEM) when it is not signed by a public CA.
    pub ca_file: Option<PathBuf>,
    /// Development only: `http://` to a loopback address.
    pub allow_insecure_loopback: bool,
}

/// The agent's desk; see the module comment.
pub struct Desk {
    profile: AgentProfile,
    engine: Arc<SyncEngine<DeskTransport>>,
    stop: watch::Sender<bool>,
    /// Set on a practice desk (the sandbox): its simulated platform.
    practice: Option<PracticeSession>,
    /// Searches asked for so far; a search runs only while it is the last.
    searches: Arc<std::sync::atomic::AtomicU64>,
}

impl Desk {
    /// Signs in to the platform and starts syncing. Call inside a tokio
    /// runtime. A wrong password, an unreachable platform and an untrusted
    /// certificate each give their own [`Error`]. The store's key is sealed
    /// with the default key derivation ([`Desk::sign_in_with`] takes another).
    pub async fn sign_in(
        data_dir: &Path,
        platform: &PlatformConfig,
        device_id: &str,
        agent: &str,
        password: &str,
        clock: SharedClock,
    ) -> Result<Desk, Error> {
        let vault = Vault::default();
        let data = DataUsage::in_memory(clock.clone());
        Desk::sign_in_with(
            &vault, data_dir, platform, device_id, agent, password, clock, &data,
        )
        .await
    }

    /// [`Desk::sign_in`] with the vault that keeps the store's key: the
    /// platform checks the password first; then the key is opened with it
    /// (or with the device secret after a password reset, and resealed),
    /// or made for a new store, and a plain store of an older version is
    /// converted. Sessions ended while offline are then ended on the platform.
    /// Its bytes on the wire are counted in `data`.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_in_with(
        vault: &Vault,
        data_dir: &Path,
        platform: &PlatformConfig,
        device_id: &str,
        agent: &str,
        password: &str,
        clock: SharedClock,
        data: &Arc<DataUsage>,
    ) -> Result<Desk, Error> {
        let db = paths::agent_db(data_dir, agent)?;
        let transport = live_transport(platform, data)?;
        let request = homedesk_protocol::SignIn {
            agent: agent.to_owned(),
            password: password.to_owned(),
            device_id: device_id.to_owned(),
        };
        let session = transport.sign_in(&request).await.map_err(|err| match err {
            TransportError::Unauthorized(message) => {
                sign_in_error(SyncError::SignInNeeded(message))
            }
            other => sign_in_error(SyncError::Transport(other)),
        })?;
        if session.agent.code != agent {
            return Err(Error::Platform(format!(
                "signed in as {agent} but the platform answered for {}",
                session.agent.code
            )));
        }
        let key = vault.key_after_sign_in(
            &db,
            password,
            session.device_secret.as_deref(),
            &session.agent,
        )?;
        let store = crate::vault::open_agent_store(&db, &key).map_err(store_error)?;
        drop(key);
        let engine = new_engine(
            store,
            DeskTransport::Live(transport),
            device_id,
            clock,
            data,
        )?;
        let profile = engine
            .adopt_signed_in(session)
            .await
            .map_err(sign_in_error)?;
        if let Err(err) = engine.tell_ended_sessions().await {
            tracing::warn!("sessions ended offline are not told yet: {err}");
        }
        Ok(Desk::start(profile, engine))
    }

    /// Continues the session saved in this agent's store, with or without
    /// the platform; `key` is the store's (from [`crate::vault`]). `None`
    /// when there is no store or no saved session. Its bytes on the wire are
    /// counted in `data`.
    pub fn resume(
        data_dir: &Path,
        platform: &PlatformConfig,
        device_id: &str,
        agent: &str,
        key: &StoreKey,
        clock: SharedClock,
        data: &Arc<DataUsage>,
    ) -> Result<Option<Desk>, Error> {
        let db = paths::agent_db(data_dir, agent)?;
        if !db.exists() {
            return Ok(None);
        }
        let store = crate::vault::open_agent_store(&db, key).map_err(store_error)?;
        let transport = live_transport(platform, data)?;
        let engine = new_engine(
            store,
            DeskTransport::Live(transport),
            device_id,
            clock,
            data,
        )?;
        let session = engine
            .store()
            .read(sync_state::session)
            .map_err(store_error)?;
        Ok(session.map(|s| Desk::start(s.agent, engine)))
    }

    fn start(profile: AgentProfile, engine: Arc<SyncEngine<DeskTransport>>) -> Desk {
        let (stop, shutdown) = watch::channel(false);
        tokio::spawn(Arc::clone(&engine).run(shutdown));
        Desk {
            profile,
            engine,
            stop,
            practice: None,
            searches: Arc::default(),
        }
    }

    /// A practice desk: the sandbox's own database file (started afresh),
    /// the simulated customers of `choice` as its platform, no network at
    /// all; finished contacts are kept in `history` (the trainee's store).
    /// Call inside a tokio runtime.
    pub async fn practice(
        data_dir: &Path,
        history: Arc<Store>,
        content: &homedesk_content::ContentSet,
        choice: &PracticeChoice,
        trainee: (&str, &str),
        clock: SharedClock,
    ) -> Result<Desk, Error> {
        let session =
            PracticeSession::start(history, content, choice, trainee, Arc::clone(&clock))?;
        let db = crate::practice::session::fresh_working_db(data_dir)?;
        // A key made for this session and never kept: the working file is
        // unreadable once the app closes (it is started afresh anyway).
        let store = Arc::new(Store::open(&db, &StoreKey::random()).map_err(store_error)?);
        let mut config = SyncConfig::new("practice");
        config.clock = clock;
        let engine = SyncEngine::new(
            store,
            DeskTransport::Practice(session.transport.clone()),
            config,
        )
        .map_err(|e| Error::Sync(e.to_string()))?;
        let profile = engine
            .sign_in(trainee.0, "")
            .await
            .map_err(|e| Error::Sync(e.to_string()))?;
        let mut desk = Desk::start(profile, engine);
        desk.practice = Some(session);
        Ok(desk)
    }

    /// This desk is the sandbox.
    pub fn is_practice(&self) -> bool {
        self.practice.is_some()
    }

    pub fn practice_status(&self) -> PracticeStatus {
        self.practice
            .as_ref()
            .map_or_else(PracticeStatus::inactive, PracticeSession::status)
    }

    /// A practice contact's score report (kept in the history once over).
    pub fn practice_report(&self, conversation_id: &str) -> Result<Option<ScoreReport>, Error> {
        let Some(session) = &self.practice else {
            return Ok(None);
        };
        let mut report = session.report(conversation_id)?;
        if let Some(report) = report.as_mut()
            && let Some(id) = report.helpful_article.clone()
        {
            let article = self
                .store()
                .read(|c| views::article(c, &id))
                .map_err(store_error)?;
            report.helpful_article_title = article.map(|a| a.title);
        }
        Ok(report)
    }

    /// Tells the practice customer what the trainee used; nothing on a
    /// live desk.
    pub fn practice_mark(&self, conversation_id: &str, mark: &PracticeMark) {
        if let Some(session) = &self.practice {
            session.mark(conversation_id, mark);
        }
    }

    pub fn profile(&self) -> &AgentProfile {
        &self.profile
    }

    pub fn engine(&self) -> &Arc<SyncEngine<DeskTransport>> {
        &self.engine
    }

    fn store(&self) -> &Store {
        self.engine.store()
    }

    /// The desk's clock (shared with its sync engine and, in practice, the
    /// simulated customers).
    pub fn clock(&self) -> &SharedClock {
        self.engine.clock()
    }

    fn now_ms(&self) -> UnixMillis {
        self.clock().now_ms()
    }

    /// The store this desk reads and writes (shared with its engine).
    pub(crate) fn shared_store(&self) -> &Arc<Store> {
        self.engine.store()
    }

    /// Stops syncing, ends the session on the platform (or, offline, keeps
    /// it to be ended at the next sign-in) and forgets it; unsent actions
    /// stay in the outbox and go out after the next sign-in.
    pub async fn sign_out(&self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        self.engine
            .sign_out()
            .await
            .map_err(|e| Error::Sync(e.to_string()))?;
        Ok(())
    }

    pub fn status(&self) -> ConnectionStatus {
        self.engine.status()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SyncEvent> {
        self.engine.subscribe()
    }

    /// The queue view: most urgent first (first-response deadline for
    /// unanswered contacts, then the newest activity). Every open or
    /// waiting conversation is read, however old; resolved ones never.
    pub fn queue(&self, scope: QueueScope) -> Result<Vec<QueueItem>, Error> {
        let me = self.profile.code.as_str();
        let queues = self.profile.queues.clone();
        self.store()
            .read(|c| {
                let conversations = views::open_conversations(c)?;
                let mut items = Vec::new();
                for conv in conversations {
                    let mine = conv.assigned_to.as_deref() == Some(me)
                        && conv.status != ConversationStatus::Resolved;
                    let unassigned = conv.assigned_to.is_none()
                        && conv.status == ConversationStatus::Queued
                        && queues.contains(&conv.queue);
                    let wanted = match scope {
                        QueueScope::Mine => mine,
                        QueueScope::Unassigned => unassigned,
                        QueueScope::All => mine || unassigned,
                    };
                    if !wanted {
                        continue;
                    }
                    let customer_name = reference::customer_name(c, &conv.customer_id)?;
                    let pending_actions = outbox::pending_for_conversation(c, &conv.id)?;
                    items.push(QueueItem {
                        id: conv.id,
                        channel: conv.channel,
                        queue: conv.queue,
                        subject: conv.subject,
                        customer_name,
                        status: conv.status,
                        assigned_to: conv.assigned_to,
                        priority: conv.priority,
                        created_at: conv.created_at,
                        last_message_at: conv.last_message_at,
                        last_message_preview: conv.last_message_preview,
                        first_response_due: conv.first_response_due,
                        first_response_at: conv.first_response_at,
                        resolve_due: conv.resolve_due,
                        pending_actions,
                    });
                }
                items.sort_by_key(|i| {
                    let due = if i.first_response_at.is_none() {
                        i.first_response_due
                    } else {
                        i.resolve_due
                    };
                    (due, std::cmp::Reverse(i.last_message_at))
                });
                Ok::<_, StoreError>(items)
            })
            .map_err(store_error)
    }

    /// Conversations assigned to me and not wrapped up, and replies not yet
    /// with the platform: what stops the app from restarting for an update.
    pub fn unfinished_work(&self) -> Result<(usize, usize), Error> {
        let open = self.queue(QueueScope::Mine)?.len();
        let replies = self
            .store()
            .read(outbox::pending_replies)
            .map_err(store_error)?;
        Ok((open, replies as usize))
    }

    pub fn conversation(&self, id: &str) -> Result<Option<ConversationDetail>, Error> {
        self.store()
            .read(|c| {
                let Some(conversation) = views::conversation(c, id)? else {
                    return Ok(None);
                };
                let customer = reference::customer(c, &conversation.customer_id)?;
                Ok::<_, StoreError>(Some(ConversationDetail {
                    messages: views::messages(c, id)?,
                    draft: views::draft(c, id)?,
                    draft_attachments: crate::store::attachments::draft_attachments(c, id)?,
                    customer,
                    conversation,
                }))
            })
            .map_err(store_error)
    }

    /// A conversation to read, on this PC or not: the local copy when the
    /// sync scope keeps it here, else the platform's (older history, a
    /// colleague's, opened from the customer's past contacts), read over
    /// the link and not stored (docs/decisions/0035-sync-scope.md). Offline,
    /// a conversation that is not here is [`Error::Unreachable`]; one the
    /// platform does not have or will not show is [`Error::NotFound`].
    pub async fn open_conversation(&self, id: &str) -> Result<ConversationDetail, Error> {
        if id.is_empty() || id.chars().count() > 128 {
            return Err(Error::InvalidAction(
                "a conversation id is 1 to 128 characters".into(),
            ));
        }
        if let Some(here) = self.conversation(id)? {
            return Ok(here);
        }
        let record = self
            .engine
            .fetch_conversation(id)
            .await
            .map_err(|err| match err {
                SyncError::Transport(TransportError::Refused {
                    status: 403 | 404,
                    message,
                    ..
                }) => Error::NotFound(message),
                other => sign_in_error(other),
            })?;
        if record.conversation.id != id {
            return Err(Error::Platform(format!(
                "asked for conversation {id}, the platform answered with {}",
                record.conversation.id
            )));
        }
        // The text a refusal gave back may be here without the
        // conversation (see `store::records`, deleting a conversation).
        let draft = self
            .store()
            .read(|c| views::draft(c, id))
            .map_err(store_error)?;
        Ok(ConversationDetail {
            conversation: record.conversation,
            customer: record.customer,
            messages: record
                .messages
                .into_iter()
                .map(|message| crate::store::views::ThreadMessage {
                    message,
                    pending: false,
                })
                .collect(),
            draft,
            draft_attachments: Vec::new(),
        })
    }

    /// Takes an agent action: checked here first (so an obviously invalid
    /// one never waits in the outbox), saved with its effect in one
    /// transaction, then the engine is woken to deliver it.
    pub fn act(&self, action: Action) -> Result<ActionEnvelope, Error> {
        check_action(&action)?;
        let me = self.profile.code.clone();
        let envelope = self
            .store()
            .write(|tx| outbox::enqueue(tx, &me, action, self.now_ms()))
            .map_err(store_error)?;
        self.engine.publish_status();
        self.engine.announce_local_change();
        self.engine.wake();
        Ok(envelope)
    }

    /// Available, busy, on break or offline: what the platform routes by.
    /// The latest choice still in the outbox counts, else the platform's.
    pub fn presence(&self) -> Result<Presence, Error> {
        let me = self.profile.code.clone();
        let fallback = self.profile.presence;
        self.store()
            .read(|c| {
                if let Some(presence) = outbox::pending_presence(c)? {
                    return Ok(presence);
                }
                Ok::<_, StoreError>(
                    reference::agent_profile(c, &me)?.map_or(fallback, |p| p.presence),
                )
            })
            .map_err(store_error)
    }

    /// Writes an internal note: agents only, never sent to the customer.
    pub fn note(&self, conversation_id: &str, body: &str) -> Result<ActionEnvelope, Error> {
        self.act(Action::InternalNote {
            conversation_id: conversation_id.to_owned(),
            message_id: new_message_id(),
            body: body.to_owned(),
        })
    }

    /// Replies to the customer; the message id is chosen here.
    pub fn reply(&self, conversation_id: &str, body: &str) -> Result<ActionEnvelope, Error> {
        self.act(Action::Reply {
            conversation_id: conversation_id.to_owned(),
            message_id: new_message_id(),
            body: body.to_owned(),
            attachments: Vec::new(),
        })
    }

    /// Resolves a conversation with a disposition code (and an optional
    /// note); the platform keeps the note and the after-contact work.
    pub fn wrap_up(
        &self,
        conversation_id: &str,
        disposition: &str,
        note: Option<String>,
        after_contact_secs: i64,
    ) -> Result<ActionEnvelope, Error> {
        self.act(Action::WrapUp {
            conversation_id: conversation_id.to_owned(),
            disposition: disposition.to_owned(),
            note: note.filter(|n| !n.trim().is_empty()),
            after_contact_secs,
        })
    }

    /// Logs a call made from the call screen (workstation clock) for the
    /// platform to keep.
    pub fn log_call(
        &self,
        conversation_id: &str,
        started_at: UnixMillis,
        ended_at: UnixMillis,
    ) -> Result<ActionEnvelope, Error> {
        self.act(Action::CallLog {
            conversation_id: conversation_id.to_owned(),
            started_at,
            ended_at,
        })
    }

    pub fn save_draft(&self, conversation_id: &str, body: &str) -> Result<(), Error> {
        if body.chars().count() > MAX_MESSAGE_CHARS {
            return Err(Error::InvalidAction(format!(
                "a message has at most {MAX_MESSAGE_CHARS} characters"
            )));
        }
        self.store()
            .write(|tx| views::save_draft(tx, conversation_id, body, self.now_ms()))
            .map_err(store_error)
    }

    /// Refused actions the agent has not dismissed yet, newest first.
    pub fn conflicts(&self) -> Result<Vec<ConflictView>, Error> {
        self.store()
            .read(|c| {
                views::conflicts(c)?
                    .into_iter()
                    .map(|conflict| views::conflict_view(c, conflict))
                    .collect()
            })
            .map_err(store_error)
    }

    pub fn dismiss_conflict(&self, id: i64) -> Result<bool, Error> {
        self.store()
            .write(|tx| views::dismiss_conflict(tx, id, self.now_ms()))
            .map_err(store_error)
    }

    /// Knowledge-base search, as the agent types: a search asked for while
    /// an older one runs or waits makes the older one stop with
    /// [`Error::Superseded`] (see [`Desk::searching`]).
    pub fn search_articles(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, Error> {
        let options = SearchOptions {
            limit,
            locale: None,
        };
        self.searching(|c| search::search_articles(c, query, &options))
    }

    /// Runs a search of the store, which a later call supersedes: the
    /// older one is skipped if it has not started, interrupted if it has.
    fn searching<T>(
        &self,
        search: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, Error> {
        use std::sync::atomic::Ordering;
        let ticket = self.searches.fetch_add(1, Ordering::SeqCst) + 1;
        let searches = Arc::clone(&self.searches);
        let superseded = move || searches.load(Ordering::SeqCst) != ticket;
        self.store()
            .read(|c| search::unless_superseded(c, superseded, search))
            .map_err(|e| store_error(StoreError::Sql(e)))?
            .ok_or(Error::Superseded)
    }

    /// One article; opening it puts it first in "recently viewed".
    pub fn article(&self, id: &str) -> Result<Option<ArticleView>, Error> {
        self.store()
            .write(|tx| {
                let article = views::article(tx, id)?;
                if article.is_some() {
                    worklog::note_article_opened(tx, id, self.now_ms())?;
                }
                Ok::<_, StoreError>(article)
            })
            .map_err(store_error)
    }

    pub fn recent_articles(&self, limit: usize) -> Result<Vec<RecentArticle>, Error> {
        self.store()
            .read(|c| worklog::recent_articles(c, limit.clamp(1, 50)))
            .map_err(store_error)
    }

    /// Today's figures (the workstation's local day).
    pub fn my_day(&self) -> Result<MyDay, Error> {
        let (start, end) = clock::local_day(self.now_ms());
        self.store()
            .read(|c| worklog::my_day(c, start, end))
            .map_err(store_error)
    }

    /// Guided call scripts for a conversation in `locale` (all scripts when
    /// none is written in it), suggested ones first.
    pub fn scripts(&self, conversation_id: &str, locale: &str) -> Result<Vec<ScriptChoice>, Error> {
        let detail = self.conversation(conversation_id)?.ok_or_else(|| {
            Error::InvalidAction(format!("no conversation {conversation_id:?} here"))
        })?;
        let all = self.store().read(reference::scripts).map_err(store_error)?;
        let (mine, others): (Vec<Script>, Vec<Script>) =
            all.into_iter().partition(|s| s.locale == locale);
        let scripts = if mine.is_empty() { others } else { mine };
        let conversation = &detail.conversation;
        let mut texts = vec![conversation.subject.as_str()];
        texts.extend(
            detail
                .messages
                .iter()
                .filter(|m| m.message.author == Author::Customer)
                .map(|m| m.message.body.as_str()),
        );
        let latest_order = detail
            .customer
            .as_ref()
            .and_then(|c| c.orders.iter().max_by_key(|o| o.placed_at));
        let context = ScriptContext {
            category: conversation.category.as_deref(),
            texts,
            values: vec![
                (
                    "customer_name",
                    detail
                        .customer
                        .as_ref()
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                ),
                ("agent_name", self.profile.name.clone()),
                (
                    "order_no",
                    latest_order.map(|o| o.order_no.clone()).unwrap_or_default(),
                ),
            ],
        };
        Ok(scripts::choose(scripts, &context))
    }

    /// The queues and colleagues a conversation can be transferred to.
    pub fn transfer_targets(&self) -> Result<TransferTargets, Error> {
        let me = self.profile.code.clone();
        self.store()
            .read(|c| {
                let queues = reference::queues(c)?
                    .into_iter()
                    .map(|queue| TransferQueue {
                        id: queue.id,
                        name_zh: queue.name_zh,
                        name_en: queue.name_en,
                    })
                    .collect();
                let agents = reference::agent_profiles(c)?
                    .into_iter()
                    .filter(|agent| agent.code != me && agent.role.works_live())
                    .map(|agent| TransferAgent {
                        code: agent.code,
                        name: agent.name,
                        presence: agent.presence,
                    })
                    .collect();
                Ok::<_, StoreError>(TransferTargets { queues, agents })
            })
            .map_err(store_error)
    }

    /// Hands a conversation to a queue or a colleague; it leaves "mine" at
    /// once and the platform gets the transfer when online.
    pub fn transfer(
        &self,
        conversation_id: &str,
        target: TransferTarget,
    ) -> Result<ActionEnvelope, Error> {
        let targets = self.transfer_targets()?;
        let known = match &target {
            TransferTarget::Queue(id) => targets.queues.iter().any(|q| &q.id == id),
            TransferTarget::Agent(code) => {
                if code == &self.profile.code {
                    return Err(Error::InvalidAction(
                        "this conversation is already yours; choose a colleague or a queue".into(),
                    ));
                }
                targets.agents.iter().any(|a| &a.code == code)
            }
        };
        if !known {
            return Err(Error::InvalidAction(format!(
                "no such queue or colleague: {target:?}"
            )));
        }
        self.act(Action::Transfer {
            conversation_id: conversation_id.to_owned(),
            target,
        })
    }

    /// My unanswered conversations whose first-response deadline (platform
    /// clock) falls within `within_ms` from now, or has just passed.
    pub fn sla_at_risk(&self, within_ms: i64) -> Result<Vec<QueueItem>, Error> {
        let now = self.engine.server_now();
        Ok(self
            .queue(QueueScope::Mine)?
            .into_iter()
            .filter(|i| i.first_response_at.is_none() && i.first_response_due - now <= within_ms)
            .collect())
    }

    pub fn search_canned_replies(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<CannedHit>, Error> {
        let options = SearchOptions {
            limit,
            locale: None,
        };
        self.searching(|c| search::search_canned_replies(c, query, &options))
    }

    /// A canned reply with its fields prefilled from `conversation_id`'s
    /// customer and latest order, and the agent's own name.
    pub fn reply_template(
        &self,
        canned_id: &str,
        conversation_id: Option<&str>,
    ) -> Result<Option<ReplyTemplate>, Error> {
        let Some(reply) = self.canned_reply(canned_id)? else {
            return Ok(None);
        };
        let customer = match conversation_id {
            Some(id) => self.conversation(id)?.and_then(|d| d.customer),
            None => None,
        };
        let latest_order = customer
            .as_ref()
            .and_then(|c| c.orders.iter().max_by_key(|o| o.placed_at));
        let fields = reply
            .placeholders
            .iter()
            .map(|p| {
                let known = match (p.name.as_str(), p.kind) {
                    ("agent_name", _) => Some(self.profile.name.clone()),
                    ("customer_name", _) => customer.as_ref().map(|c| c.name.clone()),
                    (_, PlaceholderKind::OrderNo) => latest_order.map(|o| o.order_no.clone()),
                    (_, PlaceholderKind::Amount) => latest_order
                        .map(|o| format!("{}.{:02}", o.amount_fen / 100, o.amount_fen % 100)),
                    _ => None,
                };
                ReplyField {
                    name: p.name.clone(),
                    kind: p.kind,
                    required: p.required,
                    value: known
                        .filter(|v| !v.is_empty())
                        .or_else(|| p.fallback.clone())
                        .unwrap_or_default(),
                }
            })
            .collect();
        Ok(Some(ReplyTemplate {
            id: reply.id,
            title: reply.title,
            shortcut: reply.shortcut,
            body: reply.body,
            fields,
            attachment: reply.attachment,
        }))
    }

    pub fn canned_reply(&self, id: &str) -> Result<Option<CannedReply>, Error> {
        self.store()
            .read(|c| reference::canned_reply(c, id))
            .map_err(store_error)
    }
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("agent", &self.profile.code)
            .field("status", &self.engine.status())
            .finish_non_exhaustive()
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn live_transport(platform: &PlatformConfig, data: &DataUsage) -> Result<HttpTransport, Error> {
    let mut http = HttpConfig::new(platform.url.clone());
    http.meter = Arc::clone(data.meter());
    http.ca_file.clone_from(&platform.ca_file);
    http.allow_insecure_loopback = platform.allow_insecure_loopback;
    HttpTransport::new(&http).map_err(|e| Error::Platform(e.to_string()))
}

fn new_engine(
    store: Store,
    transport: DeskTransport,
    device_id: &str,
    clock: SharedClock,
    data: &Arc<DataUsage>,
) -> Result<Arc<SyncEngine<DeskTransport>>, Error> {
    let mut config = SyncConfig::new(device_id);
    config.clock = clock;
    config.data = Some(Arc::clone(data));
    SyncEngine::new(Arc::new(store), transport, config).map_err(|e| Error::Sync(e.to_string()))
}

fn sign_in_error(err: SyncError) -> Error {
    match err {
        SyncError::SignInNeeded(message) => Error::WrongPassword(message),
        SyncError::Transport(TransportError::Certificate(detail)) => {
            Error::UntrustedCertificate(detail)
        }
        SyncError::Transport(TransportError::TooManyAttempts {
            retry_after_secs, ..
        }) => Error::TooManyAttempts { retry_after_secs },
        SyncError::Transport(
            e @ (TransportError::Unreachable(_) | TransportError::Server { .. }),
        ) => Error::Unreachable(e.to_string()),
        SyncError::Transport(other) => Error::Platform(other.to_string()),
        SyncError::Store(e) => store_error(e),
    }
}

/// A store error as the agent hears it: a store that does not open with its
/// key is [`Error::StoreLocked`] (nothing was changed), the rest storage.
pub(crate) fn store_error(err: StoreError) -> Error {
    match err {
        StoreError::Locked { path } => Error::StoreLocked(path),
        other => Error::Store(other.to_string()),
    }
}

fn new_message_id() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("msg-{hex}")
}
