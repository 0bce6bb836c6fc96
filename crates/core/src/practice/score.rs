//! The score report of one practice contact: each rubric item met or missed
//! with a plain reason (in the scenario's language), response times against
//! the target, the article that would have helped, and the replay.
//!
//! Scoring reads only the simulation's log and its record of waits, so the
//! same play always gets the same report. The rules per check:
//! - `did`: met by the first trainee action that matches the trigger.
//! - `avoid`: missed when a reply says one of the phrases before the
//!   `unless_after` item was met; the reply that meets that item may say it
//!   (it checked the order and promised the refund in one breath). An
//!   `unless_after` that names anything but a `did` item never lifts the ban.
//! - `respond_in_time`: met when every reply that answered a customer
//!   message came within `rubric.response_secs` of it (the first reply
//!   measured from the opening); missed when the trainee never replied.
//! - `no_escalation`: the customer never ran out of patience.
//! - `correct_disposition`: wrapped up with `rubric.disposition`.
//!
//! The `= true` of `respond_in_time`, `no_escalation` and
//! `correct_disposition` only marks the kind of check; it is not read.
//!
//! Points: an item met earns all of its points, a missed one none; the
//! percent is rounded down, and a scenario is passed at `pass_mark` percent.

use homedesk_content::scenario::{Check, RubricItem, Trigger};
use homedesk_protocol::UnixMillis;
use serde::Serialize;
use ts_rs::TS;

use super::matching::{self, Matcher};
use super::{CustomerMessageKind, SimEvent, Simulation, TraineeAction};

/// The score report the trainee sees after a contact.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ScoreReport.ts")]
pub struct ScoreReport {
    pub scenario_id: String,
    pub title: String,
    /// The scenario's language (`zh-CN` or `en`); the reasons are in it.
    pub locale: String,
    pub points_got: u32,
    pub points_total: u32,
    /// Points got as a percent of the total, rounded down.
    pub percent: u32,
    pub pass_mark: u32,
    pub passed: bool,
    /// One per rubric item, in the rubric's order.
    pub items: Vec<RubricResult>,
    pub response_target_secs: u32,
    /// One per customer message the trainee answered, and the customer's
    /// last message if the contact was left open with them waiting.
    pub response_times: Vec<ResponseTime>,
    pub escalated: bool,
    /// The disposition the trainee wrapped up with; `null` if they did not.
    pub disposition: Option<String>,
    pub expected_disposition: String,
    /// The knowledge article that would have helped, when the trainee did
    /// not use it (`null` when they did, or the scenario names none).
    pub helpful_article: Option<String>,
    /// That article's title as the knowledge base on this PC has it; filled
    /// in by the desk (scoring knows only the id). `null` when the article
    /// is not on the PC.
    pub helpful_article_title: Option<String>,
    /// The customer's turn when the contact ended.
    pub end_turn: String,
    /// From the customer's first message to the last thing that happened.
    pub duration_secs: u32,
    /// Everything that happened, in order.
    pub replay: Vec<ReplayEntry>,
}

/// What a rubric item checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "CheckKind.ts")]
pub enum CheckKind {
    Did,
    Avoid,
    RespondInTime,
    NoEscalation,
    CorrectDisposition,
}

/// One rubric item, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "RubricResult.ts")]
pub struct RubricResult {
    pub id: String,
    /// What was expected, as the trainer wrote it.
    pub description: String,
    pub check: CheckKind,
    pub met: bool,
    /// The item's points when met, else 0.
    pub points_got: u32,
    pub points: u32,
    /// Why it was met or missed, in the scenario's language.
    pub reason: String,
}

/// How long the customer waited for a reply to one of their messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ResponseTime.ts")]
pub struct ResponseTime {
    pub customer_at_secs: u32,
    pub customer_text: String,
    /// `null`: never answered.
    pub reply_at_secs: Option<u32>,
    /// Seconds from the customer's message to the reply, rounded up.
    pub secs: Option<u32>,
    pub target_secs: u32,
    pub on_time: bool,
}

/// Who did what in the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "ReplayKind.ts")]
pub enum ReplayKind {
    /// The customer's opening or a reaction.
    Customer,
    /// The customer chasing a reply.
    Nudge,
    /// The customer running out of patience.
    Escalation,
    /// The trainee's message.
    Reply,
    /// A knowledge article opened or inserted (text: its id).
    Article,
    /// A guided-script step reached (text: `script#step`).
    ScriptStep,
    /// The wrap-up (text: the disposition).
    WrapUp,
}

