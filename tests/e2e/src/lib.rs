//! End-to-end harness: the real Homedesk binary in a real (virtual) desktop,
//! driven over WebDriver.
//!
//! [`Desktop`] starts Xvfb, a private D-Bus session and a notification daemon;
//! [`AppSession`] starts `tauri-driver` (which starts WebKitWebDriver, which
//! starts the app) and connects a fantoccini client; [`Browser`] does the
//! same for headless chromium (the customer's side of the web chat), and
//! both drive their [`Page`] with the same calls. Every process is started
//! in its own process group and the whole group is killed on drop, so nothing
//! outlives a test, also when it fails or panics.
//!
//! Nothing here sleeps to wait: every wait polls with a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::ClientBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

mod a11y;
mod browser;
pub mod installed;
mod page;
pub mod photos;
mod platform;
pub mod practice;
pub mod procfs;
mod relay;

pub use a11y::Violation;
pub use browser::Browser;
pub use page::Page;
pub use platform::{DEMO_PASSWORD, Platform, WebhookSink};
pub use relay::LinkRelay;

/// How long any single wait may take before the test fails with a message.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Cargo's target folder: `CARGO_TARGET_DIR` if set, else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Where screenshots go for people to look at: `target/e2e/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = target_dir().join("e2e");
    std::fs::create_dir_all(&dir).expect("create target/e2e");
    dir
}

/// The folder of built binaries the tests start: `target/debug`, or the
/// profile folder named by `HOMEDESK_E2E_PROFILE` (`make bench` measures the
/// optimised build in `target/release`).
pub fn profile_dir() -> PathBuf {
    let profile = std::env::var("HOMEDESK_E2E_PROFILE").unwrap_or_else(|_| "debug".into());
    target_dir().join(profile)
}

/// A binary under [`profile_dir`], e.g. `homedesk` or `examples/blank_window`.
pub fn built_binary(relative: &str) -> anyhow::Result<PathBuf> {
    let path = profile_dir().join(relative);
    if !path.is_file() {
        bail!(
            "{} does not exist: run `make e2e` (it builds the app and the platform first) or `make app`",
            path.display()
        );
    }
    Ok(path)
}

/// The app binary built by `make app` (UI embedded).
pub fn app_binary() -> anyhow::Result<PathBuf> {
    built_binary("homedesk")
}

/// A child process that is killed, with its whole process group, on drop.
pub struct Supervised {
    name: &'static str,
    child: Child,
}

impl Supervised {
    /// Spawns `command` as the leader of a new process group.
    pub fn spawn(name: &'static str, command: &mut Command) -> anyhow::Result<Self> {
        let child = command.process_group(0).spawn().with_context(|| {
            format!("starting {name} (is it installed? `make test` runs the bootstrap)")
        })?;
        Ok(Supervised { name, child })
    }

    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The process id (also the id of its process group).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM to the group, then waits for the leader to exit; fails if it
    /// is still running after [`DEADLINE`]. Returns its exit status.
    pub fn stop(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let group = Pid::from_raw(i32::try_from(self.child.id())?);
        killpg(group, Signal::SIGTERM).with_context(|| format!("stopping {}", self.name))?;
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("{} did not stop within {DEADLINE:?} of SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fails if the process has already exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited early with {status}", self.name);
        }
        Ok(())
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            return;
        };
        let group = Pid::from_raw(pid);
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                // The leader is gone; make sure no straggler in its group survives.
                let _ = killpg(group, Signal::SIGKILL);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// Reads a child's stdout until a line starts with `prefix` (any line for
/// `""`), within [`DEADLINE`], and returns that line. The rest of its output
/// is read and dropped, so the child never blocks on a full pipe.
fn line_starting_with(name: &str, child: &mut Child, prefix: &str) -> anyhow::Result<String> {
    let stdout = child.stdout.take().context("stdout not piped")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // Nobody listens once the line was found; keep draining.
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + DEADLINE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let line = line.trim();
                if !line.is_empty() && line.starts_with(prefix) {
                    return Ok(line.to_owned());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                bail!("{name} did not print {prefix:?} within {DEADLINE:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                bail!("{name} exited before it was ready")
            }
        }
    }
}

