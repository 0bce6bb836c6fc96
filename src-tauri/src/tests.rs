//! Mock-runtime tests of the shell's wiring: the real config, capabilities and
//! command handlers, with Tauri's `MockRuntime` instead of a window.

use homedesk_core::Workstation;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

fn app(data_dir: &std::path::Path) -> App<MockRuntime> {
    let workstation = Workstation::open(data_dir).expect("open workstation");
    crate::setup(mock_builder(), workstation)
        .build(tauri::generate_context!())
        .expect("build mock app")
}

fn window(app: &App<MockRuntime>, label: &str) -> WebviewWindow<MockRuntime> {
    WebviewWindowBuilder::new(app, label, Default::default())
        .build()
        .expect("mock window")
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request).map(|body| body.deserialize::<Value>().expect("json body"))
}

#[test]
fn app_info_reaches_the_core() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    let info = invoke(&main, "app_info", json!({})).expect("main window may call app_info");
    assert_eq!(info["name"], "Homedesk");
    assert_eq!(info["locale"], "zh-CN", "Chinese is the default");
    let data_dir = std::fs::canonicalize(dir.path()).expect("canonical");
    assert_eq!(info["dataDir"], data_dir.display().to_string());
}

#[test]
fn set_locale_saves_and_refuses_unknown_tags_with_the_boundary_shape() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");

    let info = invoke(&main, "set_locale", json!({ "locale": "en" })).expect("accepted");
    assert_eq!(info["locale"], "en");

    let err = invoke(&main, "set_locale", json!({ "locale": "fr" })).expect_err("refused");
    assert_eq!(
        err["code"], "invalid_input",
        "the UI branches on the code: {err}"
    );
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("fr")),
        "message names the input: {err}"
    );

    let info = invoke(&main, "app_info", json!({})).expect("still works");
    assert_eq!(
        info["locale"], "en",
        "a refused change leaves the saved language alone"
    );
}

#[test]
fn connection_status_starts_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let status = invoke(&window(&app, "main"), "connection_status", json!({})).expect("allowed");
    assert_eq!(
        status,
        json!({
            "state": "offline",
            "pendingActions": 0,
            "lastSyncAt": null,
            "signInNeeded": false,
            "problem": null,
            "bytesReceived": 0,
            "bytesSent": 0,
            "clockOffsetMs": 0
        })
    );
}

#[test]
fn windows_without_a_capability_cannot_call_app_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let stranger = window(&app, "untrusted-popup");
    for cmd in ["app_info", "set_locale", "connection_status"] {
        let result = invoke(&stranger, cmd, json!({ "locale": "en" }));
        assert!(
            result.is_err(),
            "{cmd} must be denied to a window no capability names: {result:?}"
        );
    }
    let info = invoke(&window(&app, "main"), "app_info", json!({})).expect("main still allowed");
    assert_eq!(
        info["locale"], "zh-CN",
        "the denied set_locale changed nothing"
    );
}

