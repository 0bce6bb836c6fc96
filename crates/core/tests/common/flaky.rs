//! A fault-injecting TCP proxy: the village link in a test.
//!
//! It sits between the workstation and the real platform on loopback (TLS
//! passes through untouched) and, depending on its mode, delays chunks, cuts
//! connections mid-answer, resets them, or stalls them. This kernel has no
//! `tc netem`, so faults are made here.
//!
//! For link emulation (the `link` bench) it also adds a one-way delay to
//! every chunk in each direction ([`FlakyProxy::set_delay`]): half an RTT
//! each way, the chunk held in a queue, so the delay does not slow the
//! throughput down; and it can flap on a schedule ([`FlakyProxy::flap`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How the link behaves for new and open connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Everything passes.
    Up,
    /// New connections are reset at once; open ones are cut.
    Down,
    /// Every forwarded chunk waits this long: a slow but working link.
    Slow(Duration),
    /// Each forwarded chunk may be delayed, or the connection cut, reset or
    /// stalled, with these chances (0.0..=1.0).
    Faulty {
        delay: f64,
        cut: f64,
        reset: f64,
        stall: f64,
    },
}

#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub cuts: AtomicU64,
    pub resets: AtomicU64,
    pub stalls: AtomicU64,
    pub bytes: AtomicU64,
    /// Bytes from the platform to the workstation (what the workstation
    /// downloads, TLS included).
    pub down_bytes: AtomicU64,
}

