//! Accessibility where it runs: axe-core injected into the real app (WebKit
//! under Xvfb, real fonts and colours, so colour contrast is judged too) on
//! every screen — sign-in, queue, conversation, call, transfer, wrap-up,
//! settings, lock, My day, shortcuts, an offer, practice picker, a practice
//! conversation with its band, score report — in Chinese and in English,
//! with high contrast off and on. No serious or critical violation
//! is allowed; the test gathers every screen's findings and fails with one
//! readable list (rule, impact, element, what is wrong). Each screen and
//! state is saved as `target/e2e/a11y-<screen>-<lang>-<normal|hc>.png`.
//!
//! One app session: the language is switched with the language buttons and
//! high contrast in Settings, as an agent would.

use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};

/// Chat scenarios for the four practice runs, one score report per state
/// (the picker lists the scenarios of the interface language).
const SCENARIOS: [&str; 4] = [
    "sc-zh-where-parcel",
    "sc-en-where-parcel",
    "sc-en-size-exchange",
    "sc-zh-presale-date",
];

#[derive(Clone, Copy)]
struct State {
    lang: &'static str,
    high_contrast: bool,
}

impl State {
    fn name(self, screen: &str) -> String {
        let contrast = if self.high_contrast { "hc" } else { "normal" };
        format!("{screen}-{}-{contrast}", self.lang)
    }
}

/// The four states, in the order the test walks them: each differs from the
/// one before in one switch only.
const STATES: [State; 4] = [
    State {
        lang: "zh-CN",
        high_contrast: false,
    },
    State {
        lang: "en",
        high_contrast: false,
    },
    State {
        lang: "en",
        high_contrast: true,
    },
    State {
        lang: "zh-CN",
        high_contrast: true,
    },
];

/// Gathers the findings of every screen.
struct Audit<'a> {
    app: &'a AppSession,
    findings: Vec<String>,
    screens: usize,
}

impl Audit<'_> {
    /// Checks the page is really in `state`, then runs axe on it, scrolled
    /// to the top: the sticky practice band and knowledge column cover what
    /// scrolled under them, and text under them cannot be judged.
    async fn check(&mut self, state: State, screen: &str) -> anyhow::Result<()> {
        self.app.eval("window.scrollTo(0, 0); return true").await?;
        let shown = self
            .app
            .eval(
                "return [document.documentElement.lang, \
                 document.documentElement.classList.contains('high-contrast')]",
            )
            .await?;
        anyhow::ensure!(
            shown == serde_json::json!([state.lang, state.high_contrast]),
            "{screen}: the page should be in {} with high contrast {}, but is {shown}",
            state.lang,
            state.high_contrast
        );
        let name = state.name(screen);
        let found = self.app.accessibility_findings(&name).await?;
        eprintln!("{name}: {} serious or critical", found.len());
        self.findings.extend(found);
        self.screens += 1;
        Ok(())
    }
}

/// The language buttons sit in the top bar; the sticky practice band can
/// cover them for WebDriver after the page scrolled.
async fn choose_language(app: &AppSession, lang: &str) -> anyhow::Result<()> {
    app.eval("window.scrollTo(0, 0); return true").await?;
    app.click(&format!("[data-testid=language-{lang}]")).await?;
    let expected = if lang == "en" {
        "Homedesk Agent Desk"
    } else {
        "居家客服工作台"
    };
    app.wait_for_text("[data-testid=app-title]", expected).await
}

/// Turns high contrast on or off in Settings and saves.
async fn set_high_contrast(app: &AppSession, on: bool) -> anyhow::Result<()> {
    app.eval("window.scrollTo(0, 0); return true").await?;
    app.click("[data-testid=settings-open]").await?;
    app.wait_for("[data-testid=settings-high-contrast]").await?;
    let checked = app
        .eval("return document.querySelector('[data-testid=settings-high-contrast]').checked")
        .await?;
    if checked != serde_json::Value::Bool(on) {
        app.click("[data-testid=settings-high-contrast]").await?;
    }
    app.click("[data-testid=settings-save]").await?;
    app.wait_for_gone("[data-testid=settings-form]").await?;
    let applied = app
        .eval("return document.documentElement.classList.contains('high-contrast')")
        .await?;
    anyhow::ensure!(
        applied == serde_json::Value::Bool(on),
        "high contrast should now be {on}"
    );
    Ok(())
}

