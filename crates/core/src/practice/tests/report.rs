//! The rest of the report: the replay, a play without a wrap-up, quoted
//! articles, and its JSON shape.

use super::*;

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
