//! Fan-out of server-sent events to connected workstations, on this
//! instance and on the others sharing the database.
//!
//! One broadcast channel carries every event with its addressee; each event
//! stream keeps what is for everyone or for its own agent, except what its
//! own sign-in caused (`skip_family`: an agent's own actions are pulled right
//! after they are pushed, so poking that workstation again only costs it an
//! empty pull on the village link). A stream that
//! falls behind loses nothing that matters: it is sent a `changes` poke and
//! the workstation pulls the change log, which is the truth.
//!
//! Other instances (PostgreSQL's `LISTEN/NOTIFY`, [`Peers`]) hear of each
//! event as a [`Nudge`]: what to read, never the data itself. A `changes`
//! nudge carries the log position, an offer nudge the offer's id, which the
//! instance holding the agent's stream reads from the database
//! (`Platform::run_peers`). Nudges have no replay: a lost one is made good
//! by the next beat, which pokes when the log grew past the last poke
//! (decision 0042).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use homedesk_protocol::ServerEvent;

use crate::storage::{Audience, Viewer};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

#[derive(Debug, Clone)]
pub enum Addressee {
    Everyone,
    Agent(String),
}

#[derive(Debug, Clone)]
pub struct Envelope {
    pub to: Addressee,
    pub event: ServerEvent,
    /// Not for the event streams of this sign-in (token family).
    pub skip_family: Option<String>,
    /// For a `changes` poke: who may see what was logged (`None`: not
    /// known, everyone reads). A stream none of whose viewers is in it
    /// has nothing to read.
    pub viewers: Option<Audience>,
}

/// Most viewers a nudge names; a write for more is a nudge for everyone.
const MAX_NUDGE_VIEWERS: usize = 64;

/// What another instance is told of an event: what to read, not the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Nudge {
    /// The change log grew to `latest_seq`.
    Changes {
        latest_seq: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        skip_family: Option<String>,
        /// Who may see what was logged, encoded (`Viewer::encode`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        viewers: Option<Vec<String>>,
    },
    /// `agent` was offered `offer_id` (read it from the offers).
    Offer { agent: String, offer_id: String },
    /// `agent`'s offer `offer_id` ended without them.
    Withdrawn { agent: String, offer_id: String },
    /// Supervisor `supervisor`'s team view changed.
    Team { supervisor: String },
}

/// A nudge on the wire between instances, with the instance it came from
/// (an instance hears its own nudges too, and skips them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerMessage {
    pub from: String,
    #[serde(flatten)]
    pub nudge: Nudge,
}

/// What an instance hears from the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Message(String),
    /// Listening (again): nudges sent while it was not may be lost.
    Listening,
}

/// The other instances sharing this database.
pub trait Peers: Send + Sync {
    /// Sends `message` to every instance (this one included), in order,
    /// without waiting.
    fn publish(&self, message: String);
    /// What the instances publish; the first caller takes the receiver.
    fn subscribe(&self) -> Option<mpsc::UnboundedReceiver<Heard>>;
}

pub struct Hub {
    sender: broadcast::Sender<Envelope>,
    /// This instance's id (`Connections::instance`).
    instance: String,
    peers: Option<Arc<dyn Peers>>,
    /// The highest log position this instance has poked its streams with.
    last_poke: AtomicU64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("instance", &self.instance)
            .field("peers", &self.peers.is_some())
            .finish_non_exhaustive()
    }
}

impl Hub {
    pub fn new(instance: &str, peers: Option<Arc<dyn Peers>>) -> Hub {
        let (sender, _) = broadcast::channel(1024);
        Hub {
            sender,
            instance: instance.to_owned(),
            peers,
            last_poke: AtomicU64::new(0),
        }
    }

    pub fn send(&self, to: Addressee, event: ServerEvent) {
        self.dispatch(to, event, None, None);
    }

    /// A `changes` poke at `latest` for what `viewers` may see, except to
    /// the event streams of sign-in `skip_family`.
    pub fn send_changes(&self, latest: u64, viewers: Option<Audience>, skip_family: Option<&str>) {
        let viewers = viewers.filter(|v| v.len() <= MAX_NUDGE_VIEWERS);
        self.dispatch(
            Addressee::Everyone,
            ServerEvent::poke(latest),
            skip_family.map(str::to_owned),
            viewers,
        );
    }

