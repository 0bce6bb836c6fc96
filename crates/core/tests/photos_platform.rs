//! Photos on the workstation against the real platform binary on loopback
//! TLS, its own photo checks and re-encoding included: thumbnails are
//! synced and full images are not; a full image comes when it is opened and
//! then shows offline; a photo reply written offline goes exactly once when
//! the link returns (also when the answers to its upload and its push are
//! lost); a photo the platform refuses comes back to the composer with the
//! photo kept; and a bad local file is refused with a clear error and
//! nothing queued.

mod common;

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::flaky::{FlakyProxy, Mode};
use common::{Server, engine_at, eventually, platform_action_verdicts, quick_config, transport};
use homedesk_core::desk::{Desk, PlatformConfig};
use homedesk_core::photos::{MediaError, MediaKind, MediaRequest, local_id};
use homedesk_core::store::attachments::{self, Usage};
use homedesk_core::store::{Store, outbox};
use homedesk_core::sync::{
    EventStream, FetchedMedia, HttpTransport, LinkQuality, PhotoSize, PulledPage, SyncEngine,
    Transport, TransportError,
};
use homedesk_core::{ErrorCode, clock};
use homedesk_protocol::{
    Action, ActionBatch, ActionCode, ActionResult, Attachment, Author, ChangeBody, Message,
    MessageKind, Record, Session, SignIn,
};
use serde_json::json;

const PASSWORD: &str = common::platform::DEMO_PASSWORD;

