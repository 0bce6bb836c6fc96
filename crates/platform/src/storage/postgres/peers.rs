//! The other instances on one PostgreSQL database ([`Peers`]): nudges go
//! out with `pg_notify` on channel [`CHANNEL`], in order, from one task
//! that sends what queued up in one statement; one connection of its own
//! `LISTEN`s, and connects again (telling the platform it may have missed
//! some, [`Heard::Listening`]) when it drops.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::Pool;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

use super::redact;
use crate::hub::{Heard, Peers};

/// The `LISTEN/NOTIFY` channel every instance of a database shares.
pub const CHANNEL: &str = "homedesk_events";
/// Most nudges sent in one statement.
const BATCH: usize = 256;
/// How long to wait before connecting the listener again.
const RECONNECT: Duration = Duration::from_secs(1);

pub struct PgPeers {
    outgoing: mpsc::UnboundedSender<String>,
    incoming: Mutex<Option<mpsc::UnboundedReceiver<Heard>>>,
}

impl PgPeers {
    /// Starts the sender and the listener on `runtime`.
    pub fn start(runtime: &tokio::runtime::Handle, pool: Pool, url: String) -> Arc<PgPeers> {
        let (outgoing, queued) = mpsc::unbounded_channel();
        let (heard, incoming) = mpsc::unbounded_channel();
        runtime.spawn(send(pool, queued));
        runtime.spawn(listen(url, heard));
        Arc::new(PgPeers {
            outgoing,
            incoming: Mutex::new(Some(incoming)),
        })
    }
}

impl Peers for PgPeers {
    fn publish(&self, message: String) {
        // Closed only while the storage is dropped.
        let _ = self.outgoing.send(message);
    }

    fn subscribe(&self) -> Option<mpsc::UnboundedReceiver<Heard>> {
        self.incoming
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

async fn send(pool: Pool, mut queued: mpsc::UnboundedReceiver<String>) {
    while let Some(first) = queued.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH
            && let Ok(next) = queued.try_recv()
        {
            batch.push(next);
        }
        let sent = async {
            let client = pool.get().await?;
            client
                .execute(
                    "SELECT pg_notify($1, m) FROM unnest($2::text[]) WITH ORDINALITY AS t(m, i) ORDER BY i",
                    &[&CHANNEL, &batch],
                )
                .await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(err) = sent {
            // Lost nudges are made good by the instances' beats.
            tracing::warn!(
                nudges = batch.len(),
                "could not tell the other instances: {err:#}"
            );
        }
    }
}

async fn listen(url: String, heard: mpsc::UnboundedSender<Heard>) {
    while !heard.is_closed() {
        match tokio_postgres::connect(&url, NoTls).await {
            Ok((client, mut connection)) => {
                let (notifications, mut received) = mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notification(n)) => {
                                let _ = notifications.send(n.payload().to_owned());
                            }
                            Ok(_) => {}
                            Err(err) => {
                                tracing::warn!("the database connection for nudges broke: {err}");
                                return;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        let _ = heard.send(Heard::Listening);
                        while let Some(payload) = received.recv().await {
                            if heard.send(Heard::Message(payload)).is_err() {
                                return;
                            }
                        }
                    }
                    Err(err) => tracing::warn!("could not listen for nudges: {err}"),
                }
                driver.abort();
            }
            Err(err) => tracing::warn!("could not connect to {} for nudges: {err}", redact(&url)),
        }
        tokio::time::sleep(RECONNECT).await;
    }
}
