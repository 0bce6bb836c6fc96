//! Test harness: the real `homedesk-platform` binary on loopback TLS, and a
//! client that trusts only the CA that this server generated. Shared with
//! the workstation core's tests and the platform's benches, so it names
//! nothing of the platform's library (`super` adds that for the platform's
//! own tests).
//!
//! Every wait polls with a deadline; nothing sleeps for a fixed time.
//!
//! Storage: SQLite in each data folder, or PostgreSQL when the environment
//! names a server ([`TEST_POSTGRES_ENV`], set by `scripts/with-postgres.sh`).
//! Then every platform process the harness starts for a data folder gets
//! [`DATABASE_ENV`], the URL of a database of that folder's own
//! ([`database_for`]), so the same tests run on either storage; tests that
//! look into the database directly do it through `support::open_storage`
//! and [`sql`].

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use homedesk_protocol::{Change, ChangesPage, ServerEvent, Session};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const DEADLINE: Duration = Duration::from_secs(30);
pub const DEMO_PASSWORD: &str = "homedesk-demo";

/// The `homedesk-platform` binary: cargo names it for this package's own
/// tests; other packages' tests (the workstation core's) find it beside
/// their own test binary in `target/<profile>/`, built by
/// `cargo test --workspace` (`make unit`).
pub fn platform_binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_homedesk-platform") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("homedesk-platform");
    assert!(
        path.exists(),
        "{} is missing: build it first with `cargo build -p homedesk-platform` (make unit does)",
        path.display()
    );
    path
}

pub fn content_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

// ---------------------------------------------------------------- storage

/// Names a PostgreSQL server for the tests (the URL of its `postgres`
/// database, as `scripts/with-postgres.sh` sets it); unset, every platform
/// keeps SQLite in its data folder.
pub const TEST_POSTGRES_ENV: &str = "HOMEDESK_TEST_POSTGRES";

/// The platform's own variable for its database (`storage::DATABASE_ENV`;
/// `support::open_storage` checks that the two agree).
pub const DATABASE_ENV: &str = "HOMEDESK_PLATFORM_DATABASE";

/// The PostgreSQL server the tests run against, if any.
pub fn test_postgres() -> Option<String> {
    std::env::var(TEST_POSTGRES_ENV)
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
}

/// Whether the platforms of these tests keep their data in PostgreSQL.
pub fn on_postgres() -> bool {
    test_postgres().is_some()
}

/// The PostgreSQL database of the data folder `dir` (its URL), or `None` on
/// SQLite. Made empty the first time a folder is seen and remembered in a
/// file beside the folder (`DIR.database`, as the server's log is
/// `DIR.log`), so a restarted server and a later command on the same folder
/// find the same data, as they would in the folder's own SQLite file.
pub fn database_for(dir: &Path) -> Option<String> {
    let server = test_postgres()?;
    let dir = std::path::absolute(dir).expect("an absolute data folder");
    let sidecar = dir.with_extension("database");
    // One thread at a time, so two that see a new folder at once make one
    // database for it.
    static MAKING: Mutex<()> = Mutex::new(());
    let _making = MAKING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Ok(url) = std::fs::read_to_string(&sidecar) {
        let url = url.trim();
        if !url.is_empty() {
            return Some(url.to_owned());
        }
    }
    let name = format!("hd_{:016x}", random_u64());
    psql(&server, &format!("CREATE DATABASE {name}"));
    let url = url_with_database(&server, &name);
    if let Some(parent) = sidecar.parent() {
        std::fs::create_dir_all(parent).expect("the data folder's parent");
    }
    std::fs::write(&sidecar, format!("{url}\n"))
        .unwrap_or_else(|err| panic!("{}: {err}", sidecar.display()));
    Some(url)
}

