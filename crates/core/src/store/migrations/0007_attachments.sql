-- Photos on this PC (docs/decisions/0025-workstation-photos.md).
--
-- `media_blobs` caches what the webview shows through the media scheme:
-- `thumb`, the platform's small JPEG of a photo, fetched by the sync for the
-- agent's conversations; `full`, the photo itself, fetched only when the
-- agent opens it; `local`, a photo the agent attached that the platform has
-- not received yet (id `local-<sha256 of the file>`). The bytes live in the
-- row so a photo and the reply that carries it are saved in one transaction.
-- `size` and `last_used_at` are what the cache budget evicts by.
CREATE TABLE media_blobs (
    id           TEXT NOT NULL,
    variant      TEXT NOT NULL CHECK (variant IN ('thumb', 'full', 'local')),
    media_type   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL,
    fetched_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (id, variant)
) STRICT;
CREATE INDEX media_blobs_by_use ON media_blobs (last_used_at);

-- Photos the platform would not give (an id it does not hold, an answer that
-- is not an image): the sync stops asking for them after a few refusals.
CREATE TABLE media_refusals (
    id              TEXT NOT NULL,
    variant         TEXT NOT NULL,
    refusals        INTEGER NOT NULL,
    last_error      TEXT NOT NULL,
    last_refused_at INTEGER NOT NULL,
    PRIMARY KEY (id, variant)
) STRICT;

-- Photos attached in the composer and not sent yet (JSON list of
-- homedesk_protocol::Attachment), kept with the draft's text.
ALTER TABLE drafts ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';

-- A canned reply's photo (a size chart): JSON homedesk_protocol::Attachment,
-- the platform's record; NULL for a text-only reply.
ALTER TABLE canned_replies ADD COLUMN attachment TEXT;
