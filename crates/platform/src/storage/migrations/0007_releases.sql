-- Desktop packages the workstations update from (issue 15, decision 0027):
-- one row per published release, its bytes in `release_chunks` so a
-- download (or a Range of it) is read a chunk at a time instead of as one
-- 10 MB value. The id is the hex SHA-256 of the whole package; every
-- download checks the chunks against it before the first byte leaves.
CREATE TABLE releases (
    id           TEXT PRIMARY KEY CHECK (length(id) = 64),
    -- The updater's key, e.g. linux-x86_64-deb.
    target       TEXT NOT NULL,
    -- Semantic version as published (no leading v).
    version      TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    -- Base64 of the minisign signature text (the .sig file).
    signature    TEXT NOT NULL,
    notes_zh     TEXT,
    notes_en     TEXT,
    published_at INTEGER NOT NULL,
    UNIQUE (target, version)
) STRICT;

CREATE TABLE release_chunks (
    release_id TEXT NOT NULL REFERENCES releases (id),
    n          INTEGER NOT NULL CHECK (n >= 0),
    bytes      BLOB NOT NULL,
    PRIMARY KEY (release_id, n)
) STRICT;
