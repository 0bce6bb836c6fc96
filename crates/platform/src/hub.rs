//! Fan-out of server-sent events to connected workstations.
//!
//! One broadcast channel carries every event with its addressee; each event
//! stream keeps what is for everyone or for its own agent, except what its
//! own sign-in caused (`skip_family`: an agent's own actions are pulled right
//! after they are pushed, so poking that workstation again only costs it an
//! empty pull on the village link). A stream that
//! falls behind loses nothing that matters: it is sent a `changes` poke and
//! the workstation pulls the change log, which is the truth.

use homedesk_protocol::ServerEvent;
use tokio::sync::broadcast;

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
}

#[derive(Debug)]
pub struct Hub {
    sender: broadcast::Sender<Envelope>,
}

impl Default for Hub {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Hub { sender }
    }
}

impl Hub {
    pub fn send(&self, to: Addressee, event: ServerEvent) {
        // No receiver (nobody connected) is not an error.
        let _ = self.sender.send(Envelope {
            to,
            event,
            skip_family: None,
        });
    }

    /// [`Hub::send`], but not to the event streams of sign-in `family`.
    pub fn send_except(&self, to: Addressee, event: ServerEvent, family: &str) {
        let _ = self.sender.send(Envelope {
            to,
            event,
            skip_family: Some(family.to_owned()),
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.sender.subscribe()
    }
}
