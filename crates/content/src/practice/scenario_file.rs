//! Scenario files (`scenarios/<scenario-id>.toml`): one simulated customer
//! contact. Owns the rules that make a scenario playable and fair to score:
//! the id fits the file and the locale, the customer and their patience make
//! sense, every turn is connected and some turn ends the contact, every
//! reaction can fire, and the rubric's items can be met.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;

use homedesk_protocol::Scenario;

use super::references::{
    References, Site, check_article, check_disposition, check_intent_name, check_keywords,
    check_trigger,
};
use super::{check_pass_mark, file_stem, is_slug, language_of, quoted_list};
use crate::scenario::{Avoid, Check, Patience, Rubric, ScenarioDoc, SimCustomer, Trigger, Turn};
use crate::toml_doc::{Located, Place, TomlDoc};
use crate::validate::{IdRegistry, require_locale, require_no_empty_entries, require_text};
use crate::{LOCALES, Problems, read_text};

/// One scenario file, parsed and checked: the record the platform stores
/// (with the file's text as `source`) and the parsed scenario. `None` when
/// the file cannot be read or parsed (the problem is added).
pub(super) fn read_scenario_file(
    path: &Path,
    references: &References<'_>,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) -> Option<(Scenario, ScenarioDoc)> {
    let text = read_text(path, problems)?;
    let doc = TomlDoc::whole_file(path, &text);
    let (scenario, spans) = doc.parse_with_spans::<ScenarioDoc>(problems)?;
    check_scenario(&scenario, spans.root(), references, ids, problems);
    let record = Scenario {
        id: scenario.id.clone(),
        locale: scenario.locale.clone(),
        title: scenario.title.clone(),
        source: text.clone(),
    };
    Some((record, scenario))
}

fn check_scenario(
    scenario: &ScenarioDoc,
    at: Place<'_, '_>,
    references: &References<'_>,
    ids: &mut IdRegistry,
    problems: &mut Problems,
) {
    let path = at.path();
    let id = at.key("id").locate(&scenario.id);
    let locale = at.key("locale").locate(&scenario.locale);
    let context = format!("scenario \"{}\"", id.value);

    ids.claim(path, &id, problems);
    require_text(problems, path, &context, "id", &id);
    require_locale(problems, path, &context, &locale);
    check_scenario_id(path, &id, &locale.value, problems);
    for (key, field) in [
        ("title", &scenario.title),
        ("category", &scenario.category),
        ("summary", &scenario.summary),
        ("opening", &scenario.opening),
    ] {
        require_text(problems, path, &context, key, &at.key(key).locate(field));
    }
    check_customer(&scenario.customer, at.key("customer"), problems);
    check_patience(&scenario.patience, at.key("patience"), problems);
    check_intents(&scenario.intents, at.key("intents"), problems);

    let site = Site {
        path,
        locale: LOCALES
            .contains(&locale.value.as_str())
            .then_some(locale.value.as_str()),
        intents: Some(&scenario.intents),
        references,
    };
    check_turns(&context, &scenario.turns, at.key("turn"), &site, problems);
    check_rubric(&scenario.rubric, at.key("rubric"), &site, problems);
}

fn check_scenario_id(path: &Path, id: &Located<String>, locale: &str, problems: &mut Problems) {
    if id.value.trim().is_empty() {
        return;
    }
    let stem = file_stem(path);
    if stem != id.value {
        problems.add(
            path,
            id.line,
            format!(
                "scenario id \"{}\" does not match the file name \"{stem}.toml\"; name the file \
                 \"{}.toml\" or change the id",
                id.value, id.value
            ),
        );
    }
    if crate::LOCALES.contains(&locale) {
        let prefix = format!("sc-{}-", language_of(locale));
        let named = id
            .value
            .strip_prefix(&prefix)
            .is_some_and(|rest| !rest.is_empty());
        if !named {
            problems.add(
                path,
                id.line,
                format!(
                    "scenario id \"{}\" must start with \"{prefix}\" (sc-, the language of \
                     locale \"{locale}\", then a short name)",
                    id.value
                ),
            );
        }
    }
    if !is_slug(&id.value) {
        problems.add(
            path,
            id.line,
            format!(
                "scenario id \"{}\" may only use lowercase letters, digits and \"-\"",
                id.value
            ),
        );
    }
}

