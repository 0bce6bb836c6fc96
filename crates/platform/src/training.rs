//! Training records: practice results uploaded by trainees' workstations,
//! read by trainers. Kept apart from live work (own table, own endpoint;
//! see `homedesk_protocol::training`).

use homedesk_protocol::{
    AgentProfile, EntityKind, MAX_TRAINING_RECORDS_PER_UPLOAD, MAX_TRAINING_REPORT_BYTES, Record,
    Role, StoredTrainingRecord, TrainingRecord, TrainingUpload, TrainingUploadResult, UnixMillis,
    is_valid_idempotency_key,
};

use crate::error::ApiError;
use crate::storage::Tx;

/// Most records one read returns.
pub const MAX_RECORDS_READ: usize = 1_000;

/// Checks an upload before anything is stored.
pub fn check(upload: &TrainingUpload) -> Result<(), ApiError> {
    if upload.records.is_empty() {
        return Err(ApiError::invalid("records: the upload is empty"));
    }
    if upload.records.len() > MAX_TRAINING_RECORDS_PER_UPLOAD {
        return Err(ApiError::invalid(format!(
            "records: {} records; send at most {MAX_TRAINING_RECORDS_PER_UPLOAD} at a time",
            upload.records.len()
        )));
    }
    for (i, r) in upload.records.iter().enumerate() {
        let at = |what: &str| format!("records[{i}].{what}");
        if !is_valid_idempotency_key(&r.id) {
            return Err(ApiError::invalid(format!(
                "{}: 8 to 128 of A-Z a-z 0-9 . _ : -",
                at("id")
            )));
        }
        if r.scenario_id.trim().is_empty() {
            return Err(ApiError::invalid(format!("{}: empty", at("scenario_id"))));
        }
        if r.percent > 100 {
            return Err(ApiError::invalid(format!(
                "{}: {} is more than 100",
                at("percent"),
                r.percent
            )));
        }
        // `finished_at` before `started_at` is kept, and `report` may be any
        // JSON: both times come from the workstation's clock (which may be
        // set back during a session), and a workstation whose stored report
        // no longer parses sends `null`. Refusing either would refuse the
        // whole upload every time it is retried, losing every result in it.
        if serde_json::to_vec(&r.report).map_or(0, |b| b.len()) > MAX_TRAINING_REPORT_BYTES {
            return Err(ApiError::invalid(format!(
                "{}: larger than {MAX_TRAINING_REPORT_BYTES} bytes",
                at("report")
            )));
        }
    }
    Ok(())
}

/// Stores the caller's records (idempotent by id).
pub fn store(
    tx: &mut dyn Tx,
    trainee: &str,
    upload: &TrainingUpload,
    now: UnixMillis,
) -> anyhow::Result<TrainingUploadResult> {
    let mut result = TrainingUploadResult {
        stored: 0,
        duplicates: 0,
    };
    for record in &upload.records {
        if tx.insert_training_record(trainee, &record.id, &serde_json::to_string(record)?, now)? {
            result.stored += 1;
        } else {
            result.duplicates += 1;
        }
    }
    Ok(result)
}

/// The records `caller` may read: a supervisor or trainer any trainee's (or
/// all), any other role only their own.
pub fn read(
    tx: &mut dyn Tx,
    caller: &str,
    trainee: Option<&str>,
) -> anyhow::Result<Result<Vec<StoredTrainingRecord>, ApiError>> {
    let role = match tx.get(EntityKind::AgentProfile, caller)? {
        Some(Record::AgentProfile(AgentProfile { role, .. })) => role,
        _ => Role::Agent,
    };
    let whose = match (role, trainee) {
        (Role::Supervisor | Role::Trainer, wanted) => wanted,
        (_, None) => Some(caller),
        (_, Some(wanted)) if wanted == caller => Some(caller),
        (_, Some(_)) => {
            return Ok(Err(ApiError::forbidden(
                "only a supervisor or trainer reads other trainees' records",
            )));
        }
    };
    let mut records = Vec::new();
    for (trainee, received_at, data) in tx.training_records(whose, MAX_RECORDS_READ)? {
        let record: TrainingRecord = serde_json::from_str(&data)?;
        records.push(StoredTrainingRecord {
            trainee,
            received_at,
            record,
        });
    }
    Ok(Ok(records))
}
