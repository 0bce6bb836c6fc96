//! The team console on the desk of a supervisor or trainer: the platform's
//! team view, trainees' progress and reports, read over the link
//! (`docs/protocol.md`, the console endpoints), and what a supervisor
//! changes from it.
//!
//! Offline-tolerant like the rest of the desk: every answer of the team
//! view and of the trainees' progress is kept in the agent's store
//! (`console_cache`), so when the link is down the console shows the last
//! one with its age instead of a blank page ([`Snapshot::live`] false).
//! Reports and promotions need the platform and say so when it is out of
//! reach. Reassigning, setting an agent away and notes go through the
//! outbox like every action: exactly once, also when sent offline.

use std::path::{Path, PathBuf};

use homedesk_protocol::{Action, Presence, Promotion, Reports, RoleChange, TeamView, TraineesView};
use serde::Serialize;
use serde::de::DeserializeOwned;
use ts_rs::TS;

use super::{Desk, store_error};
use crate::Error;
use crate::store::console_cache;
use crate::sync::{SyncError, TransportError};

/// A console screen's data: the platform's latest answer, or the last one
/// kept on this PC when the platform could not be reached.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TeamSnapshot.ts", concrete(T = TeamView))]
#[ts(rename = "TeamSnapshot")]
pub struct Snapshot<T> {
    /// `None`: never fetched on this PC and the platform is out of reach.
    pub view: Option<T>,
    /// When `view` was fetched (workstation clock, Unix ms).
    #[ts(type = "number | null")]
    pub fetched_at: Option<i64>,
    /// `true`: fetched just now; `false`: the kept copy, the link is down.
    pub live: bool,
    /// Why the platform could not be asked, when it could not.
    pub problem: Option<String>,
}

/// The trainees' screen's data (same shape as [`Snapshot`]).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TraineesSnapshot.ts")]
pub struct TraineesSnapshot {
    pub view: Option<TraineesView>,
    #[ts(type = "number | null")]
    pub fetched_at: Option<i64>,
    pub live: bool,
    pub problem: Option<String>,
}

impl From<Snapshot<TraineesView>> for TraineesSnapshot {
    fn from(s: Snapshot<TraineesView>) -> Self {
        TraineesSnapshot {
            view: s.view,
            fetched_at: s.fetched_at,
            live: s.live,
            problem: s.problem,
        }
    }
}

/// This PC's offset from UTC now, in minutes (China: 480): the console's
/// "today" and the reports' days are the agent's local days.
pub fn local_utc_offset_minutes() -> i16 {
    let secs = chrono::Local::now().offset().local_minus_utc();
    i16::try_from(secs / 60).unwrap_or(480)
}

