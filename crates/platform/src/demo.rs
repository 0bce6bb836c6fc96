//! The demo world: queues, agents (password `homedesk-demo`), knowledge,
//! canned replies, scripts and a few waiting customers from `content/`, and
//! optional live traffic of customers who write and call, which arrives
//! through the channel adapter `demo`.
//!
//! Only ever used with `serve --demo`; the demo password is refused
//! everywhere else. `--demo-agents N` adds N plain agents for the load test
//! (issue 19, `crates/loadgen`): [`seed_load_agents`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use homedesk_protocol::{
    AgentProfile, Channel, EntityKind, IngressCustomer, IngressMessage, OrderSummary, Presence,
    Priority, Record, Role, UnixMillis,
};
use rand::Rng;

use crate::admin::{ImportReport, NewAgent, add_agent, import_records};
use crate::auth::{DEMO_PASSWORD, hash_password};
use crate::channels::DEMO_ADAPTER;
use crate::content::{self, ContentError, TrafficTemplate, World};
use crate::storage::{Storage, everyone};
use crate::{Platform, ingress, now_ms};

/// How many contacts are already waiting when a fresh demo starts.
const INITIAL_CONTACTS: usize = 8;

/// Loaded demo content, kept for the traffic generator.
pub struct Demo {
    pub world: World,
    pub report: ImportReport,
}

fn content_errors(errors: Vec<ContentError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("the demo content has problems:\n  {}", lines.join("\n  "))
}

/// Imports the demo world from `content_dir` (idempotent). With `traffic`,
/// a fresh world also starts with a few customers already waiting.
pub fn seed(
    storage: &dyn Storage,
    content_dir: &Path,
    traffic: bool,
    now: UnixMillis,
) -> anyhow::Result<Demo> {
    let world_file = content_dir.join("demo").join("world.toml");
    if !world_file.exists() {
        anyhow::bail!(
            "no demo content at {} (expected demo/world.toml); run from the repository root or pass --content",
            content_dir.display()
        );
    }
    let world = content::load_world(&world_file).map_err(content_errors)?;
    let mut set = content::load_content_dir(content_dir, now).map_err(content_errors)?;
    crate::admin::store_canned_images(storage, &mut set.canned_replies, &set.canned_images, now)?;

    let mut records: Vec<Record> = world.queues.iter().cloned().map(Record::Queue).collect();
    records.extend(set.kb.into_iter().map(Record::KbArticle));
    records.extend(set.canned_replies.into_iter().map(Record::CannedReply));
    records.extend(set.scripts.into_iter().map(Record::Script));
    records.extend(set.scenarios.into_iter().map(Record::Scenario));
    let report = import_records(storage, records, now)?;

    for agent in &world.agents {
        let has_password = storage
            .read_with(|tx| tx.password_hash(&agent.code))?
            .is_some();
        if !has_password {
            add_agent(
                storage,
                &NewAgent {
                    code: agent.code.clone(),
                    name: agent.name.clone(),
                    role: agent.role,
                    queues: agent.queues.clone(),
                    skills: agent.skills.clone(),
                    max_chats: agent.max_chats,
                },
                DEMO_PASSWORD,
                true,
                now,
            )
            .with_context(|| format!("adding demo agent {}", agent.code))?;
        }
    }

    let has_conversations =
        storage.read_with(|tx| Ok(!tx.list(EntityKind::Conversation)?.is_empty()))?;
    if traffic && !has_conversations && !world.traffic.is_empty() && !world.customers.is_empty() {
        let mut traffic = Traffic::new(&world);
        for i in 0..INITIAL_CONTACTS {
            traffic.contact(storage, &world, i, now)?;
        }
    }
    Ok(Demo { world, report })
}

/// Most extra agents `--demo-agents` may add.
pub const MAX_LOAD_AGENTS: usize = 20_000;

/// The code of extra agent `i` (from 1): `l00001`, `l00002`, …
pub fn load_agent_code(i: usize) -> String {
    format!("l{i:05}")
}

