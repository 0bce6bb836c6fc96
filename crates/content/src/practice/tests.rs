//! Tests of practice content: every check of scenario files, packs and
//! play-throughs, each problem with its file, line and words, and the
//! documented examples.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use tempfile::TempDir;

use super::{check_scenarios, load_scenarios_dir};
use crate::scenario::{Check, Level, Mood, ScenarioDoc, Trigger};
use crate::scripts::read_scripts;
use crate::test_support::{ARTICLE_ZH, NOW, SCRIPT, assert_error, assert_single_error, write};
use crate::{ContentError, Problems, load_content_dir};

pub(crate) const SCENARIO: &str = r#"id = "sc-zh-late-parcel"
locale = "zh-CN"
title = "包裹三天没更新"
level = "easy"
channel = "chat"
category = "delivery"
summary = "客户的包裹物流三天没有更新，想知道到哪了。"
opening = "你好，我的快递三天没动了，怎么回事？"

[customer]
name = "张阿姨"
phone = "13800001234"
city = "赣州"
persona = "六十多岁，第一次网购，打字慢。"
mood = "anxious"

[[customer.order]]
order_no = "TB20240601001"
item = "脐橙 5 斤"
amount_fen = 3990
status = "shipped"
placed_days_ago = 4

[patience]
nudge_after_secs = 60
nudge = "在吗？"
escalate_after_secs = 180
escalation = "怎么没人理我，我要投诉！"

[intents]
apology = ["抱歉", "不好意思", "对不起"]
check = ["查一下", "帮您查", "核实"]
promise = ["赔偿", "包赔"]

[[turn]]
id = "waiting"

[[turn.reaction]]
when = { intent = "check" }
say = "好的，订单号是 TB20240601001。"
next = "checked"

[[turn.reaction]]
when = { any_reply = true }
say = "我就想知道快递到哪了。"

[[turn]]
id = "checked"

[[turn.reaction]]
when = { article = "kb-zh-refund" }
say = "哦，那就好。"
next = "done"

[[turn.reaction]]
when = { script_step = "sc-zh-verify#verify" }
next = "done"
mood = "calm"

[[turn.reaction]]
when = { disposition = "info_given" }
next = "done"

[[turn]]
id = "done"

[rubric]
pass_mark = 70
response_secs = 60
disposition = "info_given"
helpful_article = "kb-zh-refund"

[[rubric.item]]
id = "apologise"
description = "先向客户致歉"
points = 20
check = { did = { intent = "apology" } }

[[rubric.item]]
id = "checked-order"
description = "核实订单后再答复"
points = 30
check = { did = { keywords = ["订单号"] } }

[[rubric.item]]
id = "no-early-promise"
description = "核实前不要承诺赔偿"
points = 20

[rubric.item.check.avoid]
phrases = ["intent:promise", "退钱"]
unless_after = "checked-order"
reason = "还没核实订单就承诺赔偿"

[[rubric.item]]
id = "in-time"
description = "每次回复都在一分钟内"
points = 15
check = { respond_in_time = true }

[[rubric.item]]
id = "wrap-up"
description = "结束时选择“已告知信息”"
points = 15
check = { correct_disposition = true }
"#;

pub(crate) const PLAYS: &str = r#"[[play]]
name = "good"
expect_pass = true
expect_end_turn = "done"

[[play.step]]
at_secs = 10
reply = "不好意思让您久等了，我帮您查一下"

[[play.step]]
at_secs = 30
article = "kb-zh-refund"

[[play.step]]
at_secs = 40
script_step = "sc-zh-verify#verify"

[[play.step]]
at_secs = 60
wrap_up = "info_given"

[[play]]
name = "slow"
expect_pass = false
expect_missed = ["in-time"]
expect_escalated = true

[[play.step]]
at_secs = 200
reply = "您好"
"#;

pub(crate) const PACK: &str = r#"id = "pack-zh-basics"
locale = "zh-CN"
title = "基础练习"
exam = true
pass_mark = 80
arrival_secs = 30
scenarios = ["sc-zh-late-parcel"]
"#;

