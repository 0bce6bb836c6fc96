//! The practice scenario format (`content/scenarios/*.toml`), documented for
//! authors in `docs/scenarios.md`.
//!
//! A scenario is one simulated customer contact: who the customer is and how
//! they feel, their opening message and channel, a tree of customer turns
//! chosen by what the trainee does, the customer's patience, and a rubric the
//! contact is scored against. Packs (`content/scenarios/packs/*.toml`) group
//! scenarios into a practice shift or an exam with a pass mark.
//!
//! These types are the parsed, checked form shared by the platform's
//! `content import`, `homedesk-cli scenario check` and the app's practice
//! mode, so all three refuse the same files with the same messages.

use homedesk_protocol::Channel;
use serde::{Deserialize, Serialize};

/// How hard a scenario is, for ordering and for the trainer's course plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Easy,
    Medium,
    Hard,
}

/// The customer's mood at the start; turns may change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mood {
    Calm,
    Anxious,
    Impatient,
    Angry,
}

/// One simulated contact. Top-level keys of the TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDoc {
    /// `sc-<locale>-<slug>`, unique across all scenarios.
    pub id: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    pub title: String,
    pub level: Level,
    pub channel: Channel,
    /// Knowledge-base / script category the contact is about (suggests
    /// scripts and articles, as in live work).
    pub category: String,
    /// One or two sentences for the trainee's scenario list.
    pub summary: String,
    pub customer: SimCustomer,
    /// The customer's first message (for a phone call-back: the call-back
    /// request as the ticket says it).
    pub opening: String,
    pub patience: Patience,
    /// Named keyword groups reused by triggers and the rubric:
    /// `[intents] apology = ["抱歉", "不好意思", "对不起"]`.
    #[serde(default)]
    pub intents: std::collections::BTreeMap<String, Vec<String>>,
    /// The customer's turns; the first is where the conversation starts
    /// (after the opening message).
    #[serde(rename = "turn")]
    pub turns: Vec<Turn>,
    pub rubric: Rubric,
}

/// Who the simulated customer is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimCustomer {
    pub name: String,
    /// Shown masked, like a live customer's.
    pub phone: String,
    #[serde(default)]
    pub city: Option<String>,
    /// For the trainer and the score report: who this person is.
    pub persona: String,
    pub mood: Mood,
    #[serde(default, rename = "order")]
    pub orders: Vec<SimOrder>,
}

/// An order the customer panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimOrder {
    pub order_no: String,
    pub item: String,
    pub amount_fen: i64,
    pub status: String,
    /// Placed this many days before the practice starts.
    pub placed_days_ago: u32,
}

/// How long the customer waits for the trainee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patience {
    /// With no reply for this long, the customer writes `nudge` (once per
    /// wait) and counts as impatient.
    pub nudge_after_secs: u32,
    pub nudge: String,
    /// With no reply for this long, the customer escalates: writes
    /// `escalation`, becomes angry, and the rubric's "kept the customer
    /// waiting" penalty applies.
    pub escalate_after_secs: u32,
    pub escalation: String,
}

/// One customer turn: what the customer waits for and how they react.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    /// Unique within the scenario; `[[turn.reaction]] next` refers to it.
    pub id: String,
    /// Checked in order after each trainee action; the first that matches
    /// fires. A turn without reactions ends the contact from the
    /// customer's side (they are satisfied or gone).
    #[serde(default, rename = "reaction")]
    pub reactions: Vec<Reaction>,
}

/// "When the trainee does X, the customer says Y and the conversation moves
/// to turn Z."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    pub when: Trigger,
    /// What the customer writes; empty = nothing (just move on).
    #[serde(default)]
    pub say: String,
    /// The next turn; absent = stay in this turn.
    #[serde(default)]
    pub next: Option<String>,
    /// The customer's mood from now on.
    #[serde(default)]
    pub mood: Option<Mood>,
}

