//! The media scheme (`homedesk-media://localhost/thumb/{id}`, `/full/{id}`,
//! `/local/{id}`; `http://homedesk-media.localhost/…` on Windows): how the
//! webview shows photos without `data:` URLs or any network of its own. An
//! adapter only: the path goes to `Workstation::media`, which checks it,
//! looks in the local cache and fetches from the platform when it must
//! (`homedesk_core::photos`); its answer is written back as HTTP.

use homedesk_core::Workstation;
use homedesk_core::photos::MediaAnswer;
use tauri::http::{Request, Response, header};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

pub use homedesk_core::photos::MEDIA_SCHEME;

/// Answers one request of the webview, off the main thread.
pub fn serve<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let path = request.uri().path().to_owned();
    tauri::async_runtime::spawn(async move {
        let answer = app.state::<Workstation>().media(&path).await;
        responder.respond(response(answer));
    });
}

fn response(answer: MediaAnswer) -> Response<Vec<u8>> {
    Response::builder()
        .status(answer.status)
        .header(header::CONTENT_TYPE, answer.content_type)
        .header(header::CACHE_CONTROL, answer.cache_control)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(answer.body)
        .unwrap_or_else(|_| {
            let mut fallback = Response::new(Vec::new());
            *fallback.status_mut() = tauri::http::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
