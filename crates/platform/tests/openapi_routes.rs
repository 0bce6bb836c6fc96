//! `docs/openapi.yaml` lists exactly the endpoints the router serves.
//!
//! The file is written by hand (docs/decisions/0020-openapi-contract.md says
//! why), so this test keeps its list of operations from drifting: every
//! (method, path) the router registers must be in the file and every one in
//! the file must be registered; routes are added only through the one table
//! in `http.rs` (checked in the source); the real server answers 405 for
//! exactly the methods the file leaves out; and every operation states the
//! protocol header with the pattern the server enforces. What each operation
//! accepts and answers is checked by the Schemathesis run (`make conformance`).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use support::Server;

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

fn openapi_text() -> String {
    std::fs::read_to_string(repo_file("docs/openapi.yaml")).expect("docs/openapi.yaml is readable")
}

const HOW_TO: &str = "see docs/development.md, \"Adding an endpoint\"";

/// One operation of the file: its method, path and the lines of its block.
struct Operation {
    method: String,
    path: String,
    block: String,
}

/// The operations under `paths:`, read by indentation (paths at two spaces,
/// methods at four), which is how the file is written.
fn operations(yaml: &str) -> Vec<Operation> {
    let mut in_paths = false;
    let mut path: Option<String> = None;
    let mut found: Vec<Operation> = Vec::new();
    for line in yaml.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = line.trim_end() == "paths:";
            path = None;
            continue;
        }
        if !in_paths || line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let key = line.trim().strip_suffix(':');
        match (indent, key) {
            (2, Some(p)) => path = Some(p.to_owned()),
            (4, Some(m))
                if [
                    "get", "put", "post", "delete", "patch", "head", "options", "trace",
                ]
                .contains(&m) =>
            {
                let path = path.clone().expect("a method sits under a path");
                found.push(Operation {
                    method: m.to_uppercase(),
                    path,
                    block: String::new(),
                });
            }
            (0..=4, _) => {}
            _ => {
                if let Some(op) = found.last_mut() {
                    op.block.push_str(line);
                    op.block.push('\n');
                }
            }
        }
    }
    found
}

#[test]
fn the_file_and_the_router_list_the_same_endpoints() {
    let yaml = openapi_text();
    let documented: BTreeSet<(String, String)> = operations(&yaml)
        .into_iter()
        .map(|op| (op.method, op.path))
        .collect();
    let served: BTreeSet<(String, String)> = homedesk_platform::http::endpoints()
        .into_iter()
        .map(|e| (e.method.to_owned(), e.path.to_owned()))
        .collect();
    assert!(
        served.len() >= 12,
        "the router lists its endpoints: {served:?}"
    );
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let missing: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in docs/openapi.yaml: {undocumented:?}; {HOW_TO}"
    );
    assert!(
        missing.is_empty(),
        "in docs/openapi.yaml but not served: {missing:?}; {HOW_TO}"
    );
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn routes_are_added_only_through_the_endpoint_table() {
    let mut files = Vec::new();
    rust_files(&repo_file("crates/platform/src"), &mut files);
    let mut routes = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source is readable");
        for (n, line) in text.lines().enumerate() {
            for call in [
                ".route(",
                ".route_service(",
                ".nest(",
                ".nest_service(",
                ".merge(",
                ".fallback_service(",
            ] {
                if line.contains(call) {
                    routes.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert_eq!(
        routes.len(),
        1,
        "only `Endpoints::add` in http.rs adds a route, so `endpoints()` sees them all; \
         register new endpoints in `api()` ({HOW_TO}). Found: {routes:#?}"
    );
    assert!(
        routes[0].contains("http.rs") && routes[0].contains("self.router.route(endpoint.path"),
        "the one route call is Endpoints::add: {routes:?}"
    );
}

#[test]
fn every_operation_states_the_protocol_header_the_server_enforces() {
    let yaml = openapi_text();
    let pattern_line = format!("pattern: '{}'", homedesk_protocol::PROTOCOL_HEADER_PATTERN);
    let parameter = yaml
        .split("\n    ProtocolHeader:\n")
        .nth(1)
        .expect("components/parameters/ProtocolHeader");
    let parameter = parameter.split("\n    LinkHeader:").next().unwrap_or("");
    assert!(
        parameter.contains(&pattern_line),
        "ProtocolHeader's schema is `{pattern_line}` (PROTOCOL_HEADER_PATTERN)"
    );
    for op in operations(&yaml) {
        let name = format!("{} {}", op.method, op.path);
        assert!(
            op.block
                .contains("$ref: \"#/components/parameters/ProtocolHeader\""),
            "{name} lists the ProtocolHeader parameter: every request may carry it"
        );
        assert!(
            op.block.contains("\"400\":"),
            "{name} documents 400: a wrong protocol header is refused on every endpoint"
        );
        // Without a `security` of its own an operation takes the file's
        // default, an agent token; with one, what it names.
        let own_security = op.block.lines().any(|l| l.starts_with("      security:"));
        let agent_token = !own_security || op.block.contains("- agentBearer: []");
        let adapter_secret = own_security && op.block.contains("- adapterBearer: []");
        let link_header = op
            .block
            .contains("$ref: \"#/components/parameters/LinkHeader\"");
        if agent_token {
            assert!(
                link_header,
                "{name} takes an agent token, so it reads Homedesk-Link: list LinkHeader"
            );
        } else {
            assert!(
                !link_header,
                "{name} takes no agent token, so Homedesk-Link says nothing there: do not list LinkHeader"
            );
        }
        if agent_token || adapter_secret {
            assert!(
                op.block.contains("\"401\":"),
                "{name} takes a token or an adapter's secret, so it documents 401"
            );
        }
    }
}

#[test]
fn operations_without_their_own_security_take_an_agent_token() {
    let yaml = openapi_text();
    assert!(
        yaml.contains("\nsecurity:\n  - agentBearer: []\n\npaths:"),
        "the file's default security is agentBearer alone, which the check of \
         LinkHeader and 401 above assumes"
    );
}

#[tokio::test]
async fn the_server_refuses_exactly_the_methods_the_file_leaves_out() {
    let yaml = openapi_text();
    let mut methods_by_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for op in operations(&yaml) {
        methods_by_path
            .entry(op.path)
            .or_default()
            .insert(op.method);
    }
    let server = Server::start_demo(&[]);
    for (path, documented) in &methods_by_path {
        let concrete = path
            .replace("{channel}", "chat")
            // A queue of the demo data: any other is the chat's 404 page by design.
            .replace("{queue}", "aftersales")
            .replace("{id}", "conv-x")
            .replace("{message_id}", "m-x");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let response = server
                .client
                .request(
                    Method::from_bytes(method.as_bytes()).expect("method"),
                    format!("{}{concrete}", server.url),
                )
                .send()
                .await
                .expect("the platform answers");
            let status = response.status();
            if documented.contains(method) {
                // A public read of something that does not exist is the
                // handler's own 404 (an update package), not the router's.
                let body = response.text().await.unwrap_or_default();
                assert!(
                    status != StatusCode::METHOD_NOT_ALLOWED
                        && !(status == StatusCode::NOT_FOUND && body.contains("no such endpoint")),
                    "{method} {path} is documented, so the platform serves it (got {status}: {body})"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is not in docs/openapi.yaml, so the platform refuses it; {HOW_TO}"
                );
            }
        }
    }
}
