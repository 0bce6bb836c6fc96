-- Several platform instances on one database (issue 19, decision 0042).
--
-- Each running platform process is an instance: it beats here every few
-- seconds, and one not seen for a while is dead; any instance then takes
-- its agents' event streams out of `agent_streams`.
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
);

-- Event streams open per instance and agent (a row only while > 0): an
-- agent is connected when any instance holds a stream of theirs.
CREATE TABLE agent_streams (
    instance TEXT NOT NULL,
    agent    TEXT NOT NULL,
    streams  BIGINT NOT NULL CHECK (streams > 0),
    PRIMARY KEY (instance, agent)
);
CREATE INDEX agent_streams_agent ON agent_streams (agent);

-- What routing and the team console know of each agent's link, whichever
-- instance their requests reach: what the workstation last said of its
-- link, since when the console's state holds, since when the agent has had
-- no stream (NULL: one is open), and routing's memory of offers.
CREATE TABLE agent_links (
    agent           TEXT PRIMARY KEY,
    degraded        BIGINT NOT NULL DEFAULT 0 CHECK (degraded IN (0, 1)),
    state_since     BIGINT NOT NULL,
    gone_since      BIGINT,
    last_offered    BIGINT NOT NULL DEFAULT 0,
    missed_in_a_row BIGINT NOT NULL DEFAULT 0
);
