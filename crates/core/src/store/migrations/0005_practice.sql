-- Finished practice contacts (only ever written in the sandbox's
-- history file, never in a live agent's): the score and the full report.
CREATE TABLE practice_results (
    id          TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    title       TEXT NOT NULL,
    pack_id     TEXT,
    exam        INTEGER NOT NULL,
    percent     INTEGER NOT NULL,
    passed      INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    report      TEXT NOT NULL,
    -- When the platform took it as a training record; NULL until then.
    uploaded_at INTEGER
) STRICT;
