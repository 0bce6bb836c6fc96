//! Branching: the opening, reactions to replies, articles, script steps and the wrap-up.

use homedesk_content::scenario::Mood;

use super::*;

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
