-- Issue 12: whether each of step 1's exposure rows keeps its egress IP, and why, stored like
-- its protection so the table can filter and count "keeps its egress IP" through an index at
-- 50,000 instances. Rewritten (by the same Rust function that plans the moves, steps::keep)
-- whenever a keep-egress mark changes. -1 means "not worked out yet" (rows written before
-- this column, or just written by an assessment): the engine works them out before a page
-- reads them, so a page never shows a guess.
ALTER TABLE exposure_rows ADD COLUMN keeps_egress INTEGER NOT NULL DEFAULT -1
    CHECK (keeps_egress IN (-1, 0, 1));
ALTER TABLE exposure_rows ADD COLUMN keep_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX exposure_rows_keeps ON exposure_rows (run_id, keeps_egress, instance_id);
