//! The customer's side of the web chat in a real browser (headless
//! chromium) against a real platform process: the customer writes, an agent
//! answers through the real API and the answer appears without a reload, a
//! reload resumes the conversation, photos go both ways, and each refusal
//! (too fast, too long, each bad file) is said on the page without losing
//! what the customer wrote. Screenshots go to `target/e2e/webchat-*.png`.

use homedesk_e2e::photos::PhotoFiles;
use homedesk_e2e::{Browser, Platform};

const LOG: &str = "[data-testid=chat-log]";
const ERROR: &str = "[data-testid=chat-error]";
const BODY: &str = "[data-testid=chat-body]";

/// Types `text` into the composer and presses 发送 (Send).
async fn write(page: &Browser, text: &str) -> anyhow::Result<()> {
    page.type_into(BODY, text).await?;
    page.click("[data-testid=chat-send]").await
}

/// The selector of the customer's message bubble reading exactly `text`
/// once it is stored (`received` or `read`), checked by script since CSS
/// cannot match text.
async fn stored_customer_messages(page: &Browser, text: &str) -> anyhow::Result<usize> {
    let script = format!(
        "return [...document.querySelectorAll('[data-testid=chat-message][data-from=customer]')]
            .filter(m => m.dataset.id && m.querySelector('[data-testid=chat-text]').textContent === {})
            .length",
        serde_json::Value::from(text)
    );
    Ok(page.eval(&script).await?.as_u64().unwrap_or(0) as usize)
}

