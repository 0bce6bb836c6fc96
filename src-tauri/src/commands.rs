//! Tauri commands: one-line adapters from IPC to `homedesk-core` use-cases.
//!
//! Each takes the managed [`Workstation`], calls one use-case and returns its
//! result; `?` turns a core error into the boundary shape [`ErrorBody`]. No
//! business rules here. Adding a command means: write it here and add its
//! name to `command_list.rs`; the build, the shell tests and the TypeScript
//! host check follow from that list (docs/development.md, "Adding a command").

use homedesk_core::desk::{
    ConversationDetail, QueueItem, QueueScope, ReplyTemplate, TransferTargets,
};
use homedesk_core::host::DeskStarted;
use homedesk_core::practice::ScoreReport;
use homedesk_core::practice::session::{
    PracticeCatalog, PracticeChoice, PracticeMark, PracticeResult, PracticeStatus,
};
use homedesk_core::scripts::ScriptChoice;
use homedesk_core::search::{CannedHit, SearchHit};
use homedesk_core::settings::Preferences;
use homedesk_core::store::views::{ArticleView, ConflictView};
use homedesk_core::store::worklog::{MyDay, RecentArticle};
use homedesk_core::updates::{UpdateStatus, Updates};
use homedesk_core::{
    AppInfo, ConnectionStatus, Error, ErrorBody, KnownAgent, SignInDefaults, SignedInAgent,
    UnlockAnswer, Workstation,
};
use homedesk_protocol::{Action, Attachment, Presence, TransferTarget};

use crate::command_list::with_commands;
use crate::notifier::Focus;
use tauri::ipc::{Invoke, InvokeBody, Request};
use tauri::{AppHandle, Runtime, State};

/// The invoke handler: every command of `command_list.rs`, each routed to
/// the function of that name below (a listed name without one does not
/// compile).
pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    macro_rules! handler {
        ($($name:ident),* $(,)?) => {
            tauri::generate_handler![$($name),*]
        };
    }
    with_commands!(handler)
}

#[tauri::command]
pub fn app_info(workstation: State<'_, Workstation>) -> AppInfo {
    workstation.app_info()
}

#[tauri::command]
pub fn set_locale(
    workstation: State<'_, Workstation>,
    locale: String,
) -> Result<AppInfo, ErrorBody> {
    Ok(workstation.set_locale(&locale)?)
}

#[tauri::command]
pub fn connection_status(workstation: State<'_, Workstation>) -> ConnectionStatus {
    workstation.connection_status()
}

#[tauri::command]
pub fn sign_in_defaults(workstation: State<'_, Workstation>) -> SignInDefaults {
    workstation.sign_in_defaults()
}

/// The agent who is signed in, if any (a saved session is resumed at start).
#[tauri::command]
pub fn signed_in(workstation: State<'_, Workstation>) -> Option<SignedInAgent> {
    workstation.signed_in()
}

#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    workstation: State<'_, Workstation>,
    platform_url: String,
    agent: String,
    password: String,
) -> Result<SignedInAgent, ErrorBody> {
    let signed_in = workstation
        .sign_in(&platform_url, &agent, &password)
        .await?;
    crate::events::desk_started(&app, DeskStarted::SignedIn);
    Ok(signed_in)
}

#[tauri::command]
pub async fn sign_out(workstation: State<'_, Workstation>) -> Result<(), ErrorBody> {
    Ok(workstation.sign_out().await?)
}

#[tauri::command]
pub fn queue(
    workstation: State<'_, Workstation>,
    scope: QueueScope,
) -> Result<Vec<QueueItem>, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.queue(scope)?)
}

#[tauri::command]
pub fn claim(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.act(Action::Claim { conversation_id })?;
    Ok(())
}

#[tauri::command]
pub fn conversation(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<Option<ConversationDetail>, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.conversation(&conversation_id)?)
}

/// A conversation wherever it is: this PC's copy, else the platform's
/// (older history outside the sync scope, read over the link and not
/// stored); `unreachable` offline, `not_found` when the platform has none
/// this agent may read.
#[tauri::command]
pub async fn open_conversation(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<ConversationDetail, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.open_conversation(&conversation_id).await?)
}

/// A reply with the composer's photos named in `attachments` (ids).
#[tauri::command]
pub fn reply(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    body: String,
    attachments: Vec<String>,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.reply_with_photos(&conversation_id, &body, &attachments)?;
    Ok(())
}

/// The header naming the conversation of a photo sent as a raw body.
const CONVERSATION_HEADER: &str = "homedesk-conversation";