/// The first line a child prints on stdout, within [`DEADLINE`].
fn first_line(name: &str, child: &mut Child) -> anyhow::Result<String> {
    line_starting_with(name, child, "")
}

/// A virtual desktop: Xvfb, a private D-Bus session bus and a notification
/// daemon, all torn down on drop.
pub struct Desktop {
    pub display: String,
    pub dbus_address: String,
    // Dropped in reverse order of start: daemon, bus, X server.
    _dunst: Option<Supervised>,
    _dbus: Supervised,
    _xvfb: Supervised,
}

impl Desktop {
    pub fn start() -> anyhow::Result<Self> {
        // -displayfd makes Xvfb pick a free display and print its number.
        let mut xvfb = Supervised::spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args([
                    "-displayfd",
                    "1",
                    "-screen",
                    "0",
                    "1280x800x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let display = format!(":{}", first_line("Xvfb", xvfb.child_mut())?);

        let mut dbus = Supervised::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let dbus_address = first_line("dbus-daemon", dbus.child_mut())?;

        // Notifications are optional for the app (it falls back in-app), so a
        // missing daemon is not fatal here; tests that need it check for it.
        let dunst = Supervised::spawn(
            "dunst",
            Command::new("dunst")
                .env("DISPLAY", &display)
                .env("DBUS_SESSION_BUS_ADDRESS", &dbus_address)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
        .ok();

        Ok(Desktop {
            display,
            dbus_address,
            _dunst: dunst,
            _dbus: dbus,
            _xvfb: xvfb,
        })
    }
}

impl Desktop {
    /// How many notifications the desktop's notification daemon (dunst)
    /// has received: waiting, on screen and in its history. Fails when no
    /// daemon runs, so a test that counts on one says so.
    pub fn notifications_received(&self) -> anyhow::Result<u32> {
        anyhow::ensure!(
            self._dunst.is_some(),
            "no notification daemon (dunst) is running in the test desktop"
        );
        let out = Command::new("dunstctl")
            .arg("count")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.dbus_address)
            .output()
            .context("running dunstctl count")?;
        anyhow::ensure!(
            out.status.success(),
            "dunstctl count failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // "Waiting: 0\nCurrently displayed: 1\nHistory: 0"
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| line.rsplit(':').next()?.trim().parse::<u32>().ok())
            .sum())
    }
}

/// Options for one run of the app.
pub struct AppOptions<'a> {
    /// Data folder for this run; reuse one to test what survives a restart.
    pub data_dir: &'a Path,
    /// A platform to offer on the sign-in screen: its URL and the CA file
    /// to trust (as `make run` passes them).
    pub platform: Option<(&'a str, &'a Path)>,
}

/// How the app's process is launched, beyond [`AppOptions`]. The default is
/// what every test of the built tree uses; the tests of the installed
/// package (`tests/installed.rs`) run the app the way a user would: from
/// another folder, with its default data folder and without the
/// repository in sight.
#[derive(Debug, Default, Clone)]
pub struct Launch {
    /// The working folder of tauri-driver and so of the app (default: the test's).
    pub working_dir: Option<PathBuf>,
    /// Folders the app must not see: tauri-driver starts in a private mount
    /// namespace where each is covered by an empty read-only tmpfs (needs
    /// root, or unprivileged user namespaces), and the app inherits it.
    pub hidden: Vec<PathBuf>,
    /// Run with this `HOME` and neither `HOMEDESK_DATA_DIR` nor
    /// `XDG_DATA_HOME`: the app picks its data folder as it does on a user's
    /// PC, [`default_data_dir`] of this home. [`AppOptions::data_dir`] is
    /// then not passed.
    pub home: Option<PathBuf>,
}

