//! Both ends of the customer loop with real software: the customer in a
//! real browser (headless chromium) on the platform's web chat page, the
//! agent in the real desktop app under Xvfb, and a real platform between
//! them. The agent's link to the platform runs through a relay the test can
//! cut, so only the agent goes offline while the customer's page stays
//! connected.
//!
//! The customer writes; the agent sees it in the thread and replies; the
//! customer's page shows the reply without a reload. The agent's link
//! drops, the agent replies offline, the link returns: the customer sees
//! that reply exactly once. Screenshots of both sides go to `target/e2e/`.
//!
//! The photo half (the customer attaches a photo; the agent sees its
//! thumbnail and opens the full photo) is
//! [`a_customers_photo_reaches_the_agents_thread`].

use std::time::Duration;

use homedesk_e2e::photos::PhotoFiles;
use homedesk_e2e::{AppSession, Browser, DEMO_PASSWORD, Desktop, LinkRelay, Platform};

const STATE: &str = "[data-testid=connection-state]";
const PENDING: &str = "[data-testid=connection-pending]";
const QUESTION: &str = "桃子收到就烂了一半，能退款吗？";
const ONLINE_REPLY: &str = "亲，非常抱歉！退款马上给您申请";
const OFFLINE_REPLY: &str = "退款已经提交，1–3个工作日原路退回，请留意查收哦～";
/// The app retries with backoff capped at 60 s, so reconnecting may take
/// over a minute after an outage.
const RECONNECT: Duration = Duration::from_secs(90);

/// How many of the agent's thread messages read exactly `text`.
async fn in_thread(app: &AppSession, text: &str) -> anyhow::Result<u64> {
    let script = format!(
        "return [...document.querySelectorAll('[data-testid=thread-message] .body')]
            .filter(b => b.textContent.trim() === {}).length",
        serde_json::Value::from(text)
    );
    Ok(app.eval(&script).await?.as_u64().unwrap_or(0))
}

/// How many agent replies on the customer's page read exactly `text`.
async fn on_page(page: &Browser, text: &str) -> anyhow::Result<u64> {
    let script = format!(
        "return [...document.querySelectorAll('[data-testid=chat-message][data-from=agent] [data-testid=chat-text]')]
            .filter(b => b.textContent === {}).length",
        serde_json::Value::from(text)
    );
    Ok(page.eval(&script).await?.as_u64().unwrap_or(0))
}

