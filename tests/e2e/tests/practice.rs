//! Practice mode in the real app, with no platform at all: a trainee starts
//! practice from the sign-in screen, the simulated customer arrives in the
//! real queue, the trainee claims, uses the knowledge base, replies and
//! wraps up through the real screens, and the score report appears; every
//! screen carries the practice band. Screenshots in `target/e2e/`.

use homedesk_e2e::practice::{PracticeShots, play_model_answer};
use homedesk_e2e::{AppOptions, AppSession, Desktop};

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
    play_model_answer(
        &app,
        &PracticeShots {
            picker: "practice-picker-zh-CN.png",
            conversation: "practice-conversation-zh-CN.png",
            score: "practice-score-zh-CN.png",
        },
    )
    .await?;

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
