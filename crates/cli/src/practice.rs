//! `homedesk-cli practice play`: one practice scenario played headless with
//! scripted trainee steps, scored by the same simulator the app's sandbox
//! uses (`homedesk_core::practice`), so a trainer or an author sees the
//! report a trainee would get for those replies.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use homedesk_content::scenario::{PlayStep, RepliesFile, ScenarioDoc};
use homedesk_core::practice::{self, ReplayKind, ScoreReport};
use serde::Deserialize;
use toml::Spanned;

#[derive(Subcommand, Debug)]
pub enum PracticeCommand {
    /// Play a scenario with scripted trainee steps and print the score report.
    Play {
        /// The scenario's id (`sc-…`)
        scenario_id: String,
        /// TOML file of `[[step]]` tables: `at_secs` (after the contact
        /// arrived) and one of reply, article, script_step, wrap_up
        #[arg(long)]
        replies: PathBuf,
        /// Content folder holding scenarios/ (or the scenarios/ folder itself)
        /// [default: ./content, else the content/ of the source tree this
        /// binary was built in]
        #[arg(long)]
        content: Option<PathBuf>,
        /// Print the score report as JSON (as the app receives it)
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: PracticeCommand) -> anyhow::Result<()> {
    match command {
        PracticeCommand::Play {
            scenario_id,
            replies,
            content,
            json,
        } => {
            let scenarios_dir = scenarios_dir(content)?;
            let doc = load_scenario(&scenarios_dir, &scenario_id)?;
            let steps = read_replies(&replies)?;
            let report = practice::play(&doc, &steps);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            Ok(())
        }
    }
}

/// The `scenarios/` folder to play from: `--content` (a content folder or
/// its `scenarios/`), else `./content/scenarios`, else the first
/// `content/scenarios` above the binary (a build in `target/…` of the
/// source tree).
fn scenarios_dir(content: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    const SCENARIOS: &str = homedesk_content::SCENARIOS_FOLDER;
    if let Some(dir) = content {
        if dir.join(SCENARIOS).is_dir() {
            return Ok(dir.join(SCENARIOS));
        }
        if dir.is_dir() {
            return Ok(dir);
        }
        bail!("--content {}: no such folder", dir.display());
    }
    let cwd = Path::new("content").join(SCENARIOS);
    if cwd.is_dir() {
        return Ok(cwd);
    }
    let exe = std::env::current_exe().context("finding this program's folder")?;
    exe.ancestors()
        .skip(1)
        .map(|dir| dir.join("content").join(SCENARIOS))
        .find(|dir| dir.is_dir())
        .context("no content/scenarios folder here or above this program; give --content DIR")
}

/// Loads and checks the whole folder (as the app and `content import` do:
/// an invalid set is refused), then picks the scenario.
fn load_scenario(dir: &Path, id: &str) -> anyhow::Result<ScenarioDoc> {
    let set = homedesk_content::load_scenarios_dir(dir, None, None).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "{} has {} problem(s) (see `homedesk-cli scenario check`):\n{}",
            dir.display(),
            lines.len(),
            lines.join("\n")
        )
    })?;
    if let Some(doc) = set.docs.iter().find(|doc| doc.id == id) {
        return Ok(doc.clone());
    }
    let known: Vec<&str> = set.docs.iter().map(|doc| doc.id.as_str()).collect();
    bail!(
        "no scenario {id:?} in {} (there are: {})",
        dir.display(),
        known.join(", ")
    )
}

/// A replies file with its steps' lines, for messages that point at them.
#[derive(Deserialize)]
struct RepliesSpans {
    #[serde(rename = "step")]
    steps: Vec<Spanned<PlayStep>>,
}

