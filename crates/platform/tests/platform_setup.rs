//! A production platform as a county centre sets it up, through the real
//! binary: `init` (once), `queue add/set/list` with their bad input,
//! `agent add` on a fresh platform, the config file `serve` reads, `--demo`
//! refused, and an agent signing in over HTTPS.

mod support;

use std::path::Path;

use homedesk_protocol::{ChangeBody, EntityKind, Record};
use reqwest::StatusCode;
use serde_json::json;
use support::{
    Server, cli_until_exit as finishes, cli_with_input as platform, content_dir, database_for,
    on_postgres, open_storage,
};

fn content() -> String {
    content_dir().to_str().expect("utf-8").to_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn init(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["init", "--data-dir", dir.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    platform(&args, "")
}

fn succeeded(out: &std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn records(dir: &Path, kind: EntityKind) -> Vec<Record> {
    open_storage(dir)
        .read_with(|tx| tx.list(kind))
        .expect("reads")
}

#[test]
fn init_makes_an_empty_production_platform_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("platform");
    let stdout = succeeded(&init(&dir, &["--listen", "0.0.0.0:9443"]), "init");
    for next in ["queue add", "agent add", "serve --data-dir"] {
        assert!(
            stdout.contains(next),
            "init says what to do next ({next}): {stdout}"
        );
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).expect("dir").permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o700,
            "only the platform's user may read its folder"
        );
    }
    assert!(
        dir.join("tls/ca.pem").exists(),
        "the development CA, as serve makes it"
    );
    let config = std::fs::read_to_string(dir.join("platform.toml")).expect("config written");
    assert!(config.contains("listen = \"0.0.0.0:9443\""), "{config}");
    if on_postgres() {
        // The database is PostgreSQL's (init took it from the environment):
        // the config file names it, so serve and every command find it, and
        // no SQLite file is made beside it.
        let url = database_for(&dir).expect("the folder's database");
        assert!(
            config.contains(&format!("database = {url:?}")),
            "init writes the database it was given into the config: {config}"
        );
        assert!(!dir.join("platform.db").exists());
    } else {
        assert!(dir.join("platform.db").exists());
    }
    assert!(
        records(&dir, EntityKind::AgentProfile).is_empty()
            && records(&dir, EntityKind::Queue).is_empty(),
        "a production platform starts empty: no demo accounts or queues"
    );

    let again = init(&dir, &[]);
    assert!(
        !again.status.success(),
        "a second init must not replace a platform"
    );
    assert!(
        text(&again.stderr).contains("already holds a platform"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("platform.toml")).expect("still there"),
        config,
        "the refused init changed nothing"
    );
}

#[test]
fn init_with_a_certificate_writes_it_into_the_config_and_makes_no_ca() {
    let tmp = tempfile::tempdir().expect("tmp");
    // A certificate and key from another platform's development CA.
    let other = tmp.path().join("other");
    succeeded(&init(&other, &[]), "init other");
    let (cert, key) = (
        other.join("tls/server.pem"),
        other.join("tls/server-key.pem"),
    );
    let dir = tmp.path().join("platform");
    let out = init(
        &dir,
        &[
            "--cert",
            cert.to_str().expect("utf-8"),
            "--key",
            "no-such-key.pem",
        ],
    );
    assert!(
        !out.status.success(),
        "a key that cannot be read is refused"
    );
    assert!(
        !dir.exists(),
        "nothing was made: {:?}",
        dir.read_dir().map(|d| d.count())
    );

    succeeded(
        &init(
            &dir,
            &[
                "--cert",
                cert.to_str().expect("utf-8"),
                "--key",
                key.to_str().expect("utf-8"),
            ],
        ),
        "init with a certificate",
    );
    let config = std::fs::read_to_string(dir.join("platform.toml")).expect("config");
    assert!(
        config.contains(&format!("cert = {:?}", cert.display().to_string()))
            && config.contains(&format!("key = {:?}", key.display().to_string())),
        "{config}"
    );
    assert!(
        !dir.join("tls").exists(),
        "no development CA when a certificate is given"
    );
}

fn queue(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["queue", args[0], "--data-dir", dir.to_str().expect("utf-8")];
    all.extend_from_slice(&args[1..]);
    platform(&all, "")
}

fn queue_list(dir: &Path) -> String {
    succeeded(&queue(dir, &["list"]), "queue list")
}

