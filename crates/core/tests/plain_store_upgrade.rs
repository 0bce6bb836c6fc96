//! A real plain store made by the released version (commit a96700d, see
//! `fixtures/plain-store-a96700d/README.md`) is converted to an encrypted one
//! on the first sign-in or unlock after the update, and keeps everything:
//! the synced conversation, and the claim and reply that waited in its
//! outbox, which then go out.

mod common;

use std::path::{Path, PathBuf};

use common::{Server, eventually, platform_messages};
use homedesk_core::desk::PlatformConfig;
use homedesk_core::store::convert::is_plain;
use homedesk_core::vault::KdfParams;
use homedesk_core::{ErrorCode, Workstation};

const PASSWORD: &str = common::platform::DEMO_PASSWORD;
const REPLY: &str = "亲，压坏的部分给您退款，麻烦拍张照片";
const CUSTOMER: &str = "我买的桃子到了，有几个压坏了，能退吗？";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plain-store-a96700d")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for entry in std::fs::read_dir(from).expect("fixture folder").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
            // A checkout makes files 0644; keys and databases are 0600 in use.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))
                    .expect("chmod");
            }
        }
    }
}

/// The fixture's workstation folder (and platform folder) in `tmp`.
fn copy_fixture(tmp: &Path) -> (PathBuf, String) {
    copy_dir(&fixture().join("workstation"), &tmp.join("workstation"));
    let conversation = std::fs::read_to_string(fixture().join("conversation_id"))
        .expect("conversation id")
        .trim()
        .to_owned();
    (tmp.join("workstation"), conversation)
}

fn plain_count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("plain");
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

fn no_plain_leftovers(db: &Path) {
    assert!(!is_plain(db), "the store is encrypted now");
    assert!(
        !PathBuf::from(format!("{}.converting", db.display())).exists(),
        "no half-made copy left"
    );
    let text = String::from_utf8_lossy(&std::fs::read(db).expect("store")).into_owned();
    for secret in [REPLY, CUSTOMER] {
        assert!(
            !text.contains(secret),
            "{secret:?} still readable in the file"
        );
    }
}

#[tokio::test]
async fn a_plain_store_is_converted_at_the_first_sign_in_and_its_reply_goes_out() {
    let tmp = tempfile::tempdir().expect("tmp");
    copy_dir(&fixture().join("platform"), &tmp.path().join("platform"));
    let server = Server::start_at(&tmp.path().join("platform"), &["--demo"]);
    let (data, conversation) = copy_fixture(tmp.path());
    let db = data.join("agents").join("a1001.sqlite");
    assert!(is_plain(&db), "the fixture is a plain store");
    assert_eq!(
        plain_count(&db, "SELECT count(*) FROM outbox"),
        2,
        "claim and reply wait"
    );
    let messages = plain_count(&db, "SELECT count(*) FROM messages");

    let ws = Workstation::open(&data).expect("opens");
    ws.set_key_derivation(KdfParams::cheap_for_tests());
    ws.set_platform_defaults(PlatformConfig {
        url: server.url.clone(),
        ca_file: Some(server.dir.join("tls").join("ca.pem")),
        allow_insecure_loopback: false,
    });
    let known = ws.known_agents();
    assert_eq!(known.len(), 1);
    assert!(
        known[0].code == "a1001" && known[0].saved_session,
        "{known:?}"
    );

    ws.sign_in(&server.url, "a1001", PASSWORD)
        .await
        .expect("signs in and converts");
    no_plain_leftovers(&db);
    let desk = ws.desk().expect("desk");
    let detail = desk
        .conversation(&conversation)
        .expect("reads")
        .expect("the synced conversation is kept");
    assert!(
        detail.messages.len() as i64 >= messages.min(1),
        "its messages are kept"
    );
    assert!(
        detail.messages.iter().any(|m| m.message.body == CUSTOMER),
        "the customer's message is kept"
    );
    eventually("the reply that waited goes out", || async {
        (desk.status().pending_actions == 0).then_some(())
    })
    .await;
    assert_eq!(
        platform_messages(&server, "a1001", &conversation).await,
        [REPLY]
    );
}

#[tokio::test]
async fn a_plain_store_is_converted_at_an_offline_unlock_and_only_with_the_password() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (data, conversation) = copy_fixture(tmp.path());
    let db = data.join("agents").join("a1001.sqlite");
    let before = std::fs::read(&db).expect("plain");

    let ws = Workstation::open(&data).expect("opens");
    ws.set_key_derivation(KdfParams::cheap_for_tests());
    // No platform answers: the whole of this test is offline.
    ws.set_platform_defaults(PlatformConfig {
        url: "https://127.0.0.1:9".into(),
        ca_file: None,
        allow_insecure_loopback: false,
    });
    let wrong = ws.unlock_as("a1001", "guess").expect("checks");
    assert!(!wrong.unlocked);
    assert_eq!(
        std::fs::read(&db).expect("plain"),
        before,
        "a wrong password changes nothing"
    );
    assert!(is_plain(&db), "not converted without the password");
    let key_file = data.join("agents").join("a1001.key.json");
    assert!(!key_file.exists(), "no key made for a wrong password");

    let answer = ws.unlock_as("a1001", PASSWORD).expect("checks");
    assert!(answer.unlocked, "{answer:?}");
    no_plain_leftovers(&db);
    let desk = ws.desk().expect("desk");
    assert_eq!(
        desk.status().pending_actions,
        2,
        "claim and reply still wait"
    );
    assert!(desk.conversation(&conversation).expect("reads").is_some());
    drop(desk);
    drop(ws);

    // The converted store opens with the password, and only with it.
    let ws = Workstation::open(&data).expect("opens");
    let other = homedesk_core::vault::Vault::default();
    assert!(
        other
            .try_unlock(&db, PASSWORD, 0)
            .expect("checks")
            .opened()
            .is_some()
    );
    std::fs::remove_file(&key_file).expect("lose the key file");
    let bytes = std::fs::read(&db).expect("store");
    let err = ws
        .unlock_as("a1001", PASSWORD)
        .expect_err("no key, no store");
    assert_eq!(err.code(), ErrorCode::StoreLocked, "{err:?}");
    assert!(
        err.to_string().contains("a1001.sqlite"),
        "names the file: {err}"
    );
    assert_eq!(std::fs::read(&db).expect("store"), bytes, "left untouched");
}
