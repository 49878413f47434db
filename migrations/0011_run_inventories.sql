-- The VPC as a run observed it at the Assess step, before anything changed, so the topology
-- page can draw "before" next to "now" (web, issue 5). JSON of the wizard's Inventory.
CREATE TABLE run_inventories (
    run_id  TEXT NOT NULL REFERENCES runs (id),
    phase   TEXT NOT NULL CHECK (phase IN ('before')),
    body    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (run_id, phase)
) STRICT;
