//! Practice results as training records: a trainee's workstation reports
//! each finished practice contact so a trainer sees who is ready.
//!
//! Training records have their own endpoint (`/v1/training-records`) and
//! their own table on the platform. They never enter the change log, the
//! conversations or the outbox of live work: practice and live data do not
//! mix. An upload is idempotent by the record's `id` (chosen by the
//! workstation), so a resend after a dropped link stores nothing twice.

use serde::{Deserialize, Serialize};

use crate::entities::UnixMillis;

/// Most records in one upload.
pub const MAX_TRAINING_RECORDS_PER_UPLOAD: usize = 50;
/// Largest score report (JSON) one record may carry.
pub const MAX_TRAINING_REPORT_BYTES: usize = 256 * 1024;

/// One scored practice contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingRecord {
    /// Chosen by the workstation; 8–128 of `[A-Za-z0-9._:-]`.
    pub id: String,
    pub scenario_id: String,
    pub scenario_title: String,
    /// The practice shift or exam it was part of.
    #[serde(default)]
    pub pack_id: Option<String>,
    /// Played under exam rules (no hints).
    #[serde(default)]
    pub exam: bool,
    /// Score in percent, 0–100.
    pub percent: u8,
    pub passed: bool,
    pub started_at: UnixMillis,
    pub finished_at: UnixMillis,
    /// The full score report, as the workstation showed it.
    pub report: serde_json::Value,
}

/// `POST /v1/training-records`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingUpload {
    pub records: Vec<TrainingRecord>,
}

/// The answer to an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingUploadResult {
    /// Records new to the platform.
    pub stored: u32,
    /// Records it already had (same trainee and id).
    pub duplicates: u32,
}

/// A stored record with who sent it and when it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredTrainingRecord {
    pub trainee: String,
    pub received_at: UnixMillis,
    pub record: TrainingRecord,
}

/// `GET /v1/training-records`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingRecords {
    pub records: Vec<StoredTrainingRecord>,
}
