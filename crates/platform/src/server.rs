//! Serving the router over TLS, and shutting down without losing anything.
//!
//! Each accepted connection gets its own task: the TLS handshake (with a
//! deadline, so a stalled client holds nothing), then HTTP/2 when the client
//! offers it in ALPN (the workstation does: HPACK headers, one connection),
//! else HTTP/1.1 with a deadline for each request's headers. A peer that
//! vanished (a village link that dropped without a word) is noticed by the
//! kernel, at no cost on the wire ([`watch_for_a_vanished_peer`]). On shutdown
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
/// A connection silent this long both ways gets TCP keepalive probes...
const KEEPALIVE_IDLE: Duration = Duration::from_secs(120);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);
/// ...and is closed when bytes sent (a heartbeat, a probe) go this long
/// without the peer's acknowledgement.
const UNACKNOWLEDGED_LIMIT: Duration = Duration::from_secs(45);

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
        watch_for_a_vanished_peer(&tcp);
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

/// Has the kernel notice a peer that vanished and close its connection:
/// TCP keepalive probes after [`KEEPALIVE_IDLE`] of silence both ways, and
/// `TCP_USER_TIMEOUT` ([`UNACKNOWLEDGED_LIMIT`]) for bytes that go
/// unacknowledged. An event stream sends a heartbeat after every 15 s of
/// silence, so a desk whose link died is let go within about a minute;
/// a connection with no stream, within about three. HTTP/2 pings did this
/// before, at 78 B on the wire every 120 s of every desk's connection,
/// since a desk only listens (decision 0048). Best effort: a socket that
/// refuses an option keeps the kernel's defaults.
fn watch_for_a_vanished_peer(tcp: &tokio::net::TcpStream) {
    let socket = socket2::SockRef::from(tcp);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(3);
    if let Err(err) = socket.set_tcp_keepalive(&keepalive) {
        tracing::debug!("TCP keepalive not set: {err}");
    }
    #[cfg(target_os = "linux")]
    if let Err(err) = socket.set_tcp_user_timeout(Some(UNACKNOWLEDGED_LIMIT)) {
        tracing::debug!("TCP_USER_TIMEOUT not set: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_sockets_watch_for_a_vanished_peer() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        watch_for_a_vanished_peer(&tcp);
        let socket = socket2::SockRef::from(&tcp);
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), KEEPALIVE_IDLE);
        assert_eq!(socket.tcp_keepalive_interval().unwrap(), KEEPALIVE_INTERVAL);
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), 3);
        #[cfg(target_os = "linux")]
        assert_eq!(
            socket.tcp_user_timeout().unwrap(),
            Some(UNACKNOWLEDGED_LIMIT)
        );
    }
}
