//! A family PC, in the real app against a real platform process:
//!
//! - **Start locked.** After a restart with a kept session the app opens at
//!   the lock screen with no customer data on screen; five wrong passwords
//!   make it wait (a countdown, the field disabled), and when the wait is
//!   over the right password opens the desk, whose events reach the window
//!   as after a sign-in (a new customer appears without a refresh).
//! - **换人.** Another agent signs in online from the lock screen and sees
//!   none of the first agent's conversations; the first agent then opens
//!   their own desk again offline from the list of agents on this PC.
//! - **The file check.** After a session with customer data (a customer's
//!   message received, a reply sent), with the app stopped, `strings` over
//!   every file of the data folder finds no customer name, phone, message
//!   text, and no token the platform issued (recognised by the platform's
//!   hashes of them).
//!
//! Screenshots of the lock screen with the wait and of the 换人 list in both
//! languages, each checked with axe, are saved under `target/e2e/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};
use sha2::{Digest, Sha256};

const LOCK: &str = "[data-testid=lock-screen]";
const FIELD: &str = "[data-testid=unlock-password]";
const PROBLEM: &str = "[data-testid=unlock-problem]";
const PENDING: &str = "[data-testid=connection-pending]";
/// What the customer (李桂兰, phone 13800001234 in the e2e ingress) writes.
const CUSTOMER_NAME: &str = "李桂兰";
const CUSTOMER_PHONE: &str = "13800001234";
const CUSTOMER_WORDS: &str = "我家住在石门村三组，桃子收到一半都烂了";
const REPLY: &str = "亲，石门村的桃子我马上给您登记补发";
/// The first wait after five wrong passwords is 30 s (the core's rule,
/// crates/core/src/vault/throttle.rs); the test polls until it is over.
const WAIT_OVER: Duration = Duration::from_secs(45);

fn row(conversation: &str) -> String {
    format!("[data-testid=queue-row][data-conversation='{conversation}']")
}

/// Types five wrong passwords, each answered before the next, and checks
/// the lock then makes the agent wait.
async fn five_wrong_passwords(app: &AppSession, wait: &str) -> anyhow::Result<()> {
    for n in 1..=5 {
        app.type_into(FIELD, &format!("wrong-{n}")).await?;
        app.click("[data-testid=unlock-submit]").await?;
        // Each answered before the next (the count shows on the problem line).
        app.wait_for(&format!("{PROBLEM}[data-failures='{n}']"))
            .await?;
    }
    text_contains(app, PROBLEM, wait).await?;
    let disabled = app
        .eval(&format!(
            "return document.querySelector('{FIELD}').disabled"
        ))
        .await?;
    assert_eq!(
        disabled,
        serde_json::json!(true),
        "no typing while the lock waits"
    );
    Ok(())
}

/// Waits until the text of `css` contains `needle`.
async fn text_contains(app: &AppSession, css: &str, needle: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + homedesk_e2e::DEADLINE;
    loop {
        let text = app
            .eval(&format!(
                "const e = document.querySelector(\"{css}\"); return e ? e.textContent : ''"
            ))
            .await?;
        let text = text.as_str().unwrap_or_default().to_owned();
        if text.contains(needle) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{css} should contain {needle:?}, reads {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves `name`.png and fails on any serious accessibility finding.
async fn shot_and_axe(app: &AppSession, name: &str) -> anyhow::Result<()> {
    let shot = app.screenshot(&format!("{name}.png")).await?;
    println!("screenshot: {}", shot.display());
    let findings = app.accessibility_findings(name).await?;
    assert!(findings.is_empty(), "{name}: {findings:#?}");
    Ok(())
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files_under(&path)?);
        } else if path.is_file() {
            found.push(path);
        }
    }
    Ok(found)
}