/// Claims a queued conversation (in either language) and opens it.
async fn claim_and_open(app: &AppSession, conversation: &str) -> anyhow::Result<()> {
    let row = format!("[data-testid=queue-row][data-conversation='{conversation}']");
    app.wait_for(&row).await?;
    app.click(&format!("{row} [data-testid=queue-claim]"))
        .await?;
    app.wait_for(&format!("{row} [data-testid=queue-open]"))
        .await?;
    app.open_conversation(conversation).await
}

/// What to switch before a practice round ends (in its agent bar).
enum Then {
    Nothing,
    HighContrast(bool),
    Language(&'static str),
}

/// Practice without signing in: the picker, one contact, its score report;
/// then `then`, and back to the sign-in screen.
async fn practice_round(
    audit: &mut Audit<'_>,
    state: State,
    scenario: &str,
    then: Then,
) -> anyhow::Result<()> {
    let app = audit.app;
    app.click("[data-testid=practice-without-sign-in]").await?;
    app.wait_for("[data-testid=practice-picker] [data-testid=practice-scenario]")
        .await?;
    audit.check(state, "practice-picker").await?;
    // Further down the picker's list: scrolled into view first, as a person would.
    let start = format!(
        "[data-testid=practice-scenario][data-scenario='{scenario}'] [data-testid=practice-start-scenario]"
    );
    app.eval(&format!(
        "document.querySelector({}).scrollIntoView({{block: 'center'}}); return true",
        serde_json::Value::from(start.as_str())
    ))
    .await?;
    app.click(&start).await?;
    app.wait_for("[data-testid=practice-band]").await?;
    let conversation = format!("conv-{scenario}");
    claim_and_open(app, &conversation).await?;
    app.reply("亲，您好，我帮您查一下，请稍等。").await?;
    audit.check(state, "practice-conversation").await?;
    app.click("[data-testid=wrap-up-start]").await?;
    app.select("[data-testid=disposition]", "info_given")
        .await?;
    app.click("[data-testid=wrap-up-submit]").await?;
    app.wait_for("[data-testid=score-report] [data-testid=score-percent]")
        .await?;
    audit.check(state, "score-report").await?;
    app.click("[data-testid=score-report-done]").await?;
    app.wait_for_gone("[data-testid=score-report]").await?;
    match then {
        Then::Nothing => {}
        Then::HighContrast(on) => set_high_contrast(app, on).await?,
        Then::Language(lang) => choose_language(app, lang).await?,
    }
    app.eval("window.scrollTo(0, 0); return true").await?;
    app.click("[data-testid=practice-end]").await?;
    app.wait_for("[data-testid=sign-in-form]").await
}

/// The live contacts of the signed-in tour.
struct Live<'a> {
    platform: &'a Platform,
    client: reqwest::Client,
    chat: String,
    call: String,
}

