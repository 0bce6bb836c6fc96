//! The installed package, not the source tree (`make package-test`): the
//! stage (scripts/package-test.sh) builds version A, B and a forged C,
//! installs A with `apt-get install ./…deb` and runs these tests, one at a
//! time and in order; they are ignored by `make e2e`, where nothing is
//! installed.
//!
//! 1. The installed `/usr/bin/homedesk`, started from an empty folder with
//!    its default data folder and the repository hidden from it, practises
//!    a bundled scenario (content from the package) and signs in to a
//!    platform made with `init` + `queue add` + `agent add`.
//! 2. The update end to end: B is published on that platform, the running A
//!    offers it with its notes in the interface language, installs it
//!    through the updater's privilege helper and comes back as B with the
//!    agent still signed in; then a C whose signature the app's key does
//!    not match is refused and B keeps running, still installed.
//!
//! Screenshots: `target/e2e/installed-NN-*.png`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use homedesk_e2e::installed::{
    INSTALLED_APP, ProductionPlatform, Stage, check_runs_as_installed, installed_files,
    installed_launch, installed_version, restarted_app,
};
use homedesk_e2e::practice::{PracticeShots, SCENARIO, play_model_answer};
use homedesk_e2e::{
    AppOptions, AppSession, Desktop, artifacts_dir, capture_screen, default_data_dir,
    distinct_colours, procfs,
};

const AGENT: &str = "a2001";
const PASSWORD: &str = "county-centre-2026";
/// The name `agent add` gives [`AGENT`] (tests/e2e/src/installed.rs).
const AGENT_NAME: &str = homedesk_e2e::installed::AGENT_NAME;
/// How long the updater may take to find, download and verify a package,
/// and to install one with dpkg and start again (a few MB on loopback;
/// dpkg and a cold start on a busy 2-core machine take most of it).
const UPDATE_WAIT: Duration = Duration::from_secs(180);

const NOTES_B: (&str, &str) = (
    "修复了夜间模式下的显示问题，查物流更快了。",
    "Fixes the display in night mode; parcel lookups are faster.",
);
const NOTES_C: (&str, &str) = (
    "这个版本的签名是伪造的。",
    "This version's signature is forged.",
);
/// What the app says of a package whose signature does not match its key
/// (`updates.failed.bad_signature` in ui/src/lib/i18n/messages/zh-CN.ts).
const BAD_SIGNATURE: &str =
    "更新包的签名对不上，可能被人改过，为了安全没有安装。现在的版本照常能用。";

/// Starts the installed app as a user's PC would and checks that it is the
/// installed one, with nothing of the repository in reach.
async fn start_installed(
    desktop: &Desktop,
    home: &Path,
    working_dir: &Path,
    platform: &ProductionPlatform,
) -> anyhow::Result<(AppSession, u32)> {
    let app = AppSession::start_launched(
        desktop,
        Path::new(INSTALLED_APP),
        AppOptions {
            data_dir: &default_data_dir(home),
            platform: Some((&platform.url, platform.ca())),
        },
        &installed_launch(home, working_dir),
    )
    .await?;
    let pid = check_runs_as_installed(&app, working_dir)?;
    Ok((app, pid))
}

/// The app starts locked when a session is kept (the agent's store is
/// encrypted): the password opens it, and the desk shows the agent.
async fn unlock(app: &AppSession) -> anyhow::Result<()> {
    app.wait_for("[data-testid=lock-screen]").await?;
    app.type_into("[data-testid=unlock-password]", PASSWORD)
        .await?;
    app.click("[data-testid=unlock-submit]").await?;
    app.wait_for_gone("[data-testid=lock-screen]").await?;
    app.wait_for("[data-testid=signed-in-as]").await
}

/// The text of the element with `data-testid` = `testid`.
async fn text_of(app: &AppSession, testid: &str) -> anyhow::Result<String> {
    let text = app
        .eval(&format!(
            "const e = document.querySelector('[data-testid={testid}]'); return e ? e.textContent : null"
        ))
        .await?;
    text.as_str()
        .map(|t| t.trim().to_owned())
        .with_context(|| format!("nothing shows {testid}"))
}

