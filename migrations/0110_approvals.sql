-- Four-eyes approvals (issue 14, item 2). A confirmation that the policy holds back becomes a
-- request bound to the exact plan: the step input, the plan and its digest, and a digest of the
-- cloud state the plan was made from. Another person decides it; approving re-plans and applies
-- only an unchanged digest, otherwise the request is void and `outcome` says what changed.
CREATE TABLE approvals (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id           TEXT NOT NULL REFERENCES runs (id),
    step             INTEGER NOT NULL CHECK (step BETWEEN 1 AND 4),
    state            TEXT NOT NULL
                     CHECK (state IN ('pending', 'approved', 'rejected', 'void', 'expired')),
    -- The step input (StepInput JSON) and the plan (Plan JSON) the request was made with.
    input            TEXT NOT NULL,
    plan             TEXT NOT NULL,
    plan_digest      TEXT NOT NULL,
    -- Hex SHA-256 of the inventory the plan was made from, and when it was observed.
    observed_digest  TEXT NOT NULL,
    observed_at      INTEGER NOT NULL,
    -- 1 when the plan releases an EIP or returns an ordinary public IP.
    irreversible     INTEGER NOT NULL CHECK (irreversible IN (0, 1)),
    -- The least role that may decide: operator, or admin for irreversible plans.
    needs_role       TEXT NOT NULL CHECK (needs_role IN ('operator', 'admin')),
    requested_by     TEXT NOT NULL,
    requested_at     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    decided_by       TEXT,
    decided_at       INTEGER,
    comment          TEXT,
    -- Why a request was voided or expired, in words.
    outcome          TEXT
) STRICT;
-- At most one request waits per step of a run: a second confirmation fails closed.
CREATE UNIQUE INDEX approvals_one_pending ON approvals (run_id, step) WHERE state = 'pending';
CREATE INDEX approvals_by_state ON approvals (state, id);
CREATE INDEX approvals_by_run ON approvals (run_id, id);