#[test]
fn queues_are_added_changed_and_listed_and_bad_input_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("platform");
    succeeded(&init(&dir, &[]), "init");
    assert!(queue_list(&dir).contains("no queues yet"));

    let added = queue(
        &dir,
        &[
            "add",
            "aftersales",
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
            "--holiday",
            "2026-10-01,2026-10-02",
            "--holiday",
            "2027-01-01",
            "--first-response",
            "90s",
            "--resolve",
            "24h",
            "--offer-timeout",
            "45",
            "--skills",
            "refunds,logistics",
        ],
    );
    succeeded(&added, "queue add");
    let listed = queue_list(&dir);
    for expected in [
        "aftersales  售后服务 / After-sales",
        "open mon-fri 09:00-18:00 (UTC+08:00); closed 2026-10-01, 2026-10-02, 2027-01-01",
        "first response 90s, resolve 1d, offer timeout 45s",
        "skills refunds,logistics",
    ] {
        assert!(listed.contains(expected), "{expected:?} in:\n{listed}");
    }
    let Some(Record::Queue(stored)) = records(&dir, EntityKind::Queue).pop() else {
        panic!("the queue is a record");
    };
    assert_eq!(stored.offer_timeout_secs, Some(45));
    assert_eq!(stored.business_hours.holidays.len(), 3);

    // Bad input: the flag named, what it accepts said, nothing written.
    let refused: &[(&[&str], &str)] = &[
        (
            &[
                "add",
                "presales",
                "--name-zh",
                "售前",
                "--name-en",
                "Pre-sales",
                "--days",
                "monday",
            ],
            "--days",
        ),
        (
            &[
                "add",
                "presales",
                "--name-zh",
                "售前",
                "--name-en",
                "Pre-sales",
                "--hours",
                "18:00-09:00",
            ],
            "--hours",
        ),
        (
            &[
                "add",
                "presales",
                "--name-zh",
                "售前",
                "--name-en",
                "Pre-sales",
                "--holiday",
                "2026-02-30",
            ],
            "--holiday",
        ),
        (
            &[
                "add",
                "presales",
                "--name-zh",
                "售前",
                "--name-en",
                "Pre-sales",
                "--utc-offset",
                "+15:00",
            ],
            "--utc-offset",
        ),
        (
            &[
                "add",
                "presales",
                "--name-zh",
                "售前",
                "--name-en",
                "Pre-sales",
                "--offer-timeout",
                "0",
            ],
            "--offer-timeout",
        ),
        (
            &[
                "add",
                "presales",
                "--name-zh",
                "售前",
                "--name-en",
                "Pre-sales",
                "--first-response",
                "2d",
                "--resolve",
                "1h",
            ],
            "--first-response",
        ),
        (&["add", "presales", "--name-zh", "售前"], "--name-en"),
        (
            &[
                "add",
                "Pre Sales",
                "--name-zh",
                "售前",
                "--name-en",
                "Pre-sales",
            ],
            "queue id",
        ),
        (
            &[
                "add",
                "aftersales",
                "--name-zh",
                "售后",
                "--name-en",
                "After-sales",
            ],
            "exists already",
        ),
        (
            &["set", "presales", "--days", "every-day"],
            "does not exist",
        ),
        (&["set", "aftersales", "--hours", "9-18"], "--hours"),
    ];
    for (args, names) in refused {
        let out = queue(&dir, args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "refused: {args:?}");
        assert!(
            stderr.contains(names),
            "{args:?}: the error names {names}: {stderr}"
        );
        assert_eq!(queue_list(&dir), listed, "{args:?} wrote nothing");
    }
    let bad_days = text(&queue(&dir, &["set", "aftersales", "--days", "weekdays"]).stderr);
    assert!(
        bad_days.contains("mon-fri") && bad_days.contains("every-day"),
        "says what is accepted: {bad_days}"
    );

    let changed = queue(
        &dir,
        &[
            "set",
            "aftersales",
            "--days",
            "every-day",
            "--no-holidays",
            "--offer-timeout",
            "default",
            "--hours",
            "00:00-24:00",
        ],
    );
    succeeded(&changed, "queue set");
    let listed = queue_list(&dir);
    assert!(
        listed.contains("open every day 00:00-24:00 (UTC+08:00)\n"),
        "days, hours and holidays changed: {listed}"
    );
    assert!(
        listed.contains("offer timeout 30s (the platform's)"),
        "{listed}"
    );
    assert!(
        listed.contains("售后服务 / After-sales") && listed.contains("first response 90s"),
        "what set did not name stays: {listed}"
    );
}

