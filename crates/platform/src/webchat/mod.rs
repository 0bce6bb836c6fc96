//! The built-in web chat: a small page the platform serves at
//! `/chat/{queue}` where a customer writes to the shop, and the rules
//! behind it. It is a channel adapter built into the platform (adapter id
//! [`ADAPTER_ID`], channel `chat`).
//!
//! Who a customer is: a random token in an HttpOnly cookie, stored only as
//! its SHA-256 beside the customer id it names, so a reload or a visit days
//! later resumes the conversation and nobody else can read it.
//!
//! What goes in: a customer's message goes through [`ingress::accept`], the
//! same code as any channel adapter's, with an idempotency key made from
//! the page's own id for the message (a resend after a lost answer is
//! stored once).
//!
//! What comes out: the page sees the customer's own messages and the
//! agents' replies of all their conversations (never internal notes). An
//! agent's reply stays `queued` until the customer's page is sent it
//! ([`mark_sent`]), and becomes `delivered` when the page says it showed
//! it ([`confirm_shown`]); both go through [`delivery::set`], so the agent's
//! tick moves through the change log like any other change.

pub mod limits;
pub mod routes;

use std::collections::HashSet;

use homedesk_protocol::{
    Author, Channel, DeliveryState, EntityKind, IngressCustomer, IngressMessage, MAX_MESSAGE_CHARS,
    Message, MessageKind, Record, UnixMillis,
};
use serde::{Deserialize, Serialize};

use crate::auth::{random_token, token_hash};
use crate::delivery;
use crate::error::ApiError;
use crate::ingress;
use crate::storage::{Tx, WebchatCustomerRow};

/// The web chat's id among channel adapters.
pub const ADAPTER_ID: &str = "webchat";

/// Name of the cookie that holds the customer token.
pub const COOKIE: &str = "hd_chat";

/// How long a browser keeps the customer token after its last visit.
pub const COOKIE_MAX_AGE_SECS: i64 = 90 * 24 * 3600;

/// Longest name a customer may give (what ingress accepts).
pub const MAX_NAME_CHARS: usize = 100;

/// Most message ids one `seen` report may name.
pub const MAX_SEEN_IDS: usize = 100;

/// The longest id `POST /chat/api/seen` takes, in characters: a message id
/// is at most this long (`rules::MAX_MESSAGE_ID_LEN`, in bytes), so a longer
/// one names nothing and is a malformed report.
pub const MAX_SEEN_ID_CHARS: usize = homedesk_protocol::rules::MAX_MESSAGE_ID_LEN;

/// Most messages the page is sent at once (the newest).
pub const HISTORY_LIMIT: usize = 200;

/// The name agents see for a customer who gave none.
const DEFAULT_NAME: &str = "网页访客";

/// The web chat's abuse limits, requests a minute (each also the burst).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatLimits {
    /// Messages and photos one customer may send.
    pub customer_per_minute: u32,
    /// Requests one IP address may make (new customers, messages, photos,
    /// event streams), shared by everyone behind it (a village's one
    /// connection), so it is higher.
    pub ip_per_minute: u32,
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            customer_per_minute: 20,
            ip_per_minute: 120,
        }
    }
}

/// The web chat's state in memory: the rate-limit buckets.
#[derive(Debug)]
pub struct WebChat {
    pub per_customer: limits::Buckets,
    pub per_ip: limits::Buckets,
}

impl WebChat {
    pub fn new(limits: ChatLimits) -> WebChat {
        WebChat {
            per_customer: limits::Buckets::new(limits.customer_per_minute),
            per_ip: limits::Buckets::new(limits.ip_per_minute),
        }
    }
}

/// The customer a token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCustomer {
    pub token_hash: String,
    pub customer_id: String,
    pub name: String,
}

/// `{name}`: what the page learns about its own customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSession {
    pub name: String,
}

/// `POST /chat/api/session` body: the name is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /chat/api/messages` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPost {
    /// The queue the page belongs to.
    pub queue: String,
    /// The page's own id for this message (8–64 of `A-Z a-z 0-9 _ -`): a
    /// resend with the same id is stored once.
    pub client_id: String,
    #[serde(default)]
    pub body: String,
    /// Photos uploaded first (`POST /chat/api/attachments`), by id.
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// `POST /chat/api/seen` body: agent replies the page has shown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeenReport {
    pub ids: Vec<String>,
}

/// Who wrote a message, from the customer's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatAuthor {
    Customer,
    Agent,
}

/// Where a message stands, as the page shows it. The customer's own:
/// `received` (the shop has it) or `read` (an agent answered after it). An
/// agent's reply: `sent` (this page was sent it) or `delivered` (a page
/// confirmed it showed it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    Received,
    Read,
    Sent,
    Delivered,
}

