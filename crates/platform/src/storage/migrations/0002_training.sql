-- Practice results (training records): their own table, never in the
-- change log, never visible to live sync. One row per (trainee, id): the
-- id is the workstation's idempotency key.
CREATE TABLE training_records (
    trainee     TEXT NOT NULL,
    id          TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    data        TEXT NOT NULL,   -- JSON of homedesk_protocol::TrainingRecord
    PRIMARY KEY (trainee, id)
) STRICT;
CREATE INDEX training_records_by_time ON training_records (received_at);