/// Where exported reports go: the user's Downloads folder (home when
/// there is none); `HOMEDESK_REPORTS_DIR` chooses another.
pub fn reports_folder() -> Result<PathBuf, Error> {
    if let Some(dir) = std::env::var_os("HOMEDESK_REPORTS_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::download_dir()
        .or_else(dirs::home_dir)
        .ok_or(Error::NoDataDir)
}

/// A refusal or failure of the platform, as the console's caller hears it.
fn console_error(err: SyncError) -> Error {
    match err {
        SyncError::Transport(TransportError::Refused {
            status: 403 | 409,
            message,
            ..
        }) => Error::Forbidden(message),
        SyncError::Transport(TransportError::Refused {
            status: 400,
            message,
            ..
        }) => Error::InvalidAction(message),
        SyncError::Transport(TransportError::Refused {
            status: 404,
            message,
            ..
        }) => Error::NotFound(message),
        other => super::sign_in_error(other),
    }
}

/// Whether `err` means "not reachable now" (show the kept copy) rather than
/// a refusal to show.
fn out_of_reach(err: &Error) -> bool {
    matches!(err, Error::Unreachable(_) | Error::Platform(_))
}

impl Desk {
    /// The supervisor's team view: live from the platform, else the last
    /// one kept on this PC.
    pub async fn console_team(&self, utc_offset_minutes: i16) -> Result<Snapshot<TeamView>, Error> {
        let query = [("utc_offset_minutes", utc_offset_minutes.to_string())];
        let fetched = self
            .engine
            .on_platform(|http, token| {
                let query = query.clone();
                async move { http.console_get(&token, "/v1/team", &query).await }
            })
            .await
            .map_err(console_error);
        self.kept_or_fresh("team", fetched)
    }

    /// Every trainee's practice progress (trainers and supervisors): live,
    /// else the last one kept on this PC.
    pub async fn console_trainees(&self) -> Result<TraineesSnapshot, Error> {
        let fetched = self
            .engine
            .on_platform(|http, token| async move {
                http.console_get(&token, "/v1/trainees", &[]).await
            })
            .await
            .map_err(console_error);
        self.kept_or_fresh("trainees", fetched).map(Into::into)
    }

    /// Per agent and per day, `from` to `to` (`YYYY-MM-DD`, local days).
    /// Needs the platform.
    pub async fn console_reports(
        &self,
        from: &str,
        to: &str,
        utc_offset_minutes: i16,
    ) -> Result<Reports, Error> {
        let query = report_query(from, to, utc_offset_minutes)?;
        self.engine
            .on_platform(|http, token| {
                let query = query.clone();
                async move { http.console_get(&token, "/v1/reports", &query).await }
            })
            .await
            .map_err(console_error)
    }

    /// Saves the report as CSV in `folder` (for the centre's payroll) and
    /// returns the file's path. The file starts with a UTF-8 byte order
    /// mark, so spreadsheet programs on Windows read the Chinese names.
    pub async fn console_export_reports(
        &self,
        from: &str,
        to: &str,
        utc_offset_minutes: i16,
        folder: &Path,
    ) -> Result<PathBuf, Error> {
        let query = report_query(from, to, utc_offset_minutes)?;
        let csv = self
            .engine
            .on_platform(|http, token| {
                let query = query.clone();
                async move { http.console_csv(&token, &query).await }
            })
            .await
            .map_err(console_error)?;
        let path = folder.join(format!("homedesk-report-{from}-{to}.csv"));
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(folder)?;
            let partial = path.with_extension("csv.partial");
            let mut bytes = Vec::with_capacity(csv.len() + 3);
            bytes.extend_from_slice("\u{feff}".as_bytes());
            bytes.extend_from_slice(csv.as_bytes());
            std::fs::write(&partial, &bytes)?;
            std::fs::rename(&partial, &path)
        };
        write().map_err(|source| Error::DataDir {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Promotes a trainee who passed an exam to agent with `queues`
    /// (trainers and supervisors; the platform checks and audits it).
    pub async fn console_promote(
        &self,
        trainee: &str,
        queues: Vec<String>,
    ) -> Result<RoleChange, Error> {
        if queues.is_empty() {
            return Err(Error::InvalidAction(
                "choose at least one queue for the new agent".into(),
            ));
        }
        let promotion = Promotion { queues };
        self.engine
            .on_platform(|http, token| {
                let promotion = promotion.clone();
                let trainee = trainee.to_owned();
                async move { http.promote(&token, &trainee, &promotion).await }
            })
            .await
            .map_err(console_error)
    }

    /// A supervisor sets an agent of their queues away (or back): through
    /// the outbox, so it reaches the platform once, also when sent offline.
    pub fn set_agent_presence(
        &self,
        agent: &str,
        presence: Presence,
    ) -> Result<homedesk_protocol::ActionEnvelope, Error> {
        if agent == self.profile.code {
            return Err(Error::InvalidAction(
                "choose your own presence with the presence switch".into(),
            ));
        }
        self.act(Action::SetAgentPresence {
            agent: agent.to_owned(),
            presence,
        })
    }

    /// The fresh answer (kept for later), or — when the platform is out of
    /// reach — the kept one with why.
    fn kept_or_fresh<T: Serialize + DeserializeOwned>(
        &self,
        name: &str,
        fetched: Result<T, Error>,
    ) -> Result<Snapshot<T>, Error> {
        match fetched {
            Ok(view) => {
                let json = serde_json::to_string(&view)
                    .map_err(|e| Error::Platform(format!("cannot keep the answer: {e}")))?;
                let now = self.now_ms();
                self.store()
                    .write(|tx| console_cache::keep(tx, name, &json, now))
                    .map_err(store_error)?;
                Ok(Snapshot {
                    view: Some(view),
                    fetched_at: Some(now),
                    live: true,
                    problem: None,
                })
            }
            Err(err) if out_of_reach(&err) => {
                let kept = self
                    .store()
                    .read(|c| console_cache::kept(c, name))
                    .map_err(store_error)?;
                // A kept answer this version cannot read is as good as none.
                let (view, fetched_at) = match kept {
                    Some((json, at)) => match serde_json::from_str(&json) {
                        Ok(view) => (Some(view), Some(at)),
                        Err(_) => (None, None),
                    },
                    None => (None, None),
                };
                Ok(Snapshot {
                    view,
                    fetched_at,
                    live: false,
                    problem: Some(err.to_string()),
                })
            }
            Err(err) => Err(err),
        }
    }
}

/// The query of `/v1/reports`, with the dates checked here first.
fn report_query(
    from: &str,
    to: &str,
    utc_offset_minutes: i16,
) -> Result<[(&'static str, String); 3], Error> {
    for (name, date) in [("from", from), ("to", to)] {
        date.parse::<homedesk_protocol::LocalDate>()
            .map_err(|why| Error::InvalidAction(format!("{name}: {why}")))?;
    }
    Ok([
        ("from", from.to_owned()),
        ("to", to.to_owned()),
        ("utc_offset_minutes", utc_offset_minutes.to_string()),
    ])
}
