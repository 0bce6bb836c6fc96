-- Photos messages carry (decision 0022): each stored once under the hex
-- SHA-256 of its bytes, with its JPEG thumbnail. The bytes are checked and
-- re-encoded before they get here (crates/platform/src/attachments).
--
-- Column order matters: SQLite keeps a row's bytes in order and spills the
-- tail into overflow pages, so the small columns and the thumbnail come
-- before the image; reading a record or a thumbnail never walks the
-- image's pages.
CREATE TABLE attachments (
    id         TEXT PRIMARY KEY CHECK (length(id) = 64),
    media_type TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
    bytes      INTEGER NOT NULL CHECK (bytes > 0),
    width      INTEGER NOT NULL CHECK (width > 0),
    height     INTEGER NOT NULL CHECK (height > 0),
    stored_at  INTEGER NOT NULL,
    thumbnail  BLOB NOT NULL,
    image      BLOB NOT NULL CHECK (length(image) = bytes)
) STRICT;
