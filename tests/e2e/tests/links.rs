//! The window stays the app (docs/decisions/0034-links-open-outside-the-app.md),
//! in the real app against a real platform: the knowledge base synced from
//! the platform has an article with a web link (content/kb 12315); clicking
//! it leaves the window on the app and shows the confirmation with the full
//! address; cancel opens nothing. And a navigation that slips past the UI
//! (WebDriver's own "go to", which no click handler sees) is refused by the
//! shell's navigation guard: a page served on loopback is never even asked
//! for, and the app stays in its window.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fantoccini::wd::TimeoutConfiguration;
use homedesk_e2e::{AppSession, DEMO_PASSWORD, Desktop, Platform};

/// The address of the link in `content/kb/zh-CN/kb-zh-complaint-12315.md`.
const SITE: &str = "https://www.12315.cn/";

/// How long the driver waits for the load of a page the guard refused (it
/// never comes; a page that is allowed loads from loopback in milliseconds).
const REFUSED_LOAD: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the window is now.
async fn location(app: &AppSession) -> anyhow::Result<String> {
    Ok(app
        .eval("return window.location.href")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// A web page on loopback that counts the requests for it: the page the
/// window would show if anything navigated it away.
fn foreign_page() -> anyhow::Result<(String, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/", listener.local_addr()?);
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&asked);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            // WebKit may open a connection ahead of a navigation it has not
            // decided yet (preconnect): only a request asks for the page.
            let mut buf = [0u8; 2048];
            let read = stream.read(&mut buf).unwrap_or(0);
            if !buf[..read].starts_with(b"GET ") {
                continue;
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let body = "<html><body><h1 id=foreign>not the app</h1></body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok((url, asked))
}

#[tokio::test]
async fn an_article_link_asks_first_and_nothing_navigates_the_window() -> anyhow::Result<()> {
    let platform = Platform::start()?;
    let desktop = Desktop::start()?;
    let data = tempfile::tempdir()?;
    let app = AppSession::start(&desktop, platform.app_options(data.path())).await?;
    app.sign_in("a1002", DEMO_PASSWORD).await?;
    let home = location(&app).await?;
    anyhow::ensure!(
        home.starts_with("tauri://localhost"),
        "the app runs from its own origin, not {home}"
    );

    // The article with a link, from the knowledge base the platform synced.
    app.type_into("[data-testid=knowledge-search]", "12315")
        .await?;
    app.wait_for("[data-testid=knowledge-hit]").await?;
    app.click("[data-testid=knowledge-hit] button").await?;
    app.wait_for("[data-testid=knowledge-article]").await?;
    let link = format!("[data-testid=knowledge-article] a[href='{SITE}']");
    app.wait_for(&link).await?;

    // A real click: the app asks, showing the whole address; the window stays.
    app.click(&link).await?;
    app.wait_for_text("[data-testid=link-address]", SITE)
        .await?;
    assert_eq!(
        location(&app).await?,
        home,
        "the click left the window on the app"
    );
    let shot = app.screenshot("link-confirm-zh-CN.png").await?;
    println!("screenshot: {}", shot.display());
    let findings = app.accessibility_findings("link-confirm-zh-CN").await?;
    assert!(findings.is_empty(), "the link dialog: {findings:#?}");

    // Cancel opens nothing and leaves the article where it was.
    app.click("[data-testid=link-cancel]").await?;
    app.wait_for_gone("[data-testid=link-dialog]").await?;
    assert_eq!(location(&app).await?, home);
    app.wait_for("[data-testid=knowledge-article]").await?;

    // A navigation no click handler sees: the shell's guard refuses it.
    let (foreign, asked) = foreign_page()?;
    // A refused navigation never loads, so the driver waits for its page
    // load timeout (short here) and reports an error; what counts is that
    // the window is still the app.
    app.client
        .update_timeouts(TimeoutConfiguration::new(None, Some(REFUSED_LOAD), None))
        .await?;
    let _ = tokio::time::timeout(homedesk_e2e::DEADLINE, app.client.goto(&foreign)).await;
    assert_eq!(
        location(&app).await?,
        home,
        "the navigation guard must keep the window on the app"
    );
    app.wait_for("[data-testid=knowledge-article]").await?;
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "the window must not even ask the foreign page"
    );
    app.close().await?;
    Ok(())
}
