//! Serving the router over TLS, and shutting down without losing anything.
//!
//! Each accepted connection gets its own task: the TLS handshake (with a
//! deadline, so a stalled client holds nothing), then HTTP/2 when the client
//! offers it in ALPN (the workstation does: HPACK headers, one connection),
//! else HTTP/1.1 with a deadline for each request's headers. On shutdown
//! the listener closes, event streams end, and in-flight requests finish;
//! every acknowledged write was already durable when it was acknowledged.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::Platform;

const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);
/// HTTP/2 pings on a connection that has been silent this long (an event
/// stream's heartbeats keep a working one busy, so they are rare)...
const H2_PING_EVERY: Duration = Duration::from_secs(120);
/// ...and the connection is closed when the answer takes longer.
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves until `shutdown` completes, then drains.
pub async fn serve(
    platform: Arc<Platform>,
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let app = crate::http::router(platform.clone());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        // Handlers that limit by address (the web chat) read it from here.
        let service = TowerToHyperService::new(app.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        ));
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(tcp)).await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {err}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            let ended = if h2 {
                let connection =
                    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .timer(hyper_util::rt::TokioTimer::new())
                        // A peer that vanished (a dropped village link) is
                        // noticed and its connection freed.
                        .keep_alive_interval(Some(H2_PING_EVERY))
                        .keep_alive_timeout(H2_PING_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service);
                watcher.watch(connection).await
            } else {
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(30))
                    .serve_connection(TokioIo::new(stream), service);
                watcher.watch(connection).await
            };
            if let Err(err) = ended {
                tracing::debug!(%peer, "connection ended: {err}");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; finishing requests in flight");
    platform.shutting_down.send_replace(true);
    if tokio::time::timeout(DRAIN_DEADLINE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within {DRAIN_DEADLINE:?}; closing them");
    }
    Ok(())
}
