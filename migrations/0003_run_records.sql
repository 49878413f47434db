-- What a run did: append-only events, the API-call ledger, undo records, egress results and
-- protected-host decisions (engine, issue 4).

CREATE TABLE run_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id   TEXT NOT NULL REFERENCES runs (id),
    at       INTEGER NOT NULL,
    step     INTEGER CHECK (step BETWEEN 1 AND 4),
    level    TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    message  TEXT NOT NULL,
    data     TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX run_events_by_run ON run_events (run_id, id);

CREATE TRIGGER run_events_no_update BEFORE UPDATE ON run_events
BEGIN SELECT RAISE(ABORT, 'run_events is append-only'); END;
CREATE TRIGGER run_events_no_delete BEFORE DELETE ON run_events
BEGIN SELECT RAISE(ABORT, 'run_events is append-only'); END;

-- Every cloud call a run made, as reported by the client's observer. Parameters are redacted
-- by the client before they get here; no secret is ever part of a request body.
CREATE TABLE api_calls (
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
    outcome      TEXT NOT NULL CHECK (outcome IN ('ok', 'error')),
    error_code   TEXT,
    params       TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX api_calls_by_run ON api_calls (run_id, id);

-- Written BEFORE the mutating call it undoes ('pending'); 'done' once the call is known to
-- have taken effect; rollback walks them in reverse id order.
CREATE TABLE undo_records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL REFERENCES runs (id),
    step        INTEGER NOT NULL CHECK (step BETWEEN 1 AND 4),
    action      TEXT NOT NULL,                  -- JSON of the wizard's Undo enum
    state       TEXT NOT NULL CHECK (state IN
                ('pending', 'done', 'undone', 'not_needed', 'irreversible', 'failed')),
    note        TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX undo_records_by_run ON undo_records (run_id, id);

CREATE TABLE egress_results (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    phase        TEXT NOT NULL CHECK (phase IN ('baseline', 'after')),
    instance_id  TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('ip', 'failed', 'untestable')),
    ip           TEXT,
    detail       TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL,
    PRIMARY KEY (run_id, phase, instance_id)
) STRICT;

CREATE TABLE protected_hosts (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    instance_id  TEXT NOT NULL,
    protected    INTEGER NOT NULL CHECK (protected IN (0, 1)),
    reason       TEXT NOT NULL,                 -- dns / tag / operator
    detail       TEXT NOT NULL DEFAULT '',
    decided_by   TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (run_id, instance_id)
) STRICT;
