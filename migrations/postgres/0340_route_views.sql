-- PostgreSQL twin of migrations/0340_route_views.sql: step 3's stored preview, and keep-egress
-- marks as a stored input of the step 3 and step 4 views.
CREATE TABLE route_views (
    run_id   TEXT PRIMARY KEY REFERENCES runs (id),
    version  BIGINT NOT NULL,
    basis    TEXT NOT NULL,
    body     TEXT NOT NULL,
    at       BIGINT NOT NULL
);

CREATE TRIGGER verify_inputs_keep_marks AFTER INSERT OR UPDATE OR DELETE ON keep_egress_marks
    FOR EACH ROW EXECUTE FUNCTION natpilot_bump_verify_inputs();