/// Adds `count` plain agents `l00001`… for the load test, with the demo
/// password, spread over the world's queues (agent `i` works queue
/// `i mod queues`, with that queue's skills, 3 chats at once). Idempotent:
/// agents already present are left as they are. Returns how many were added.
pub fn seed_load_agents(
    storage: &dyn Storage,
    world: &World,
    count: usize,
    now: UnixMillis,
) -> anyhow::Result<usize> {
    anyhow::ensure!(
        count <= MAX_LOAD_AGENTS,
        "--demo-agents: at most {MAX_LOAD_AGENTS}"
    );
    if count == 0 {
        return Ok(0);
    }
    anyhow::ensure!(!world.queues.is_empty(), "the demo world has no queues");
    // One Argon2 hash for all of them (each agent's stored hash is then the
    // same string, salt included). Hashing is deliberately slow, ~20 MiB and
    // tens of milliseconds each: 20,000 of them would take minutes of both
    // cores before the bench could start. Demo accounts only, whose
    // password is public anyway.
    let hash = hash_password(DEMO_PASSWORD)?;
    let mut added = 0;
    // A few hundred agents per transaction: one durable commit each, not
    // one per agent, and no transaction holds the database for long.
    let numbers: Vec<usize> = (1..=count).collect();
    for chunk in numbers.chunks(500) {
        added += storage.write_with(|tx| {
            let mut added = 0;
            for &i in chunk {
                let code = load_agent_code(i);
                if tx.password_hash(&code)?.is_some() {
                    continue;
                }
                let queue = &world.queues[(i - 1) % world.queues.len()];
                let mut skills = queue.skills.clone();
                skills.push("zh".to_owned());
                let profile = AgentProfile {
                    code: code.clone(),
                    name: format!("压测坐席 {i:05}"),
                    role: Role::Agent,
                    queues: vec![queue.id.clone()],
                    skills,
                    max_chats: 3,
                    presence: Presence::Offline,
                    presence_reason: None,
                };
                tx.put(&Record::AgentProfile(profile), &everyone(), now)?;
                tx.set_password_hash(&code, &hash)?;
                added += 1;
            }
            Ok(added)
        })?;
    }
    Ok(added)
}

/// Products a demo order may be for, by knowledge-base category.
fn demo_item(category: &str) -> (&'static str, i64) {
    match category {
        "farm-produce" => ("助农直播 · 奉化水蜜桃 5斤装", 5990),
        "exchange" | "product" => ("纯棉宽松T恤 男女同款 L码", 7900),
        "payment" | "coupons" => ("家用不粘炒锅 32cm", 15900),
        "delivery" | "address" => ("新疆阿克苏冰糖心苹果 10斤", 6880),
        "invoice" => ("办公打印纸 A4 5包装", 12500),
        _ => ("店铺精选商品", 9900),
    }
}

/// Generates customer contacts from the world's templates.
struct Traffic {
    /// Per customer: which template they are on and the next message.
    progress: HashMap<String, (usize, usize)>,
}

const FOLLOW_UPS: [&str; 6] = [
    "在吗？",
    "怎么还没人回复啊",
    "？？？",
    "麻烦快点处理一下，谢谢",
    "我等了好久了",
    "客服你好，还在吗",
];

impl Traffic {
    fn new(_world: &World) -> Traffic {
        Traffic {
            progress: HashMap::new(),
        }
    }

