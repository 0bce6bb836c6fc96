//! The reference platform (`homedesk-platform serve --demo`) as a real
//! process on loopback TLS, for tests that need the app to talk to it: start,
//! stop and start again on the same address and data folder, send customer
//! messages to its ingress, and read back what it has as an agent would.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use serde_json::{Value, json};

use crate::{
    AppOptions, DEADLINE, Supervised, artifacts_dir, built_binary, line_starting_with,
    workspace_root,
};

/// The password of the demo agents (a1001–a1005).
pub const DEMO_PASSWORD: &str = "homedesk-demo";

pub(crate) const READY: &str = "homedesk-platform ready at ";

/// The platform with the demo world (no live demo traffic) in a fresh data
/// folder; stopped with its process group when dropped.
pub struct Platform {
    /// `https://127.0.0.1:PORT`, the same across restarts.
    pub url: String,
    ca: PathBuf,
    dir: tempfile::TempDir,
    /// Extra `serve` options, kept for restarts.
    extra: Vec<String>,
    process: Option<Supervised>,
}

impl Platform {
    /// Starts on a free loopback port.
    pub fn start() -> anyhow::Result<Platform> {
        Self::start_with(&[])
    }

    /// Starts with extra `serve` options (e.g. small web chat rate limits).
    pub fn start_with(extra: &[&str]) -> anyhow::Result<Platform> {
        let dir = tempfile::tempdir()?;
        let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
        let (process, url) = spawn(&dir, "127.0.0.1:0", &extra)?;
        Ok(Platform {
            url,
            ca: dir.path().join("tls").join("ca.pem"),
            dir,
            extra,
            process: Some(process),
        })
    }

    /// The customer chat page of `queue` (`/chat/aftersales`).
    pub fn chat_page(&self, queue: &str) -> String {
        format!("{}/chat/{queue}", self.url)
    }