/// Reads a replies file; the first problem is the error, as
/// `FILE:LINE: message`.
fn read_replies(path: &Path) -> anyhow::Result<Vec<PlayStep>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the replies file", path.display()))?;
    let line_at = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let at = |line: Option<usize>| match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    };
    // Parsed as the public type first, so what passes here is a RepliesFile.
    if let Err(err) = toml::from_str::<RepliesFile>(&text) {
        let message = err.message().trim();
        if message == "missing field `step`" {
            bail!(
                "{}: no steps: add [[step]] tables with at_secs and one of reply, article, \
                 script_step, wrap_up",
                at(None)
            );
        }
        let line = err.span().map(|span| line_at(span.start));
        bail!("{}: {message}", at(line));
    }
    let spans: RepliesSpans =
        toml::from_str(&text).with_context(|| format!("{}: not a replies file", path.display()))?;
    if spans.steps.is_empty() {
        bail!("{}: no steps: add [[step]] tables", at(None));
    }
    let mut before: Option<u32> = None;
    for (index, step) in spans.steps.iter().enumerate() {
        let line = Some(line_at(step.span().start));
        let number = index + 1;
        let step = step.get_ref();
        let actions = [
            step.reply.is_some(),
            step.article.is_some(),
            step.script_step.is_some(),
            step.wrap_up.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count();
        if actions != 1 {
            bail!(
                "{}: step {number} does {actions} things; a step does exactly one of reply, \
                 article, script_step, wrap_up",
                at(line)
            );
        }
        if let Some(before) = before
            && step.at_secs < before
        {
            bail!(
                "{}: step {number}: at_secs = {} is earlier than the step before (at_secs = \
                 {before}); steps must be in time order",
                at(line),
                step.at_secs
            );
        }
        before = Some(step.at_secs);
    }
    Ok(spans.steps.into_iter().map(Spanned::into_inner).collect())
}

fn clock(secs: u32) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

fn print_report(report: &ScoreReport) {
    println!("{} ({})", report.title, report.scenario_id);
    println!(
        "score {}/{} = {}%, pass mark {}%: {}",
        report.points_got,
        report.points_total,
        report.percent,
        report.pass_mark,
        if report.passed {
            "PASSED"
        } else {
            "NOT PASSED"
        }
    );
    println!(
        "ended in turn {:?}; wrapped up as {} (expected {}); the customer {}",
        report.end_turn,
        report.disposition.as_deref().unwrap_or("-"),
        report.expected_disposition,
        if report.escalated {
            "escalated"
        } else {
            "did not escalate"
        }
    );
    if let Some(article) = &report.helpful_article {
        println!("the article that would have helped: {article}");
    }

    println!();
    println!("rubric");
    let id_width = report.items.iter().map(|i| i.id.len()).max().unwrap_or(0);
    for item in &report.items {
        println!(
            "  {:<6}  {:<id_width$}  {:>3}/{:<3}  {}",
            if item.met { "met" } else { "MISSED" },
            item.id,
            item.points_got,
            item.points,
            item.reason
        );
    }

    println!();
    println!("response times (target {} s)", report.response_target_secs);
    if report.response_times.is_empty() {
        println!("  (no reply)");
    }
    for time in &report.response_times {
        match (time.reply_at_secs, time.secs) {
            (Some(reply_at), Some(secs)) => println!(
                "  {:>5} -> {:>5}  {:>4} s  {}",
                clock(time.customer_at_secs),
                clock(reply_at),
                secs,
                if time.on_time { "on time" } else { "LATE" }
            ),
            _ => println!(
                "  {:>5} ->     -     - s  NO REPLY",
                clock(time.customer_at_secs)
            ),
        }
    }

    println!();
    println!("replay");
    for entry in &report.replay {
        let who = match entry.kind {
            ReplayKind::Customer => "customer",
            ReplayKind::Nudge => "customer (nudge)",
            ReplayKind::Escalation => "customer (escalates)",
            ReplayKind::Reply => "trainee",
            ReplayKind::Article => "article",
            ReplayKind::ScriptStep => "script step",
            ReplayKind::WrapUp => "wrap-up",
        };
        println!("  {:>5}  {who:<20}  {}", clock(entry.at_secs), entry.text);
    }
}