/// One line of the replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ReplayEntry.ts")]
pub struct ReplayEntry {
    /// Seconds since the contact arrived, rounded down.
    pub at_secs: u32,
    pub kind: ReplayKind,
    pub text: String,
}

pub(super) fn report(sim: &Simulation) -> ScoreReport {
    let doc = &sim.doc;
    let rubric = &doc.rubric;
    let judge = Judge {
        sim,
        zh: doc.locale == "zh-CN",
        matcher: sim.matcher(),
    };
    let items: Vec<RubricResult> = rubric.items.iter().map(|item| judge.item(item)).collect();
    let points_total: u32 = items.iter().map(|item| item.points).sum();
    let points_got: u32 = items.iter().map(|item| item.points_got).sum();
    let pass_mark = u32::from(rubric.pass_mark);
    let percent = if points_total == 0 {
        100
    } else {
        (u64::from(points_got) * 100 / u64::from(points_total)) as u32
    };
    let helpful_article = rubric.helpful_article.clone().filter(|id| {
        let used = Trigger::Article(id.clone());
        !judge
            .actions()
            .any(|(_, _, action)| judge.matcher.fires(&used, action))
    });
    let last_at = sim.log.last().map_or(sim.started_at_ms, SimEvent::at_ms);
    ScoreReport {
        scenario_id: doc.id.clone(),
        title: doc.title.clone(),
        locale: doc.locale.clone(),
        points_got,
        points_total,
        percent,
        pass_mark,
        passed: u64::from(points_got) * 100 >= u64::from(pass_mark) * u64::from(points_total),
        items,
        response_target_secs: rubric.response_secs,
        response_times: judge.response_times(),
        escalated: sim.escalated(),
        disposition: sim.wrapped_up.clone(),
        expected_disposition: rubric.disposition.clone(),
        helpful_article,
        helpful_article_title: None,
        end_turn: sim.turn_id().to_owned(),
        duration_secs: judge.offset_secs(last_at),
        replay: sim
            .log
            .iter()
            .map(|event| judge.replay_entry(event))
            .collect(),
    }
}

struct Judge<'a> {
    sim: &'a Simulation,
    zh: bool,
    matcher: Matcher<'a>,
}

