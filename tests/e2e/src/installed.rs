//! The installed package under test (`make package-test`,
//! scripts/package-test.sh): what the stage built and installed, the app
//! launched the way a user's PC runs it, and a production platform made the
//! way a county centre makes one (`init`, `queue add`, `agent add`, then
//! `serve`), which also publishes releases.
//!
//! The stage describes what it built in a JSON file
//! (`target/package-test/stage.json`, or the file `HOMEDESK_PACKAGE_TEST`
//! names); nothing here builds or installs anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail, ensure};
use serde_json::Value;

use crate::platform::READY;
use crate::{
    AppSession, Launch, Supervised, artifacts_dir, line_starting_with, procfs, target_dir,
    workspace_root,
};

/// Where the package puts the app: the only binary these tests start.
pub const INSTALLED_APP: &str = "/usr/bin/homedesk";
/// The package's name in dpkg.
pub const PACKAGE: &str = "homedesk";

/// One package the stage built: its version, the .deb and its signature.
#[derive(Debug, Clone)]
pub struct Package {
    pub version: String,
    pub deb: PathBuf,
    pub signature: PathBuf,
}

/// What the stage built: version A (installed before the tests), version B
/// (same code, higher version, signed with the same test key), a "version
/// C" whose signature does not match the key the app trusts (B's bytes
/// signed with a second key), and the platform binary of the same build.
#[derive(Debug, Clone)]
pub struct Stage {
    pub installed: Package,
    pub update: Package,
    pub forged: Package,
    pub platform: PathBuf,
}

impl Stage {
    /// Reads the stage's description; fails with how to make one.
    pub fn load() -> anyhow::Result<Stage> {
        let path = std::env::var_os("HOMEDESK_PACKAGE_TEST")
            .map(PathBuf::from)
            .unwrap_or_else(|| target_dir().join("package-test/stage.json"));
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {}: these tests run the installed package; run them with `make package-test`",
                path.display()
            )
        })?;
        let json: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let text_of = |key: &str, field: &str| -> anyhow::Result<String> {
            json[key][field]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("{} has no {key}.{field}", path.display()))
        };
        let package = |key: &str| -> anyhow::Result<Package> {
            let package = Package {
                version: text_of(key, "version")?,
                deb: PathBuf::from(text_of(key, "deb")?),
                signature: PathBuf::from(text_of(key, "signature")?),
            };
            for file in [&package.deb, &package.signature] {
                ensure!(file.is_file(), "{} is missing", file.display());
            }
            Ok(package)
        };
        let platform = PathBuf::from(
            json["platform"]
                .as_str()
                .with_context(|| format!("{} has no platform", path.display()))?,
        );
        ensure!(platform.is_file(), "{} is missing", platform.display());
        Ok(Stage {
            installed: package("installed")?,
            update: package("update")?,
            forged: package("forged")?,
            platform,
        })
    }
}

/// The version dpkg has installed of [`PACKAGE`], `None` when it is not installed.
pub fn installed_version() -> anyhow::Result<Option<String>> {
    let out = Command::new("dpkg-query")
        .args([
            "--show",
            "--showformat=${db:Status-Status} ${Version}",
            PACKAGE,
        ])
        .stderr(Stdio::null())
        .output()
        .context("running dpkg-query")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(match text.trim().split_once(' ') {
        Some(("installed", version)) => Some(version.to_owned()),
        _ => None,
    })
}