#[test]
fn before_sign_in_the_desk_commands_say_nobody_is_signed_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    assert_eq!(
        invoke(&main, "signed_in", json!({})).expect("allowed"),
        Value::Null
    );
    let defaults = invoke(&main, "sign_in_defaults", json!({})).expect("allowed");
    assert_eq!(defaults, json!({ "platformUrl": null, "agent": null }));
    let err = invoke(&main, "queue", json!({ "scope": "all" })).expect_err("nobody signed in");
    assert_eq!(err["code"], "not_signed_in");
    for (cmd, args) in [
        ("claim", json!({ "conversationId": "c1" })),
        ("conversation", json!({ "conversationId": "c1" })),
        ("reply", json!({ "conversationId": "c1", "body": "在的" })),
        (
            "save_draft",
            json!({ "conversationId": "c1", "body": "在" }),
        ),
        (
            "wrap_up",
            json!({ "conversationId": "c1", "disposition": "resolved", "note": null, "afterContactSecs": 30 }),
        ),
        (
            "log_call",
            json!({ "conversationId": "c1", "startedAt": 1_000, "endedAt": 66_000 }),
        ),
        ("scripts", json!({ "conversationId": "c1" })),
        ("transfer_targets", json!({})),
        (
            "transfer",
            json!({ "conversationId": "c1", "target": { "queue": "aftersales" } }),
        ),
        ("my_day", json!({})),
        ("lock", json!({})),
        ("unlock", json!({ "password": "x" })),
        ("conflicts", json!({})),
        ("dismiss_conflict", json!({ "id": 1 })),
        ("recent_articles", json!({ "limit": 5 })),
        ("search_articles", json!({ "query": "退款", "limit": 5 })),
        ("article", json!({ "articleId": "kb-1" })),
        ("release", json!({ "conversationId": "c1" })),
        (
            "search_canned_replies",
            json!({ "query": "nh", "limit": 5 }),
        ),
        (
            "reply_template",
            json!({ "cannedId": "cr-1", "conversationId": null }),
        ),
    ] {
        let err = invoke(&main, cmd, args).expect_err("nobody signed in");
        assert_eq!(err["code"], "not_signed_in", "{cmd}");
    }
    let stranger = window(&app, "untrusted-popup");
    for cmd in [
        "sign_in",
        "queue",
        "claim",
        "sign_out",
        "conversation",
        "reply",
        "save_draft",
        "wrap_up",
        "log_call",
        "search_articles",
        "article",
        "release",
        "search_canned_replies",
        "reply_template",
        "presence",
        "set_presence",
        "note",
        "accept_offer",
        "decline_offer",
        "scripts",
        "transfer_targets",
        "transfer",
        "my_day",
        "preferences",
        "set_preferences",
        "lock",
        "unlock",
        "set_focused_conversation",
        "conflicts",
        "dismiss_conflict",
        "recent_articles",
        "practice_catalog",
        "start_practice",
        "stop_practice",
        "practice_status",
        "practice_report",
        "practice_history",
        "practice_mark",
    ] {
        let result = invoke(&stranger, cmd, json!({}));
        assert!(
            result.is_err(),
            "{cmd} must be refused to a window without the capability"
        );
    }
}

#[test]
fn preferences_are_saved_and_out_of_range_values_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    let defaults = invoke(&main, "preferences", json!({})).expect("allowed");
    assert_eq!(
        defaults,
        json!({
            "textSize": "normal",
            "highContrast": false,
            "reducedMotion": false,
            "lockAfterMinutes": 5,
            "notifications": true,
            "sound": true,
            "sendKey": "enter"
        })
    );
    let mut chosen = defaults.clone();
    chosen["textSize"] = json!("larger");
    chosen["lockAfterMinutes"] = json!(15);
    chosen["sendKey"] = json!("ctrl_enter");
    let saved = invoke(&main, "set_preferences", json!({ "preferences": chosen })).expect("saved");
    assert_eq!(saved, chosen);
    let mut bad = chosen.clone();
    bad["lockAfterMinutes"] = json!(100_000);
    let err = invoke(&main, "set_preferences", json!({ "preferences": bad })).expect_err("refused");
    assert_eq!(err["code"], "invalid_input");
    let mut unknown_key = chosen.clone();
    unknown_key["sendKey"] = json!("alt_enter");
    invoke(
        &main,
        "set_preferences",
        json!({ "preferences": unknown_key }),
    )
    .expect_err("only enter and ctrl_enter send");
    assert_eq!(
        invoke(&main, "preferences", json!({})).expect("allowed"),
        chosen,
        "a refused change keeps what was saved"
    );
    invoke(
        &main,
        "set_focused_conversation",
        json!({ "conversationId": "c1" }),
    )
    .expect("allowed without a sign-in: it only remembers the id");
}

#[test]
fn practice_commands_answer_before_any_sign_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    let err = invoke(&main, "practice_catalog", json!({})).expect_err("no content set");
    assert_eq!(err["code"], "invalid_input", "{err}");
    assert_eq!(
        invoke(&main, "practice_history", json!({})).expect("allowed"),
        json!([])
    );
    assert_eq!(
        invoke(&main, "stop_practice", json!({})).expect("allowed"),
        Value::Null
    );
    let err = invoke(&main, "practice_status", json!({})).expect_err("nobody at the desk");
    assert_eq!(err["code"], "not_signed_in");
}