/// Where the app keeps its data when nothing tells it otherwise, for a
/// user whose home is `home` (`$XDG_DATA_HOME` unset): the identifier from
/// tauri.conf.json under `~/.local/share`.
pub fn default_data_dir(home: &Path) -> PathBuf {
    home.join(".local/share/cn.homedesk.workstation")
}

/// The app, started through tauri-driver, with a WebDriver client attached.
pub struct AppSession {
    page: Page,
    display: String,
    application: PathBuf,
    driver: Supervised,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tauri_driver() -> PathBuf {
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin/tauri-driver"));
    match in_cargo_home {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("tauri-driver"),
    }
}

/// `GET /status` on the driver; `Ok(true)` once it reports `ready`. Reads
/// by `Content-Length`: chromedriver keeps the connection open whatever
/// the request says.
fn driver_ready(port: u16) -> anyhow::Result<bool> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    let body = loop {
        let read = stream.read(&mut chunk)?;
        response.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if read == 0 || length.is_some_and(|n| body.len() >= n) {
                break body.to_owned();
            }
        } else if read == 0 {
            break String::new();
        }
    };
    let status: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_default();
    Ok(status["value"]["ready"] == serde_json::Value::Bool(true))
}

/// The app's page: `app.click(..)`, `app.client`, as on any [`Page`].
impl std::ops::Deref for AppSession {
    type Target = Page;

    fn deref(&self) -> &Page {
        &self.page
    }
}

impl AppSession {
    /// Starts the Homedesk app ([`app_binary`]).
    pub async fn start(desktop: &Desktop, options: AppOptions<'_>) -> anyhow::Result<Self> {
        Self::start_application(desktop, &app_binary()?, options).await
    }

    /// Starts any Tauri binary the same way (the benchmark's blank window)
    /// and opens a WebDriver session. On a busy 2-core machine
    /// WebKitWebDriver now and then drops the very first session request
    /// ("did not respond"); one fresh attempt is made then.
    pub async fn start_application(
        desktop: &Desktop,
        application: &Path,
        options: AppOptions<'_>,
    ) -> anyhow::Result<Self> {
        Self::start_launched(desktop, application, options, &Launch::default()).await
    }

    /// [`Self::start_application`], launched as `launch` says.
    pub async fn start_launched(
        desktop: &Desktop,
        application: &Path,
        options: AppOptions<'_>,
        launch: &Launch,
    ) -> anyhow::Result<Self> {
        match Self::start_once(desktop, application, &options, launch).await {
            Ok(session) => Ok(session),
            Err(first) => {
                eprintln!("starting the app failed, trying once more: {first:#}");
                Self::start_once(desktop, application, &options, launch)
                    .await
                    .context(format!("second attempt (the first failed: {first:#})"))
            }
        }
    }

    async fn start_once(
        desktop: &Desktop,
        application: &Path,
        options: &AppOptions<'_>,
        launch: &Launch,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let native_port = free_port()?;
        let log = std::fs::File::create(artifacts_dir().join("tauri-driver.log"))?;
        let mut command = driver_command(launch);
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &desktop.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &desktop.dbus_address)
            .env("GDK_BACKEND", "x11")
            .env_remove("WAYLAND_DISPLAY")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env(
                "HOMEDESK_PLATFORM_URL",
                options.platform.map(|(url, _)| url).unwrap_or_default(),
            )
            .env(
                "HOMEDESK_PLATFORM_CA",
                options.platform.map(|(_, ca)| ca).unwrap_or(Path::new("")),
            )
            .stdout(log.try_clone()?)
            .stderr(log);
        match &launch.home {
            Some(home) => command
                .env("HOME", home)
                .env_remove("HOMEDESK_DATA_DIR")
                .env_remove("XDG_DATA_HOME"),
            None => command.env("HOMEDESK_DATA_DIR", options.data_dir),
        };
        if let Some(dir) = &launch.working_dir {
            command.current_dir(dir);
        }
        let mut driver = Supervised::spawn("tauri-driver", &mut command)?;

