//! `kb import`, `content import` and `training list`: knowledge, canned
//! replies, call scripts and scenarios into a data folder, and trainees'
//! practice results out of it.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use homedesk_platform::admin::import_records;
use homedesk_platform::{content, now_ms};
use homedesk_protocol::Record;

use super::existing;

#[derive(Subcommand, Debug)]
pub enum KbCommand {
    /// Import articles from a folder of Markdown files or a .jsonl file.
    Import {
        #[arg(long)]
        data_dir: PathBuf,
        source: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ContentCommand {
    /// Import a content folder (kb/, canned-replies/, scripts/, scenarios/).
    Import {
        #[arg(long)]
        data_dir: PathBuf,
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum TrainingCommand {
    /// Who is ready: each trainee's practice results, newest first, with
    /// their average and the exams they passed.
    List {
        #[arg(long)]
        data_dir: PathBuf,
        /// Only this trainee.
        #[arg(long)]
        trainee: Option<String>,
    },
}

pub fn kb(command: KbCommand) -> anyhow::Result<()> {
    let KbCommand::Import { data_dir, source } = command;
    kb_import(&data_dir, &source)
}

pub fn content(command: ContentCommand) -> anyhow::Result<()> {
    let ContentCommand::Import { data_dir, dir } = command;
    content_import(&data_dir, &dir)
}

pub fn training(command: TrainingCommand) -> anyhow::Result<()> {
    let TrainingCommand::List { data_dir, trainee } = command;
    training_list(&data_dir, trainee.as_deref())
}

fn report_content_errors(errors: Vec<content::ContentError>) -> anyhow::Error {
    for error in &errors {
        eprintln!("{error}");
    }
    anyhow::anyhow!("{} problem(s) found; nothing was imported", errors.len())
}

fn kb_import(data_dir: &Path, source: &Path) -> anyhow::Result<()> {
    let articles = content::load_kb(source, now_ms()).map_err(report_content_errors)?;
    let storage = homedesk_platform::storage::open_configured(data_dir)?;
    let report = import_records(
        &storage,
        articles.into_iter().map(Record::KbArticle).collect(),
        now_ms(),
    )?;
    println!("knowledge base: {report}");
    Ok(())
}

fn content_import(data_dir: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut set = content::load_content_dir(dir, now_ms()).map_err(report_content_errors)?;
    let storage = homedesk_platform::storage::open_configured(data_dir)?;
    homedesk_platform::admin::store_canned_images(
        &storage,
        &mut set.canned_replies,
        &set.canned_images,
        now_ms(),
    )?;
    let mut records: Vec<Record> = set.kb.into_iter().map(Record::KbArticle).collect();
    records.extend(set.canned_replies.into_iter().map(Record::CannedReply));
    records.extend(set.scripts.into_iter().map(Record::Script));
    records.extend(set.scenarios.into_iter().map(Record::Scenario));
    let report = import_records(&storage, records, now_ms())?;
    println!("content: {report}");
    Ok(())
}

fn training_list(data_dir: &Path, trainee: Option<&str>) -> anyhow::Result<()> {
    let storage = existing(data_dir)?;
    let storage: &dyn homedesk_platform::storage::Storage = &storage;
    let rows = storage.read_with(|tx| {
        tx.training_records(trainee, homedesk_platform::training::MAX_RECORDS_READ)
    })?;
    if rows.is_empty() {
        println!("no practice results yet");
        return Ok(());
    }
    let mut by_trainee: std::collections::BTreeMap<String, Vec<homedesk_protocol::TrainingRecord>> =
        std::collections::BTreeMap::new();
    for (who, _, data) in rows {
        let record: homedesk_protocol::TrainingRecord = serde_json::from_str(&data)?;
        by_trainee.entry(who).or_default().push(record);
    }
    for (who, records) in &by_trainee {
        let average = records.iter().map(|r| u32::from(r.percent)).sum::<u32>()
            / u32::try_from(records.len()).unwrap_or(1);
        let exams_passed = records.iter().filter(|r| r.exam && r.passed).count();
        println!(
            "{who}: {} results, average {average}%, {exams_passed} exam contacts passed",
            records.len()
        );
        for r in records {
            println!(
                "  {:>3}%  {:<6} {}{}  ({})",
                r.percent,
                if r.passed { "passed" } else { "failed" },
                r.scenario_title,
                if r.exam { " [exam]" } else { "" },
                r.scenario_id
            );
        }
    }
    Ok(())
}
