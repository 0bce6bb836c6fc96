//! Patience on a fake clock: nudges, escalation and waits that restart.

use homedesk_content::scenario::Mood;

use super::*;

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