fn check_customer(customer: &SimCustomer, at: Place<'_, '_>, problems: &mut Problems) {
    let path = at.path();
    for (key, field) in [
        ("name", &customer.name),
        ("phone", &customer.phone),
        ("persona", &customer.persona),
    ] {
        require_text(problems, path, "customer", key, &at.key(key).locate(field));
    }
    let mut order_numbers = IdRegistry::with_noun("order", "number");
    for (index, order) in customer.orders.iter().enumerate() {
        let order_at = at.key("order").item(index);
        let order_no = order_at.key("order_no").locate(&order.order_no);
        let context = format!("customer order \"{}\"", order_no.value);
        require_text(problems, path, &context, "order_no", &order_no);
        order_numbers.claim(path, &order_no, problems);
        require_text(
            problems,
            path,
            &context,
            "item",
            &order_at.key("item").locate(&order.item),
        );
        require_text(
            problems,
            path,
            &context,
            "status",
            &order_at.key("status").locate(&order.status),
        );
        let amount = order.amount_fen;
        if amount <= 0 {
            problems.add(
                path,
                order_at.key("amount_fen").line(),
                format!(
                    "{context}: amount_fen = {amount} must be more than 0 (the price in fen: \
                     ¥12.50 is 1250)"
                ),
            );
        }
    }
}

fn check_patience(patience: &Patience, at: Place<'_, '_>, problems: &mut Problems) {
    let path = at.path();
    let nudge_after = patience.nudge_after_secs;
    let escalate_after = patience.escalate_after_secs;
    if nudge_after == 0 {
        problems.add(
            path,
            at.key("nudge_after_secs").line(),
            "patience: nudge_after_secs must be more than 0 (seconds without a reply before \
             the customer nudges)",
        );
    }
    if escalate_after == 0 {
        problems.add(
            path,
            at.key("escalate_after_secs").line(),
            "patience: escalate_after_secs must be more than 0 (seconds without a reply \
             before the customer escalates)",
        );
    } else if nudge_after >= escalate_after {
        problems.add(
            path,
            at.key("escalate_after_secs").line(),
            format!(
                "patience: escalate_after_secs ({escalate_after}) must be more than \
                 nudge_after_secs ({nudge_after}): the customer nudges first and escalates later"
            ),
        );
    }
    require_text(
        problems,
        path,
        "patience",
        "nudge",
        &at.key("nudge").locate(&patience.nudge),
    );
    require_text(
        problems,
        path,
        "patience",
        "escalation",
        &at.key("escalation").locate(&patience.escalation),
    );
}

fn check_intents(
    intents: &BTreeMap<String, Vec<String>>,
    at: Place<'_, '_>,
    problems: &mut Problems,
) {
    let path = at.path();
    for (name, words) in intents {
        let located = at.key(name).locate(words);
        let line = located.line;
        let context = format!("intent \"{name}\"");
        if name.trim().is_empty() {
            problems.add(path, line, "an intent group has an empty name");
        }
        if words.is_empty() {
            problems.add(
                path,
                line,
                format!("{context} has no words, so it can never match; list at least one"),
            );
        }
        require_no_empty_entries(problems, path, &context, "words", &located);
    }
}