/// Drops the PostgreSQL database of a data folder that is going away, and
/// the file that named it (nothing on SQLite). Quietly: it runs in `drop`.
fn forget_database(dir: &Path) {
    let Some(server) = test_postgres() else {
        return;
    };
    let Ok(dir) = std::path::absolute(dir) else {
        return;
    };
    let sidecar = dir.with_extension("database");
    let Ok(url) = std::fs::read_to_string(&sidecar) else {
        return;
    };
    let name = url.trim().rsplit('/').next().unwrap_or_default();
    if name.starts_with("hd_") && name[3..].bytes().all(|b| b.is_ascii_hexdigit()) {
        let _ = Command::new("psql")
            .args(["-X", "-q", "-d", &server, "-c"])
            .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = std::fs::remove_file(&sidecar);
}

/// Sets the database of a platform process for the data folder `dir`:
/// [`database_for`] on PostgreSQL; on SQLite none (and none inherited
/// either, so a stray variable cannot redirect a test).
pub fn with_database(command: &mut Command, dir: &Path) {
    match database_for(dir) {
        Some(url) => command.env(DATABASE_ENV, url),
        None => command.env_remove(DATABASE_ENV),
    };
}

/// `server` (a `postgres://…/postgres` URL) naming the database `name`.
fn url_with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |at| at + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |at| scheme_end + at);
    format!("{}/{name}{query}", &base[..authority_end])
}

/// 64 random bits from the standard library alone (this harness is shared
/// with crates that may not depend on `rand`): the process's hasher keys,
/// the time and a counter.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

/// Runs one statement with `psql` on the database at `url`; its output in
/// unaligned form, fields split by 0x1F and records by 0x1E (the header
/// first, the row count last), or nothing for a statement without rows.
fn psql(url: &str, statement: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-v", "ON_ERROR_STOP=1"])
        .args(["-F", "\u{1f}", "-R", "\u{1e}", "-P", "footer=on"])
        .args(["-d", url, "-c", statement])
        .stdin(Stdio::null())
        .output()
        .expect("psql runs (scripts/with-postgres.sh needs Debian's postgresql)");
    assert!(
        out.status.success(),
        "psql: {statement}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("psql speaks UTF-8")
}

/// Runs one SQL statement on the database of the data folder `dir`, as the
/// platform sees it (SQLite's `platform.db`, or the folder's PostgreSQL
/// database), beside a running server if need be. The rows it returns, each
/// a list of its values as text: integers in decimal, NULL as "", bytes as
/// `\x` and hex (PostgreSQL's form). Write statements that both dialects
/// take (or choose by [`on_postgres`]); put values in with [`sql_text`].
pub fn sql(dir: &Path, statement: &str) -> Vec<Vec<String>> {
    match database_for(dir) {
        Some(url) => {
            let out = psql(&url, statement);
            let Some(out) = out.strip_suffix('\n') else {
                assert!(out.is_empty(), "psql's output ends its last line: {out:?}");
                return Vec::new();
            };
            let records: Vec<&str> = out.split('\u{1e}').collect();
            let footer = records.last().copied().unwrap_or_default();
            assert!(
                records.len() >= 2 && footer.starts_with('(') && footer.ends_with(')'),
                "psql's rows between a header and a row count: {out:?}"
            );
            records[1..records.len() - 1]
                .iter()
                .map(|row| row.split('\u{1f}').map(str::to_owned).collect())
                .collect()
        }
        None => {
            use rusqlite::types::ValueRef;
            let db = rusqlite::Connection::open_with_flags(
                dir.join("platform.db"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
            )
            .unwrap_or_else(|err| panic!("{}/platform.db opens: {err}", dir.display()));
            db.busy_timeout(DEADLINE).expect("busy timeout");
            let mut statement_ = db
                .prepare(statement)
                .unwrap_or_else(|err| panic!("{statement}: {err}"));
            let columns = statement_.column_count();
            let mut rows = statement_.query([]).expect("the statement runs");
            let mut all = Vec::new();
            while let Some(row) = rows
                .next()
                .unwrap_or_else(|err| panic!("{statement}: {err}"))
            {
                all.push(
                    (0..columns)
                        .map(|i| match row.get_ref(i).expect("a column") {
                            ValueRef::Null => String::new(),
                            ValueRef::Integer(n) => n.to_string(),
                            ValueRef::Real(x) => x.to_string(),
                            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                            ValueRef::Blob(b) => {
                                let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
                                format!("\\x{hex}")
                            }
                        })
                        .collect(),
                );
            }
            all
        }
    }
}

/// The one value [`sql`] returns: the statement must give exactly one row
/// of one column.
pub fn sql_value(dir: &Path, statement: &str) -> String {
    let rows = sql(dir, statement);
    assert!(
        rows.len() == 1 && rows[0].len() == 1,
        "{statement}: one value, not {rows:?}"
    );
    rows[0][0].clone()
}

/// `text` as an SQL string literal for both dialects (quotes doubled;
/// PostgreSQL's standard_conforming_strings keeps backslashes as they are).
pub fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Runs `work` on a thread of its own and waits for it. The PostgreSQL
/// storage drives its driver with `block_on`, which tokio refuses on a
/// thread that runs an async test: use a storage opened by
/// `support::open_storage` inside this there.
pub fn blocking<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub client: reqwest::Client,
}

pub fn client_trusting(ca: &Path) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(ca).expect("the server wrote its CA");
    let cert = reqwest::Certificate::from_pem(&pem).expect("the CA is PEM");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .https_only(true)
        .connect_timeout(Duration::from_secs(10))
        .timeout(DEADLINE)
        .build()
        .expect("client builds")
}

