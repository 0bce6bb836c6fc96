//! A real browser for web pages the platform serves (the customer chat):
//! Debian's headless `chromium`, driven by `chromedriver` (package
//! `chromium-driver`) with the same WebDriver client as the app.
//!
//! Each [`Browser`] has its own chromedriver process (its whole process
//! group is killed on drop, chromium included) and a fresh profile folder,
//! so no cookie or cache leaks from one test into another. The window is
//! phone-sized (412×915), as most customers hold it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::ClientBuilder;
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{DEADLINE, Page, Supervised, artifacts_dir, distinct_colours, driver_ready, free_port};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Headless chromium as a test browser: no sandbox (containers, root), no
/// GPU, no network traffic of its own (updates, sync, QUIC), and the
/// platform's development certificate accepted.
const FLAGS: [&str; 11] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--ignore-certificate-errors",
    "--window-size=412,915",
];

/// Headless chromium with a WebDriver session; derefs to its [`Page`].
pub struct Browser {
    page: Page,
    _driver: Supervised,
    _profile: tempfile::TempDir,
}

impl std::ops::Deref for Browser {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.page
    }
}

impl Browser {
    /// Starts chromedriver and a headless chromium with a fresh profile.
    pub async fn start() -> anyhow::Result<Browser> {
        for binary in [CHROMEDRIVER, CHROMIUM] {
            if !Path::new(binary).is_file() {
                bail!(
                    "{binary} is missing: install Debian's chromium and chromium-driver (`make test` runs the bootstrap, which does)"
                );
            }
        }
        let port = free_port()?;
        let log = std::fs::File::create(artifacts_dir().join("chromedriver.log"))?;
        let mut driver = Supervised::spawn(
            "chromedriver",
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log),
        )?;
        let deadline = Instant::now() + DEADLINE;
        loop {
            driver.ensure_running()?;
            if driver_ready(port).unwrap_or(false) {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "chromedriver was not ready within {DEADLINE:?}; see target/e2e/chromedriver.log"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let profile = tempfile::tempdir()?;
        let mut args: Vec<String> = FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert("acceptInsecureCerts".into(), true.into());
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let client = tokio::time::timeout(
            DEADLINE,
            builder.connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .context("the chromium session was not created in time")?
        .context("creating the chromium session")?;
        Ok(Browser {
            page: Page { client },
            _driver: driver,
            _profile: profile,
        })
    }

    /// Opens `url` and waits until its document has loaded.
    pub async fn open(&self, url: &str) -> anyhow::Result<()> {
        tokio::time::timeout(DEADLINE, self.client.goto(url))
            .await
            .with_context(|| format!("{url} did not load within {DEADLINE:?}"))?
            .with_context(|| format!("opening {url}"))
    }

    /// Reloads the page, as a customer pulling down to refresh does.
    pub async fn reload(&self) -> anyhow::Result<()> {
        tokio::time::timeout(DEADLINE, self.client.refresh())
            .await
            .context("the page did not reload in time")?
            .context("reloading the page")
    }

    /// Puts the file at `path` into the `<input type=file>` matched by `css`,
    /// as choosing it in the file dialog does.
    pub async fn choose_file(&self, css: &str, path: &Path) -> anyhow::Result<()> {
        let path = path.canonicalize()?;
        self.type_into(css, &path.display().to_string()).await
    }

    /// Saves the page as the browser renders it to `target/e2e/<name>` and
    /// checks it is not blank.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = tokio::time::timeout(DEADLINE, self.client.screenshot())
            .await
            .context("the screenshot did not come within the deadline")??;
        let path = artifacts_dir().join(name);
        std::fs::write(&path, &png)?;
        let colours = distinct_colours(&png)?;
        if colours < 16 {
            bail!(
                "screenshot {} looks blank ({colours} colours)",
                path.display()
            );
        }
        Ok(path)
    }

    /// Ends the session (closing chromium); chromedriver is stopped on drop.
    pub async fn close(self) -> anyhow::Result<()> {
        let Browser { page, .. } = self;
        tokio::time::timeout(DEADLINE, page.client.close())
            .await
            .context("closing the browser")??;
        Ok(())
    }
}
