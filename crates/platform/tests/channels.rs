//! Channel adapters against the real `homedesk-platform` process and its
//! real command line: each adapter has its own secret, ingress takes only
//! a current adapter secret, rotation ends the old one at once, and the
//! conversation remembers which adapter it came through.

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::{Server, add_adapter, blocking, cli, ingress_message, open_storage, secret_from};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_adapter_has_its_own_secret_and_rotation_ends_the_old_one() {
    let server = Server::start_demo(&[]);
    let taobao = add_adapter(&server.dir, "taobao", None);
    let wechat = add_adapter(&server.dir, "wechat", None);
    assert_ne!(taobao, wechat, "every adapter gets its own secret");

    let msg = |id: &str| ingress_message(id, "cust-ch-1", "aftersales", "桃子坏了");
    let (status, body) = server
        .post("/v1/ingress/chat", Some(&taobao), &msg("tb-1"))
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "taobao's secret is accepted: {body}"
    );
    let taobao_conversation = body["conversation_id"].as_str().expect("id").to_owned();

    // The same customer id through another adapter is another conversation:
    // its replies must go back through the adapter the customer used.
    let (status, body) = server
        .post("/v1/ingress/chat", Some(&wechat), &msg("wx-1"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_ne!(
        body["conversation_id"], taobao_conversation,
        "a message through wechat must not join the taobao conversation"
    );
    let (_, again) = server
        .post("/v1/ingress/chat", Some(&taobao), &msg("tb-2"))
        .await;
    assert_eq!(
        again["conversation_id"], taobao_conversation,
        "taobao's next message joins its conversation"
    );

    let recorded = blocking(|| {
        open_storage(&server.dir)
            .read_with(|tx| tx.conversation_adapter(&taobao_conversation))
            .expect("read beside the server")
    });
    assert_eq!(
        recorded.as_deref(),
        Some("taobao"),
        "the platform knows where the conversation came from"
    );

    let out = cli(&[
        "channel",
        "rotate",
        "taobao",
        "--data-dir",
        server.dir.to_str().expect("utf-8"),
    ]);
    let rotated = secret_from(&out);
    assert_ne!(rotated, taobao);
    let (status, body) = server
        .post("/v1/ingress/chat", Some(&taobao), &msg("tb-3"))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old secret stops working at rotation: {body}"
    );
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = server
        .post("/v1/ingress/chat", Some(&rotated), &msg("tb-3"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "the new secret works at once");
    let (status, _) = server
        .post("/v1/ingress/chat", Some(&wechat), &msg("wx-2"))
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "rotating one adapter leaves the others alone"
    );

    // Neither a made-up secret nor the demo's old shared token file works.
    let (status, _) = server
        .post("/v1/ingress/chat", Some("not-a-secret"), &msg("x-1"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        !server.dir.join("ingress-token").exists(),
        "no shared ingress token is written any more"
    );

    // `channel list` names the adapters and never shows a secret.
    let out = cli(&[
        "channel",
        "list",
        "--data-dir",
        server.dir.to_str().expect("utf-8"),
    ]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for id in ["demo", "taobao", "wechat"] {
        assert!(listed.contains(id), "{id} is listed: {listed}");
    }
    assert!(
        listed.contains("secret rotated"),
        "the rotation is shown: {listed}"
    );
    for secret in [&taobao, &rotated, &wechat] {
        assert!(
            !listed.contains(secret.as_str()),
            "a secret must never be listed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_traffic_comes_through_the_demo_adapter_whose_secret_survives_a_restart() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut server = Server::start_at(tmp.path(), &["--demo"]);
    let secret = server.ingress_token();
    let conversation = server
        .customer_writes_via(&secret, "demo-1", "cust-demo-1", "在吗")
        .await;
    server.stop();
    let server = Server::start_at(tmp.path(), &["--demo"]);
    assert_eq!(
        server.ingress_token(),
        secret,
        "a restart keeps the demo adapter's secret"
    );
    let again = server
        .customer_writes_via(&secret, "demo-2", "cust-demo-1", "？？？")
        .await;
    assert_eq!(again, conversation);
    let adapter = blocking(|| {
        open_storage(tmp.path())
            .read_with(|tx| tx.conversation_adapter(&conversation))
            .expect("read")
    });
    assert_eq!(adapter.as_deref(), Some("demo"));
}

#[test]
fn bad_adapter_commands_say_what_is_wrong_and_change_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    let first = add_adapter(tmp.path(), "shop", Some("https://adapter.example/hook"));
    let cases: [(&[&str], &str); 7] = [
        (
            &["channel", "add", "Shop!", "--data-dir", dir],
            "not an adapter id",
        ),
        (
            &[
                "channel",
                "add",
                "x",
                "--webhook",
                "http://adapter.example/hook",
                "--data-dir",
                dir,
            ],
            "only allowed to this machine",
        ),
        (
            &[
                "channel",
                "add",
                "y",
                "--webhook",
                "ftp://127.0.0.1/",
                "--data-dir",
                dir,
            ],
            "neither https nor http",
        ),
        (
            &["channel", "add", "shop", "--data-dir", dir],
            "already an adapter",
        ),
        (
            &["channel", "rotate", "nope", "--data-dir", dir],
            "there is no adapter \"nope\"; there are: shop",
        ),
        (
            &["channel", "webhook", "shop", "not a url", "--data-dir", dir],
            "not a URL",
        ),
        (
            &["egress", "retry", "msg-none", "--data-dir", dir],
            "no reply msg-none",
        ),
    ];
    for (args, says) in cases {
        let out = cli(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(
            stderr.contains(says),
            "{args:?} says {says:?}; it said: {stderr}"
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("secret:"),
            "a refused command prints no secret"
        );
    }
    let out = cli(&["channel", "list", "--data-dir", dir]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        listed.lines().count(),
        1,
        "only the one good adapter exists: {listed}"
    );
    assert!(
        listed.contains("shop  webhook https://adapter.example/hook"),
        "{listed}"
    );

    let out = cli(&["channel", "webhook", "shop", "--data-dir", dir]);
    assert!(out.status.success());
    let listed =
        String::from_utf8_lossy(&cli(&["channel", "list", "--data-dir", dir]).stdout).to_string();
    assert!(
        listed.contains("shop  webhook (none)"),
        "the webhook was removed: {listed}"
    );
    assert!(!first.is_empty());

    let empty = tempfile::tempdir().expect("tmp");
    let out = cli(&[
        "channel",
        "list",
        "--data-dir",
        empty.path().to_str().expect("utf-8"),
    ]);
    assert!(
        !out.status.success(),
        "listing a folder with no platform creates nothing"
    );
    assert!(!empty.path().join("platform.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_refuses_an_agent_token_and_a_missing_secret() {
    let server = Server::start_demo(&[]);
    let agent = server.sign_in("a1002").await;
    let msg = ingress_message("e-1", "c-1", "aftersales", "hi");
    let (status, body) = server
        .post("/v1/ingress/chat", Some(&agent.access_token), &msg)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an agent is not an adapter: {body}"
    );
    let (status, body) = server.post("/v1/ingress/chat", None, &msg).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("channel add"),
        "the error says where a secret comes from: {body}"
    );
    let (status, _) = server
        .post(
            "/v1/ingress/chat",
            Some(&server.ingress_token()),
            &json!({"external_id": "x"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a good secret with a bad body is a bad request"
    );
}
