-- What the agent did on a conversation that is not in the conversation
-- itself: each wrap-up (its note and after-contact work) and each call
-- logged from the call screen. Read by supervisors
-- (GET /v1/conversations/{id}); never in the change log.
CREATE TABLE wrap_ups (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id    TEXT NOT NULL,
    agent              TEXT NOT NULL,
    disposition        TEXT NOT NULL,
    note               TEXT,
    after_contact_secs INTEGER NOT NULL CHECK (after_contact_secs >= 0),
    wrapped_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX wrap_ups_conversation ON wrap_ups (conversation_id, id);

CREATE TABLE calls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    agent           TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER NOT NULL CHECK (ended_at >= started_at),
    duration_secs   INTEGER NOT NULL CHECK (duration_secs >= 0),
    logged_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX calls_conversation ON calls (conversation_id, id);
