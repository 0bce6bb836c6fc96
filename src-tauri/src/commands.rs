//! Tauri commands: one-line adapters from IPC to `homedesk-core` use-cases.
//!
//! Each takes the managed [`Workstation`], calls one use-case and maps the
//! error to the boundary shape [`ErrorBody`]. No business rules here. Adding
//! a command means: list it in `build.rs`, grant `allow-<name>` in
//! `capabilities/`, and add it to `ui/src/lib/host/tauri.ts`.

use homedesk_core::desk::{ConversationDetail, QueueItem, QueueScope, ReplyTemplate};
use homedesk_core::search::{CannedHit, SearchHit};
use homedesk_core::store::views::ArticleView;
use homedesk_core::{
    AppInfo, ConnectionStatus, ErrorBody, SignInDefaults, SignedInAgent, Workstation,
};
use homedesk_protocol::{Action, Presence};
use tauri::{AppHandle, Runtime, State};

#[tauri::command]
pub fn app_info(workstation: State<'_, Workstation>) -> AppInfo {
    workstation.app_info()
}

#[tauri::command]
pub fn set_locale(
    workstation: State<'_, Workstation>,
    locale: String,
) -> Result<AppInfo, ErrorBody> {
    workstation.set_locale(&locale).map_err(ErrorBody::from)
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
        .await
        .map_err(ErrorBody::from)?;
    crate::events::forward(&app, &workstation);
    Ok(signed_in)
}

#[tauri::command]
pub async fn sign_out(workstation: State<'_, Workstation>) -> Result<(), ErrorBody> {
    workstation.sign_out().await.map_err(ErrorBody::from)
}

#[tauri::command]
pub fn queue(
    workstation: State<'_, Workstation>,
    scope: QueueScope,
) -> Result<Vec<QueueItem>, ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.queue(scope).map_err(ErrorBody::from)
}

#[tauri::command]
pub fn claim(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.act(Action::Claim { conversation_id })
        .map(|_| ())
        .map_err(ErrorBody::from)
}

#[tauri::command]
pub fn conversation(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<Option<ConversationDetail>, ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.conversation(&conversation_id).map_err(ErrorBody::from)
}

#[tauri::command]
pub fn reply(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    body: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.reply(&conversation_id, &body)
        .map(|_| ())
        .map_err(ErrorBody::from)
}

#[tauri::command]
pub fn save_draft(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    body: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.save_draft(&conversation_id, &body)
        .map_err(ErrorBody::from)
}

#[tauri::command]
pub fn wrap_up(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    disposition: String,
    note: Option<String>,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.wrap_up(&conversation_id, &disposition, note, 0)
        .map(|_| ())
        .map_err(ErrorBody::from)
}

/// Knowledge-base search (Chinese, pinyin, English), from the local store.
#[tauri::command]
pub fn search_articles(
    workstation: State<'_, Workstation>,
    query: String,
    limit: usize,
) -> Result<Vec<SearchHit>, ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.search_articles(&query, limit).map_err(ErrorBody::from)
}

/// One article, its body as sanitized HTML.
#[tauri::command]
pub fn article(
    workstation: State<'_, Workstation>,
    article_id: String,
) -> Result<Option<ArticleView>, ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.article(&article_id).map_err(ErrorBody::from)
}

/// Gives a conversation back to its queue.
#[tauri::command]
pub fn release(
    workstation: State<'_, Workstation>,
    conversation_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.act(Action::Release { conversation_id })
        .map(|_| ())
        .map_err(ErrorBody::from)
}

/// Canned replies by title, shortcut or pinyin (the composer's `/` menu).
#[tauri::command]
pub fn search_canned_replies(
    workstation: State<'_, Workstation>,
    query: String,
    limit: usize,
) -> Result<Vec<CannedHit>, ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.search_canned_replies(&query, limit)
        .map_err(ErrorBody::from)
}

/// A canned reply with its fields prefilled from the conversation.
#[tauri::command]
pub fn reply_template(
    workstation: State<'_, Workstation>,
    canned_id: String,
    conversation_id: Option<String>,
) -> Result<Option<ReplyTemplate>, ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.reply_template(&canned_id, conversation_id.as_deref())
        .map_err(ErrorBody::from)
}

/// Available, busy, on break or offline (the latest choice counts at once).
#[tauri::command]
pub fn presence(workstation: State<'_, Workstation>) -> Result<Presence, ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.presence().map_err(ErrorBody::from)
}

#[tauri::command]
pub fn set_presence(
    workstation: State<'_, Workstation>,
    presence: Presence,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.act(Action::Presence { presence })
        .map(|_| ())
        .map_err(ErrorBody::from)
}

/// An internal note: agents only, never sent to the customer.
#[tauri::command]
pub fn note(
    workstation: State<'_, Workstation>,
    conversation_id: String,
    body: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.note(&conversation_id, &body)
        .map(|_| ())
        .map_err(ErrorBody::from)
}

/// Takes a contact the platform offered (before it expires).
#[tauri::command]
pub fn accept_offer(
    workstation: State<'_, Workstation>,
    offer_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.act(Action::AcceptOffer { offer_id })
        .map(|_| ())
        .map_err(ErrorBody::from)
}

/// Passes on an offered contact; the platform offers it to someone else.
#[tauri::command]
pub fn decline_offer(
    workstation: State<'_, Workstation>,
    offer_id: String,
) -> Result<(), ErrorBody> {
    let desk = workstation.desk().map_err(ErrorBody::from)?;
    desk.act(Action::DeclineOffer { offer_id })
        .map(|_| ())
        .map_err(ErrorBody::from)
}
