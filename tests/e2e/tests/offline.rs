//! Working through a platform outage, with the real app and a real platform
//! process: the agent claims a customer's conversation, the platform stops,
//! the agent replies twice and wraps the conversation up while the status
//! bar says offline with 3 actions waiting; the platform starts again on the
//! same address and data folder, the app sends the 3 actions on its own with
//! the same session, and the platform ends up with each reply exactly once,
//! in order, and the conversation resolved with the chosen disposition.

use std::time::Duration;

use fantoccini::Locator;
use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};

const STATE: &str = "[data-testid=connection-state]";
const PENDING: &str = "[data-testid=connection-pending]";
const REPLIES: [&str; 2] = [
    "亲，非常抱歉给您添麻烦了，桃子的退款我这边马上帮您申请",
    "退款已经提交，1–3个工作日原路退回，请留意查收哦～",
];
/// Not the form's default (`resolved`), so the choice visibly travels.
const DISPOSITION: &str = "refund_issued";
/// The app retries with exponential backoff capped at 60 s (plus the time
/// to send), so reconnecting may take over a minute after a long outage.
const RECONNECT: Duration = Duration::from_secs(90);

/// Wraps up the open conversation with `disposition`: the only place that
/// knows the wrap-up controls (start the wrap-up, which starts the
/// after-contact timer; choose the disposition; send).
async fn wrap_up(app: &AppSession, disposition: &str) -> anyhow::Result<()> {
    app.click("[data-testid=wrap-up-start]").await?;
    app.select("[data-testid=disposition]", disposition).await?;
    app.click("[data-testid=wrap-up-submit]").await
}

#[tokio::test]
async fn replies_and_a_wrap_up_made_offline_reach_the_platform_once_it_is_back()
-> anyhow::Result<()> {
    let mut platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;

    let conversation = platform
        .customer_writes("e2e-offline-1", "桃子收到就坏了，能退款吗？")
        .await?;
    app.claim(&conversation).await?;
    app.wait_for_text(STATE, "在线").await?;
    app.wait_for_text(PENDING, "待发送 0 条").await?;
    app.open_conversation(&conversation).await?;

    // The platform goes away; the app notices on its own.
    platform.stop()?;
    app.wait_for_text(STATE, "离线").await?;

    for reply in REPLIES {
        app.reply(reply).await?;
    }
    wrap_up(&app, DISPOSITION).await?;
    app.wait_for_text(PENDING, "待发送 3 条").await?;
    app.wait_for_text(STATE, "离线").await?;
    let shot = app.screenshot("offline-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    // Back on the same address and data folder: the outbox drains by itself.
    platform.restart()?;
    let drained = app
        .wait_for_text_within(PENDING, "待发送 0 条", RECONNECT)
        .await;
    let asked_to_sign_in = !app
        .client
        .find_all(Locator::Css("[data-testid=sign-in-needed]"))
        .await?
        .is_empty();
    anyhow::ensure!(
        !asked_to_sign_in,
        "the restarted platform ended the app's session (the status bar asks to sign in again)"
    );
    drained?;
    let state = app
        .eval(&format!(
            "return document.querySelector('{STATE}').textContent.trim()"
        ))
        .await?;
    anyhow::ensure!(
        state != "离线",
        "the outbox drained, yet the status bar says {state}"
    );

    // The platform has each reply once, in order, and the wrap-up.
    let replies = platform.agent_replies("a1002", &conversation).await?;
    assert_eq!(replies, REPLIES, "the platform's agent replies");
    let resolved = platform.conversation("a1002", &conversation).await?;
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert_eq!(resolved["disposition"], DISPOSITION, "{resolved}");
    let shot = app.screenshot("offline-drained-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.close().await?;
    Ok(())
}