/// Every screen of the signed-in desk in one state.
async fn desk_tour(audit: &mut Audit<'_>, state: State, live: &Live<'_>) -> anyhow::Result<()> {
    let app = audit.app;
    let (chat, call) = (live.chat.as_str(), live.call.as_str());
    app.eval("window.scrollTo(0, 0); return true").await?;
    if app
        .eval("return document.querySelector('[data-testid=conversation-close]') !== null")
        .await?
        == serde_json::Value::Bool(true)
    {
        app.click("[data-testid=conversation-close]").await?;
    }
    app.wait_for("[data-testid=no-conversation]").await?;
    app.wait_for("[data-testid=queue-row]").await?;
    audit.check(state, "queue").await?;

    app.open_conversation(chat).await?;
    audit.check(state, "conversation").await?;

    app.click("[data-testid=transfer-open]").await?;
    app.wait_for("[data-testid=transfer-queue]").await?;
    audit.check(state, "transfer").await?;
    app.click("[data-testid=transfer-cancel]").await?;

    app.click("[data-testid=wrap-up-start]").await?;
    app.wait_for("[data-testid=acw-timer]").await?;
    audit.check(state, "wrap-up").await?;
    app.click("[data-testid=wrap-up-cancel]").await?;

    // The call screen with its guided script.
    app.open_conversation(call).await?;
    app.wait_for("[data-testid=call]").await?;
    let idle = app
        .eval("return document.querySelector('[data-testid=call-start]') !== null")
        .await?;
    if idle == serde_json::Value::Bool(true) {
        app.click("[data-testid=call-start]").await?;
    }
    app.wait_for("[data-testid=script-choice], [data-testid=script-step]")
        .await?;
    let choosing = app
        .eval("return document.querySelector('[data-testid=script-step]') === null")
        .await?;
    if choosing == serde_json::Value::Bool(true) {
        app.click("[data-testid=script-choice]").await?;
    }
    app.wait_for("[data-testid=script-step]").await?;
    audit.check(state, "call").await?;

    app.click("[data-testid=settings-open]").await?;
    app.wait_for("[data-testid=settings-text-size]").await?;
    audit.check(state, "settings").await?;
    app.click("[data-testid=settings-cancel]").await?;

    app.click("[data-testid=shortcuts-open]").await?;
    app.wait_for("[data-testid=shortcut-row]").await?;
    audit.check(state, "shortcuts").await?;
    app.click("[data-testid=shortcuts-help-close]").await?;

    app.click("[data-testid=my-day-open]").await?;
    app.wait_for("[data-testid=my-day-handled]").await?;
    audit.check(state, "my-day").await?;
    app.click("[data-testid=my-day-close]").await?;

    app.click("[data-testid=practice-open]").await?;
    app.wait_for("[data-testid=practice-picker] [data-testid=practice-scenario]")
        .await?;
    audit.check(state, "practice-picker-signed-in").await?;
    app.click("[data-testid=practice-picker-close]").await?;
    app.wait_for_gone("[data-testid=practice-picker]").await?;

    // Available: the platform offers a new customer; the prompt, declined.
    app.select("[data-testid=presence]", "available").await?;
    let customer = format!("cust-e2e-a11y-offer-{}-{}", state.lang, state.high_contrast);
    live.platform
        .ingress(
            &live.client,
            &format!("e2e-a11y-offer-{}-{}", state.lang, state.high_contrast),
            (&customer, "刘小红"),
            "请问这款腊肉还有货吗？",
        )
        .await?;
    app.wait_for("[data-testid=offer]").await?;
    audit.check(state, "offer").await?;
    app.click("[data-testid=offer-decline]").await?;
    app.wait_for_gone("[data-testid=offer]").await?;
    app.select("[data-testid=presence]", "busy").await?;

    app.click("[data-testid=lock-now]").await?;
    app.wait_for("[data-testid=lock-screen]").await?;
    audit.check(state, "lock").await?;
    app.type_into("[data-testid=unlock-password]", DEMO_PASSWORD)
        .await?;
    app.click("[data-testid=unlock-submit]").await?;
    app.wait_for_gone("[data-testid=lock-screen]").await
}