/// The files the installed package owns (`dpkg -L`).
pub fn installed_files() -> anyhow::Result<Vec<PathBuf>> {
    let out = Command::new("dpkg")
        .args(["--listfiles", PACKAGE])
        .output()
        .context("running dpkg --listfiles")?;
    ensure!(
        out.status.success(),
        "{PACKAGE} is not installed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect())
}

/// How the installed app is started: from `working_dir`, with `home` as its
/// user's home (so its data folder is the default one there), no
/// `HOMEDESK_CONTENT_DIR`, and the repository (and cargo's target folder)
/// hidden behind empty folders, so nothing of the source tree is reachable.
pub fn installed_launch(home: &Path, working_dir: &Path) -> Launch {
    let mut hidden = vec![workspace_root()];
    let target = target_dir();
    if !target.starts_with(workspace_root()) {
        hidden.push(target);
    }
    Launch {
        working_dir: Some(working_dir.to_path_buf()),
        hidden,
        home: Some(home.to_path_buf()),
    }
}

/// Checks that the app the session drives is the installed binary, runs
/// from `working_dir` without a content override and cannot see the
/// repository's `content/`. Returns its process id.
pub fn check_runs_as_installed(app: &AppSession, working_dir: &Path) -> anyhow::Result<u32> {
    let pid = app
        .app_pid()
        .with_context(|| format!("the app under test should be the installed {INSTALLED_APP}"))?;
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"))?;
    ensure!(
        cwd == working_dir.canonicalize()?,
        "the app runs in {}, not in the folder the test chose",
        cwd.display()
    );
    let environ = std::fs::read(format!("/proc/{pid}/environ"))?;
    for variable in ["HOMEDESK_CONTENT_DIR", "HOMEDESK_DATA_DIR"] {
        ensure!(
            !environ
                .split(|&b| b == 0)
                .any(|entry| entry.starts_with(format!("{variable}=").as_bytes())),
            "{variable} is set for the installed app: it must find its own"
        );
    }
    // The app's own view of the file system: /proc/PID/root.
    let content = workspace_root().join("content");
    let seen = Path::new(&format!("/proc/{pid}/root")).join(content.strip_prefix("/")?);
    let visible = std::fs::read_dir(&seen)
        .map(|entries| entries.count())
        .unwrap_or(0);
    ensure!(
        visible == 0,
        "the app can see {} ({visible} entries): the repository is not hidden from it",
        content.display()
    );
    Ok(pid)
}

/// A process of `/usr/bin/homedesk` in `group` other than `old`, started
/// from the file dpkg installed last (its `exe` is not a deleted file):
/// the app as it restarted itself after installing an update.
pub fn restarted_app(group: u32, old: u32) -> Option<u32> {
    procfs::group(group).into_iter().find(|&pid| {
        pid != old && procfs::exe(pid).is_some_and(|exe| exe == Path::new(INSTALLED_APP))
    })
}

/// A production platform as a county centre sets one up, on a free
/// loopback port with the development CA `init` made; stopped when dropped.
pub struct ProductionPlatform {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    ca: PathBuf,
    binary: PathBuf,
    dir: tempfile::TempDir,
    _process: Supervised,
}

/// A queue the platform gets with `queue add`.
pub const QUEUE: &str = "aftersales";
/// The name of the agent [`ProductionPlatform::set_up`] adds.
pub const AGENT_NAME: &str = "王秀英";

impl ProductionPlatform {
    /// `init`, `queue add` (after-sales, weekdays 09:00–18:00), `agent add`
    /// of `agent` with `password` on that queue, then `serve`.
    pub fn set_up(binary: &Path, agent: &str, password: &str) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("platform");
        let data_arg = data.to_str().context("temporary folder is not UTF-8")?;
        run(binary, &["init", "--data-dir", data_arg], None)?;
        run(
            binary,
            &[
                "queue",
                "add",
                "--data-dir",
                data_arg,
                QUEUE,
                "--name-zh",
                "售后服务",
                "--name-en",
                "After-sales",
                "--days",
                "mon-fri",
                "--hours",
                "09:00-18:00",
                "--utc-offset",
                "+08:00",
            ],
            None,
        )?;
        run(
            binary,
            &[
                "agent",
                "add",
                "--data-dir",
                data_arg,
                "--code",
                agent,
                "--name",
                AGENT_NAME,
                "--queues",
                QUEUE,
            ],
            Some(password),
        )?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(artifacts_dir().join("installed-platform.log"))?;
        let mut process = Supervised::spawn(
            "homedesk-platform",
            Command::new(binary)
                .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data_arg])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(log),
        )?;
        let line = line_starting_with("homedesk-platform", process.child_mut(), READY)?;
        let url = line
            .trim_start_matches(READY)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let ca = data.join("tls").join("ca.pem");
        ensure!(
            ca.is_file(),
            "init made no development CA at {}",
            ca.display()
        );
        Ok(ProductionPlatform {
            url,
            ca,
            binary: binary.to_path_buf(),
            dir,
            _process: process,
        })
    }

    /// The CA file the app is told to trust.
    pub fn ca(&self) -> &Path {
        &self.ca
    }

    /// `release publish` of `package` as `version`, with notes in both
    /// languages (`zh`, `en`).
    pub fn publish(
        &self,
        package: &Path,
        signature: &Path,
        version: &str,
        notes: (&str, &str),
    ) -> anyhow::Result<()> {
        let notes_file = self.dir.path().join(format!("notes-{version}.toml"));
        std::fs::write(
            &notes_file,
            format!(
                "zh-CN = \"\"\"\n{}\n\"\"\"\nen = \"\"\"\n{}\n\"\"\"\n",
                notes.0, notes.1
            ),
        )?;
        let data = self.dir.path().join("platform");
        let args: Vec<&std::ffi::OsStr> = vec![
            "release".as_ref(),
            "publish".as_ref(),
            "--data-dir".as_ref(),
            data.as_os_str(),
            package.as_os_str(),
            signature.as_os_str(),
            "--version".as_ref(),
            version.as_ref(),
            "--notes".as_ref(),
            notes_file.as_os_str(),
        ];
        run(&self.binary, &args, None)?;
        Ok(())
    }
}

/// Runs the platform CLI; fails with what it said on stderr.
fn run<S: AsRef<std::ffi::OsStr>>(
    binary: &Path,
    args: &[S],
    password: Option<&str>,
) -> anyhow::Result<String> {
    let mut command = Command::new(binary);
    command.args(args).stdin(Stdio::null());
    if let Some(password) = password {
        command.env("HOMEDESK_AGENT_PASSWORD", password);
    }
    let shown = args
        .iter()
        .take(2)
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = command
        .output()
        .with_context(|| format!("running homedesk-platform {shown}"))?;
    if !out.status.success() {
        bail!(
            "homedesk-platform {shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
