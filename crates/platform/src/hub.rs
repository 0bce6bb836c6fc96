//! Fan-out of server-sent events to connected workstations.
//!
//! One broadcast channel carries every event with its addressee; each event
//! stream keeps what is for everyone or for its own agent. A stream that
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
        let _ = self.sender.send(Envelope { to, event });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.sender.subscribe()
    }
}