/// Proves, in the same window, that the checks can fail: a faint text that
/// axe must find, and a faint placeholder that the pixel check must find.
async fn the_checks_can_fail(app: &AppSession) -> anyhow::Result<()> {
    // The check itself can fail: text too faint to read is found in WebKit.
    let faint = app
        .eval(
            "const p = document.createElement('p'); p.id = 'a11y-probe'; \
             p.textContent = '对比度太低 low contrast'; \
             p.style.cssText = 'color:#c8c8c8;background:#ffffff;font-size:14px'; \
             document.body.prepend(p); return true",
        )
        .await?;
    anyhow::ensure!(faint == serde_json::Value::Bool(true));
    let probe = app.axe_violations().await?;
    app.eval("document.getElementById('a11y-probe').remove(); return true")
        .await?;
    anyhow::ensure!(
        probe
            .iter()
            .any(|v| v.rule == "color-contrast" && v.blocks() && v.target.contains("a11y-probe")),
        "axe in the real app should find the faint probe text, found: {probe:?}"
    );

    // And a placeholder too faint to read (axe leaves placeholders out). The
    // rule goes in through the CSSOM: the app's CSP refuses a <style> element.
    app.eval(
        "const f = document.createElement('input'); f.id = 'a11y-probe-field'; \
         f.placeholder = '搜索 search'; document.body.prepend(f); \
         const sheet = document.styleSheets[0]; \
         sheet.insertRule('#a11y-probe-field::placeholder { color: #c8c8c8; opacity: 1 }', sheet.cssRules.length); \
         return true",
    )
    .await?;
    // The window shows the new field once WebKit has painted and the frame
    // reached the X screen: poll for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let faint_placeholder = loop {
        let found = app.placeholder_violations().await?;
        if found.iter().any(|v| v.target.contains("a11y-probe-field"))
            || std::time::Instant::now() > deadline
        {
            break found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    app.eval(
        "document.getElementById('a11y-probe-field').remove(); \
         const sheet = document.styleSheets[0]; sheet.deleteRule(sheet.cssRules.length - 1); \
         return true",
    )
    .await?;
    anyhow::ensure!(
        faint_placeholder
            .iter()
            .any(|v| v.target.contains("a11y-probe-field")),
        "the placeholder check should find the faint probe placeholder, found: {faint_placeholder:?}"
    );
    Ok(())
}

#[tokio::test]
async fn every_screen_has_no_serious_accessibility_violation_in_both_languages_and_contrasts()
-> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.wait_for("[data-testid=sign-in-form]").await?;

    the_checks_can_fail(&app).await?;

    let mut audit = Audit {
        app: &app,
        findings: Vec::new(),
        screens: 0,
    };

    // Signed out: the sign-in screen, the practice picker and a score report
    // in every state (practice needs no platform; Settings is in its bar).
    let [zh, en, en_hc, zh_hc] = STATES;
    audit.check(zh, "sign-in").await?;
    practice_round(&mut audit, zh, SCENARIOS[0], Then::Nothing).await?;
    choose_language(&app, "en").await?;
    audit.check(en, "sign-in").await?;
    practice_round(&mut audit, en, SCENARIOS[1], Then::HighContrast(true)).await?;
    audit.check(en_hc, "sign-in").await?;
    practice_round(&mut audit, en_hc, SCENARIOS[2], Then::Language("zh-CN")).await?;
    audit.check(zh_hc, "sign-in").await?;
    practice_round(&mut audit, zh_hc, SCENARIOS[3], Then::HighContrast(false)).await?;

    // Signed in against the platform: a chat and a phone call-back of mine.
    app.sign_in("a1002", DEMO_PASSWORD).await?;
    let client = platform.client()?;
    let chat = platform
        .ingress(
            &client,
            "e2e-a11y-chat",
            ("cust-e2e-a11y", "王秀英"),
            "你好，我买的小米什么时候发货？",
        )
        .await?;
    let call = platform
        .ingress_via(
            &client,
            "phone",
            "e2e-a11y-call",
            ("cust-e2e-a11y-call", "赵大伯"),
            "直播间买的水果收到好多坏果，请回电话",
        )
        .await?;
    claim_and_open(&app, &chat).await?;
    claim_and_open(&app, &call).await?;
    let live = Live {
        platform: &platform,
        client,
        chat,
        call,
    };

    desk_tour(&mut audit, zh, &live).await?;
    choose_language(&app, "en").await?;
    desk_tour(&mut audit, en, &live).await?;
    set_high_contrast(&app, true).await?;
    desk_tour(&mut audit, en_hc, &live).await?;
    choose_language(&app, "zh-CN").await?;
    desk_tour(&mut audit, zh_hc, &live).await?;
    let Audit {
        findings, screens, ..
    } = audit;
    app.close().await?;
    anyhow::ensure!(
        findings.is_empty(),
        "{} serious or critical accessibility violations on {screens} screens \
         (screenshots: target/e2e/a11y-*.png):\n  {}",
        findings.len(),
        findings.join("\n  ")
    );
    Ok(())
}
