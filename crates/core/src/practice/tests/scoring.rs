//! Scoring: each rubric check met and missed, with its reason, points and pass mark.

use super::*;

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
