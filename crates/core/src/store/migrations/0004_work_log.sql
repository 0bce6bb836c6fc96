-- This agent's own work, for "My day": when they first acted on a
-- conversation and when they wrapped it up (local clock, written in the same
-- transaction as the action; a refused wrap-up is taken out again).
CREATE TABLE work_log (
    conversation_id    TEXT PRIMARY KEY,
    started_at         INTEGER NOT NULL,
    wrapped_up_at      INTEGER,
    after_contact_secs INTEGER
) STRICT;
CREATE INDEX work_log_by_day ON work_log (wrapped_up_at);

-- Knowledge articles the agent opened, for "recently viewed".
CREATE TABLE recent_articles (
    article_id TEXT PRIMARY KEY,
    opened_at  INTEGER NOT NULL
) STRICT;
