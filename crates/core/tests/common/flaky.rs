//! A fault-injecting TCP proxy: the village link in a test.
//!
//! It sits between the workstation and the real platform on loopback (TLS
//! passes through untouched) and, depending on its mode, delays chunks, cuts
//! connections mid-answer, resets them, or stalls them. This kernel has no
//! `tc netem`, so faults are made here.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    task: tokio::task::JoinHandle<()>,
}

impl FlakyProxy {
    pub async fn start(upstream: SocketAddr, seed: u64) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("addr");
        let (mode, _) = watch::channel(Mode::Up);
        let stats = Arc::new(Stats::default());
        let rng = Arc::new(Mutex::new(StdRng::seed_from_u64(seed)));
        let task = {
            let mode = mode.clone();
            let stats = Arc::clone(&stats);
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
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
                    tokio::spawn(async move {
                        let Ok(server) = TcpStream::connect(upstream).await else {
                            reset(client);
                            return;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (client_read, client_write) = client.into_split();
                        let (server_read, server_write) = server.into_split();
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
            task,
        }
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
