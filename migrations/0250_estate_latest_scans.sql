-- Issue 13 "Performance": the estate page reads each account's newest finished scan. With a
-- million snapshot rows kept there are tens of thousands of scans; this partial index holds
-- only finished ones, by account and id, so "the newest per account" reads one index (a
-- GROUP BY over it) instead of a correlated subquery per scan.
CREATE INDEX estate_scans_finished ON estate_scans (account, id) WHERE state != 'running';
