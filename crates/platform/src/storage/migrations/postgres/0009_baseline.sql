-- The platform's schema on PostgreSQL, equal to SQLite's after its
-- migration 0009 (the first version PostgreSQL was offered at). From here
-- on every migration exists twice, `../NNNN_*.sql` for SQLite and
-- `NNNN_*.sql` here, and `tests/schema_in_step.rs` checks that both bring
-- the same tables and columns.
--
-- Dialect: BIGINT for every integer (UnixMillis, sizes), BYTEA for bytes,
-- BOOLEAN for flags, JSON kept as TEXT exactly as SQLite keeps it (the wire
-- shape), queried through `data::jsonb`.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE credentials (
    agent         TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE records (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX records_conversation_status
    ON records (((data::jsonb) ->> 'status'))
    WHERE kind = 'conversation';
CREATE INDEX records_conversation_assignee
    ON records (((data::jsonb) ->> 'assigned_to'))
    WHERE kind = 'conversation';
CREATE INDEX records_message_conversation
    ON records (((data::jsonb) ->> 'conversation_id'))
    WHERE kind = 'message';
CREATE INDEX records_conversation_customer
    ON records (((data::jsonb) ->> 'customer_id'))
    WHERE kind = 'conversation';

-- The change log. `seq` is given out by `change_log_head` under the write
-- lock every write transaction takes first (decision 0041): positions are
-- handed out in commit order, so a reader never passes one that commits
-- later.
CREATE TABLE changes (
    seq        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    deleted    BOOLEAN NOT NULL,
    data       TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX changes_entity ON changes (kind, id);

-- The highest position ever given out (SQLite keeps it in sqlite_sequence):
-- compaction may delete that entry, the cursor must not go back.
CREATE TABLE change_log_head (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    seq BIGINT NOT NULL
);
INSERT INTO change_log_head (one, seq) VALUES (TRUE, 0);

CREATE TABLE change_audience (
    seq BIGINT NOT NULL REFERENCES changes (seq) ON DELETE CASCADE,
    who TEXT NOT NULL,
    PRIMARY KEY (who, seq)
);
CREATE INDEX change_audience_seq ON change_audience (seq);

CREATE TABLE refresh_tokens (
    token_hash    TEXT PRIMARY KEY,
    family        TEXT NOT NULL,
    agent         TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT,
    child_refresh TEXT,
    child_access  TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    family     TEXT NOT NULL,
    agent      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_family ON access_tokens (family);

CREATE TABLE revoked_families (
    family     TEXT PRIMARY KEY,
    revoked_at BIGINT NOT NULL
);

CREATE TABLE action_keys (
    agent        TEXT NOT NULL,
    key          TEXT NOT NULL,
    action_hash  TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (agent, key)
);
CREATE INDEX action_keys_created ON action_keys (created_at);

CREATE TABLE ingress_keys (
    external_id TEXT PRIMARY KEY,
    result      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE offers (
    offer_id        TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    agent           TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX offers_conversation ON offers (conversation_id);
CREATE INDEX offers_open ON offers (state, expires_at);

CREATE TABLE training_records (
    trainee     TEXT NOT NULL,
    id          TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (trainee, id)
);
CREATE INDEX training_records_by_time ON training_records (received_at);

CREATE TABLE wrap_ups (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    TEXT NOT NULL,
    agent              TEXT NOT NULL,
    disposition        TEXT NOT NULL,
    note               TEXT,
    after_contact_secs BIGINT NOT NULL CHECK (after_contact_secs >= 0),
    wrapped_at         BIGINT NOT NULL
);
CREATE INDEX wrap_ups_conversation ON wrap_ups (conversation_id, id);

CREATE TABLE calls (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    agent           TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT NOT NULL CHECK (ended_at >= started_at),
    duration_secs   BIGINT NOT NULL CHECK (duration_secs >= 0),
    logged_at       BIGINT NOT NULL
);
CREATE INDEX calls_conversation ON calls (conversation_id, id);

CREATE TABLE attachments (
    id         TEXT PRIMARY KEY CHECK (length(id) = 64),
    media_type TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
    bytes      BIGINT NOT NULL CHECK (bytes > 0),
    width      BIGINT NOT NULL CHECK (width > 0),
    height     BIGINT NOT NULL CHECK (height > 0),
    stored_at  BIGINT NOT NULL,
    thumbnail  BYTEA NOT NULL,
    image      BYTEA NOT NULL CHECK (octet_length(image) = bytes)
);

CREATE TABLE channel_adapters (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    signing_key TEXT NOT NULL,
    webhook_url TEXT,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT
);

CREATE TABLE conversation_adapters (
    conversation_id TEXT PRIMARY KEY,
    adapter         TEXT NOT NULL
);

CREATE TABLE egress_deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL,
    adapter          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  BIGINT NOT NULL,
    round_started_at BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX egress_pending ON egress_deliveries (state, conversation_id, id);
CREATE INDEX egress_by_state_time ON egress_deliveries (state, updated_at);

CREATE TABLE webchat_customers (
    token_hash   TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE TABLE releases (
    id           TEXT PRIMARY KEY CHECK (length(id) = 64),
    target       TEXT NOT NULL,
    version      TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    size         BIGINT NOT NULL CHECK (size > 0),
    signature    TEXT NOT NULL,
    notes_zh     TEXT,
    notes_en     TEXT,
    published_at BIGINT NOT NULL,
    UNIQUE (target, version)
);

CREATE TABLE release_chunks (
    release_id TEXT NOT NULL REFERENCES releases (id),
    n          BIGINT NOT NULL CHECK (n >= 0),
    bytes      BYTEA NOT NULL,
    PRIMARY KEY (release_id, n)
);

CREATE TABLE session_families (
    family     TEXT PRIMARY KEY,
    agent      TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX session_families_agent ON session_families (agent);

CREATE TABLE device_secrets (
    agent      TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agent, device_id)
);

CREATE TABLE assignments (
    conversation_id TEXT PRIMARY KEY,
    agent           TEXT NOT NULL,
    assigned_at     BIGINT NOT NULL
);

CREATE TABLE handled_contacts (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    TEXT NOT NULL,
    agent              TEXT NOT NULL,
    queue              TEXT NOT NULL,
    channel            TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    assigned_at        BIGINT,
    first_response_at  BIGINT,
    first_response_due BIGINT NOT NULL,
    resolve_due        BIGINT NOT NULL,
    resolved_at        BIGINT NOT NULL,
    after_contact_secs BIGINT NOT NULL CHECK (after_contact_secs >= 0)
);
CREATE INDEX handled_contacts_resolved ON handled_contacts (resolved_at);
CREATE INDEX handled_contacts_agent ON handled_contacts (agent, resolved_at);

CREATE TABLE role_changes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent      TEXT NOT NULL,
    from_role  TEXT NOT NULL,
    to_role    TEXT NOT NULL,
    queues     TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX role_changes_agent ON role_changes (agent, id);
