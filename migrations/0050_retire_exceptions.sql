-- Step 4's per-instance exceptions to the retire rules (issue 11): stored one by one as the
-- operator edits them, page by page, so the confirm form stays a few fields at any VPC size.
-- The confirmed input copies all of them; this table is what the page edits.
CREATE TABLE retire_exceptions (
    run_id       TEXT NOT NULL REFERENCES runs (id),
    instance_id  TEXT NOT NULL,
    choice       TEXT NOT NULL CHECK (choice IN ('keep', 'reversible', 'irreversible')),
    decided_by   TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (run_id, instance_id)
) STRICT;