/// What the trainee did. Exactly one key per trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A reply containing any of these words (case-insensitive).
    Keywords(Vec<String>),
    /// A reply matching a named group of `[intents]`.
    Intent(String),
    /// The trainee inserted text from this knowledge article into a reply,
    /// or opened it (`kb-…` id).
    Article(String),
    /// The trainee reached this step of a guided call script:
    /// `"script-id#step-id"`.
    ScriptStep(String),
    /// The trainee wrapped up with this disposition code.
    Disposition(String),
    /// Any reply at all (use last, as the fallback).
    AnyReply(bool),
}

/// How the contact is scored: items worth points, and the pass mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Percent of the points needed to pass this scenario on its own.
    pub pass_mark: u8,
    /// Target time for the first reply, and for each reply after a
    /// customer message.
    pub response_secs: u32,
    /// The disposition code a correct wrap-up uses.
    pub disposition: String,
    /// The article that would have helped (named in the report when the
    /// trainee did not use it).
    #[serde(default)]
    pub helpful_article: Option<String>,
    #[serde(rename = "item")]
    pub items: Vec<RubricItem>,
}

/// One thing the trainer checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricItem {
    pub id: String,
    /// Said to the trainee in the report: what was expected.
    pub description: String,
    pub points: u32,
    pub check: Check,
}

/// What a rubric item checks. Exactly one key per check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// Some reply says this (a trigger: keywords, intent, article,
    /// script step).
    Did(Trigger),
    /// No reply says this before `unless_after` was met (e.g. promising a
    /// refund before checking the order). Met when never said too early.
    Avoid(Avoid),
    /// Every reply came within `response_secs` of the customer's message.
    RespondInTime(bool),
    /// The customer never escalated.
    NoEscalation(bool),
    /// The wrap-up used the rubric's disposition.
    CorrectDisposition(bool),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Avoid {
    /// Keywords or an intent name (prefixed `intent:`).
    pub phrases: Vec<String>,
    /// Saying it is fine once this rubric item is met.
    #[serde(default)]
    pub unless_after: Option<String>,
    /// Why, for the report.
    pub reason: String,
}

/// A practice shift or an exam: several scenarios in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    pub id: String,
    pub locale: String,
    pub title: String,
    /// `true`: exam mode (no hints, no knowledge of the rubric, a pass mark).
    #[serde(default)]
    pub exam: bool,
    /// Percent of all points in the pack needed to pass (set by the trainer).
    pub pass_mark: u8,
    /// Seconds between one customer arriving and the next (a practice
    /// shift's queue); 0 = all at once.
    #[serde(default)]
    pub arrival_secs: u32,
    pub scenarios: Vec<String>,
}

/// Scripted trainee play-throughs of one scenario
/// (`content/scenarios/answers/<scenario-id>.toml`): the core's tests and
/// `homedesk-cli practice play` drive the simulator with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayFile {
    #[serde(rename = "play")]
    pub plays: Vec<Play>,
}

/// One play-through and what it must lead to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Play {
    pub name: String,
    pub expect_pass: bool,
    /// Rubric items this play must miss (a poor play shows what it teaches).
    #[serde(default)]
    pub expect_missed: Vec<String>,
    /// The customer's turn when the play ends, when it matters.
    #[serde(default)]
    pub expect_end_turn: Option<String>,
    /// Whether the customer escalated (ran out of patience).
    #[serde(default)]
    pub expect_escalated: Option<bool>,
    #[serde(rename = "step")]
    pub steps: Vec<PlayStep>,
}

/// One thing the trainee does, `at_secs` after the contact arrived.
/// Exactly one of the action keys is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayStep {
    pub at_secs: u32,
    #[serde(default)]
    pub reply: Option<String>,
    /// A knowledge article opened or inserted (`kb-…`).
    #[serde(default)]
    pub article: Option<String>,
    /// A guided-script step reached: `"script-id#step-id"`.
    #[serde(default)]
    pub script_step: Option<String>,
    /// Wrap-up with this disposition (ends the contact).
    #[serde(default)]
    pub wrap_up: Option<String>,
}

/// The steps alone, as `homedesk-cli practice play --replies FILE` reads
/// them (`[[step]]` tables).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepliesFile {
    #[serde(rename = "step")]
    pub steps: Vec<PlayStep>,
}
