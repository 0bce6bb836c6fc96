//! A practice session on the desk: what the trainee chose (one scenario, a
//! practice shift or an exam), its progress and score, and the history of
//! finished practice contacts.
//!
//! Invariants: a session's working data lives in `sandbox/practice.sqlite`,
//! which is started afresh for every session and encrypted with a key made
//! for the session and never kept. The history belongs to its trainee: it
//! lives in the signed-in agent's own (encrypted) store, or, for practice
//! without signing in, in memory only, never uploaded. The history file of
//! older versions (`sandbox/history.sqlite`, plain) is moved into the first
//! agent store opened after the update and removed ([`adopt_legacy_history`]). Exam sessions show no per-contact report until every
//! contact is over (the UI asks `status()` first).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use homedesk_content::ContentSet;
use homedesk_content::scenario::{Level, ScenarioDoc};
use homedesk_protocol::{Channel, Record, UnixMillis};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ScoreReport;
use super::transport::{PracticeClock, SimulatorTransport};
use crate::Error;
use crate::store::{Store, practice_results};

/// A scenario the trainee can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PracticeScenario.ts")]
pub struct PracticeScenario {
    pub id: String,
    pub title: String,
    #[ts(type = "\"easy\" | \"medium\" | \"hard\"")]
    pub level: String,
    pub channel: Channel,
    pub summary: String,
    pub locale: String,
}

/// A practice shift (customers arriving like a queue) or an exam.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PracticePack.ts")]
pub struct PracticePack {
    pub id: String,
    pub title: String,
    pub exam: bool,
    pub pass_mark: u8,
    pub scenario_ids: Vec<String>,
    pub arrival_secs: u32,
}

/// What the trainee can practise, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PracticeCatalog.ts")]
pub struct PracticeCatalog {
    pub scenarios: Vec<PracticeScenario>,
    pub packs: Vec<PracticePack>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "PracticeChoice.ts")]
pub enum PracticeChoice {
    Scenario(String),
    Pack(String),
}

/// Something only the practice customer sees: an article the trainee used,
/// a script step they reached (`script-id#step-id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "PracticeMark.ts")]
pub enum PracticeMark {
    Article(String),
    ScriptStep(String),
}

/// One contact of the running session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PracticeContact.ts")]
pub struct PracticeContact {
    pub conversation_id: String,
    pub scenario_id: String,
    pub title: String,
    pub over: bool,
    pub percent: u32,
    pub passed: bool,
}

/// The running session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PracticeStatus.ts")]
pub struct PracticeStatus {
    pub active: bool,
    pub title: Option<String>,
    pub exam: bool,
    pub pass_mark: Option<u8>,
    /// The contacts that have arrived so far.
    pub contacts: Vec<PracticeContact>,
    /// Points got over points total of the arrived contacts, in percent.
    pub percent: Option<u32>,
    /// Set once every contact of the session is over.
    pub passed: Option<bool>,
}

impl PracticeStatus {
    pub fn inactive() -> PracticeStatus {
        PracticeStatus {
            active: false,
            title: None,
            exam: false,
            pass_mark: None,
            contacts: Vec::new(),
            percent: None,
            passed: None,
        }
    }
}

/// A finished practice contact, as the history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PracticeResult.ts")]
pub struct PracticeResult {
    pub id: String,
    pub scenario_id: String,
    pub title: String,
    pub pack_id: Option<String>,
    pub exam: bool,
    pub percent: u32,
    pub passed: bool,
    #[ts(type = "number")]
    pub finished_at: UnixMillis,
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Easy => "easy",
        Level::Medium => "medium",
        Level::Hard => "hard",
    }
}

/// The scenarios and packs in `locale` (all of them when none is in it).
pub fn catalog(content: &ContentSet, locale: &str) -> PracticeCatalog {
    let in_locale = |l: &str| l == locale;
    let any = content.scenario_docs.iter().any(|d| in_locale(&d.locale));
    let mut scenarios: Vec<PracticeScenario> = content
        .scenario_docs
        .iter()
        .filter(|d| !any || in_locale(&d.locale))
        .map(|d| PracticeScenario {
            id: d.id.clone(),
            title: d.title.clone(),
            level: level(d.level).to_owned(),
            channel: d.channel,
            summary: d.summary.clone(),
            locale: d.locale.clone(),
        })
        .collect();
    scenarios
        .sort_by(|a, b| (level_rank(&a.level), &a.title).cmp(&(level_rank(&b.level), &b.title)));
    let packs = content
        .packs
        .iter()
        .filter(|p| !any || in_locale(&p.locale))
        .map(|p| PracticePack {
            id: p.id.clone(),
            title: p.title.clone(),
            exam: p.exam,
            pass_mark: p.pass_mark,
            scenario_ids: p.scenarios.clone(),
            arrival_secs: p.arrival_secs,
        })
        .collect();
    PracticeCatalog { scenarios, packs }
}

