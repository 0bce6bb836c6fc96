-- Failed sign-in counters in the database (issue 19; the rules are
-- decision 0031's): every platform instance on one database counts the
-- same failures, so N instances behind a load balancer do not give a
-- guesser N times the guesses.
--
-- One row per agent code (`kind` 'agent') and per client address
-- ('address') with failures that still count. A counter quiet for a lockout
-- period is deleted when the next new counter is made, and the table is
-- bounded (`sign_in_limits`): when full, the counter whose last failure is
-- oldest makes room.
CREATE TABLE sign_in_counters (
    kind         TEXT NOT NULL CHECK (kind IN ('agent', 'address')),
    subject      TEXT NOT NULL,          -- the agent code or the address
    failures     BIGINT NOT NULL CHECK (failures > 0),
    last_failure BIGINT NOT NULL,
    wait_until   BIGINT NOT NULL,        -- 0: no wait
    PRIMARY KEY (kind, subject)
);
CREATE INDEX sign_in_counters_by_age ON sign_in_counters (last_failure);
