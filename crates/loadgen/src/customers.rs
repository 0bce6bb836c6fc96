//! The customers: they arrive through the channel ingress
//! (`POST /v1/ingress/chat` with the demo adapter's secret), each a new
//! customer with a contact of 1 to 3 messages. New contacts arrive as a
//! Poisson process at the given rate, each to one of the agents' queues at
//! random; after an agent's reply the customer writes again 5–20 s later,
//! until their last message, which carries [`END`] (the agent then wraps
//! up). Every message carries a token (`#lg<n>`) by which the agents'
//! side finds when it was sent.
//!
//! A customer hears of a reply from the agent's side of this program (the
//! demo adapter has no webhook to tell them); what the platform sees is
//! only the ingress, as from a real channel adapter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use homedesk_protocol::{IngressAccepted, IngressCustomer, IngressMessage};
use rand::Rng;
use reqwest::Url;
use tokio::sync::{mpsc, watch};

use crate::agent::{END, Sent, Shared};
use crate::net::{self, CallError};
use crate::report::Series;

/// What the agents' side tells the customers.
pub enum Note {
    /// An agent's reply in this conversation was applied.
    Replied { conversation_id: String },
}

/// Most ingress requests in flight; beyond it a message is not sent and
/// the miss is counted as an error (the platform is not keeping up).
const MAX_IN_FLIGHT: usize = 2_000;

const OPENERS: [&str; 5] = [
    "你好，我买的水蜜桃到了，坏了好几个，怎么处理？",
    "请问我的快递到哪里了？三天没更新了。",
    "这件T恤能换大一号吗？",
    "优惠券为什么用不了？",
    "发票什么时候能开好？",
];
const FOLLOW_UPS: [&str; 3] = [
    "好的，那大概什么时候能到？",
    "需要我拍照片给你吗？",
    "明白了，麻烦尽快。",
];
const LAST_WORDS: [&str; 3] = ["好的，谢谢！", "行，那我等着。", "收到，辛苦了。"];

struct Contact {
    customer_id: String,
    queue: String,
    url: Url,
    /// Messages sent so far, and how many the customer will write.
    sent: u32,
    total: u32,
}

pub struct Customers {
    pub shared: Arc<Shared>,
    pub client: reqwest::Client,
    pub urls: Vec<Url>,
    pub secret: String,
    pub queues: Vec<String>,
    /// New contacts a second (all customers together).
    pub rate: f64,
}

struct State {
    contacts: Mutex<HashMap<String, Contact>>,
    tokens: AtomicU64,
    in_flight: AtomicUsize,
}

