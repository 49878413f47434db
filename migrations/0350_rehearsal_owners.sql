-- Which natpilot process owns a rehearsal's twin (issue 13 item 7, follow-up 3). A twin lives
-- only in the memory of the process that made it; that process renews `owner_until` with its
-- run-lease heartbeat. Another process on the same database ends a waiting rehearsal as lost
-- only once its owner stopped renewing (`owner_until` passed), never while the owner lives.
-- Rows from before this migration have no owner: their twin is gone with the old process.
-- `owner` is the engine's lease holder id; `owner_until` INTEGER ms since the Unix epoch (UTC).

ALTER TABLE rehearsals ADD COLUMN owner TEXT;
ALTER TABLE rehearsals ADD COLUMN owner_until INTEGER;
