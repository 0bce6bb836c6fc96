//! Mock-runtime tests of the shell's wiring: the real config, capabilities and
//! command handlers, with Tauri's `MockRuntime` instead of a window; and the
//! check that the TypeScript host invokes exactly the declared commands, with
//! the argument names of their Rust functions.

use std::collections::{BTreeMap, BTreeSet};

use homedesk_core::Workstation;
use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, CapabilityBuilder, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

/// Every declared command, from `command_list.rs`.
const COMMANDS: &[&str] = {
    macro_rules! names {
        ($($name:ident),* $(,)?) => {
            &[$(stringify!($name)),*]
        };
    }
    crate::command_list::with_commands!(names)
};

fn app(data_dir: &std::path::Path) -> App<MockRuntime> {
    let workstation = Workstation::open(data_dir).expect("open workstation");
    built(workstation)
}

/// The app as `setup` leaves it: the mock runtime never starts the event
/// loop, so the state the setup hook manages is managed here.
fn built(workstation: Workstation) -> App<MockRuntime> {
    let app = crate::setup(mock_builder(), workstation)
        .build(tauri::generate_context!())
        .expect("build mock app");
    crate::updater::manage(app.handle()).expect("updates");
    app
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
            "data": {"today": 0, "month": 0, "budget": null, "metered": false, "warning": false},
            "kbUpdateWaiting": null,
            "kbUpdating": null,
            "clockOffsetMs": 0
        })
    );
}

/// Panics unless `result` is Tauri's ACL refusing `cmd`: a plain string
/// (not the core's `{code, message}`) saying the command is not allowed
/// ("… <cmd> not allowed on window …" in debug builds, "Command <cmd> not
/// allowed by ACL" in release). A missing argument or an unknown command
/// reads differently ("missing required key", "not found").
fn assert_acl_refused(cmd: &str, result: &Result<Value, Value>) {
    match result {
        Err(Value::String(text)) if text.contains(&format!("{cmd} not allowed")) => {}
        other => panic!("{cmd}: expected the ACL's refusal, got {other:?}"),
    }
}

#[test]
fn windows_without_a_capability_are_refused_by_the_acl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let stranger = window(&app, "untrusted-popup");
    // Valid arguments: the only thing wrong with these calls is the window.
    assert_acl_refused("app_info", &invoke(&stranger, "app_info", json!({})));
    assert_acl_refused(
        "set_locale",
        &invoke(&stranger, "set_locale", json!({ "locale": "en" })),
    );
    let main = window(&app, "main");
    let info = invoke(&main, "app_info", json!({})).expect("main still allowed");
    assert_eq!(
        info["locale"], "zh-CN",
        "the refused set_locale changed nothing"
    );

    // The same call from a window that is granted the command goes through:
    // the refusal above came from the missing grant, nothing else.
    app.add_capability(
        CapabilityBuilder::new("granted-popup")
            .window("granted-popup")
            .permission("allow-set-locale"),
    )
    .expect("add a capability");
    let granted = window(&app, "granted-popup");
    let info = invoke(&granted, "set_locale", json!({ "locale": "en" }))
        .expect("a granted window may call set_locale");
    assert_eq!(info["locale"], "en");
    assert_acl_refused("app_info", &invoke(&granted, "app_info", json!({})));

    // Every declared command: the ACL refuses it before its arguments are read.
    for cmd in COMMANDS {
        assert_acl_refused(cmd, &invoke(&stranger, cmd, json!({})));
    }
}

#[test]
fn the_main_window_may_call_every_declared_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    for cmd in COMMANDS {
        // No arguments: whatever the command answers (a result, missing
        // arguments, nobody signed in), it is neither refused nor unknown.
        if let Err(Value::String(text)) = invoke(&main, cmd, json!({})) {
            assert!(
                !text.contains("not allowed") && !text.contains("not found"),
                "{cmd} must be handled and granted to the main window: {text}"
            );
        }
    }
}

