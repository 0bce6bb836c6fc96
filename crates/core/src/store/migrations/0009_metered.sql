-- Metered links (docs/decisions/0036-data-on-the-wire.md): where the
-- workstation started leaving knowledge-base articles out of its pulls, and
-- how much waits there (the platform's `deferred` counts, summed).
ALTER TABLE sync_state ADD COLUMN kb_cursor TEXT;
ALTER TABLE sync_state ADD COLUMN kb_waiting_changes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN kb_waiting_bytes INTEGER NOT NULL DEFAULT 0;
