//! The simulator on a fake clock: branching, patience, every rubric check
//! met and missed, and every bundled scenario's scripted play-throughs.
//! This module holds the shared scenario and play-step helpers.

mod branching;
mod patience;
mod play_throughs;
mod report;
mod scoring;

use homedesk_content::scenario::{PlayStep, ScenarioDoc};

use super::*;

const SEC: i64 = 1000;
/// An arbitrary start, so nothing depends on the contact arriving at 0.
const T0: i64 = 1_700_000_000_000;

/// A small English scenario: a parcel question with three turns. Patience:
/// nudge after 60 s, escalate after 120 s. `rubric_items` are appended.
fn parcel(rubric_items: &str) -> ScenarioDoc {
    let text = format!(
        r#"
id = "sc-en-test"
locale = "en"
title = "Where is my parcel"
level = "easy"
channel = "chat"
category = "delivery"
summary = "A test."
opening = "Where is my parcel?"

[customer]
name = "Ann"
phone = "13800000000"
persona = "Tester."
mood = "calm"

[patience]
nudge_after_secs = 60
nudge = "Hello?"
escalate_after_secs = 120
escalation = "I want a manager."

[intents]
apology = ["sorry", "apologise"]
refund = ["refund", "money back"]

[[turn]]
id = "start"

[[turn.reaction]]
when = {{ keywords = ["Order Number"] }}
say = "It is A123."
next = "checking"

[[turn.reaction]]
when = {{ intent = "apology" }}
say = "Fine, but where is it?"
mood = "calm"

[[turn.reaction]]
when = {{ article = "kb-en-stuck" }}
say = "Are you looking it up?"

[[turn.reaction]]
when = {{ any_reply = true }}
say = "Just tell me where it is."
mood = "impatient"

[[turn]]
id = "checking"

[[turn.reaction]]
when = {{ script_step = "parcel#locate" }}
next = "located"

[[turn.reaction]]
when = {{ keywords = ["warehouse"] }}
say = "Thanks, that helps."
next = "located"
mood = "calm"

[[turn]]
id = "located"

[[turn.reaction]]
when = {{ disposition = "info_given" }}
say = "Bye."
next = "done"

[[turn.reaction]]
when = {{ any_reply = true }}
say = "OK, thanks."

[[turn]]
id = "done"

[rubric]
pass_mark = 60
response_secs = 30
disposition = "info_given"
helpful_article = "kb-en-stuck"
{rubric_items}
"#
    );
    toml::from_str(&text).unwrap_or_else(|err| panic!("test scenario parses: {err}"))
}

const BASIC_ITEMS: &str = r#"
[[rubric.item]]
id = "asked_order"
description = "Ask for the order number."
points = 10
check = { did = { keywords = ["order number"] } }
"#;

fn texts(messages: &[CustomerMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.text.as_str()).collect()
}

fn item<'a>(report: &'a ScoreReport, id: &str) -> &'a RubricResult {
    report
        .items
        .iter()
        .find(|item| item.id == id)
        .unwrap_or_else(|| panic!("rubric item {id} is in the report"))
}

fn step(at_secs: u32) -> PlayStep {
    PlayStep {
        at_secs,
        reply: None,
        article: None,
        script_step: None,
        wrap_up: None,
    }
}

fn reply(at_secs: u32, text: &str) -> PlayStep {
    PlayStep {
        reply: Some(text.to_owned()),
        ..step(at_secs)
    }
}

fn article(at_secs: u32, id: &str) -> PlayStep {
    PlayStep {
        article: Some(id.to_owned()),
        ..step(at_secs)
    }
}

fn script(at_secs: u32, step_id: &str) -> PlayStep {
    PlayStep {
        script_step: Some(step_id.to_owned()),
        ..step(at_secs)
    }
}

fn wrap(at_secs: u32, code: &str) -> PlayStep {
    PlayStep {
        wrap_up: Some(code.to_owned()),
        ..step(at_secs)
    }
}

const ALL_CHECKS: &str = r#"
[[rubric.item]]
id = "asked_order"
description = "Ask for the order number."
points = 10
check = { did = { keywords = ["order number"] } }

[[rubric.item]]
id = "apologised"
description = "Apologise."
points = 10
check = { did = { intent = "apology" } }

[[rubric.item]]
id = "used_article"
description = "Look up the stuck-parcel article."
points = 10
check = { did = { article = "kb-en-stuck" } }

[[rubric.item]]
id = "located"
description = "Follow the script to locate the parcel."
points = 10
check = { did = { script_step = "parcel#locate" } }

[[rubric.item]]
id = "replied"
description = "Reply at all."
points = 10
check = { did = { any_reply = true } }

[[rubric.item]]
id = "no_early_refund"
description = "No refund promise before asking for the order number."
points = 20
check = { avoid = { phrases = ["intent:refund", "guarantee"], unless_after = "asked_order", reason = "Check the order before promising a refund." } }

[[rubric.item]]
id = "in_time"
description = "Reply within 30 seconds."
points = 10
check = { respond_in_time = true }

[[rubric.item]]
id = "calm"
description = "Keep the customer from escalating."
points = 10
check = { no_escalation = true }

[[rubric.item]]
id = "disposition"
description = "Wrap up as info_given."
points = 10
check = { correct_disposition = true }
"#;
