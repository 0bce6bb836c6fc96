//! Photos in the real app against a real platform process: a customer's
//! photo shows in the thread as a thumbnail loaded from the shell's
//! `homedesk-media://` scheme (so the scheme, its handler and the CSP's
//! `img-src` work in WebKitGTK), opens full size in the viewer and closes
//! with Esc; and the agent sends a photo chosen in the composer's file
//! input, which reaches the platform once. Screenshots under `target/e2e/`.

use std::time::{Duration, Instant};

use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform, artifacts_dir};
use serde_json::{Value, json};

const THUMB: &str = "[data-testid=photo-thumb]";
const VIEWER_IMAGE: &str = "[data-testid=photo-viewer-image]";

/// A PNG of `width`×`height`: colour gradients over a checkerboard, so a
/// screenshot shows at once whether it was drawn.
fn picture(width: u32, height: u32, tint: u8) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        let mut pixels = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                let check = if (x / 40 + y / 40) % 2 == 0 { 220 } else { 30 };
                pixels.extend([
                    (x * 255 / width) as u8,
                    (y * 255 / height) as u8 ^ tint,
                    check,
                ]);
            }
        }
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

/// What the page knows of the first image matched by `css`: where it was
/// loaded from and its decoded size (0 while not loaded or broken).
async fn image(app: &AppSession, css: &str) -> anyhow::Result<Value> {
    app.eval(&format!(
        "const img = document.querySelector('{css} img, img{css}'); \
         return img ? {{src: img.currentSrc || img.src, width: img.naturalWidth, \
         complete: img.complete}} : null;"
    ))
    .await
}

/// Waits until the image matched by `css` has been decoded.
async fn loaded(app: &AppSession, css: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = image(app, css).await?;
        if found["width"].as_u64().is_some_and(|w| w > 0) {
            return Ok(found);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the image {css} did not load from the media scheme: {found}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_customers_photo_shows_from_the_media_scheme_and_the_agent_sends_one_back()
-> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;

    let (conversation, photo) = platform
        .customer_sends_photo("e2e-photo-1", "您看，桃子都烂了", picture(480, 320, 0)?)
        .await?;
    app.claim(&conversation).await?;
    app.open_conversation(&conversation).await?;

    // The thumbnail: fetched by the sync, served by the shell's scheme.
    app.wait_for(&format!("{THUMB}[data-state=shown]")).await?;
    let thumb = loaded(&app, THUMB).await?;
    let src = thumb["src"].as_str().unwrap_or_default();
    anyhow::ensure!(
        src.starts_with(&format!("homedesk-media://localhost/thumb%2F{photo}"))
            || src.starts_with(&format!("homedesk-media://localhost/thumb/{photo}")),
        "the thumbnail comes from the media scheme: {thumb}"
    );
    anyhow::ensure!(
        thumb["width"].as_u64().is_some_and(|w| w <= 320),
        "a thumbnail, not the full image: {thumb}"
    );
    let shot = app.screenshot("photos-thread-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());

    // Opened full size: the full image comes when asked for.
    app.click(THUMB).await?;
    app.wait_for("[data-testid=photo-viewer]").await?;
    let full = loaded(&app, VIEWER_IMAGE).await?;
    anyhow::ensure!(
        full["width"] == json!(480),
        "the viewer shows the full image: {full}"
    );
    let shot = app.screenshot("photos-viewer-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.eval(
        "document.activeElement.dispatchEvent(new KeyboardEvent('keydown', \
         {key: 'Escape', bubbles: true})); return true;",
    )
    .await?;
    app.wait_for_gone("[data-testid=photo-viewer]").await?;

    // The agent sends a size chart from the file chooser's input.
    let chart = artifacts_dir().join("e2e-size-chart.png");
    std::fs::write(&chart, picture(300, 200, 0x55)?)?;
    app.type_into(
        "[data-testid=composer-photo-input]",
        chart.to_str().unwrap_or_default(),
    )
    .await?;
    app.wait_for("[data-testid=composer-photos]").await?;
    let attached = loaded(&app, "[data-testid=composer-photos]").await?;
    anyhow::ensure!(
        attached["src"]
            .as_str()
            .is_some_and(|s| s.starts_with("homedesk-media://localhost/local")),
        "the attached photo shows from this PC: {attached}"
    );
    app.type_into("[data-testid=composer-body]", "尺码表请看图")
        .await?;
    app.send_composer().await?;
    app.wait_for_gone("[data-testid=composer-photos]").await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let sent = loop {
        let replies: Vec<Value> = platform
            .changes("a1002")
            .await?
            .into_iter()
            .filter(|c| {
                c["entity"] == "message"
                    && c["data"]["conversation_id"] == json!(conversation)
                    && c["data"]["author"] == "agent"
            })
            .map(|c| c["data"].clone())
            .collect();
        if let Some(last) = replies.last()
            && last["attachments"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        {
            let mut ids: Vec<&Value> = replies.iter().map(|r| &r["id"]).collect();
            ids.dedup();
            anyhow::ensure!(ids.len() == 1, "one reply, once: {replies:?}");
            break last.clone();
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the photo reply did not reach the platform: {replies:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    anyhow::ensure!(sent["body"] == "尺码表请看图", "{sent}");
    anyhow::ensure!(sent["attachments"][0]["width"] == json!(300), "{sent}");
    // The agent's own photo, now the platform's, shows in the thread too.
    let mine = "li.message.agent [data-testid=photo-thumb][data-state=shown] img[src*='thumb']";
    app.wait_for(mine).await?;
    let shot = app.screenshot("photos-sent-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    app.close().await
}
