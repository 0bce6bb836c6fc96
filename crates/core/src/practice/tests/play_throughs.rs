//! The bundled scenarios: every scripted play-through leads where it says.

use std::path::Path;

use super::*;

/// Plays every scripted play-through in `content/scenarios/answers/` and
/// checks what it must lead to. The files are loaded (and checked) by the
/// content crate, exactly as `homedesk-cli` and the app load them.
#[test]
fn every_bundled_play_through_leads_where_it_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/scenarios");
    if !dir.is_dir() {
        return;
    }
    let set = homedesk_content::load_scenarios_dir(&dir, None, None).unwrap_or_else(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("the bundled scenarios load:\n{}", lines.join("\n"))
    });
    assert!(!set.docs.is_empty(), "scenarios are bundled");

    let mut failures = Vec::new();
    let mut played = 0;
    for doc in &set.docs {
        let Some(file) = set.plays.get(&doc.id) else {
            failures.push(format!("{}: no play-throughs in answers/", doc.id));
            continue;
        };
        for expected in &file.plays {
            played += 1;
            let report = play(doc, &expected.steps);
            let mut wrong = Vec::new();
            if report.passed != expected.expect_pass {
                wrong.push(format!(
                    "passed {} (expected {}) with {}%",
                    report.passed, expected.expect_pass, report.percent
                ));
            }
            let missed: Vec<&str> = report
                .items
                .iter()
                .filter(|item| !item.met)
                .map(|item| item.id.as_str())
                .collect();
            let not_missed: Vec<&String> = expected
                .expect_missed
                .iter()
                .filter(|id| !missed.contains(&id.as_str()))
                .collect();
            if !not_missed.is_empty() {
                wrong.push(format!(
                    "expected to miss {not_missed:?} but missed only {missed:?}"
                ));
            }
            if let Some(turn) = &expected.expect_end_turn
                && &report.end_turn != turn
            {
                wrong.push(format!(
                    "ended in turn {} (expected {turn})",
                    report.end_turn
                ));
            }
            if let Some(escalated) = expected.expect_escalated
                && report.escalated != escalated
            {
                wrong.push(format!(
                    "escalated {} (expected {escalated})",
                    report.escalated
                ));
            }
            if !wrong.is_empty() {
                let items: Vec<String> = report
                    .items
                    .iter()
                    .map(|item| {
                        format!(
                            "    {} {}: {}",
                            if item.met { "met   " } else { "MISSED" },
                            item.id,
                            item.reason
                        )
                    })
                    .collect();
                failures.push(format!(
                    "{} / {:?}: {}\n{}",
                    doc.id,
                    expected.name,
                    wrong.join("; "),
                    items.join("\n")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {played} bundled play-throughs do not lead where they say:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(played > 0, "the bundled scenarios have play-throughs");
}
