//! What the agent does reaches the platform and a refusal reads in the
//! interface language, with the real app and a real platform process: on a
//! phone call-back the call screen says the agent dials from their own
//! phone; the call's times and the wrap-up's note and after-contact work
//! end up on the platform, where a supervisor reads them; and a reply the
//! platform refuses because a colleague holds the conversation is explained
//! in Chinese, naming the colleague, with none of the platform's English.

use std::time::{Duration, Instant};

use anyhow::Context;
use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};
use serde_json::{Value, json};

const NOTE: &str = "客户说退款没到账，约好明早十点再回电";
const DEADLINE: Duration = Duration::from_secs(30);

/// Signs `agent` in with a session of its own (not the app's).
async fn session(platform: &Platform, agent: &str) -> anyhow::Result<String> {
    let session: Value = platform
        .client()?
        .post(format!("{}/v1/sessions", platform.url))
        .json(&json!({"agent": agent, "password": DEMO_PASSWORD, "device_id": format!("e2e-{agent}")}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    session["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("a session has an access token")
}

/// `GET /v1/conversations/{id}` as `token`.
async fn conversation_record(platform: &Platform, token: &str, id: &str) -> anyhow::Result<Value> {
    Ok(platform
        .client()?
        .get(format!("{}/v1/conversations/{id}", platform.url))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

async fn act(platform: &Platform, token: &str, actions: Value) -> anyhow::Result<Value> {
    Ok(platform
        .client()?
        .post(format!("{}/v1/actions", platform.url))
        .bearer_auth(token)
        .json(&json!({ "actions": actions }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The text of the first element matching `css` ("" when there is none).
async fn text_of(app: &AppSession, css: &str) -> anyhow::Result<String> {
    let text = app
        .eval(&format!(
            "const e = document.querySelector('{css}'); return e ? e.textContent : ''"
        ))
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

/// Waits until the text of `css` contains `needle`; returns that text.
async fn wait_for_containing(app: &AppSession, css: &str, needle: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let text = text_of(app, css).await?;
        if text.contains(needle) {
            return Ok(text);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{css} should contain {needle:?} but reads {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn call_times_and_the_wrap_up_note_reach_the_platform_and_a_refusal_reads_in_chinese()
-> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;

    // A call-back: the screen says what the agent really does.
    let client = platform.client()?;
    let call = platform
        .ingress_via(
            &client,
            "phone",
            "e2e-call-1",
            ("cust-e2e-call", "赵大伯"),
            "退款还没到账，麻烦回个电话",
        )
        .await?;
    app.claim(&call).await?;
    app.open_conversation(&call).await?;
    let says =
        wait_for_containing(&app, "[data-testid=call]", "请用你自己的手机给客户打过去").await?;
    anyhow::ensure!(
        !says.contains("电话线路"),
        "the call screen promises telephony the platform does not have: {says}"
    );
    app.click("[data-testid=call-start]").await?;
    app.wait_for_text("[data-testid=call-timer]", "00:02")
        .await?;
    app.click("[data-testid=call-end]").await?;
    app.wait_for("[data-testid=call-ended]").await?;
    let shot = app.screenshot("call-logged-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    app.click("[data-testid=wrap-up-start]").await?;
    app.select("[data-testid=disposition]", "callback_scheduled")
        .await?;
    app.type_into("[data-testid=wrap-up-note]", NOTE).await?;
    app.click("[data-testid=wrap-up-submit]").await?;

    // A supervisor reads what the agent did.
    let supervisor = session(&platform, "s3001").await?;
    let deadline = Instant::now() + DEADLINE;
    let record = loop {
        let record = conversation_record(&platform, &supervisor, &call).await?;
        if record["wrap_ups"].as_array().is_some_and(|w| !w.is_empty()) {
            break record;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the wrap-up never reached the platform: {record}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(record["conversation"]["status"], "resolved", "{record}");
    let wrap_up = &record["wrap_ups"][0];
    assert_eq!(wrap_up["note"], NOTE, "{record}");
    assert_eq!(wrap_up["disposition"], "callback_scheduled", "{record}");
    assert!(wrap_up["after_contact_secs"].is_i64(), "{record}");
    let calls = record["calls"].as_array().context("calls")?;
    assert_eq!(calls.len(), 1, "one call, logged once: {record}");
    let (started, ended) = (
        calls[0]["started_at"].as_i64().context("started_at")?,
        calls[0]["ended_at"].as_i64().context("ended_at")?,
    );
    assert!(
        ended - started >= 2_000,
        "the call lasted the 2 s the timer showed: {record}"
    );
    assert_eq!(
        calls[0]["duration_secs"],
        (ended - started) / 1000,
        "{record}"
    );
    assert_eq!(calls[0]["agent"], "a1002");

    // A colleague takes a conversation while the agent is typing a reply.
    let chat = platform
        .customer_writes("e2e-taken-1", "快递三天没动了")
        .await?;
    app.claim(&chat).await?;
    app.open_conversation(&chat).await?;
    app.type_into("[data-testid=composer-body]", "亲，我帮您查一下物流")
        .await?;
    let me_elsewhere = session(&platform, "a1002").await?;
    let released = act(
        &platform,
        &me_elsewhere,
        json!([{"key": "e2e-release-1", "created_at": 1,
        "action": {"type": "release", "conversation_id": chat}}]),
    )
    .await?;
    assert_eq!(released["results"][0]["status"], "applied", "{released}");
    let colleague = session(&platform, "a1001").await?;
    let taken = act(
        &platform,
        &colleague,
        json!([{"key": "e2e-claim-1", "created_at": 1,
        "action": {"type": "claim", "conversation_id": chat}}]),
    )
    .await?;
    assert_eq!(taken["results"][0]["status"], "applied", "{taken}");
    // Not `send_composer`: the refused text comes back into the open
    // composer, possibly before an empty box could be seen.
    app.click("[data-testid=composer-send]").await?;

    let reason = wait_for_containing(&app, "[data-testid=conflict-reason]", "王丽").await?;
    assert_eq!(
        reason.trim(),
        "原因：这个会话现在由王丽负责，你的操作没有生效。"
    );
    // The conversation left this PC's sync scope (a colleague holds it);
    // the open view keeps its composer and the refused text comes back.
    app.wait_for_value("[data-testid=composer-body]", "亲，我帮您查一下物流")
        .await
        .context("the refused reply is back in the open composer, nothing lost")?;
    let banner = text_of(&app, "[data-testid=conflict-banner]").await?;
    anyhow::ensure!(
        !banner.contains("assigned") && !banner.contains("conversation"),
        "the platform's English shows in the Chinese interface: {banner}"
    );
    let in_view = app
        .eval(
            "const r = document.querySelector('[data-testid=conflict-banner]').getBoundingClientRect(); \
             return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight",
        )
        .await?;
    assert_eq!(
        in_view,
        json!(true),
        "the explanation is on screen, not just in the page"
    );
    let shot = app.screenshot("refusal-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.close().await?;
    Ok(())
}
