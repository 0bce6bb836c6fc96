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
//!
//! Because reqwest's connect to the Unix socket always succeeds, its TLS
//! would send a ClientHello even while the platform cannot be reached, and
//! rustls spends a session ticket on each (tickets are used once): after a
//! few retries through an outage every reconnect was a full handshake with
//! the certificate (≈1.2 KB more than a resumed one). So once a TCP connect
//! has failed, [`Relay::ready`] checks with a bare TCP connect before the
//! next request, and hands that connection to the request when it works.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// The last TCP connect to the platform failed.
    unreachable: Arc<AtomicBool>,
    /// Asks the relay's thread to connect ahead ([`Relay::ready`]).
    connect_ahead: tokio::sync::mpsc::UnboundedSender<oneshot::Sender<io::Result<()>>>,
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
        let (connect_ahead, ahead) = tokio::sync::mpsc::unbounded_channel();
        let unreachable = Arc::new(AtomicBool::new(false));
        let link = Link {
            target: (host.trim_matches(['[', ']']).to_owned(), port),
            connect_timeout,
            meter,
            unreachable: Arc::clone(&unreachable),
            spare: std::sync::Mutex::new(None),
        };
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
                runtime.block_on(serve(listener, Arc::new(link), ahead, stopped));
            })?;
        Ok(Relay {
            socket,
            stop: Some(stop),
            unreachable,
            connect_ahead,
            _dir: dir,
        })
    }

    /// Whether a request may start: at once while the platform answers;
    /// after a failed connect, only once a bare TCP connect works again
    /// (that connection then carries the request). An error means the
    /// platform is still out of reach, and nothing was sent.
    pub async fn ready(&self) -> io::Result<()> {
        if !self.unreachable.load(Ordering::Relaxed) {
            return Ok(());
        }
        let (answer, answered) = oneshot::channel();
        if self.connect_ahead.send(answer).is_err() {
            return Err(io::Error::other("the link relay has stopped"));
        }
        answered
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the link relay has stopped")))
    }

    /// The last TCP connect to the platform failed (and none has worked
    /// since).
    pub fn cannot_connect(&self) -> bool {
        self.unreachable.load(Ordering::Relaxed)
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

/// What the relay's thread knows of its platform.
struct Link {
    target: (String, u16),
    connect_timeout: Duration,
    meter: Arc<WireMeter>,
    unreachable: Arc<AtomicBool>,
    /// A connection made ahead by [`Relay::ready`], for the next request.
    spare: std::sync::Mutex<Option<(std::time::Instant, TcpStream)>>,
}

/// A spare connection older than this is not handed out: the platform
/// closes a connection that sends no TLS within its handshake deadline.
const SPARE_FOR: Duration = Duration::from_secs(3);

/// A village link often dies without a word: no reset, no close, the
/// packets just stop. HTTP/2 keeps a connection until it is told it is
/// gone, so without these the desk would send every retry into the dead
/// connection until the kernel gives up on it (about 15 minutes of
/// retransmissions on Linux), long after the link came back. So the
/// kernel watches the relay's TCP connections ([`watch_for_a_dead_link`]):
/// - keepalive probes after [`KEEPALIVE_IDLE`] of silence both ways, longer
///   than the event stream's heartbeat (15 s), so a working desk never
///   sends one; [`KEEPALIVE_PROBES`] unanswered, [`KEEPALIVE_INTERVAL`]
///   apart, and the connection is closed;
/// - (Linux) bytes sent and not acknowledged within [`UNACKNOWLEDGED_LIMIT`]
///   close it too: a request sent into a dead link.
///
/// The closed connection reaches reqwest as the end of its socket, so the
/// next request connects anew, and that connect says whether the link is
/// back (decision 0049).
const KEEPALIVE_IDLE: Duration = Duration::from_secs(20);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_PROBES: u32 = 3;
const UNACKNOWLEDGED_LIMIT: Duration = Duration::from_secs(30);

/// Sets the options above on a connection to the platform. Best effort: a
/// system that refuses one keeps its defaults (and the request timeouts
/// still give up on each request).
fn watch_for_a_dead_link(tcp: &TcpStream) {
    let socket = socket2::SockRef::from(tcp);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL);
    #[cfg(not(windows))]
    let keepalive = keepalive.with_retries(KEEPALIVE_PROBES);
    if let Err(err) = socket.set_tcp_keepalive(&keepalive) {
        tracing::debug!("TCP keepalive not set: {err}");
    }
    #[cfg(target_os = "linux")]
    if let Err(err) = socket.set_tcp_user_timeout(Some(UNACKNOWLEDGED_LIMIT)) {
        tracing::debug!("TCP_USER_TIMEOUT not set: {err}");
    }
}

