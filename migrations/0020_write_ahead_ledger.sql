-- The API-call ledger becomes write-ahead (issue 10, defect 4): a row is written with outcome
-- 'sent' before the request leaves and completed ('ok' / 'error', RequestId, duration) after the
-- answer. A row still 'sent' after a crash is a call whose outcome nobody saw. `holder` names
-- the natpilot process (its run-lease holder id) that sent the call.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt with its rows.

CREATE TABLE api_calls_v2 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL REFERENCES runs (id),
    step         INTEGER CHECK (step BETWEEN 1 AND 4),
    at           INTEGER NOT NULL,
    service      TEXT NOT NULL,
    action       TEXT NOT NULL,
    region       TEXT NOT NULL,
    request_id   TEXT,
    duration_ms  INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('sent', 'ok', 'error')),
    error_code   TEXT,
    params       TEXT NOT NULL DEFAULT '{}',
    holder       TEXT
) STRICT;

INSERT INTO api_calls_v2 (id, run_id, step, at, service, action, region, request_id,
                          duration_ms, attempt, outcome, error_code, params)
SELECT id, run_id, step, at, service, action, region, request_id,
       duration_ms, attempt, outcome, error_code, params
FROM api_calls;

DROP TABLE api_calls;
ALTER TABLE api_calls_v2 RENAME TO api_calls;
CREATE INDEX api_calls_by_run ON api_calls (run_id, id);

-- One engine per run (issue 10, defect 3): the process that drives a run holds its lease.
-- Taken atomically (insert, or take over an expired one), renewed by a heartbeat, released
-- when the job ends; every mutating cloud call checks it in the statement that writes the
-- call's ledger row (fencing). Times are Unix milliseconds.
CREATE TABLE run_leases (
    run_id       TEXT PRIMARY KEY REFERENCES runs (id),
    holder       TEXT NOT NULL,
    acquired_at  INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
