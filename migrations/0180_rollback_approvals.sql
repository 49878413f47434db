-- A rollback that releases the NAT gateway's EIPs (irreversible) waits for an admin's approval
-- like an irreversible step (issue 14, item 2). Such a request is of kind `rollback`: its
-- `step` is the run's current step when it was asked (so the one-pending-request-per-step
-- index still holds: a run waits for one decision at a time), its `input` says what was asked
-- (`{"release_nat_eips": true}`) and its `plan` is the rollback it would run: the undo records
-- and the EIPs named for release, whose digest approval checks again.
ALTER TABLE approvals ADD COLUMN kind TEXT NOT NULL DEFAULT 'step'
    CHECK (kind IN ('step', 'rollback'));
