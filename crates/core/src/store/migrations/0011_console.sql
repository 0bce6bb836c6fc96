-- The team console's last answers from the platform (supervisors' team
-- view, trainers' trainee progress), shown with their age when the link is
-- down (docs/decisions/0040-team-console.md). One row per screen.
CREATE TABLE console_cache (
    name       TEXT PRIMARY KEY,   -- 'team' or 'trainees'
    json       TEXT NOT NULL,      -- the platform's answer, as received
    fetched_at INTEGER NOT NULL    -- workstation clock, Unix ms
) STRICT;
