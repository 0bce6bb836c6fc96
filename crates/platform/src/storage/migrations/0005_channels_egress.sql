-- Channel adapters and the delivery of agents' replies to them (egress).
--
-- An adapter (a Taobao, WeChat or e-mail bridge) has its own secret. Only
-- its SHA-256 is kept for authenticating the adapter's calls (ingress,
-- delivery reports), plus the key derived from it that signs webhooks,
-- which the platform needs in order to sign (decision 0023).
CREATE TABLE channel_adapters (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    signing_key TEXT NOT NULL,          -- hex HMAC-SHA256(secret, label)
    webhook_url TEXT,                   -- NULL: replies are not pushed
    created_at  INTEGER NOT NULL,
    rotated_at  INTEGER
) STRICT;

-- Which adapter a conversation came through: its replies go back there.
-- No foreign key: the built-in demo and web chat traffic name adapters
-- that need no row of their own.
CREATE TABLE conversation_adapters (
    conversation_id TEXT PRIMARY KEY,
    adapter         TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per agent reply to push to an adapter's webhook, written in the
-- transaction that stored the reply. `id` orders the rows of a
-- conversation: a reply is not sent while an earlier one is pending.
CREATE TABLE egress_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    adapter         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    -- When this round of attempts began (creation, or the last
    -- `egress retry`); the worker gives up a fixed time after it.
    round_started_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX egress_pending ON egress_deliveries (state, conversation_id, id);
CREATE INDEX egress_by_state_time ON egress_deliveries (state, updated_at);