/// Polls `count` until it gives `want`, within `wait`.
async fn until_count<F, Fut>(
    what: &str,
    wait: Duration,
    want: u64,
    mut count: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u64>>,
{
    let deadline = std::time::Instant::now() + wait;
    let mut last = 0;
    while std::time::Instant::now() < deadline {
        last = count().await?;
        if last == want {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    anyhow::bail!("{what}: expected {want}, saw {last} after {wait:?}")
}

/// The agent's side: the app signed in as a1002, talking to the platform
/// through a relay the test can cut.
struct Agent {
    app: AppSession,
    relay: LinkRelay,
    _data: tempfile::TempDir,
}

async fn agent_at(platform: &Platform, desktop: &Desktop) -> anyhow::Result<Agent> {
    let relay = LinkRelay::start(&platform.url)?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(
        desktop,
        homedesk_e2e::AppOptions {
            data_dir: data.path(),
            platform: Some((&relay.url, platform.ca())),
        },
    )
    .await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;
    Ok(Agent {
        app,
        relay,
        _data: data,
    })
}

/// The customer's side: the after-sales chat page in chromium.
async fn customer_at(platform: &Platform) -> anyhow::Result<Browser> {
    let page = Browser::start().await?;
    page.open(&platform.chat_page("aftersales")).await?;
    page.wait_for_text("[data-testid=chat-shop]", "售后服务")
        .await?;
    Ok(page)
}

/// Writes `text` (and gives `name` first, while the page still asks for one).
async fn customer_writes(page: &Browser, name: Option<&str>, text: &str) -> anyhow::Result<()> {
    if let Some(name) = name {
        page.type_into("[data-testid=chat-name]", name).await?;
    }
    page.type_into("[data-testid=chat-body]", text).await?;
    page.click("[data-testid=chat-send]").await?;
    page.wait_for("[data-testid=chat-message][data-from=customer][data-id]")
        .await
}

#[tokio::test]
async fn a_customer_in_a_browser_and_an_agent_in_the_app_talk_and_an_offline_reply_arrives_once()
-> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let agent = agent_at(&platform, &desktop).await?;
    let app = &agent.app;
    let page = customer_at(&platform).await?;

    // The customer writes; the agent claims the chat and sees the text.
    customer_writes(&page, Some("李桂兰"), QUESTION).await?;
    let conversation = platform.conversation_with("a1002", QUESTION).await?;
    app.claim(&conversation).await?;
    app.open_conversation(&conversation).await?;
    until_count(
        "the customer's text in the agent's thread",
        homedesk_e2e::DEADLINE,
        1,
        || in_thread(app, QUESTION),
    )
    .await?;
    app.wait_for_text(STATE, "在线").await?;

    // The agent replies; the customer's page shows it without a reload.
    page.eval("window.stillTheSamePage = true; return true")
        .await?;
    app.reply(ONLINE_REPLY).await?;
    until_count(
        "the reply on the customer's page",
        homedesk_e2e::DEADLINE,
        1,
        || on_page(&page, ONLINE_REPLY),
    )
    .await?;
    anyhow::ensure!(
        page.eval("return window.stillTheSamePage === true").await? == true,
        "the customer's page reloaded to show the reply"
    );
    page.wait_for("[data-testid=chat-message][data-from=customer][data-state=read]")
        .await?;
    let shot = app.screenshot("webchat-cross-agent-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    let shot = page.screenshot("webchat-cross-customer-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    // The agent's link drops; the customer's page stays connected.
    agent.relay.cut();
    app.wait_for_text(STATE, "离线").await?;
    app.reply(OFFLINE_REPLY).await?;
    app.wait_for_text(PENDING, "待发送 1 条").await?;
    page.wait_for_text("[data-testid=chat-link]", "已连接，客服会尽快回复您")
        .await?;
    assert_eq!(
        on_page(&page, OFFLINE_REPLY).await?,
        0,
        "a reply reached the customer while the agent was offline"
    );
    let shot = app
        .screenshot("webchat-cross-agent-offline-zh-CN.png")
        .await?;
    println!("screenshot: {}", shot.display());

    // The link returns: the outbox drains and the customer sees the reply once.
    agent.relay.restore();
    app.wait_for_text_within(PENDING, "待发送 0 条", RECONNECT)
        .await?;
    until_count(
        "the offline reply on the customer's page",
        homedesk_e2e::DEADLINE,
        1,
        || on_page(&page, OFFLINE_REPLY),
    )
    .await?;
    let replies = platform.agent_replies("a1002", &conversation).await?;
    assert_eq!(
        replies,
        [ONLINE_REPLY, OFFLINE_REPLY],
        "each reply stored once, in order"
    );
    // Once, also after a reload (not only while the page kept it).
    page.reload().await?;
    until_count(
        "the offline reply after a reload",
        homedesk_e2e::DEADLINE,
        1,
        || on_page(&page, OFFLINE_REPLY),
    )
    .await?;
    assert_eq!(on_page(&page, ONLINE_REPLY).await?, 1);
    let shot = page
        .screenshot("webchat-cross-customer-after-zh-CN.png")
        .await?;
    println!("screenshot: {}", shot.display());
    let shot = app
        .screenshot("webchat-cross-agent-after-zh-CN.png")
        .await?;
    println!("screenshot: {}", shot.display());
    page.close().await?;
    agent.app.close().await?;
    Ok(())
}

/// The customer attaches a photo; the agent sees its thumbnail in the
/// thread and opens the full photo; the agent's reply reaches the page.
#[tokio::test]
async fn a_customers_photo_reaches_the_agents_thread() -> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let agent = agent_at(&platform, &desktop).await?;
    let app = &agent.app;
    let page = customer_at(&platform).await?;
    let files = PhotoFiles::new()?;

    // The name first: choosing the photo starts the customer's session.
    page.type_into("[data-testid=chat-name]", "李桂兰").await?;
    page.choose_file("[data-testid=chat-photo]", &files.path("peaches.jpg"))
        .await?;
    page.wait_for("[data-testid=chat-photo-preview][data-state=ready]")
        .await?;
    customer_writes(&page, None, "这是收到的桃子").await?;
    let conversation = platform
        .conversation_with("a1002", "这是收到的桃子")
        .await?;
    app.claim(&conversation).await?;
    app.open_conversation(&conversation).await?;

    // The thumbnail shows in the thread; a click opens the full photo.
    let thumb = "[data-testid=thread-message] [data-testid=photo-thumb][data-state=shown]";
    app.wait_for(thumb).await?;
    app.click(thumb).await?;
    app.wait_for("[data-testid=photo-viewer-image]").await?;
    // The element is there before the photo has loaded: wait for it.
    let width = app
        .loaded_image_width("[data-testid=photo-viewer-image]")
        .await?;
    assert_eq!(width, 640, "the full photo opened at its size");
    // The dialog fades in: shoot it once it has.
    let deadline = std::time::Instant::now() + homedesk_e2e::DEADLINE;
    while app
        .eval("return document.getAnimations().some(a => a.playState === 'running')")
        .await?
        == true
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shot = app
        .screenshot("webchat-cross-agent-photo-zh-CN.png")
        .await?;
    println!("screenshot: {}", shot.display());
    app.click("[data-testid=photo-viewer-close]").await?;
    app.wait_for_gone("[data-testid=photo-viewer-image]")
        .await?;
    app.reply("看到了，给您补发一箱").await?;
    until_count(
        "the reply on the customer's page",
        homedesk_e2e::DEADLINE,
        1,
        || on_page(&page, "看到了，给您补发一箱"),
    )
    .await?;
    let shot = page
        .screenshot("webchat-cross-customer-photo-zh-CN.png")
        .await?;
    println!("screenshot: {}", shot.display());
    page.close().await?;
    agent.app.close().await?;
    Ok(())
}
