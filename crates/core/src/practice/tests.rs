//! The simulator on a fake clock: branching, patience, every rubric check
//! met and missed, and every bundled scenario's scripted play-throughs.

use std::path::Path;

use homedesk_content::scenario::{Mood, PlayStep, ScenarioDoc};

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

// ---------------------------------------------------------------------------
// Branching.

#[test]
fn the_opening_starts_the_contact_in_the_first_turn() {
    let doc = parcel(BASIC_ITEMS);
    let (sim, opening) = Simulation::start(&doc, T0);
    assert_eq!(opening.text, "Where is my parcel?");
    assert_eq!(opening.kind, CustomerMessageKind::Opening);
    assert_eq!(opening.at_ms, T0);
    assert_eq!(sim.turn_id(), "start");
    assert_eq!(sim.mood(), Mood::Calm);
    assert!(!sim.customer_done() && !sim.is_over() && !sim.escalated());
    assert_eq!(sim.log().len(), 1, "the log starts with the opening");
}

#[test]
fn the_first_matching_reaction_fires_and_moves_the_customer_on() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);

    // Matches the apology intent *and* any_reply: only the first fires.
    let said = sim.reply(T0 + 5 * SEC, "I am SORRY for the wait");
    assert_eq!(texts(&said), ["Fine, but where is it?"]);
    assert_eq!(said[0].kind, CustomerMessageKind::Reaction);
    assert_eq!(said[0].at_ms, T0 + 5 * SEC);
    assert_eq!(sim.turn_id(), "start", "a reaction without next stays");

    // Nothing specific: the any_reply fallback, with its mood.
    let said = sim.reply(T0 + 10 * SEC, "Let me see.");
    assert_eq!(texts(&said), ["Just tell me where it is."]);
    assert_eq!(sim.mood(), Mood::Impatient);

    // Keywords are matched case-insensitively, as substrings.
    let said = sim.reply(T0 + 15 * SEC, "What is your order number?");
    assert_eq!(texts(&said), ["It is A123."]);
    assert_eq!(sim.turn_id(), "checking");
}

#[test]
fn full_width_letters_from_a_chinese_input_method_match_ascii_keywords() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    let said = sim.reply(T0 + SEC, "ＯＲＤＥＲ ＮＵＭＢＥＲ please");
    assert_eq!(texts(&said), ["It is A123."]);
}

#[test]
fn articles_script_steps_and_the_wrap_up_trigger_reactions() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);

    let said = sim.article(T0 + 2 * SEC, "kb-en-stuck");
    assert_eq!(texts(&said), ["Are you looking it up?"]);
    assert!(
        sim.article(T0 + 3 * SEC, "kb-en-other").is_empty(),
        "another article is not the one the reaction waits for"
    );

    sim.reply(T0 + 5 * SEC, "Your order number, please?");
    assert_eq!(sim.turn_id(), "checking");
    assert!(
        sim.reply(T0 + 8 * SEC, "Hmm.").is_empty(),
        "no reaction matches: the customer says nothing"
    );
    assert!(sim.script_step(T0 + 9 * SEC, "parcel#other").is_empty());
    let said = sim.script_step(T0 + 10 * SEC, "parcel#locate");
    assert!(said.is_empty(), "an empty say moves on silently");
    assert_eq!(sim.turn_id(), "located");

    let said = sim.wrap_up(T0 + 20 * SEC, "info_given");
    assert_eq!(texts(&said), ["Bye."]);
    assert_eq!(sim.turn_id(), "done");
    assert!(sim.is_over() && sim.customer_done());
    assert_eq!(sim.disposition(), Some("info_given"));
}

#[test]
fn a_turn_without_reactions_means_the_customer_is_done() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.reply(T0 + SEC, "order number?");
    sim.reply(T0 + 2 * SEC, "It is in the warehouse.");
    sim.wrap_up(T0 + 3 * SEC, "info_given");
    assert!(sim.customer_done());

    // A scenario whose first turn has no reactions: nobody waits.
    let mut doc = parcel(BASIC_ITEMS);
    doc.turns.truncate(1);
    doc.turns[0].reactions.clear();
    let (mut sim, _) = Simulation::start(&doc, T0);
    assert!(sim.customer_done());
    assert!(sim.reply(T0 + SEC, "order number?").is_empty());
    assert_eq!(sim.next_deadline(), None);
    assert!(
        sim.advance(T0 + 600 * SEC).is_empty(),
        "a customer who is done never nudges"
    );
}

