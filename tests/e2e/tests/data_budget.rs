//! The data counter, the monthly budget and metered mode in the real app
//! against a real platform: the status bar counts what the first sync cost;
//! the agent sets a plan and metered mode in Settings; a big knowledge-base
//! update then waits behind a button in the status bar, and one click brings
//! it (the new articles are found offline in the knowledge panel).

use std::time::Duration;

use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};

const DATA: &str = "[data-testid=data-used]";
const ALLOW: &str = "[data-testid=kb-update-allow]";
const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_big_kb_update_waits_on_a_metered_link_until_the_agent_fetches_it() -> anyhow::Result<()>
{
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;

    // The first sync cost something, counted on the wire.
    let shown = app
        .wait_for_text_containing(DATA, "流量：今天", WAIT)
        .await?;
    anyhow::ensure!(
        !shown.contains("今天 0 KB"),
        "the first sync is counted: {shown:?}"
    );

    // A 1 GB plan on a phone hotspot.
    app.click("[data-testid=settings-open]").await?;
    app.wait_for("[data-testid=settings-data-budget]").await?;
    clear(&app, "[data-testid=settings-data-budget]").await?;
    app.type_into("[data-testid=settings-data-budget]", "1024")
        .await?;
    app.click("[data-testid=settings-metered]").await?;
    let metered = app
        .eval("return document.querySelector('[data-testid=settings-metered]').checked")
        .await?;
    anyhow::ensure!(
        metered == serde_json::json!(true),
        "metered is ticked: {metered}"
    );
    let shot = app.screenshot("settings-data-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.click("[data-testid=settings-save]").await?;
    app.wait_for_gone("[data-testid=settings]").await?;
    app.wait_for_text_containing(DATA, "/ 1024.0 MB", WAIT)
        .await?;

    // The centre publishes 100 articles: they wait, the rest flows.
    platform.publish_articles("bulk", 100)?;
    let conversation = platform
        .customer_writes("e2e-metered-1", "退货地址发我一下")
        .await?;
    app.wait_for_within(ALLOW, Duration::from_secs(150)).await?;
    app.wait_for_text_containing(ALLOW, "知识库有 100 篇更新待下载", WAIT)
        .await?;
    app.wait_for(&format!("[data-conversation='{conversation}']"))
        .await?;
    let shot = app.screenshot("metered-kb-update-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.type_into("[data-testid=knowledge-search]", "bulk 退货须知 7")
        .await?;
    app.wait_for("[data-testid=knowledge-none]").await?;

    // One click: the articles arrive and are found.
    app.click(ALLOW).await?;
    app.wait_for_gone(ALLOW).await?;
    clear(&app, "[data-testid=knowledge-search]").await?;
    app.type_into("[data-testid=knowledge-search]", "bulk 退货须知 7")
        .await?;
    app.wait_for("[data-testid=knowledge-hit]").await?;
    app.close().await
}

/// Empties an input the way typing would (Svelte listens to `input`).
async fn clear(app: &AppSession, css: &str) -> anyhow::Result<()> {
    app.eval(&format!(
        "const el = document.querySelector(\"{css}\"); el.value = ''; \
         el.dispatchEvent(new Event('input', {{ bubbles: true }})); return true"
    ))
    .await?;
    Ok(())
}
