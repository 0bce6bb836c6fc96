//! The real app against a real platform process: sign in with the demo
//! credentials, see a customer's message (sent to the platform's ingress)
//! arrive in the queue without a refresh, claim it, reply, and watch each
//! reply's tick follow it to the customer's channel (a real webhook on
//! loopback takes it: sent; the adapter reports it: delivered).

use std::time::{Duration, Instant};

use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform, WebhookSink};

#[tokio::test]
async fn sign_in_see_a_customer_arrive_and_claim_the_conversation() -> anyhow::Result<()> {
    let platform = Platform::start()?;
    // The demo adapter's replies go to a webhook, as a real channel's would.
    let webhook = WebhookSink::start().await?;
    platform.set_demo_webhook(&webhook.url)?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;

    // The platform address is offered; the agent types code and password.
    app.wait_for("[data-testid=sign-in-form]").await?;
    let offered = app
        .eval("return document.querySelector('[data-testid=sign-in-platform]').value")
        .await?;
    assert_eq!(offered, serde_json::json!(platform.url));
    let shot = app.screenshot("sign-in-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.sign_in("a1002", DEMO_PASSWORD).await?;

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
    app.claim(&conversation).await?;

    // Open it and reply; the platform receives exactly that text, once.
    app.open_conversation(&conversation).await?;
    let reply = "亲，非常抱歉，麻烦拍一下桃子的照片发给我";
    app.reply(reply).await?;

    // A canned reply by its shortcut; its required order number is typed in.
    app.type_into("[data-testid=composer-body]", "/sd").await?;
    // The suggestions come from a search after the keystrokes: wait for them.
    app.wait_for("[data-testid=canned-suggestion]").await?;
    app.click("[data-testid=canned-suggestion]").await?;
    app.type_into("[data-testid=canned-field-order_no]", "5188 2233")
        .await?;
    app.click("[data-testid=canned-use]").await?;
    app.send_composer().await?;
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
    // Both replies reached the channel's webhook: one grey tick each. The
    // adapter then says the customer has the first: two ticks.
    let first = platform.reply_id("a1002", &conversation, reply).await?;
    let second = platform.reply_id("a1002", &conversation, canned).await?;
    let tick = |id: &str, state: &str| {
        format!("[data-message='{id}'] [data-testid=delivery][data-state={state}]")
    };
    app.wait_for(&tick(&first, "sent")).await?;
    app.wait_for(&tick(&second, "sent")).await?;
    assert_eq!(
        webhook.received(),
        [first.clone(), second.clone()],
        "each reply reaches the webhook once, in order"
    );
    platform.report_delivered(&first).await?;
    app.wait_for(&tick(&first, "delivered")).await?;
    let shot = app.screenshot("delivery-ticks-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

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
