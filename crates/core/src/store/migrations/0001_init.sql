-- The workstation's local store, version 1.
--
-- Mirrored tables hold what the platform's change log says (`server`, the
-- last copy pulled, as JSON) and what the agent sees (`data`: the server copy
-- with this agent's not-yet-acknowledged actions applied on top). Columns
-- beside `data` are copies of fields that queries filter or sort on.
--
-- There are no foreign keys between mirrored tables on purpose: the change log
-- is compacted, so a message can arrive before its conversation (see
-- docs/decisions/0010-workstation-store-and-outbox.md).

CREATE TABLE conversations (
    id              TEXT PRIMARY KEY,
    queue           TEXT NOT NULL,
    status          TEXT NOT NULL,
    assigned_to     TEXT,
    channel         TEXT NOT NULL,
    priority        TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    last_message_at INTEGER NOT NULL,
    server          TEXT,            -- NULL until the platform has sent it
    data            TEXT NOT NULL
) STRICT;
CREATE INDEX conversations_by_queue ON conversations (queue, status, last_message_at);
CREATE INDEX conversations_by_assignee ON conversations (assigned_to, status, last_message_at);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    sent_at         INTEGER NOT NULL,
    -- The idempotency key of the outbox entry that created it, while the
    -- platform has not confirmed it; NULL once it came back in the change log.
    pending_key     TEXT,
    data            TEXT NOT NULL
) STRICT;
CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at);

CREATE TABLE customers (
    id   TEXT PRIMARY KEY,
    data TEXT NOT NULL
) STRICT;

CREATE TABLE kb_articles (
    id         TEXT PRIMARY KEY,
    locale     TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,       -- Markdown; rendered and sanitized on read
    tags       TEXT NOT NULL,       -- JSON array of strings
    category   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE canned_replies (
    id           TEXT PRIMARY KEY,
    locale       TEXT NOT NULL,
    title        TEXT NOT NULL,
    shortcut     TEXT NOT NULL,
    category     TEXT NOT NULL,
    body         TEXT NOT NULL,
    placeholders TEXT NOT NULL      -- JSON array
) STRICT;

CREATE TABLE scripts (
    id     TEXT PRIMARY KEY,
    locale TEXT NOT NULL,
    data   TEXT NOT NULL
) STRICT;

CREATE TABLE scenarios (
    id     TEXT PRIMARY KEY,
    locale TEXT NOT NULL,
    data   TEXT NOT NULL
) STRICT;

CREATE TABLE agent_profiles (
    id   TEXT PRIMARY KEY,
    data TEXT NOT NULL
) STRICT;

CREATE TABLE queues (
    id   TEXT PRIMARY KEY,
    data TEXT NOT NULL
) STRICT;

-- Agent actions not yet acknowledged by the platform, in the order they were
-- taken. `key` is the idempotency key sent with every attempt.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT NOT NULL UNIQUE,
    conversation_id TEXT,
    created_at      INTEGER NOT NULL,
    action          TEXT NOT NULL,  -- JSON of homedesk_protocol::Action
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
) STRICT;
CREATE INDEX outbox_by_conversation ON outbox (conversation_id, seq);

-- What the platform answered for each delivered action (kept for
-- troubleshooting with `homedesk-cli outbox list --delivered`; trimmed).
CREATE TABLE delivered (
    key          TEXT PRIMARY KEY,
    action       TEXT NOT NULL,
    status       TEXT NOT NULL,
    code         TEXT,
    message      TEXT,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER NOT NULL
) STRICT;

-- A reply that could not be delivered as written, folded back to the agent:
-- its text is kept in `drafts` and this row tells the UI what happened.
CREATE TABLE conflicts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT NOT NULL UNIQUE,
    conversation_id TEXT,
    action          TEXT NOT NULL,
    code            TEXT,
    message         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    dismissed_at    INTEGER
) STRICT;

-- Composer text per conversation, saved as the agent types.
CREATE TABLE drafts (
    conversation_id TEXT PRIMARY KEY,
    body            TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- One row: where this workstation stands in the change log.
CREATE TABLE sync_state (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    cursor               TEXT,
    last_sync_at         INTEGER,  -- workstation clock, last full push + pull
    server_offset_ms     INTEGER NOT NULL DEFAULT 0,
    skipped_changes      INTEGER NOT NULL DEFAULT 0,
    -- The platform session (JSON), so a restart continues without the
    -- password. The file is readable by this OS user only.
    session              TEXT
) STRICT;
INSERT INTO sync_state (id) VALUES (1);