/// Attaches a photo to the reply being written: the file's bytes are the
/// raw request body (no JSON of 5 MB), the conversation is named in the
/// `Homedesk-Conversation` header.
#[tauri::command]
pub fn attach_photo(
    workstation: State<'_, Workstation>,
    request: Request<'_>,
) -> Result<Attachment, ErrorBody> {
    let conversation_id = request
        .headers()
        .get(CONVERSATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(Error::InvalidAction("send the photo's bytes as the raw body".into()).into());
    };
    let desk = workstation.desk()?;
    Ok(desk.attach_photo(conversation_id, bytes)?)
}

/// Attaches a canned reply's photo (a size chart) to the reply being written.
#[tauri::command]
pub fn attach_canned_photo(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    canned_id: String,
) -> Result<Attachment, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.attach_canned_photo(&conversation_id, &canned_id)?)
}

/// Takes a photo off the reply being written.
#[tauri::command]
pub fn remove_photo(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    photo_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.remove_photo(&conversation_id, &photo_id)?)
}

#[tauri::command]
pub fn save_draft(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    body: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.save_draft(&conversation_id, &body)?)
}

#[tauri::command]
pub fn wrap_up(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    disposition: String,
    note: Option<String>,
    after_contact_secs: i64,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.wrap_up(&conversation_id, &disposition, note, after_contact_secs)?;
    Ok(())
}

/// A call made from the call screen, for the platform to keep.
#[tauri::command]
pub fn log_call(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    started_at: i64,
    ended_at: i64,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.log_call(&conversation_id, started_at, ended_at)?;
    Ok(())
}

/// Knowledge-base search (Chinese, pinyin, English), from the local store.
/// Async, off the main thread, so that the next keystroke's search can
/// start at once and supersede this one (`superseded`) instead of queueing.
#[tauri::command]
pub async fn search_articles(
    workstation: State<'_, Workstation>,
    query: String,
    limit: usize,
) -> Result<Vec<SearchHit>, ErrorBody> {
    let desk = workstation.desk()?;
    off_main_thread(move || desk.search_articles(&query, limit)).await
}

/// Runs a blocking read of the store on tokio's blocking threads.
async fn off_main_thread<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, homedesk_core::Error> + Send + 'static,
) -> Result<T, ErrorBody> {
    match tauri::async_runtime::spawn_blocking(read).await {
        Ok(result) => Ok(result?),
        Err(join) => Err(homedesk_core::Error::Store(format!("the search stopped: {join}")).into()),
    }
}

/// One article, its body as sanitized HTML.
#[tauri::command]
pub fn article(
    workstation: State<'_, Workstation>,
    article_id: String,
) -> Result<Option<ArticleView>, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.article(&article_id)?)
}

/// Gives a conversation back to its queue.
#[tauri::command]
pub fn release(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.act(Action::Release { conversation_id })?;
    Ok(())
}

/// Canned replies by title, shortcut or pinyin (the composer's `/` menu).
#[tauri::command]
pub async fn search_canned_replies(
    workstation: State<'_, Workstation>,
    query: String,
    limit: usize,
) -> Result<Vec<CannedHit>, ErrorBody> {
    let desk = workstation.desk()?;
    off_main_thread(move || desk.search_canned_replies(&query, limit)).await
}

/// A canned reply with its fields prefilled from the conversation.
#[tauri::command]
pub fn reply_template(
    workstation: State<'_, Workstation>,
    canned_id: String,
    conversation_id: Option<String>,
) -> Result<Option<ReplyTemplate>, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.reply_template(&canned_id, conversation_id.as_deref())?)
}

/// Available, busy, on break or offline (the latest choice counts at once).
#[tauri::command]
pub fn presence(workstation: State<'_, Workstation>) -> Result<Presence, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.presence()?)
}

#[tauri::command]
pub fn set_presence(
    workstation: State<'_, Workstation>,
    presence: Presence,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.act(Action::Presence { presence })?;
    Ok(())
}

/// An internal note: agents only, never sent to the customer.
#[tauri::command]
pub fn note(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    body: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.note(&conversation_id, &body)?;
    Ok(())
}

/// Takes a contact the platform offered (before it expires).
#[tauri::command]
pub fn accept_offer(
    workstation: State<'_, Workstation>,
    offer_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.act(Action::AcceptOffer { offer_id })?;
    Ok(())
}

/// Passes on an offered contact; the platform offers it to someone else.
#[tauri::command]
pub fn decline_offer(
    workstation: State<'_, Workstation>,
    offer_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.act(Action::DeclineOffer { offer_id })?;
    Ok(())
}