fn level_rank(level: &str) -> u8 {
    match level {
        "easy" => 0,
        "medium" => 1,
        _ => 2,
    }
}

/// A running practice session.
pub struct PracticeSession {
    pub transport: SimulatorTransport,
    id: String,
    title: String,
    exam: bool,
    pass_mark: u8,
    pack_id: Option<String>,
    /// (conversation id, scenario id, title), in arrival order.
    contacts: Vec<(String, String, String)>,
    history: Arc<Store>,
    clock: PracticeClock,
}

impl PracticeSession {
    /// Sets up the simulated platform for `choice` from `content`.
    pub fn start(
        history: Arc<Store>,
        content: &ContentSet,
        choice: &PracticeChoice,
        trainee: (&str, &str),
        clock: PracticeClock,
    ) -> Result<PracticeSession, Error> {
        let find = |id: &str| -> Result<ScenarioDoc, Error> {
            content
                .scenario_docs
                .iter()
                .find(|d| d.id == id)
                .cloned()
                .ok_or_else(|| Error::InvalidAction(format!("no practice scenario {id:?}")))
        };
        let (title, exam, pass_mark, pack_id, arrival_secs, docs) = match choice {
            PracticeChoice::Scenario(id) => {
                let doc = find(id)?;
                (
                    doc.title.clone(),
                    false,
                    doc.rubric.pass_mark,
                    None,
                    0,
                    vec![doc],
                )
            }
            PracticeChoice::Pack(id) => {
                let pack = content
                    .packs
                    .iter()
                    .find(|p| &p.id == id)
                    .ok_or_else(|| Error::InvalidAction(format!("no practice pack {id:?}")))?;
                let docs = pack
                    .scenarios
                    .iter()
                    .map(|s| find(s))
                    .collect::<Result<Vec<_>, _>>()?;
                (
                    pack.title.clone(),
                    pack.exam,
                    pack.pass_mark,
                    Some(pack.id.clone()),
                    pack.arrival_secs,
                    docs,
                )
            }
        };
        let contacts = docs
            .iter()
            .map(|d| (format!("conv-{}", d.id), d.id.clone(), d.title.clone()))
            .collect();
        let reference: Vec<Record> = content
            .kb
            .iter()
            .cloned()
            .map(Record::KbArticle)
            .chain(
                content
                    .canned_replies
                    .iter()
                    .cloned()
                    .map(Record::CannedReply),
            )
            .chain(content.scripts.iter().cloned().map(Record::Script))
            .collect();
        let started = clock.now_ms();
        let transport = SimulatorTransport::new(
            trainee.0,
            trainee.1,
            reference,
            docs,
            arrival_secs,
            Arc::clone(&clock),
        );
        let session = PracticeSession {
            transport,
            id: format!("practice-{started}"),
            title,
            exam,
            pass_mark,
            pack_id,
            contacts,
            history,
            clock,
        };
        // Each finished contact goes to the history the moment it ends, so
        // closing the app before looking at the report loses nothing.
        let keeper = session.keeper();
        session
            .transport
            .on_finished(Arc::new(move |conversation_id, report| {
                if let Err(err) = keeper.keep(conversation_id, report) {
                    tracing::warn!("could not keep a practice result: {err}");
                }
            }));
        Ok(session)
    }

    fn keeper(&self) -> Keeper {
        Keeper {
            id: self.id.clone(),
            exam: self.exam,
            pack_id: self.pack_id.clone(),
            contacts: self.contacts.clone(),
            history: Arc::clone(&self.history),
            clock: Arc::clone(&self.clock),
        }
    }

    pub fn exam(&self) -> bool {
        self.exam
    }

    pub fn status(&self) -> PracticeStatus {
        let mut contacts = Vec::new();
        let (mut got, mut total) = (0u32, 0u32);
        for (conversation_id, scenario_id, title) in &self.contacts {
            let Some(report) = self.transport.report(conversation_id) else {
                continue;
            };
            got += report.points_got;
            total += report.points_total;
            contacts.push(PracticeContact {
                conversation_id: conversation_id.clone(),
                scenario_id: scenario_id.clone(),
                title: title.clone(),
                over: report.disposition.is_some(),
                percent: report.percent,
                passed: report.passed,
            });
        }
        let all_over = contacts.len() == self.contacts.len() && contacts.iter().all(|c| c.over);
        let percent = (total > 0).then(|| got * 100 / total);
        PracticeStatus {
            active: true,
            title: Some(self.title.clone()),
            exam: self.exam,
            pass_mark: Some(self.pass_mark),
            contacts,
            percent,
            passed: all_over.then(|| got * 100 >= u32::from(self.pass_mark) * total),
        }
    }

