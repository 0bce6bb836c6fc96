-- Sign-ins that can be ended (issue 16, decision 0031).
--
-- A family is one sign-in on one device: its tokens never outlive
-- `expires_at`, fixed when the agent signed in (refreshing does not move it).
-- Families made before this migration end when their newest refresh token
-- would have.
CREATE TABLE session_families (
    family     TEXT PRIMARY KEY,
    agent      TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX session_families_agent ON session_families (agent);
INSERT OR IGNORE INTO session_families (family, agent, device_id, created_at, expires_at)
    SELECT family, agent, device_id, MAX(expires_at) - 2592000000, MAX(expires_at)
    FROM refresh_tokens GROUP BY family;

-- The pair a refresh token was exchanged for (hashes): a retry within the
-- grace period replaces that pair instead of adding a second one.
ALTER TABLE refresh_tokens ADD COLUMN child_refresh TEXT;
ALTER TABLE refresh_tokens ADD COLUMN child_access TEXT;

-- `agent disable`: no sign-in while set.
ALTER TABLE credentials ADD COLUMN disabled_at INTEGER;

-- A secret per agent and device, returned on every sign-in on that device
-- (the workstation wraps its store key with it). Kept in clear: the platform
-- must hand it back; alone it opens nothing without the PC's key file.
CREATE TABLE device_secrets (
    agent      TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agent, device_id)
) STRICT;