/// `at` is the scenario's `[[turn]]` array.
fn check_turns(
    context: &str,
    turns: &[Turn],
    at: Place<'_, '_>,
    site: &Site<'_, '_>,
    problems: &mut Problems,
) {
    let path = at.path();
    if turns.is_empty() {
        problems.add(
            path,
            None,
            format!("{context} has no turns: add [[turn]] tables"),
        );
        return;
    }
    let mut turn_ids = IdRegistry::new("turn");
    for (index, turn) in turns.iter().enumerate() {
        let id = at.item(index).key("id").locate(&turn.id);
        turn_ids.claim(path, &id, problems);
        require_text(problems, path, "turn", "id", &id);
    }
    let existing: Vec<&str> = turns.iter().map(|turn| turn.id.as_str()).collect();

    for (turn_index, turn) in turns.iter().enumerate() {
        let turn_id = &turn.id;
        let mut catch_all: Option<usize> = None;
        for (index, reaction) in turn.reactions.iter().enumerate() {
            let reaction_at = at.item(turn_index).key("reaction").item(index);
            let number = index + 1;
            let reaction_context = format!("turn \"{turn_id}\", reaction {number}");
            let when_line = reaction_at.key("when").line();
            check_trigger(site, &reaction_context, &reaction.when, when_line, problems);
            let is_reply_trigger = matches!(
                reaction.when,
                Trigger::Keywords(_) | Trigger::Intent(_) | Trigger::AnyReply(true)
            );
            if let Some(earlier) = catch_all
                && is_reply_trigger
            {
                problems.add(
                    path,
                    when_line,
                    format!(
                        "{reaction_context} can never fire: reaction {earlier} before it \
                         (any_reply = true) already answers every reply; move the any_reply \
                         reaction last"
                    ),
                );
            }
            if catch_all.is_none() && matches!(reaction.when, Trigger::AnyReply(true)) {
                catch_all = Some(number);
            }
            if let Some(next) = &reaction.next
                && !existing.contains(&next.as_str())
            {
                problems.add(
                    path,
                    reaction_at.key("next").line(),
                    format!(
                        "{reaction_context}: next = \"{next}\" is not a turn of this scenario; the \
                         turns are {}",
                        quoted_list(existing.iter().copied())
                    ),
                );
            }
        }
    }

    if !turns.iter().any(|turn| turn.reactions.is_empty()) {
        problems.add(
            path,
            None,
            format!(
                "{context} has no end turn: every turn has reactions, so the customer never \
                 finishes; leave at least one [[turn]] without [[turn.reaction]]"
            ),
        );
    }

    // One problem per part of the conversation that cannot be reached: the
    // first unreachable turn of it (in file order) names the turns behind it.
    let first = turns[0].id.as_str();
    let reachable = turns_reachable_from(first, turns);
    let mut covered: HashSet<&str> = HashSet::new();
    for (index, turn) in turns.iter().enumerate() {
        let id = turn.id.as_str();
        if reachable.contains(id) || covered.contains(id) {
            continue;
        }
        let behind_it = turns_reachable_from(id, turns);
        let followers: Vec<&str> = existing
            .iter()
            .copied()
            .filter(|other| {
                *other != id
                    && behind_it.contains(other)
                    && !reachable.contains(other)
                    && !covered.contains(other)
            })
            .collect();
        covered.extend(behind_it);
        let also = if followers.is_empty() {
            String::new()
        } else {
            format!(" (so neither can {})", quoted_list(followers))
        };
        problems.add(
            path,
            at.item(index).key("id").line(),
            format!(
                "turn \"{id}\" cannot be reached from the first turn \"{first}\"{also}; add a \
                 reaction with next = \"{id}\" or remove the turn"
            ),
        );
    }
}

fn turns_reachable_from<'a>(first: &'a str, turns: &'a [Turn]) -> HashSet<&'a str> {
    let mut reachable = HashSet::from([first]);
    let mut pending = VecDeque::from([first]);
    while let Some(current) = pending.pop_front() {
        let nexts = turns
            .iter()
            .filter(|turn| turn.id == current)
            .flat_map(|turn| &turn.reactions)
            .filter_map(|reaction| reaction.next.as_deref());
        for next in nexts {
            if reachable.insert(next) {
                pending.push_back(next);
            }
        }
    }
    reachable
}

