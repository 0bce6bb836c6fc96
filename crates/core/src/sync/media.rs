//! The sync engine's photo work (docs/decisions/0025-workstation-photos.md):
//! uploading the photos of replies waiting in the outbox just before the
//! replies go, fetching the thumbnails of the agent's conversations after
//! each pull, and fetching a photo the webview asks for that this PC does
//! not have yet (a full image when the agent opens it).
//!
//! Exactly once: a reply's photos are uploaded first, then its outbox entry
//! is rewritten with the platform's records under the same idempotency key,
//! and only then is the reply pushed. A crash or a dropped link between the
//! two repeats only the upload, which the platform answers with the same
//! record (it stores photos by content). A photo the platform refuses (not
//! an image, too large) folds the reply back to the agent like any refused
//! action: text and photos return to the composer, and a refusal says why.
//!
//! Everything fetched is checked before it is kept: its real type by its
//! bytes, and a size cap while it streams in (30 KB for a thumbnail).

use std::future::Future;

use homedesk_protocol::rules::is_attachment_id;
use homedesk_protocol::{
    ATTACHMENT_MEDIA_TYPES, Action, ActionCode, ActionEnvelope, ActionResult, ActionStatus,
    Attachment, LOCAL_ATTACHMENT_PREFIX, MAX_ATTACHMENT_BYTES, MAX_THUMBNAIL_BYTES, RefusalParams,
};

use super::{SyncEngine, SyncError, SyncEvent, SyncReport, Transport, TransportError};
use crate::photos::{MAX_REFUSALS, MediaError, MediaKind, MediaRequest, sniff};
use crate::store::attachments::{self, Blob, Variant};
use crate::store::outbox;
use crate::sync::PhotoSize;

/// A thumbnail or full image is touched (moved to the back of the eviction
/// line) at most this often, so showing a thread writes nothing each time.
const TOUCH_EVERY_MS: i64 = 60_000;

fn is_local(attachment: &Attachment) -> bool {
    attachment.id.starts_with(LOCAL_ATTACHMENT_PREFIX)
}

impl<T: Transport> SyncEngine<T> {
    /// Most bytes of photos this engine keeps on the PC.
    pub fn photo_cache_budget(&self) -> u64 {
        self.config.photo_cache_budget
    }

