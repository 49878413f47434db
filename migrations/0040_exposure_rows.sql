-- Step 1 at scale (issue 11): the exposure report as one row per instance, so the step page
-- reads one page of it through an index instead of decoding the whole report per view, and
-- the protection rules (by DNS, tag, subnet, name pattern) stored as they are edited.

-- Written once when the assessment is stored. The *_key columns hold each sort column's
-- order as one comparable value (no NULLs), so keyset pagination is `(key, id) > (?, ?)`.
-- `protected`, `reason_kind` and `reason` follow the rules and single-host decisions; they
-- are rewritten (by the same Rust function that confirms step 1) whenever those change.
CREATE TABLE exposure_rows (
    run_id          TEXT NOT NULL REFERENCES runs (id),
    instance_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    subnet_id       TEXT NOT NULL,
    private_ip      TEXT NOT NULL,
    public_ip       TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('eip', 'ordinary', 'none')),
    tags            TEXT NOT NULL,          -- JSON [[key, value], ...]
    dns_names       TEXT NOT NULL,          -- ", "-joined
    egress_outcome  TEXT NOT NULL CHECK (egress_outcome IN ('ip', 'failed', 'untestable', 'none')),
    egress_ip       TEXT NOT NULL,
    egress_detail   TEXT NOT NULL,
    agent_online    INTEGER NOT NULL CHECK (agent_online IN (0, 1)),
    search          TEXT NOT NULL,          -- lower-case haystack of the text filter
    private_key     INTEGER NOT NULL,
    public_key      INTEGER NOT NULL,
    dns_key         TEXT NOT NULL,
    egress_key      INTEGER NOT NULL,
    protected       INTEGER NOT NULL CHECK (protected IN (0, 1)),
    protected_key   INTEGER NOT NULL,       -- 0 protected, 1 not: protected first ascending
    reason_kind     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    PRIMARY KEY (run_id, instance_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX exposure_rows_subnet ON exposure_rows (run_id, subnet_id, instance_id);
CREATE INDEX exposure_rows_private ON exposure_rows (run_id, private_key, instance_id);
CREATE INDEX exposure_rows_public ON exposure_rows (run_id, public_key, instance_id);
CREATE INDEX exposure_rows_kind ON exposure_rows (run_id, kind, instance_id);
CREATE INDEX exposure_rows_dns ON exposure_rows (run_id, dns_key, instance_id);
CREATE INDEX exposure_rows_egress ON exposure_rows (run_id, egress_key, instance_id);
CREATE INDEX exposure_rows_agent ON exposure_rows (run_id, agent_online, instance_id);
CREATE INDEX exposure_rows_protected ON exposure_rows (run_id, protected_key, instance_id);
-- Protection counts per view read only the rows that have a reason.
CREATE INDEX exposure_rows_reason ON exposure_rows (run_id, reason_kind, protected);

-- What the assessment found, counted once when the rows are written (JSON of the store's
-- exposure_counts::Summary, read back strictly); protection counts are added per view.
CREATE TABLE exposure_summary (
    run_id  TEXT PRIMARY KEY REFERENCES runs (id),
    body    TEXT NOT NULL,
    at      INTEGER NOT NULL
) STRICT;

-- The run's protection rules, audited as they are added and removed. `matches` is how many
-- of the assessed instances the rule selects (the assessment does not change afterwards).
CREATE TABLE protection_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL REFERENCES runs (id),
    rule        TEXT NOT NULL,              -- JSON of the wizard's protection::Rule
    matches     INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    UNIQUE (run_id, rule)
) STRICT;

-- Runs assessed before rules existed were protected by the suggestions (DNS, the protection
-- tag): give them those two rules, so nothing they protected loses its protection.
INSERT INTO protection_rules (run_id, rule, matches, created_by, at)
SELECT run_id, '{"by":"dns"}', -1, 'natpilot', at FROM run_reports WHERE kind = 'exposure';
INSERT INTO protection_rules (run_id, rule, matches, created_by, at)
SELECT run_id, '{"by":"tag","key":"natpilot:protected","value":"true"}', -1, 'natpilot', at
FROM run_reports WHERE kind = 'exposure';
