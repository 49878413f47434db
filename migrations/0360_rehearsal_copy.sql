-- The copy of the real VPC as a background job (issue 13 item 7): `POST /rehearse` starts the
-- rehearsal's run at once in phase 'copying' and a job of the owning process snapshots the real
-- VPC; once the twin is registered the phase is 'rehearsing' and the assessment starts. A copy
-- that fails ends the run (abandoned) with `ended_reason`; one cut by a restart is lost.
-- Rows from before this migration were copied inside their request: 'rehearsing'.
-- `copy_what` / `copy_action` / `copy_listed` / `copy_total`: what the copy lists now (in words,
-- and its describe action), how many items it has so far, and of how many when the cloud said.
ALTER TABLE rehearsals ADD COLUMN phase TEXT NOT NULL DEFAULT 'rehearsing'
    CHECK (phase IN ('copying', 'rehearsing'));
ALTER TABLE rehearsals ADD COLUMN copy_what TEXT;
ALTER TABLE rehearsals ADD COLUMN copy_action TEXT;
ALTER TABLE rehearsals ADD COLUMN copy_listed INTEGER;
ALTER TABLE rehearsals ADD COLUMN copy_total INTEGER;
