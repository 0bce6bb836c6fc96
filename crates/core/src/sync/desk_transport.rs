//! The transport a desk runs on: the live platform over HTTPS, or the
//! sandbox's simulated customers. One enum rather than a trait object
//! (the `Transport` trait returns `impl Future`), so the desk, the sync
//! engine and every screen are the same code in both modes (docs/architecture.md:
//! "Nothing else branches on the mode").

use homedesk_protocol::{ActionBatch, ActionResult, Attachment, Session, SignIn};

use super::{
    EventStream, FetchedMedia, HttpTransport, LinkQuality, PhotoSize, PullKinds, PulledPage,
    Transport, TransportError,
};
use crate::practice::transport::SimulatorTransport;

pub enum DeskTransport {
    Live(HttpTransport),
    Practice(SimulatorTransport),
}

impl Transport for DeskTransport {
    async fn sign_in(&self, request: &SignIn) -> Result<Session, TransportError> {
        match self {
            DeskTransport::Live(t) => t.sign_in(request).await,
            DeskTransport::Practice(t) => t.sign_in(request).await,
        }
    }

    async fn refresh(&self, refresh_token: &str) -> Result<Session, TransportError> {
        match self {
            DeskTransport::Live(t) => t.refresh(refresh_token).await,
            DeskTransport::Practice(t) => t.refresh(refresh_token).await,
        }
    }

    async fn push(
        &self,
        access_token: &str,
        batch: &ActionBatch,
    ) -> Result<Vec<ActionResult>, TransportError> {
        match self {
            DeskTransport::Live(t) => t.push(access_token, batch).await,
            DeskTransport::Practice(t) => t.push(access_token, batch).await,
        }
    }

    async fn push_and_pull(
        &self,
        access_token: &str,
        batch: &ActionBatch,
        cursor: &str,
    ) -> Result<(Vec<ActionResult>, Option<PulledPage>), TransportError> {
        match self {
            DeskTransport::Live(t) => t.push_and_pull(access_token, batch, cursor).await,
            DeskTransport::Practice(t) => t.push_and_pull(access_token, batch, cursor).await,
        }
    }

    async fn pull(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<PulledPage, TransportError> {
        match self {
            DeskTransport::Live(t) => t.pull(access_token, cursor, limit).await,
            DeskTransport::Practice(t) => t.pull(access_token, cursor, limit).await,
        }
    }

    async fn pull_kinds(
        &self,
        access_token: &str,
        cursor: Option<&str>,
        limit: usize,
        kinds: PullKinds,
    ) -> Result<PulledPage, TransportError> {
        match self {
            DeskTransport::Live(t) => t.pull_kinds(access_token, cursor, limit, kinds).await,
            DeskTransport::Practice(t) => t.pull_kinds(access_token, cursor, limit, kinds).await,
        }
    }

    async fn events(&self, access_token: &str) -> Result<EventStream, TransportError> {
        match self {
            DeskTransport::Live(t) => t.events(access_token).await,
            DeskTransport::Practice(t) => t.events(access_token).await,
        }
    }

    async fn upload_attachment(
        &self,
        access_token: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Attachment, TransportError> {
        match self {
            DeskTransport::Live(t) => t.upload_attachment(access_token, media_type, bytes).await,
            DeskTransport::Practice(t) => {
                t.upload_attachment(access_token, media_type, bytes).await
            }
        }
    }

    async fn fetch_attachment(
        &self,
        access_token: &str,
        id: &str,
        size: PhotoSize,
        max_bytes: usize,
    ) -> Result<FetchedMedia, TransportError> {
        match self {
            DeskTransport::Live(t) => t.fetch_attachment(access_token, id, size, max_bytes).await,
            DeskTransport::Practice(t) => {
                t.fetch_attachment(access_token, id, size, max_bytes).await
            }
        }
    }

    async fn fetch_conversation(
        &self,
        access_token: &str,
        id: &str,
    ) -> Result<homedesk_protocol::ConversationRecord, TransportError> {
        match self {
            DeskTransport::Live(t) => t.fetch_conversation(access_token, id).await,
            DeskTransport::Practice(t) => t.fetch_conversation(access_token, id).await,
        }
    }

    async fn end_session(&self, token: &str) -> Result<(), TransportError> {
        match self {
            DeskTransport::Live(t) => t.end_session(token).await,
            DeskTransport::Practice(t) => t.end_session(token).await,
        }
    }

    fn report_link(&self, link: LinkQuality) {
        match self {
            DeskTransport::Live(t) => t.report_link(link),
            DeskTransport::Practice(t) => t.report_link(link),
        }
    }

    fn cannot_connect(&self) -> bool {
        match self {
            DeskTransport::Live(t) => t.cannot_connect(),
            DeskTransport::Practice(t) => t.cannot_connect(),
        }
    }
}

impl super::SyncEngine<DeskTransport> {
    /// Runs `call` against the platform with this live desk's session,
    /// refreshing it once when the platform says it ran out (the team
    /// console's reads and its promotion). Refused on a practice desk.
    pub async fn on_platform<T, F, Fut>(&self, call: F) -> Result<T, super::SyncError>
    where
        F: Fn(super::HttpTransport, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, TransportError>>,
    {
        let DeskTransport::Live(http) = &self.transport else {
            return Err(super::SyncError::Transport(TransportError::Refused {
                status: 0,
                code: "practice".into(),
                message: "the sandbox cannot reach the platform".into(),
            }));
        };
        let token = self.access_token().await?;
        match self.timed(call(http.clone(), token.clone())).await {
            Err(TransportError::Unauthorized(_)) => {
                let token = self.token_rejected(&token).await?;
                match self.timed(call(http.clone(), token)).await {
                    Err(TransportError::Unauthorized(message)) => {
                        Err(self.require_sign_in(message))
                    }
                    other => Ok(other?),
                }
            }
            other => Ok(other?),
        }
    }

    /// Uploads practice results as training records with this live desk's
    /// session (refreshing it if needed). Refused on a practice desk: the
    /// sandbox has no way to the platform.
    pub async fn upload_training(
        &self,
        upload: &homedesk_protocol::TrainingUpload,
    ) -> Result<homedesk_protocol::TrainingUploadResult, super::SyncError> {
        let DeskTransport::Live(http) = &self.transport else {
            return Err(super::SyncError::Transport(TransportError::Refused {
                status: 0,
                code: "practice".into(),
                message: "the sandbox cannot reach the platform".into(),
            }));
        };
        let token = self.access_token().await?;
        Ok(http.upload_training(&token, upload).await?)
    }
}
