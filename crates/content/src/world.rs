//! The demo world (`demo/world.toml`): the queues, staff, customers and
//! kinds of contact the platform's `--demo` mode starts with. Owns the rules
//! that keep it consistent: every queue an agent or traffic names exists,
//! SLA times and business hours make sense.

use std::collections::HashSet;
use std::path::Path;

use homedesk_protocol::{BusinessHours, Channel, Queue, Role};
use serde::Deserialize;
use toml::Spanned;

use crate::toml_doc::{Located, TomlDoc};
use crate::validate::{IdRegistry, require_no_empty_entries, require_texts};
use crate::{ContentError, Problems, read_text};

/// Demo queues without explicit hours are open 08:00–23:00 China time.
const DEFAULT_BUSINESS_HOURS: BusinessHours = BusinessHours::daily(8 * 60, 23 * 60, 8 * 60);

const MINUTES_PER_DAY: u16 = 24 * 60;

/// The demo world: queues, staff, customers and the kinds of contact the demo
/// traffic generator produces.
#[derive(Debug, Clone)]
pub struct World {
    pub queues: Vec<Queue>,
    pub agents: Vec<WorldAgent>,
    pub customers: Vec<WorldCustomer>,
    pub traffic: Vec<TrafficTemplate>,
}

#[derive(Debug, Clone)]
pub struct WorldAgent {
    pub code: String,
    pub name: String,
    pub role: Role,
    pub queues: Vec<String>,
    pub skills: Vec<String>,
    pub max_chats: u32,
}

#[derive(Debug, Clone)]
pub struct WorldCustomer {
    pub id: String,
    pub name: String,
    /// The full number; the platform masks it before any agent sees it.
    pub phone: String,
    pub city: String,
}

/// One kind of customer contact the demo traffic generator can produce.
#[derive(Debug, Clone)]
pub struct TrafficTemplate {
    pub channel: Channel,
    pub queue: String,
    pub category: String,
    pub skills: Vec<String>,
    pub subject: String,
    /// The customer's messages, in order; never empty.
    pub messages: Vec<String>,
    /// When set, the generator invents an order number starting with it.
    pub order_no_prefix: Option<String>,
}