    /// Stops the process (SIGTERM, as a service manager would) and checks
    /// that it exited cleanly. The data folder stays.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let mut process = self.process.take().context("the platform is not running")?;
        let status = process.stop()?;
        anyhow::ensure!(status.success(), "the platform stopped with {status}");
        Ok(())
    }

    /// Starts it again on the same address and data folder (same database,
    /// certificates and demo adapter secret).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.process.is_none(), "the platform is still running");
        let address = self.url.trim_start_matches("https://");
        let (process, url) = spawn(&self.dir, address, &self.extra)?;
        anyhow::ensure!(
            url == self.url,
            "restarted at {url} instead of {}",
            self.url
        );
        self.process = Some(process);
        Ok(())
    }

    /// The hashes (SHA-256, hex) of every access and refresh token the
    /// platform issued to `agent`: the platform keeps no token itself, so a
    /// token found anywhere is recognised by its hash.
    pub fn token_hashes(&self, agent: &str) -> anyhow::Result<Vec<String>> {
        let db = rusqlite::Connection::open_with_flags(
            self.dir.path().join("platform.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let mut query = db.prepare(
            "SELECT token_hash FROM access_tokens WHERE agent = ?1 \
             UNION SELECT token_hash FROM refresh_tokens WHERE agent = ?1",
        )?;
        let hashes = query
            .query_map([agent], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(hashes)
    }

    /// The development CA the platform created; the app and [`Self::client`] trust it.
    pub fn ca(&self) -> &Path {
        &self.ca
    }

    /// Options for an app with its data in `data_dir` that offers this
    /// platform on its sign-in screen and trusts its CA.
    pub fn app_options<'a>(&'a self, data_dir: &'a Path) -> AppOptions<'a> {
        AppOptions {
            data_dir,
            platform: Some((&self.url, &self.ca)),
        }
    }

    /// An HTTPS client that trusts only this platform's CA.
    pub fn client(&self) -> anyhow::Result<reqwest::Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = reqwest::Certificate::from_pem(&std::fs::read(self.ca())?)?;
        Ok(reqwest::Client::builder()
            .tls_certs_only([ca])
            .timeout(DEADLINE)
            .build()?)
    }

    /// A customer message through the chat channel, as a channel adapter
    /// sends it: `customer` is `(id, name)`. Returns the conversation id.
    pub async fn ingress(
        &self,
        client: &reqwest::Client,
        external_id: &str,
        customer: (&str, &str),
        body: &str,
    ) -> anyhow::Result<String> {
        self.ingress_via(client, "chat", external_id, customer, body)
            .await
    }

    /// A customer message through `channel` (`chat`, `phone`, `ticket`).
    pub async fn ingress_via(
        &self,
        client: &reqwest::Client,
        channel: &str,
        external_id: &str,
        customer: (&str, &str),
        body: &str,
    ) -> anyhow::Result<String> {
        let token = std::fs::read_to_string(self.dir.path().join("demo-adapter-secret"))?;
        let answer: Value = client
            .post(format!("{}/v1/ingress/{channel}", self.url))
            .bearer_auth(token.trim())
            .json(&json!({
                "external_id": external_id,
                "customer": {"id": customer.0, "name": customer.1, "phone": "13800001234"},
                "queue": "aftersales",
                "subject": "生鲜售后",
                "body": body,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        answer["conversation_id"]
            .as_str()
            .map(str::to_owned)
            .context("the ingress answer has no conversation_id")
    }

    /// One customer (李桂兰) writes in to the after-sales queue, which demo
    /// agent a1002 works; returns the conversation id.
    pub async fn customer_writes(&self, external_id: &str, body: &str) -> anyhow::Result<String> {
        self.ingress(&self.client()?, external_id, ("cust-e2e", "李桂兰"), body)
            .await
    }

    /// 李桂兰 writes in with a photo, as a channel adapter sends one: the
    /// image uploaded first (`POST /v1/attachments`), then the message
    /// naming it. Returns the conversation id and the photo's id.
    pub async fn customer_sends_photo(
        &self,
        external_id: &str,
        body: &str,
        photo: Vec<u8>,
    ) -> anyhow::Result<(String, String)> {
        let client = self.client()?;
        let token = std::fs::read_to_string(self.dir.path().join("demo-adapter-secret"))?;
        let stored: Value = client
            .post(format!("{}/v1/attachments", self.url))
            .bearer_auth(token.trim())
            .body(photo)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = stored["id"]
            .as_str()
            .context("the upload answer has no id")?
            .to_owned();
        let answer: Value = client
            .post(format!("{}/v1/ingress/chat", self.url))
            .bearer_auth(token.trim())
            .json(&json!({
                "external_id": external_id,
                "customer": {"id": "cust-e2e", "name": "李桂兰", "phone": "13800001234"},
                "queue": "aftersales",
                "subject": "生鲜售后",
                "body": body,
                "attachments": [id],
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let conversation = answer["conversation_id"]
            .as_str()
            .context("the ingress answer has no conversation_id")?
            .to_owned();
        Ok((conversation, id))
    }

    /// Every change in `agent`'s view of the change log, oldest first, read
    /// with a session of its own (device `e2e-check`).
    pub async fn changes(&self, agent: &str) -> anyhow::Result<Vec<Value>> {
        let client = self.client()?;
        let token = self.sign_in(&client, agent).await?;
        let token = token.as_str();
        let mut cursor: Option<String> = None;
        let mut changes = Vec::new();
        loop {
            let mut url = format!("{}/v1/changes?limit=1000", self.url);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: Value = client
                .get(url)
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            changes.extend(page["changes"].as_array().into_iter().flatten().cloned());
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            if page["has_more"] != true {
                return Ok(changes);
            }
        }
    }

    /// An access token for `agent` (device `e2e-check`).
    async fn sign_in(&self, client: &reqwest::Client, agent: &str) -> anyhow::Result<String> {
        let session: Value = client
            .post(format!("{}/v1/sessions", self.url))
            .json(&json!({"agent": agent, "password": DEMO_PASSWORD, "device_id": "e2e-check"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        session["access_token"]
            .as_str()
            .map(str::to_owned)
            .context("the session has no access token")
    }

    /// `agent` replies through the real API, as a workstation sends it:
    /// claims the conversation, then the reply with `message_id`.
    pub async fn reply_as(
        &self,
        agent: &str,
        conversation: &str,
        message_id: &str,
        body: &str,
    ) -> anyhow::Result<()> {
        self.send_reply(agent, conversation, message_id, body, None)
            .await
    }

    /// [`Self::reply_as`] with a photo: uploaded first
    /// (`POST /v1/attachments`), then named by the reply.
    pub async fn reply_with_photo_as(
        &self,
        agent: &str,
        conversation: &str,
        message_id: &str,
        body: &str,
        photo: Vec<u8>,
    ) -> anyhow::Result<()> {
        self.send_reply(agent, conversation, message_id, body, Some(photo))
            .await
    }

    async fn send_reply(
        &self,
        agent: &str,
        conversation: &str,
        message_id: &str,
        body: &str,
        photo: Option<Vec<u8>>,
    ) -> anyhow::Result<()> {
        let client = self.client()?;
        let token = self.sign_in(&client, agent).await?;
        let mut attachments = Vec::new();
        if let Some(photo) = photo {
            let record: Value = client
                .post(format!("{}/v1/attachments", self.url))
                .bearer_auth(&token)
                .body(photo)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            attachments.push(record);
        }
        let answer: Value = client
            .post(format!("{}/v1/actions", self.url))
            .bearer_auth(&token)
            .json(&json!({"actions": [
                {"key": format!("claim-{message_id}"), "created_at": 1,
                 "action": {"type": "claim", "conversation_id": conversation}},
                {"key": format!("reply-{message_id}"), "created_at": 1,
                 "action": {"type": "reply", "conversation_id": conversation,
                            "message_id": message_id, "body": body,
                            "attachments": attachments}},
            ]}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        // The claim is refused when the conversation is already the agent's.
        anyhow::ensure!(
            answer["results"][1]["status"] == "applied",
            "the reply was not applied: {answer}"
        );
        Ok(())
    }

    /// The conversation holding a customer message with exactly `body`, as
    /// `agent` sees it, once it is there.
    pub async fn conversation_with(&self, agent: &str, body: &str) -> anyhow::Result<String> {
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            let found = self.changes(agent).await?.into_iter().find_map(|change| {
                let data = &change["data"];
                (change["entity"] == "message"
                    && data["author"] == "customer"
                    && data["body"] == body)
                    .then(|| data["conversation_id"].as_str().map(str::to_owned))
                    .flatten()
            });
            if let Some(conversation) = found {
                return Ok(conversation);
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{agent} does not see a customer message {body:?} after {DEADLINE:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// The platform's latest copy of message `id`, as `agent` sees it.
    pub async fn message(&self, agent: &str, id: &str) -> anyhow::Result<Value> {
        self.changes(agent)
            .await?
            .into_iter()
            .rev()
            .find(|change| change["entity"] == "message" && change["id"] == id)
            .map(|change| change["data"].clone())
            .with_context(|| format!("{agent} cannot see message {id} on the platform"))
    }

    /// The bodies of the agent replies (not notes) in a conversation, in the
    /// order the platform logged them; each message once, however often the
    /// log re-sent it (a claim re-sends the history to the new audience).
    pub async fn agent_replies(
        &self,
        agent: &str,
        conversation: &str,
    ) -> anyhow::Result<Vec<String>> {
        let mut seen = std::collections::HashSet::new();
        Ok(self
            .changes(agent)
            .await?
            .iter()
            .filter(|change| change["entity"] == "message" && seen.insert(change["id"].clone()))
            .map(|change| &change["data"])
            .filter(|data| {
                data["conversation_id"] == conversation
                    && data["author"] == "agent"
                    && data["kind"] == "text"
            })
            .map(|data| data["body"].as_str().unwrap_or_default().to_owned())
            .collect())
    }

    /// The id of the agent reply with `body` in a conversation.
    pub async fn reply_id(
        &self,
        agent: &str,
        conversation: &str,
        body: &str,
    ) -> anyhow::Result<String> {
        self.changes(agent)
            .await?
            .iter()
            .map(|change| &change["data"])
            .find(|data| {
                data["conversation_id"] == conversation
                    && data["author"] == "agent"
                    && data["body"] == body
            })
            .and_then(|data| data["id"].as_str().map(str::to_owned))
            .with_context(|| format!("no reply {body:?} in {conversation} on the platform"))
    }

    /// `homedesk-platform kb import`: `n` new articles of about 4 KB each
    /// (titled `{tag} 退货须知 {i}`), as a centre publishing a big update.
    pub fn publish_articles(&self, tag: &str, n: usize) -> anyhow::Result<()> {
        let folder = tempfile::tempdir()?;
        for i in 0..n {
            let body = format!("第{i}条：退货请保留完整包装和配件，七天无理由退货不影响二次销售。")
                .repeat(40);
            std::fs::write(
                folder.path().join(format!("kb-{tag}-{i}.md")),
                format!(
                    "+++\nid = \"kb-{tag}-{i}\"\nlocale = \"zh-CN\"\ntitle = \"{tag} 退货须知 {i}\"\ncategory = \"returns\"\n+++\n\n{body}\n"
                ),
            )?;
        }
        let out = Command::new(built_binary("homedesk-platform")?)
            .args(["kb", "import", "--data-dir"])
            .arg(self.dir.path())
            .arg(folder.path())
            .stdin(Stdio::null())
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "kb import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// `homedesk-platform channel webhook demo URL`: from now on, replies to
    /// customers of the demo adapter are pushed to `url`.
    pub fn set_demo_webhook(&self, url: &str) -> anyhow::Result<()> {
        let out = Command::new(built_binary("homedesk-platform")?)
            .args(["channel", "webhook", "demo", url, "--data-dir"])
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "channel webhook failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    /// The demo adapter reports that the customer has reply `message_id`.
    pub async fn report_delivered(&self, message_id: &str) -> anyhow::Result<()> {
        let secret = std::fs::read_to_string(self.dir.path().join("demo-adapter-secret"))?;
        self.client()?
            .post(format!("{}/v1/egress/{message_id}/delivered", self.url))
            .bearer_auth(secret.trim())
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The platform's latest copy of a conversation, as `agent` sees it.
    /// `agent` sends one action through the real API (as a second
    /// workstation would) under `key`; returns its verdict (`status`, …).
    pub async fn act_as(&self, agent: &str, key: &str, action: Value) -> anyhow::Result<Value> {
        let client = self.client()?;
        let token = self.sign_in(&client, agent).await?;
        let answer: Value = client
            .post(format!("{}/v1/actions", self.url))
            .bearer_auth(&token)
            .json(&json!({"actions": [{"key": key, "created_at": 1, "action": action}]}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(answer["results"][0].clone())
    }

    /// `trainee`'s workstation reports practice results (training records).
    pub async fn upload_training_as(&self, trainee: &str, records: Value) -> anyhow::Result<()> {
        let client = self.client()?;
        let token = self.sign_in(&client, trainee).await?;
        client
            .post(format!("{}/v1/training-records", self.url))
            .bearer_auth(&token)
            .json(&json!({ "records": records }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    pub async fn conversation(&self, agent: &str, id: &str) -> anyhow::Result<Value> {
        self.changes(agent)
            .await?
            .into_iter()
            .rev()
            .find(|change| change["entity"] == "conversation" && change["id"] == id)
            .map(|change| change["data"].clone())
            .with_context(|| format!("{agent} cannot see conversation {id} on the platform"))
    }
}

/// `serve --demo` on `listen` with `dir` as data folder and `extra`
/// options; returns the process
/// and the URL it reports once it is ready. Its log goes to `target/e2e/platform.log`.
fn spawn(
    dir: &tempfile::TempDir,
    listen: &str,
    extra: &[String],
) -> anyhow::Result<(Supervised, String)> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(artifacts_dir().join("platform.log"))?;
    let root = workspace_root();
    let mut process = Supervised::spawn(
        "homedesk-platform",
        Command::new(built_binary("homedesk-platform")?)
            .args(["serve", "--demo", "--listen", listen, "--data-dir"])
            .arg(dir.path())
            .arg("--content")
            .arg(root.join("content"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log),
    )?;
    let line = line_starting_with("homedesk-platform", process.child_mut(), READY)?;
    let url = line
        .trim_start_matches(READY)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok((process, url))
}

/// A channel adapter's webhook as plain HTTP on loopback that takes every
/// reply (answers 200) and keeps the message ids it got. The platform's own
/// tests check signatures and retries; here it only has to be there.
pub struct WebhookSink {
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookSink {
    pub async fn start() -> anyhow::Result<WebhookSink> {
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&received);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let log = std::sync::Arc::clone(&log);
                async move {
                    let id = headers
                        .get("Idempotency-Key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(id);
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(WebhookSink {
            url,
            received,
            task,
        })
    }

    /// Message ids pushed to the webhook so far, in order.
    pub fn received(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}
