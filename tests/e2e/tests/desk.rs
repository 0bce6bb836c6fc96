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

    /// A customer writes in through the chat channel; returns the conversation id.
    async fn customer_writes(&self, external_id: &str, body: &str) -> anyhow::Result<String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ca = reqwest::Certificate::from_pem(&std::fs::read(self.ca())?)?;
        let client = reqwest::Client::builder().tls_certs_only([ca]).build()?;
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
    app.wait_for_text(&format!("{row} td:last-child"), "我在处理")
        .await?;
    app.wait_for_text("[data-testid=connection-state]", "在线")
        .await?;
    app.click("[data-testid=language-en]").await?;
    app.wait_for_text(&format!("{row} td:last-child"), "Mine")
        .await?;
    let shot = app.screenshot("queue-en.png").await?;
    println!("screenshot: {}", shot.display());
    app.close().await?;
    Ok(())
}
