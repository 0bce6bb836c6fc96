//! Smoke test of the real app: the window opens in Chinese, switches to
//! English, and remembers the choice across a restart.

use homedesk_e2e::{AppOptions, AppSession, Desktop};

const TITLE: &str = "[data-testid=app-title]";

#[tokio::test]
async fn window_opens_in_chinese_switches_to_english_and_remembers_it() -> anyhow::Result<()> {
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;

    let app = AppSession::start(
        &desktop,
        AppOptions {
            data_dir: data.path(),
            platform: None,
        },
    )
    .await?;
    app.wait_for_text(TITLE, "居家客服工作台").await?;
    // The connection state comes from the core over IPC: proof the commands are allowed.
    app.wait_for_text("[data-testid=connection-state]", "离线")
        .await?;
    assert_eq!(
        app.eval("return document.documentElement.lang").await?,
        "zh-CN"
    );
    let shot = app.screenshot("smoke-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    app.click("[data-testid=language-en]").await?;
    app.wait_for_text(TITLE, "Homedesk Agent Desk").await?;
    app.wait_for_text("[data-testid=connection-state]", "Offline")
        .await?;
    assert_eq!(
        app.eval("return document.documentElement.lang").await?,
        "en"
    );
    let shot = app.screenshot("smoke-en.png").await?;
    println!("screenshot: {}", shot.display());
    app.close().await?;

    let saved = std::fs::read_to_string(data.path().join("settings.json"))?;
    assert!(
        saved.contains("\"en\""),
        "the choice is saved by the core: {saved}"
    );

    // A restart with the same data folder opens straight in English.
    let again = AppSession::start(
        &desktop,
        AppOptions {
            data_dir: data.path(),
            platform: None,
        },
    )
    .await?;
    again.wait_for_text(TITLE, "Homedesk Agent Desk").await?;
    again.close().await?;
    Ok(())
}
