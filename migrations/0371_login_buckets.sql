-- Login throttling in the store (issue 15): one bucket per client address and per account
-- name, shared by every process on the database, so N replicas behind a load balancer allow
-- what one does, not N times as much. GCRA: `tat` is the bucket's theoretical arrival time
-- (INTEGER ms since the Unix epoch, UTC); an attempt is allowed while max(tat, now) + period
-- stays within `burst` periods of now. A bucket whose `tat` has passed is full again and is
-- deleted by housekeeping. `bucket` is `ip:<address>` or `name:<lowercased account name>`.
CREATE TABLE login_buckets (
    bucket TEXT PRIMARY KEY NOT NULL,
    tat INTEGER NOT NULL
);