/// A photo as the page shows it: a thumbnail, the full image on a tap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPhoto {
    pub id: String,
    pub width: u32,
    pub height: u32,
}

/// One message of the customer's conversation, as the page receives it.
/// Never an internal note; no agent code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    pub id: String,
    pub from: ChatAuthor,
    /// Plain text; the page shows it as text.
    pub body: String,
    pub sent_at: UnixMillis,
    pub attachments: Vec<ChatPhoto>,
    pub state: ChatState,
}

/// The first event of a page's stream: who it is and the conversation so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSnapshot {
    pub customer: ChatSession,
    pub messages: Vec<ChatMessage>,
}

/// The name as stored: trimmed, inner whitespace folded; `None` when empty.
/// The limit is on the name as sent (what the OpenAPI file's `maxLength`
/// says), so a long name is refused whatever its spaces.
fn clean_name(name: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(name) = name else { return Ok(None) };
    let folded = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(format!(
            "name: longer than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok((!folded.is_empty()).then_some(folded))
}

/// A new customer: returns the token for the cookie and who it names.
pub fn open_session(
    tx: &mut dyn Tx,
    request: &SessionRequest,
    now: UnixMillis,
) -> anyhow::Result<Result<(String, ChatCustomer), ApiError>> {
    let name = match clean_name(request.name.as_deref()) {
        Ok(name) => name,
        Err(e) => return Ok(Err(e)),
    };
    let token = random_token(32);
    let customer_id = format!("web-{}", random_token(9));
    // Agents tell nameless visitors apart by the end of their id.
    let name = name.unwrap_or_else(|| format!("{DEFAULT_NAME} {}", &customer_id[4..8]));
    let hash = token_hash(&token);
    tx.insert_webchat_customer(
        &hash,
        &WebchatCustomerRow {
            customer_id: customer_id.clone(),
            name: name.clone(),
            created_at: now,
            last_seen_at: now,
        },
    )?;
    Ok(Ok((
        token,
        ChatCustomer {
            token_hash: hash,
            customer_id,
            name,
        },
    )))
}

/// Renames a customer (their next message carries the name to agents).
pub fn rename(
    tx: &mut dyn Tx,
    customer: &ChatCustomer,
    request: &SessionRequest,
    now: UnixMillis,
) -> anyhow::Result<Result<ChatCustomer, ApiError>> {
    let name = match clean_name(request.name.as_deref()) {
        Ok(name) => name,
        Err(e) => return Ok(Err(e)),
    };
    tx.touch_webchat_customer(&customer.token_hash, name.as_deref(), now)?;
    Ok(Ok(ChatCustomer {
        name: name.unwrap_or_else(|| customer.name.clone()),
        ..customer.clone()
    }))
}

/// Whether `token` looks like one this platform gives out (43 characters
/// of base64url), before any lookup.
pub fn is_token_shaped(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The customer a cookie's token names, if any.
pub fn customer_for_token(tx: &mut dyn Tx, token: &str) -> anyhow::Result<Option<ChatCustomer>> {
    if !is_token_shaped(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    Ok(tx.webchat_customer(&hash)?.map(|row| ChatCustomer {
        token_hash: hash,
        customer_id: row.customer_id,
        name: row.name,
    }))
}

fn is_client_id(id: &str) -> bool {
    (8..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The subject of a conversation the web chat opens: the first words.
fn subject_of(body: &str) -> String {
    let preview = homedesk_protocol::preview(body);
    if preview.is_empty() {
        "网页留言（照片）".to_owned()
    } else {
        preview.chars().take(60).collect()
    }
}

/// Stores a customer's message through ingress. The outer `Result` is a
/// storage failure, the inner one a bad request (nothing written). Also
/// answers whether it was a resend of a stored message.
pub fn post_message(
    tx: &mut dyn Tx,
    customer: &ChatCustomer,
    post: &ChatPost,
    now: UnixMillis,
) -> anyhow::Result<Result<(ChatMessage, bool), ApiError>> {
    if !is_client_id(&post.client_id) {
        return Ok(Err(ApiError::invalid(
            "client_id: 8 to 64 characters of A-Z a-z 0-9 _ -",
        )));
    }
    if post.body.chars().count() > MAX_MESSAGE_CHARS {
        return Ok(Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            homedesk_protocol::ErrorCode::PayloadTooLarge,
            format!("body: longer than {MAX_MESSAGE_CHARS} characters"),
        )));
    }
    if post.body.trim().is_empty() && post.attachments.is_empty() {
        return Ok(Err(ApiError::invalid("body: the message is empty")));
    }
    let message = IngressMessage {
        external_id: format!("{ADAPTER_ID}:{}:{}", customer.customer_id, post.client_id),
        customer: IngressCustomer {
            id: customer.customer_id.clone(),
            name: customer.name.clone(),
            phone: String::new(),
            city: None,
        },
        queue: post.queue.clone(),
        subject: subject_of(&post.body),
        body: post.body.clone(),
        attachments: post.attachments.clone(),
        category: None,
        priority: None,
    };
    let accepted = match ingress::accept(tx, ADAPTER_ID, Channel::Chat, &message, now)? {
        Ok(accepted) => accepted,
        Err(e) => return Ok(Err(e)),
    };
    let Some(Record::Message(stored)) = tx.get(EntityKind::Message, &accepted.message_id)? else {
        anyhow::bail!(
            "ingress accepted {} but it is not stored",
            accepted.message_id
        );
    };
    let history = history(tx, &customer.customer_id)?;
    let view = views(&history)
        .into_iter()
        .find(|m| m.id == stored.id)
        .unwrap_or_else(|| view_of(&stored, ChatState::Received));
    Ok(Ok((view, accepted.duplicate)))
}

/// What of a stored message the customer may see: their own messages and
/// agents' replies, never notes or system lines.
fn customer_visible(message: &Message) -> bool {
    message.kind == MessageKind::Text && matches!(message.author, Author::Customer | Author::Agent)
}

/// The customer's conversation so far: every visible message of all their
/// conversations, oldest first, at most the newest [`HISTORY_LIMIT`].
pub fn history(tx: &mut dyn Tx, customer_id: &str) -> anyhow::Result<Vec<Message>> {
    let mut all = Vec::new();
    for conversation in tx.conversations_of_customer(customer_id)? {
        all.extend(
            tx.messages_of(&conversation.id)?
                .into_iter()
                .filter(customer_visible),
        );
    }
    all.sort_by(|a, b| (a.sent_at, &a.id).cmp(&(b.sent_at, &b.id)));
    let skip = all.len().saturating_sub(HISTORY_LIMIT);
    all.drain(..skip);
    Ok(all)
}

fn view_of(message: &Message, state: ChatState) -> ChatMessage {
    ChatMessage {
        id: message.id.clone(),
        from: if message.author == Author::Customer {
            ChatAuthor::Customer
        } else {
            ChatAuthor::Agent
        },
        body: message.body.clone(),
        sent_at: message.sent_at,
        attachments: message
            .attachments
            .iter()
            .map(|a| ChatPhoto {
                id: a.id.clone(),
                width: a.width,
                height: a.height,
            })
            .collect(),
        state,
    }
}

/// The page's view of `history`: a customer's message is `read` once an
/// agent replied after it in the same conversation.
pub fn views(history: &[Message]) -> Vec<ChatMessage> {
    history
        .iter()
        .map(|m| {
            let state = match m.author {
                Author::Customer => {
                    let answered = history.iter().any(|r| {
                        r.author == Author::Agent
                            && r.conversation_id == m.conversation_id
                            && (r.sent_at, &r.id) > (m.sent_at, &m.id)
                    });
                    if answered {
                        ChatState::Read
                    } else {
                        ChatState::Received
                    }
                }
                _ => match m.delivery.as_ref().map(|d| d.state) {
                    Some(DeliveryState::Delivered) => ChatState::Delivered,
                    _ => ChatState::Sent,
                },
            };
            view_of(m, state)
        })
        .collect()
}

/// Agent replies in `history` still waiting for the customer's page.
pub fn waiting(history: &[Message]) -> Vec<String> {
    history
        .iter()
        .filter(|m| {
            m.author == Author::Agent
                && m.delivery
                    .as_ref()
                    .is_some_and(|d| d.state == DeliveryState::Queued)
        })
        .map(|m| m.id.clone())
        .collect()
}

/// Moves the customer's agent replies that are still `queued` to `sent`:
/// called as their page is sent them. Returns whether any moved.
pub fn mark_sent(tx: &mut dyn Tx, customer_id: &str, now: UnixMillis) -> anyhow::Result<bool> {
    let ids = waiting(&history(tx, customer_id)?);
    for id in &ids {
        delivery::set(tx, id, DeliveryState::Sent, None, now)?;
    }
    Ok(!ids.is_empty())
}

/// The page showed these agent replies: each one that is the customer's
/// own and not yet `delivered` becomes `delivered`. Ids of other
/// conversations are ignored (a page cannot move another customer's
/// ticks). Returns whether any moved.
pub fn confirm_shown(
    tx: &mut dyn Tx,
    customer_id: &str,
    ids: &[String],
    now: UnixMillis,
) -> anyhow::Result<Result<bool, ApiError>> {
    if ids.len() > MAX_SEEN_IDS {
        return Ok(Err(ApiError::invalid(format!(
            "ids: {} ids; report at most {MAX_SEEN_IDS} at once",
            ids.len()
        ))));
    }
    if let Some(bad) = ids
        .iter()
        .find(|id| id.is_empty() || id.chars().count() > MAX_SEEN_ID_CHARS)
    {
        return Ok(Err(ApiError::invalid(format!(
            "ids: {bad:?} is not a message id (1 to {MAX_SEEN_ID_CHARS} characters)"
        ))));
    }
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut moved = false;
    for message in history(tx, customer_id)? {
        let shown_now = wanted.contains(message.id.as_str())
            && message.author == Author::Agent
            && message
                .delivery
                .as_ref()
                .is_some_and(|d| d.state != DeliveryState::Delivered);
        if shown_now {
            delivery::set(tx, &message.id, DeliveryState::Delivered, None, now)?;
            moved = true;
        }
    }
    Ok(Ok(moved))
}

/// Whether the customer may see this photo: it is on a message of one of
/// their conversations.
pub fn may_see_photo(tx: &mut dyn Tx, customer_id: &str, photo_id: &str) -> anyhow::Result<bool> {
    Ok(history(tx, customer_id)?
        .iter()
        .any(|m| m.attachments.iter().any(|a| a.id == photo_id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use homedesk_protocol::Delivery;

    fn message(
        id: &str,
        author: Author,
        sent_at: UnixMillis,
        state: Option<DeliveryState>,
    ) -> Message {
        Message {
            id: id.into(),
            conversation_id: "c1".into(),
            author,
            agent: (author == Author::Agent).then(|| "a1002".into()),
            kind: MessageKind::Text,
            body: format!("body of {id}"),
            sent_at,
            attachments: Vec::new(),
            delivery: state.map(|state| Delivery {
                state,
                reason: None,
                updated_at: sent_at,
            }),
        }
    }

    #[test]
    fn a_customer_message_reads_as_read_once_an_agent_answered_after_it() {
        let history = [
            message("m1", Author::Customer, 10, None),
            message("m2", Author::Agent, 20, Some(DeliveryState::Queued)),
            message("m3", Author::Customer, 30, None),
        ];
        let states: Vec<ChatState> = views(&history).iter().map(|m| m.state).collect();
        assert_eq!(
            states,
            [ChatState::Read, ChatState::Sent, ChatState::Received]
        );
    }

    #[test]
    fn only_queued_replies_wait_for_the_page() {
        let history = [
            message("m1", Author::Customer, 10, None),
            message("m2", Author::Agent, 20, Some(DeliveryState::Queued)),
            message("m3", Author::Agent, 30, Some(DeliveryState::Sent)),
            message("m4", Author::Agent, 40, Some(DeliveryState::Delivered)),
        ];
        assert_eq!(waiting(&history), ["m2"]);
        let states: Vec<ChatState> = views(&history).iter().map(|m| m.state).collect();
        assert_eq!(states[3], ChatState::Delivered);
    }

    #[test]
    fn notes_and_system_lines_never_reach_the_customer() {
        let mut note = message("n1", Author::Agent, 10, None);
        note.kind = MessageKind::Note;
        assert!(!customer_visible(&note));
        assert!(!customer_visible(&message("s1", Author::System, 10, None)));
        assert!(customer_visible(&message("m1", Author::Agent, 10, None)));
    }

    #[test]
    fn names_are_trimmed_folded_and_capped() {
        assert_eq!(clean_name(Some("  李  桂兰 ")), Ok(Some("李 桂兰".into())));
        assert_eq!(clean_name(Some("   ")), Ok(None));
        assert_eq!(clean_name(None), Ok(None));
        assert!(clean_name(Some(&"名".repeat(MAX_NAME_CHARS + 1))).is_err());
    }

    #[test]
    fn no_external_adapter_can_take_the_web_chats_id() {
        assert!(crate::channels::check_id(ADAPTER_ID).is_err());
        assert!(crate::channels::check_id("webchat2").is_ok());
    }

    #[test]
    fn only_platform_shaped_tokens_are_looked_up() {
        assert!(is_token_shaped(&random_token(32)));
        assert!(!is_token_shaped("short"));
        assert!(!is_token_shaped(&format!("{}=", &random_token(32)[..42])));
    }
}
