-- Kept EIPs, to the end (issue 13 item 6). Which EIPs a run kept is not stored here: it is
-- derived from the run's typed records (step 4's undo records, step 2's NAT gateway record and
-- the rollback report). This table holds only what is new: each release or re-bind an
-- operator asked for from the Kept EIPs page, and how it ended. A `done` row means the address
-- is no longer kept by that run. Times are INTEGER ms since the Unix epoch (UTC).

CREATE TABLE kept_eip_actions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL REFERENCES runs (id),
    address_id   TEXT NOT NULL,
    ip           TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('release', 'rebind')),
    -- The instance a re-bind targets (NULL for a release).
    instance_id  TEXT,
    state        TEXT NOT NULL CHECK (state IN ('done', 'failed')),
    actor        TEXT NOT NULL,
    -- Failed: what was wrong, the Tencent (or natpilot.*) code and the RequestId, if any.
    detail       TEXT NOT NULL,
    code         TEXT,
    request_id   TEXT,
    at           INTEGER NOT NULL,
    CHECK ((action = 'rebind') = (instance_id IS NOT NULL))
) STRICT;

-- At most one finished action per address of a run: once released or re-bound it is not
-- kept any more, so a second `done` row would be a second decision about the same address.
CREATE UNIQUE INDEX kept_eip_actions_one_done ON kept_eip_actions (run_id, address_id)
    WHERE state = 'done';
CREATE INDEX kept_eip_actions_by_run ON kept_eip_actions (run_id, at);