    /// The report of one contact; once it is over it is kept in the history
    /// (once). In an exam, reports wait until every contact is over.
    pub fn report(&self, conversation_id: &str) -> Result<Option<ScoreReport>, Error> {
        if !self.contacts.iter().any(|(c, _, _)| c == conversation_id) {
            return Ok(None);
        }
        let Some(report) = self.transport.report(conversation_id) else {
            return Ok(None);
        };
        if report.disposition.is_some() {
            self.keeper().keep(conversation_id, &report)?;
        }
        if self.exam && self.status().passed.is_none() {
            return Ok(None);
        }
        Ok(Some(report))
    }

    pub fn mark(&self, conversation_id: &str, mark: &PracticeMark) {
        match mark {
            PracticeMark::Article(id) => self.transport.article(conversation_id, id),
            PracticeMark::ScriptStep(step) => self.transport.script_step(conversation_id, step),
        }
    }
}

/// Keeps finished contacts of one session in the history (once each).
struct Keeper {
    id: String,
    exam: bool,
    pack_id: Option<String>,
    contacts: Vec<(String, String, String)>,
    history: Arc<Store>,
    clock: PracticeClock,
}

impl Keeper {
    fn keep(&self, conversation_id: &str, report: &ScoreReport) -> Result<(), Error> {
        let Some((_, scenario_id, title)) =
            self.contacts.iter().find(|(c, _, _)| c == conversation_id)
        else {
            return Ok(());
        };
        let result = PracticeResult {
            id: format!("{}-{scenario_id}", self.id),
            scenario_id: scenario_id.clone(),
            title: title.clone(),
            pack_id: self.pack_id.clone(),
            exam: self.exam,
            percent: report.percent,
            passed: report.passed,
            finished_at: self.clock.now_ms(),
        };
        let json = serde_json::to_string(report).unwrap_or_default();
        self.history
            .write(|tx| practice_results::save(tx, &result, &json))
            .map_err(|e| Error::Store(e.to_string()))
    }
}

/// The sandbox's working file for a new session: the previous session's
/// working data is removed (never the history, never a live file).
pub fn fresh_working_db(data_dir: &Path) -> Result<PathBuf, Error> {
    let db = crate::paths::sandbox_db(data_dir);
    let folder = db.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&folder).map_err(|source| Error::DataDir {
        path: folder.clone(),
        source,
    })?;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::DataDir { path: file, source }),
        }
    }
    Ok(db)
}

fn legacy_history_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox").join("history.sqlite")
}

/// Moves the plain history file of an older version (results of whoever
/// practised on this PC, which that version uploaded with the next agent's
/// session anyway) into `store`, the first agent store opened after the
/// update, then removes it. Nothing is removed unless the copy is done.
pub fn adopt_legacy_history(data_dir: &Path, store: &Store) -> Result<usize, Error> {
    let path = legacy_history_path(data_dir);
    if !crate::store::convert::is_plain(&path) {
        return Ok(0);
    }
    let failed = |e: String| Error::Store(format!("practice history {}: {e}", path.display()));
    let rows = {
        crate::store::init_crypto();
        let old = rusqlite::Connection::open(&path).map_err(|e| failed(e.to_string()))?;
        practice_results::all_rows(&old).map_err(|e| failed(e.to_string()))?
    };
    let count = rows.len();
    store
        .write(|tx| practice_results::insert_rows(tx, &rows))
        .map_err(|e| failed(e.to_string()))?;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Err(e) = std::fs::remove_file(&file)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            return Err(failed(e.to_string()));
        }
    }
    tracing::info!(
        count,
        "practice history of an older version moved into the agent's store"
    );
    Ok(count)
}

/// Finished practice contacts in `history`, newest first.
pub fn history(history: &Store) -> Result<Vec<PracticeResult>, Error> {
    history
        .read(|c| practice_results::newest(c, 500))
        .map_err(|e| Error::Store(e.to_string()))
}

/// Finished practice contacts the platform has not taken yet, as training
/// records (at most `limit`, oldest first).
pub fn pending_uploads(
    history: &Store,
    limit: usize,
) -> Result<Vec<homedesk_protocol::TrainingRecord>, Error> {
    history
        .read(|c| practice_results::not_uploaded(c, limit))
        .map_err(|e| Error::Store(e.to_string()))
}

/// Notes that the platform took these records.
pub fn mark_uploaded(history: &Store, ids: &[String], now: UnixMillis) -> Result<(), Error> {
    history
        .write(|tx| practice_results::mark_uploaded(tx, ids, now))
        .map_err(|e| Error::Store(e.to_string()))
}
