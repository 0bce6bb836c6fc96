//! Every screen of the agent desktop in the real app against a real
//! platform, in Chinese and in English, saved under `target/e2e/` — and on
//! the way: an offer from the platform's routing arrives as a prompt and as
//! a desktop notification delivered to the notification daemon of the test
//! session; accepting it opens the conversation; a phone call-back shows the
//! call screen with the guided script the customer's words suggest; the
//! screen lock opens only with the password.

use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};

/// Screenshots of the screens that do not change the data, in `locale`.
async fn tour(app: &AppSession, locale: &str) -> anyhow::Result<()> {
    let shot = |name: &str| format!("{name}-{locale}.png");
    app.screenshot(&shot("conversation")).await?;

    app.click("[data-testid=transfer-open]").await?;
    app.wait_for("[data-testid=transfer-queue]").await?;
    app.screenshot(&shot("transfer")).await?;
    app.click("[data-testid=transfer-cancel]").await?;

    app.click("[data-testid=wrap-up-start]").await?;
    app.wait_for("[data-testid=acw-timer]").await?;
    app.screenshot(&shot("wrap-up")).await?;
    app.click("[data-testid=wrap-up-cancel]").await?;

    app.click("[data-testid=my-day-open]").await?;
    app.wait_for("[data-testid=my-day-handled]").await?;
    app.screenshot(&shot("my-day")).await?;
    app.click("[data-testid=my-day-close]").await?;

    app.click("[data-testid=settings-open]").await?;
    app.wait_for("[data-testid=settings-text-size]").await?;
    app.screenshot(&shot("settings")).await?;
    app.click("[data-testid=settings-cancel]").await?;

    app.click("[data-testid=shortcuts-open]").await?;
    app.wait_for("[data-testid=shortcut-row]").await?;
    app.screenshot(&shot("shortcuts")).await?;
    app.click("[data-testid=shortcuts-help-close]").await?;

    // The lock covers everything and opens with the password only.
    app.click("[data-testid=lock-now]").await?;
    app.wait_for("[data-testid=lock-screen]").await?;
    app.screenshot(&shot("lock")).await?;
    app.type_into("[data-testid=unlock-password]", "not the password")
        .await?;
    app.click("[data-testid=unlock-submit]").await?;
    // The wrong password was answered (checking it takes a moment).
    app.wait_for("[data-testid=unlock-problem][data-failures='1']")
        .await?;
    app.type_into("[data-testid=unlock-password]", DEMO_PASSWORD)
        .await?;
    app.click("[data-testid=unlock-submit]").await?;
    app.wait_for_gone("[data-testid=lock-screen]").await?;
    app.wait_for("[data-testid=thread]").await
}

#[tokio::test]
async fn every_screen_in_both_languages_with_an_offer_notified_on_the_desktop() -> anyhow::Result<()>
{
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.wait_for("[data-testid=sign-in-form]").await?;
    app.screenshot("sign-in-zh-CN.png").await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;

    // Available: the platform's routing offers the next contact to us.
    app.wait_for("[data-testid=presence]").await?;
    app.select("[data-testid=presence]", "available").await?;
    let before = desktop.notifications_received()?;
    let offered = platform
        .customer_writes("e2e-screens-offer", "请问这个桃子什么时候发货？")
        .await?;
    app.wait_for("[data-testid=offer]").await?;
    app.screenshot("offer-zh-CN.png").await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while desktop.notifications_received()? <= before {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the offer should reach the notification daemon as a desktop notification"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.click("[data-testid=offer-accept]").await?;
    app.wait_for("[data-testid=thread]").await?;
    let heading = app
        .eval("return document.querySelector('[data-testid=conversation] h2').textContent")
        .await?;
    anyhow::ensure!(
        heading.as_str().is_some_and(|h| h.contains("李桂兰")),
        "accepting the offer opens its conversation ({offered}), got {heading}"
    );
    app.select("[data-testid=presence]", "busy").await?;

    // A phone call-back about rotten fruit: call screen and the right script.
    let client = platform.client()?;
    let call = platform
        .ingress_via(
            &client,
            "phone",
            "e2e-screens-call",
            ("cust-e2e-call", "赵大伯"),
            "直播间买的水果收到好多坏果，请回电话",
        )
        .await?;
    app.claim(&call).await?;
    app.open_conversation(&call).await?;
    app.wait_for("[data-testid=call-start]").await?;
    app.click("[data-testid=call-start]").await?;
    app.wait_for("[data-testid=script-choice]").await?;
    let first = app
        .eval("return document.querySelector('[data-testid=script-choice]').textContent")
        .await?;
    anyhow::ensure!(
        first.as_str().is_some_and(|t| t.contains("坏果")),
        "the rotten-fruit script should be suggested first, got {first}"
    );
    app.click("[data-testid=script-choice]").await?;
    app.wait_for("[data-testid=script-step]").await?;
    app.screenshot("call-zh-CN.png").await?;

    // The knowledge panel beside the conversation.
    app.type_into("[data-testid=knowledge-search]", "tk")
        .await?;
    app.wait_for("[data-testid=knowledge-hit]").await?;
    tour(&app, "zh-CN").await?;

    app.click("[data-testid=language-en]").await?;
    app.wait_for_text("[data-testid=app-title]", "Homedesk Agent Desk")
        .await?;
    app.screenshot("call-en.png").await?;
    tour(&app, "en").await?;
    app.close().await?;
    Ok(())
}