impl Link {
    async fn connect(&self) -> io::Result<TcpStream> {
        let (host, port) = (self.target.0.as_str(), self.target.1);
        let connected = match tokio::time::timeout(
            self.connect_timeout,
            TcpStream::connect((host, port)),
        )
        .await
        {
            Ok(connected) => connected,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "no answer from the platform at {host}:{port} within {:?}",
                    self.connect_timeout
                ),
            )),
        };
        self.unreachable
            .store(connected.is_err(), Ordering::Relaxed);
        if let Ok(tcp) = &connected {
            watch_for_a_dead_link(tcp);
        }
        connected
    }

    fn take_spare(&self) -> Option<TcpStream> {
        let spare = self.spare.lock().unwrap_or_else(|p| p.into_inner()).take();
        spare.and_then(|(made, tcp)| (made.elapsed() < SPARE_FOR).then_some(tcp))
    }
}

async fn serve(
    listener: std::os::unix::net::UnixListener,
    link: Arc<Link>,
    mut ahead: tokio::sync::mpsc::UnboundedReceiver<oneshot::Sender<io::Result<()>>>,
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
            Some(answer) = ahead.recv() => {
                let link = Arc::clone(&link);
                tokio::spawn(async move {
                    let connected = link.connect().await.map(|tcp| {
                        *link.spare.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some((std::time::Instant::now(), tcp));
                    });
                    let _ = answer.send(connected);
                });
            }
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                tokio::spawn(relay_one(client, Arc::clone(&link)));
            }
        }
    }
}

async fn relay_one(mut client: UnixStream, link: Arc<Link>) {
    let tcp = match link.take_spare() {
        Some(tcp) => tcp,
        None => match link.connect().await {
            Ok(tcp) => tcp,
            Err(err) => {
                tracing::debug!("cannot reach the platform: {err}");
                return;
            }
        },
    };
    let _ = tcp.set_nodelay(true);
    link.meter.connections.fetch_add(1, Ordering::Relaxed);
    let mut counted = Counted {
        tcp,
        meter: Arc::clone(&link.meter),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_to_the_platform_are_watched_for_a_dead_link() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let link = Link {
            target: ("127.0.0.1".into(), port),
            connect_timeout: Duration::from_secs(5),
            meter: WireMeter::new(),
            unreachable: Arc::new(AtomicBool::new(false)),
            spare: std::sync::Mutex::new(None),
        };
        let tcp = link.connect().await.expect("connects");
        let socket = socket2::SockRef::from(&tcp);
        assert!(socket.keepalive().expect("keepalive"));
        assert_eq!(socket.tcp_keepalive_time().expect("idle"), KEEPALIVE_IDLE);
        assert_eq!(
            socket.tcp_keepalive_interval().expect("interval"),
            KEEPALIVE_INTERVAL
        );
        assert_eq!(
            socket.tcp_keepalive_retries().expect("probes"),
            KEEPALIVE_PROBES
        );
        #[cfg(target_os = "linux")]
        assert_eq!(
            socket.tcp_user_timeout().expect("user timeout"),
            Some(UNACKNOWLEDGED_LIMIT)
        );
        // Longer than the heartbeat: a working desk's stream never idles
        // long enough for a probe.
        assert!(KEEPALIVE_IDLE > Duration::from_secs(homedesk_protocol::HEARTBEAT_SECS));
    }
}
