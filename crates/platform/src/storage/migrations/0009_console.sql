-- The team console (issue 18, decision 0040).
--
-- Who holds each conversation since when: upserted whenever a conversation
-- becomes assigned to an agent (a claim, an accepted offer, a transfer to
-- an agent, a supervisor's reassignment). Conversations assigned before
-- this migration have no row: their handle time is unknown.
CREATE TABLE assignments (
    conversation_id TEXT PRIMARY KEY,
    agent           TEXT NOT NULL,
    assigned_at     INTEGER NOT NULL
) STRICT;

-- One row per wrap-up, written in its transaction: a snapshot of what the
-- reports count, so they do not depend on the conversation record staying
-- as it was (or staying at all).
CREATE TABLE handled_contacts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id    TEXT NOT NULL,
    agent              TEXT NOT NULL,
    queue              TEXT NOT NULL,
    channel            TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    assigned_at        INTEGER,
    first_response_at  INTEGER,
    first_response_due INTEGER NOT NULL,
    resolve_due        INTEGER NOT NULL,
    resolved_at        INTEGER NOT NULL,
    after_contact_secs INTEGER NOT NULL CHECK (after_contact_secs >= 0)
) STRICT;
CREATE INDEX handled_contacts_resolved ON handled_contacts (resolved_at);
CREATE INDEX handled_contacts_agent ON handled_contacts (agent, resolved_at);

-- The audit of role changes (a trainee promoted to agent): who, from what
-- to what, with which queues, by whom and when.
CREATE TABLE role_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent      TEXT NOT NULL,
    from_role  TEXT NOT NULL,
    to_role    TEXT NOT NULL,
    queues     TEXT NOT NULL,   -- JSON array of queue ids
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX role_changes_agent ON role_changes (agent, id);
