-- Rehearsals (issue 13 item 7): a run on a simulated twin of a real VPC. The run itself is an
-- ordinary `runs` row whose account is the twin's own label (`rehearsal:<account>:<id>`, a
-- label no configured account can take), so it never holds the real VPC's one-active-run
-- lock and never counts in the estate. This row says, typed, which real (account, region,
-- VPC) it rehearses, and what the read-only snapshot could not capture. Times are INTEGER
-- ms since the Unix epoch (UTC).

CREATE TABLE rehearsals (
    run_id        TEXT PRIMARY KEY NOT NULL REFERENCES runs (id),
    of_account    TEXT NOT NULL,
    of_region     TEXT NOT NULL,
    of_vpc_id     TEXT NOT NULL,
    -- JSON array of strings: the snapshot's warnings (e.g. no DNSPod permission).
    warnings      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
    created_at    INTEGER NOT NULL,
    -- Why natpilot ended the run itself (its twin was lost at a restart); NULL otherwise.
    ended_reason  TEXT
) STRICT;

CREATE INDEX rehearsals_by_start ON rehearsals (created_at DESC);
