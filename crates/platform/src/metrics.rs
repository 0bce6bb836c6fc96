//! Counters for `GET /metrics`, in the Prometheus text format.
//!
//! Written by hand rather than with the `prometheus` crates: seven counters
//! and a gauge fit in this file, and the text format is stable and simple.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
}

/// Each metric's help text, in output order.
const HELP: [(&str, &str); 14] = [
    (
        "homedesk_http_requests_total",
        "HTTP requests by route and status",
    ),
    ("homedesk_actions_total", "Agent actions by verdict"),
    (
        "homedesk_changes_served_total",
        "Change-log entries sent to workstations",
    ),
    ("homedesk_offers_total", "Contact offers by outcome"),
    (
        "homedesk_ingress_total",
        "Customer messages received by channel",
    ),
    ("homedesk_sign_ins_total", "Sign-in attempts by result"),
    (
        "homedesk_sign_in_failures_total",
        "Failed sign-ins by reason (unknown_agent, wrong_password, disabled)",
    ),
    (
        "homedesk_sign_in_throttled_total",
        "Sign-ins refused unchecked, by what was limited (agent, address, busy)",
    ),
    (
        "homedesk_egress_total",
        "Attempts to push replies to adapters' webhooks by outcome",
    ),
    (
        "homedesk_attachments_total",
        "Photo uploads by uploader and result",
    ),
    (
        "homedesk_webchat_sessions_total",
        "Web chat customers created",
    ),
    (
        "homedesk_webchat_limited_total",
        "Web chat requests refused by a rate limit, by what was limited",
    ),
    (
        "homedesk_update_checks_total",
        "Workstations' update checks by answer (update offered, or current)",
    ),
    (
        "homedesk_update_downloads_total",
        "Update package downloads by result (full, partial, not_modified, range_refused, damaged)",
    ),
];

impl Metrics {
    /// Adds `by` to `name{labels}`; `labels` is already formatted, e.g. `status="applied"`.
    pub fn add(&self, name: &'static str, labels: String, by: u64) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *counters.entry((name, labels)).or_default() += by;
    }

    pub fn inc(&self, name: &'static str, labels: String) {
        self.add(name, labels, 1);
    }

    /// The exposition text; `event_streams` is the current gauge value.
    pub fn render(&self, event_streams: u32) -> String {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let mut any = false;
            for ((n, labels), value) in counters.iter() {
                if *n == name {
                    any = true;
                    if labels.is_empty() {
                        let _ = writeln!(out, "{name} {value}");
                    } else {
                        let _ = writeln!(out, "{name}{{{labels}}} {value}");
                    }
                }
            }
            // The one unlabelled counter is shown from the start.
            if !any && name == "homedesk_changes_served_total" {
                let _ = writeln!(out, "{name} 0");
            }
        }
        let _ = writeln!(
            out,
            "# HELP homedesk_event_streams Open server-sent event streams\n\
             # TYPE homedesk_event_streams gauge\nhomedesk_event_streams {event_streams}"
        );
        out
    }
}

/// File in the data folder holding the token `GET /metrics` requires when
/// the config gives none (`metrics_token`).
pub const TOKEN_FILE: &str = "metrics-token";

/// The metrics token kept in `dir`: read, or made (random, owner-only) at
/// first start.
pub fn folder_token(dir: &std::path::Path) -> anyhow::Result<String> {
    let path = dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            crate::owner_only::restrict(&path)?;
            Ok(text.trim().to_owned())
        }
        Ok(_) => make_token(&path),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => make_token(&path),
        Err(err) => Err(anyhow::Error::new(err).context(format!("reading {}", path.display()))),
    }
}

fn make_token(path: &std::path::Path) -> anyhow::Result<String> {
    let token = crate::auth::random_token(24);
    crate::owner_only::write(path, format!("{token}\n").as_bytes())?;
    Ok(token)
}

/// Whether `presented` is the metrics token, compared in constant time.
pub fn token_matches(expected: &str, presented: &str) -> bool {
    let (a, b) = (expected.as_bytes(), presented.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