/// A photo full of detail (noise), so its full image is large and its
/// thumbnail small, as with a real photo of a parcel.
fn noisy_photo(seed: u32, width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image::Rgb([state as u8, (state >> 8) as u8, (x ^ y) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encodes");
    out.into_inner()
}

fn addr(server: &Server) -> std::net::SocketAddr {
    server
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("host:port")
}

/// Uploads a photo the way a channel adapter does (the customer's photo).
async fn upload_as_channel(server: &Server, bytes: Vec<u8>) -> Attachment {
    let response = server
        .client
        .post(format!("{}/v1/attachments", server.url))
        .bearer_auth(server.ingress_token())
        .body(bytes)
        .send()
        .await
        .expect("upload reaches the platform");
    assert!(
        response.status().is_success(),
        "photo stored: {}",
        response.status()
    );
    response.json().await.expect("an Attachment")
}

/// A customer writes with `count` photos, at most four to a message (the
/// platform's limit); the conversation and the photos in order.
async fn customer_sends_photos(
    server: &Server,
    external_id: &str,
    count: u32,
) -> (String, Vec<Attachment>) {
    let mut photos = Vec::new();
    let mut conversation = String::new();
    for (n, first) in (0..count).step_by(3).enumerate() {
        let mut batch = Vec::new();
        for seed in first..(first + 3).min(count) {
            let bytes = noisy_photo(seed + 1, 600, 400, image::ImageFormat::Png);
            batch.push(upload_as_channel(server, bytes).await);
        }
        let mut message = common::platform::ingress_message(
            &format!("{external_id}-{n}"),
            &format!("cust-{external_id}"),
            "aftersales",
            "桃子收到就烂了，您看照片",
        );
        message["attachments"] = json!(batch.iter().map(|p| p.id.clone()).collect::<Vec<_>>());
        let (status, answer) = server.ingress("chat", &message).await;
        assert!(status.is_success(), "ingress accepted: {answer}");
        conversation = answer["conversation_id"]
            .as_str()
            .expect("conversation id")
            .to_owned();
        photos.extend(batch);
    }
    (conversation, photos)
}

/// Requests the platform answered with `status` on one route (its /metrics).
async fn requests_with(server: &Server, route: &str, status: u16) -> u64 {
    let text = server.metrics().await;
    let wanted = format!("homedesk_http_requests_total{{route=\"{route}\",status=\"{status}\"}}");
    text.lines()
        .filter_map(|line| line.strip_prefix(&wanted))
        .filter_map(|value| value.trim().parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}

/// Requests the platform answered with 200 on one route.
async fn requests(server: &Server, route: &str) -> u64 {
    requests_with(server, route, 200).await
}

const THUMBNAIL_ROUTE: &str = "/v1/attachments/{id}/thumbnail";
const IMAGE_ROUTE: &str = "/v1/attachments/{id}";

fn usage<T: Transport>(engine: &SyncEngine<T>) -> Usage {
    engine.store().read(attachments::usage).expect("usage")
}

fn act<T: Transport>(engine: &SyncEngine<T>, action: Action) {
    let me = engine.agent().expect("signed in");
    engine
        .store()
        .write(|tx| outbox::enqueue(tx, &me, action, clock::now_ms()))
        .expect("saved locally");
    engine.wake();
}

/// The agent replies (not notes) in `conversation` as the platform holds
/// them, read by a fresh pull.
async fn platform_replies(server: &Server, conversation: &str) -> Vec<Message> {
    // A supervisor: the conversation is a1002's, outside a1001's sync scope.
    let session = server.sign_in("s3001").await;
    let (changes, _) = server.pull_all(&session.access_token, None).await;
    changes
        .into_iter()
        .filter_map(|c| match c.body {
            ChangeBody::Upsert(Record::Message(m))
                if m.conversation_id == conversation
                    && m.author == Author::Agent
                    && m.kind == MessageKind::Text =>
            {
                Some(m)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn thumbnails_sync_and_a_full_image_comes_only_when_opened_then_shows_offline() {
    let server = Server::start_demo(&[]);
    let (conversation, photos) = customer_sends_photos(&server, "photos-1", 5).await;
    let proxy = FlakyProxy::start(addr(&server), 7).await;
    let dir = tempfile::tempdir().expect("tmp");
    let engine = engine_at(&server, &proxy.url(), &dir.path().join("a.sqlite"), "pc-p1");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("first sync");
    // The canned replies' photos (the demo's two size charts) come first.
    let canned = usage(&engine);
    let canned_thumbs = requests(&server, THUMBNAIL_ROUTE).await;
    assert_eq!(
        (canned.thumbs.0, canned.full, canned.local),
        (canned_thumbs, (0, 0), (0, 0)),
        "a conversation waiting in the queue costs no photo bytes: {canned:?}"
    );

    act(
        &engine,
        Action::Claim {
            conversation_id: conversation.clone(),
        },
    );
    let before = proxy.stats.down_bytes.load(Ordering::Relaxed);
    let report = engine.sync_once().await.expect("claim and sync");
    let downloaded = proxy.stats.down_bytes.load(Ordering::Relaxed) - before;
    assert_eq!(report.thumbnails, 5, "{report:?}");
    let kept = usage(&engine);
    assert_eq!(
        kept.thumbs.0 - canned.thumbs.0,
        5,
        "a thumbnail of each photo: {kept:?}"
    );
    assert!(
        kept.thumbs.1 - canned.thumbs.1 <= 5 * homedesk_protocol::MAX_THUMBNAIL_BYTES as u64,
        "{kept:?}"
    );
    assert_eq!(kept.full, (0, 0), "no full image before one is opened");
    assert_eq!(requests(&server, THUMBNAIL_ROUTE).await, canned_thumbs + 5);
    assert_eq!(
        requests(&server, IMAGE_ROUTE).await,
        0,
        "no full image asked for"
    );
    let smallest = photos.iter().map(|p| u64::from(p.bytes)).min().expect("5");
    assert!(
        downloaded < smallest,
        "the claim, the pull and five thumbnails ({downloaded} bytes) cost less than one full image ({smallest} bytes)"
    );

    // The agent opens the third photo.
    let opened = MediaRequest {
        kind: MediaKind::Full,
        id: photos[2].id.clone(),
    };
    let full = engine.media(&opened).await.expect("fetched when opened");
    assert_eq!(full.data.len(), photos[2].bytes as usize);
    assert_eq!(full.media_type, photos[2].media_type);
    assert_eq!(requests(&server, IMAGE_ROUTE).await, 1);
    assert_eq!(usage(&engine).full, (1, u64::from(photos[2].bytes)));

    // The link drops: what was fetched still shows, the rest says so.
    proxy.set(Mode::Down);
    let again = engine.media(&opened).await.expect("from this PC");
    assert_eq!(again.data, full.data);
    for photo in &photos {
        let thumb = engine
            .media(&MediaRequest {
                kind: MediaKind::Thumb,
                id: photo.id.clone(),
            })
            .await
            .expect("every thumbnail shows offline");
        assert_eq!(thumb.media_type, "image/jpeg");
    }
    let unopened = engine
        .media(&MediaRequest {
            kind: MediaKind::Full,
            id: photos[0].id.clone(),
        })
        .await;
    assert!(
        matches!(unopened, Err(MediaError::Unavailable(_))),
        "a photo never opened cannot show offline, and says it can be retried: {unopened:?}"
    );

    // Back online: nothing is fetched twice.
    proxy.set(Mode::Up);
    let report = eventually("a sync after the link returns", || async {
        engine.sync_once().await.ok()
    })
    .await;
    assert_eq!(report.thumbnails, 0);
    assert_eq!(requests(&server, THUMBNAIL_ROUTE).await, canned_thumbs + 5);
    assert_eq!(requests(&server, IMAGE_ROUTE).await, 1);
    // What the desk shows is the platform's photo, byte for byte.
    let session = server.sign_in("a1002").await;
    let platform_copy = server
        .client
        .get(format!("{}/v1/attachments/{}", server.url, photos[2].id))
        .bearer_auth(&session.access_token)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(full.data, platform_copy.to_vec());
}

fn desk_platform(server: &Server, url: &str) -> PlatformConfig {
    PlatformConfig {
        url: url.to_owned(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    }
}

/// Signs a1002 in through `url` and claims `conversation`, waiting until
/// the platform has confirmed it.
async fn desk_with(server: &Server, url: &str, dir: &std::path::Path, conversation: &str) -> Desk {
    let desk = Desk::sign_in(
        dir,
        &desk_platform(server, url),
        "pc-photos",
        "a1002",
        PASSWORD,
        clock::system(),
    )
    .await
    .expect("signs in");
    eventually("the conversation reaches the desk", || async {
        desk.conversation(conversation).ok().flatten()
    })
    .await;
    desk.act(Action::Claim {
        conversation_id: conversation.to_owned(),
    })
    .expect("claimed");
    eventually("the claim is confirmed", || async {
        let detail = desk.conversation(conversation).ok().flatten()?;
        (detail.conversation.assigned_to.as_deref() == Some("a1002")
            && desk.status().pending_actions == 0)
            .then_some(())
    })
    .await;
    desk
}

#[tokio::test]
async fn a_photo_reply_written_offline_goes_exactly_once_when_the_link_returns() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "photo-reply-1",
            "cust-pr-1",
            "aftersales",
            "有尺码表吗？",
        )
        .await;
    let proxy = FlakyProxy::start(addr(&server), 11).await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = desk_with(&server, &proxy.url(), dir.path(), &conversation).await;

    proxy.set(Mode::Down);
    let chart = noisy_photo(42, 320, 240, image::ImageFormat::Png);
    let photo = desk
        .attach_photo(&conversation, &chart)
        .expect("a PNG is accepted offline");
    assert_eq!(photo.id, local_id(&chart));
    let detail = desk
        .conversation(&conversation)
        .expect("read")
        .expect("here");
    assert_eq!(
        detail.draft_attachments,
        vec![photo.clone()],
        "shown in the composer"
    );
    desk.reply_with_photos(
        &conversation,
        "尺码表请看图",
        std::slice::from_ref(&photo.id),
    )
    .expect("queued offline");
    let thread = desk
        .conversation(&conversation)
        .expect("read")
        .expect("here");
    let mine = thread.messages.last().expect("the reply shows at once");
    assert!(mine.pending);
    assert_eq!(mine.message.attachments, vec![photo.clone()]);
    assert!(
        thread.draft_attachments.is_empty(),
        "the composer is empty again"
    );
    let local = desk
        .media(&MediaRequest {
            kind: MediaKind::Local,
            id: photo.id.clone(),
        })
        .await
        .expect("the pending photo shows from this PC");
    assert_eq!(local.data, chart);
    eventually(
        "a delivery attempt fails while the link is down",
        || async {
            let entries = desk
                .engine()
                .store()
                .read(|c| outbox::list(c, 10))
                .expect("outbox");
            entries.iter().any(|e| e.attempts > 0).then_some(())
        },
    )
    .await;
    assert!(platform_replies(&server, &conversation).await.is_empty());

    proxy.set(Mode::Up);
    desk.engine().wake();
    let delivered = eventually("the reply reaches the platform", || async {
        let replies = platform_replies(&server, &conversation).await;
        (!replies.is_empty() && desk.status().pending_actions == 0).then_some(replies)
    })
    .await;
    assert_eq!(delivered.len(), 1, "exactly once: {delivered:?}");
    let sent = &delivered[0];
    assert_eq!(sent.body, "尺码表请看图");
    assert_eq!(sent.attachments.len(), 1);
    assert!(
        !sent.attachments[0].id.starts_with("local-"),
        "the platform never sees a local id: {:?}",
        sent.attachments[0]
    );
    let verdicts = platform_action_verdicts(&server, "a1002");
    assert_eq!(
        verdicts.len(),
        2,
        "one key for the claim, one for the reply: {verdicts:?}"
    );
    // The desk now shows the platform's copy, and fetches its thumbnail.
    eventually("the platform's copy and its thumbnail arrive", || async {
        let thread = desk.conversation(&conversation).ok().flatten()?;
        let last = thread.messages.last()?;
        let thumbs = desk
            .engine()
            .store()
            .read(|c| attachments::get(c, &sent.attachments[0].id, attachments::Variant::Thumb))
            .ok()
            .flatten();
        (!last.pending && last.message.attachments == sent.attachments && thumbs.is_some())
            .then_some(())
    })
    .await;
}

/// The real transport, losing the answers to the first upload and the
/// first push (the request reached the platform, the link dropped before
/// its answer came back).
struct LosesAnswers {
    http: HttpTransport,
    upload_lost: AtomicBool,
    push_lost: AtomicBool,
    /// Cleared by a test to make the next photo fetch fail on the link.
    fetch_lost: Arc<AtomicBool>,
}

impl Transport for LosesAnswers {
    async fn sign_in(&self, request: &SignIn) -> Result<Session, TransportError> {
        self.http.sign_in(request).await
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        self.http.refresh(refresh_token).await
    }

    async fn push(
        &self,
        access_token: &str,
        batch: &ActionBatch,
    ) -> Result<Vec<ActionResult>, TransportError> {
        let answer = self.http.push(access_token, batch).await;
        let photo_reply = batch.actions.iter().any(
            |a| matches!(&a.action, Action::Reply { attachments, .. } if !attachments.is_empty()),
        );
        if photo_reply && !self.push_lost.swap(true, Ordering::SeqCst) {
            return Err(TransportError::Unreachable(
                "the push's answer was lost".into(),
            ));
        }
        answer
    }

    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PulledPage, TransportError> {
        self.http.pull(access_token, cursor, limit).await
    }

    async fn events(&self, access_token: &str) -> Result<EventStream, TransportError> {
        self.http.events(access_token).await
    }

    async fn upload_attachment(
        &self,
        access_token: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Attachment, TransportError> {
        let answer = self
            .http
            .upload_attachment(access_token, media_type, bytes)
            .await;
        if !self.upload_lost.swap(true, Ordering::SeqCst) {
            return Err(TransportError::Unreachable(
                "the upload's answer was lost".into(),
            ));
        }
        answer
    }

    async fn fetch_attachment(
        &self,
        access_token: &str,
        id: &str,
        size: PhotoSize,
        max_bytes: usize,
    ) -> Result<FetchedMedia, TransportError> {
        if !self.fetch_lost.swap(true, Ordering::SeqCst) {
            return Err(TransportError::Unreachable("the link dropped".into()));
        }
        self.http
            .fetch_attachment(access_token, id, size, max_bytes)
            .await
    }

    fn report_link(&self, link: LinkQuality) {
        self.http.report_link(link);
    }
}

#[tokio::test]
async fn lost_answers_to_the_upload_and_the_push_still_deliver_the_photo_reply_once() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "photo-lost-1",
            "cust-pl-1",
            "aftersales",
            "发个图看看",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(
        Store::open(
            dir.path().join("a.sqlite"),
            &homedesk_core::store::StoreKey::from_bytes([7; 32]),
        )
        .expect("store"),
    );
    let engine = SyncEngine::new(
        Arc::clone(&store),
        LosesAnswers {
            http: transport(&server, &server.url),
            upload_lost: AtomicBool::new(false),
            push_lost: AtomicBool::new(false),
            fetch_lost: Arc::new(AtomicBool::new(true)),
        },
        quick_config("pc-lost"),
    )
    .expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("first sync");
    act(
        &engine,
        Action::Claim {
            conversation_id: conversation.clone(),
        },
    );
    engine.sync_once().await.expect("claimed");

    let chart = noisy_photo(7, 200, 150, image::ImageFormat::Jpeg);
    let photo = homedesk_core::photos::check_local(&chart).expect("a JPEG");
    store
        .write(|tx| {
            attachments::put(
                tx,
                &photo.id,
                attachments::Variant::Local,
                &attachments::Blob {
                    media_type: photo.media_type.clone(),
                    data: chart.clone(),
                },
                1,
            )
        })
        .expect("kept");
    act(
        &engine,
        Action::Reply {
            conversation_id: conversation.clone(),
            message_id: "msg-lost-1".into(),
            body: String::new(),
            attachments: vec![photo.clone()],
        },
    );
    let key = store.read(|c| outbox::pending(c, 10)).expect("outbox")[0]
        .key
        .clone();
    assert!(
        engine.sync_once().await.is_err(),
        "the upload's answer was lost"
    );
    assert!(
        engine.sync_once().await.is_err(),
        "the push's answer was lost"
    );
    let pending = store.read(|c| outbox::pending(c, 10)).expect("outbox");
    assert_eq!(pending.len(), 1, "still waiting, under the same key");
    assert_eq!(pending[0].key, key);
    let Action::Reply { attachments, .. } = &pending[0].action else {
        panic!("a reply");
    };
    assert!(
        !attachments[0].id.starts_with("local-"),
        "the platform's record replaced the local photo: {attachments:?}"
    );
    engine.sync_once().await.expect("delivered");
    assert_eq!(store.read(outbox::count).expect("count"), 0);
    let replies = platform_replies(&server, &conversation).await;
    assert_eq!(replies.len(), 1, "exactly once: {replies:?}");
    assert_eq!(replies[0].attachments, *attachments);
    assert_eq!(
        (
            requests_with(&server, "/v1/attachments", 201).await,
            requests_with(&server, "/v1/attachments", 200).await
        ),
        (1, 1),
        "uploaded twice, stored once (201 Created, then 200 for the same bytes)"
    );
    let verdict = &platform_action_verdicts(&server, "a1002")[&key];
    assert_eq!(verdict.code, None, "applied: {verdict:?}");
}

#[tokio::test]
async fn thumbnails_missed_when_the_link_drops_come_with_the_next_sync() {
    let server = Server::start_demo(&[]);
    let (conversation, photos) = customer_sends_photos(&server, "photos-drop", 2).await;
    let dir = tempfile::tempdir().expect("tmp");
    let drop_next_fetch = Arc::new(AtomicBool::new(true));
    let engine = SyncEngine::new(
        Arc::new(
            Store::open(
                dir.path().join("a.sqlite"),
                &homedesk_core::store::StoreKey::from_bytes([7; 32]),
            )
            .expect("store"),
        ),
        LosesAnswers {
            http: transport(&server, &server.url),
            upload_lost: AtomicBool::new(true),
            push_lost: AtomicBool::new(true),
            fetch_lost: Arc::clone(&drop_next_fetch),
        },
        quick_config("pc-drop"),
    )
    .expect("engine");
    engine.sign_in("a1002", PASSWORD).await.expect("signs in");
    engine.sync_once().await.expect("first sync");
    act(
        &engine,
        Action::Claim {
            conversation_id: conversation.clone(),
        },
    );
    // The link drops at the first thumbnail: the sync says so.
    drop_next_fetch.store(false, Ordering::SeqCst);
    let dropped = engine.sync_once().await;
    assert!(dropped.is_err(), "{dropped:?}");
    let thumbs = |engine: &SyncEngine<LosesAnswers>| {
        photos
            .iter()
            .filter(|p| {
                engine
                    .store()
                    .read(|c| attachments::get(c, &p.id, attachments::Variant::Thumb))
                    .expect("read")
                    .is_some()
            })
            .count()
    };
    assert!(
        thumbs(&engine) < 2,
        "not all fetched while the link was down"
    );
    let report = engine.sync_once().await.expect("the link is back");
    assert!(report.thumbnails >= 1, "{report:?}");
    assert_eq!(
        thumbs(&engine),
        2,
        "the missed thumbnails came with the next sync"
    );
}

#[tokio::test]
async fn a_photo_the_platform_refuses_comes_back_to_the_composer_with_a_reason() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes("chat", "photo-bad-1", "cust-pb-1", "aftersales", "在吗")
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = desk_with(&server, &server.url, dir.path(), &conversation).await;

    // A JPEG cut short: its header reads fine here, the platform cannot decode it.
    let whole = noisy_photo(3, 400, 300, image::ImageFormat::Jpeg);
    let truncated = whole[..whole.len() * 6 / 10].to_vec();
    let photo = desk
        .attach_photo(&conversation, &truncated)
        .expect("the header is a JPEG's");
    desk.reply_with_photos(
        &conversation,
        "给您看下实物图",
        std::slice::from_ref(&photo.id),
    )
    .expect("queued");
    let conflict = eventually("the refusal reaches the desk", || async {
        desk.conflicts().ok()?.into_iter().next()
    })
    .await;
    assert_eq!(conflict.code, Some(ActionCode::Invalid));
    assert_eq!(conflict.params.field.as_deref(), Some("attachments"));
    assert_eq!(conflict.action, "reply");
    let detail = desk
        .conversation(&conversation)
        .expect("read")
        .expect("here");
    assert_eq!(
        detail.draft.as_deref(),
        Some("给您看下实物图"),
        "the text is back"
    );
    assert_eq!(
        detail.draft_attachments,
        vec![photo.clone()],
        "the photo is kept"
    );
    assert!(
        detail
            .messages
            .iter()
            .all(|m| m.message.author != Author::Agent),
        "no reply shows as sent"
    );
    assert_eq!(
        desk.status().pending_actions,
        0,
        "nothing blocks the outbox"
    );
    let kept = desk
        .media(&MediaRequest {
            kind: MediaKind::Local,
            id: photo.id.clone(),
        })
        .await
        .expect("still on this PC");
    assert_eq!(kept.data, truncated);
    assert!(platform_replies(&server, &conversation).await.is_empty());
}

/// The first bytes of a PNG of `width`×`height`, padded to `len`.
fn png_header(width: u32, height: u32, len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes.resize(len.max(bytes.len()), 0);
    bytes
}

#[tokio::test]
async fn a_bad_local_file_is_refused_with_a_clear_error_and_nothing_is_queued() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "photo-local-1",
            "cust-pll-1",
            "aftersales",
            "图片发不了？",
        )
        .await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = desk_with(&server, &server.url, dir.path(), &conversation).await;
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(4096, 0x90);
    let cases: [(&str, Vec<u8>, ErrorCode, &str); 4] = [
        (
            "an empty file",
            Vec::new(),
            ErrorCode::PhotoUnsupported,
            "empty",
        ),
        (
            "a renamed executable",
            elf,
            ErrorCode::PhotoUnsupported,
            "not a JPEG, PNG or WebP",
        ),
        (
            "a 30000×30000 PNG",
            png_header(30_000, 30_000, 2048),
            ErrorCode::PhotoTooLarge,
            "30000×30000",
        ),
        (
            "a file over 5 MB",
            png_header(100, 100, homedesk_protocol::MAX_ATTACHMENT_BYTES + 1),
            ErrorCode::PhotoTooLarge,
            "5 MB",
        ),
    ];
    for (what, bytes, code, says) in cases {
        let err = desk.attach_photo(&conversation, &bytes).expect_err(what);
        assert_eq!(err.code(), code, "{what}: {err}");
        assert!(err.to_string().contains(says), "{what}: {err}");
    }
    let detail = desk
        .conversation(&conversation)
        .expect("read")
        .expect("here");
    assert!(detail.draft_attachments.is_empty(), "nothing attached");
    let kept = desk
        .engine()
        .store()
        .read(attachments::usage)
        .expect("usage");
    assert_eq!(
        (kept.local, kept.full),
        ((0, 0), (0, 0)),
        "nothing kept: {kept:?}"
    );
    let outboxed = desk.engine().store().read(outbox::count).expect("count");
    assert_eq!(outboxed, 0, "nothing queued");
    // A reply cannot name a photo that is not attached, nor carry a fifth.
    let err = desk
        .reply_with_photos(&conversation, "看图", &[local_id(b"never attached")])
        .expect_err("not attached");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    for n in 0..4 {
        let photo = noisy_photo(100 + n, 32, 32, image::ImageFormat::Png);
        desk.attach_photo(&conversation, &photo)
            .expect("up to four");
    }
    let fifth = noisy_photo(200, 32, 32, image::ImageFormat::Png);
    let err = desk
        .attach_photo(&conversation, &fifth)
        .expect_err("a fifth");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("at most 4"), "{err}");
    assert_eq!(desk.engine().store().read(outbox::count).expect("count"), 0);
    // Nothing of it reached the platform.
    assert!(platform_replies(&server, &conversation).await.is_empty());
}

#[tokio::test]
async fn a_canned_reply_brings_its_photo_which_goes_offline_without_an_upload() {
    let server = Server::start_demo(&[]);
    let conversation = server
        .customer_writes(
            "chat",
            "photo-canned-1",
            "cust-pc-1",
            "aftersales",
            "防晒衣穿多大码？",
        )
        .await;
    let proxy = FlakyProxy::start(addr(&server), 13).await;
    let dir = tempfile::tempdir().expect("tmp");
    let desk = desk_with(&server, &proxy.url(), dir.path(), &conversation).await;
    let template = desk
        .reply_template("cr-zh-size-chart", Some(&conversation))
        .expect("read")
        .expect("the demo's size-chart reply");
    let chart = template
        .attachment
        .clone()
        .expect("the platform stored the reply's image and synced its record");
    assert!(!chart.id.starts_with("local-"), "{chart:?}");
    assert_eq!((chart.width, chart.height), (640, 400));
    eventually(
        "the canned photo's thumbnail comes with the sync",
        || async {
            desk.engine()
                .store()
                .read(|c| attachments::get(c, &chart.id, attachments::Variant::Thumb))
                .ok()
                .flatten()
        },
    )
    .await;
    let no_photo = desk
        .attach_canned_photo(&conversation, "cr-zh-greeting")
        .expect_err("a text-only reply");
    assert_eq!(no_photo.code(), ErrorCode::InvalidInput);

    proxy.set(Mode::Down);
    let attached = desk
        .attach_canned_photo(&conversation, "cr-zh-size-chart")
        .expect("offline too");
    assert_eq!(attached, chart);
    let thumb = desk
        .media(&MediaRequest {
            kind: MediaKind::Thumb,
            id: chart.id.clone(),
        })
        .await
        .expect("the composer shows it offline");
    assert_eq!(thumb.media_type, "image/jpeg");
    desk.reply_with_photos(
        &conversation,
        &template.body,
        std::slice::from_ref(&chart.id),
    )
    .expect("queued offline");
    proxy.set(Mode::Up);
    desk.engine().wake();
    let delivered = eventually("the reply reaches the platform", || async {
        let replies = platform_replies(&server, &conversation).await;
        (!replies.is_empty() && desk.status().pending_actions == 0).then_some(replies)
    })
    .await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].attachments, vec![chart]);
    assert_eq!(
        requests_with(&server, "/v1/attachments", 200).await
            + requests_with(&server, "/v1/attachments", 201).await,
        0,
        "the platform already held it: nothing was uploaded"
    );
}
