-- Step 3 at scale (issue 11): what the Route page shows for the open step's default input
-- (the plan in words and the per-route-table breakdown), stored with what it was made from
-- so a repeat view reads it instead of re-planning the whole VPC. Display only: a confirm
-- always re-plans from a fresh observation and is refused unless the digest shown is the one
-- planned then.
--
-- `basis`: the snapshot's picture, the run's state and the step input; `version`: the stored
-- inputs' version (`verify_inputs`, bumped by triggers) read before planning. A view whose
-- basis or version differs, or whose body does not decode, plans afresh.
CREATE TABLE route_views (
    run_id   TEXT PRIMARY KEY REFERENCES runs (id),
    version  INTEGER NOT NULL,
    basis    TEXT NOT NULL,
    body     TEXT NOT NULL,
    at       INTEGER NOT NULL
) STRICT;

-- Step 3 plans which egress IPs to keep from the keep-egress marks: a change of them is a
-- change of the stored inputs too (step 1 is the only place they change, but a view must
-- never outlive one whoever writes it).
CREATE TRIGGER verify_inputs_keep_marks_insert AFTER INSERT ON keep_egress_marks BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_keep_marks_update AFTER UPDATE ON keep_egress_marks BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT NEW.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = NEW.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = NEW.run_id;
END;
CREATE TRIGGER verify_inputs_keep_marks_delete AFTER DELETE ON keep_egress_marks BEGIN
    INSERT INTO verify_inputs (run_id, version) SELECT OLD.run_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM verify_inputs WHERE run_id = OLD.run_id);
    UPDATE verify_inputs SET version = version + 1 WHERE run_id = OLD.run_id;
END;