/// Guided call scripts for a conversation, suggested ones first.
#[tauri::command]
pub fn scripts(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<Vec<ScriptChoice>, ErrorBody> {
    let desk = workstation.desk()?;
    let locale = workstation.app_info().locale;
    Ok(desk.scripts(&conversation_id, locale.tag())?)
}

#[tauri::command]
pub fn transfer_targets(workstation: State<'_, Workstation>) -> Result<TransferTargets, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.transfer_targets()?)
}

/// Hands a conversation to a queue or a colleague.
#[tauri::command]
pub fn transfer(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    target: TransferTarget,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.transfer(&conversation_id, target)?;
    Ok(())
}

/// The supervisor's team view: live, else the last one kept on this PC.
#[tauri::command]
pub async fn console_team(
    workstation: State<'_, Workstation>,
) -> Result<homedesk_core::desk::console::Snapshot<homedesk_protocol::TeamView>, ErrorBody> {
    let desk = workstation.desk()?;
    let offset = homedesk_core::desk::console::local_utc_offset_minutes();
    Ok(desk.console_team(offset).await?)
}

/// Trainees' practice progress: live, else the last one kept on this PC.
#[tauri::command]
pub async fn console_trainees(
    workstation: State<'_, Workstation>,
) -> Result<homedesk_core::desk::console::TraineesSnapshot, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.console_trainees().await?)
}

/// Per agent and per day, `from` to `to` (`YYYY-MM-DD`, this PC's days).
#[tauri::command]
pub async fn console_reports(
    workstation: State<'_, Workstation>,
    from: String,
    to: String,
) -> Result<homedesk_protocol::Reports, ErrorBody> {
    let desk = workstation.desk()?;
    let offset = homedesk_core::desk::console::local_utc_offset_minutes();
    Ok(desk.console_reports(&from, &to, offset).await?)
}

/// Saves the report as CSV in the Downloads folder; returns the file's path.
#[tauri::command]
pub async fn console_export_reports(
    workstation: State<'_, Workstation>,
    from: String,
    to: String,
) -> Result<String, ErrorBody> {
    let desk = workstation.desk()?;
    let offset = homedesk_core::desk::console::local_utc_offset_minutes();
    let folder = homedesk_core::desk::console::reports_folder()?;
    let path = desk
        .console_export_reports(&from, &to, offset, &folder)
        .await?;
    Ok(path.display().to_string())
}

/// Promotes a trainee with a passed exam to agent with `queues`.
#[tauri::command]
pub async fn console_promote(
    workstation: State<'_, Workstation>,
    trainee: String,
    queues: Vec<String>,
) -> Result<homedesk_protocol::RoleChange, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.console_promote(&trainee, queues).await?)
}

/// A supervisor sets an agent of their queues away (or back).
#[tauri::command]
pub fn set_agent_presence(
    workstation: State<'_, Workstation>,
    agent: String,
    presence: Presence,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.set_agent_presence(&agent, presence)?;
    Ok(())
}

#[tauri::command]
pub fn my_day(workstation: State<'_, Workstation>) -> Result<MyDay, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.my_day()?)
}

#[tauri::command]
pub fn preferences(workstation: State<'_, Workstation>) -> Preferences {
    workstation.preferences()
}

#[tauri::command]
pub fn set_preferences(
    workstation: State<'_, Workstation>,
    preferences: Preferences,
) -> Result<Preferences, ErrorBody> {
    Ok(workstation.set_preferences(preferences)?)
}

/// Fetches the knowledge-base update that waits on a metered link.
#[tauri::command]
pub fn allow_kb_update(workstation: State<'_, Workstation>) {
    workstation.allow_bulk_update();
}

/// Turns the screen lock on (idle time reached, or the agent chose to).
#[tauri::command]
pub fn lock(workstation: State<'_, Workstation>) -> Result<(), ErrorBody> {
    Ok(workstation.lock()?)
}

/// Opens the lock of the agent on screen with their password, offline: the
/// screen lock, or at start their encrypted store, whose desk then starts
/// (its events reach the window as after a sign-in). Wrong passwords are
/// counted and throttled by the core (`retryAfterMs`).
#[tauri::command]
pub async fn unlock<R: Runtime>(
    app: AppHandle<R>,
    password: String,
) -> Result<UnlockAnswer, ErrorBody> {
    Ok(crate::events::unlock(&app, None, &password)?)
}

/// After 换人: opens the store of another agent known on this PC, offline.
#[tauri::command]
pub async fn unlock_as<R: Runtime>(
    app: AppHandle<R>,
    agent: String,
    password: String,
) -> Result<UnlockAnswer, ErrorBody> {
    Ok(crate::events::unlock(&app, Some(&agent), &password)?)
}