#[test]
fn the_wrap_up_ends_the_simulation() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.wrap_up(T0 + 10 * SEC, "other");
    let logged = sim.log().len();
    assert!(sim.reply(T0 + 11 * SEC, "order number?").is_empty());
    assert!(
        sim.advance(T0 + 3600 * SEC).is_empty(),
        "no nudge after the end"
    );
    assert_eq!(
        sim.log().len(),
        logged,
        "nothing is logged after the wrap-up"
    );
    assert_eq!(sim.turn_id(), "start");
    assert_eq!(sim.disposition(), Some("other"));
}

// ---------------------------------------------------------------------------
// Patience on a fake clock.

#[test]
fn an_unanswered_customer_nudges_once_then_escalates() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    assert_eq!(sim.next_deadline(), Some(T0 + 60 * SEC));

    assert!(sim.advance(T0 + 59 * SEC).is_empty());
    let said = sim.advance(T0 + 61 * SEC);
    assert_eq!(texts(&said), ["Hello?"]);
    assert_eq!(said[0].kind, CustomerMessageKind::Nudge);
    assert_eq!(said[0].at_ms, T0 + 60 * SEC, "stamped when it was due");
    assert_eq!(sim.mood(), Mood::Impatient);
    assert!(sim.advance(T0 + 100 * SEC).is_empty(), "one nudge per wait");
    assert_eq!(
        sim.next_deadline(),
        Some(T0 + 120 * SEC),
        "the nudge does not restart the wait"
    );

    let said = sim.advance(T0 + 120 * SEC);
    assert_eq!(texts(&said), ["I want a manager."]);
    assert_eq!(said[0].kind, CustomerMessageKind::Escalation);
    assert!(sim.escalated());
    assert_eq!(sim.mood(), Mood::Angry);
    assert_eq!(sim.next_deadline(), None, "nothing more in this wait");
    assert!(sim.advance(T0 + 1000 * SEC).is_empty());
}

#[test]
fn a_late_action_first_finds_everything_the_customer_said_meanwhile() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    let said = sim.reply(T0 + 200 * SEC, "Your order number?");
    assert_eq!(
        texts(&said),
        ["Hello?", "I want a manager.", "It is A123."],
        "nudge, escalation, then the reaction, in order"
    );
    assert_eq!(
        said.iter().map(|m| m.at_ms - T0).collect::<Vec<_>>(),
        [60 * SEC, 120 * SEC, 200 * SEC]
    );
}

#[test]
fn a_reply_ends_the_wait_and_the_next_customer_message_starts_a_new_one() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.advance(T0 + 61 * SEC); // nudged
    sim.reply(T0 + 70 * SEC, "Order number?"); // customer answers at 70
    assert_eq!(sim.next_deadline(), Some(T0 + 130 * SEC));
    let said = sim.advance(T0 + 131 * SEC);
    assert_eq!(texts(&said), ["Hello?"], "a new wait may nudge again");

    // A reply the customer does not react to still ends the wait.
    sim.reply(T0 + 135 * SEC, "One moment.");
    assert_eq!(sim.next_deadline(), None);
    assert!(sim.advance(T0 + 1000 * SEC).is_empty());
}

#[test]
fn a_customer_escalates_once_per_contact() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.advance(T0 + 121 * SEC);
    assert!(sim.escalated());
    sim.reply(T0 + 130 * SEC, "Sorry!"); // the customer writes again
    let said = sim.advance(T0 + 1000 * SEC);
    assert_eq!(texts(&said), ["Hello?"], "only a nudge in the next wait");
}

#[test]
fn an_escalation_due_before_the_nudge_replaces_it() {
    let mut doc = parcel(BASIC_ITEMS);
    doc.patience.nudge_after_secs = 120;
    doc.patience.escalate_after_secs = 90;
    let (mut sim, _) = Simulation::start(&doc, T0);
    let said = sim.advance(T0 + 500 * SEC);
    assert_eq!(texts(&said), ["I want a manager."]);
}