fn check_rubric(rubric: &Rubric, at: Place<'_, '_>, site: &Site<'_, '_>, problems: &mut Problems) {
    let path = at.path();
    check_pass_mark(
        path,
        "rubric",
        rubric.pass_mark,
        at.key("pass_mark").line(),
        problems,
    );
    if rubric.response_secs == 0 {
        problems.add(
            path,
            at.key("response_secs").line(),
            "rubric: response_secs must be more than 0 (the target time for a reply, in seconds)",
        );
    }
    check_disposition(
        path,
        "rubric",
        "disposition",
        &rubric.disposition,
        at.key("disposition").line(),
        problems,
    );
    if let Some(article) = &rubric.helpful_article {
        check_article(
            site,
            "rubric",
            "helpful_article",
            article,
            at.key("helpful_article").line(),
            problems,
        );
    }
    if rubric.items.is_empty() {
        problems.add(
            path,
            None,
            "the rubric has no items, so nothing can be scored: add [[rubric.item]] tables",
        );
        return;
    }

    let items_at = at.key("item");
    let mut item_ids = IdRegistry::new("rubric item");
    for (index, item) in rubric.items.iter().enumerate() {
        let id = items_at.item(index).key("id").locate(&item.id);
        item_ids.claim(path, &id, problems);
        require_text(problems, path, "rubric item", "id", &id);
    }
    let existing: Vec<&str> = rubric.items.iter().map(|item| item.id.as_str()).collect();

    for (index, item) in rubric.items.iter().enumerate() {
        let item_at = items_at.item(index);
        let id = &item.id;
        let context = format!("rubric item \"{id}\"");
        require_text(
            problems,
            path,
            &context,
            "description",
            &item_at.key("description").locate(&item.description),
        );
        if item.points == 0 {
            problems.add(
                path,
                item_at.key("points").line(),
                format!("{context}: points must be more than 0"),
            );
        }
        let check_at = item_at.key("check");
        let check_line = check_at.line();
        match &item.check {
            Check::Did(trigger) => {
                check_trigger(
                    site,
                    &context,
                    trigger,
                    check_at.key("did").line(),
                    problems,
                );
            }
            Check::Avoid(avoid) => {
                check_avoid(
                    &context,
                    id,
                    avoid,
                    check_at.key("avoid"),
                    &existing,
                    site,
                    problems,
                );
            }
            Check::RespondInTime(flag) => {
                require_true(
                    path,
                    &context,
                    "respond_in_time",
                    *flag,
                    check_line,
                    problems,
                );
            }
            Check::NoEscalation(flag) => {
                require_true(path, &context, "no_escalation", *flag, check_line, problems);
            }
            Check::CorrectDisposition(flag) => {
                require_true(
                    path,
                    &context,
                    "correct_disposition",
                    *flag,
                    check_line,
                    problems,
                );
            }
        }
    }
}

/// `respond_in_time = false` and the like check nothing: surely a slip.
fn require_true(
    path: &Path,
    context: &str,
    key: &str,
    flag: bool,
    line: Option<usize>,
    problems: &mut Problems,
) {
    if !flag {
        problems.add(
            path,
            line,
            format!("{context}: {key} = false checks nothing; write {key} = true"),
        );
    }
}

/// `at` is the item's `check.avoid` table.
fn check_avoid(
    context: &str,
    item_id: &str,
    avoid: &Avoid,
    at: Place<'_, '_>,
    items: &[&str],
    site: &Site<'_, '_>,
    problems: &mut Problems,
) {
    let path = at.path();
    let phrases_line = at.key("phrases").line();
    let phrases = &avoid.phrases;
    check_keywords(path, context, "phrases", phrases, phrases_line, problems);
    for phrase in phrases {
        if let Some(name) = phrase.strip_prefix("intent:") {
            check_intent_name(site, context, name.trim(), phrases_line, problems);
        }
    }
    if let Some(after_id) = &avoid.unless_after {
        let line = at.key("unless_after").line();
        if after_id == item_id {
            problems.add(
                path,
                line,
                format!(
                    "{context}: unless_after = \"{after_id}\" names this item itself; name the \
                     item that must be met first"
                ),
            );
        } else if !items.contains(&after_id.as_str()) {
            problems.add(
                path,
                line,
                format!(
                    "{context}: unless_after = \"{after_id}\" is not a rubric item of this \
                     scenario; the items are {}",
                    quoted_list(items.iter().copied())
                ),
            );
        }
    }
    require_text(
        problems,
        path,
        context,
        "reason",
        &at.key("reason").locate(&avoid.reason),
    );
}
