-- Drift findings (issue 13 item 4): what an estate scan found in a VPC whose latest run
-- completed and that the run's result does not allow: a new public IP, an EIP bound again, a
-- default route that no longer goes to the run's NAT gateway. A typed stored event: `finding`
-- is the JSON of `estate::drift::DriftKind`, read back strictly; `kind` and `subject` repeat
-- its key so that one open (or accepted) finding exists per (account, region, VPC, kind,
-- subject). Times are INTEGER ms since the Unix epoch (UTC).

CREATE TABLE drift_findings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    vpc_id        TEXT NOT NULL,
    run_id        TEXT NOT NULL REFERENCES runs (id),   -- the completed run it departs from
    kind          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    finding       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'closed')),
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    first_scan    INTEGER NOT NULL REFERENCES estate_scans (id),
    last_scan     INTEGER NOT NULL REFERENCES estate_scans (id),
    accepted_by   TEXT,
    accepted_at   INTEGER,
    accept_reason TEXT,
    -- `gone` (a later scan no longer saw it) or `new_run` (a newer run on the VPC completed).
    closed_how    TEXT CHECK (closed_how IN ('gone', 'new_run')),
    closed_at     INTEGER,
    CHECK ((state = 'accepted') = (accept_reason IS NOT NULL AND accepted_by IS NOT NULL)
           OR state = 'closed'),
    CHECK ((state = 'closed') = (closed_how IS NOT NULL))
) STRICT;

CREATE UNIQUE INDEX drift_findings_one_live
    ON drift_findings (account, region, vpc_id, kind, subject)
    WHERE state IN ('open', 'accepted');
CREATE INDEX drift_findings_by_state ON drift_findings (state, kind);