const SCENARIO_FILE: &str = "scenarios/sc-zh-late-parcel.toml";
const PLAYS_FILE: &str = "scenarios/answers/sc-zh-late-parcel.toml";
const PACK_FILE: &str = "scenarios/packs/zh-basics.toml";

/// A valid scenario, its play-throughs and a pack under `root/scenarios`.
pub(crate) fn write_practice(root: &Path) {
    write(root, SCENARIO_FILE, SCENARIO);
    write(root, PLAYS_FILE, PLAYS);
    write(root, PACK_FILE, PACK);
}

/// A content folder with the KB article and the script the scenario
/// refers to, and the practice files (each replaced when given).
fn content(scenario: &str, plays: &str, pack: &str) -> TempDir {
    let dir = TempDir::new().expect("temp dir");
    write(dir.path(), "kb/zh-CN/refund.md", ARTICLE_ZH);
    write(dir.path(), "scripts/verify.toml", SCRIPT);
    write(dir.path(), SCENARIO_FILE, scenario);
    write(dir.path(), PLAYS_FILE, plays);
    write(dir.path(), PACK_FILE, pack);
    dir
}

fn errors_of(scenario: &str, plays: &str, pack: &str) -> Vec<ContentError> {
    let dir = content(scenario, plays, pack);
    load_content_dir(dir.path(), NOW).expect_err("problems expected")
}

fn scenario_errors(scenario: &str) -> Vec<ContentError> {
    errors_of(scenario, PLAYS, PACK)
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_with(text: &str, needle: &str) -> Option<usize> {
    let index = text
        .lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    Some(index + 1)
}

fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the text");
    text.replacen(from, to, 1)
}

#[test]
fn a_full_scenario_pack_and_plays_load() {
    let dir = content(SCENARIO, PLAYS, PACK);
    let set = load_content_dir(dir.path(), NOW).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(set.scenarios.len(), 1);
    assert_eq!(set.scenarios[0].id, "sc-zh-late-parcel");
    assert_eq!(set.scenarios[0].title, "包裹三天没更新");
    assert_eq!(set.scenarios[0].source, SCENARIO);

    let doc = &set.scenario_docs[0];
    assert_eq!(doc.level, Level::Easy);
    assert_eq!(doc.customer.mood, Mood::Anxious);
    assert_eq!(doc.customer.orders[0].amount_fen, 3990);
    assert_eq!(doc.turns.len(), 3);
    assert_eq!(
        doc.turns[0].reactions[0].when,
        Trigger::Intent("check".into())
    );
    assert_eq!(doc.turns[1].reactions[1].mood, Some(Mood::Calm));
    assert!(matches!(doc.rubric.items[2].check, Check::Avoid(_)));

    assert_eq!(set.packs[0].id, "pack-zh-basics");
    assert!(set.packs[0].exam);
    let plays = &set.plays["sc-zh-late-parcel"];
    assert_eq!(plays.plays.len(), 2);
    assert_eq!(plays.plays[1].expect_missed, vec!["in-time".to_owned()]);
}

#[test]
fn check_scenarios_takes_a_content_folder_or_its_scenarios_folder() {
    let dir = content(SCENARIO, PLAYS, PACK);
    for given in [dir.path().to_path_buf(), dir.path().join("scenarios")] {
        let set = check_scenarios(&given, NOW).expect("valid");
        assert_eq!(
            (set.docs.len(), set.packs.len(), set.plays.len()),
            (1, 1, 1)
        );
    }
    // The KB beside the scenarios is what articles are checked against.
    fs::remove_file(dir.path().join("kb/zh-CN/refund.md")).expect("rm");
    write(
        dir.path(),
        "kb/zh-CN/other.md",
        &ARTICLE_ZH.replace("kb-zh-refund", "kb-zh-other"),
    );
    let errors = check_scenarios(&dir.path().join("scenarios"), NOW).expect_err("no article");
    // The scenario's trigger and helpful_article, and a play's step.
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors
            .iter()
            .all(|e| e.message.contains("\"kb-zh-refund\""))
    );

    let empty = TempDir::new().expect("temp dir");
    let errors = check_scenarios(empty.path(), NOW).expect_err("nothing");
    assert_single_error(&errors, "", None, &["no scenario files"]);
}