    /// One customer message; `pick` chooses customer and template.
    fn contact(
        &mut self,
        storage: &dyn Storage,
        world: &World,
        pick: usize,
        now: UnixMillis,
    ) -> anyhow::Result<()> {
        let customer = &world.customers[pick % world.customers.len()];
        let (template_index, message_index) = *self
            .progress
            .entry(customer.id.clone())
            .or_insert((pick % world.traffic.len(), 0));
        let template: &TrafficTemplate = &world.traffic[template_index];
        let body = template
            .messages
            .get(message_index)
            .map_or(FOLLOW_UPS[pick % FOLLOW_UPS.len()], String::as_str)
            .to_owned();
        self.progress
            .insert(customer.id.clone(), (template_index, message_index + 1));

        let (item, amount_fen) = demo_item(&template.category);
        let prefix = template.order_no_prefix.as_deref().unwrap_or("TB");
        let order_no = format!(
            "{prefix}{}",
            4_000_000_000_000_000u64 + (now as u64 % 1_000_000_000) * 7 + pick as u64
        );
        let message = IngressMessage {
            external_id: format!("demo-{}-{}", now, crate::auth::random_token(6)),
            customer: IngressCustomer {
                id: customer.id.clone(),
                name: customer.name.clone(),
                phone: customer.phone.clone(),
                city: Some(customer.city.clone()),
            },
            queue: template.queue.clone(),
            subject: template.subject.clone(),
            body: if template.channel == Channel::Phone && message_index == 0 {
                format!("【客户申请回电】{body}")
            } else {
                body
            },
            category: Some(template.category.clone()),
            priority: Some(if template.category == "complaints" {
                Priority::High
            } else {
                Priority::Normal
            }),
            attachments: Vec::new(),
        };
        storage.write_with(|tx| {
            let has_orders = matches!(
                tx.get(EntityKind::Customer, &customer.id)?,
                Some(Record::Customer(c)) if !c.orders.is_empty()
            );
            let accepted = ingress::accept(tx, DEMO_ADAPTER, template.channel, &message, now)?
                .map_err(|e| anyhow::anyhow!("demo traffic refused: {}", e.message))?;
            // A first-time customer gets an order to talk about. The record
            // goes to the same audience as the conversation it came with.
            if !has_orders
                && let Some(Record::Customer(mut c)) = tx.get(EntityKind::Customer, &customer.id)?
                && let Some(Record::Conversation(conv)) =
                    tx.get(EntityKind::Conversation, &accepted.conversation_id)?
            {
                c.orders = vec![OrderSummary {
                    order_no,
                    item: item.to_owned(),
                    amount_fen,
                    status: "已发货".to_owned(),
                    placed_at: now - 3 * 24 * 3600 * 1000,
                }];
                let audience = crate::visibility::conversation_audience(&conv);
                tx.put(&Record::Customer(c), &audience, now)?;
            }
            Ok(())
        })
    }
}

/// Customers write and call at about `per_minute` contacts a minute
/// (Poisson arrivals), until the platform shuts down.
pub async fn run_traffic(platform: Arc<Platform>, world: World, per_minute: f64) {
    if per_minute <= 0.0 || world.traffic.is_empty() || world.customers.is_empty() {
        return;
    }
    let world = Arc::new(world);
    let traffic = Arc::new(std::sync::Mutex::new(Traffic::new(&world)));
    let mut stop = platform.shutting_down.subscribe();
    let mean_gap_secs = 60.0 / per_minute;
    loop {
        let (gap, pick) = {
            let mut rng = rand::rng();
            let uniform: f64 = rng.random_range(f64::EPSILON..1.0);
            (
                -uniform.ln() * mean_gap_secs,
                rng.random_range(0..usize::MAX / 2),
            )
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(gap.min(3600.0))) => {}
            _ = stop.changed() => return,
        }
        let world = Arc::clone(&world);
        let traffic = Arc::clone(&traffic);
        let result = platform
            .blocking(move |p| {
                let mut traffic = traffic.lock().unwrap_or_else(|e| e.into_inner());
                traffic.contact(p.storage.as_ref(), &world, pick, now_ms())?;
                p.storage.read_with(|tx| tx.latest_seq())
            })
            .await;
        match result {
            Ok(latest) => {
                platform
                    .metrics
                    .inc("homedesk_ingress_total", "channel=\"demo\"".into());
                platform.poke(latest);
                platform.reroute.notify_one();
            }
            Err(err) => tracing::warn!("demo traffic: {err:#}"),
        }
    }
}
