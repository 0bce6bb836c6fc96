//! One practice session played through the real screens with the model
//! answer of a bundled scenario, for the practice test of the built tree
//! and the test of the installed package: both prove the same thing, the
//! second one with the content the package brought.

use crate::AppSession;

/// The bundled scenario played: a parcel stuck in transit.
pub const SCENARIO: &str = "sc-zh-where-parcel";
/// The model answer of `content/scenarios/answers/sc-zh-where-parcel.toml`.
const REPLIES: [&str; 4] = [
    "亲，您好，在的～我帮您查一下物流，稍等哈",
    "亲，查到了，您的包裹前天到了武汉转运中心，之后两天一直没更新，让您久等了，真的不好意思。",
    "您别担心，我已经帮您给中通提交了催件，让他们尽快转运派送，一般24小时内快递会回复，有进展我第一时间告诉您哦～",
    "好的亲，有消息我主动联系您。请问还有其他可以帮您的吗？",
];

/// The screenshots taken on the way (file names in `target/e2e/`).
pub struct PracticeShots<'a> {
    pub picker: &'a str,
    pub conversation: &'a str,
    pub score: &'a str,
}

/// From the sign-in screen: starts practice without signing in, plays
/// [`SCENARIO`] with its model answer (claim, reply, look it up in the
/// knowledge base, wrap up) and checks the score report gives 100 with
/// its rubric. Leaves the app on the score report.
pub async fn play_model_answer(app: &AppSession, shots: &PracticeShots<'_>) -> anyhow::Result<()> {
    app.wait_for("[data-testid=sign-in-form]").await?;
    app.click("[data-testid=practice-without-sign-in]").await?;
    app.wait_for("[data-testid=practice-picker]").await?;
    app.screenshot(shots.picker).await?;
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
    app.screenshot(shots.conversation).await?;
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
    app.screenshot(shots.score).await?;
    Ok(())
}