#[test]
fn load_scenarios_dir_without_kb_or_scripts_checks_only_the_form() {
    let dir = content(SCENARIO, PLAYS, PACK);
    let scenarios = dir.path().join("scenarios");
    let set = load_scenarios_dir(&scenarios, None, None).expect("valid");
    assert_eq!(set.records.len(), 1);

    write(
        dir.path(),
        SCENARIO_FILE,
        &replaced(
            SCENARIO,
            "helpful_article = \"kb-zh-refund\"",
            "helpful_article = \"退款\"",
        ),
    );
    let errors = load_scenarios_dir(&scenarios, None, None).expect_err("bad id");
    assert_single_error(
        &errors,
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "helpful_article"),
        &["\"退款\"", "not a knowledge-base article id"],
    );

    let empty = TempDir::new().expect("temp dir");
    let errors = load_scenarios_dir(empty.path(), None, None).expect_err("nothing");
    assert_single_error(&errors, "", None, &["no scenario files"]);
}

#[test]
fn unknown_next_turn_is_reported_on_its_line() {
    let text = replaced(SCENARIO, "next = \"checked\"", "next = \"chekced\"");
    let errors = scenario_errors(&text);
    // "checked", and "done" behind it, are now unreachable as well;
    // problems come in line order.
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "next = \"checked\""),
        &[
            "turn \"waiting\", reaction 1: next = \"chekced\" is not a turn of this scenario",
            "\"waiting\", \"checked\", \"done\"",
        ],
    );
    assert_error(
        &errors[1],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "id = \"checked\""),
        &[
            "turn \"checked\" cannot be reached from the first turn \"waiting\" (so \
             neither can \"done\")",
        ],
    );
}

#[test]
fn unreachable_turn() {
    let text = replaced(
        SCENARIO,
        "[[turn]]\nid = \"done\"\n",
        "[[turn]]\nid = \"done\"\n\n[[turn]]\nid = \"orphan\"\n",
    );
    let errors = scenario_errors(&text);
    assert_single_error(
        &errors,
        "sc-zh-late-parcel.toml",
        line_with(&text, "id = \"orphan\""),
        &["turn \"orphan\" cannot be reached", "next = \"orphan\""],
    );
}

#[test]
fn no_end_turn_and_unreachable_catch_all() {
    let text = replaced(
        SCENARIO,
        "[[turn]]\nid = \"done\"\n",
        "[[turn]]\nid = \"done\"\n\n[[turn.reaction]]\nwhen = { any_reply = true }\n\n\
         [[turn.reaction]]\nwhen = { keywords = [\"再见\"] }\n",
    );
    let errors = scenario_errors(&text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "sc-zh-late-parcel.toml",
        line_with(&text, "再见"),
        &["turn \"done\", reaction 2 can never fire", "reaction 1"],
    );
    assert_error(
        &errors[1],
        "sc-zh-late-parcel.toml",
        None,
        &["no end turn", "[[turn]] without [[turn.reaction]]"],
    );
}

#[test]
fn undefined_intent_in_a_trigger_and_in_avoided_phrases() {
    let text = replaced(
        SCENARIO,
        "when = { intent = \"check\" }",
        "when = { intent = \"chek\" }",
    );
    let text = replaced(&text, "\"intent:promise\"", "\"intent:promises\"");
    let errors = scenario_errors(&text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "intent = \"check\""),
        &[
            "turn \"waiting\", reaction 1: intent \"chek\" is not defined",
            "\"apology\", \"check\", \"promise\"",
        ],
    );
    assert_error(
        &errors[1],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "phrases = "),
        &[
            "rubric item \"no-early-promise\"",
            "intent \"promises\" is not defined",
        ],
    );
}

