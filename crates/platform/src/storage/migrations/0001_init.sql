-- The platform's durable state. Records hold the current state of every
-- entity as JSON (the wire shape); the change log holds what each agent has
-- yet to pull, with who may see each entry.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE credentials (
    agent         TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL
) STRICT;

CREATE TABLE records (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

-- Routing asks for conversations by status and assignee.
CREATE INDEX records_conversation_status
    ON records (json_extract(data, '$.status'))
    WHERE kind = 'conversation';
CREATE INDEX records_conversation_assignee
    ON records (json_extract(data, '$.assigned_to'))
    WHERE kind = 'conversation';
CREATE INDEX records_message_conversation
    ON records (json_extract(data, '$.conversation_id'))
    WHERE kind = 'message';

CREATE TABLE changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    deleted    INTEGER NOT NULL,
    data       TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX changes_entity ON changes (kind, id);

-- Who may see a change: '*' (everyone), 'q:<queue>' or 'a:<agent>'.
CREATE TABLE change_audience (
    seq INTEGER NOT NULL REFERENCES changes (seq) ON DELETE CASCADE,
    who TEXT NOT NULL,
    PRIMARY KEY (who, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX change_audience_seq ON change_audience (seq);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family     TEXT NOT NULL,
    agent      TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    family     TEXT NOT NULL,
    agent      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX access_tokens_family ON access_tokens (family);

CREATE TABLE revoked_families (
    family     TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
) STRICT;

-- Idempotency: the verdict given to each key, per agent, for 30 days.
CREATE TABLE action_keys (
    agent        TEXT NOT NULL,
    key          TEXT NOT NULL,
    action_hash  TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (agent, key)
) STRICT;
CREATE INDEX action_keys_created ON action_keys (created_at);

CREATE TABLE ingress_keys (
    external_id TEXT PRIMARY KEY,
    result      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE offers (
    offer_id        TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    agent           TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX offers_conversation ON offers (conversation_id);
CREATE INDEX offers_open ON offers (state, expires_at);
