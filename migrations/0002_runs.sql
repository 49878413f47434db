-- Runs of the cutover wizard and their per-step inputs/plans (engine, issue 4).
-- Times are INTEGER milliseconds since the Unix epoch (UTC): they sort and compare cheaply.
-- `started_by` and other actor columns hold a username; users live in the web's tables and
-- are deliberately not foreign keys, so history survives a user being removed.

CREATE TABLE runs (
    id            TEXT PRIMARY KEY NOT NULL,      -- uuid; also the `natpilot:run=<id>` cloud tag
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    vpc_id        TEXT NOT NULL,
    started_by    TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN
                  ('active', 'applying', 'failed', 'rolling_back', 'completed', 'rolled_back', 'abandoned')),
    current_step  INTEGER NOT NULL CHECK (current_step BETWEEN 1 AND 4),
    last_error    TEXT,                           -- JSON {code, message, request_id, step, phase}
    started_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    finished_by   TEXT
) STRICT;

-- At most one active run per VPC (DESIGN "Runs, steps and safety invariants"): the database,
-- not the application, is what refuses the second run, so two operators racing both lose but one.
CREATE UNIQUE INDEX runs_one_active_per_vpc ON runs (account, region, vpc_id)
    WHERE status IN ('active', 'applying', 'failed', 'rolling_back');

-- History page: keyset pagination over (started_at, id), newest first, with optional filters.
CREATE INDEX runs_by_start ON runs (started_at DESC, id DESC);
CREATE INDEX runs_by_status_start ON runs (status, started_at DESC, id DESC);
CREATE INDEX runs_by_vpc_start ON runs (vpc_id, started_at DESC, id DESC);
CREATE INDEX runs_by_operator_start ON runs (started_by, started_at DESC, id DESC);

-- One row per (run, step): the operator input, the plan that was shown and confirmed, and
-- where applying it stands.
CREATE TABLE run_steps (
    run_id        TEXT NOT NULL REFERENCES runs (id),
    step          INTEGER NOT NULL CHECK (step BETWEEN 1 AND 4),
    state         TEXT NOT NULL CHECK (state IN
                  ('planned', 'applying', 'applied', 'failed', 'rolled_back')),
    input         TEXT NOT NULL,                  -- JSON operator input
    plan          TEXT NOT NULL,                  -- JSON plan shown to the operator
    confirmed_by  TEXT,
    confirmed_at  INTEGER,
    applied_at    INTEGER,
    error         TEXT,                           -- JSON {code, message, request_id}
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
) STRICT;

-- Exposure report (step 1) and final report (step 4), stored whole as JSON.
CREATE TABLE run_reports (
    run_id  TEXT NOT NULL REFERENCES runs (id),
    kind    TEXT NOT NULL CHECK (kind IN ('exposure', 'final', 'rollback')),
    body    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (run_id, kind)
) STRICT;