#[test]
fn bad_dispositions_in_trigger_rubric_and_wrap_up() {
    let text = replaced(
        SCENARIO,
        "when = { disposition = \"info_given\" }",
        "when = { disposition = \"done\" }",
    );
    let text = replaced(
        &text,
        "disposition = \"info_given\"\nhelpful",
        "disposition = \"refunded\"\nhelpful",
    );
    let plays = replaced(PLAYS, "wrap_up = \"info_given\"", "wrap_up = \"Resolved\"");
    let errors = errors_of(&text, &plays, PACK);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_error(
        &errors[0],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "when = { disposition"),
        &[
            "disposition = \"done\" is not a wrap-up code",
            "resolved, refund_issued",
        ],
    );
    assert_error(
        &errors[1],
        "sc-zh-late-parcel.toml",
        line_with(&text, "\"refunded\""),
        &["rubric: disposition = \"refunded\" is not a wrap-up code"],
    );
    assert_error(
        &errors[2],
        "answers/sc-zh-late-parcel.toml",
        line_with(PLAYS, "wrap_up"),
        &["play \"good\", step 4: wrap_up = \"Resolved\" is not a wrap-up code"],
    );
}

#[test]
fn duplicate_scenario_id_across_files_names_both() {
    let dir = content(SCENARIO, PLAYS, PACK);
    // Sorted after the first file, so it is the one reported.
    write(dir.path(), "scenarios/sc-zh-zz-copy.toml", SCENARIO);
    let errors = load_content_dir(dir.path(), NOW).expect_err("duplicate");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let first = format!("{}:1", dir.path().join(SCENARIO_FILE).display());
    assert_error(
        &errors[0],
        "sc-zh-zz-copy.toml",
        Some(1),
        &[
            "scenario id \"sc-zh-late-parcel\" is already used at",
            &first,
        ],
    );
    assert_error(
        &errors[1],
        "sc-zh-zz-copy.toml",
        Some(1),
        &["does not match the file name \"sc-zh-zz-copy.toml\""],
    );
}

#[test]
fn scenario_id_must_fit_locale_and_file() {
    let dir = content(SCENARIO, PLAYS, PACK);
    fs::remove_file(dir.path().join(SCENARIO_FILE)).expect("rm");
    fs::remove_file(dir.path().join(PLAYS_FILE)).expect("rm");
    fs::remove_file(dir.path().join(PACK_FILE)).expect("rm");
    write(
        dir.path(),
        "scenarios/sc-en-Late.toml",
        &replaced(
            SCENARIO,
            "id = \"sc-zh-late-parcel\"",
            "id = \"sc-en-Late\"",
        ),
    );
    let errors = load_content_dir(dir.path(), NOW).expect_err("bad id");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "sc-en-Late.toml",
        Some(1),
        &["must start with \"sc-zh-\"", "\"zh-CN\""],
    );
    assert_error(
        &errors[1],
        "sc-en-Late.toml",
        Some(1),
        &["lowercase letters"],
    );
}

#[test]
fn unknown_article_and_article_of_another_language() {
    let text = replaced(
        SCENARIO,
        "when = { article = \"kb-zh-refund\" }",
        "when = { article = \"kb-zh-refnd\" }",
    );
    let text = replaced(
        &text,
        "helpful_article = \"kb-zh-refund\"",
        "helpful_article = \"kb-en-refund\"",
    );
    let dir = content(&text, PLAYS, PACK);
    write(
        dir.path(),
        "kb/en/refund.md",
        crate::test_support::ARTICLE_EN,
    );
    let errors = load_content_dir(dir.path(), NOW).expect_err("articles");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "when = { article"),
        &["article = \"kb-zh-refnd\": no knowledge-base article has this id"],
    );
    assert_error(
        &errors[1],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "helpful_article"),
        &[
            "helpful_article = \"kb-en-refund\" is a \"en\" article",
            "\"zh-CN\"",
        ],
    );
}