        // tauri-driver accepts connections before WebKitWebDriver is ready.
        let deadline = Instant::now() + DEADLINE;
        loop {
            driver.ensure_running()?;
            if driver_ready(port).unwrap_or(false) {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "tauri-driver was not ready within {DEADLINE:?}; see target/e2e/tauri-driver.log"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Only `tauri:options`: a `browserName` makes session creation fail.
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": application.display().to_string() }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        let client = tokio::time::timeout(DEADLINE, builder.connect(&url))
            .await
            .context("WebDriver session was not created in time")?
            .context("creating the WebDriver session")?;
        Ok(AppSession {
            page: Page { client },
            display: desktop.display.clone(),
            application: application.to_path_buf(),
            driver,
        })
    }

    /// The id of tauri-driver's process group: every process it started is
    /// in it, also one the app started itself (a restart after an update).
    pub fn process_group(&self) -> u32 {
        self.driver.id()
    }

    /// The id of the application process (a grandchild: tauri-driver starts
    /// WebKitWebDriver, which starts the application).
    pub fn app_pid(&self) -> anyhow::Result<u32> {
        let wanted = self.application.canonicalize()?;
        procfs::tree(self.driver.id())
            .into_iter()
            .find(|&pid| {
                std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == wanted)
            })
            .with_context(|| format!("no process of {} under tauri-driver", wanted.display()))
    }

    /// Signs in on the sign-in screen and waits until the agent bar shows
    /// who is signed in.
    pub async fn sign_in(&self, agent: &str, password: &str) -> anyhow::Result<()> {
        self.wait_for("[data-testid=sign-in-form]").await?;
        self.type_into("[data-testid=sign-in-agent]", agent).await?;
        self.type_into("[data-testid=sign-in-password]", password)
            .await?;
        self.click("[data-testid=sign-in-submit]").await?;
        self.wait_for("[data-testid=signed-in-as]").await
    }

    /// Claims a queued conversation and waits until the platform has
    /// confirmed it (the row reads 我在处理, "Mine", in the default zh-CN).
    /// Returns the CSS selector of its queue row.
    pub async fn claim(&self, conversation: &str) -> anyhow::Result<String> {
        let row = format!("[data-testid=queue-row][data-conversation='{conversation}']");
        self.wait_for(&row).await?;
        self.click(&format!("{row} [data-testid=queue-claim]"))
            .await?;
        self.wait_for_text(&format!("{row} [data-testid=queue-state]"), "我在处理")
            .await?;
        Ok(row)
    }

    /// Opens a conversation of mine from its queue row and waits for its thread.
    pub async fn open_conversation(&self, conversation: &str) -> anyhow::Result<()> {
        let row = format!("[data-testid=queue-row][data-conversation='{conversation}']");
        self.click(&format!("{row} [data-testid=queue-open]"))
            .await?;
        self.wait_for("[data-testid=thread]").await
    }

    /// Sends what the composer holds and waits until it is empty again (the
    /// app took the reply), so typing on cannot race the send.
    pub async fn send_composer(&self) -> anyhow::Result<()> {
        self.click("[data-testid=composer-send]").await?;
        self.wait_for_value("[data-testid=composer-body]", "").await
    }

    /// Types a reply into the open conversation's composer and sends it.
    pub async fn reply(&self, text: &str) -> anyhow::Result<()> {
        self.type_into("[data-testid=composer-body]", text).await?;
        self.send_composer().await
    }

