//! A whole contact by keyboard alone, in the real app (WebKitGTK under Xvfb)
//! against a real platform process: sign in, claim the newest contact, open
//! it, send a canned reply through `/`, search the knowledge panel and insert
//! an excerpt, send it, wrap up with a disposition and land on the next
//! contact. Only WebDriver key actions reach the app (no element clicks, no
//! typing into an element by reference): each key goes to whatever has the
//! focus, as it does for an agent. After each step the test asserts where
//! the focus is and saves `target/e2e/keyboard-NN-step.png`; at the end it
//! asserts what the platform received.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use homedesk_e2e::{AppSession, DEADLINE, DEMO_PASSWORD, Desktop, Platform};
use serde_json::Value;

/// One WebDriver "perform actions" call: `keys` pressed and released in order
/// while `modifier` (if any) is held down.
async fn keys(app: &AppSession, modifier: Option<Key>, keys: &[char]) -> anyhow::Result<()> {
    let mut actions = KeyActions::new("keyboard".into());
    if let Some(held) = modifier {
        actions = actions.then(KeyAction::Down { value: held.into() });
    }
    for &value in keys {
        actions = actions
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
    }
    if let Some(held) = modifier {
        actions = actions.then(KeyAction::Up { value: held.into() });
    }
    tokio::time::timeout(DEADLINE, app.client.perform_actions(actions))
        .await
        .context("WebDriver did not answer the key actions in time")?
        .context("WebDriver refused the key actions")?;
    Ok(())
}

async fn press(app: &AppSession, key: Key) -> anyhow::Result<()> {
    keys(app, None, &[key.into()]).await
}

async fn type_text(app: &AppSession, text: &str) -> anyhow::Result<()> {
    keys(app, None, &text.chars().collect::<Vec<_>>()).await
}

/// Where the focus is: the focused element's test id (or tag), the nearest
/// ancestor's test id, and the conversation of the queue row it is in.
async fn focus(app: &AppSession) -> anyhow::Result<Value> {
    app.eval(
        "const e = document.activeElement;
         if (!e || e === document.body) return { id: 'body' };
         const up = e.parentElement && e.parentElement.closest('[data-testid]');
         const row = e.closest('[data-conversation]');
         return {
           id: e.dataset.testid || e.tagName.toLowerCase(),
           within: up ? up.dataset.testid : null,
           row: row ? row.dataset.conversation : null,
         };",
    )
    .await
}

/// Polls until the focus is on the element with test id `id` (inside queue
/// row `row`, when given); fails with where the focus was.
async fn focus_is(app: &AppSession, id: &str, row: Option<&str>) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    let mut seen = Value::Null;
    while Instant::now() < deadline {
        seen = focus(app).await?;
        if seen["id"] == id && row.is_none_or(|r| seen["row"] == r) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the focus should be on {id} (row {row:?}) but is on {seen}")
}

/// Presses Tab (at most `limit` times) until the focus is on `id`, as an
/// agent tabs to a control; fails if it is not reachable that way.
async fn tab_to(app: &AppSession, id: &str, limit: usize) -> anyhow::Result<()> {
    let mut path = Vec::new();
    for _ in 0..limit {
        press(app, Key::Tab).await?;
        let here = focus(app).await?;
        if here["id"] == id {
            return Ok(());
        }
        path.push(here);
    }
    bail!("{id} was not reached with {limit} Tabs; the focus went {path:?}")
}

/// A screenshot of the step, numbered in order.
async fn shot(app: &AppSession, step: &mut u32, name: &str) -> anyhow::Result<()> {
    *step += 1;
    let path = app
        .screenshot(&format!("keyboard-{:02}-{name}.png", *step))
        .await?;
    println!("screenshot: {}", path.display());
    Ok(())
}

async fn composer_text(app: &AppSession) -> anyhow::Result<String> {
    let value = app
        .eval("return document.querySelector('[data-testid=composer-body]').value")
        .await?;
    value
        .as_str()
        .map(str::to_owned)
        .context("no reply box in the page")
}

