-- Estate scans (issue 13 item 2): read-only surveys of every account's regions, stored as
-- dated snapshots. One row per scan of one account, one per region it covered (with the code
-- and RequestId of a region that refused a call), one per VPC seen, and every cloud call in a
-- ledger like a run's (api_calls). Times are INTEGER ms since the Unix epoch (UTC).
-- Runs keep their `account` column as before: rows written before issue 13 carry the default
-- account's label (`simulated`, the tccli profile or `default`), which is still that label.

CREATE TABLE estate_scans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account      TEXT NOT NULL,
    started_by   TEXT NOT NULL,                 -- a username, or `schedule`
    state        TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
    error        TEXT,                          -- why the whole scan failed (DescribeRegions)
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;
CREATE INDEX estate_scans_by_account ON estate_scans (account, started_at DESC);

CREATE TABLE estate_scan_regions (
    scan_id      INTEGER NOT NULL REFERENCES estate_scans (id),
    region       TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('ok', 'refused')),
    error_code   TEXT,
    error_message TEXT,
    request_id   TEXT,
    unbound_eips INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scan_id, region)
) STRICT;

CREATE TABLE estate_vpcs (
    scan_id          INTEGER NOT NULL REFERENCES estate_scans (id),
    region           TEXT NOT NULL,
    vpc_id           TEXT NOT NULL,
    vpc_name         TEXT NOT NULL,
    instances        INTEGER NOT NULL,
    eip_hosts        INTEGER NOT NULL,          -- instances whose public IP is an EIP
    ordinary_hosts   INTEGER NOT NULL,          -- instances with an ordinary public IP
    nat_gateways     INTEGER NOT NULL,
    route_tables     INTEGER NOT NULL,
    nat_routed_tables INTEGER NOT NULL,         -- tables whose 0.0.0.0/0 goes to a NAT gateway
    public_hosts     TEXT NOT NULL,             -- JSON [{instance_id, ip, kind}] for drift
    default_routes   TEXT NOT NULL,             -- JSON [{route_table_id, gateway_type, gateway_id}]
    PRIMARY KEY (scan_id, region, vpc_id)
) STRICT;

CREATE TABLE estate_calls (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id       INTEGER NOT NULL REFERENCES estate_scans (id),
    service       TEXT NOT NULL,
    action        TEXT NOT NULL,
    region        TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    params        TEXT NOT NULL,                -- redacted
    state         TEXT NOT NULL CHECK (state IN ('sent', 'ok', 'error')),
    error_code    TEXT,
    request_id    TEXT,
    duration_ms   INTEGER,
    sent_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX estate_calls_by_scan ON estate_calls (scan_id, id);

-- Only one process scans at a time: whoever holds this claim (renewed while scanning).
CREATE TABLE estate_scan_claim (
    name     TEXT PRIMARY KEY CHECK (name = 'scanner'),
    holder   TEXT NOT NULL,
    until    INTEGER NOT NULL
) STRICT;