    /// Saves a PNG of the virtual screen (the real app window as X shows it)
    /// to `target/e2e/<name>` and checks it is not blank.
    ///
    /// Why not WebDriver's screenshot: WebKitWebDriver's snapshot never
    /// returns under Xvfb without a GPU (seen with WebKitGTK 2.50 on Debian 12),
    /// and grabbing the X screen also shows what a person would see.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = capture_screen(&self.display)?;
        let path = artifacts_dir().join(name);
        std::fs::write(&path, &png)?;
        let colours = distinct_colours(&png)?;
        if colours < 16 {
            bail!(
                "screenshot {} looks blank ({colours} colours): is the UI rendering?",
                path.display()
            );
        }
        Ok(path)
    }

    /// Ends the WebDriver session (closing the app); processes are reaped on drop.
    pub async fn close(self) -> anyhow::Result<()> {
        let AppSession { page, .. } = self;
        tokio::time::timeout(DEADLINE, page.client.close())
            .await
            .context("closing session")??;
        Ok(())
    }
}

/// tauri-driver, in a private mount namespace with `launch.hidden` covered
/// when there is anything to hide. Every process it starts inherits the
/// namespace, so the app sees an empty folder where the repository is.
fn driver_command(launch: &Launch) -> Command {
    if launch.hidden.is_empty() {
        return Command::new(tauri_driver());
    }
    // `unshare` (util-linux) makes the namespace; the script mounts over
    // each hidden folder and then becomes tauri-driver. As root a mount
    // namespace is enough; otherwise a user namespace maps us to root in it.
    let mut command = Command::new("unshare");
    let root = std::fs::metadata("/proc/self").is_ok_and(|me| me.uid() == 0);
    if !root {
        command.arg("--map-root-user");
    }
    command
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(
            r#"set -e
driver=$1; count=$2; shift 2
while [ "$count" -gt 0 ]; do
  mount -t tmpfs -o ro,size=4k,mode=0555 homedesk-hidden "$1"
  shift; count=$((count - 1))
done
exec "$driver" "$@""#,
        )
        .arg("hide-then-start-tauri-driver")
        .arg(tauri_driver())
        .arg(launch.hidden.len().to_string())
        .args(&launch.hidden);
    command
}

/// Grabs the whole X screen of `display` as a PNG.
pub fn capture_screen(display: &str) -> anyhow::Result<Vec<u8>> {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};

    let (conn, screen_num) = x11rb::connect(Some(display)).context("connecting to Xvfb")?;
    let screen = &conn.setup().roots[screen_num];
    let (width, height) = (screen.width_in_pixels, screen.height_in_pixels);
    let image = conn
        .get_image(
            ImageFormat::Z_PIXMAP,
            screen.root,
            0,
            0,
            width,
            height,
            u32::MAX,
        )?
        .reply()
        .context("reading the screen image")?;
    if image.depth != 24 && image.depth != 32 {
        bail!(
            "unexpected screen depth {}: start Xvfb with 24-bit colour",
            image.depth
        );
    }
    // 24-bit Xvfb stores pixels as 32-bit little-endian BGRX.
    let rgb: Vec<u8> = image
        .data
        .chunks_exact(4)
        .flat_map(|bgrx| [bgrx[2], bgrx[1], bgrx[0]])
        .collect();
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, u32::from(width), u32::from(height));
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    Ok(png_bytes)
}

/// Counts distinct RGB colours in a PNG (capped), to tell a rendered page from a blank one.
pub fn distinct_colours(png_bytes: &[u8]) -> anyhow::Result<usize> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info()?;
    let mut buffer = vec![0; reader.output_buffer_size().context("PNG too large")?];
    let info = reader.next_frame(&mut buffer)?;
    let channels = info.color_type.samples();
    let mut seen = std::collections::HashSet::new();
    for pixel in buffer[..info.buffer_size()].chunks_exact(channels) {
        seen.insert((pixel[0], pixel.get(1).copied(), pixel.get(2).copied()));
        if seen.len() >= 256 {
            break;
        }
    }
    Ok(seen.len())
}
