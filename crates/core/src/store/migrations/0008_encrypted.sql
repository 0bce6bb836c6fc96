-- Stores are encrypted from this version on (decision 0033): the password
-- is checked by the key file's seal, so the store keeps no verifier of it.
UPDATE sync_state SET unlock_verifier = NULL;

-- Sessions the agent ended while offline: their refresh token is sent to
-- the platform (DELETE /v1/sessions) at the agent's next online sign-in.
CREATE TABLE ended_sessions (
    refresh_token TEXT PRIMARY KEY,
    ended_at      INTEGER NOT NULL
) STRICT;