/// One `call(…)` of `tauri.ts`: the command's name and the argument keys it
/// passes (none without an argument object).
#[derive(Debug, PartialEq)]
struct Invocation {
    command: String,
    keys: BTreeSet<String>,
}

/// Each `call(…)` of `tauri.ts`, in order; an error if a call names its
/// command other than as a string literal, passes its arguments other than
/// as a flat object literal (`{ conversationId, body }`) or a raw body (a
/// lower-case identifier, for a command that reads its `Request`), or if anything but
/// `call` invokes.
fn invoked_commands(source: &str) -> Result<Vec<Invocation>, String> {
    let invokes = source.matches("invoke<").count() + source.matches("invoke(").count();
    if invokes != 1 {
        return Err(format!(
            "expected one `invoke` (inside `call`), found {invokes}"
        ));
    }
    let mut calls = Vec::new();
    for (at, _) in source.match_indices("call(") {
        let line = source[..at].lines().count();
        let rest = &source[at + "call(".len()..];
        let (command, rest) = rest
            .strip_prefix('"')
            .and_then(|rest| rest.split_once('"'))
            .filter(|(name, _)| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .ok_or_else(|| format!("line {line}: `call(` without a literal command name"))?;
        let mut keys = BTreeSet::new();
        let raw_body = rest
            .trim_start()
            .strip_prefix(',')
            .map(str::trim_start)
            .is_some_and(|args| args.starts_with(|c: char| c.is_ascii_lowercase()));
        if raw_body {
            // `call("attach_photo", bytes, { headers })`: the raw body of a
            // command that reads its `tauri::ipc::Request`, no named arguments.
        } else if let Some(args) = rest.trim_start().strip_prefix(',') {
            let object = args
                .trim_start()
                .strip_prefix('{')
                .and_then(|object| object.split_once('}'))
                .map(|(object, _)| object)
                .filter(|object| !object.contains('{'))
                .ok_or_else(|| {
                    format!("line {line}: `{command}` takes its arguments as a flat object literal")
                })?;
            for entry in object.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let key = entry.split(':').next().unwrap_or_default().trim();
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!("line {line}: `{command}`: argument `{entry}`"));
                }
                keys.insert(key.to_owned());
            }
        }
        calls.push(Invocation {
            command: command.to_owned(),
            keys,
        });
    }
    Ok(calls)
}

