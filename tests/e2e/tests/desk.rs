//! The real app against a real platform process: sign in with the demo
//! credentials, see a customer's message (sent to the platform's ingress)
//! arrive in the queue without a refresh, and claim it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use homedesk_e2e::{AppOptions, AppSession, Desktop, workspace_root};

/// The reference platform with the demo world, on a free loopback port.
struct Platform {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Platform {
    fn start() -> anyhow::Result<Platform> {
        let dir = tempfile::tempdir()?;
        let root = workspace_root();
        let mut child = Command::new(root.join("target/debug/homedesk-platform"))
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .arg("--content")
            .arg(root.join("content"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let started = Instant::now();
        let url = loop {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "platform not ready"
            );
            let Some(line) = lines.next() else {
                anyhow::bail!("the platform exited before it was ready");
            };
            if let Some(rest) = line?.strip_prefix("homedesk-platform ready at ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
        };
        // Keep reading so the platform never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Platform { child, url, dir })
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("tls").join("ca.pem")
    }

    fn client(&self) -> anyhow::Result<reqwest::Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = reqwest::Certificate::from_pem(&std::fs::read(self.ca())?)?;
        Ok(reqwest::Client::builder().tls_certs_only([ca]).build()?)
    }

    /// The bodies of agent replies in a conversation, as the platform has them.
    async fn agent_replies(&self, agent: &str, conversation: &str) -> anyhow::Result<Vec<String>> {
        let client = self.client()?;
        let session: serde_json::Value = client
            .post(format!("{}/v1/sessions", self.url))
            .json(&serde_json::json!({"agent": agent, "password": "homedesk-demo", "device_id": "e2e-check"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = session["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut cursor: Option<String> = None;
        let mut replies = Vec::new();
        loop {
            let mut url = format!("{}/v1/changes?limit=1000", self.url);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: serde_json::Value = client
                .get(url)
                .bearer_auth(&token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            for change in page["changes"].as_array().into_iter().flatten() {
                let data = &change["data"];
                if change["entity"] == "message"
                    && data["conversation_id"] == conversation
                    && data["author"] == "agent"
                    && data["kind"] == "text"
                {
                    replies.push(data["body"].as_str().unwrap_or_default().to_owned());
                }
            }
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            if page["has_more"] != true {
                return Ok(replies);
            }
        }
    }

    /// A customer writes in through the chat channel; returns the conversation id.
    async fn customer_writes(&self, external_id: &str, body: &str) -> anyhow::Result<String> {
        let client = self.client()?;
        let token = std::fs::read_to_string(self.dir.path().join("ingress-token"))?;
        let answer: serde_json::Value = client
            .post(format!("{}/v1/ingress/chat", self.url))
            .bearer_auth(token.trim())
            .json(&serde_json::json!({
                "external_id": external_id,
                "customer": {"id": "cust-e2e", "name": "李桂兰", "phone": "13800001234"},
                "queue": "aftersales",
                "subject": "生鲜售后",
                "body": body,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(answer["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn sign_in_see_a_customer_arrive_and_claim_the_conversation() -> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let ca = platform.ca();
    let app = AppSession::start(
        &desktop,
        AppOptions {
            data_dir: data.path(),
            platform: Some((platform.url.as_str(), Path::new(&ca))),
        },
    )
    .await?;

    // The platform address is offered; the agent types code and password.
    app.wait_for("[data-testid=sign-in-form]").await?;
    let offered = app
        .eval("return document.querySelector('[data-testid=sign-in-platform]').value")
        .await?;
    assert_eq!(offered, serde_json::json!(platform.url));
    let shot = app.screenshot("sign-in-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.type_into("[data-testid=sign-in-agent]", "a1002")
        .await?;
    app.type_into("[data-testid=sign-in-password]", "homedesk-demo")
        .await?;
    app.click("[data-testid=sign-in-submit]").await?;
    app.wait_for("[data-testid=signed-in-as]").await?;

    // A customer writes in; the row appears without any refresh.
    let conversation = platform
        .customer_writes("e2e-1", "桃子收到就坏了，怎么办？")
        .await?;
    let row = format!("[data-testid=queue-row][data-conversation='{conversation}']");
    app.wait_for(&row).await?;
    app.wait_for_text("[data-testid=connection-state]", "在线")
        .await?;
    let shot = app.screenshot("queue-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    // Claim it: it becomes mine once the platform has confirmed it.
    app.click(&format!("{row} [data-testid=queue-claim]"))
        .await?;
    app.wait_for_text(&format!("{row} [data-testid=queue-state]"), "我在处理")
        .await?;

    // Open it and reply; the platform receives exactly that text, once.
    app.click(&format!("{row} [data-testid=queue-open]"))
        .await?;
    app.wait_for("[data-testid=thread]").await?;
    let reply = "亲，非常抱歉，麻烦拍一下桃子的照片发给我";
    app.type_into("[data-testid=composer-body]", reply).await?;
    app.click("[data-testid=composer-send]").await?;

    // A canned reply by its shortcut; its required order number is typed in.
    app.type_into("[data-testid=composer-body]", "/sd").await?;
    app.click("[data-testid=canned-suggestion]").await?;
    app.type_into("[data-testid=canned-field-order_no]", "5188 2233")
        .await?;
    app.click("[data-testid=canned-use]").await?;
    app.click("[data-testid=composer-send]").await?;
    let canned = "亲，您的订单5188 2233我正在帮您查询，请稍等1–2分钟哦～";

    app.wait_for_text("[data-testid=connection-state]", "在线")
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replies = platform.agent_replies("a1002", &conversation).await?;
        if replies == [reply, canned] {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the platform should have exactly the reply, has {replies:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The knowledge base was synced for offline use; pinyin initials find 退款.
    app.type_into("[data-testid=knowledge-search]", "tk")
        .await?;
    app.wait_for("[data-testid=knowledge-hit]").await?;
    let shot = app.screenshot("conversation-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    app.click("[data-testid=language-en]").await?;
    app.wait_for_text(&format!("{row} [data-testid=queue-state]"), "Mine")
        .await?;
    let shot = app.screenshot("conversation-en.png").await?;
    println!("screenshot: {}", shot.display());
    app.close().await?;
    Ok(())
}