#[test]
fn script_steps_must_name_a_script_and_its_step() {
    let text = replaced(
        SCENARIO,
        "\"sc-zh-verify#verify\"",
        "\"sc-zh-verify#check\"",
    );
    let plays = replaced(PLAYS, "\"sc-zh-verify#verify\"", "\"verify\"");
    let errors = errors_of(&text, &plays, PACK);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "script_step"),
        &[
            "script \"sc-zh-verify\" has no step \"check\"",
            "\"end\", \"greet\", \"verify\"",
        ],
    );
    assert_error(
        &errors[1],
        "answers/sc-zh-late-parcel.toml",
        line_with(PLAYS, "script_step"),
        &["script_step = \"verify\" must be written \"script-id#step-id\""],
    );

    let text = replaced(
        SCENARIO,
        "\"sc-zh-verify#verify\"",
        "\"script-zh-nope#verify\"",
    );
    let errors = scenario_errors(&text);
    assert_single_error(
        &errors,
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "script_step"),
        &["there is no call script \"script-zh-nope\""],
    );
}

#[test]
fn step_with_two_actions_and_other_play_mistakes() {
    let plays = replaced(
        PLAYS,
        "at_secs = 30\narticle = \"kb-zh-refund\"",
        "at_secs = 30\nreply = \"请稍等\"\narticle = \"kb-zh-refund\"",
    );
    let plays = replaced(&plays, "at_secs = 40", "at_secs = 20");
    let plays = replaced(
        &plays,
        "expect_missed = [\"in-time\"]",
        "expect_missed = [\"fast\"]",
    );
    let plays = format!("{plays}\n[[play.step]]\nat_secs = 300\n");
    let errors = errors_of(SCENARIO, &plays, PACK);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    let file = "answers/sc-zh-late-parcel.toml";
    assert_error(
        &errors[0],
        file,
        line_with(&plays, "article = \"kb-zh-refund\""),
        &[
            "play \"good\", step 2 does reply and article at once",
            "split it into 2 steps",
        ],
    );
    assert_error(
        &errors[1],
        file,
        line_with(&plays, "at_secs = 20"),
        &["step 3: at_secs = 20 is earlier than the step before (at_secs = 30)"],
    );
    assert_error(
        &errors[2],
        file,
        line_with(&plays, "expect_missed"),
        &["\"fast\", which is not a rubric item", "\"in-time\""],
    );
    assert_error(
        &errors[3],
        file,
        line_with(&plays, "at_secs = 300"),
        &["play \"slow\", step 2 does nothing"],
    );
}

#[test]
fn steps_after_the_wrap_up_and_plays_of_a_missing_scenario() {
    let plays = format!(
        "{PLAYS}\n[[play.step]]\nat_secs = 300\nwrap_up = \"resolved\"\n\n[[play.step]]\nat_secs = 301\nreply = \"还在吗\"\n"
    );
    let dir = content(SCENARIO, &plays, PACK);
    write(dir.path(), "scenarios/answers/sc-zh-gone.toml", PLAYS);
    let errors = load_content_dir(dir.path(), NOW).expect_err("plays");
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors[0],
        "answers/sc-zh-gone.toml",
        None,
        &["no scenario \"sc-zh-gone\"", "answers/<scenario-id>.toml"],
    );
    assert_error(
        &errors[1],
        "answers/sc-zh-late-parcel.toml",
        Some(plays.lines().count() - 1),
        &["play \"slow\", step 3 comes after the wrap-up in step 2"],
    );
}