#[test]
fn time_never_runs_backwards() {
    let doc = parcel(BASIC_ITEMS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.advance(T0 + 50 * SEC);
    sim.reply(T0 + 10 * SEC, "Order number?");
    assert_eq!(sim.now_ms(), T0 + 50 * SEC);
    match sim.log().last() {
        Some(SimEvent::Customer(message)) => assert_eq!(message.at_ms, T0 + 50 * SEC),
        other => panic!("the customer reacted last: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Scoring: each check met and missed.

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

fn good_play() -> Vec<PlayStep> {
    vec![
        reply(10, "Sorry for the wait! What is your order number?"),
        article(20, "kb-en-stuck"),
        script(25, "parcel#locate"),
        reply(
            30,
            "It is at the warehouse; if it is lost you get a refund.",
        ),
        wrap(40, "info_given"),
    ]
}

#[test]
fn a_good_play_meets_every_check() {
    let doc = parcel(ALL_CHECKS);
    let report = play(&doc, &good_play());
    let missed: Vec<&str> = report
        .items
        .iter()
        .filter(|item| !item.met)
        .map(|item| item.id.as_str())
        .collect();
    assert!(missed.is_empty(), "missed {missed:?}: {:#?}", report.items);
    assert_eq!((report.points_got, report.points_total), (100, 100));
    assert_eq!(report.percent, 100);
    assert!(report.passed);
    assert_eq!(report.end_turn, "done");
    assert!(!report.escalated);
    assert_eq!(report.helpful_article, None, "the article was used");
    assert_eq!(report.disposition.as_deref(), Some("info_given"));
    assert_eq!(
        item(&report, "asked_order").reason,
        "The reply at 0:10 said “order number”: “…it! What is your order number?”"
    );
    assert_eq!(
        item(&report, "used_article").reason,
        "Used article kb-en-stuck at 0:20"
    );
    assert_eq!(
        item(&report, "in_time").reason,
        "Every reply came within 30 s (slowest 20 s)"
    );
}

#[test]
fn a_poor_play_misses_every_check_with_its_reason() {
    let doc = parcel(ALL_CHECKS);
    let report = play(
        &doc,
        &[
            reply(
                150,
                "We guarantee a refund. Give me the order number and I will check it.",
            ),
            wrap(170, "resolved"),
        ],
    );
    let met: Vec<&str> = report
        .items
        .iter()
        .filter(|item| item.met)
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(
        met,
        ["asked_order", "replied", "no_early_refund"],
        "the reply that asks for the order may mention the refund in the same breath"
    );
    assert_eq!(
        item(&report, "apologised").reason,
        "No reply said anything like “sorry” or “apologise”"
    );
    assert_eq!(
        item(&report, "used_article").reason,
        "Article kb-en-stuck was not used"
    );
    assert_eq!(
        item(&report, "located").reason,
        "Script step parcel#locate was not reached"
    );
    assert_eq!(
        item(&report, "in_time").reason,
        "The reply at 2:30 was late: the customer waited 150 s against a target of 30 s (120 s over)"
    );
    assert_eq!(
        item(&report, "calm").reason,
        "The customer waited 120 s without a reply and escalated at 2:00"
    );
    assert_eq!(
        item(&report, "disposition").reason,
        "Wrapped up as resolved; the right disposition is info_given"
    );
    assert_eq!((report.points_got, report.points_total), (40, 100));
    assert_eq!(report.percent, 40);
    assert!(!report.passed);
    assert!(report.escalated);
    assert_eq!(report.helpful_article.as_deref(), Some("kb-en-stuck"));
    assert_eq!(report.end_turn, "checking");
}

#[test]
fn did_checks_on_keywords_replies_and_the_wrap_up_miss_with_their_reasons() {
    let mut doc = parcel(
        r#"
[[rubric.item]]
id = "said"
description = "Say it."
points = 1
check = { did = { keywords = ["warehouse", "depot"] } }

[[rubric.item]]
id = "replied"
description = "Reply."
points = 1
check = { did = { any_reply = true } }

[[rubric.item]]
id = "closed"
description = "Close as info_given."
points = 1
check = { did = { disposition = "info_given" } }
"#,
    );
    let report = play(&doc, &[]);
    assert_eq!(
        item(&report, "said").reason,
        "No reply mentioned “warehouse” or “depot”"
    );
    assert_eq!(
        item(&report, "replied").reason,
        "The customer never got a reply"
    );
    assert_eq!(
        item(&report, "closed").reason,
        "Not wrapped up as info_given"
    );

    let report = play(&doc, &[wrap(5, "info_given")]);
    assert!(item(&report, "closed").met);
    assert_eq!(
        item(&report, "closed").reason,
        "Wrapped up as info_given at 0:05"
    );

    doc.locale = "zh-CN".into();
    let report = play(&doc, &[]);
    assert_eq!(
        item(&report, "said").reason,
        "没有一条回复提到“warehouse”或“depot”"
    );
    assert_eq!(item(&report, "replied").reason, "一直没有回复客户");
}

#[test]
fn long_word_lists_are_shortened_in_reasons() {
    let items = r#"
[[rubric.item]]
id = "said"
description = "Say one of them."
points = 1
check = { did = { keywords = ["a1", "a2", "a3", "a4", "a5", "a6"] } }
"#;
    let mut doc = parcel(items);
    let report = play(&doc, &[]);
    assert_eq!(
        item(&report, "said").reason,
        "No reply mentioned “a1”, “a2”, “a3”, “a4”, “a5” or the like"
    );
    doc.locale = "zh-CN".into();
    let report = play(&doc, &[]);
    assert_eq!(
        item(&report, "said").reason,
        "没有一条回复提到“a1”、“a2”、“a3”、“a4”、“a5”等"
    );
}

#[test]
fn avoid_without_unless_after_is_missed_whenever_said() {
    let doc = parcel(
        r#"
[[rubric.item]]
id = "no_promise"
description = "Never promise."
points = 10
check = { avoid = { phrases = ["Guarantee", "intent:refund"], reason = "Nobody can promise that." } }
"#,
    );
    let report = play(
        &doc,
        &[reply(5, "Hello"), reply(9, "I will get your MONEY BACK")],
    );
    let result = item(&report, "no_promise");
    assert!(!result.met);
    assert_eq!(
        result.reason,
        "Nobody can promise that. The reply at 0:09 said “money back”: “I will get your MONEY BACK”"
    );

    let report = play(&doc, &[reply(5, "Hello")]);
    let result = item(&report, "no_promise");
    assert!(result.met);
    assert_eq!(
        result.reason,
        "Never said “Guarantee”, “refund” or “money back”"
    );
}

#[test]
fn avoid_with_unless_after_judges_only_what_came_before() {
    let doc = parcel(ALL_CHECKS);
    // Said before the order number was asked for: too early.
    let report = play(
        &doc,
        &[
            reply(5, "You will get a refund."),
            reply(10, "What is the order number?"),
        ],
    );
    let result = item(&report, "no_early_refund");
    assert!(!result.met);
    assert_eq!(
        result.reason,
        "Check the order before promising a refund. The reply at 0:05 said “refund”: “You will get a refund.”"
    );

    // Said after: fine.
    let report = play(
        &doc,
        &[
            reply(5, "What is the order number?"),
            reply(10, "You will get a refund."),
        ],
    );
    let result = item(&report, "no_early_refund");
    assert!(result.met);
    assert_eq!(
        result.reason,
        "Did not say “refund”, “money back” or “guarantee” before: Ask for the order number."
    );

    // Never unlocked: any mention is too early.
    let report = play(&doc, &[reply(50, "A refund is on its way.")]);
    assert!(!item(&report, "no_early_refund").met);
}

#[test]
fn respond_in_time_measures_each_reply_from_the_message_it_answers() {
    let doc = parcel(ALL_CHECKS);
    // 10 s to the first reply; the customer answers at 10, the next reply
    // comes 25 s later; a second reply in a row is not a response time.
    let report = play(
        &doc,
        &[
            reply(10, "Order number?"),
            reply(35, "Checking…"),
            reply(36, "Still checking…"),
            wrap(40, "info_given"),
        ],
    );
    assert!(item(&report, "in_time").met);
    assert_eq!(
        report
            .response_times
            .iter()
            .map(|t| (t.customer_at_secs, t.reply_at_secs, t.secs, t.on_time))
            .collect::<Vec<_>>(),
        [
            (0, Some(10), Some(10), true),
            (10, Some(35), Some(25), true)
        ]
    );
    assert_eq!(report.response_times[1].customer_text, "It is A123.");

    // One late reply misses the item, even if the others were quick.
    let report = play(
        &doc,
        &[
            reply(10, "Order number?"),
            reply(45, "Checking…"),
            wrap(50, "info_given"),
        ],
    );
    let result = item(&report, "in_time");
    assert!(!result.met);
    assert_eq!(
        result.reason,
        "The reply at 0:45 was late: the customer waited 35 s against a target of 30 s (5 s over)"
    );

    // Never replied.
    let report = play(&doc, &[wrap(5, "info_given")]);
    let result = item(&report, "in_time");
    assert!(!result.met);
    assert_eq!(result.reason, "You never replied to the customer");
}

#[test]
fn the_first_reply_is_measured_from_the_opening() {
    let doc = parcel(ALL_CHECKS);
    // The article makes the customer write at 25; the first reply at 40 is
    // 15 s after that, but 40 s after the opening: late.
    let report = play(
        &doc,
        &[article(25, "kb-en-stuck"), reply(40, "Order number?")],
    );
    assert!(!item(&report, "in_time").met);
    assert_eq!(report.response_times[0].customer_at_secs, 0);
    assert_eq!(report.response_times[0].secs, Some(40));
}

#[test]
fn a_contact_left_open_shows_the_customer_still_waiting() {
    let doc = parcel(ALL_CHECKS);
    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.reply(T0 + 5 * SEC, "Order number?");
    let report = sim.report();
    let last = report.response_times.last().expect("a response time");
    assert_eq!(
        (last.customer_at_secs, last.reply_at_secs, last.secs),
        (5, None, None)
    );
    assert!(!last.on_time);
    assert_eq!(
        item(&report, "disposition").reason,
        "The contact was never wrapped up (it should be info_given)"
    );
    assert_eq!(report.disposition, None);
}

#[test]
fn points_are_summed_and_the_pass_mark_is_inclusive() {
    let doc = parcel(ALL_CHECKS); // pass mark 60
    // Met: replied, no_early_refund, in_time, calm, disposition = 60 of 100.
    let report = play(&doc, &[reply(5, "Hi."), wrap(10, "info_given")]);
    assert_eq!(report.points_got, 60);
    assert_eq!(report.percent, 60);
    assert!(report.passed, "exactly the pass mark passes");

    let mut doc = parcel(ALL_CHECKS);
    doc.rubric.pass_mark = 61;
    let report = play(&doc, &[reply(5, "Hi."), wrap(10, "info_given")]);
    assert!(!report.passed);
}

#[test]
fn reasons_follow_the_scenario_language() {
    let mut doc = parcel(ALL_CHECKS);
    doc.locale = "zh-CN".into();
    doc.rubric.items.iter_mut().for_each(|item| {
        if let homedesk_content::scenario::Check::Avoid(avoid) = &mut item.check {
            avoid.reason = "先核实订单再谈退款。".into();
        }
    });
    let report = play(
        &doc,
        &[reply(150, "退款 refund 没问题"), wrap(170, "resolved")],
    );
    assert_eq!(
        item(&report, "no_early_refund").reason,
        "先核实订单再谈退款。2:30 的回复说了“refund”：“退款 refund 没问题”"
    );
    assert_eq!(
        item(&report, "in_time").reason,
        "2:30 的回复晚了：客户等了 150 秒，目标 30 秒，超出 120 秒"
    );
    assert_eq!(
        item(&report, "calm").reason,
        "客户等了 120 秒没有得到回复，在 2:00 升级投诉"
    );
    assert_eq!(
        item(&report, "disposition").reason,
        "结束时选择了 resolved，应该是 info_given"
    );
    assert_eq!(
        item(&report, "used_article").reason,
        "没有使用知识库文章 kb-en-stuck"
    );
    assert_eq!(
        item(&report, "located").reason,
        "没有走到话术步骤 parcel#locate"
    );
    assert_eq!(
        item(&report, "apologised").reason,
        "没有一条回复有这类说法：“sorry”或“apologise”"
    );
}

#[test]
fn the_replay_has_every_message_and_action_with_its_offset() {
    let doc = parcel(BASIC_ITEMS);
    let report = play(
        &doc,
        &[
            reply(70, "Order number?"),
            article(75, "kb-en-stuck"),
            script(80, "parcel#locate"),
            wrap(90, "info_given"),
        ],
    );
    let replay: Vec<(u32, ReplayKind, &str)> = report
        .replay
        .iter()
        .map(|e| (e.at_secs, e.kind, e.text.as_str()))
        .collect();
    assert_eq!(
        replay,
        [
            (0, ReplayKind::Customer, "Where is my parcel?"),
            (60, ReplayKind::Nudge, "Hello?"),
            (70, ReplayKind::Reply, "Order number?"),
            (70, ReplayKind::Customer, "It is A123."),
            (75, ReplayKind::Article, "kb-en-stuck"),
            (80, ReplayKind::ScriptStep, "parcel#locate"),
            (90, ReplayKind::WrapUp, "info_given"),
            (90, ReplayKind::Customer, "Bye."),
        ]
    );
    assert_eq!(report.duration_secs, 90);
}

#[test]
fn a_play_without_a_wrap_up_runs_until_the_customer_gives_up() {
    let doc = parcel(ALL_CHECKS);
    let report = play(&doc, &[reply(5, "Order number?")]);
    assert!(report.escalated, "left waiting, the customer escalates");
    assert_eq!(report.duration_secs, 125);
    assert_eq!(report.end_turn, "checking");
}

#[test]
fn a_reply_quoting_an_article_counts_as_using_it_when_texts_are_known() {
    let doc = parcel(ALL_CHECKS);
    let quoting = "Parcels stuck at a transit hub move again within 48 hours.";
    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.reply(T0 + 5 * SEC, quoting);
    assert_eq!(
        sim.report().helpful_article.as_deref(),
        Some("kb-en-stuck"),
        "without the article texts a reply is only a reply"
    );

    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.set_article_texts([(
        "kb-en-stuck".to_owned(),
        "# Stuck parcels\n\nParcels  stuck at a transit hub\nmove again within 48 hours. Ask the courier.".to_owned(),
    )]);
    let said = sim.reply(T0 + 5 * SEC, quoting);
    assert_eq!(
        texts(&said),
        ["Are you looking it up?"],
        "the article reaction fires"
    );
    let report = sim.report();
    assert!(item(&report, "used_article").met);
    assert_eq!(report.helpful_article, None);

    let (mut sim, _) = Simulation::start(&doc, T0);
    sim.set_article_texts([(
        "kb-en-stuck".to_owned(),
        "Parcels stuck at a hub".to_owned(),
    )]);
    sim.reply(T0 + 5 * SEC, "Parcels are fine.");
    assert!(
        !item(&sim.report(), "used_article").met,
        "fewer than 12 characters in common is not a quote"
    );
}

#[test]
fn the_report_serialises_in_camel_case_for_the_app() {
    let doc = parcel(BASIC_ITEMS);
    let report = play(&doc, &[reply(5, "Order number?"), wrap(9, "info_given")]);
    let json = serde_json::to_value(&report).expect("serialises");
    for key in [
        "scenarioId",
        "title",
        "locale",
        "pointsGot",
        "pointsTotal",
        "percent",
        "passMark",
        "passed",
        "items",
        "responseTargetSecs",
        "responseTimes",
        "escalated",
        "disposition",
        "expectedDisposition",
        "helpfulArticle",
        "endTurn",
        "durationSecs",
        "replay",
    ] {
        assert!(json.get(key).is_some(), "{key} is in the report: {json}");
    }
    assert_eq!(json["items"][0]["check"], "did");
    assert_eq!(json["items"][0]["pointsGot"], 10);
    assert_eq!(json["replay"][1]["kind"], "reply");
    assert_eq!(json["replay"][1]["atSecs"], 5);
    assert_eq!(json["responseTimes"][0]["replyAtSecs"], 5);
}

// ---------------------------------------------------------------------------
// The bundled scenarios.

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