#[test]
fn a_production_platform_refuses_demo_data() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("platform");
    succeeded(&init(&dir, &[]), "init");
    let out = finishes(&[
        "serve",
        "--demo",
        "--data-dir",
        dir.to_str().expect("utf-8"),
        "--listen",
        "127.0.0.1:0",
        "--content",
        &content(),
    ]);
    assert!(
        !out.status.success(),
        "serve --demo must not start on a production platform"
    );
    assert!(
        text(&out.stderr).contains("production platform"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        records(&dir, EntityKind::AgentProfile).is_empty()
            && records(&dir, EntityKind::Queue).is_empty(),
        "no demo account or queue got in"
    );
    assert!(
        !dir.join("demo-adapter-secret").exists(),
        "no demo adapter either"
    );
}

#[test]
fn an_unknown_key_in_the_config_file_is_refused_with_its_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("platform");
    succeeded(&init(&dir, &[]), "init");
    let file = dir.join("platform.toml");
    let mut config = std::fs::read_to_string(&file).expect("config");
    config.push_str("ip_limit = 5\n");
    let line = config.lines().count();
    std::fs::write(&file, &config).expect("write");
    let data = dir.to_str().expect("utf-8");
    let out = finishes(&["serve", "--data-dir", data]);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "serve must not start with a setting it does not know"
    );
    assert!(
        stderr.contains(&format!("platform.toml:{line}:")) && stderr.contains("ip_limit"),
        "the file, the line and the key: {stderr}"
    );

    // The same with --config naming another file.
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, "listen = \"127.0.0.1:0\"\noffer_timout = 5\n").expect("write");
    let out = finishes(&[
        "serve",
        "--data-dir",
        data,
        "--config",
        other.to_str().expect("utf-8"),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("other.toml:2:"),
        "{}",
        text(&out.stderr)
    );
}

/// A port nothing listens on now (the test writes it into a config file).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test]
async fn an_agent_added_to_a_fresh_platform_signs_in_over_https() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("platform");
    let data = dir.to_str().expect("utf-8");
    let port = free_port();
    succeeded(
        &init(&dir, &["--listen", &format!("127.0.0.1:{port}")]),
        "init",
    );

    let unknown = platform(
        &[
            "agent",
            "add",
            "--data-dir",
            data,
            "--code",
            "a2001",
            "--name",
            "张敏",
            "--queues",
            "aftersales",
        ],
        "a-long-secret\n",
    );
    assert!(!unknown.status.success(), "the queue does not exist yet");
    assert!(
        text(&unknown.stderr).contains("queue add aftersales"),
        "{}",
        text(&unknown.stderr)
    );

    succeeded(
        &queue(
            &dir,
            &[
                "add",
                "aftersales",
                "--name-zh",
                "售后服务",
                "--name-en",
                "After-sales",
                "--days",
                "mon-fri",
                "--hours",
                "09:00-18:00",
            ],
        ),
        "queue add",
    );
    succeeded(
        &platform(
            &[
                "agent",
                "add",
                "--data-dir",
                data,
                "--code",
                "a2001",
                "--name",
                "张敏",
                "--queues",
                "aftersales",
            ],
            "a-long-secret\n",
        ),
        "agent add",
    );

    // No --listen: the address comes from the platform.toml init wrote.
    let server = Server::start_with(&dir, &[]);
    assert_eq!(
        server.url,
        format!("https://127.0.0.1:{port}"),
        "listens where platform.toml says"
    );

    let (status, _) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": "a1001", "password": "homedesk-demo", "device_id": "pc-1"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "no demo accounts, no demo password"
    );
    let (status, _) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": "a2001", "password": "homedesk-demo", "device_id": "pc-1"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the demo password opens nothing here"
    );

    let (status, body) = server
        .post(
            "/v1/sessions",
            None,
            &json!({"agent": "a2001", "password": "a-long-secret", "device_id": "pc-1"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the new agent signs in: {body}"
    );
    let token = body["access_token"].as_str().expect("token").to_owned();
    let (changes, _) = server.pull_all(&token, None).await;
    let queue = changes.iter().find_map(|c| match &c.body {
        ChangeBody::Upsert(Record::Queue(q)) => Some(q.clone()),
        _ => None,
    });
    let queue = queue.expect("the queue reaches the workstation through the change log");
    assert_eq!(queue.business_hours.days.to_string(), "mon-fri");
}