/// The demo world file (`demo/world.toml`).
pub fn load_world(file: &Path) -> Result<World, Vec<ContentError>> {
    let mut problems = Problems::default();
    let world = read_world(file, &mut problems);
    problems.into_result(world)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldDoc {
    #[serde(default)]
    queue: Vec<QueueDoc>,
    #[serde(default)]
    agent: Vec<AgentDoc>,
    #[serde(default)]
    customer: Vec<CustomerDoc>,
    #[serde(default)]
    traffic: Vec<TrafficDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueDoc {
    id: Spanned<String>,
    name_zh: Spanned<String>,
    name_en: Spanned<String>,
    first_response_secs: Spanned<u32>,
    resolve_secs: u32,
    #[serde(default)]
    skills: Vec<String>,
    #[serde(default)]
    business_hours: Option<Spanned<BusinessHours>>,
    #[serde(default)]
    vanished_grace_secs: Option<u32>,
    #[serde(default)]
    away_after_missed_offers: Option<u32>,
    #[serde(default)]
    offer_timeout_secs: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentDoc {
    code: Spanned<String>,
    name: Spanned<String>,
    role: Role,
    queues: Vec<Spanned<String>>,
    skills: Vec<String>,
    max_chats: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerDoc {
    id: Spanned<String>,
    name: Spanned<String>,
    phone: Spanned<String>,
    city: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrafficDoc {
    channel: Channel,
    queue: Spanned<String>,
    category: Spanned<String>,
    #[serde(default)]
    skills: Vec<String>,
    subject: Spanned<String>,
    messages: Spanned<Vec<String>>,
    #[serde(default)]
    order_no_prefix: Option<String>,
}

fn read_world(path: &Path, problems: &mut Problems) -> World {
    let mut world = World {
        queues: Vec::new(),
        agents: Vec::new(),
        customers: Vec::new(),
        traffic: Vec::new(),
    };
    let Some(text) = read_text(path, problems) else {
        return world;
    };
    let doc = TomlDoc::whole_file(path, &text);
    let Some(world_doc) = doc.parse::<WorldDoc>(problems) else {
        return world;
    };
    if world_doc.queue.is_empty() {
        problems.add(path, None, "the world has no queues: add [[queue]] tables");
    }
    if world_doc.agent.is_empty() {
        problems.add(path, None, "the world has no agents: add [[agent]] tables");
    }

    let mut queue_ids = IdRegistry::new("queue");
    for queue in world_doc.queue {
        world
            .queues
            .push(check_queue(doc, queue, &mut queue_ids, problems));
    }
    let known_queues: HashSet<String> = world.queues.iter().map(|q| q.id.clone()).collect();

    let mut agent_codes = IdRegistry::new("agent");
    for agent in world_doc.agent {
        let code = doc.locate(agent.code);
        let name = doc.locate(agent.name);
        let context = format!("agent \"{}\"", code.value);
        agent_codes.claim(path, &code, problems);
        require_texts(
            problems,
            path,
            &context,
            &[("code", &code), ("name", &name)],
        );
        let mut queues = Vec::new();
        for queue in agent.queues {
            let queue = doc.locate(queue);
            require_known_queue(problems, path, &context, &known_queues, &queue);
            queues.push(queue.value);
        }
        world.agents.push(WorldAgent {
            code: code.value,
            name: name.value,
            role: agent.role,
            queues,
            skills: agent.skills,
            max_chats: agent.max_chats,
        });
    }

    let mut customer_ids = IdRegistry::new("customer");
    for customer in world_doc.customer {
        let id = doc.locate(customer.id);
        let name = doc.locate(customer.name);
        let phone = doc.locate(customer.phone);
        let city = doc.locate(customer.city);
        let context = format!("customer \"{}\"", id.value);
        customer_ids.claim(path, &id, problems);
        let fields = [
            ("id", &id),
            ("name", &name),
            ("phone", &phone),
            ("city", &city),
        ];
        require_texts(problems, path, &context, &fields);
        world.customers.push(WorldCustomer {
            id: id.value,
            name: name.value,
            phone: phone.value,
            city: city.value,
        });
    }

    for traffic in world_doc.traffic {
        let queue = doc.locate(traffic.queue);
        let category = doc.locate(traffic.category);
        let subject = doc.locate(traffic.subject);
        let messages = doc.locate(traffic.messages);
        let context = format!("traffic \"{}\"", subject.value);
        require_known_queue(problems, path, &context, &known_queues, &queue);
        let fields = [("category", &category), ("subject", &subject)];
        require_texts(problems, path, &context, &fields);
        if messages.value.is_empty() {
            problems.add(
                path,
                messages.line,
                format!("{context}: \"messages\" is empty; give at least one customer message"),
            );
        }
        require_no_empty_entries(problems, path, &context, "messages", &messages);
        world.traffic.push(TrafficTemplate {
            channel: traffic.channel,
            queue: queue.value,
            category: category.value,
            skills: traffic.skills,
            subject: subject.value,
            messages: messages.value,
            order_no_prefix: traffic.order_no_prefix,
        });
    }
    world
}

/// A queue an agent or a kind of traffic names must be a `[[queue]]` of this world.
fn require_known_queue(
    problems: &mut Problems,
    path: &Path,
    context: &str,
    known: &HashSet<String>,
    queue: &Located<String>,
) {
    if !known.contains(&queue.value) {
        problems.add(
            path,
            queue.line,
            format!(
                "{context}: queue \"{}\" is not a [[queue]] of this world",
                queue.value
            ),
        );
    }
}

fn check_queue(
    doc: TomlDoc<'_>,
    queue: QueueDoc,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Queue {
    let path = doc.path;
    let id = doc.locate(queue.id);
    let name_zh = doc.locate(queue.name_zh);
    let name_en = doc.locate(queue.name_en);
    let first_response_secs = doc.locate(queue.first_response_secs);
    let context = format!("queue \"{}\"", id.value);
    ids.claim(path, &id, problems);
    let fields = [("id", &id), ("name_zh", &name_zh), ("name_en", &name_en)];
    require_texts(problems, path, &context, &fields);
    if first_response_secs.value == 0 || first_response_secs.value > queue.resolve_secs {
        problems.add(
            path,
            first_response_secs.line,
            format!(
                "{context}: first_response_secs ({}) must be more than 0 and at most resolve_secs ({})",
                first_response_secs.value, queue.resolve_secs
            ),
        );
    }
    let business_hours = match queue.business_hours {
        Some(hours) => {
            let hours = doc.locate(hours);
            check_business_hours(path, &context, &hours, problems);
            hours.value
        }
        None => DEFAULT_BUSINESS_HOURS,
    };
    let offer_timeout_secs = queue.offer_timeout_secs.map(|secs| {
        let secs = doc.locate(secs);
        if secs.value == 0 {
            problems.add(
                path,
                secs.line,
                format!("{context}: offer_timeout_secs must be at least 1 (seconds)"),
            );
        }
        secs.value
    });
    Queue {
        id: id.value,
        name_zh: name_zh.value,
        name_en: name_en.value,
        first_response_secs: first_response_secs.value,
        resolve_secs: queue.resolve_secs,
        skills: queue.skills,
        business_hours,
        vanished_grace_secs: queue
            .vanished_grace_secs
            .unwrap_or(homedesk_protocol::DEFAULT_VANISHED_GRACE_SECS),
        away_after_missed_offers: queue
            .away_after_missed_offers
            .unwrap_or(homedesk_protocol::DEFAULT_AWAY_AFTER_MISSED_OFFERS),
        offer_timeout_secs,
    }
}

fn check_business_hours(
    path: &Path,
    context: &str,
    hours: &Located<BusinessHours>,
    problems: &mut Problems,
) {
    let BusinessHours {
        open_minute,
        close_minute,
        utc_offset_minutes,
        days,
        holidays: _,
    } = &hours.value;
    let (open_minute, close_minute, utc_offset_minutes) =
        (*open_minute, *close_minute, *utc_offset_minutes);
    if days.is_empty() {
        problems.add(
            path,
            hours.line,
            format!(
                "{context}: business hours open on no day; leave `days` out for every day, \
                 or list some (e.g. days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"])"
            ),
        );
    }
    if open_minute >= close_minute || close_minute > MINUTES_PER_DAY {
        problems.add(
            path,
            hours.line,
            format!(
                "{context}: business hours must open before they close, within one day \
                 (0 to {MINUTES_PER_DAY} minutes); found open_minute = {open_minute}, \
                 close_minute = {close_minute}"
            ),
        );
    }
    // Real time zones run from UTC-12:00 to UTC+14:00.
    if !(-12 * 60..=14 * 60).contains(&utc_offset_minutes) {
        problems.add(
            path,
            hours.line,
            format!(
                "{context}: utc_offset_minutes = {utc_offset_minutes} is not a real time zone \
                 offset (-720 to 840)"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use tempfile::TempDir;

    use super::*;
    use crate::test_support::{assert_error, assert_single_error, write};

    const WORLD: &str = r#"
[[queue]]
id = "presale"
name_zh = "售前"
name_en = "Pre-sale"
first_response_secs = 60
resolve_secs = 1800

[[queue]]
id = "aftersale"
name_zh = "售后"
name_en = "After-sale"
first_response_secs = 120
resolve_secs = 86400
skills = ["refunds"]
business_hours = { open_minute = 540, close_minute = 1320, utc_offset_minutes = 480 }

[[agent]]
code = "a1001"
name = "王芳"
role = "agent"
queues = ["presale", "aftersale"]
skills = ["refunds"]
max_chats = 4

[[agent]]
code = "t2001"
name = "李明"
role = "trainee"
queues = ["presale"]
skills = []
max_chats = 2

[[customer]]
id = "c-001"
name = "张伟"
phone = "13812345678"
city = "杭州"

[[traffic]]
channel = "chat"
queue = "aftersale"
category = "refunds"
skills = ["refunds"]
subject = "退款什么时候到账"
messages = ["你好", "我的退款还没到"]
order_no_prefix = "JD"
"#;

    #[test]
    fn world_happy_path() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(dir.path(), "world.toml", WORLD);
        let world = load_world(&file).expect("valid world");
        assert_eq!(world.queues.len(), 2);
        assert_eq!(world.queues[0].business_hours, DEFAULT_BUSINESS_HOURS);
        assert_eq!(world.queues[1].business_hours.open_minute, 540);
        assert_eq!(world.agents[1].role, Role::Trainee);
        assert_eq!(world.customers[0].city, "杭州");
        assert_eq!(world.traffic[0].channel, Channel::Chat);
        assert_eq!(world.traffic[0].order_no_prefix.as_deref(), Some("JD"));
    }

    #[test]
    fn world_with_agent_in_unknown_queue() {
        let dir = TempDir::new().expect("temp dir");
        let file = write(
            dir.path(),
            "world.toml",
            &WORLD.replace(
                "queues = [\"presale\"]\n",
                "queues = [\"presale\",\n  \"vip\"]\n",
            ),
        );
        let errors = load_world(&file).expect_err("unknown queue");
        assert_single_error(&errors, "world.toml", Some(31), &["t2001", "\"vip\""]);
    }

    #[test]
    fn world_rules_traffic_queue_duplicates_and_hours() {
        let dir = TempDir::new().expect("temp dir");
        let text = WORLD
            .replace("code = \"t2001\"", "code = \"a1001\"")
            .replace("queue = \"aftersale\"", "queue = \"refund\"")
            .replace("messages = [\"你好\", \"我的退款还没到\"]", "messages = []")
            .replace("open_minute = 540", "open_minute = 1400")
            .replace("role = \"trainee\"", "role = \"boss\"");
        let file = write(dir.path(), "world.toml", &text);
        // An unknown role is a parse error, reported alone with its line.
        let errors = load_world(&file).expect_err("bad role");
        assert_single_error(&errors, "world.toml", Some(29), &["boss"]);

        let file = write(
            dir.path(),
            "world.toml",
            &text.replace("role = \"boss\"", "role = \"supervisor\""),
        );
        let errors = load_world(&file).expect_err("bad world");
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert_error(&errors[0], "world.toml", Some(16), &["open_minute = 1400"]);
        assert_error(
            &errors[1],
            "world.toml",
            Some(27),
            &["agent id \"a1001\"", ":19"],
        );
        assert_error(&errors[2], "world.toml", Some(42), &["\"refund\""]);
        assert_error(&errors[3], "world.toml", Some(46), &["messages"]);
    }

    #[test]
    fn world_queue_days_holidays_and_offer_timeout() {
        let dir = TempDir::new().expect("temp dir");
        let text = WORLD.replace(
            "utc_offset_minutes = 480 }",
            "utc_offset_minutes = 480, days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"], \
             holidays = [\"2026-10-01\"] }\noffer_timeout_secs = 45",
        );
        let file = write(dir.path(), "world.toml", &text);
        let world = load_world(&file).expect("valid world");
        let queue = &world.queues[1];
        assert_eq!(queue.business_hours.days.to_string(), "mon-fri");
        assert_eq!(queue.business_hours.holidays.len(), 1);
        assert_eq!(queue.offer_timeout_secs, Some(45));
        assert_eq!(world.queues[0].offer_timeout_secs, None);

        let file = write(
            dir.path(),
            "world.toml",
            &text
                .replace(
                    "days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
                    "days = []",
                )
                .replace("offer_timeout_secs = 45", "offer_timeout_secs = 0"),
        );
        let errors = load_world(&file).expect_err("no open day, no time to answer");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert_error(&errors[0], "world.toml", Some(16), &["open on no day"]);
        assert_error(&errors[1], "world.toml", Some(17), &["offer_timeout_secs"]);

        let file = write(
            dir.path(),
            "world.toml",
            &text.replace("2026-10-01", "2026-02-30"),
        );
        let errors = load_world(&file).expect_err("not a date");
        assert_single_error(&errors, "world.toml", Some(16), &["2026-02-30"]);
    }
}