#[test]
fn pack_naming_a_missing_scenario_or_another_language() {
    let pack = replaced(
        PACK,
        "scenarios = [\"sc-zh-late-parcel\"]",
        "scenarios = [\n  \"sc-zh-late-parcel\",\n  \"sc-zh-missing\",\n  \"sc-zh-late-parcel\",\n]",
    );
    let pack = replaced(&pack, "pass_mark = 80", "pass_mark = 0");
    let errors = errors_of(SCENARIO, PLAYS, &pack);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_error(
        &errors[0],
        "packs/zh-basics.toml",
        line_with(&pack, "pass_mark"),
        &["pack \"pack-zh-basics\": pass_mark = 0 must be 1 to 100"],
    );
    assert_error(
        &errors[1],
        "packs/zh-basics.toml",
        line_with(&pack, "sc-zh-missing"),
        &["pack \"pack-zh-basics\": scenario \"sc-zh-missing\" does not exist"],
    );
    assert_error(
        &errors[2],
        "packs/zh-basics.toml",
        Some(10),
        &["listed twice"],
    );

    let pack = replaced(PACK, "locale = \"zh-CN\"", "locale = \"en\"");
    let errors = errors_of(SCENARIO, PLAYS, &pack);
    assert_single_error(
        &errors,
        "packs/zh-basics.toml",
        line_with(PACK, "scenarios"),
        &["scenario \"sc-zh-late-parcel\" is \"zh-CN\" but the pack is \"en\""],
    );
}

#[test]
fn an_unparsable_scenario_is_reported_once() {
    let text = replaced(SCENARIO, "level = \"easy\"", "level = \"simple\"");
    let errors = scenario_errors(&text);
    // The pack and the play-throughs naming it add nothing.
    assert_single_error(
        &errors,
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "level"),
        &["simple", "easy"],
    );
}

#[test]
fn trigger_with_two_keys_says_so_plainly() {
    let text = replaced(
        SCENARIO,
        "when = { intent = \"check\" }",
        "when = { intent = \"check\", keywords = [\"查\"] }",
    );
    let errors = scenario_errors(&text);
    assert_single_error(
        &errors,
        "sc-zh-late-parcel.toml",
        line_with(SCENARIO, "intent = \"check\""),
        &["exactly one key", "several"],
    );
}

#[test]
fn numbers_texts_and_rubric_rules() {
    let text = replaced(SCENARIO, "nudge_after_secs = 60", "nudge_after_secs = 200");
    let text = replaced(&text, "amount_fen = 3990", "amount_fen = 0");
    let text = replaced(
        &text,
        "persona = \"六十多岁，第一次网购，打字慢。\"",
        "persona = \" \"",
    );
    let text = replaced(&text, "pass_mark = 70", "pass_mark = 101");
    let text = replaced(&text, "points = 30", "points = 0");
    let text = replaced(
        &text,
        "unless_after = \"checked-order\"",
        "unless_after = \"check-order\"",
    );
    let text = replaced(&text, "id = \"in-time\"", "id = \"apologise\"");
    let text = replaced(
        &text,
        "check = { correct_disposition = true }",
        "check = { correct_disposition = false }",
    );
    let text = replaced(&text, "keywords = [\"订单号\"]", "keywords = []");
    let text = replaced(
        &text,
        "check = [\"查一下\", \"帮您查\", \"核实\"]",
        "check = []",
    );
    let errors = scenario_errors(&text);
    let file = "sc-zh-late-parcel.toml";
    let first_apologise = line_with(&text, "id = \"apologise\"").expect("line");
    let second_apologise = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains("id = \"apologise\""))
        .nth(1)
        .map(|(index, _)| index + 1);
    let duplicate = format!("{file}:{first_apologise}; ids must be unique");
    let duplicate_words = [
        "rubric item id \"apologise\" is already used at",
        &duplicate,
    ];
    let expected: Vec<(Option<usize>, &[&str])> = vec![
        (
            line_with(&text, "persona = "),
            &["customer: \"persona\" is empty"],
        ),
        (
            line_with(&text, "amount_fen"),
            &["customer order \"TB20240601001\": amount_fen = 0 must be more than 0"],
        ),
        (
            line_with(&text, "escalate_after_secs"),
            &["escalate_after_secs (180) must be more than nudge_after_secs (200)"],
        ),
        (
            line_with(&text, "check = []"),
            &["intent \"check\" has no words"],
        ),
        (
            line_with(&text, "pass_mark"),
            &["rubric: pass_mark = 101 must be 1 to 100"],
        ),
        (
            line_with(&text, "points = 0"),
            &["rubric item \"checked-order\": points must be more than 0"],
        ),
        (
            line_with(&text, "keywords = []"),
            &["keywords = [] can never match"],
        ),
        (
            line_with(&text, "unless_after"),
            &[
                "unless_after = \"check-order\" is not a rubric item",
                "are \"apologise\", \"checked-order\", \"no-early-promise\", \"wrap-up\"",
            ],
        ),
        (second_apologise, &duplicate_words),
        (
            line_with(&text, "correct_disposition = false"),
            &["correct_disposition = false checks nothing"],
        ),
    ];
    // And the play-through expecting to miss the renamed "in-time".
    assert_eq!(errors.len(), expected.len() + 1, "{errors:#?}");
    for (error, (line, words)) in errors.iter().zip(expected) {
        assert_error(error, file, line, words);
    }
    assert_error(
        &errors[errors.len() - 1],
        "answers/sc-zh-late-parcel.toml",
        line_with(PLAYS, "expect_missed"),
        &["\"in-time\", which is not a rubric item"],
    );
}