/// The IPC arguments of each `#[tauri::command]` function in `commands.rs`,
/// as the webview names them (camelCase, Tauri's default); managed state and
/// the app handle are not arguments.
fn command_arguments(source: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut commands = BTreeMap::new();
    for (at, _) in source.match_indices("#[tauri::command") {
        let rest = &source[at..];
        if !rest.starts_with("#[tauri::command]") {
            return Err(format!(
                "{}: only plain #[tauri::command] (default camelCase arguments) is checked",
                &rest[..rest.find('\n').unwrap_or(rest.len())]
            ));
        }
        let after_fn = rest
            .find("fn ")
            .map(|fn_at| &rest[fn_at + 3..])
            .ok_or("a #[tauri::command] without a function")?;
        let name_end = after_fn
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after_fn.len());
        let name = &after_fn[..name_end];
        let open = after_fn
            .find('(')
            .ok_or_else(|| format!("{name}: no parameters"))?;
        let mut depth = 0usize;
        let mut params = Vec::new();
        let mut current = String::new();
        for c in after_fn[open + 1..].chars() {
            match c {
                '(' | '<' | '[' => depth += 1,
                ')' | '>' | ']' if depth > 0 => depth -= 1,
                ')' => break,
                ',' if depth == 0 => {
                    params.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        params.push(current);
        let mut arguments = BTreeSet::new();
        for param in params.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let (binding, ty) = param
                .split_once(':')
                .ok_or_else(|| format!("{name}: parameter `{param}`"))?;
            let ty = ty.trim();
            if ty.starts_with("State<") || ty.starts_with("AppHandle") || ty.starts_with("Request<")
            {
                continue;
            }
            let binding = binding.trim().trim_start_matches("mut ");
            let mut camel = String::new();
            for (i, part) in binding.split('_').enumerate() {
                let mut chars = part.chars();
                if i > 0 {
                    camel.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                }
                camel.extend(chars);
            }
            arguments.insert(camel);
        }
        commands.insert(name.to_owned(), arguments);
    }
    Ok(commands)
}

#[test]
fn the_typescript_host_invokes_exactly_the_declared_commands() {
    let host = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/host");
    let source = std::fs::read_to_string(format!("{host}/tauri.ts")).expect("read tauri.ts");
    let calls = invoked_commands(&source).expect("tauri.ts names each command literally");
    let invoked: Vec<&str> = calls.iter().map(|call| call.command.as_str()).collect();
    let invoked_set: BTreeSet<&str> = invoked.iter().copied().collect();
    let declared: BTreeSet<&str> = COMMANDS.iter().copied().collect();
    let missing: Vec<_> = declared.difference(&invoked_set).collect();
    let unknown: Vec<_> = invoked_set.difference(&declared).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "ui/src/lib/host/tauri.ts must call every command of src-tauri/src/command_list.rs \
         and no other: not called {missing:?}, not declared {unknown:?}"
    );
    assert_eq!(
        invoked.len(),
        invoked_set.len(),
        "each command has one adapter in tauri.ts: {invoked:?}"
    );
    // No other file of the host talks to the shell.
    for entry in std::fs::read_dir(host).expect("host folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name == "tauri.ts" || !name.ends_with(".ts") || name.ends_with(".test.ts") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read host file");
        assert!(
            !text.contains("invoke(") && !text.contains("invoke<"),
            "{name} invokes a command: only tauri.ts may"
        );
    }
}