async fn wait_for_stored(page: &Browser, text: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + homedesk_e2e::DEADLINE;
    while std::time::Instant::now() < deadline {
        if stored_customer_messages(page, text).await? == 1 {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the page does not show {text:?} as stored once")
}

#[tokio::test]
async fn an_agents_reply_appears_without_a_reload_and_a_reload_resumes_the_conversation()
-> anyhow::Result<()> {
    let platform = Platform::start()?;
    let page = Browser::start().await?;
    page.open(&platform.chat_page("aftersales")).await?;
    page.wait_for_text("[data-testid=chat-shop]", "售后服务")
        .await?;

    // Text that looks like HTML stays text.
    let question = "<img src=x onerror=alert(1)>桃子收到就烂了一半，怎么办？";
    page.type_into("[data-testid=chat-name]", "李桂兰").await?;
    write(&page, question).await?;
    wait_for_stored(&page, question).await?;
    assert_eq!(
        page.count(&format!("{LOG} img")).await?,
        0,
        "the customer's text was rendered as HTML"
    );
    page.wait_for("[data-testid=chat-message][data-from=customer][data-state=received]")
        .await?;

    // An agent answers through the real API; the page has not reloaded.
    page.eval("window.stillTheSamePage = true; return true")
        .await?;
    let conversation = platform.conversation_with("a1002", question).await?;
    let customer = platform.conversation("a1002", &conversation).await?;
    assert_eq!(customer["channel"], "chat", "{customer}");
    platform
        .reply_as(
            "a1002",
            &conversation,
            "msg-e2e-web-1",
            "亲，非常抱歉！麻烦拍张照片给我看看",
        )
        .await?;
    let reply = "[data-testid=chat-message][data-from=agent][data-id='msg-e2e-web-1']";
    page.wait_for_text(
        &format!("{reply} [data-testid=chat-text]"),
        "亲，非常抱歉！麻烦拍张照片给我看看",
    )
    .await?;
    assert_eq!(
        page.eval("return window.stillTheSamePage === true").await?,
        true,
        "the reply needed a reload"
    );
    // The customer's message now reads 已读 (an agent answered after it).
    page.wait_for("[data-testid=chat-message][data-from=customer][data-state=read]")
        .await?;

    // The page confirmed it showed the reply: the agent's tick is delivered.
    let deadline = std::time::Instant::now() + homedesk_e2e::DEADLINE;
    loop {
        let message = platform.message("a1002", "msg-e2e-web-1").await?;
        if message["delivery"]["state"] == "delivered" {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the reply never became delivered: {message}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A new reply adds a node; what was shown stays (the log is a live
    // region: a screen reader hears the new message, not all of them again).
    page.eval(&format!(
        "document.querySelector(\"{reply}\").keptNode = true; return true"
    ))
    .await?;
    platform
        .reply_as(
            "a1002",
            &conversation,
            "msg-e2e-web-2",
            "收到照片后马上给您处理",
        )
        .await?;
    page.wait_for("[data-testid=chat-message][data-id='msg-e2e-web-2']")
        .await?;
    assert_eq!(
        page.eval(&format!(
            "return document.querySelector(\"{reply}\").keptNode === true"
        ))
        .await?,
        true,
        "the earlier reply was drawn again for a new one"
    );
    let shot = page.screenshot("webchat-customer-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    // A reload resumes: same customer (no name asked), the whole conversation, once.
    page.reload().await?;
    page.wait_for_text(
        &format!("{reply} [data-testid=chat-text]"),
        "亲，非常抱歉！麻烦拍张照片给我看看",
    )
    .await?;
    wait_for_stored(&page, question).await?;
    assert_eq!(page.count("[data-testid=chat-message]").await?, 3);
    assert_eq!(
        page.eval("return document.getElementById('name-row').hidden")
            .await?,
        true,
        "the resumed page asked for a name again"
    );
    page.wait_for_text("[data-testid=chat-link]", "已连接，客服会尽快回复您")
        .await?;
    // What a customer sees passes axe (contrast included), errors aside.
    let blocking: Vec<String> = page
        .axe_violations()
        .await?
        .iter()
        .filter(|v| v.blocks())
        .map(ToString::to_string)
        .collect();
    assert!(
        blocking.is_empty(),
        "the chat page: {}",
        blocking.join("\n")
    );

    // The English switch.
    page.click("[data-testid=chat-lang]").await?;
    page.wait_for_text("[data-testid=chat-send]", "Send")
        .await?;
    page.wait_for_text("[data-testid=chat-shop]", "After-sales")
        .await?;
    let shot = page.screenshot("webchat-customer-en.png").await?;
    println!("screenshot: {}", shot.display());
    page.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_customer_sending_too_fast_or_too_much_is_told_so_and_loses_nothing() -> anyhow::Result<()>
{
    let platform = Platform::start_with(&["--chat-customer-rate", "2"])?;
    let page = Browser::start().await?;
    page.open(&platform.chat_page("aftersales")).await?;
    page.wait_for_text("[data-testid=chat-shop]", "售后服务")
        .await?;

    for text in ["在吗？", "我的桃子烂了"] {
        write(&page, text).await?;
        wait_for_stored(&page, text).await?;
    }
    // The third within a minute is over the limit of 2.
    write(&page, "怎么还没人回？").await?;
    page.wait_for(&format!("{ERROR}[data-code=errRate]"))
        .await?;
    let said = page
        .eval(&format!(
            "return document.querySelector('{ERROR}').textContent"
        ))
        .await?;
    let said = said.as_str().unwrap_or_default();
    assert!(
        said.starts_with("您发得太快了，请稍等 ") && said.ends_with(" 秒再发。"),
        "the page said {said:?}"
    );
    // The message stays on the page with a resend button; nothing was stored.
    page.wait_for("[data-testid=chat-message][data-state=failed] [data-testid=chat-resend]")
        .await?;
    assert_eq!(stored_customer_messages(&page, "怎么还没人回？").await?, 0);
    let blocking: Vec<String> = page
        .axe_violations()
        .await?
        .iter()
        .filter(|v| v.blocks())
        .map(ToString::to_string)
        .collect();
    assert!(
        blocking.is_empty(),
        "the page with an error: {}",
        blocking.join("\n")
    );
    let shot = page.screenshot("webchat-rate-limited-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    // Too long: refused before sending, and the text stays in the box.
    let long = "桃".repeat(10_001);
    page.eval(&format!(
        "const b = document.querySelector('{BODY}'); b.value = {}; \
         b.dispatchEvent(new Event('input')); return true",
        serde_json::Value::from(long.as_str())
    ))
    .await?;
    page.wait_for_text("[data-testid=chat-count]", "10001/10000 字")
        .await?;
    page.click("[data-testid=chat-send]").await?;
    page.wait_for(&format!("{ERROR}[data-code=errTooLong]"))
        .await?;
    page.wait_for_text(ERROR, "消息太长了（最多 10000 字），请分几条发送。")
        .await?;
    page.wait_for_value(BODY, &long).await?;
    page.close().await?;
    Ok(())
}

#[tokio::test]
async fn photos_go_both_ways_and_each_bad_file_is_explained_on_the_page() -> anyhow::Result<()> {
    let platform = Platform::start()?;
    let files = PhotoFiles::new()?;
    let page = Browser::start().await?;
    page.open(&platform.chat_page("aftersales")).await?;
    page.wait_for_text("[data-testid=chat-shop]", "售后服务")
        .await?;

    // The customer attaches a photo, sees it ready, and sends it with a line.
    page.choose_file("[data-testid=chat-photo]", &files.path("peaches.jpg"))
        .await?;
    page.wait_for("[data-testid=chat-photo-preview][data-state=ready]")
        .await?;
    page.wait_for_text("[data-testid=chat-photo-state]", "照片已选好，点“发送”发出")
        .await?;
    write(&page, "这是收到的桃子").await?;
    wait_for_stored(&page, "这是收到的桃子").await?;
    let mine =
        "[data-testid=chat-message][data-from=customer][data-id] [data-testid=chat-photo-thumb]";
    let width = page.loaded_image_width(mine).await?;
    assert!(
        width > 0 && width <= 640,
        "the customer's thumbnail did not load ({width})"
    );

    // The agent answers with a photo; it shows without a reload, and a tap
    // opens the full photo.
    let conversation = platform
        .conversation_with("a1002", "这是收到的桃子")
        .await?;
    let message = platform.conversation("a1002", &conversation).await?;
    assert_eq!(message["channel"], "chat");
    platform
        .reply_with_photo_as(
            "a1002",
            &conversation,
            "msg-e2e-chart",
            "给您补发的是这一款，请看图",
            homedesk_e2e::photos::jpeg(480, 320),
        )
        .await?;
    let theirs =
        "[data-testid=chat-message][data-id='msg-e2e-chart'] [data-testid=chat-photo-thumb]";
    page.wait_for(theirs).await?;
    assert!(
        page.loaded_image_width(theirs).await? > 0,
        "the agent's thumbnail did not load"
    );
    page.click(theirs).await?;
    page.wait_for("[data-testid=chat-viewer][open]").await?;
    assert_eq!(
        page.loaded_image_width("#viewer-img").await?,
        480,
        "the full photo did not open"
    );
    let shot = page.screenshot("webchat-photos-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    page.click("[data-testid=chat-viewer] button").await?;
    page.wait_for_gone("[data-testid=chat-viewer][open]")
        .await?;

    // Each bad file: its own words on the page, nothing sent, nothing kept.
    let before = page.count("[data-testid=chat-message]").await?;
    for (file, code, words) in [
        (
            "program.jpg",
            "errPhotoType",
            "这个文件不是照片，只能发 JPG、PNG 或 WebP 格式的图片。",
        ),
        (
            "cut-in-half.jpg",
            "errPhotoBroken",
            "这张照片已损坏，打不开，请换一张。",
        ),
        (
            "huge.png",
            "errPhotoPixels",
            "照片尺寸太大了（超过 4000 万像素），请先缩小再发。",
        ),
        (
            "empty.jpg",
            "errPhotoEmpty",
            "这个文件是空的，请重新选一张照片。",
        ),
        (
            "too-big.jpg",
            "errPhotoTooBig",
            "照片太大了，请选 5 MB 以内的照片。",
        ),
    ] {
        page.choose_file("[data-testid=chat-photo]", &files.path(file))
            .await?;
        page.wait_for(&format!("{ERROR}[data-code={code}]")).await?;
        page.wait_for_text(ERROR, words).await?;
        page.wait_for("[data-testid=chat-photo-preview][hidden]")
            .await?;
        if file == "program.jpg" {
            let shot = page.screenshot("webchat-bad-photo-zh-CN.png").await?;
            println!("screenshot: {}", shot.display());
        }
    }
    assert_eq!(
        page.count("[data-testid=chat-message]").await?,
        before,
        "a refused file became a message"
    );
    page.close().await?;
    Ok(())
}