impl<'a> Judge<'a> {
    /// Trainee actions with their place in the log and their moment.
    fn actions(&self) -> impl Iterator<Item = (usize, UnixMillis, &'a TraineeAction)> + 'a {
        self.sim
            .log
            .iter()
            .enumerate()
            .filter_map(|(index, event)| match event {
                SimEvent::Trainee { at_ms, action } => Some((index, *at_ms, action)),
                SimEvent::Customer(_) => None,
            })
    }

    fn replies(&self) -> impl Iterator<Item = (usize, UnixMillis, &'a str)> + 'a {
        self.actions()
            .filter_map(|(index, at_ms, action)| match action {
                TraineeAction::Reply(text) => Some((index, at_ms, text.as_str())),
                _ => None,
            })
    }

    /// The first action meeting a trigger: its place in the log, its moment
    /// and the action.
    fn first_match(&self, trigger: &Trigger) -> Option<(usize, UnixMillis, &'a TraineeAction)> {
        self.actions()
            .find(|(_, _, action)| self.matcher.fires(trigger, action))
    }

    fn item(&self, item: &RubricItem) -> RubricResult {
        let (check, met, reason) = match &item.check {
            Check::Did(trigger) => {
                let (met, reason) = self.did(trigger);
                (CheckKind::Did, met, reason)
            }
            Check::Avoid(avoid) => {
                let (met, reason) = self.avoid(avoid);
                (CheckKind::Avoid, met, reason)
            }
            Check::RespondInTime(_) => {
                let (met, reason) = self.respond_in_time();
                (CheckKind::RespondInTime, met, reason)
            }
            Check::NoEscalation(_) => {
                let (met, reason) = self.no_escalation();
                (CheckKind::NoEscalation, met, reason)
            }
            Check::CorrectDisposition(_) => {
                let (met, reason) = self.correct_disposition();
                (CheckKind::CorrectDisposition, met, reason)
            }
        };
        RubricResult {
            id: item.id.clone(),
            description: item.description.clone(),
            check,
            met,
            points_got: if met { item.points } else { 0 },
            points: item.points,
            reason,
        }
    }

    fn did(&self, trigger: &Trigger) -> (bool, String) {
        let zh = self.zh;
        if let Some((_, at_ms, action)) = self.first_match(trigger) {
            let at = self.clock(at_ms);
            let reason = match action {
                TraineeAction::Reply(text) => match self.matcher.word_in(trigger, text) {
                    Some(word) => {
                        let said = excerpt(text, Some(&word));
                        if zh {
                            format!("{at} 的回复说到了“{word}”：“{said}”")
                        } else {
                            format!("The reply at {at} said “{word}”: “{said}”")
                        }
                    }
                    None => {
                        let said = excerpt(text, None);
                        if zh {
                            format!("{at} 的回复做到了：“{said}”")
                        } else {
                            format!("Done in the reply at {at}: “{said}”")
                        }
                    }
                },
                TraineeAction::Article(id) if zh => format!("{at} 使用了知识库文章 {id}"),
                TraineeAction::Article(id) => format!("Used article {id} at {at}"),
                TraineeAction::ScriptStep(step) if zh => format!("{at} 走到了话术步骤 {step}"),
                TraineeAction::ScriptStep(step) => format!("Reached script step {step} at {at}"),
                TraineeAction::WrapUp(code) if zh => format!("{at} 以 {code} 结束了联系"),
                TraineeAction::WrapUp(code) => format!("Wrapped up as {code} at {at}"),
            };
            return (true, reason);
        }
        let reason = match trigger {
            Trigger::Keywords(words) if zh => format!("没有一条回复提到{}", self.any_of(words)),
            Trigger::Keywords(words) => format!("No reply mentioned {}", self.any_of(words)),
            Trigger::Intent(name) => {
                let words = self.sim.doc.intents.get(name).cloned().unwrap_or_default();
                let examples = self.any_of(&words);
                if zh {
                    format!("没有一条回复有这类说法：{examples}")
                } else {
                    format!("No reply said anything like {examples}")
                }
            }
            Trigger::Article(id) if zh => format!("没有使用知识库文章 {id}"),
            Trigger::Article(id) => format!("Article {id} was not used"),
            Trigger::ScriptStep(step) if zh => format!("没有走到话术步骤 {step}"),
            Trigger::ScriptStep(step) => format!("Script step {step} was not reached"),
            Trigger::Disposition(code) if zh => format!("没有以 {code} 结束联系"),
            Trigger::Disposition(code) => format!("Not wrapped up as {code}"),
            Trigger::AnyReply(_) if zh => "一直没有回复客户".to_owned(),
            Trigger::AnyReply(_) => "The customer never got a reply".to_owned(),
        };
        (false, reason)
    }

    fn avoid(&self, avoid: &homedesk_content::scenario::Avoid) -> (bool, String) {
        let zh = self.zh;
        let unlock = avoid
            .unless_after
            .as_deref()
            .and_then(|id| self.sim.doc.rubric.items.iter().find(|item| item.id == id));
        // The log position from which the phrases are fine.
        let allowed_from = unlock.and_then(|item| match &item.check {
            Check::Did(trigger) => self.first_match(trigger).map(|(index, _, _)| index),
            _ => None,
        });
        let too_early = self.replies().find_map(|(index, at_ms, text)| {
            if allowed_from.is_some_and(|from| index >= from) {
                return None;
            }
            let phrase = self.matcher.phrase_in(text, &avoid.phrases)?;
            Some((at_ms, text, phrase))
        });
        let why = avoid.reason.trim().trim_end_matches(['。', '.']);
        match too_early {
            Some((at_ms, text, phrase)) => {
                let at = self.clock(at_ms);
                let said = excerpt(text, Some(&phrase));
                let reason = if zh {
                    format!("{why}。{at} 的回复说了“{phrase}”：“{said}”")
                } else {
                    format!("{why}. The reply at {at} said “{phrase}”: “{said}”")
                };
                (false, reason)
            }
            None => {
                let phrases = self.any_of(&self.shown_phrases(&avoid.phrases));
                let reason = match (unlock, zh) {
                    (Some(item), true) => {
                        let before = item.description.trim().trim_end_matches(['。', '.']);
                        format!("在“{before}”之前没有说过{phrases}")
                    }
                    (Some(item), false) => {
                        format!("Did not say {phrases} before: {}", item.description.trim())
                    }
                    (None, true) => format!("没有说过{phrases}"),
                    (None, false) => format!("Never said {phrases}"),
                };
                (true, reason)
            }
        }
    }

    /// Avoided phrases as a trainee understands them: an intent shown by
    /// its words.
    fn shown_phrases(&self, phrases: &[String]) -> Vec<String> {
        phrases
            .iter()
            .flat_map(|phrase| match phrase.strip_prefix("intent:") {
                Some(name) => self
                    .sim
                    .doc
                    .intents
                    .get(name.trim())
                    .cloned()
                    .unwrap_or_default(),
                None => vec![phrase.clone()],
            })
            .collect()
    }

    fn respond_in_time(&self) -> (bool, String) {
        let zh = self.zh;
        let target = self.sim.doc.rubric.response_secs;
        let answers = &self.sim.answers;
        if answers.is_empty() {
            let reason = if zh {
                "一直没有回复客户"
            } else {
                "You never replied to the customer"
            };
            return (false, reason.to_owned());
        }
        let late: Vec<String> = answers
            .iter()
            .filter(|answer| answer.reply_at_ms - answer.customer_at_ms > i64::from(target) * 1000)
            .map(|answer| {
                let at = self.clock(answer.reply_at_ms);
                let waited = ceil_secs(answer.reply_at_ms - answer.customer_at_ms);
                let over = waited.saturating_sub(target);
                if zh {
                    format!("{at} 的回复晚了：客户等了 {waited} 秒，目标 {target} 秒，超出 {over} 秒")
                } else {
                    format!(
                        "the reply at {at} was late: the customer waited {waited} s against a target of {target} s ({over} s over)"
                    )
                }
            })
            .collect();
        if late.is_empty() {
            let slowest = answers
                .iter()
                .map(|answer| ceil_secs(answer.reply_at_ms - answer.customer_at_ms))
                .max()
                .unwrap_or(0);
            let reason = if zh {
                format!("每条回复都在 {target} 秒内（最慢 {slowest} 秒）")
            } else {
                format!("Every reply came within {target} s (slowest {slowest} s)")
            };
            return (true, reason);
        }
        let reason = if zh {
            late.join("；")
        } else {
            let joined = late.join("; ");
            let mut chars = joined.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        };
        (false, reason)
    }

    fn no_escalation(&self) -> (bool, String) {
        let zh = self.zh;
        match self.sim.escalation {
            None if zh => (true, "客户没有等得不耐烦而升级投诉".to_owned()),
            None => (true, "The customer never ran out of patience".to_owned()),
            Some(escalation) => {
                let at = self.clock(escalation.at_ms);
                let waited = ceil_secs(escalation.waited_ms);
                let reason = if zh {
                    format!("客户等了 {waited} 秒没有得到回复，在 {at} 升级投诉")
                } else {
                    format!("The customer waited {waited} s without a reply and escalated at {at}")
                };
                (false, reason)
            }
        }
    }

    fn correct_disposition(&self) -> (bool, String) {
        let zh = self.zh;
        let want = &self.sim.doc.rubric.disposition;
        match self.sim.wrapped_up.as_deref() {
            Some(got) if got == want => {
                let reason = if zh {
                    format!("以正确的处理结果 {want} 结束")
                } else {
                    format!("Wrapped up with the right disposition, {want}")
                };
                (true, reason)
            }
            Some(got) => {
                let reason = if zh {
                    format!("结束时选择了 {got}，应该是 {want}")
                } else {
                    format!("Wrapped up as {got}; the right disposition is {want}")
                };
                (false, reason)
            }
            None => {
                let reason = if zh {
                    format!("没有结束这次联系（应以 {want} 结束）")
                } else {
                    format!("The contact was never wrapped up (it should be {want})")
                };
                (false, reason)
            }
        }
    }

    fn response_times(&self) -> Vec<ResponseTime> {
        let target_secs = self.sim.doc.rubric.response_secs;
        let mut times: Vec<ResponseTime> = self
            .sim
            .answers
            .iter()
            .map(|answer| {
                let waited_ms = answer.reply_at_ms - answer.customer_at_ms;
                ResponseTime {
                    customer_at_secs: self.offset_secs(answer.customer_at_ms),
                    customer_text: answer.customer_text.clone(),
                    reply_at_secs: Some(self.offset_secs(answer.reply_at_ms)),
                    secs: Some(ceil_secs(waited_ms)),
                    target_secs,
                    on_time: waited_ms <= i64::from(target_secs) * 1000,
                }
            })
            .collect();
        // A customer left waiting in a contact that is still open (the
        // trainee walked away). A wrap-up ends every wait: a last message
        // such as "ok, thanks" needs no answer.
        if let Some(wait) = &self.sim.wait {
            times.push(ResponseTime {
                customer_at_secs: self.offset_secs(wait.since_ms),
                customer_text: wait.text.clone(),
                reply_at_secs: None,
                secs: None,
                target_secs,
                on_time: false,
            });
        }
        times
    }

    fn replay_entry(&self, event: &SimEvent) -> ReplayEntry {
        let (kind, text) = match event {
            SimEvent::Customer(message) => (
                match message.kind {
                    CustomerMessageKind::Opening | CustomerMessageKind::Reaction => {
                        ReplayKind::Customer
                    }
                    CustomerMessageKind::Nudge => ReplayKind::Nudge,
                    CustomerMessageKind::Escalation => ReplayKind::Escalation,
                },
                message.text.clone(),
            ),
            SimEvent::Trainee { action, .. } => match action {
                TraineeAction::Reply(text) => (ReplayKind::Reply, text.clone()),
                TraineeAction::Article(id) => (ReplayKind::Article, id.clone()),
                TraineeAction::ScriptStep(step) => (ReplayKind::ScriptStep, step.clone()),
                TraineeAction::WrapUp(code) => (ReplayKind::WrapUp, code.clone()),
            },
        };
        ReplayEntry {
            at_secs: self.offset_secs(event.at_ms()),
            kind,
            text,
        }
    }

    /// Whole seconds since the contact arrived, rounded down.
    fn offset_secs(&self, at_ms: UnixMillis) -> u32 {
        let ms = (at_ms - self.sim.started_at_ms).max(0);
        u32::try_from(ms / 1000).unwrap_or(u32::MAX)
    }

    /// `m:ss` since the contact arrived.
    fn clock(&self, at_ms: UnixMillis) -> String {
        let secs = self.offset_secs(at_ms);
        format!("{}:{:02}", secs / 60, secs % 60)
    }

    /// “a”、“b”或“c” / “a”, “b” or “c”; past five words, the first five
    /// and “等” / “or the like”.
    fn any_of(&self, words: &[String]) -> String {
        const SHOWN: usize = 5;
        let quoted: Vec<String> = words.iter().take(SHOWN).map(|w| format!("“{w}”")).collect();
        if words.len() > SHOWN {
            return if self.zh {
                format!("{}等", quoted.join("、"))
            } else {
                format!("{} or the like", quoted.join(", "))
            };
        }
        match quoted.split_last() {
            None => String::new(),
            Some((only, [])) => only.clone(),
            Some((last, rest)) if self.zh => format!("{}或{last}", rest.join("、")),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// Milliseconds as whole seconds, rounded up (30.2 s late is late).
fn ceil_secs(ms: i64) -> u32 {
    u32::try_from((ms.max(0) + 999) / 1000).unwrap_or(u32::MAX)
}

/// A reply shortened for quoting in a reason: its start, or the part
/// around `around` (a word it says) when that lies further in.
fn excerpt(text: &str, around: Option<&str>) -> String {
    const MAX_CHARS: usize = 30;
    const BEFORE_CHARS: usize = 10;
    let chars: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    if chars.len() <= MAX_CHARS {
        return chars.into_iter().collect();
    }
    // Where the word starts, counted in characters of the folded text
    // (folding keeps the count for the letters replies are written in).
    let folded: Vec<char> = matching::fold_spaced(text).chars().collect();
    let word: Vec<char> = around
        .map(matching::fold)
        .unwrap_or_default()
        .chars()
        .collect();
    let at = (!word.is_empty())
        .then(|| {
            folded
                .windows(word.len())
                .position(|run| run == word.as_slice())
        })
        .flatten()
        .unwrap_or(0);
    let start = if at + word.len() <= MAX_CHARS {
        0
    } else {
        at.saturating_sub(BEFORE_CHARS).min(chars.len() - MAX_CHARS)
    };
    let end = (start + MAX_CHARS).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}
