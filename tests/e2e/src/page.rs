//! A web page driven over WebDriver: the waits, clicks and scripts every
//! end-to-end test needs, for the app's window ([`crate::AppSession`]) and
//! a browser's page ([`crate::Browser`]) alike, through one fantoccini
//! client. Every wait polls with the [`DEADLINE`]; no call can hang a test.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, Locator};

use crate::DEADLINE;

/// One WebDriver session's page.
pub struct Page {
    pub client: Client,
}

impl Page {
    /// Picks the option with `value` in the `<select>` matched by `css`.
    pub async fn select(&self, css: &str, value: &str) -> anyhow::Result<()> {
        within(&format!("choosing {value:?} in {css}"), async {
            self.client
                .find(Locator::Css(css))
                .await?
                .select_by_value(value)
                .await
        })
        .await
    }

    /// Waits until nothing matches `css` any more.
    ///
    /// Counted in the page by a script rather than with element handles:
    /// WebKitWebDriver answers "stale element" when a matched element is
    /// removed while it builds the handles, which is exactly the moment
    /// this waits for.
    pub async fn wait_for_gone(&self, css: &str) -> anyhow::Result<()> {
        let script = format!(
            "return document.querySelectorAll({}).length",
            serde_json::Value::from(css)
        );
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if self.eval(&script).await?.as_u64() == Some(0) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} should have gone within {DEADLINE:?}")
    }

    /// Waits until the form field's value equals `expected`.
    pub async fn wait_for_value(&self, css: &str, expected: &str) -> anyhow::Result<()> {
        let script = format!(
            "const e = document.querySelector({}); return e ? e.value : null",
            serde_json::Value::from(css)
        );
        let deadline = Instant::now() + DEADLINE;
        let mut last_seen = serde_json::Value::Null;
        while Instant::now() < deadline {
            if let Ok(value) = self.eval(&script).await {
                if value == expected {
                    return Ok(());
                }
                last_seen = value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} should hold {expected:?} but held {last_seen} after {DEADLINE:?}")
    }

    /// Waits until the element's text equals `expected`; fails with what it saw.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> anyhow::Result<()> {
        self.wait_for_text_within(css, expected, DEADLINE).await
    }

    /// [`Self::wait_for_text`] with a longer or shorter deadline.
    pub async fn wait_for_text_within(
        &self,
        css: &str,
        expected: &str,
        wait: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + wait;
        let mut last_seen = String::from("<element not found>");
        while Instant::now() < deadline {
            let read = within(&format!("reading {css}"), async {
                self.client.find(Locator::Css(css)).await?.text().await
            })
            .await;
            if let Ok(text) = read {
                if text.trim() == expected {
                    return Ok(());
                }
                last_seen = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} should read {expected:?} but read {last_seen:?} after {wait:?}")
    }

    /// Waits until the element's text contains `part`; returns the text.
    pub async fn wait_for_text_containing(
        &self,
        css: &str,
        part: &str,
        wait: Duration,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + wait;
        let mut last_seen = String::from("<element not found>");
        while Instant::now() < deadline {
            let read = within(&format!("reading {css}"), async {
                self.client.find(Locator::Css(css)).await?.text().await
            })
            .await;
            if let Ok(text) = read {
                if text.contains(part) {
                    return Ok(text);
                }
                last_seen = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} should contain {part:?} but read {last_seen:?} after {wait:?}")
    }

    /// Clicks the element `css` matches. Svelte may replace an element
    /// between finding and clicking it (a pull re-renders the row just
    /// claimed): a click that fails because the element went stale, was
    /// covered for a moment or not yet interactable finds it again and
    /// retries until the [`DEADLINE`]. Any other error fails at once.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let attempt = within(&format!("clicking {css}"), async {
                self.client.find(Locator::Css(css)).await?.click().await
            })
            .await;
            let Err(error) = attempt else {
                return Ok(());
            };
            let passing = error
                .downcast_ref::<fantoccini::error::CmdError>()
                .is_some_and(|e| match e {
                    fantoccini::error::CmdError::Standard(w) => matches!(
                        w.error,
                        fantoccini::error::ErrorStatus::StaleElementReference
                            | fantoccini::error::ErrorStatus::ElementClickIntercepted
                            | fantoccini::error::ErrorStatus::ElementNotInteractable
                    ),
                    _ => false,
                });
            if !passing || started.elapsed() > DEADLINE {
                let kind = format!("{:?}", error.root_cause());
                return Err(error.context(kind));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the input matched by `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        within(&format!("typing into {css}"), async {
            self.client
                .find(Locator::Css(css))
                .await?
                .send_keys(text)
                .await
        })
        .await
    }

    /// Waits until at least one element matches `css`.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for_within(css, DEADLINE).await
    }

    /// [`Self::wait_for`] with a longer or shorter deadline.
    pub async fn wait_for_within(&self, css: &str, wait: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(found) = self.client.find_all(Locator::Css(css)).await
                && !found.is_empty()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("nothing matched {css} after {wait:?}")
    }

    /// Runs a script in the page and returns its result.
    pub async fn eval(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        within(
            &format!("running {script:?}"),
            self.client.execute(script, vec![]),
        )
        .await
    }

    /// Width of the image `css` matches once the page has loaded it; 0
    /// while it is loading or broken when the [`DEADLINE`] passes (an
    /// element is in the page before its picture has arrived).
    pub async fn loaded_image_width(&self, css: &str) -> anyhow::Result<u64> {
        let script = format!(
            "const i = document.querySelector({}); return i && i.complete ? i.naturalWidth : 0",
            serde_json::Value::from(css)
        );
        let deadline = Instant::now() + DEADLINE;
        loop {
            let width = self.eval(&script).await?.as_u64().unwrap_or(0);
            if width > 0 || Instant::now() > deadline {
                return Ok(width);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs an asynchronous script (it answers by calling its last argument)
    /// and returns what it answered.
    pub async fn eval_async(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        within(
            &format!("running {script:?}"),
            self.client.execute_async(script, vec![]),
        )
        .await
    }

    /// How many elements match `css` now (counted by a script, so an
    /// element removed meanwhile cannot turn into a "stale element" error).
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        let script = format!(
            "return document.querySelectorAll({}).length",
            serde_json::Value::from(css)
        );
        let counted = self.eval(&script).await?;
        counted
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .with_context(|| format!("counting {css} answered {counted}"))
    }
}

/// Runs one WebDriver call with the [`DEADLINE`], so a driver that stops
/// answering fails the test instead of hanging it.
async fn within<T>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(DEADLINE, call).await {
        Ok(result) => result.with_context(|| format!("WebDriver failed {what}")),
        Err(_) => bail!("WebDriver did not answer within {DEADLINE:?} while {what}"),
    }
}