impl Customers {
    /// Sends contacts until `stop`; follow-ups come on `notes`.
    pub async fn run(self, mut notes: mpsc::UnboundedReceiver<Note>, stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let state = Arc::new(State {
            contacts: Mutex::new(HashMap::new()),
            tokens: AtomicU64::new(1),
            in_flight: AtomicUsize::new(0),
        });
        let mut stopped = stop.clone();
        let mut arrivals = 0u64;
        let mut next = Instant::now() + this.gap();
        loop {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = tokio::time::sleep_until(next.into()), if this.rate > 0.0 => {
                    next += this.gap();
                    arrivals += 1;
                    let contact = Contact {
                        customer_id: format!("lg-{}-c{arrivals}", this.shared.run_id),
                        queue: this.queues[rand::rng().random_range(0..this.queues.len())].clone(),
                        url: this.urls[arrivals as usize % this.urls.len()].clone(),
                        sent: 0,
                        total: rand::rng().random_range(1..=3),
                    };
                    tokio::spawn(Arc::clone(&this).write(Arc::clone(&state), contact, None, stop.clone()));
                }
                note = notes.recv() => {
                    let Some(Note::Replied { conversation_id }) = note else { return };
                    let contact = {
                        let mut contacts = state.contacts.lock().unwrap_or_else(|e| e.into_inner());
                        match contacts.get(&conversation_id) {
                            Some(c) if c.sent < c.total => contacts.remove(&conversation_id),
                            _ => None,
                        }
                    };
                    if let Some(contact) = contact {
                        let this = Arc::clone(&this);
                        let state = Arc::clone(&state);
                        let stop = stop.clone();
                        tokio::spawn(async move {
                            let typing = Duration::from_millis(rand::rng().random_range(5_000..=20_000));
                            tokio::time::sleep(typing).await;
                            this.write(state, contact, Some(conversation_id), stop).await;
                        });
                    }
                }
            }
        }
    }

    /// The wait before the next new contact (exponential).
    fn gap(&self) -> Duration {
        if self.rate <= 0.0 {
            return Duration::from_secs(3600);
        }
        let uniform: f64 = rand::rng().random_range(f64::EPSILON..1.0);
        Duration::from_secs_f64((-uniform.ln() / self.rate).min(3600.0))
    }

    /// The contact's next message; remembers the conversation for the
    /// follow-ups.
    async fn write(
        self: Arc<Self>,
        state: Arc<State>,
        mut contact: Contact,
        conversation: Option<String>,
        stop: watch::Receiver<bool>,
    ) {
        if *stop.borrow() {
            return;
        }
        let rec = &self.shared.rec;
        if state.in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
            state.in_flight.fetch_sub(1, Ordering::SeqCst);
            rec.error(
                "customer message not sent: ingress backlog",
                format!("{MAX_IN_FLIGHT} ingress requests already waiting"),
            );
            return;
        }
        contact.sent += 1;
        let last = contact.sent >= contact.total;
        let pick = |texts: &[&'static str]| texts[rand::rng().random_range(0..texts.len())];
        let text = if contact.sent == 1 {
            pick(&OPENERS)
        } else if last {
            pick(&LAST_WORDS)
        } else {
            pick(&FOLLOW_UPS)
        };
        let token = state.tokens.fetch_add(1, Ordering::SeqCst);
        let body = if last {
            format!("{text} #lg{token} {END}")
        } else {
            format!("{text} #lg{token}")
        };
        let message = IngressMessage {
            external_id: format!("lg-{}-{token}", self.shared.run_id),
            customer: IngressCustomer {
                id: contact.customer_id.clone(),
                name: "压测顾客".to_owned(),
                phone: format!("139{:08}", token % 100_000_000),
                city: None,
            },
            queue: contact.queue.clone(),
            subject: "压测咨询".to_owned(),
            body,
            attachments: Vec::new(),
            category: None,
            priority: None,
        };
        let mut url = contact.url.clone();
        url.set_path("/v1/ingress/chat");
        let sent = Instant::now();
        self.shared
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                token,
                Sent {
                    at: sent,
                    accepted: false,
                    delivered: false,
                },
            );
        let answer = net::send(
            self.client
                .post(url)
                .bearer_auth(&self.secret)
                .json(&message),
        )
        .await;
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        let accepted = match answer {
            Ok((body, at)) => {
                rec.sample(Series::Ingress, sent, at - sent);
                net::decode::<IngressAccepted>(&body)
            }
            Err(err) => {
                if matches!(err, CallError::Status { .. }) {
                    rec.sample(Series::Ingress, sent, sent.elapsed());
                }
                Err(err)
            }
        };
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                rec.error(&format!("ingress: {}", err.kind()), err);
                self.shared
                    .messages
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&token);
                return;
            }
        };
        if let Some(sent) = self
            .shared
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&token)
        {
            sent.accepted = true;
        }
        rec.count(if contact.sent == 1 {
            "customer contacts opened"
        } else {
            "customer follow-ups"
        });
        if let Some(expected) = conversation
            && expected != accepted.conversation_id
        {
            rec.error(
                "ingress: a follow-up opened another conversation",
                format!("{expected} → {}", accepted.conversation_id),
            );
        }
        if !last {
            state
                .contacts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(accepted.conversation_id, contact);
        }
    }
}
