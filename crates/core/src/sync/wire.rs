//! Bytes on the wire: what the workstation really sends and receives.
//!
//! reqwest decompresses answers and drops their `Content-Length`, and it
//! hides the TLS records, the headers and the event stream's heartbeats, so
//! counting at the HTTP level reads several times too high for pages of
//! changes (decompressed) and too low for an idle event stream (TLS framing).
//! Instead every connection to the platform goes through a [`Relay`]: reqwest
//! connects to a Unix socket in a private folder (its `unix_socket` option;
//! TLS still runs end to end over it), and the relay opens the real TCP
//! connection and copies both ways, counting every byte it writes to and
//! reads from the TCP socket into a [`WireMeter`]. What is counted is exactly
//! what a proxy on the link would carry (TCP/IP headers aside).
//!
//! The relay runs on its own thread with a one-thread tokio runtime, so it
//! works whichever runtime (or none) makes the transport; it stops, cutting
//! its connections, when the [`Relay`] is dropped. It connects only to the
//! one platform address it was made for. (docs/decisions/0035-data-on-the-wire.md)

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixListener, UnixStream};
use tokio::sync::oneshot;

/// Bytes carried on the workstation's connections to the platform, since
/// the meter was made (device-wide: every transport and the updater share
/// one).
#[derive(Debug, Default)]
pub struct WireMeter {
    sent: AtomicU64,
    received: AtomicU64,
    connections: AtomicU64,
}

impl WireMeter {
    pub fn new() -> Arc<WireMeter> {
        Arc::new(WireMeter::default())
    }

    /// Bytes written to the platform (requests, TLS included).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Bytes read from the platform (answers, the event stream, TLS included).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// TCP connections opened to the platform.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn add_for_test(&self, sent: u64, received: u64) {
        self.sent.fetch_add(sent, Ordering::Relaxed);
        self.received.fetch_add(received, Ordering::Relaxed);
    }
}

/// The counting relay of one platform address (see the module comment).
#[derive(Debug)]
pub struct Relay {
    socket: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    /// Private (0700) folder holding the socket; removed on drop.
    _dir: tempfile::TempDir,
}

impl Relay {
    /// Starts relaying to `host:port`, counting into `meter`. A TCP connect
    /// that takes longer than `connect_timeout` (or fails) closes the
    /// client's socket, which reqwest reports as an unreachable platform.
    pub fn start(
        host: &str,
        port: u16,
        connect_timeout: Duration,
        meter: Arc<WireMeter>,
    ) -> io::Result<Relay> {
        let dir = tempfile::Builder::new()
            .prefix("homedesk-link-")
            .tempdir()?;
        let socket = dir.path().join("platform.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket)?;
        listener.set_nonblocking(true)?;
        let (stop, stopped) = oneshot::channel();
        let target = (host.trim_matches(['[', ']']).to_owned(), port);
        std::thread::Builder::new()
            .name("homedesk-link".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        tracing::error!("the link relay cannot start: {err}");
                        return;
                    }
                };
                runtime.block_on(serve(listener, target, connect_timeout, meter, stopped));
            })?;
        Ok(Relay {
            socket,
            stop: Some(stop),
            _dir: dir,
        })
    }

    /// The socket reqwest connects to (`ClientBuilder::unix_socket`).
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(
    listener: std::os::unix::net::UnixListener,
    target: (String, u16),
    connect_timeout: Duration,
    meter: Arc<WireMeter>,
    mut stopped: oneshot::Receiver<()>,
) {
    let listener = match UnixListener::from_std(listener) {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!("the link relay cannot listen: {err}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                let target = target.clone();
                let meter = Arc::clone(&meter);
                tokio::spawn(relay_one(client, target, connect_timeout, meter));
            }
        }
    }
}

async fn relay_one(
    mut client: UnixStream,
    (host, port): (String, u16),
    connect_timeout: Duration,
    meter: Arc<WireMeter>,
) {
    let tcp = match tokio::time::timeout(connect_timeout, TcpStream::connect((host.as_str(), port)))
        .await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(err)) => {
            tracing::debug!("cannot reach the platform at {host}:{port}: {err}");
            return;
        }
        Err(_) => {
            tracing::debug!(
                "no answer from the platform at {host}:{port} within {connect_timeout:?}"
            );
            return;
        }
    };
    let _ = tcp.set_nodelay(true);
    meter.connections.fetch_add(1, Ordering::Relaxed);
    let mut counted = Counted { tcp, meter };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut counted).await;
}

/// The TCP side of a relayed connection, counting what passes.
struct Counted {
    tcp: TcpStream,
    meter: Arc<WireMeter>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let read = (buf.filled().len() - before) as u64;
            self.meter.received.fetch_add(read, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.tcp).poll_write(cx, data);
        if let Poll::Ready(Ok(written)) = polled {
            self.meter.sent.fetch_add(written as u64, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