    fn dispatch(
        &self,
        to: Addressee,
        event: ServerEvent,
        skip_family: Option<String>,
        viewers: Option<Audience>,
    ) {
        if let Some(peers) = &self.peers
            && let Some(nudge) = nudge_for(&to, &event, skip_family.as_deref(), viewers.as_ref())
        {
            let message = PeerMessage {
                from: self.instance.clone(),
                nudge,
            };
            match serde_json::to_string(&message) {
                Ok(text) => peers.publish(text),
                Err(err) => tracing::error!("could not encode a nudge: {err}"),
            }
        }
        self.deliver(to, event, skip_family, viewers);
    }

    /// Hands an event to this instance's streams only.
    pub fn deliver(
        &self,
        to: Addressee,
        event: ServerEvent,
        skip_family: Option<String>,
        viewers: Option<Audience>,
    ) {
        if let ServerEvent::Changes { latest_seq, .. } = &event {
            self.last_poke.fetch_max(*latest_seq, Ordering::Relaxed);
        }
        // No receiver (nobody connected) is not an error.
        let _ = self.sender.send(Envelope {
            to,
            event,
            skip_family,
            viewers,
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.sender.subscribe()
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The other instances, when the storage has any.
    pub fn peers(&self) -> Option<&Arc<dyn Peers>> {
        self.peers.as_ref()
    }

    /// Counts `seq` as poked: at the start, the log's head (a stream that
    /// opens is poked with the head it finds, so nothing before the start
    /// waits for a poke).
    pub fn mark_poked(&self, seq: u64) {
        self.last_poke.fetch_max(seq, Ordering::Relaxed);
    }

    /// The highest log position this instance's streams were poked with.
    pub fn last_poke(&self) -> u64 {
        self.last_poke.load(Ordering::Relaxed)
    }
}

/// What the other instances are told of `event` (`None`: nothing, it is
/// about this instance's streams alone).
fn nudge_for(
    to: &Addressee,
    event: &ServerEvent,
    skip_family: Option<&str>,
    viewers: Option<&Audience>,
) -> Option<Nudge> {
    let agent = match to {
        Addressee::Agent(agent) => Some(agent.clone()),
        Addressee::Everyone => None,
    };
    match event {
        ServerEvent::Changes { latest_seq, .. } => Some(Nudge::Changes {
            latest_seq: *latest_seq,
            skip_family: skip_family.map(str::to_owned),
            viewers: viewers.map(|v| v.iter().map(Viewer::encode).collect()),
        }),
        ServerEvent::Offer(offer) => Some(Nudge::Offer {
            agent: agent?,
            offer_id: offer.offer_id.clone(),
        }),
        ServerEvent::OfferWithdrawn { offer_id } => Some(Nudge::Withdrawn {
            agent: agent?,
            offer_id: offer_id.clone(),
        }),
        ServerEvent::TeamChanged { .. } => Some(Nudge::Team { supervisor: agent? }),
        ServerEvent::Heartbeat { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nudges_carry_what_to_read_not_the_data() {
        let offer = homedesk_protocol::Offer {
            offer_id: "offer-1".into(),
            conversation_id: "c-1".into(),
            channel: homedesk_protocol::Channel::Chat,
            queue: "aftersales".into(),
            subject: "退货地址在哪".into(),
            expires_at: 1,
        };
        let nudge = nudge_for(
            &Addressee::Agent("a1001".into()),
            &ServerEvent::Offer(offer),
            None,
            None,
        )
        .expect("an offer nudges");
        let text = serde_json::to_string(&PeerMessage {
            from: "instance-x".into(),
            nudge,
        })
        .expect("encodes");
        assert_eq!(
            text,
            r#"{"from":"instance-x","kind":"offer","agent":"a1001","offer_id":"offer-1"}"#
        );
        assert!(!text.contains("退货"), "the subject stays in the database");
        let back: PeerMessage = serde_json::from_str(&text).expect("decodes");
        assert_eq!(back.from, "instance-x");
    }

    #[test]
    fn a_poke_keeps_the_sign_in_it_skips() {
        let viewers = Audience::from([Viewer::Queue("aftersales".into())]);
        let nudge = nudge_for(
            &Addressee::Everyone,
            &ServerEvent::poke(42),
            Some("family-1"),
            Some(&viewers),
        );
        assert_eq!(
            nudge,
            Some(Nudge::Changes {
                latest_seq: 42,
                skip_family: Some("family-1".into()),
                viewers: Some(vec!["q:aftersales".into()]),
            })
        );
        assert_eq!(
            nudge_for(
                &Addressee::Everyone,
                &ServerEvent::Heartbeat {
                    server_time: Some(1),
                },
                None,
                None
            ),
            None
        );
    }
}