/// Fails unless dpkg has exactly `version` of the package installed.
fn ensure_installed(version: &str, why: &str) -> anyhow::Result<()> {
    let installed = installed_version()?;
    ensure!(
        installed.as_deref() == Some(version),
        "{why}: dpkg has {installed:?} installed, expected {version}"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "runs the installed package: make package-test"]
async fn installed_app_practises_bundled_content_and_signs_in_to_a_county_platform()
-> anyhow::Result<()> {
    let stage = Stage::load()?;
    ensure_installed(
        &stage.installed.version,
        "the stage installs version A first",
    )?;
    // The scenario comes with the package, outside the repository.
    let packaged = installed_files()?.into_iter().find(|file| {
        file.starts_with("/usr/lib") && file.ends_with(format!("content/scenarios/{SCENARIO}.toml"))
    });
    let packaged =
        packaged.context("the package must ship the bundled scenarios under /usr/lib")?;
    ensure!(
        packaged.is_file(),
        "{} is not installed",
        packaged.display()
    );
    // …/content/scenarios/SCENARIO.toml → …/content
    let packaged_content = packaged
        .parent()
        .and_then(Path::parent)
        .context("no content folder")?
        .to_path_buf();

    let platform = ProductionPlatform::set_up(&stage.platform, AGENT, PASSWORD)?;
    let desktop = Desktop::start()?;
    let home = tempfile::tempdir()?;
    let working_dir = tempfile::tempdir()?;
    let (app, _) = start_installed(&desktop, home.path(), working_dir.path(), &platform).await?;
    app.wait_for("[data-testid=sign-in-form]").await?;
    app.screenshot("installed-01-sign-in.png").await?;
    // The app says where its practice content is: among the package's files.
    let log = std::fs::read_to_string(artifacts_dir().join("tauri-driver.log"))?;
    let said = log
        .lines()
        .find(|line| line.contains("practice content"))
        .context("the app did not log where its practice content is")?;
    ensure!(
        said.contains(&packaged_content.display().to_string()),
        "the installed app should read {}: {said}",
        packaged_content.display()
    );

    play_model_answer(
        &app,
        &PracticeShots {
            picker: "installed-02-practice-picker.png",
            conversation: "installed-03-practice-conversation.png",
            score: "installed-04-practice-score.png",
        },
    )
    .await?;
    app.click("[data-testid=score-report-done]").await?;
    app.eval("window.scrollTo(0, 0); return true").await?;
    app.click("[data-testid=practice-end]").await?;

    // The county platform: the offered address is the one it serves.
    app.wait_for("[data-testid=sign-in-form]").await?;
    let offered = app
        .eval("return document.querySelector('[data-testid=sign-in-platform]').value")
        .await?;
    ensure!(
        offered == serde_json::json!(platform.url),
        "the sign-in screen should offer {}, offers {offered}",
        platform.url
    );
    app.sign_in(AGENT, PASSWORD).await?;
    app.wait_for_text("[data-testid=connection-state]", "在线")
        .await?;
    app.screenshot("installed-05-signed-in.png").await?;
    app.close().await?;

    // The app kept its data where an installed app does: the user's data folder.
    let data = default_data_dir(home.path());
    let agent_db = data.join("agents").join(format!("{AGENT}.sqlite"));
    ensure!(
        agent_db.is_file(),
        "the installed app should keep {AGENT}'s store at {}",
        agent_db.display()
    );
    Ok(())
}

#[tokio::test]
#[ignore = "runs the installed package: make package-test"]
async fn installed_app_updates_itself_from_its_platform_and_refuses_a_forged_package()
-> anyhow::Result<()> {
    let stage = Stage::load()?;
    let (a, b, c) = (&stage.installed, &stage.update, &stage.forged);
    ensure_installed(&a.version, "the update starts from version A")?;
    let platform = ProductionPlatform::set_up(&stage.platform, AGENT, PASSWORD)?;
    let desktop = Desktop::start()?;
    let home = tempfile::tempdir()?;
    let working_dir = tempfile::tempdir()?;

    // Version A: the agent signs in and chooses English; nothing newer yet.
    let (app, _) = start_installed(&desktop, home.path(), working_dir.path(), &platform).await?;
    app.sign_in(AGENT, PASSWORD).await?;
    app.click("[data-testid=language-en]").await?;
    app.wait_for_text("[data-testid=app-title]", "Homedesk Agent Desk")
        .await?;
    app.click("[data-testid=settings-open]").await?;
    app.wait_for_text("[data-testid=app-version]", &a.version)
        .await?;
    app.screenshot("installed-06-version-a.png").await?;
    app.close().await?;

    // B is published; A, started again (the session kept: it starts locked
    // until the password opens the agent's store), finds it at start,
    // downloads and verifies it, and says so in the agent bar.
    platform.publish(&b.deb, &b.signature, &b.version, NOTES_B)?;
    let (app, old_pid) =
        start_installed(&desktop, home.path(), working_dir.path(), &platform).await?;
    unlock(&app).await?;
    app.wait_for_within("[data-testid=update-ready-notice]", UPDATE_WAIT)
        .await?;
    app.click("[data-testid=update-ready-notice]").await?;
    app.wait_for("[data-testid=update-install]").await?;
    let line = text_of(&app, "update-status").await?;
    ensure!(
        line.contains(&b.version),
        "the status line should name version {}: {line:?}",
        b.version
    );
    // What is new, in the interface language: English, then Chinese.
    app.wait_for_text("[data-testid=update-notes]", NOTES_B.1)
        .await?;
    app.screenshot("installed-07-update-offered-en.png").await?;
    app.click("[data-testid=settings-cancel]").await?;
    app.click("[data-testid=language-zh-CN]").await?;
    app.wait_for_text("[data-testid=app-title]", "居家客服工作台")
        .await?;
    app.click("[data-testid=settings-open]").await?;
    app.wait_for_text("[data-testid=update-notes]", NOTES_B.0)
        .await?;
    app.screenshot("installed-08-update-offered-zh-CN.png")
        .await?;

    // Install: the plugin runs dpkg through its privilege helper, then the
    // app starts again from the new file (the WebDriver session ends here).
    app.click("[data-testid=update-install]").await?;
    let group = app.process_group();
    let deadline = Instant::now() + UPDATE_WAIT;
    let restarted = loop {
        if installed_version()?.as_deref() == Some(b.version.as_str())
            && let Some(pid) = restarted_app(group, old_pid)
        {
            break pid;
        }
        ensure!(
            Instant::now() < deadline,
            "after install, dpkg should have {} and the app should have started again; dpkg has {:?}",
            b.version,
            installed_version()?
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // The old process ends, and the restarted one's window renders on the
    // then empty (black) screen.
    let deadline = Instant::now() + UPDATE_WAIT;
    while procfs::exe(old_pid).is_some() {
        ensure!(
            Instant::now() < deadline,
            "version A (process {old_pid}) is still running after the update"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let png = loop {
        let png = capture_screen(&desktop.display)?;
        if distinct_colours(&png)? >= 16 {
            break png;
        }
        ensure!(
            Instant::now() < deadline,
            "the app restarted as process {restarted} but shows no window"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    std::fs::write(artifacts_dir().join("installed-09-restarted.png"), png)?;
    drop(app);
    // The restarted app was in the session's group: it is stopped with it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while procfs::exe(restarted).is_some() {
        ensure!(
            Instant::now() < deadline,
            "the restarted app {restarted} did not stop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A fresh session on the installed binary: version B, same agent, same
    // local settings.
    let (app, _) = start_installed(&desktop, home.path(), working_dir.path(), &platform).await?;
    unlock(&app).await?;
    let signed_in = app
        .eval("return document.querySelector('[data-testid=signed-in-as]').textContent")
        .await?;
    ensure!(
        signed_in.as_str().is_some_and(|s| s.contains(AGENT_NAME)),
        "after the update {AGENT_NAME} should still be signed in, the bar says {signed_in}"
    );
    app.wait_for_text("[data-testid=app-title]", "居家客服工作台")
        .await?;
    // The status bar, which support asks an agent to read, says B too.
    app.wait_for_text(
        "[data-testid=status-version]",
        &format!("版本 {}", b.version),
    )
    .await?;
    app.click("[data-testid=settings-open]").await?;
    app.wait_for_text("[data-testid=app-version]", &b.version)
        .await?;
    app.screenshot("installed-10-version-b.png").await?;
    app.close().await?;

    // C's signature was made with another key: refused, B stays.
    platform.publish(&c.deb, &c.signature, &c.version, NOTES_C)?;
    let (app, pid) = start_installed(&desktop, home.path(), working_dir.path(), &platform).await?;
    unlock(&app).await?;
    app.click("[data-testid=settings-open]").await?;
    app.wait_for_text_within("[data-testid=update-status]", BAD_SIGNATURE, UPDATE_WAIT)
        .await?;
    let role = app
        .eval("return document.querySelector('[data-testid=update-status]').getAttribute('role')")
        .await?;
    ensure!(
        role == "alert",
        "a refused update is announced as an alert, role={role}"
    );
    ensure!(
        app.count("[data-testid=update-install]").await? == 0
            && app.count("[data-testid=update-ready-notice]").await? == 0,
        "a package that failed its signature must not be offered for install"
    );
    // The reason for support: the plugin's own words, the key.
    let detail = text_of(&app, "update-detail").await?;
    ensure!(
        detail.contains("different key"),
        "C is refused for its key, not for anything else: {detail:?}"
    );
    app.screenshot("installed-11-forged-refused.png").await?;
    ensure_installed(&b.version, "a forged package must not be installed")?;
    ensure!(
        app.app_pid()? == pid,
        "B keeps running: the app must not restart for a refused package"
    );
    app.wait_for_text("[data-testid=app-version]", &b.version)
        .await?;
    app.close().await?;
    Ok(())
}