/// The TOML block after each `<!-- example: KIND [ID] -->` marker of
/// `docs/scenarios.md`, with its kind and id.
fn doc_examples(markdown: &str) -> Vec<(String, String)> {
    let mut examples = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("<!-- example: ") {
        let after = &rest[start + "<!-- example: ".len()..];
        let end = after.find(" -->").expect("marker closes");
        let label = after[..end].to_owned();
        let block = &after[after.find("```toml\n").expect("a toml block") + 8..];
        let close = block.find("\n```").expect("block closes");
        examples.push((label, block[..=close].to_owned()));
        rest = &block[close..];
    }
    examples
}

/// The examples in the authors' documentation are valid against the
/// shipped knowledge base and scripts.
#[test]
fn documented_examples_pass_the_check() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let markdown = fs::read_to_string(root.join("docs/scenarios.md")).expect("docs");
    let examples = doc_examples(&markdown);
    assert_eq!(examples.len(), 3, "scenario, pack and play examples");
    let dir = TempDir::new().expect("temp dir");
    // The pack example also lists shipped scenarios.
    for entry in fs::read_dir(root.join("content/scenarios")).expect("shipped scenarios") {
        let path = entry.expect("entry").path();
        if path.extension() == Some(OsStr::new("toml")) {
            let name = path.file_name().expect("name");
            fs::copy(&path, dir.path().join(name)).expect("copy");
        }
    }
    for (label, text) in &examples {
        let relative = match label.split_once(' ') {
            Some(("scenario", id)) => format!("{id}.toml"),
            Some(("play", id)) => format!("answers/{id}.toml"),
            _ => "packs/example.toml".to_owned(),
        };
        write(dir.path(), &relative, text);
    }
    let kb = crate::load_kb(&root.join("content/kb"), NOW).expect("shipped KB");
    let mut problems = Problems::default();
    let scripts = read_scripts(&root.join("content/scripts"), &mut problems);
    assert!(problems.is_empty(), "shipped scripts: {:#?}", problems.0);
    let set = load_scenarios_dir(dir.path(), Some(&kb), Some(&scripts)).unwrap_or_else(|errors| {
        let report: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("docs/scenarios.md examples:\n{}", report.join("\n"))
    });
    assert!(set.docs.iter().any(|doc| doc.id == "sc-zh-peaches-gift"));
    assert_eq!((set.packs.len(), set.plays.len()), (1, 1));
}

/// A scenario file, parsed by the public type alone (as the app parses a
/// synced scenario's `source`), equals what the loader returns.
#[test]
fn source_parses_to_the_same_document() {
    let dir = content(SCENARIO, PLAYS, PACK);
    let set = load_content_dir(dir.path(), NOW).expect("valid");
    let reparsed: ScenarioDoc = toml::from_str(&set.scenarios[0].source).expect("parses");
    assert_eq!(reparsed, set.scenario_docs[0]);
}