/// Like [`client_trusting`], but hands compressed bodies over as they are.
pub fn raw_client(ca: &Path) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(ca).expect("the server wrote its CA");
    let cert = reqwest::Certificate::from_pem(&pem).expect("the CA is PEM");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .no_gzip()
        .no_zstd()
        .build()
        .expect("client builds")
}

impl Server {
    /// A fresh data folder, `serve --demo` plus `extra` arguments.
    pub fn start_demo(extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let mut args = vec!["--demo"];
        args.extend_from_slice(extra);
        let mut server = Server::start_at(&dir, &args);
        server._tmp = Some(tmp);
        server
    }

    /// `serve` on an existing data folder (on a free port unless `extra`
    /// names `--listen`; with the repository's content unless it names
    /// `--content`).
    pub fn start_at(dir: &Path, extra: &[&str]) -> Server {
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        Server::start_with(dir, &[listen, extra].concat())
    }

    /// `serve` on an existing data folder with exactly these flags (and
    /// the repository's content unless they name `--content`): the listen
    /// address comes from them or the folder's config file.
    pub fn start_with(dir: &Path, extra: &[&str]) -> Server {
        Server::start_wrapped(&[], dir, extra)
    }

    /// Like [`Server::start_with`], the binary started through `wrapper`
    /// (e.g. `ip netns exec NAME`, which becomes the platform's process).
    pub fn start_wrapped(wrapper: &[&str], dir: &Path, extra: &[&str]) -> Server {
        Server::launch(wrapper, dir, &dir.with_extension("log"), extra)
    }

