//! The team console in the real app against a real platform: the
//! supervisor signs in and lands on the team view; a customer writes in and
//! an agent (a second workstation, driven through the API) claims the
//! contact, and the supervisor's view shows it without a refresh; the
//! supervisor reassigns it and the agent no longer holds it; a trainer
//! promotes a trainee who passed an exam. Every console screen is saved in
//! Chinese and in English (`target/e2e/console-<screen>-<lang>.png`) and
//! checked with axe on the way (serious or critical findings fail).

use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};
use serde_json::json;

/// The agent row of the team view.
fn agent_row(code: &str) -> String {
    format!("[data-testid=team-agent-row][data-agent='{code}']")
}

/// Switches the interface language with the top bar's buttons and waits
/// until the page is in it.
async fn language(app: &AppSession, lang: &str) -> anyhow::Result<()> {
    app.eval("window.scrollTo(0, 0); return true").await?;
    app.click(&format!("[data-testid=language-{lang}]")).await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = app.eval("return document.documentElement.lang").await?;
        if now == lang {
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the page should be in {lang}, is {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Screenshot and axe on the screen in front, in `lang`.
async fn audit(
    app: &AppSession,
    findings: &mut Vec<String>,
    screen: &str,
    lang: &str,
) -> anyhow::Result<()> {
    app.eval("window.scrollTo(0, 0); return true").await?;
    let name = format!("console-{screen}-{lang}");
    app.screenshot(&format!("{name}.png")).await?;
    findings.extend(app.accessibility_findings(&name).await?);
    Ok(())
}

/// The supervisor's three tabs, each audited in `lang`.
async fn supervisor_tour(
    app: &AppSession,
    findings: &mut Vec<String>,
    lang: &str,
) -> anyhow::Result<()> {
    app.click("[data-testid=console-tab-team]").await?;
    app.wait_for(&agent_row("a1002")).await?;
    audit(app, findings, "team", lang).await?;
    app.click("[data-testid=console-tab-reports]").await?;
    app.wait_for("[data-testid=reports-from]").await?;
    app.wait_for("[data-testid=reports-row]").await?;
    audit(app, findings, "reports", lang).await?;
    app.click("[data-testid=console-tab-trainees]").await?;
    app.wait_for("[data-testid=trainee-row][data-trainee='t2001']")
        .await?;
    audit(app, findings, "trainees-supervisor", lang).await?;
    app.click("[data-testid=console-tab-team]").await
}

#[tokio::test]
async fn supervisor_watches_and_reassigns_and_a_trainer_promotes() -> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    let mut findings = Vec::new();

    // The supervisor lands on the team view, not on the queue.
    app.sign_in("s3001", DEMO_PASSWORD).await?;
    app.wait_for("[data-testid=console]").await?;
    app.wait_for(&agent_row("a1002")).await?;
    anyhow::ensure!(
        app.count("[data-testid=offer]").await? == 0,
        "a supervisor is not offered contacts"
    );

    // A customer writes in; a1002 (another workstation) claims the contact:
    // the team view shows a1002 holding it, with no refresh.
    let conversation = platform
        .customer_writes("e2e-console-1", "我买的橙子坏了三个，怎么处理？")
        .await?;
    let claimed = platform
        .act_as(
            "a1002",
            "e2e-console-claim-1",
            json!({"type": "claim", "conversation_id": conversation}),
        )
        .await?;
    anyhow::ensure!(claimed["status"] == "applied", "claimed: {claimed}");
    let holding = format!("{} [data-testid=team-agent-holding]", agent_row("a1002"));
    app.wait_for_text(&holding, "1").await?;

    // Reassigned to a1004 from the console: a1002 no longer holds it.
    app.click(&format!(
        "{} [data-testid=team-open-conversation]",
        agent_row("a1002")
    ))
    .await?;
    app.wait_for("[data-testid=reassign-open]").await?;
    audit(&app, &mut findings, "conversation", "zh-CN").await?;
    // The panel and the reassign dialog in English too, then back.
    language(&app, "en").await?;
    audit(&app, &mut findings, "conversation", "en").await?;
    app.click("[data-testid=reassign-open]").await?;
    app.wait_for("[data-testid=reassign-agent]").await?;
    audit(&app, &mut findings, "reassign", "en").await?;
    app.click("[data-testid=reassign-cancel]").await?;
    app.wait_for_gone("[data-testid=reassign-agent]").await?;
    language(&app, "zh-CN").await?;
    app.click("[data-testid=reassign-open]").await?;
    app.wait_for("[data-testid=reassign-agent]").await?;
    audit(&app, &mut findings, "reassign", "zh-CN").await?;
    app.select("[data-testid=reassign-agent]", "a1004").await?;
    app.click("[data-testid=reassign-submit]").await?;
    app.wait_for_text(&holding, "0").await?;
    let now = platform.conversation("a1004", &conversation).await?;
    anyhow::ensure!(
        now["assigned_to"] == "a1004",
        "the platform has it with a1004: {now}"
    );
    let seen_by_a1002 = platform.changes("a1002").await?;
    let last = seen_by_a1002
        .iter()
        .rev()
        .find(|c| c["id"] == conversation.as_str())
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(
        last["op"] == "delete" || last["data"]["assigned_to"] != "a1002",
        "a1002's desk no longer holds it: {last}"
    );

    // a1004 answers and wraps it up: today's report has a row for them.
    for (key, action) in [
        (
            "e2e-console-reply-1",
            json!({"type": "reply", "conversation_id": conversation,
                   "message_id": "e2e-console-msg-1", "body": "您好，坏的三个给您退款。"}),
        ),
        (
            "e2e-console-wrap-1",
            json!({"type": "wrap_up", "conversation_id": conversation,
                   "disposition": "refund_issued", "after_contact_secs": 40}),
        ),
    ] {
        let done = platform.act_as("a1004", key, action).await?;
        anyhow::ensure!(done["status"] == "applied", "{key}: {done}");
    }

    supervisor_tour(&app, &mut findings, "zh-CN").await?;
    language(&app, "en").await?;
    supervisor_tour(&app, &mut findings, "en").await?;
    language(&app, "zh-CN").await?;

    // A trainer promotes a trainee who passed an exam.
    platform
        .upload_training_as(
            "t2001",
            json!([{
                "id": "e2e-exam-t2001-1",
                "scenario_id": "sc-zh-where-parcel",
                "scenario_title": "快递到哪了",
                "pack_id": "exam-basics",
                "exam": true,
                "percent": 88,
                "passed": true,
                "started_at": 1_795_968_000_000_i64,
                "finished_at": 1_795_968_300_000_i64,
                "report": {"items": [
                    {"id": "greet", "description": "先问好", "met": true},
                    {"id": "apologise", "description": "先道歉", "met": false}
                ]}
            }]),
        )
        .await?;
    app.click("[data-testid=sign-out]").await?;
    app.wait_for("[data-testid=sign-in-form]").await?;
    // The form fills in the last code used once it has loaded: wait for
    // it, then clear it as a person would, and sign in as the trainer.
    app.wait_for_value("[data-testid=sign-in-agent]", "s3001")
        .await?;
    app.eval(
        "const field = document.querySelector('[data-testid=sign-in-agent]'); \
         field.value = ''; field.dispatchEvent(new Event('input', {bubbles: true})); return true",
    )
    .await?;
    if let Err(err) = app.sign_in("r4001", DEMO_PASSWORD).await {
        app.screenshot("console-trainer-sign-in-failed.png").await?;
        return Err(err);
    }
    app.wait_for("[data-testid=trainee-row][data-trainee='t2001']")
        .await?;
    anyhow::ensure!(
        app.count("[data-testid=console-tab-team]").await? == 0,
        "a trainer has no team view"
    );
    app.wait_for("[data-testid=trainee-chart]").await?;
    let promote = "[data-testid=trainee-row][data-trainee='t2001'] [data-testid=promote-open]";
    let presales = "[data-testid=promote-queue][data-queue='presales']";
    audit(&app, &mut findings, "trainees", "zh-CN").await?;
    app.click(promote).await?;
    app.wait_for(presales).await?;
    audit(&app, &mut findings, "promote", "zh-CN").await?;
    app.click("[data-testid=promote-cancel]").await?;
    app.wait_for_gone(presales).await?;
    language(&app, "en").await?;
    audit(&app, &mut findings, "trainees", "en").await?;
    app.click(promote).await?;
    app.wait_for(presales).await?;
    audit(&app, &mut findings, "promote", "en").await?;
    app.click("[data-testid=promote-queue][data-queue='presales']")
        .await?;
    app.click("[data-testid=promote-submit]").await?;
    app.wait_for("[data-testid=promote-done]").await?;
    audit(&app, &mut findings, "promoted", "en").await?;
    language(&app, "zh-CN").await?;
    audit(&app, &mut findings, "promoted", "zh-CN").await?;
    let promoted = platform.changes("a1001").await?;
    let profile = promoted
        .iter()
        .rev()
        .find(|c| c["entity"] == "agent_profile" && c["id"] == "t2001")
        .cloned()
        .unwrap_or_default();
    anyhow::ensure!(
        profile["data"]["role"] == "agent" && profile["data"]["queues"] == json!(["presales"]),
        "t2001 is an agent of presales now: {profile}"
    );
    app.close().await?;

    anyhow::ensure!(
        findings.is_empty(),
        "serious or critical accessibility findings:\n{}",
        findings.join("\n")
    );
    Ok(())
}