#[test]
fn the_host_check_rejects_computed_or_extra_invokes() {
    let ok = r#"import { invoke } from "x";
async function call<T>(command: string) { return await invoke<T>(command); }
const host = { a: () => call("app_info"), b: (id) => call("claim", { id }) };"#;
    let names: Vec<String> = invoked_commands(ok)
        .expect("literal names")
        .into_iter()
        .map(|call| call.command)
        .collect();
    assert_eq!(names, ["app_info", "claim"]);
    let computed = ok.replace(r#"call("claim""#, "call(name");
    assert!(invoked_commands(&computed).is_err(), "a computed name");
    let direct = format!("{ok}\nconst x = () => invoke(\"lock\");");
    assert!(invoked_commands(&direct).is_err(), "an invoke outside call");
}

/// The argument keys `tauri.ts` passes must be the parameters of the Rust
/// command, as Tauri names them: a misspelt key would reach the command as
/// a missing argument (or, for an `Option`, silently as `None`).
#[test]
fn the_typescript_host_passes_each_command_its_arguments_by_their_rust_names() {
    let commands_rs = concat!(env!("CARGO_MANIFEST_DIR"), "/src/commands.rs");
    let tauri_ts = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/host/tauri.ts");
    let rust = std::fs::read_to_string(commands_rs).expect("read commands.rs");
    let ts = std::fs::read_to_string(tauri_ts).expect("read tauri.ts");
    let arguments = command_arguments(&rust).expect("commands.rs parses");
    let declared: BTreeSet<&str> = COMMANDS.iter().copied().collect();
    let found: BTreeSet<&str> = arguments.keys().map(String::as_str).collect();
    assert_eq!(
        found, declared,
        "every listed command, and only those, is read from commands.rs"
    );
    let mismatches: Vec<String> = invoked_commands(&ts)
        .expect("tauri.ts parses")
        .iter()
        .filter(|call| arguments.get(&call.command) != Some(&call.keys))
        .map(|call| {
            format!(
                "{}: tauri.ts passes {:?}, the command takes {:?}",
                call.command,
                call.keys,
                arguments.get(&call.command)
            )
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "ui/src/lib/host/tauri.ts must pass each command exactly the arguments of its function \
         in src-tauri/src/commands.rs (snake_case there, camelCase here):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn the_argument_check_reads_keys_and_parameters_and_sees_a_misspelt_one() {
    let rust = r#"
#[tauri::command]
pub async fn wrap_up<R: Runtime>(
    app: AppHandle<R>,
    workstation: State<'_, Workstation>,
    conversation_id: String,
    note: Option<Vec<(String, u8)>>,
) -> Result<(), ErrorBody> { Ok(()) }
#[tauri::command]
pub fn lock(workstation: State<'_, Workstation>) -> Result<(), ErrorBody> { Ok(()) }
"#;
    let arguments = command_arguments(rust).expect("parses");
    let keys = |list: &[&str]| list.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(arguments["wrap_up"], keys(&["conversationId", "note"]));
    assert_eq!(arguments["lock"], keys(&[]));
    let ts = r#"import { invoke } from "x";
async function call<T>(command: string, args?: object) { return await invoke<T>(command, args); }
const host = {
  wrapUp: (id, text) => call("wrap_up", { conversationId: id, notes: text }),
  lock: () => call("lock"),
};"#;
    let calls = invoked_commands(ts).expect("parses");
    assert_eq!(calls[0].keys, keys(&["conversationId", "notes"]));
    assert_ne!(
        Some(&calls[0].keys),
        arguments.get("wrap_up"),
        "a misspelt key is a mismatch"
    );
    assert_eq!(Some(&calls[1].keys), arguments.get("lock"));
    let nested = ts.replace("{ conversationId: id, notes: text }", "{ a: { b } }");
    assert!(
        invoked_commands(&nested).is_err(),
        "only flat argument objects"
    );
    let renamed = rust.replace(
        "#[tauri::command]\npub fn lock",
        "#[tauri::command(rename_all = \"snake_case\")]\npub fn lock",
    );
    assert!(
        command_arguments(&renamed).is_err(),
        "renamed arguments are not guessed"
    );
}

#[test]
fn open_link_refuses_every_address_that_is_not_a_web_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    for address in [
        "mailto:help@example.com",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "tauri://localhost/",
        "https://bank.example@evil.example/",
    ] {
        let err = invoke(&main, "open_link", json!({ "address": address }))
            .expect_err("nothing but http(s) reaches the browser");
        assert_eq!(err["code"], "invalid_input", "{address}: {err}");
    }
}

#[test]
fn the_navigation_guard_keeps_the_window_on_the_app() {
    let own: tauri::Url = "tauri://localhost/index.html".parse().expect("url");
    let site: tauri::Url = "https://www.12315.cn/".parse().expect("url");
    assert!(
        crate::links::allow_navigation(&own),
        "the app's own page loads"
    );
    assert!(
        !crate::links::allow_navigation(&site),
        "a web site must never replace the app in its window"
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
        (
            "reply",
            json!({ "conversationId": "c1", "body": "在的", "attachments": [] }),
        ),
        (
            "remove_photo",
            json!({ "conversationId": "c1", "photoId": "local-x" }),
        ),
        (
            "attach_canned_photo",
            json!({ "conversationId": "c1", "cannedId": "cr-1" }),
        ),
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
}

/// A photo reaches the core as the raw body with its conversation in a
/// header; JSON (a 5 MB array of numbers) is refused before anything else.
#[test]
fn a_photo_is_passed_as_raw_bytes_with_its_conversation_in_a_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    let request = |body: InvokeBody| {
        let mut headers = tauri::http::HeaderMap::new();
        headers.insert("homedesk-conversation", "c1".parse().expect("header"));
        InvokeRequest {
            cmd: "attach_photo".into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body,
            headers,
            invoke_key: INVOKE_KEY.to_string(),
        }
    };
    let raw = get_ipc_response(&main, request(InvokeBody::Raw(vec![0xFF, 0xD8, 0xFF])))
        .map(|b| b.deserialize::<Value>().expect("json"))
        .expect_err("nobody signed in");
    assert_eq!(
        raw["code"], "not_signed_in",
        "raw bytes reach the desk: {raw}"
    );
    let json = get_ipc_response(&main, request(InvokeBody::Json(json!([255, 216, 255]))))
        .map(|b| b.deserialize::<Value>().expect("json"))
        .expect_err("refused");
    assert_eq!(json["code"], "invalid_input", "{json}");
}

/// The webview may load images from its own files and the media scheme
/// (as Linux and macOS spell it, and as Windows does), and from nowhere else.
#[test]
fn images_come_only_from_the_app_and_the_media_scheme() {
    let config: Value = serde_json::from_str(include_str!("../tauri.conf.json")).expect("config");
    let csp = &config["app"]["security"]["csp"];
    assert_eq!(
        csp["img-src"],
        format!(
            "'self' {scheme}: http://{scheme}.localhost",
            scheme = crate::media::MEDIA_SCHEME
        )
    );
    let all = csp.to_string();
    assert!(
        !all.contains("data:") && !all.contains("blob:") && !all.contains("https:"),
        "no data:, blob: or network sources: {all}"
    );
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
            "sendKey": "enter",
            "monthlyDataBudgetMb": 0,
            "metered": false
        })
    );
    let mut chosen = defaults.clone();
    chosen["textSize"] = json!("larger");
    chosen["lockAfterMinutes"] = json!(15);
    chosen["sendKey"] = json!("ctrl_enter");
    chosen["monthlyDataBudgetMb"] = json!(2048);
    chosen["metered"] = json!(true);
    let saved = invoke(&main, "set_preferences", json!({ "preferences": chosen })).expect("saved");
    assert_eq!(saved, chosen);
    let mut bad = chosen.clone();
    bad["lockAfterMinutes"] = json!(100_000);
    let err = invoke(&main, "set_preferences", json!({ "preferences": bad })).expect_err("refused");
    assert_eq!(err["code"], "invalid_input");
    let mut bad_budget = chosen.clone();
    bad_budget["monthlyDataBudgetMb"] = json!(20_000_000);
    let err = invoke(
        &main,
        "set_preferences",
        json!({ "preferences": bad_budget }),
    )
    .expect_err("more than 10 TB a month is a typing slip");
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

/// A build without the release key (the committed config) says so, never
/// asks the platform, and has nothing to install.
#[test]
fn a_build_without_the_release_key_reports_it_and_has_nothing_to_install() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    let status = invoke(&main, "update_status", json!({})).expect("allowed");
    assert_eq!(
        status,
        json!({
            "installedVersion": app.package_info().version.to_string(),
            "support": "no_key",
            "lastCheckedAt": null,
            "phase": { "state": "none" },
            "restartBlocked": null
        })
    );
    let after = invoke(&main, "check_for_update", json!({})).expect("allowed");
    assert_eq!(after, status, "no check starts without a key");
    let err = invoke(&main, "install_update", json!({})).expect_err("nothing ready");
    assert_eq!(err["code"], "invalid_input", "{err}");
}