    /// Like [`Server::start_at`] (a free port unless `extra` names
    /// `--listen`), the platform's log in `log` rather than `DIR.log`: for a
    /// second instance on the same data folder, and so the same database
    /// and TLS files (issue 19's several instances).
    pub fn start_logged(dir: &Path, log: &Path, extra: &[&str]) -> Server {
        let listen: &[&str] = if extra.contains(&"--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        Server::launch(&[], dir, log, &[listen, extra].concat())
    }

    /// The same platform reached at `url` (e.g. through a load balancer):
    /// the same data folder (secrets, database), client and trust; no
    /// process of its own, so dropping it stops nothing.
    pub fn via(&self, url: &str) -> Server {
        Server {
            child: None,
            url: url.to_owned(),
            dir: self.dir.clone(),
            _tmp: None,
            client: self.client.clone(),
        }
    }

    fn launch(wrapper: &[&str], dir: &Path, log: &Path, extra: &[&str]) -> Server {
        let mut command = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut command = Command::new(first);
                command.args(rest).arg(platform_binary());
                command
            }
            None => Command::new(platform_binary()),
        };
        let log_path = log;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .expect("log file");
        with_database(&mut command, dir);
        let mut child = command
            .args(["serve", "--data-dir"])
            .arg(dir)
            .args(if extra.contains(&"--content") {
                Vec::new()
            } else {
                vec!["--content".into(), content_dir().into_os_string()]
            })
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("homedesk-platform starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading after the ready line: closing the pipe would make
            // the platform's next line on stdout fail (and the platform stop).
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let started = Instant::now();
        let url = loop {
            let left = DEADLINE.saturating_sub(started.elapsed());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("homedesk-platform ready at ") {
                        let url = rest.split_whitespace().next().expect("url").to_owned();
                        break url;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let log = std::fs::read_to_string(log_path).unwrap_or_default();
                    panic!("the platform did not report ready in time; its log:\n{log}");
                }
            }
        };
        let client = client_trusting(&dir.join("tls").join("ca.pem"));
        Server {
            child: Some(child),
            url,
            dir: dir.to_path_buf(),
            _tmp: None,
            client,
        }
    }

    /// SIGTERM, and the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("signal");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the platform did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGSTOP: the platform hangs (connections stay open, nothing is
    /// answered) until [`Server::crash`] ends it.
    pub fn freeze(&self) {
        let child = self.child.as_ref().expect("running");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGSTOP,
        )
        .expect("signal");
    }

    /// SIGKILL: a crash or power cut.
    pub fn crash(&mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The secret of the demo channel adapter (`serve --demo` writes it).
    pub fn ingress_token(&self) -> String {
        std::fs::read_to_string(self.dir.join("demo-adapter-secret"))
            .expect("the demo adapter's secret is written")
            .trim()
            .to_owned()
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let response = req.send().await.expect("request reaches the platform");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// The token `GET /metrics` needs: the one the platform made in its
    /// data folder at first start.
    pub fn metrics_token(&self) -> String {
        std::fs::read_to_string(self.dir.join("metrics-token"))
            .expect("the platform wrote its metrics token")
            .trim()
            .to_owned()
    }

    /// `GET /metrics` with the metrics token: the exposition text.
    pub async fn metrics(&self) -> String {
        let (status, body) = self.get("/metrics", Some(&self.metrics_token())).await;
        assert_eq!(status, StatusCode::OK, "metrics with the token: {body}");
        body.as_str().expect("metrics text").to_owned()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, token, None).await
    }

    pub async fn sign_in(&self, agent: &str) -> Session {
        let (status, body) = self
            .post(
                "/v1/sessions",
                None,
                &json!({"agent": agent, "password": DEMO_PASSWORD, "device_id": format!("test-{agent}")}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "demo agent {agent} signs in: {body}"
        );
        serde_json::from_value(body).expect("a Session")
    }

    /// A customer message; returns the conversation id.
    pub async fn customer_writes(
        &self,
        channel: &str,
        external_id: &str,
        customer: &str,
        queue: &str,
        body: &str,
    ) -> String {
        let (status, answer) = self
            .ingress(
                channel,
                &ingress_message(external_id, customer, queue, body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "ingress accepted: {answer}");
        answer["conversation_id"]
            .as_str()
            .expect("conversation id")
            .to_owned()
    }

    /// A customer message through the adapter whose secret is `secret`;
    /// returns the conversation id.
    pub async fn customer_writes_via(
        &self,
        secret: &str,
        external_id: &str,
        customer: &str,
        body: &str,
    ) -> String {
        let (status, answer) = self
            .post(
                "/v1/ingress/chat",
                Some(secret),
                &ingress_message(external_id, customer, "aftersales", body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "ingress accepted: {answer}");
        answer["conversation_id"]
            .as_str()
            .expect("conversation id")
            .to_owned()
    }

    /// The agent claims `conversation` (key derived from it).
    pub async fn claim(&self, token: &str, conversation: &str) {
        let r = self
            .act(token, json!([{"key": format!("claim-{conversation}"), "created_at": 1, "action": {"type": "claim", "conversation_id": conversation}}]))
            .await;
        assert_eq!(r[0]["status"], "applied", "claimed: {r:?}");
    }

    /// The agent replies `body` as message `message_id`.
    pub async fn reply(&self, token: &str, conversation: &str, message_id: &str, body: &str) {
        let r = self
            .act(token, json!([{"key": format!("reply-{message_id}"), "created_at": 2, "action": {"type": "reply", "conversation_id": conversation, "message_id": message_id, "body": body}}]))
            .await;
        assert_eq!(r[0]["status"], "applied", "replied: {r:?}");
    }

    /// The message record as `token`'s agent pulls it from the change log.
    pub async fn message(
        &self,
        token: &str,
        message_id: &str,
    ) -> Option<homedesk_protocol::Message> {
        let (changes, _) = self.pull_all(token, None).await;
        changes.into_iter().rev().find_map(|c| match c.body {
            homedesk_protocol::ChangeBody::Upsert(homedesk_protocol::Record::Message(m))
                if m.id == message_id =>
            {
                Some(m)
            }
            _ => None,
        })
    }

    /// The delivery state of a reply as workstations see it.
    pub async fn delivery_state(
        &self,
        token: &str,
        message_id: &str,
    ) -> Option<homedesk_protocol::DeliveryState> {
        self.message(token, message_id)
            .await?
            .delivery
            .map(|d| d.state)
    }

    pub async fn ingress(&self, channel: &str, body: &Value) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/ingress/{channel}"),
            Some(&self.ingress_token()),
            body,
        )
        .await
    }

    /// Sends actions; returns the per-action results.
    pub async fn act(&self, token: &str, actions: Value) -> Vec<Value> {
        let (status, body) = self
            .post("/v1/actions", Some(token), &json!({ "actions": actions }))
            .await;
        assert_eq!(status, StatusCode::OK, "actions accepted: {body}");
        body["results"].as_array().expect("results").clone()
    }

    pub async fn page(&self, token: &str, cursor: Option<&str>, limit: usize) -> ChangesPage {
        let path = match cursor {
            Some(c) => format!("/v1/changes?cursor={c}&limit={limit}"),
            None => format!("/v1/changes?limit={limit}"),
        };
        let (status, body) = self.get(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "changes page: {body}");
        serde_json::from_value(body).expect("a ChangesPage")
    }

    /// Pulls until `has_more` is false; returns the changes and the cursor.
    pub async fn pull_all(&self, token: &str, mut cursor: Option<String>) -> (Vec<Change>, String) {
        let mut all = Vec::new();
        loop {
            let page = self.page(token, cursor.as_deref(), 1000).await;
            all.extend(page.changes);
            cursor = Some(page.next_cursor);
            if !page.has_more {
                return (all, cursor.unwrap_or_default());
            }
        }
    }

    pub async fn events(&self, token: &str, link: Option<&str>) -> Events {
        self.events_at("/v1/events", token, link).await
    }

    /// [`Server::events`] at `path` (with its query, e.g. `?changes=inline`).
    pub async fn events_at(&self, path: &str, token: &str, link: Option<&str>) -> Events {
        let mut req = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .timeout(Duration::from_secs(3600));
        if let Some(link) = link {
            req = req.header("Homedesk-Link", link);
        }
        let response = req.send().await.expect("event stream opens");
        assert_eq!(response.status(), StatusCode::OK);
        Events {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A folder of the server's own goes now: its database too.
        if self._tmp.is_some() {
            forget_database(&self.dir);
        }
    }
}

/// Runs the `homedesk-platform` command (administration, not `serve`).
pub fn cli(args: &[&str]) -> std::process::Output {
    platform_command(args)
        .stdin(Stdio::null())
        .output()
        .expect("homedesk-platform runs")
}

/// The `homedesk-platform` command with `args`, its database chosen like
/// the servers' (for the folder its `--data-dir` names): for tests that
/// spawn it themselves.
pub fn platform_command(args: &[&str]) -> Command {
    let mut command = Command::new(platform_binary());
    command.args(args);
    match data_dir_arg(args) {
        Some(dir) => with_database(&mut command, &dir),
        None => {
            command.env_remove(DATABASE_ENV);
        }
    }
    command
}

/// The folder a command line names with `--data-dir DIR` or `--data-dir=DIR`.
fn data_dir_arg(args: &[&str]) -> Option<PathBuf> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if *arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(dir) = arg.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(dir));
        }
    }
    None
}

