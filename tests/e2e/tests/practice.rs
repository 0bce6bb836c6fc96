//! Practice mode in the real app, with no platform at all: a trainee starts
//! practice from the sign-in screen, the simulated customer arrives in the
//! real queue, the trainee claims, uses the knowledge base, replies and
//! wraps up through the real screens, and the score report appears; every
//! screen carries the practice band. Screenshots in `target/e2e/`.

use homedesk_e2e::{AppOptions, AppSession, Desktop};

const SCENARIO: &str = "sc-zh-where-parcel";
/// The model answer of `content/scenarios/answers/sc-zh-where-parcel.toml`.
const REPLIES: [&str; 4] = [
    "亲，您好，在的～我帮您查一下物流，稍等哈",
    "亲，查到了，您的包裹前天到了武汉转运中心，之后两天一直没更新，让您久等了，真的不好意思。",
    "您别担心，我已经帮您给中通提交了催件，让他们尽快转运派送，一般24小时内快递会回复，有进展我第一时间告诉您哦～",
    "好的亲，有消息我主动联系您。请问还有其他可以帮您的吗？",
];

#[tokio::test]
async fn a_trainee_practises_one_scenario_without_a_platform_and_sees_the_score()
-> anyhow::Result<()> {
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
    app.wait_for("[data-testid=sign-in-form]").await?;
    app.click("[data-testid=practice-without-sign-in]").await?;
    app.wait_for("[data-testid=practice-picker]").await?;
    app.screenshot("practice-picker-zh-CN.png").await?;
    app.click(&format!(
        "[data-testid=practice-scenario][data-scenario='{SCENARIO}'] [data-testid=practice-start-scenario]"
    ))
    .await?;
    app.wait_for("[data-testid=practice-band]").await?;

    let conversation = format!("conv-{SCENARIO}");
    app.claim(&conversation).await?;
    app.open_conversation(&conversation).await?;
    app.wait_for("[data-testid=practice-band]").await?;
    app.reply(REPLIES[0]).await?;
    app.type_into("[data-testid=knowledge-search]", "物流好几天不更新")
        .await?;
    app.wait_for("[data-testid=knowledge-hit]").await?;
    app.click("[data-testid=knowledge-hit] button").await?;
    app.wait_for("[data-testid=knowledge-article]").await?;
    for reply in &REPLIES[1..] {
        app.reply(reply).await?;
    }
    app.screenshot("practice-conversation-zh-CN.png").await?;
    app.click("[data-testid=wrap-up-start]").await?;
    app.select("[data-testid=disposition]", "info_given")
        .await?;
    app.click("[data-testid=wrap-up-submit]").await?;

    app.wait_for("[data-testid=score-report] [data-testid=score-percent]")
        .await?;
    app.wait_for("[data-testid=score-replay]").await?;
    let verdict = app
        .eval("return document.querySelector('[data-testid=score-verdict]').textContent")
        .await?;
    let percent = app
        .eval("return document.querySelector('[data-testid=score-percent]').textContent")
        .await?;
    anyhow::ensure!(
        percent.as_str().is_some_and(|p| p.contains("100")),
        "the model answer scores 100, got {percent} ({verdict})"
    );
    let items = app
        .eval("return document.querySelectorAll('[data-testid=score-item]').length")
        .await?;
    anyhow::ensure!(
        items.as_u64().is_some_and(|n| n >= 5),
        "rubric items: {items}"
    );
    app.wait_for("[data-testid=practice-band]").await?;
    app.screenshot("practice-score-zh-CN.png").await?;

    app.click("[data-testid=score-report-done]").await?;
    // The article scrolled the page; the sticky band would cover the
    // language switch for WebDriver's click, not for a person who scrolls.
    app.eval("window.scrollTo(0, 0); return true").await?;
    app.click("[data-testid=language-en]").await?;
    app.wait_for_text("[data-testid=app-title]", "Homedesk Agent Desk")
        .await?;
    app.wait_for("[data-testid=practice-band]").await?;
    app.screenshot("practice-desk-en.png").await?;

    // Ending practice leaves nothing signed in: back to the sign-in screen.
    app.click("[data-testid=practice-end]").await?;
    app.wait_for("[data-testid=sign-in-form]").await?;
    app.wait_for_gone("[data-testid=practice-band]").await?;
    app.close().await?;
    Ok(())
}