/// The webview reaches the updater only through the app's commands: the
/// plugin's own commands are granted to no window.
#[test]
fn the_updater_plugins_own_commands_are_refused_to_the_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    for cmd in [
        "plugin:updater|check",
        "plugin:updater|download_and_install",
    ] {
        match invoke(&main, cmd, json!({})) {
            Err(Value::String(text)) if text.contains("not allowed") => {}
            other => panic!("{cmd} must be refused by the ACL, got {other:?}"),
        }
    }
}

/// "Install and restart" is refused with its own code while the agent has
/// a conversation open (here a practice customer they claimed).
#[test]
fn install_update_is_refused_while_a_conversation_is_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let workstation = Workstation::open(dir.path()).expect("open workstation");
    workstation
        .set_content_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content"));
    let app = built(workstation);
    let main = window(&app, "main");
    invoke(
        &main,
        "start_practice",
        json!({ "choice": { "scenario": "sc-zh-where-parcel" } }),
    )
    .expect("practice starts");
    let conversation = "conv-sc-zh-where-parcel";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while invoke(
        &main,
        "conversation",
        json!({ "conversationId": conversation }),
    )
    .expect("read")
    .is_null()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the practice customer never arrived"
        );
        // Polling with a deadline; the practice customer comes on its own task.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    invoke(&main, "claim", json!({ "conversationId": conversation })).expect("claimed");
    let status = invoke(&main, "update_status", json!({})).expect("allowed");
    assert_eq!(status["restartBlocked"], "conversation_open", "{status}");
    let err = invoke(&main, "install_update", json!({})).expect_err("refused");
    assert_eq!(err["code"], "restart_not_allowed", "{err}");
}

