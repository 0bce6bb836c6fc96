//! One link that can be cut: a TCP relay on loopback between the app and
//! the platform. [`LinkRelay::cut`] drops every connection through it and
//! turns new ones away (the village link is down for this agent only: the
//! platform and everyone else carry on); [`LinkRelay::restore`] lets them
//! through again. TLS passes through untouched, so the app checks the
//! platform's real certificate.
//!
//! It runs on a thread of its own with its own runtime, so it relays also
//! while the test blocks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A relay from `url` to the platform; stopped on drop.
pub struct LinkRelay {
    /// `https://127.0.0.1:PORT`: give this to the app instead of the platform's.
    pub url: String,
    up: Arc<AtomicBool>,
    /// Bumped to end every open connection; `None` stops the relay.
    cuts: watch::Sender<Option<u64>>,
}

impl LinkRelay {
    /// Relays to the platform at `target` (`https://127.0.0.1:PORT`).
    pub fn start(target: &str) -> anyhow::Result<LinkRelay> {
        let target: SocketAddr = target
            .trim_start_matches("https://")
            .parse()
            .with_context(|| format!("{target} is not https://IP:PORT"))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("https://{}", listener.local_addr()?);
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, watch_cuts) = watch::channel(Some(0));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let relay_up = Arc::clone(&up);
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                relay(listener, target, relay_up, watch_cuts).await;
            });
        });
        Ok(LinkRelay { url, up, cuts })
    }

    /// The link drops: open connections end, new ones are closed at once.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts
            .send_modify(|generation| *generation = generation.map(|g| g + 1));
    }

    /// The link is back.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for LinkRelay {
    fn drop(&mut self) {
        self.cuts.send_replace(None);
    }
}

async fn relay(
    listener: TcpListener,
    target: SocketAddr,
    up: Arc<AtomicBool>,
    mut cuts: watch::Receiver<Option<u64>>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = cuts.changed() => {
                if cuts.borrow().is_none() {
                    return;
                }
                continue;
            }
        };
        let Ok((mut inbound, _)) = accepted else {
            continue;
        };
        if !up.load(Ordering::SeqCst) {
            // Down: the connection closes before a byte passes.
            drop(inbound);
            continue;
        }
        let mut cut = cuts.clone();
        tokio::spawn(async move {
            let Ok(mut outbound) = TcpStream::connect(target).await else {
                return;
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
