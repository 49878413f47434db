-- Campaigns (issue 13 item 5): one run per selected (account, region, VPC), with shared
-- inputs, driven by one driver (whatever the number of processes) with a concurrency limit.
-- `inputs` is the JSON of `wizard::campaign::CampaignInputs`, read back strictly. Times are
-- INTEGER ms since the Unix epoch (UTC); actor columns hold a username (not a foreign key).

CREATE TABLE campaigns (
    id                TEXT PRIMARY KEY NOT NULL,          -- uuid
    name              TEXT NOT NULL,
    started_by        TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('running', 'stopped', 'finished')),
    concurrency       INTEGER NOT NULL CHECK (concurrency >= 1),
    keep_going        INTEGER NOT NULL CHECK (keep_going IN (0, 1)),
    confirm_assessed  INTEGER NOT NULL CHECK (confirm_assessed IN (0, 1)),
    inputs            TEXT NOT NULL,
    -- Set on the first failure when the campaign does not keep going: no run starts after it.
    halted_by_failure TEXT,
    stopped_by        TEXT,
    stopped_at        INTEGER,
    finished_at       INTEGER,
    CHECK ((state = 'stopped') = (stopped_by IS NOT NULL))
) STRICT;

CREATE INDEX campaigns_by_start ON campaigns (started_at DESC);

-- One row per selected VPC, in the order they start. `state` is where the campaign stands
-- with it; `held_status`/`held_step` name the run position a human must move it past.
CREATE TABLE campaign_members (
    campaign_id   TEXT NOT NULL REFERENCES campaigns (id),
    position      INTEGER NOT NULL,
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    vpc_id        TEXT NOT NULL,
    run_id        TEXT REFERENCES runs (id),
    state         TEXT NOT NULL CHECK (state IN
                  ('waiting', 'driving', 'needs_you', 'approval', 'done', 'failed', 'refused', 'skipped')),
    detail        TEXT NOT NULL DEFAULT '',
    held_status   TEXT,
    held_step     INTEGER CHECK (held_step BETWEEN 1 AND 4),
    approval_id   INTEGER,
    started_at    INTEGER,
    ended_at      INTEGER,
    PRIMARY KEY (campaign_id, position),
    UNIQUE (campaign_id, account, region, vpc_id)
) STRICT;

-- The campaign's timeline: who started or stopped it, each run it started, each stop.
CREATE TABLE campaign_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
    at           INTEGER NOT NULL,
    message      TEXT NOT NULL
) STRICT;

CREATE INDEX campaign_events_by_campaign ON campaign_events (campaign_id, id);

-- One driver per campaign across processes, as `run_leases` keeps one engine per run.
CREATE TABLE campaign_leases (
    campaign_id  TEXT PRIMARY KEY NOT NULL REFERENCES campaigns (id),
    holder       TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