/// Runs the `homedesk-platform` command with `stdin` as its input.
pub fn cli_with_input(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = platform_command(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("finishes")
}

/// A command that must finish on its own (e.g. a `serve` that must refuse
/// to start): killed, and the test failed, if it is still running at the
/// deadline.
pub fn cli_until_exit(args: &[&str]) -> std::process::Output {
    let mut child = platform_command(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("`homedesk-platform {}` kept running", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// `channel add ID [--webhook URL]` on `dir`; returns the secret it printed once.
pub fn add_adapter(dir: &Path, id: &str, webhook: Option<&str>) -> String {
    let dir = dir.to_str().expect("utf-8 path");
    let mut args = vec!["channel", "add", id, "--data-dir", dir];
    if let Some(url) = webhook {
        args.extend(["--webhook", url]);
    }
    secret_from(&cli(&args))
}

/// The secret in the output of `channel add` or `channel rotate`.
pub fn secret_from(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the channel command succeeds: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .expect("the secret is printed")
        .trim()
        .to_owned()
}

pub fn ingress_message(external_id: &str, customer: &str, queue: &str, body: &str) -> Value {
    json!({
        "external_id": external_id,
        "customer": {"id": customer, "name": "测试顾客", "phone": "13800001234"},
        "queue": queue,
        "subject": "测试咨询",
        "body": body,
    })
}

type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// A parsed server-sent event stream.
pub struct Events {
    stream: ByteStream,
    buffer: String,
}

impl Events {
    /// The next event, or `None` at the deadline or end of stream.
    pub async fn next(&mut self, deadline: Duration) -> Option<ServerEvent> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if data.is_empty() {
                    continue;
                }
                return Some(serde_json::from_str(&data).expect("event data is a ServerEvent"));
            }
            match tokio::time::timeout_at(until, self.stream.next()).await {
                Ok(Some(Ok(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Whether the platform ends the stream within `deadline` (events
    /// before the end are skipped).
    pub async fn ends_within(&mut self, deadline: Duration) -> bool {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            match tokio::time::timeout_at(until, self.stream.next()).await {
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return true,
                Err(_) => return false,
            }
        }
    }

    /// Waits for the first event that `want` accepts.
    pub async fn wait_for(
        &mut self,
        what: &str,
        want: impl Fn(&ServerEvent) -> bool,
    ) -> ServerEvent {
        let until = Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(event) if want(&event) => return event,
                Some(_) => continue,
                None => panic!("no {what} event arrived within {DEADLINE:?}"),
            }
        }
    }
}

/// Polls `check` until it returns `Some`, or panics after the deadline.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < until,
            "{what} did not happen within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- HAProxy

/// Debian's HAProxy (`haproxy` package, installed by the bootstrap).
pub const HAPROXY: &str = "/usr/sbin/haproxy";

/// Longest an HAProxy of a test may live: it is started under coreutils'
/// `timeout`, so a test process killed before its `drop` leaves no load
/// balancer running for long.
const HAPROXY_LIFETIME_SECS: u64 = 900;

/// A free loopback port (bound and let go: free when this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// One request in HAProxy's log (the `log-format` of
/// [`Haproxy::balancing`]), logged when it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// The port of the `bind` line the client came in on.
    pub port: u16,
    /// The server that answered (after any redispatch), or `<NOSRV>`.
    pub server: String,
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The HTTP status sent to the client; -1 when none was.
    pub status: i32,
    /// HAProxy's termination state (`----` for a normal end; `SD--`: the
    /// server went away during the data phase, …).
    pub termination: String,
    /// Retries; a leading `+` when the request was redispatched.
    pub retries: String,
}

/// HAProxy as a child process of the test, balancing over platform
/// instances (issue 19). Quiet: its log (one line per request, and server
/// state changes) goes to a file in its folder, and it ends with this
/// value (the whole process group, also when the test fails), or after
/// [`HAPROXY_LIFETIME_SECS`] at the latest.
pub struct Haproxy {
    child: Option<Child>,
    dir: PathBuf,
    /// `https://127.0.0.1:PORT`, one per `bind` line, in order.
    pub urls: Vec<String>,
}

impl Haproxy {
    /// Whether HAProxy is installed.
    pub fn available() -> bool {
        Path::new(HAPROXY).exists()
    }

    /// HAProxy in HTTP mode in front of `servers` (name and instance; all
    /// instances of one platform, sharing its data folder's development
    /// CA), with `binds` frontend ports on loopback. It terminates TLS with
    /// the platform's development certificate (so clients trust the same
    /// CA file), speaks HTTP/2 or 1.1 to clients and TLS to the instances,
    /// and
    /// - balances every request by itself, round robin (an HTTP/2
    ///   connection's requests alternate too);
    /// - checks `/v1/health` every 300 ms and takes an instance out at the
    ///   first failed check;
    /// - retries a request whose connection failed or that got no answer
    ///   at all on the other instance (`retry-on`, `option redispatch`):
    ///   safe for the platform's POSTs, which carry idempotency keys;
    /// - lets event streams through as they come (no buffering; a minute's
    ///   inactivity allowed on either side, heartbeats come every 15 s).
    ///
    /// Waits until every instance is up and every port takes connections.
    pub fn balancing(dir: &Path, servers: &[(&str, &Server)], binds: usize) -> Haproxy {
        std::fs::create_dir_all(dir).expect("haproxy's folder");
        let first = servers.first().expect("at least one instance").1;
        let tls = first.dir.join("tls");
        // HAProxy wants the certificate chain and the key in one file.
        let mut pem = std::fs::read(tls.join("server.pem")).expect("the platform's certificate");
        pem.extend(std::fs::read(tls.join("server-key.pem")).expect("the platform's key"));
        let pem_path = dir.join("platform.pem");
        std::fs::write(&pem_path, pem).expect("write the pem");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&pem_path, std::fs::Permissions::from_mode(0o600))
                .expect("owner only");
        }
        let ports: Vec<u16> = (0..binds).map(|_| free_port()).collect();
        let socket = dir.join("haproxy.sock");
        let bind_lines: String = ports
            .iter()
            .map(|port| {
                format!(
                    "    bind 127.0.0.1:{port} ssl crt {} alpn h2,http/1.1\n",
                    pem_path.display()
                )
            })
            .collect();
        let server_lines: String = servers
            .iter()
            .map(|(name, server)| {
                let address = server.url.trim_start_matches("https://");
                format!("    server {name} {address}\n")
            })
            .collect();
        let config = format!(
            "global
    log stdout format raw local0 info
    stats socket {socket} mode 600 level admin
    nbthread 2

defaults
    mode http
    log global
    log-format \"REQ %fp %s %HM %HPO %ST %tsc %rc\"
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout http-request 10s
    timeout http-keep-alive 60s
    timeout queue 5s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend platform_front
{bind_lines}    default_backend platform

backend platform
    balance roundrobin
    option httpchk GET /v1/health
    http-check expect status 200
    default-server ssl verify required ca-file {ca} verifyhost localhost sni str(localhost) check inter 300ms fastinter 300ms downinter 300ms fall 1 rise 1
{server_lines}",
            socket = socket.display(),
            ca = tls.join("ca.pem").display(),
        );
        let config_path = dir.join("haproxy.cfg");
        std::fs::write(&config_path, config).expect("write haproxy.cfg");
        let out = std::fs::File::create(dir.join("haproxy.log")).expect("haproxy.log");
        let err = std::fs::File::create(dir.join("haproxy.err")).expect("haproxy.err");
        // `timeout` puts itself and HAProxy in a process group of their
        // own (its id is `timeout`'s), which `drop` ends as a whole.
        let child = Command::new("timeout")
            .args([
                "-s",
                "KILL",
                &HAPROXY_LIFETIME_SECS.to_string(),
                HAPROXY,
                "-db",
                "-f",
            ])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("haproxy starts (coreutils' timeout and /usr/sbin/haproxy)");
        let mut proxy = Haproxy {
            child: Some(child),
            dir: dir.to_path_buf(),
            urls: ports
                .iter()
                .map(|port| format!("https://127.0.0.1:{port}"))
                .collect(),
        };
        let started = Instant::now();
        loop {
            let up = servers
                .iter()
                .all(|(name, _)| proxy.try_server_status(name).as_deref() == Some("UP"));
            let listening = ports
                .iter()
                .all(|port| std::net::TcpStream::connect(("127.0.0.1", *port)).is_ok());
            if up && listening {
                return proxy;
            }
            let exited = proxy
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            assert!(
                exited.is_none() && started.elapsed() < DEADLINE,
                "HAProxy did not come up with every instance up ({exited:?}); its output:\n{}{}",
                std::fs::read_to_string(dir.join("haproxy.err")).unwrap_or_default(),
                proxy.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything HAProxy logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("haproxy.log")).unwrap_or_default()
    }

    /// The requests HAProxy logged so far, in the order they ended.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.log().lines().filter_map(parse_proxied).collect()
    }

    /// A command on HAProxy's stats socket (e.g. `show stat`); its answer.
    pub fn command(&self, command: &str) -> std::io::Result<String> {
        use std::io::{Read, Write};
        let mut socket = std::os::unix::net::UnixStream::connect(self.dir.join("haproxy.sock"))?;
        socket.set_read_timeout(Some(Duration::from_secs(5)))?;
        socket.write_all(format!("{command}\n").as_bytes())?;
        let mut answer = String::new();
        socket.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// What HAProxy's health checks make of the instance `name`: `UP`,
    /// `DOWN`, `no check` while checks are off, … (the `status` column of
    /// `show stat`).
    pub fn server_status(&self, name: &str) -> String {
        self.try_server_status(name)
            .unwrap_or_else(|| panic!("HAProxy's stats name no server {name}"))
    }

    /// Requests the instance `name` has now (`scur` of `show stat`): its
    /// open event streams and the requests waiting for its answer.
    pub fn server_sessions(&self, name: &str) -> u64 {
        self.server_stat(name, "scur")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("HAProxy's stats give no sessions of server {name}"))
    }

    /// Stops (`false`) or restarts (`true`) the health checks of the
    /// instance `name`; while they are stopped HAProxy counts it as up and
    /// keeps sending it requests, whatever becomes of it.
    pub fn health_checks(&self, name: &str, on: bool) {
        let verb = if on { "enable" } else { "disable" };
        let answer = self
            .command(&format!("{verb} health platform/{name}"))
            .expect("HAProxy's stats socket");
        assert!(
            answer.trim().is_empty(),
            "{verb} health platform/{name}: {answer}"
        );
    }

    fn try_server_status(&self, name: &str) -> Option<String> {
        self.server_stat(name, "status")
    }

    /// A column of `show stat` for the instance `name`.
    fn server_stat(&self, name: &str, wanted: &str) -> Option<String> {
        let stats = self.command("show stat").ok()?;
        let mut lines = stats.lines();
        let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
        let column = |wanted: &str| header.iter().position(|c| *c == wanted);
        let (proxy, server, value) = (column("pxname")?, column("svname")?, column(wanted)?);
        lines.find_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields.get(proxy) == Some(&"platform") && fields.get(server) == Some(&name))
                .then(|| fields.get(value).map(|s| (*s).to_owned()))
                .flatten()
        })
    }
}

/// A request line of HAProxy's log (`REQ PORT SERVER METHOD PATH STATUS
/// TERMINATION RETRIES`); other lines (state changes) give `None`.
fn parse_proxied(line: &str) -> Option<ProxiedRequest> {
    let mut fields = line.strip_prefix("REQ ")?.split(' ');
    Some(ProxiedRequest {
        port: fields.next()?.parse().ok()?,
        server: fields.next()?.to_owned(),
        method: fields.next()?.to_owned(),
        path: fields.next()?.to_owned(),
        status: fields.next()?.parse().ok()?,
        termination: fields.next()?.to_owned(),
        retries: fields.next().unwrap_or_default().to_owned(),
    })
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The group `timeout` made: it and HAProxy.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