    /// Uploads the photos of the replies in `actions` that are still on
    /// this PC only, and puts the platform's records in their place in the
    /// outbox. `true` when an entry changed (or was refused): read the
    /// batch again before pushing it.
    pub(super) async fn upload_photos(
        &self,
        actions: &[ActionEnvelope],
        report: &mut SyncReport,
    ) -> Result<bool, SyncError> {
        let mut changed = false;
        'actions: for envelope in actions {
            let Action::Reply { attachments, .. } = &envelope.action else {
                continue;
            };
            if !attachments.iter().any(is_local) {
                continue;
            }
            let mut uploaded = Vec::with_capacity(attachments.len());
            for attachment in attachments {
                if !is_local(attachment) {
                    uploaded.push(attachment.clone());
                    continue;
                }
                let blob = self
                    .store
                    .read(|c| attachments::get(c, &attachment.id, Variant::Local))?;
                let Some(blob) = blob else {
                    self.refuse_photos(envelope, "the photo is no longer on this PC", report)?;
                    changed = true;
                    continue 'actions;
                };
                match self.upload(blob).await {
                    Ok(record) => uploaded.push(record),
                    Err(SyncError::Transport(TransportError::Refused {
                        status, message, ..
                    })) => {
                        let why =
                            format!("the platform refused a photo (HTTP {status}): {message}");
                        self.refuse_photos(envelope, &why, report)?;
                        changed = true;
                        continue 'actions;
                    }
                    Err(err) => {
                        let text = err.to_string();
                        self.store.write(|tx| {
                            outbox::note_attempt(tx, std::slice::from_ref(&envelope.key), &text)
                        })?;
                        return Err(err);
                    }
                }
            }
            self.store
                .write(|tx| outbox::replace_attachments(tx, &envelope.key, &uploaded))?;
            changed = true;
        }
        Ok(changed)
    }

    /// Folds a reply whose photo cannot be sent back to the agent: its text
    /// and photos return to the composer, a refusal explains it.
    fn refuse_photos(
        &self,
        envelope: &ActionEnvelope,
        why: &str,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let refused = ActionResult::refused(
            &envelope.key,
            ActionStatus::Rejected,
            ActionCode::Invalid,
            why,
        )
        .with_params(RefusalParams {
            field: Some("attachments".into()),
            ..RefusalParams::default()
        });
        let recorded = self.record(std::slice::from_ref(envelope), &[refused])?;
        report.conflicts += recorded.conflicts.len();
        if !recorded.conflicts.is_empty() {
            let _ = self.events.send(SyncEvent::Conflicts {
                keys: recorded.conflicts,
            });
        }
        self.publish_status();
        Ok(())
    }

    async fn upload(&self, blob: Blob) -> Result<Attachment, SyncError> {
        let record = self
            .authorized(|token| {
                let data = blob.data.clone();
                let media_type = blob.media_type.clone();
                async move {
                    self.transport
                        .upload_attachment(&token, &media_type, data)
                        .await
                }
            })
            .await?;
        if !is_attachment_id(&record.id) || is_local(&record) {
            return Err(TransportError::Malformed(format!(
                "the platform answered an upload with the id {:?}",
                record.id
            ))
            .into());
        }
        Ok(record)
    }

    /// Fetches the thumbnails the agent's open conversations show and this
    /// PC lacks, at most `thumbnails_per_sync` of them; more wait for the
    /// next round, which is asked for at once. A photo the platform refuses
    /// is noted (and skipped after a few refusals); a link failure ends the
    /// round and the sync retries as usual.
    pub(super) async fn fetch_thumbnails(&self, report: &mut SyncReport) -> Result<(), SyncError> {
        let me = self.agent().unwrap_or_default();
        let limit = self.config.thumbnails_per_sync;
        let wanted = self
            .store
            .read(|c| attachments::missing_thumbnails(c, &me, MAX_REFUSALS, limit + 1))?;
        let more = wanted.len() > limit;
        let mut fetched = 0;
        for id in wanted.iter().take(limit) {
            match self.fetch(id, PhotoSize::Thumbnail).await {
                Ok(blob) => {
                    self.keep(id, Variant::Thumb, &blob)?;
                    fetched += 1;
                }
                Err(SyncError::Transport(
                    err @ (TransportError::Refused { .. } | TransportError::Malformed(_)),
                )) => {
                    let now = self.now_ms();
                    let why = err.to_string();
                    self.store
                        .write(|tx| attachments::note_refusal(tx, id, Variant::Thumb, &why, now))?;
                }
                Err(err) => return Err(err),
            }
        }
        report.thumbnails += fetched;
        if fetched > 0 {
            let _ = self.events.send(SyncEvent::Changed);
        }
        if more {
            self.nudge();
        }
        Ok(())
    }

    /// A photo for the webview: from this PC when it is here, else fetched
    /// from the platform (a full image when the agent opens it) and kept.
    /// A local photo is only ever here.
    pub async fn media(&self, request: &MediaRequest) -> Result<Blob, MediaError> {
        let variant = request.kind.variant();
        let now = self.now_ms();
        let cached = self
            .store
            .write(|tx| {
                let blob = attachments::get(tx, &request.id, variant)?;
                if blob.is_some() {
                    attachments::touch(tx, &request.id, variant, now, TOUCH_EVERY_MS)?;
                }
                Ok::<_, crate::store::StoreError>(blob)
            })
            .map_err(|e| MediaError::Store(e.to_string()))?;
        if let Some(blob) = cached {
            return Ok(blob);
        }
        let size = match request.kind {
            MediaKind::Local => {
                return Err(MediaError::NotFound(format!(
                    "{} is not on this PC",
                    request.id
                )));
            }
            MediaKind::Thumb => PhotoSize::Thumbnail,
            MediaKind::Full => PhotoSize::Full,
        };
        match self.fetch(&request.id, size).await {
            Ok(blob) => {
                self.keep(&request.id, variant, &blob)
                    .map_err(|e| MediaError::Store(e.to_string()))?;
                Ok(blob)
            }
            Err(SyncError::Transport(
                err @ (TransportError::Refused { .. } | TransportError::Malformed(_)),
            )) => Err(MediaError::NotFound(err.to_string())),
            Err(SyncError::Store(err)) => Err(MediaError::Store(err.to_string())),
            Err(err) => Err(MediaError::Unavailable(err.to_string())),
        }
    }

    /// Keeps a fetched photo and brings the cache back under its budget.
    fn keep(&self, id: &str, variant: Variant, blob: &Blob) -> Result<(), SyncError> {
        let now = self.now_ms();
        let budget = self.config.photo_cache_budget;
        let evicted = self.store.write(|tx| {
            attachments::put(tx, id, variant, blob, now)?;
            attachments::evict(tx, budget, (id, variant))
        })?;
        if evicted.photos > 0 {
            tracing::debug!(
                photos = evicted.photos,
                bytes = evicted.bytes,
                "photo cache over budget: least recently used photos evicted"
            );
        }
        Ok(())
    }

    /// A photo from the platform, checked: an accepted image type by its
    /// bytes (which is the type it is served as), within the size cap.
    async fn fetch(&self, id: &str, size: PhotoSize) -> Result<Blob, SyncError> {
        if !is_attachment_id(id) || id.starts_with(LOCAL_ATTACHMENT_PREFIX) {
            return Err(TransportError::Malformed(format!("{id:?} is not a photo id")).into());
        }
        let max = match size {
            PhotoSize::Thumbnail => MAX_THUMBNAIL_BYTES,
            PhotoSize::Full => MAX_ATTACHMENT_BYTES,
        };
        let fetched = self
            .authorized(|token| async move {
                self.transport.fetch_attachment(&token, id, size, max).await
            })
            .await?;
        let media_type = sniff::media_type(&fetched.data)
            .filter(|t| ATTACHMENT_MEDIA_TYPES.contains(t))
            .ok_or_else(|| {
                TransportError::Malformed(format!(
                    "photo {id}: the answer ({:?}, {} bytes) is not a JPEG, PNG or WebP image",
                    fetched.media_type,
                    fetched.data.len()
                ))
            })?;
        Ok(Blob {
            media_type: media_type.to_owned(),
            data: fetched.data,
        })
    }

    /// Runs a platform call with a valid token, refreshing it once on a
    /// 401 as every other call does.
    async fn authorized<R, F, Fut>(&self, call: F) -> Result<R, SyncError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<R, TransportError>>,
    {
        let token = self.access_token().await?;
        match self.timed(call(token.clone())).await {
            Err(TransportError::Unauthorized(_)) => {
                let token = self.token_rejected(&token).await?;
                match self.timed(call(token)).await {
                    Err(TransportError::Unauthorized(message)) => {
                        Err(self.require_sign_in(message))
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }
}