/// Polls the platform until `check` holds for what it answers, or fails with it.
async fn platform_has<T: std::fmt::Debug>(
    what: &str,
    mut read: impl AsyncFnMut() -> anyhow::Result<T>,
    check: impl Fn(&T) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let seen = read().await?;
        if check(&seen) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the platform should have {what}, has {seen:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_whole_contact_by_keyboard_alone() -> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    let mut step = 0;

    // Sign in: Tab to the agent code (the platform address is offered), type,
    // Tab to the password, type, Enter.
    app.wait_for("[data-testid=sign-in-form]").await?;
    tab_to(&app, "sign-in-agent", 12).await?;
    type_text(&app, "a1002").await?;
    press(&app, Key::Tab).await?;
    focus_is(&app, "sign-in-password", None).await?;
    type_text(&app, DEMO_PASSWORD).await?;
    shot(&app, &mut step, "sign-in").await?;
    press(&app, Key::Enter).await?;
    app.wait_for("[data-testid=signed-in-as]").await?;
    // The form is gone: the keyboard is in the queue, not on the page.
    focus_is(&app, "queue-rows", None).await?;
    app.wait_for_text("[data-testid=connection-state]", "在线")
        .await?;
    shot(&app, &mut step, "signed-in").await?;

    // The newest contact arrives; Home goes to its row, Enter claims it and
    // the focus stays in the row, on 打开 (Open).
    let first = platform
        .customer_writes("e2e-keyboard-1", "桃子收到就坏了，怎么办？")
        .await?;
    let row = format!("[data-testid=queue-row][data-conversation='{first}']");
    app.wait_for(&row).await?;
    press(&app, Key::Home).await?;
    focus_is(&app, "queue-claim", Some(&first)).await?;
    shot(&app, &mut step, "queue").await?;
    press(&app, Key::Enter).await?;
    app.wait_for_text(&format!("{row} [data-testid=queue-state]"), "我在处理")
        .await?;
    focus_is(&app, "queue-open", Some(&first)).await?;
    shot(&app, &mut step, "claimed").await?;

    // Enter opens it with the focus in the reply box.
    press(&app, Key::Enter).await?;
    app.wait_for("[data-testid=thread]").await?;
    focus_is(&app, "composer-body", None).await?;
    shot(&app, &mut step, "opened").await?;

    // A canned reply through `/`: Enter takes the first suggestion, the focus
    // is in its order-number field, Enter puts it in the reply box, Enter sends.
    type_text(&app, "/sd").await?;
    app.wait_for("[data-testid=canned-suggestion]").await?;
    shot(&app, &mut step, "canned-menu").await?;
    press(&app, Key::Enter).await?;
    focus_is(&app, "canned-field-order_no", None).await?;
    type_text(&app, "5188 2233").await?;
    shot(&app, &mut step, "canned-field").await?;
    press(&app, Key::Enter).await?;
    focus_is(&app, "composer-body", None).await?;
    let canned = "亲，您的订单5188 2233我正在帮您查询，请稍等1–2分钟哦～";
    app.wait_for_value("[data-testid=composer-body]", canned)
        .await?;
    press(&app, Key::Enter).await?;
    app.wait_for_value("[data-testid=composer-body]", "")
        .await?;
    focus_is(&app, "composer-body", None).await?;
    shot(&app, &mut step, "canned-sent").await?;

    // The knowledge panel: Alt+3, search in pinyin initials, Tab to the first
    // hit, Enter opens it, Tab to 插入回复, Enter puts its first paragraph in
    // the reply box (and the focus back there), Enter sends.
    keys(&app, Some(Key::Alt), &['3']).await?;
    focus_is(&app, "knowledge-search", None).await?;
    type_text(&app, "tk").await?;
    app.wait_for("[data-testid=knowledge-hit]").await?;
    press(&app, Key::Tab).await?;
    let hit = focus(&app).await?;
    anyhow::ensure!(
        hit["within"] == "knowledge-hit",
        "Tab from the search should reach the first hit, reached {hit}"
    );
    shot(&app, &mut step, "knowledge-hits").await?;
    press(&app, Key::Enter).await?;
    focus_is(&app, "knowledge-article", None).await?;
    tab_to(&app, "kb-insert", 3).await?;
    shot(&app, &mut step, "knowledge-article").await?;
    press(&app, Key::Enter).await?;
    focus_is(&app, "composer-body", None).await?;
    let excerpt = composer_text(&app).await?;
    anyhow::ensure!(
        !excerpt.trim().is_empty(),
        "the excerpt should be in the reply box"
    );
    shot(&app, &mut step, "excerpt-inserted").await?;
    press(&app, Key::Enter).await?;
    app.wait_for_value("[data-testid=composer-body]", "")
        .await?;
    focus_is(&app, "composer-body", None).await?;

    // The next customer writes in meanwhile.
    let client = platform.client()?;
    let second = platform
        .ingress(
            &client,
            "e2e-keyboard-2",
            ("cust-e2e-2", "周芳"),
            "请问这个桃子什么时候发货？",
        )
        .await?;
    app.wait_for(&format!(
        "[data-testid=queue-row][data-conversation='{second}']"
    ))
    .await?;

    // Wrap up: Tab to 结束会话, Enter; ↓ picks the next disposition (已办理退款),
    // Tab to the note, type, Tab to submit, Enter.
    tab_to(&app, "wrap-up-start", 4).await?;
    press(&app, Key::Enter).await?;
    focus_is(&app, "disposition", None).await?;
    press(&app, Key::Down).await?;
    let chosen = app
        .eval("return document.querySelector('[data-testid=disposition]').value")
        .await?;
    anyhow::ensure!(
        chosen == "refund_issued",
        "↓ on the disposition should choose the next code, chose {chosen}"
    );
    press(&app, Key::Tab).await?;
    focus_is(&app, "wrap-up-note", None).await?;
    type_text(&app, "refund sent by keyboard").await?;
    tab_to(&app, "wrap-up-submit", 2).await?;
    shot(&app, &mut step, "wrap-up").await?;
    press(&app, Key::Enter).await?;
    app.wait_for_gone("[data-testid=conversation]").await?;

    // The next contact: the focus is on its row's 领取 (Claim).
    focus_is(&app, "queue-claim", Some(&second)).await?;
    shot(&app, &mut step, "next-contact").await?;

    // What the platform received: both replies, once each, in order, and the
    // wrap-up with the disposition chosen by keyboard.
    app.wait_for_text("[data-testid=connection-state]", "在线")
        .await?;
    let expected = vec![canned.to_owned(), excerpt.trim().to_owned()];
    platform_has(
        "the canned reply and the excerpt",
        async || platform.agent_replies("a1002", &first).await,
        |replies| replies == &expected,
    )
    .await?;
    platform_has(
        "the conversation resolved as refund_issued",
        async || platform.conversation("a1002", &first).await,
        |c| c["status"] == "resolved" && c["disposition"] == "refund_issued",
    )
    .await?;
    app.close().await?;
    Ok(())
}