/// 换人: closes the desk on screen (sync stops, the store closes, its key is
/// forgotten); nobody is signed in afterwards.
#[tauri::command]
pub fn switch_user(workstation: State<'_, Workstation>) -> Result<(), ErrorBody> {
    Ok(workstation.switch_user()?)
}

/// The agents with data on this PC, for the 换人 screen.
#[tauri::command]
pub fn known_agents(workstation: State<'_, Workstation>) -> Vec<KnownAgent> {
    workstation.known_agents()
}

/// The conversation in front of the agent: its messages raise no
/// notification while the window has the focus.
#[tauri::command]
pub fn set_focused_conversation(focus: State<'_, Focus>, conversation_id: Option<String>) {
    focus.set(conversation_id);
}

/// Opens a web address from an article in the system browser (the UI asked
/// the agent first); any other kind of address is refused.
#[tauri::command]
pub fn open_link(address: String) -> Result<(), ErrorBody> {
    let url = homedesk_core::links::external_link(&address)?;
    Ok(crate::links::open_in_browser(&url)?)
}

/// Refused actions not yet dismissed.
#[tauri::command]
pub fn conflicts(workstation: State<'_, Workstation>) -> Result<Vec<ConflictView>, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.conflicts()?)
}

#[tauri::command]
pub fn dismiss_conflict(workstation: State<'_, Workstation>, id: i64) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.dismiss_conflict(id)?;
    Ok(())
}

/// Articles opened most recently first.
#[tauri::command]
pub fn recent_articles(
    workstation: State<'_, Workstation>,
    limit: usize,
) -> Result<Vec<RecentArticle>, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.recent_articles(limit)?)
}

/// The practice scenarios and packs, in the interface language.
#[tauri::command]
pub fn practice_catalog(workstation: State<'_, Workstation>) -> Result<PracticeCatalog, ErrorBody> {
    Ok(workstation.practice_catalog()?)
}

/// Switches to the sandbox (signed in or not; no platform needed).
#[tauri::command]
pub async fn start_practice<R: Runtime>(
    app: AppHandle<R>,
    workstation: State<'_, Workstation>,
    choice: PracticeChoice,
) -> Result<SignedInAgent, ErrorBody> {
    let agent = workstation.start_practice(&choice).await?;
    crate::events::desk_started(&app, DeskStarted::Practice);
    Ok(agent)
}

/// Leaves the sandbox: back to the live agent, or to the sign-in screen.
#[tauri::command]
pub fn stop_practice(workstation: State<'_, Workstation>) -> Option<SignedInAgent> {
    workstation.stop_practice()
}

#[tauri::command]
pub fn practice_status(workstation: State<'_, Workstation>) -> Result<PracticeStatus, ErrorBody> {
    let desk = workstation.desk()?;
    Ok(desk.practice_status())
}

/// A practice contact's score report (saved to the history once over).
#[tauri::command]
pub fn practice_report<R: Runtime>(
    app: AppHandle<R>,
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<Option<ScoreReport>, ErrorBody> {
    let desk = workstation.desk()?;
    let report = desk.practice_report(&conversation_id)?;
    crate::events::report_read(&app, report.as_ref());
    Ok(report)
}

#[tauri::command]
pub fn practice_history(
    workstation: State<'_, Workstation>,
) -> Result<Vec<PracticeResult>, ErrorBody> {
    Ok(workstation.practice_history()?)
}

/// An article or script step the trainee used, for the practice customer.
#[tauri::command]
pub fn practice_mark(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    mark: PracticeMark,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk()?;
    desk.practice_mark(&conversation_id, &mark);
    Ok(())
}

/// The installed version, the last check and where an update stands.
#[tauri::command]
pub fn update_status(
    workstation: State<'_, Workstation>,
    updates: State<'_, Updates>,
) -> UpdateStatus {
    crate::updater::status(&workstation, &updates)
}

/// Looks for an update now ("Check now"); the result comes as events.
#[tauri::command]
pub fn check_for_update(
    workstation: State<'_, Workstation>,
    updates: State<'_, Updates>,
) -> UpdateStatus {
    updates.request_check();
    crate::updater::status(&workstation, &updates)
}

/// Installs the downloaded update and restarts the app; refused while a
/// conversation is open or a reply waits to be sent.
#[tauri::command]
pub async fn install_update<R: Runtime>(
    app: AppHandle<R>,
    workstation: State<'_, Workstation>,
    updates: State<'_, Updates>,
) -> Result<(), ErrorBody> {
    let package = updates.package_to_install(workstation.restart_block())?;
    crate::updater::install_now(&app, package).await?;
    app.request_restart();
    Ok(())
}
