//! Photos at the desk: attaching one to the composer (checked by its bytes
//! against the platform's limits, kept on this PC under `local-<sha256>`;
//! or a canned reply's photo, which the platform already holds),
//! taking it off again, sending a reply that carries the attached photos
//! (through the outbox like any reply: offline too, exactly once), and
//! giving the webview a photo ([`crate::photos`] has the rules).

use homedesk_protocol::{Action, ActionEnvelope, Attachment, MAX_ATTACHMENTS_PER_MESSAGE};

use super::{Desk, new_message_id, store_error};
use crate::Error;
use crate::photos::{self, MediaError, MediaRequest};
use crate::store::attachments::{self, Blob, Variant};
use crate::store::{StoreError, views};

impl Desk {
    /// Attaches a photo the agent chose to the composer of
    /// `conversation_id`. Refused with a clear error, and nothing kept,
    /// when it is not a JPEG, PNG or WebP image, is empty, over 5 MB or
    /// over 40 megapixels, or the reply already has four photos. The same
    /// photo twice is attached once.
    pub fn attach_photo(&self, conversation_id: &str, bytes: &[u8]) -> Result<Attachment, Error> {
        if self.is_practice() {
            return Err(Error::InvalidAction(
                "practice customers cannot receive photos".into(),
            ));
        }
        let photo = photos::check_local(bytes)?;
        let attached = self.composer_photos(conversation_id)?;
        let blob = Blob {
            media_type: photo.media_type.clone(),
            data: bytes.to_vec(),
        };
        self.add_to_composer(conversation_id, &attached, photo, Some(blob))
    }

    /// Attaches the photo of canned reply `canned_id` (a size chart) to the
    /// composer of `conversation_id`: the platform already holds it, so it
    /// needs no upload and goes offline too. Refused when the reply has no
    /// photo or the composer already has four.
    pub fn attach_canned_photo(
        &self,
        conversation_id: &str,
        canned_id: &str,
    ) -> Result<Attachment, Error> {
        let photo = self
            .canned_reply(canned_id)?
            .and_then(|reply| reply.attachment)
            .ok_or_else(|| {
                Error::InvalidAction(format!("the canned reply {canned_id:?} has no photo"))
            })?;
        let attached = self.composer_photos(conversation_id)?;
        self.add_to_composer(conversation_id, &attached, photo, None)
    }

    /// The photos in a conversation's composer; refused for a conversation
    /// this desk does not have.
    fn composer_photos(&self, conversation_id: &str) -> Result<Vec<Attachment>, Error> {
        self.store()
            .read(|c| {
                if views::conversation(c, conversation_id)?.is_none() {
                    return Ok(None);
                }
                attachments::draft_attachments(c, conversation_id).map(Some)
            })
            .map_err(store_error)?
            .ok_or_else(|| {
                Error::InvalidAction(format!("no conversation {conversation_id:?} here"))
            })
    }

    /// Adds `photo` to the composer (once; at most four), keeping `blob` as
    /// its local copy when it has not been uploaded.
    fn add_to_composer(
        &self,
        conversation_id: &str,
        attached: &[Attachment],
        photo: Attachment,
        blob: Option<Blob>,
    ) -> Result<Attachment, Error> {
        if attached.iter().any(|a| a.id == photo.id) {
            return Ok(photo);
        }
        if attached.len() >= MAX_ATTACHMENTS_PER_MESSAGE {
            return Err(Error::InvalidAction(format!(
                "a reply carries at most {MAX_ATTACHMENTS_PER_MESSAGE} photos"
            )));
        }
        let now = self.now_ms();
        let budget = self.engine.photo_cache_budget();
        self.store()
            .write(|tx| {
                if let Some(blob) = &blob {
                    attachments::put(tx, &photo.id, Variant::Local, blob, now)?;
                }
                let mut draft = attachments::draft_attachments(tx, conversation_id)?;
                draft.push(photo.clone());
                attachments::set_draft_attachments(tx, conversation_id, &draft, now)?;
                if blob.is_some() {
                    attachments::evict(tx, budget, (&photo.id, Variant::Local))?;
                }
                Ok::<_, StoreError>(())
            })
            .map_err(store_error)?;
        Ok(photo)
    }

    /// Takes a photo off the composer of `conversation_id` (nothing happens
    /// when it is not there).
    pub fn remove_photo(&self, conversation_id: &str, photo_id: &str) -> Result<(), Error> {
        let now = self.now_ms();
        self.store()
            .write(|tx| {
                let mut draft = attachments::draft_attachments(tx, conversation_id)?;
                draft.retain(|a| a.id != photo_id);
                attachments::set_draft_attachments(tx, conversation_id, &draft, now)
            })
            .map_err(store_error)
    }

    /// Replies with text and the composer's photos named in `photo_ids`
    /// (the text may be empty when there are photos). The reply goes
    /// through the outbox: the photos are uploaded just before it is sent.
    pub fn reply_with_photos(
        &self,
        conversation_id: &str,
        body: &str,
        photo_ids: &[String],
    ) -> Result<ActionEnvelope, Error> {
        let attached = self
            .store()
            .read(|c| attachments::draft_attachments(c, conversation_id))
            .map_err(store_error)?;
        let chosen = photo_ids
            .iter()
            .map(|id| {
                attached
                    .iter()
                    .find(|a| &a.id == id)
                    .cloned()
                    .ok_or_else(|| {
                        Error::InvalidAction(format!(
                            "the photo {id:?} is not attached to this reply (attach it again)"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.act(Action::Reply {
            conversation_id: conversation_id.to_owned(),
            message_id: new_message_id(),
            body: body.to_owned(),
            attachments: chosen,
        })
    }

    /// A photo for the webview's media scheme: from this PC, else fetched
    /// from the platform and kept (a full image when the agent opens it).
    pub async fn media(&self, request: &MediaRequest) -> Result<Blob, MediaError> {
        self.engine.media(request).await
    }
}
