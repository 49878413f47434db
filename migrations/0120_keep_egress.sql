-- Issue 12: what must keep its egress IP, marked in step 1 as the operator edits it. One row
-- per mark: a single instance (`instance`, value = instance id), a rule (`rule`, value = the
-- protection-rule JSON the wizard decodes strictly) or a shared egress IP many instances
-- leave through today (`shared_ip`, value = the IP). Step 3 plans the moves from these rows.
CREATE TABLE keep_egress_marks (
    run_id      TEXT NOT NULL REFERENCES runs (id),
    kind        TEXT NOT NULL CHECK (kind IN ('instance', 'rule', 'shared_ip')),
    value       TEXT NOT NULL,
    marked_by   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (run_id, kind, value)
) STRICT;