#[test]
fn content_comes_from_the_override_else_the_tree_in_debug_else_the_resources() {
    use std::path::PathBuf;
    let resources = Some(PathBuf::from("/usr/lib/Homedesk"));
    let tree = Some(PathBuf::from("/src/homedesk/content"));
    let installed = Some(PathBuf::from("/usr/lib/Homedesk/content"));
    assert_eq!(
        crate::content_dir(
            Some("/srv/centre-content".into()),
            tree.clone(),
            resources.clone()
        ),
        Some(PathBuf::from("/srv/centre-content")),
        "HOMEDESK_CONTENT_DIR overrides everything"
    );
    assert_eq!(
        crate::content_dir(Some("".into()), None, resources.clone()),
        installed,
        "an empty HOMEDESK_CONTENT_DIR counts as unset"
    );
    assert_eq!(
        crate::content_dir(None, tree.clone(), resources.clone()),
        tree,
        "a debug build reads the repository's content, edits show without a rebuild"
    );
    assert_eq!(
        crate::content_dir(None, None, resources),
        installed,
        "a release build reads the content folder installed among the resources"
    );
    assert_eq!(crate::content_dir(None, None, None), None);
    assert!(
        crate::source_tree_content().is_some_and(|dir| dir.join("scenarios").is_dir()),
        "this debug build finds the repository's content"
    );
}

/// The package ships what practice mode reads: the content folders that
/// `bundle.resources` maps, laid out as the bundler installs them, hold every
/// content folder of the repository but the demo world, and make a complete
/// practice catalogue for the app.
#[test]
fn bundled_resources_are_the_practice_content() {
    let config: Value = serde_json::from_str(include_str!("../tauri.conf.json")).expect("config");
    let resources = config["bundle"]["resources"]
        .as_object()
        .expect("bundle.resources maps source folders to resource folders");
    let installed = tempfile::tempdir().expect("temp dir");
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (source, target) in resources {
        let target = target.as_str().expect("target path");
        assert!(
            target.starts_with(&format!("{}/", crate::CONTENT_RESOURCE)),
            "every resource lands under content/, where the app looks: {target}"
        );
        copy_tree(&manifest_dir.join(source), &installed.path().join(target));
    }
    // Every content folder the app reads is shipped whole; only the demo
    // world (the platform's, for `--demo`) stays out.
    let repository_content = manifest_dir.join("../content");
    let installed_content = installed.path().join(crate::CONTENT_RESOURCE);
    for entry in std::fs::read_dir(&repository_content).expect("content/") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if !entry.path().is_dir() || name == "demo" {
            continue;
        }
        assert_eq!(
            count_files(&installed_content.join(&name)),
            count_files(&entry.path()),
            "content/{} ships whole in the package",
            name.to_string_lossy()
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app(dir.path());
    let main = window(&app, "main");
    app.state::<Workstation>()
        .set_content_dir(installed_content);
    let catalog = invoke(&main, "practice_catalog", json!({}))
        .expect("the bundled content loads without problems");
    let scenarios = catalog["scenarios"].as_array().expect("scenarios");
    assert!(
        scenarios.len() >= 10,
        "the practice scenarios ship with the app: {catalog}"
    );
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|entry| entry.expect("entry").path())
        .map(|path| if path.is_dir() { count_files(&path) } else { 1 })
        .sum()
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy file");
        }
    }
}
