-- A refused action keeps what it was about (who holds the conversation now,
-- the limit exceeded) so the interface can explain it in its own language.
ALTER TABLE conflicts ADD COLUMN params TEXT;   -- JSON RefusalParams, NULL when none

-- While the screen is locked the agent shows as away; the presence they had
-- chosen before is kept here (JSON Presence) so unlocking restores it, also
-- after a restart. NULL when the screen is not locked.
ALTER TABLE sync_state ADD COLUMN presence_before_lock TEXT;

-- The queue reads open and waiting work first, whatever its age.
CREATE INDEX conversations_by_status ON conversations (status, last_message_at);