/// What `strings` reads in `file`, bytes of 8-bit text included (`-e S`), so
/// UTF-8 Chinese shows as well as ASCII.
fn strings_of(file: &Path) -> anyhow::Result<String> {
    let out = Command::new("strings")
        .args(["-a", "-e", "S", "-n", "4"])
        .arg(file)
        .output()
        .map_err(|err| anyhow::anyhow!("running strings (binutils) failed: {err}"))?;
    anyhow::ensure!(out.status.success(), "strings {} failed", file.display());
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Words that could be a token (base64url, 32 random bytes = 43 characters).
fn token_like(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| w.len() >= 43)
        .flat_map(|w| (0..=w.len() - 43).map(move |i| &w[i..i + 43]))
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn start_locked_wait_after_five_wrong_passwords_and_no_customer_data_readable_on_disk()
-> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;

    // A session with customer data: a message received, a reply sent.
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;
    let conversation = platform
        .customer_writes("e2e-lock-1", CUSTOMER_WORDS)
        .await?;
    app.claim(&conversation).await?;
    app.open_conversation(&conversation).await?;
    app.reply(REPLY).await?;
    app.wait_for_text(PENDING, "待发送 0 条").await?;
    assert_eq!(
        platform.agent_replies("a1002", &conversation).await?,
        [REPLY],
        "the platform has the reply"
    );
    app.close().await?;

    // Restart with the kept session: the lock, and nothing of the desk.
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.wait_for(LOCK).await?;
    assert_eq!(
        app.count("[data-testid=queue-row]").await?,
        0,
        "no desk behind the lock"
    );
    five_wrong_passwords(&app, "秒后再试").await?;
    shot_and_axe(&app, "lock-wait-zh-CN").await?;

    // When the wait is over the right password opens the desk.
    app.wait_for_within(&format!("{FIELD}:not([disabled])"), WAIT_OVER)
        .await?;
    app.type_into(FIELD, DEMO_PASSWORD).await?;
    app.click("[data-testid=unlock-submit]").await?;
    app.wait_for_gone(LOCK).await?;
    app.wait_for(&row(&conversation)).await?;
    // Its events reach the window: a new customer shows without a refresh.
    let next = platform
        .customer_writes("e2e-lock-2", "请问还有桃子吗")
        .await?;
    app.wait_for(&row(&next)).await?;

    // 换人: the list of agents on this PC (zh-CN).
    app.click("[data-testid=lock-now]").await?;
    app.wait_for(LOCK).await?;
    app.click("[data-testid=lock-switch-user]").await?;
    app.wait_for("[data-testid=known-agent][data-agent=a1002]")
        .await?;
    shot_and_axe(&app, "switch-user-zh-CN").await?;
    app.close().await?;

    // The file check, with the app stopped.
    let files = files_under(data.path())?;
    let store = data.path().join("agents").join("a1002.sqlite");
    anyhow::ensure!(
        files.contains(&store) && std::fs::metadata(&store)?.len() > 0,
        "the agent's store should be among the files: {files:?}"
    );
    // The check itself can see Chinese and a phone number in a plain file.
    let control = tempfile::NamedTempFile::new()?;
    std::fs::write(
        control.path(),
        format!("x {CUSTOMER_NAME} {CUSTOMER_PHONE} x"),
    )?;
    let seen = strings_of(control.path())?;
    anyhow::ensure!(
        seen.contains(CUSTOMER_NAME) && seen.contains(CUSTOMER_PHONE),
        "strings -e S must show UTF-8 text, showed {seen:?}"
    );
    let tokens = platform.token_hashes("a1002")?;
    anyhow::ensure!(!tokens.is_empty(), "the platform issued tokens to a1002");
    let mut leaks = Vec::new();
    for file in &files {
        let text = strings_of(file)?;
        for secret in [
            CUSTOMER_NAME,
            CUSTOMER_PHONE,
            CUSTOMER_WORDS,
            REPLY,
            "石门村",
        ] {
            if text.contains(secret) {
                leaks.push(format!("{}: {secret}", file.display()));
            }
        }
        if token_like(&text).any(|t| tokens.contains(&sha256_hex(t))) {
            leaks.push(format!("{}: a session token", file.display()));
        }
    }
    assert!(
        leaks.is_empty(),
        "customer data or tokens readable in the data folder: {leaks:#?}"
    );
    Ok(())
}

#[tokio::test]
async fn another_agent_signs_in_from_the_lock_and_the_first_opens_their_own_desk_offline()
-> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;
    let conversation = platform
        .customer_writes("e2e-switch-1", CUSTOMER_WORDS)
        .await?;
    app.claim(&conversation).await?;
    app.click("[data-testid=language-en]").await?;
    app.wait_for_text("[data-testid=app-title]", "Homedesk Agent Desk")
        .await?;

    // The first agent steps away: lock, 换人, the list of agents on this PC.
    app.click("[data-testid=lock-now]").await?;
    app.wait_for(LOCK).await?;
    app.click("[data-testid=lock-switch-user]").await?;
    app.wait_for("[data-testid=known-agent][data-agent=a1002]")
        .await?;
    shot_and_axe(&app, "switch-user-en").await?;

    // A second agent signs in online: none of the first agent's conversations.
    let agent_field = app
        .client
        .find(Locator::Css("[data-testid=sign-in-agent]"))
        .await?;
    agent_field.clear().await?;
    app.sign_in("a1003", DEMO_PASSWORD).await?;
    text_contains(&app, "[data-testid=signed-in-as]", "a1003").await?;
    app.wait_for_text("[data-testid=connection-state]", "Online")
        .await?;
    assert_eq!(
        app.count(&row(&conversation)).await?,
        0,
        "the first agent's conversation must not show for the second"
    );
    let text = app.eval("return document.body.innerText").await?;
    let text = text.as_str().unwrap_or_default();
    assert!(
        !text.contains(CUSTOMER_WORDS) && !text.contains(CUSTOMER_NAME),
        "nothing of the first agent's customers on the second agent's screen"
    );

    // The second agent's lock waits after five wrong passwords (English).
    app.click("[data-testid=lock-now]").await?;
    app.wait_for(LOCK).await?;
    five_wrong_passwords(&app, "Try again in").await?;
    shot_and_axe(&app, "lock-wait-en").await?;

    // 换人 again: the first agent opens their own desk offline with their password.
    app.click("[data-testid=lock-switch-user]").await?;
    app.wait_for("[data-testid=known-agent][data-agent=a1002]")
        .await?;
    app.click("[data-testid=known-agent][data-agent=a1002]")
        .await?;
    app.wait_for(LOCK).await?;
    app.type_into(FIELD, DEMO_PASSWORD).await?;
    app.click("[data-testid=unlock-submit]").await?;
    app.wait_for_gone(LOCK).await?;
    text_contains(&app, "[data-testid=signed-in-as]", "a1002").await?;
    app.wait_for(&row(&conversation)).await?;
    app.close().await?;
    Ok(())
}