pub struct FlakyProxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    pub stats: Arc<Stats>,
    /// One-way delay in microseconds (each direction), for new connections.
    delay_us: Arc<AtomicU64>,
    /// While `Down`, refuse new connections at the TCP level (no listener)
    /// rather than accept and reset them ([`Self::flap`]).
    unreachable: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
    flaps: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl FlakyProxy {
    pub async fn start(upstream: SocketAddr, seed: u64) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("addr");
        let (mode, _) = watch::channel(Mode::Up);
        let stats = Arc::new(Stats::default());
        let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
        let delay_us = Arc::new(AtomicU64::new(0));
        let unreachable = Arc::new(AtomicBool::new(false));
        let task = {
            let mode = mode.clone();
            let stats = Arc::clone(&stats);
            let delay_us = Arc::clone(&delay_us);
            let unreachable = Arc::clone(&unreachable);
            tokio::spawn(async move {
                let mut listener = Some(listener);
                let mut watching = mode.subscribe();
                loop {
                    if unreachable.load(Ordering::Relaxed) && *watching.borrow() == Mode::Down {
                        // A link that is down answers no SYN: the client's
                        // connect fails before a TLS byte is sent. Closing
                        // the listener refuses new connections outright.
                        drop(listener.take());
                        while *watching.borrow_and_update() == Mode::Down {
                            if watching.changed().await.is_err() {
                                return;
                            }
                        }
                    }
                    let Some(open) = listener.as_ref() else {
                        match TcpListener::bind(addr).await {
                            Ok(again) => listener = Some(again),
                            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                        continue;
                    };
                    let accepted = tokio::select! {
                        accepted = open.accept() => accepted,
                        _ = watching.changed() => continue,
                    };
                    let Ok((client, _)) = accepted else {
                        continue;
                    };
                    stats.connections.fetch_add(1, Ordering::Relaxed);
                    let modes = mode.subscribe();
                    if *modes.borrow() == Mode::Down {
                        reset(client);
                        stats.resets.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let stats = Arc::clone(&stats);
                    let rng = Arc::clone(&rng);
                    let delay = Duration::from_micros(delay_us.load(Ordering::Relaxed));
                    tokio::spawn(async move {
                        // The TCP handshake of the emulated link: the
                        // client's first bytes leave one RTT after its SYN.
                        if !delay.is_zero() {
                            tokio::time::sleep(delay * 2).await;
                        }
                        let Ok(server) = TcpStream::connect(upstream).await else {
                            reset(client);
                            return;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (client_read, client_write) = client.into_split();
                        let (server_read, server_write) = server.into_split();
                        if !delay.is_zero() {
                            let up = delayed_pump(
                                client_read,
                                server_write,
                                modes.clone(),
                                stats.clone(),
                                delay,
                                false,
                            );
                            let down =
                                delayed_pump(server_read, client_write, modes, stats, delay, true);
                            tokio::select! {
                                _ = up => {}
                                _ = down => {}
                            }
                            return;
                        }
                        let up = pump(
                            client_read,
                            server_write,
                            modes.clone(),
                            stats.clone(),
                            rng.clone(),
                            false,
                        );
                        let down = pump(server_read, client_write, modes, stats, rng, true);
                        // When either direction fails, the connection is over.
                        tokio::select! {
                            _ = up => {}
                            _ = down => {}
                        }
                    });
                }
            })
        };
        FlakyProxy {
            addr,
            mode,
            stats,
            delay_us,
            unreachable,
            task,
            flaps: Mutex::new(None),
        }
    }

    /// Every chunk reaches the other side `one_way` after it was read, in
    /// both directions (an RTT of twice that), for connections opened from
    /// now on; a new connection forwards nothing for its first RTT (the TCP
    /// handshake). Chunks queue while they wait, so throughput is not cut.
    /// With a delay, only the modes `Up` and `Down` apply.
    pub fn set_delay(&self, one_way: Duration) {
        self.delay_us
            .store(one_way.as_micros() as u64, Ordering::Relaxed);
    }

    /// Flaps the link: `Up` for `up`, then `Down` for `down`, over and over
    /// until [`Self::steady`] or the proxy is dropped. While down, new
    /// connections are refused before any byte, as a dead village link
    /// does (accepted then reset, the client would send its TLS ClientHello
    /// first, bytes no real outage carries).
    pub fn flap(&self, up: Duration, down: Duration) {
        self.unreachable.store(true, Ordering::Relaxed);
        let mode = self.mode.clone();
        let task = tokio::spawn(async move {
            loop {
                mode.send_replace(Mode::Up);
                tokio::time::sleep(up).await;
                mode.send_replace(Mode::Down);
                tokio::time::sleep(down).await;
            }
        });
        if let Some(old) = self
            .flaps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }

    /// The link goes down as a dead link does: open connections are cut
    /// and new ones refused before any byte. [`Self::set`]`(Mode::Up)`
    /// brings it back.
    pub fn unplug(&self) {
        self.unreachable.store(true, Ordering::Relaxed);
        self.set(Mode::Down);
    }

    /// Stops flapping and leaves the link up.
    pub fn steady(&self) {
        if let Some(task) = self.flaps.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        self.set(Mode::Up);
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn set(&self, mode: Mode) {
        // `send` would drop the value while no connection is open.
        self.mode.send_replace(mode);
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(task) = self.flaps.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

/// Closes with RST instead of FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

enum Fault {
    None,
    Delay(Duration),
    Cut,
    Reset,
    Stall(Duration),
}

fn pick(mode: Mode, rng: &Mutex<StdRng>) -> Fault {
    if let Mode::Slow(wait) = mode {
        return Fault::Delay(wait);
    }
    let Mode::Faulty {
        delay,
        cut,
        reset,
        stall,
    } = mode
    else {
        return Fault::None;
    };
    let mut rng = rng.lock().unwrap_or_else(|p| p.into_inner());
    let roll: f64 = rng.random();
    if roll < cut {
        Fault::Cut
    } else if roll < cut + reset {
        Fault::Reset
    } else if roll < cut + reset + stall {
        Fault::Stall(Duration::from_millis(rng.random_range(500..4000)))
    } else if roll < cut + reset + stall + delay {
        Fault::Delay(Duration::from_millis(rng.random_range(5..300)))
    } else {
        Fault::None
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
    stats: Arc<Stats>,
    rng: Arc<Mutex<StdRng>>,
    downstream: bool,
) {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Mode::Down {
                    stats.cuts.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                continue;
            }
        };
        let current = *mode.borrow();
        if current == Mode::Down {
            stats.cuts.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match pick(current, &rng) {
            Fault::None => {}
            Fault::Delay(d) => tokio::time::sleep(d).await,
            Fault::Cut => {
                // Forward part of the chunk, then drop the connection.
                let part = n / 2;
                let _ = to.write_all(&buf[..part]).await;
                stats.cuts.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Fault::Reset => {
                stats.resets.fetch_add(1, Ordering::Relaxed);
                if let Ok(stream) = from.reunite(to) {
                    reset(stream);
                }
                return;
            }
            Fault::Stall(d) => {
                stats.stalls.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(d).await;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
        if downstream {
            stats.down_bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// Forwards like [`pump`], each chunk `delay` after it was read: a reader
/// queues chunks with their due time, a writer sends each when due. The
/// link going `Down` cuts the connection, chunks in flight included.
async fn delayed_pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
    stats: Arc<Stats>,
    delay: Duration,
    downstream: bool,
) {
    let conn = stats.connections.load(Ordering::Relaxed);
    let trace = std::env::var_os("HOMEDESK_PROXY_TRACE").is_some();
    let (queue, mut due) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let mut reader_mode = mode.clone();
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = tokio::select! {
                read = from.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                },
                changed = reader_mode.changed() => {
                    if changed.is_err() || *reader_mode.borrow() == Mode::Down {
                        return;
                    }
                    continue;
                }
            };
            if *reader_mode.borrow() == Mode::Down {
                return;
            }
            if queue
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
            {
                return;
            }
        }
    };
    let writer = async move {
        while let Some((when, chunk)) = due.recv().await {
            tokio::select! {
                () = tokio::time::sleep_until(when.into()) => {}
                changed = mode.changed() => {
                    if changed.is_err() || *mode.borrow() == Mode::Down {
                        stats.cuts.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    tokio::time::sleep_until(when.into()).await;
                }
            }
            if *mode.borrow() == Mode::Down {
                stats.cuts.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            if trace {
                // HOMEDESK_PROXY_TRACE: one line per chunk, to see what a
                // request costs on the wire (docs/benchmarks.md).
                let direction = if downstream { "down" } else { "up" };
                eprintln!(
                    "proxy: connection {conn} {direction} {} B, TLS records {:?}",
                    chunk.len(),
                    tls_record_lengths(&chunk)
                );
            }
            stats.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if downstream {
                stats
                    .down_bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        }
    };
    // The writer ends once the reader has ended and the queue is drained.
    tokio::join!(reader, writer);
}

/// The lengths of the whole TLS records a chunk starts with (header
/// included), for the trace: a record is 5 bytes of header (type, version,
/// length) and its length's bytes. Stops at the first that does not fit.
fn tls_record_lengths(chunk: &[u8]) -> Vec<usize> {
    let mut lengths = Vec::new();
    let mut at = 0;
    while chunk.len() >= at + 5 {
        let len = 5 + usize::from(u16::from_be_bytes([chunk[at + 3], chunk[at + 4]]));
        if chunk.len() < at + len {
            break;
        }
        lengths.push(len);
        at += len;
    }
    lengths
}
